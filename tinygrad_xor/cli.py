"""The `tinygrad-xor` command line: it parses, calls the library, and prints.

Each subcommand is a pair of functions, registered in the `SUBCOMMANDS` table:

    _add_<name>_parser(subparsers)  adds the subcommand and its options
    _run_<name>(args) -> int        runs it and returns the exit status

Exit status: 0 success; 1 the command failed (CommandError: a bad --load file, a
diverged loss); 2 bad usage (argparse's error or UsageError, naming the option).
Heavy modules (matplotlib, tqdm, graphviz, numpy) load only in the subcommands that
use them, so `tinygrad-xor --help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tinygrad_xor.checkpoint import ModelFileError, architecture, load_model, save_model
from tinygrad_xor.checks import real_number, whole_number
from tinygrad_xor.data import DATASETS, Dataset, get_dataset
from tinygrad_xor.losses import LOSSES
from tinygrad_xor.nn import ACTIVATIONS, INITS, MLP
from tinygrad_xor.optim import SGD
from tinygrad_xor.torch_bridge import TORCH_MAX_SEED
from tinygrad_xor.train import (
    EpochReport,
    History,
    NonFiniteLossError,
    loss_for,
    prediction_table,
    step_factory,
    train,
    verdict,
)

if TYPE_CHECKING:
    from typing import TypeAlias

    # The object argparse hands to each _add_<name>_parser.
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["main", "CommandError", "UsageError"]

T = TypeVar("T")


class CommandError(Exception):
    """A subcommand failed for a reason the user can fix; main prints it and exits 1."""


class UsageError(CommandError):
    """Options that are each valid but not together; main prints it and exits 2."""


# -- option values: parsed from text, then checked by the library's own checks --------


def _checked(parse: Callable[[str], Any], check: Callable[..., T], **allowed: Any) -> Any:
    """An argparse type: the text parsed, then checked; argparse names the option."""

    def convert(text: str) -> T:
        try:
            value = parse(text)
        except ValueError:
            value = text  # the check then says what is allowed, and what was given
        try:
            return check("", value, **allowed)
        except (TypeError, ValueError) as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return convert


_positive_int = _checked(int, whole_number)
_seed = _checked(int, whole_number, at_least=0)
_positive_float = _checked(float, real_number, above=0.0)
_non_negative_float = _checked(float, real_number, at_least=0.0)
_momentum = _checked(float, real_number, at_least=0.0, below=1.0)
_numpy_seed = _checked(int, whole_number, at_least=0, at_most=2**32 - 1)  # np.random.seed's range
_torch_seed = _checked(int, whole_number, at_least=0, at_most=TORCH_MAX_SEED)


def _hidden_sizes(text: str) -> list[int]:
    """'5' -> [5] (one hidden layer of 5); '8,4' -> [8, 4] (two hidden layers)."""
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        sizes = [0]
    if min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected hidden layer widths >= 1, like 5 or 8,4; got {text!r}"
        )
    return sizes


# -- model options, shared by every subcommand that builds an MLP ---------------------

# What each model option means when not given. The options parse to None when absent,
# so `train --load` can tell a given option (which must agree with the file) from a
# default: read them through _model_settings(args). All but "hidden" are MLP's defaults.
_MODEL_DEFAULTS: dict[str, Any] = {
    "hidden": [5],
    "activation": "sigmoid",
    "output_activation": "sigmoid",
    "init": "torch",
    "bias": True,
    "seed": 0,
}


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument(
        "--hidden",
        type=_hidden_sizes,
        metavar="N[,N...]",
        help="hidden layer widths (default: 5, the learner's 2-5-1 network; 8,4 for two layers)",
    )
    for option, what in (
        ("--activation", "the hidden layers"),
        ("--output-activation", "the output neuron"),
    ):
        group.add_argument(
            option, choices=list(ACTIVATIONS), help=f"activation of {what} (default: sigmoid)"
        )
    group.add_argument(
        "--init",
        choices=list(INITS),
        help="initial weights: torch = U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as nn.Linear; "
        "uniform01 = the learner's np.random.random; xavier = Glorot uniform (default: torch)",
    )
    group.add_argument(
        "--bias",
        action=argparse.BooleanOptionalAction,
        help="give every neuron a bias (default: on; --no-bias as the learner's network)",
    )
    group.add_argument("--seed", type=_seed, help="seed of the initial weights, >= 0 (default: 0)")


def _model_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The model options: each as given, or its default when not given."""
    given = vars(args)
    return {key: given[key] if given[key] is not None else d for key, d in _MODEL_DEFAULTS.items()}


def _build_model(args: argparse.Namespace, nin: int) -> MLP:
    """The MLP the model options describe: nin inputs -> hidden layers -> 1 output."""
    settings = _model_settings(args)
    hidden = settings.pop("hidden")
    return MLP(nin, [*hidden, 1], **settings)


def _loss_for(model: MLP, loss: str) -> None:
    """train and graph refuse the same model and loss pairs, as a usage error."""
    try:
        loss_for(model, loss)
    except ValueError as error:
        raise UsageError(f"argument --loss: {error}") from None


# -- train --------------------------------------------------------------------------


def _add_train_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train an MLP on XOR (or another gate) and print its predictions",
        description="Train an MLP on a logic gate with full-batch SGD and print, for each "
        "input, the target, the prediction and whether it is right. The defaults (2-5-1 "
        "sigmoid, MSE, SGD lr 0.3 momentum 0.9, 2000 epochs) solve XOR for 100 of seeds 0-99.",
    )
    _add_model_options(parser)
    group = parser.add_argument_group("training")
    group.add_argument(
        "--dataset", choices=list(DATASETS), default="xor", help="the gate to learn (default: xor)"
    )
    group.add_argument(
        "--loss",
        choices=list(LOSSES),
        default="mse",
        help="mse = mean squared error (PyTorch's MSELoss); mse_sum = its sum; mse_half_sum = "
        "0.5*sum (the learner's); bce = binary cross-entropy, needs a sigmoid output "
        "(default: mse)",
    )
    group.add_argument(
        "--lr", type=_positive_float, default=0.3, help="learning rate, > 0 (default: 0.3)"
    )
    group.add_argument(
        "--momentum",
        type=_momentum,
        default=0.9,
        help="SGD momentum in [0, 1), as torch.optim.SGD; 0 for plain gradient descent "
        "(default: 0.9)",
    )
    group.add_argument(
        "--epochs", type=_positive_int, default=2000, help="full-batch updates (default: 2000)"
    )
    group.add_argument(
        "--compile",
        action="store_true",
        help="trace the loss once and replay it as generated Python each epoch: the same "
        "numbers, about 10x faster (tinygrad_xor.compile). With --loss bce, whose clamp "
        "branches on the numbers, the graph is re-checked every epoch: exact, not faster",
    )
    group.add_argument(
        "--target-loss",
        type=_non_negative_float,
        metavar="LOSS",
        help="stop early, once the loss is at or below LOSS",
    )
    group.add_argument(
        "--load",
        metavar="FILE",
        help="start from the model saved in FILE: its network and weights (model options, if "
        "given, must agree with it); momentum starts afresh",
    )
    output = parser.add_argument_group("output")
    output.add_argument(
        "--json", action="store_true", help="print one JSON object instead of the table"
    )
    output.add_argument(
        "--plot", metavar="DIR", help="write loss.png and decision_boundary.png into DIR"
    )
    output.add_argument("--save", metavar="FILE", help="write the trained model to FILE as JSON")
    output.add_argument(
        "--quiet", action="store_true", help="no progress bar (it shows only on a terminal)"
    )


def _load_for_training(args: argparse.Namespace) -> MLP:
    """The model saved in args.load; every model option given must agree with it."""
    try:
        model, _ = load_model(args.load)
    except ModelFileError as error:
        raise CommandError(str(error)) from None
    in_file = {**architecture(model), "hidden": model.sizes[:-1]}
    disagreements = []
    for key, given in vars(args).items():
        if key not in _MODEL_DEFAULTS or given is None or given == in_file[key]:
            continue
        if key == "bias":
            disagreements.append(
                f"{'--bias' if given else '--no-bias'} (the file has "
                f"{'biases' if in_file[key] else 'no biases'})"
            )
        else:
            shown, file_value = given, in_file[key]
            if key == "hidden":
                shown = ",".join(map(str, given))
                file_value = ",".join(map(str, file_value)) or "no hidden layer"
            disagreements.append(f"--{key.replace('_', '-')} {shown} (the file has {file_value})")
    if disagreements:
        raise CommandError(
            f"{args.load} holds a {model.shape} network, and --load rebuilds it from the "
            f"file; these options disagree with it: {'; '.join(disagreements)}. Drop them."
        )
    return model


def _progress(args: argparse.Namespace) -> tuple[Callable[[EpochReport], bool], Callable[[], None]]:
    """The per-epoch callback (progress bar, --target-loss) and what closes the bar."""
    bar = None
    if not args.quiet and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=args.epochs, desc="training", unit="epoch", file=sys.stderr, leave=False)

    def callback(report: EpochReport) -> bool:
        if bar is not None:
            bar.update(1)
            if report.epoch % 100 == 0:
                bar.set_postfix_str(f"loss {report.loss:.4g}", refresh=False)
        return args.target_loss is not None and report.loss <= args.target_loss

    return callback, (bar.close if bar is not None else lambda: None)


def _run_train(args: argparse.Namespace) -> int:
    dataset = get_dataset(args.dataset)
    model = _load_for_training(args) if args.load is not None else _build_model(args, dataset.nin)
    if model.nin != dataset.nin or model.sizes[-1] != 1:
        raise CommandError(
            f"{args.load} holds a {model.shape} network; dataset {dataset.name!r} needs "
            f"{dataset.nin} inputs and 1 output."
        )
    _loss_for(model, args.loss)
    _check_output_paths(args)
    optimizer = SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    callback, close_progress = _progress(args)
    try:
        history = train(
            model,
            dataset,
            optimizer,
            epochs=args.epochs,
            loss=args.loss,
            callback=callback,
            make_step=step_factory(args.compile),
        )
    except NonFiniteLossError as error:
        raise CommandError(
            f"the loss became {error.loss} at epoch {error.epoch} (after {error.epoch} updates "
            f"with --lr {args.lr:g}): training diverged. Try a smaller learning rate, e.g. "
            f"--lr {args.lr / 10:g}. Nothing was written."
        ) from None
    finally:
        close_progress()

    written, failures = _write_train_outputs(args, model, dataset, history)
    if args.json:
        print(json.dumps(_train_json(args, model, dataset, history, written)))
    else:
        print(_train_table(args, model, dataset, history))
        for path in written:
            print(f"wrote {path}")
    if failures:
        raise CommandError("; ".join(failures))
    return 0


def _check_output_paths(args: argparse.Namespace) -> None:
    """Fail before training, not after, when --save or --plot cannot be written."""
    if args.save is not None:
        save = Path(args.save)
        if save.is_dir():
            raise CommandError(f"--save {args.save} is a directory; give a file name.")
        if not save.parent.is_dir():
            raise CommandError(
                f"--save {args.save}: the directory {save.parent} does not exist; create it first."
            )
    if args.plot is not None and Path(args.plot).exists() and not Path(args.plot).is_dir():
        raise CommandError(f"--plot {args.plot} is a file; give a directory for the PNGs.")


def _write_train_outputs(
    args: argparse.Namespace, model: MLP, dataset: Dataset, history: History
) -> tuple[list[str], list[str]]:
    """Write --save, then --plot; return the paths written and the failures.

    The model goes first: it is the result of the training, and a failing plot must not
    lose it. Each is attempted whatever happened to the other.
    """
    written: list[str] = []
    failures: list[str] = []
    if args.save is not None:
        metadata = {"dataset": dataset.name, "loss": args.loss, "lr": args.lr}
        metadata |= {"momentum": args.momentum, "epochs": history.epochs}
        metadata |= {"final_loss": history.final_loss, "solved": history.solved}
        try:
            save_model(model, args.save, metadata)
            written.append(args.save)
        except OSError as error:
            failures.append(
                f"could not save the model to {args.save}: {error}; the old file, if any, "
                "is unchanged"
            )
    if args.plot is not None:
        try:
            from tinygrad_xor.plots import write_training_plots

            label = f"{dataset.name.upper()}, {model.shape}, {args.loss}, lr {args.lr:g}"
            paths = write_training_plots(
                args.plot,
                model,
                dataset,
                history.losses,
                first_solved_epoch=history.first_solved_epoch,
                label=label,
            )
            written.extend(str(path) for path in paths)
        except (OSError, ImportError) as error:  # ImportError: matplotlib is not installed
            saved = f" (the model was saved to {args.save})" if args.save in written else ""
            failures.append(f"could not write the plots into {args.plot}: {error}{saved}")
    return written, failures


def _train_json(
    args: argparse.Namespace, model: MLP, dataset: Dataset, history: History, written: list[str]
) -> dict[str, Any]:
    shape = architecture(model)
    return {
        "dataset": dataset.name,
        "inputs": [list(x) for x in dataset.inputs],
        "targets": list(dataset.targets),
        "predictions": history.predictions,
        "solved": history.solved,
        "first_solved_epoch": history.first_solved_epoch,
        "final_loss": history.final_loss,
        "initial_loss": history.losses[0],
        "epochs": history.epochs,
        "stopped_early": history.stopped_early,
        "seed": model.seed,
        "hidden": model.sizes[:-1],
        **{key: shape[key] for key in ("activation", "output_activation", "bias", "init")},
        "loss": args.loss,
        "lr": args.lr,
        "momentum": args.momentum,
        "loaded_from": args.load,
        "files": written,
    }


def _train_table(args: argparse.Namespace, model: MLP, dataset: Dataset, history: History) -> str:
    stop = " (stopped early: --target-loss reached)" if history.stopped_early else ""
    loaded = f", loaded from {args.load}" if args.load is not None else ""
    outcome = verdict(model, dataset, history.predictions)
    if history.solved:
        last = f"solved: all {outcome.total} right (first at epoch {history.first_solved_epoch})"
    elif outcome.saturated:
        last = (
            f"not solved: {outcome.right} of {outcome.total} right, and every output is stuck "
            "near 0 or 1 (saturated units learn almost nothing). Try a smaller --lr or --momentum."
        )
    else:
        last = (
            f"not solved: {outcome.right} of {outcome.total} right. Try more --epochs, another "
            "--seed, or a larger --lr."
        )
    return "\n".join(
        [
            f"{dataset.name.upper()}: {model.describe()}{loaded}",
            f"trained {history.epochs} epochs{stop}: SGD lr {args.lr:g} momentum "
            f"{args.momentum:g}, loss {args.loss}",
            "",
            prediction_table(dataset, history.predictions),
            "",
            f"final loss: {history.final_loss:.6g} ({args.loss})",
            last,
        ]
    )


# -- manual -------------------------------------------------------------------------


# manual.VARIANTS and manual.LOSSES, spelled out so that --help does not load numpy.
_MANUAL_VARIANTS = ("attempt1", "attempt2", "correct")
_MANUAL_LOSSES = ("half_sum", "sum", "mean")


def _add_manual_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "manual",
        help="the learner's NumPy network: their two weight updates and the correct one",
        description="Train the learner's 2-5-1 NumPy network (np.random.seed(0), no biases, "
        "lr 0.3, 10000 epochs) with one of their updates, or compare all three.",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--variant",
        choices=_MANUAL_VARIANTS,
        default=None,  # None rather than "correct", so --compare --variant correct is refused
        help="attempt1: the loss value as the output error; attempt2: the error times the "
        "loss value; correct: dL/dy_hat (default: correct)",
    )
    which.add_argument(
        "--compare", action="store_true", help="run all three and explain the two bugs"
    )
    parser.add_argument(
        "--loss",
        choices=_MANUAL_LOSSES,
        default=None,
        help="half_sum = 0.5*sum((y_hat-y)^2), sum, mean = PyTorch's MSELoss "
        "(default: the variant's own: sum for attempt1, half_sum otherwise)",
    )
    parser.add_argument(
        "--bias",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="biases starting at 0 (default: off, as the learner's network; on with --torch-init)",
    )
    parser.add_argument(
        "--torch-init",
        type=_torch_seed,
        default=None,
        metavar="SEED",
        help="start from the weights PyTorch's nn.Sequential gets after torch.manual_seed(SEED) "
        "(needs torch; biases on; not with --seed or --no-bias)",
    )
    parser.add_argument("--epochs", type=_positive_int, default=10000, help="(default: 10000)")
    parser.add_argument("--lr", type=_positive_float, default=0.3, help="(default: 0.3)")
    parser.add_argument("--hidden", type=_positive_int, default=5, help="(default: 5)")
    parser.add_argument(
        "--seed",
        type=_numpy_seed,
        default=None,  # None rather than 0, so --torch-init --seed is refused
        help="np.random.seed of the weights (default: 0)",
    )
    parser.add_argument("--plot", metavar="FILE", help="draw the loss curves into FILE (PNG)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="compare each buggy update's gradient with the engine's, at the start and the end "
        '(with --json: a "diagnosis" list in each run\'s object)',
    )


def _check_manual_options(args: argparse.Namespace) -> None:
    """Refuse options that would be ignored, before numpy or torch is even imported."""
    if args.torch_init is None:
        return
    if args.seed is not None:
        raise UsageError(
            "argument --seed: not allowed with argument --torch-init: the weights come from "
            "torch.manual_seed(SEED), so NumPy's seed would be ignored. Drop one of them."
        )
    if args.bias is False:
        raise UsageError(
            "argument --no-bias: not allowed with argument --torch-init: PyTorch's weights "
            "have biases. Drop --no-bias, or drop --torch-init for the learner's network."
        )


def _run_manual(args: argparse.Namespace) -> int:
    _check_manual_options(args)

    from tinygrad_xor import manual

    weights = None
    if args.torch_init is not None:
        from tinygrad_xor.torch_bridge import from_torch, learner_torch_model

        try:
            model = learner_torch_model(seed=args.torch_init, hidden=args.hidden)
        except ModuleNotFoundError as error:
            raise CommandError(str(error)) from None
        weights = manual.Weights.from_state_dict(from_torch(model).state_dict())
    variants = manual.VARIANTS if args.compare else (args.variant or "correct",)
    try:
        runs = [
            manual.train(
                variant,
                epochs=args.epochs,
                lr=args.lr,
                loss=args.loss,
                biases=args.bias,
                weights=weights,
                hidden=args.hidden,
                seed=0 if args.seed is None else args.seed,
                keep_weights_at=(0, args.epochs),
            )
            for variant in variants
        ]
    except FloatingPointError as error:
        raise CommandError(str(error)) from None

    if args.plot:
        from tinygrad_xor.plots import plot_comparison

        try:
            plot_comparison(manual.loss_curves(runs), args.plot, title=manual.plot_title(runs))
        except OSError as error:
            raise CommandError(f"could not write the plot to {args.plot!r}: {error}") from None
    if args.json:
        print(json.dumps(manual.report_json(runs, diagnose=args.diagnose), indent=2))
        return 0
    print(manual.report_text(runs, diagnose=args.diagnose))
    if args.plot:
        print(f"\nwrote {args.plot}")
    return 0


# -- graph --------------------------------------------------------------------------


def _add_graph_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "graph",
        help="draw the computation graph of one forward pass and its loss as SVG",
        description="Draw the computation graph of one forward pass of the MLP over XOR and "
        "its loss, after backward() so every node shows its gradient. Renders with "
        "Graphviz's dot when it is on PATH, otherwise with the WebAssembly Graphviz that "
        "pip installed.",
    )
    _add_model_options(parser)
    group = parser.add_argument_group("graph")
    group.add_argument(
        "--out", metavar="FILE", default="graph.svg", help="the SVG to write (default: graph.svg)"
    )
    group.add_argument(
        "--sample",
        type=int,
        choices=range(1, 5),
        metavar="N",
        help="draw the loss of XOR sample N alone, 1-4 for inputs 00, 01, 10, 11: a graph a "
        "third the size (default: all four, the loss of the batch)",
    )
    group.add_argument(
        "--loss", choices=list(LOSSES), default="mse", help="the loss, as in train (default: mse)"
    )
    group.add_argument(
        "--order",
        action="store_true",
        help="number the nodes in the order backward() visits them (#1 is the loss)",
    )
    group.add_argument(
        "--local-grads",
        action="store_true",
        help="write each op's local derivative d(op)/d(input) on its input edges",
    )
    group.add_argument(
        "--rankdir",
        choices=["LR", "TB"],
        default="LR",
        help="LR: inputs on the left, loss on the right; TB: top to bottom (default: LR)",
    )
    group.add_argument(
        "--max-nodes",
        type=_positive_int,
        metavar="N",
        help="refuse graphs of more than N Values (default: 400, graph.DEFAULT_MAX_NODES)",
    )
    group.add_argument(
        "--renderer",
        choices=["auto", "dot", "wasm"],
        default="auto",
        help="auto: dot when on PATH, else wasm (Graphviz as WebAssembly) (default: auto)",
    )


def _run_graph(args: argparse.Namespace) -> int:
    from tinygrad_xor import graph, render
    from tinygrad_xor.data import XOR
    from tinygrad_xor.train import sample_loss

    model = _build_model(args, XOR.nin)
    _loss_for(model, args.loss)
    loss = sample_loss(model, XOR, args.loss, None if args.sample is None else [args.sample - 1])
    max_nodes = graph.DEFAULT_MAX_NODES if args.max_nodes is None else args.max_nodes
    try:
        drawn = graph.draw_dot(
            loss,
            parameters=model.parameters(),
            rankdir=args.rankdir,
            show_order=args.order,
            show_local_grads=args.local_grads,
            max_nodes=max_nodes,
        )
    except graph.GraphTooLargeError as error:
        advice = (
            "Draw one sample with --sample 1" if args.sample is None else "Use a smaller --hidden"
        )
        raise CommandError(
            f"the graph has {error.count} Values, more than --max-nodes {error.limit}: "
            f"too dense to read. {advice}, or raise --max-nodes."
        ) from None
    try:
        graph.to_svg(drawn, path=args.out, renderer=args.renderer)
    except (render.NoRendererError, render.GraphRenderError) as error:
        raise CommandError(str(error)) from None
    except OSError as error:
        raise CommandError(f"cannot write {args.out}: {error.strerror or error}") from None
    print(f"wrote {args.out}: {drawn.summary}")
    return 0


# -- entry point --------------------------------------------------------------------

# Every subcommand: name -> (add its parser, run it). Add new ones here.
SUBCOMMANDS: dict[str, tuple[Callable[[Subparsers], None], Callable[[argparse.Namespace], int]]] = {
    "train": (_add_train_parser, _run_train),
    "manual": (_add_manual_parser, _run_manual),
    "graph": (_add_graph_parser, _run_graph),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run `tinygrad-xor` with argv (default: sys.argv[1:]); return the exit status."""
    parser = argparse.ArgumentParser(
        prog="tinygrad-xor", description="A tiny scalar autograd engine that learns XOR."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_parser, _ in SUBCOMMANDS.values():
        add_parser(subparsers)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2): argparse already printed
        return exit_.code if isinstance(exit_.code, int) else 2

    _, run = SUBCOMMANDS[args.command]
    try:
        return run(args)
    except BrokenPipeError:
        # The reader went away (`tinygrad-xor manual --compare | head`): stop quietly,
        # and point stdout at devnull so the interpreter's final flush cannot fail too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except CommandError as error:
        print(f"tinygrad-xor {args.command}: error: {error}", file=sys.stderr)
        return 2 if isinstance(error, UsageError) else 1
