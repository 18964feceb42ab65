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


# -- entry point --------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run `tinygrad-xor` with argv (default: sys.argv[1:]); return the exit status."""
    # Every subcommand: name -> (add its parser, run it). Add new ones here.
    subcommands: dict[
        str, tuple[Callable[[Subparsers], None], Callable[[argparse.Namespace], int]]
    ] = {
        "train": (_add_train_parser, _run_train),
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
