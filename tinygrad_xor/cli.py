"""The `tinygrad-xor` command line: it parses, calls the library, and prints.

Each subcommand is a pair of functions, registered in the `SUBCOMMANDS` table:

    _add_<name>_parser(subparsers)  adds the subcommand and its options
    _run_<name>(args) -> int        runs it and returns the exit status

Exit status: 0 success; 1 the command failed (CommandError: a bad --load file, a
diverged loss; out of memory; a closed pipe); 2 bad usage (argparse's error or
UsageError, naming the option); 130 Ctrl-C. Any other exception is a bug of ours and
shows its traceback.
Heavy modules (matplotlib, tqdm, graphviz, numpy) load only in the subcommands that
use them, so `tinygrad-xor --help` stays fast.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tinygrad_xor.atomic import TargetError, check_folder, check_target
from tinygrad_xor.checkpoint import ModelFileError, disagreements, load_model, save_model
from tinygrad_xor.checks import real_number, whole_number
from tinygrad_xor.data import DATASETS, get_dataset
from tinygrad_xor.losses import LOSSES
from tinygrad_xor.nn import ACTIVATIONS, INITS, MLP
from tinygrad_xor.optim import SGD
from tinygrad_xor.progress import ProgressBar
from tinygrad_xor.render import RENDERERS, GraphRenderError, NoRendererError
from tinygrad_xor.report import run_record, summary, verdict
from tinygrad_xor.torch_bridge import TORCH_MAX_SEED
from tinygrad_xor.train import (
    NonFiniteLossError,
    loss_for,
    step_factory,
    train,
)
from tinygrad_xor.training_view import TrainingSnapshots

__all__ = ["main", "CommandError", "UsageError"]


class CommandError(Exception):
    """A subcommand failed for a reason the user can fix; main prints it and exits 1."""


class UsageError(CommandError):
    """Options that are each valid but not together; main prints it and exits 2."""


# -- option values: parsed from text, then checked by the library's own checks --------


def _checked(parse: Callable[[str], object], check: Callable[..., Any], **allowed: Any) -> Any:
    """An argparse type: the text parsed, then checked. argparse names the option."""

    def convert(text: str) -> Any:
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
_positive_float = _checked(float, real_number, above=0.0)
_non_negative_float = _checked(float, real_number, at_least=0.0)
_momentum = _checked(float, real_number, at_least=0.0, below=1.0)
_seed = _checked(int, whole_number, at_least=0)
_numpy_seed = _checked(int, whole_number, at_least=0, at_most=2**32 - 1)  # np.random.seed's
_torch_seed = _checked(int, whole_number, at_least=0, at_most=TORCH_MAX_SEED)
_max_nodes = _checked(int, whole_number, at_most=1000)  # graph.MOST_NODES: tens of seconds


def _hidden(text: str) -> list[int]:
    """'5' -> [5] (one hidden layer of 5); '8,4' -> [8, 4] (two hidden layers)."""
    return [_positive_int(width) for width in text.split(",")]


# -- model options, shared by every subcommand that builds an MLP ---------------------

# What each model option means when not given. The options parse to None when absent,
# so `train --load` can tell a given option (which must agree with the file) from a
# default: read them through _model_settings(args). All but "hidden" are MLP's defaults.
_MODEL_DEFAULTS: dict[str, Any] = {"hidden": [5], "init": "torch", "bias": True, "seed": 0}
_MODEL_DEFAULTS |= {"activation": "sigmoid", "output_activation": "sigmoid"}


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model (defaults: the learner's 2-5-1 sigmoid network)")
    add = group.add_argument
    add("--hidden", type=_hidden, metavar="N[,N...]", help="5, or 8,4 for two hidden layers")
    add("--activation", choices=ACTIVATIONS, help="of the hidden layers (default: sigmoid)")
    add("--output-activation", choices=ACTIVATIONS, help="of the output (default: sigmoid)")
    add("--init", choices=INITS, help="torch: as nn.Linear; uniform01: as the learner's")
    add("--bias", action=argparse.BooleanOptionalAction, help="biases (default: on)")
    add("--seed", type=_seed, help="seed of the initial weights, >= 0 (default: 0)")


def _model_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The model options: each as given, or its default when not given."""
    given = vars(args)
    return {key: given[key] if given[key] is not None else d for key, d in _MODEL_DEFAULTS.items()}


def _build_model(args: argparse.Namespace, nin: int) -> MLP:
    """The MLP the model options describe: nin inputs -> hidden layers -> 1 output."""
    settings = _model_settings(args)
    return MLP(nin, [*settings.pop("hidden"), 1], **settings)


def _check_outputs(*outputs: tuple[str, str | None, Callable[[str], object]]) -> None:
    """Refuse an output path that cannot be written (a directory, a device, a bad name)
    before any work is done, not after it."""
    for option, path, check in outputs:
        try:
            if path is not None:
                check(path)
        except (TargetError, ValueError) as error:
            raise CommandError(f"{option} {error}") from None


# A page's path: its missing folders are made when it is written.
_new_page = functools.partial(check_target, make_folders=True, example="out/page.html")


def _distinct_outputs(*outputs: tuple[str, str | None, Sequence[str | os.PathLike[str]]]) -> None:
    """Refuse, before any work, two outputs that would write one file (through a symlink, a
    hard link, `..`, or a folder and a file in it), or a file where another needs a folder.

    outputs: (option, the path given or None, the files it writes there).
    """
    files = [
        (f"{option} {given}" + (f" (its {Path(file).name})" if file != given else ""), file)
        for option, given, written in outputs
        if given is not None
        for file in written
    ]
    for i, (told, file) in enumerate(files):
        real = Path(os.path.realpath(file))
        for other_told, other_file in files[:i]:
            other_real = Path(os.path.realpath(other_file))
            if real == other_real:
                clash = f"{other_told} and {told} name one file, {real}"
            elif _same_file(real, other_real):
                clash = f"{other_told} and {told} are one file (hard links)"
            elif real in other_real.parents or other_real in real.parents:
                clash = f"{other_told} and {told}: one would be a file, the other a folder"
            else:
                continue
            raise UsageError(f"{clash}. Give each output a path of its own.")


def _same_file(a: Path, b: Path) -> bool:
    """Two existing paths of one file (hard links); a missing file is no other's."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _check_loss(model: MLP, loss: str) -> None:
    """train and graph refuse the same model and loss pairs (train.loss_for's), in options."""
    try:
        loss_for(model, loss)
    except ValueError:
        raise UsageError(
            f"argument --loss: {loss} needs outputs in [0, 1], i.e. --output-activation sigmoid; "
            f"the output activation is {model.output_activation}. Use --loss mse instead."
        ) from None


# -- train --------------------------------------------------------------------------

_SMALLER_STEPS = "a smaller --lr or --momentum"  # saturated outputs barely move
_MORE_TRAINING = "more --epochs, another --seed, or a larger --lr"


def _add_train_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train an MLP on XOR (or another gate) and print its predictions",
        description="Train an MLP on a logic gate with full-batch SGD. The defaults (2-5-1 "
        "sigmoid, MSE, SGD lr 0.3 momentum 0.9, 2000 epochs) solve XOR for 100 of seeds 0-99.",
    )
    _add_model_options(parser)
    add = parser.add_argument_group("training").add_argument
    add("--dataset", choices=DATASETS, default="xor", help="the gate (default: xor)")
    add("--loss", choices=LOSSES, default="mse", help="bce needs a sigmoid output (default: mse)")
    add("--lr", type=_positive_float, default=0.3, help="learning rate, > 0 (default: 0.3)")
    add("--momentum", type=_momentum, default=0.9, help="in [0, 1) (default: 0.9)")
    add("--epochs", type=_positive_int, default=2000, help="full-batch updates (default: 2000)")
    add("--compile", action="store_true", help="replay a traced tape: same numbers, ~10x faster")
    add("--target-loss", type=_non_negative_float, metavar="LOSS", help="stop at this loss")
    add("--load", metavar="FILE", help="start from a saved model (its options must agree)")
    add = parser.add_argument_group("output").add_argument
    add("--json", action="store_true", help="print JSON instead of the table")
    add("--plot", metavar="DIR", help="write loss.png and decision_boundary.png into DIR")
    add("--save", metavar="FILE", help="write the trained model to FILE as JSON")
    add("--html", metavar="FILE", help="write a page with a slider over ~50 snapshots of training")
    add("--quiet", action="store_true", help="no progress bar (it shows only on a terminal)")


def _load_for_training(args: argparse.Namespace) -> MLP:
    """The model saved in args.load; every model option given must agree with it."""
    model, _ = load_model(args.load)  # ModelFileError: main reports it
    given = {key: vars(args)[key] for key in _MODEL_DEFAULTS if vars(args)[key] is not None}
    differ = []
    for key, (value, in_file) in disagreements(model, given).items():
        if key == "bias":
            differ.append(
                f"--{'' if value else 'no-'}bias (the file has {'' if in_file else 'no '}biases)"
            )
        elif key == "hidden":
            widths = ",".join(map(str, in_file)) or "no hidden layer"
            differ.append(f"--hidden {','.join(map(str, value))} (the file has {widths})")
        else:
            differ.append(f"--{key.replace('_', '-')} {value} (the file has {in_file})")
    if differ:
        raise CommandError(
            f"{args.load} holds a {model.shape} network, and --load rebuilds it from the "
            f"file; these options disagree with it: {'; '.join(differ)}. Drop them."
        )
    return model


def _run_train(args: argparse.Namespace) -> int:
    from tinygrad_xor.plots import training_plot_paths, write_training_plots

    # Each output can be written, and no two are one file: before any work.
    _check_outputs(("--save", args.save, check_target), ("--plot", args.plot, check_folder))
    _check_outputs(("--html", args.html, _new_page))
    _distinct_outputs(
        ("--save", args.save, [args.save]),
        ("--plot", args.plot, training_plot_paths(args.plot or ".")),
        ("--html", args.html, [args.html]),
    )
    dataset = get_dataset(args.dataset)
    model = _load_for_training(args) if args.load is not None else _build_model(args, dataset.nin)
    if model.nin != dataset.nin or model.sizes[-1] != 1:
        raise CommandError(
            f"{args.load} holds a {model.shape} network; dataset {dataset.name!r} needs "
            f"{dataset.nin} inputs and 1 output."
        )
    _check_loss(model, args.loss)
    optimizer = SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    settings = {"epochs": args.epochs, "loss": args.loss, "make_step": step_factory(args.compile)}
    show = not args.quiet and sys.stderr.isatty()
    try:
        with ProgressBar(args.epochs, stop_at_loss=args.target_loss, show=show) as bar:
            recorder = TrainingSnapshots(model, dataset, then=bar) if args.html else None
            history = train(model, dataset, optimizer, callback=recorder or bar, **settings)
    except NonFiniteLossError as error:
        raise CommandError(
            f"the loss became {error.loss} at epoch {error.epoch} (after {error.epoch} updates "
            f"with --lr {args.lr:g}): training diverged. Try a smaller learning rate, e.g. "
            f"--lr {args.lr / 10:g}. Nothing was written."
        ) from None

    record = {**run_record(model, dataset, history, optimizer, args.loss), "loaded_from": args.load}
    label = f"{dataset.name.upper()}, {model.shape}, {args.loss}, lr {args.lr:g}"
    solved = history.first_solved_epoch
    written, failures = _write_all(  # the model first: it is the result of the training
        ("save the model to", args.save, lambda: [_save_model(model, args.save, record)]),
        ("write the plots into", args.plot, lambda: write_training_plots(
            args.plot, model, dataset, history.losses, first_solved_epoch=solved, label=label)),
        ("write", args.html, lambda: [recorder.write(history, args.html)] if recorder else []),
    )  # fmt: skip
    if args.json:
        print(json.dumps({**record, "files": written}))
    else:
        text = summary(model, dataset, history, optimizer, args.loss, loaded_from=args.load)
        if not history.solved:  # the advice, in the options' words
            saturated = verdict(model, dataset, history.predictions).saturated
            text += f". Try {_SMALLER_STEPS if saturated else _MORE_TRAINING}."
        print(text)
        for path in written:
            print(f"wrote {path}")
    if failures:
        was_saved = args.save is not None and Path(args.save) in map(Path, written)  # "./m.json"
        saved = f" (the model was saved to {args.save})" if was_saved else ""
        raise CommandError("; ".join(failures) + saved)
    return 0


def _write_all(
    *outputs: tuple[str, str | None, Callable[[], Sequence[object]]],
) -> tuple[list[str], list[str]]:
    """Write each output whose path was given, whatever happened to the others; return the
    files written and what failed: a disk, a path no longer writable, a model refused."""
    written: list[str] = []
    failures: list[str] = []
    for what, path, write in outputs:
        try:
            written += [str(done) for done in write()] if path is not None else []
        except (OSError, TargetError, CommandError) as error:
            failures.append(f"could not {what} {path}: {error}")
    return written, failures


def _save_model(model: MLP, path: str, record: dict[str, Any]) -> Path:
    """save_model, whose ValueError (a parameter that is not finite) is the user's to fix."""
    try:
        return save_model(model, path, record)
    except TargetError:
        raise
    except ValueError as error:
        raise CommandError(str(error)) from None


# -- manual -------------------------------------------------------------------------


# manual.VARIANTS and manual.LOSSES, spelled out so that --help does not load numpy.
_MANUAL_VARIANTS = ("attempt1", "attempt2", "correct")
_MANUAL_LOSSES = ("half_sum", "sum", "mean")


def _add_manual_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "manual",
        help="the learner's NumPy network: their two weight updates and the correct one",
        description="Train the learner's 2-5-1 NumPy network (np.random.seed(0), no biases, "
        "lr 0.3, 10000 epochs) with one of their updates, or compare all three.",
    )
    which = parser.add_mutually_exclusive_group()
    # None rather than "correct" when absent, so --compare --variant correct is refused.
    which.add_argument("--variant", choices=_MANUAL_VARIANTS, help="(default: correct)")
    which.add_argument("--compare", action="store_true", help="run all three, explain the bugs")
    add = parser.add_argument
    add("--loss", choices=_MANUAL_LOSSES, help="(default: sum for attempt1, else half_sum)")
    add("--bias", action=argparse.BooleanOptionalAction, help="biases from 0 (default: off)")
    add("--torch-init", type=_torch_seed, metavar="SEED", help="torch.manual_seed(SEED)'s weights")
    add("--epochs", type=_positive_int, default=10000, help="(default: 10000)")
    add("--lr", type=_positive_float, default=0.3, help="(default: 0.3)")
    add("--hidden", type=_positive_int, default=5, help="(default: 5)")
    # None rather than 0 when absent, so --torch-init --seed is refused.
    add("--seed", type=_numpy_seed, help="np.random.seed of the weights (default: 0)")
    add("--plot", metavar="FILE", help="draw the loss curves into FILE (PNG, SVG or PDF)")
    add("--json", action="store_true", help="print the results as JSON")
    add("--diagnose", action="store_true", help="compare the updates' gradients with the engine's")


def _check_manual_options(args: argparse.Namespace) -> None:
    """Refuse options that would be ignored, before numpy or torch is even imported."""
    ignored = "--seed" if args.seed is not None else "--no-bias" if args.bias is False else ""
    if args.torch_init is not None and ignored:
        raise UsageError(
            f"argument {ignored}: not allowed with argument --torch-init: the weights (with "
            "biases) come from torch.manual_seed(SEED). Drop one of them."
        )


def _run_manual(args: argparse.Namespace) -> int:
    _check_manual_options(args)
    from tinygrad_xor import manual, plots

    _check_outputs(("--plot", args.plot, plots.image_target))
    weights = None
    if args.torch_init is not None:
        from tinygrad_xor.torch_bridge import from_torch, learner_torch_model

        try:
            torch_model = from_torch(learner_torch_model(seed=args.torch_init, hidden=args.hidden))
        except ModuleNotFoundError as error:  # torch is not installed: it says what to install
            raise CommandError(str(error)) from None
        weights = manual.Weights.from_state_dict(torch_model.state_dict())
    settings = {"epochs": args.epochs, "lr": args.lr, "loss": args.loss, "biases": args.bias}
    settings |= {"weights": weights, "hidden": args.hidden, "seed": args.seed or 0}
    keep = (0, args.epochs)  # for --diagnose: the first and the last epoch
    try:
        if args.compare:
            runs = manual.compare(**settings)
        else:
            runs = [manual.train(args.variant or "correct", keep_weights_at=keep, **settings)]
    except FloatingPointError as error:  # a run diverged: it names the epoch and the fix
        raise CommandError(f"{error} Nothing was written.") from None
    if args.plot:
        plots.plot_comparison(manual.loss_curves(runs), args.plot, title=manual.plot_title(runs))
    if args.json:
        print(json.dumps(manual.report_json(runs, diagnose=args.diagnose), indent=2))
        return 0
    print(manual.report_text(runs, diagnose=args.diagnose))
    if args.plot:
        print(f"\nwrote {args.plot}")
    return 0


# -- graph --------------------------------------------------------------------------


def _add_graph_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "graph",
        help="draw the computation graph of one forward pass and its loss as SVG",
        description="Draw the graph of the MLP's loss over XOR after backward(), so every node "
        "shows its data and grad. Renders with Graphviz's dot when it is on PATH, otherwise "
        "with the WebAssembly Graphviz that pip installed.",
    )
    _add_model_options(parser)
    add = parser.add_argument_group("graph").add_argument
    add("--out", metavar="FILE", default="graph.svg", help="the SVG to write (default: graph.svg)")
    samples = "XOR sample N alone (1-4: inputs 00, 01, 10, 11), a third of the graph"
    add("--sample", type=int, choices=range(1, 5), metavar="N", help=samples)
    add("--loss", choices=LOSSES, default="mse", help="as in train (default: mse)")
    add("--order", action="store_true", help="number the nodes in backward()'s order (--html does)")
    add("--local-grads", action="store_true", help="write d(op)/d(input) on each edge")
    add("--rankdir", choices=["LR", "TB"], default="LR", help="left-right or top-bottom")
    add("--max-nodes", type=_max_nodes, metavar="N", help="the most Values to draw (400; 1-1000)")
    add("--renderer", choices=RENDERERS, default="auto", help="auto: dot if on PATH, else wasm")
    add("--html", metavar="FILE", help="also write a page that steps through the backward pass")


def _run_graph(args: argparse.Namespace) -> int:
    from tinygrad_xor import graph
    from tinygrad_xor.data import XOR
    from tinygrad_xor.train import sample_loss

    _check_outputs(("--out", args.out, graph.svg_target), ("--html", args.html, _new_page))
    _distinct_outputs(("--out", args.out, [args.out]), ("--html", args.html, [args.html]))
    samples = None if args.sample is None else [args.sample - 1]
    max_nodes = graph.DEFAULT_MAX_NODES if args.max_nodes is None else args.max_nodes
    settings = _model_settings(args)
    # Every parameter is drawn: a model too big is refused from its sizes, before it is built.
    at_least = _parameter_count(XOR.nin, settings["hidden"], settings["bias"])
    if at_least > max_nodes:
        raise _too_large(args, f"at least {at_least:,} Values (its parameters alone)", max_nodes)
    model = _build_model(args, XOR.nin)
    _check_loss(model, args.loss)
    loss = sample_loss(model, XOR, args.loss, samples)
    # The page's steps name Values by number: with --html both pictures are numbered, one layout.
    numbered = args.order or args.html is not None
    look = {"rankdir": args.rankdir, "show_order": numbered, "show_local_grads": args.local_grads}
    drawing: dict[str, Any] = {"parameters": model.parameters(), "max_nodes": max_nodes}
    try:
        drawn = graph.draw_dot(loss, **drawing, **look)
    except graph.GraphTooLargeError as error:
        raise _too_large(args, f"{error.count} Values", error.limit) from None
    if args.html:
        graph.to_html(drawn, args.html, renderer=args.renderer)
        print(f"wrote {args.html}: its forward and backward pass, step by step, in a browser")
    graph.to_svg(drawn, path=args.out, renderer=args.renderer)
    print(f"wrote {args.out}: {drawn.summary}")
    return 0


def _parameter_count(nin: int, hidden: Sequence[int], bias: bool) -> int:
    """The parameters of MLP(nin, [*hidden, 1], bias=bias), counted without building it."""
    widths = [nin, *hidden, 1]
    return sum((fan_in + bias) * fan_out for fan_in, fan_out in itertools.pairwise(widths))


def _too_large(args: argparse.Namespace, count: str, limit: int) -> CommandError:
    """The graph has `count` Values, more than `limit`: say what would fit."""
    from tinygrad_xor.data import XOR
    from tinygrad_xor.graph import MOST_NODES
    from tinygrad_xor.train import widest_hidden

    settings = {key: value for key, value in _model_settings(args).items() if key != "hidden"}
    samples = [0] if args.sample is None else [args.sample - 1]
    widest = widest_hidden(XOR, args.loss, limit, samples, **settings)
    fits = f"--sample 1 with --hidden {widest} or fewer" if widest else "not one hidden unit"
    return CommandError(
        f"the graph has {count}, more than --max-nodes {limit}: too dense to read. What "
        f"fits: {fits}; or raise --max-nodes (at most {MOST_NODES})."
    )


# -- entry point --------------------------------------------------------------------

# What a run can fail with for a reason the user can fix: each says what and why (exit 1).
# Nothing broader: a ZeroDivisionError or an ImportError of ours is a bug, and shows as one.
_FAILURES = (
    *(CommandError, TargetError, ModelFileError, NoRendererError, GraphRenderError),
    OSError,  # a disk full, a permission, a folder removed while writing
)

# Every subcommand: name -> (add its parser, run it). Add new ones here.
SUBCOMMANDS: dict[str, tuple[Callable[[Any], None], Callable[[argparse.Namespace], int]]] = {
    "train": (_add_train_parser, _run_train),
    "manual": (_add_manual_parser, _run_manual),
    "graph": (_add_graph_parser, _run_graph),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinygrad-xor", description="A tiny scalar autograd engine that learns XOR."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_parser, _ in SUBCOMMANDS.values():
        add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `tinygrad-xor` with argv (default: sys.argv[1:]); return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    # The command's name for its messages, known before parsing (which a Ctrl-C may cut short).
    name = f"tinygrad-xor {argv[0]}" if argv and argv[0] in SUBCOMMANDS else "tinygrad-xor"
    try:
        # A Ctrl-C held back since start-up (tinygrad_xor_command) arrives here, in the try.
        if sys.platform != "win32":
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        try:
            args = _parser().parse_args(argv)
        except SystemExit as exit_:  # --help (0) or a usage error (2): argparse already printed
            status = exit_.code if isinstance(exit_.code, int) else 2
        else:
            status = SUBCOMMANDS[args.command][1](args)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at the interpreter's exit
        return status
    except BrokenPipeError:
        # The reader went away (`tinygrad-xor manual --compare | head`): stop quietly,
        # and point stdout at devnull so the interpreter's final flush cannot fail too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except _FAILURES as error:
        print(f"{name}: error: {error}", file=sys.stderr)
        return 2 if isinstance(error, UsageError) else 1
    except MemoryError as error:  # numpy's says how much it asked for; Python's says nothing
        asked = f" ({error})" if str(error) else ""
        print(
            f"{name}: error: out of memory{asked}: the sizes asked for need more than there "
            "is. Try a smaller --hidden.",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:  # Ctrl-C: files are written whole or not at all (atomic)
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
