"""The `tinygrad-xor` command line: argument parsing only; the work is done by the library.

Each subcommand is a pair of functions, registered in `main`'s SUBCOMMANDS table:

    _add_<name>_parser(subparsers)  adds the subcommand and its options
    _run_<name>(args) -> int        runs it and returns the exit status

Exit status: 0 success; 1 the command failed (a bad --load file, a non-finite loss,
...: raise CommandError with a message saying what to do); 2 bad usage (an invalid
option value: argparse's error, naming the option and what is allowed).

Heavy modules (matplotlib, tqdm, graphviz, numpy) are imported inside the
functions that use them, so `tinygrad-xor --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tinygrad_xor.nn import ACTIVATIONS, INITS, MLP

if TYPE_CHECKING:
    from typing import TypeAlias

    # The object argparse hands to each _add_<name>_parser.
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["main", "CommandError"]


class CommandError(Exception):
    """A subcommand failed for a reason the user can fix; main prints it and exits 1."""


# -- option value types: each names what is allowed, argparse adds the option's name --


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not value > 0.0 or value == float("inf"):  # also rejects nan
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not value >= 0.0 or value == float("inf"):  # also rejects nan
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _hidden_sizes(text: str) -> list[int]:
    """'5' -> [5] (one hidden layer of 5); '8,4' -> [8, 4] (two hidden layers)."""
    sizes = []
    for part in text.split(","):
        try:
            size = int(part)
        except ValueError:
            size = 0
        if size < 1:
            raise argparse.ArgumentTypeError(
                f"expected hidden layer widths >= 1, like 5 or 8,4; got {text!r}"
            )
        sizes.append(size)
    return sizes


# -- model options, shared by every subcommand that builds an MLP ---------------------


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    """Options that choose the network: `_build_model(args)` turns them into an MLP."""
    group = parser.add_argument_group("model")
    group.add_argument(
        "--hidden",
        type=_hidden_sizes,
        default=[5],
        metavar="N[,N...]",
        help="hidden layer widths (default: 5, the learner's 2-5-1 network)",
    )
    group.add_argument(
        "--activation",
        choices=list(ACTIVATIONS),
        default="sigmoid",
        help="activation of the hidden layers (default: sigmoid)",
    )
    group.add_argument(
        "--output-activation",
        choices=list(ACTIVATIONS),
        default="sigmoid",
        help="activation of the output neuron (default: sigmoid)",
    )
    group.add_argument(
        "--init",
        choices=list(INITS),
        default="torch",
        help="initial weights: torch = U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as nn.Linear; "
        "uniform01 = the learner's np.random.random; xavier = Glorot uniform (default: torch)",
    )
    group.add_argument(
        "--bias",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="give every neuron a bias (default: on; --no-bias as the learner's network)",
    )
    group.add_argument(
        "--seed", type=_int, default=0, help="seed of the initial weights (default: 0)"
    )


def _build_model(args: argparse.Namespace, nin: int = 2) -> MLP:
    """The MLP the model options describe: nin inputs -> hidden layers -> 1 output."""
    return MLP(
        nin,
        [*args.hidden, 1],
        activation=args.activation,
        output_activation=args.output_activation,
        bias=args.bias,
        init=args.init,
        seed=args.seed,
    )


# -- train --------------------------------------------------------------------------


def _add_train_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train an MLP on XOR (or another gate) and print its predictions",
        description="Train an MLP on a logic gate with SGD and print its predictions.",
    )
    _add_model_options(parser)


def _run_train(args: argparse.Namespace) -> int:
    raise CommandError("train is being written (issue 3); not available yet.")


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
        type=_int,
        default=None,
        metavar="SEED",
        help="start from the weights PyTorch's nn.Sequential gets after torch.manual_seed(SEED) "
        "(needs torch; biases on)",
    )
    parser.add_argument("--epochs", type=_positive_int, default=10000, help="(default: 10000)")
    parser.add_argument("--lr", type=_positive_float, default=0.3, help="(default: 0.3)")
    parser.add_argument("--hidden", type=_positive_int, default=5, help="(default: 5)")
    parser.add_argument(
        "--seed", type=_int, default=0, help="np.random.seed of the weights (default: 0)"
    )
    parser.add_argument("--plot", metavar="FILE", help="draw the loss curves into FILE (PNG)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="compare each buggy update's gradient with the engine's, at the start and the end",
    )


def _run_manual(args: argparse.Namespace) -> int:
    import json
    import textwrap

    from tinygrad_xor import manual

    weights = None
    if args.torch_init is not None:
        from tinygrad_xor.torch_bridge import from_torch, learner_torch_model

        try:
            model = learner_torch_model(seed=args.torch_init, hidden=args.hidden)
        except ModuleNotFoundError as error:
            raise CommandError(str(error)) from None
        if args.bias is False:
            raise CommandError(
                "--torch-init starts from PyTorch's weights, which have biases; drop --no-bias."
            )
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
                seed=args.seed,
                keep_weights_at=(0, args.epochs),
            )
            for variant in variants
        ]
    except FloatingPointError as error:
        raise CommandError(str(error)) from None

    if args.plot:
        try:
            manual.plot_comparison(runs, args.plot)
        except OSError as error:
            raise CommandError(f"could not write the plot to {args.plot!r}: {error}") from None
    if args.json:
        print(json.dumps([run.to_json() for run in runs], indent=2))
        return 0
    print(manual.format_table(runs))
    for sentence in manual.explain(runs):
        print()
        print(textwrap.fill(sentence, width=100))
    if args.diagnose:
        for run in runs:
            if run.variant == "correct":
                continue
            print()
            print(f"{run.variant}: its gradient against the engine's")
            for epoch, loss, diagnosis in manual.diagnose_run(run):
                print(
                    textwrap.fill(
                        f"after {epoch} epochs (loss {loss:.4g}): {diagnosis.summary}",
                        width=100,
                        subsequent_indent="  ",
                    )
                )
    if args.plot:
        print(f"\nloss curves written to {args.plot}")
    return 0


# -- entry point --------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run `tinygrad-xor` with argv (default: sys.argv[1:]); return the exit status."""
    # Every subcommand: name -> (add its parser, run it). Add new ones here.
    subcommands: dict[
        str, tuple[Callable[[Subparsers], None], Callable[[argparse.Namespace], int]]
    ] = {
        "train": (_add_train_parser, _run_train),
        "manual": (_add_manual_parser, _run_manual),
    }

    parser = argparse.ArgumentParser(
        prog="tinygrad-xor",
        description="A tiny scalar autograd engine that learns XOR.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_parser, _ in subcommands.values():
        add_parser(subparsers)

    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2): argparse already printed
        return exit_.code if isinstance(exit_.code, int) else 2

    _, run = subcommands[args.command]
    try:
        return run(args)
    except CommandError as error:
        print(f"tinygrad-xor {args.command}: error: {error}", file=sys.stderr)
        return 1
