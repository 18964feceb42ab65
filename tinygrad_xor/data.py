"""The logic gates the network learns: XOR, and AND, OR, NAND for contrast.

Each dataset is the gate's whole truth table, inputs in the learner's order

    x1 x2: (0, 0), (0, 1), (1, 0), (1, 1)

XOR is the one a single neuron cannot learn (its 1s and 0s are not separated by
one straight line); AND, OR and NAND are, so they train in a few hundred epochs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tinygrad_xor.checks import choice, real_number

__all__ = ["Dataset", "XOR", "AND", "OR", "NAND", "DATASETS", "get_dataset", "is_solved"]

_INPUTS: tuple[tuple[float, ...], ...] = ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))


@dataclass(frozen=True)
class Dataset:
    """Inputs and one target per input (0.0 or 1.0)."""

    name: str
    inputs: tuple[tuple[float, ...], ...]
    targets: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.inputs) != len(self.targets) or not self.inputs:
            raise ValueError(
                f"dataset {self.name!r}: needs one target per input and at least one input, "
                f"got {len(self.inputs)} inputs and {len(self.targets)} targets."
            )
        widths = {len(x) for x in self.inputs}
        if len(widths) != 1:
            raise ValueError(
                f"dataset {self.name!r}: every input must have the same length, "
                f"got lengths {sorted(widths)}."
            )
        # A nan or inf would only surface later, as a loss that looks like divergence.
        for i, (x, y) in enumerate(zip(self.inputs, self.targets, strict=True)):
            for number in x:
                real_number(f"dataset {self.name!r}: input {i}", number)
            real_number(f"dataset {self.name!r}: target {i}", y)

    @property
    def nin(self) -> int:
        """Numbers per input: the network's input width."""
        return len(self.inputs[0])


XOR = Dataset("xor", _INPUTS, (0.0, 1.0, 1.0, 0.0))
AND = Dataset("and", _INPUTS, (0.0, 0.0, 0.0, 1.0))
OR = Dataset("or", _INPUTS, (0.0, 1.0, 1.0, 1.0))
NAND = Dataset("nand", _INPUTS, (1.0, 1.0, 1.0, 0.0))

DATASETS: dict[str, Dataset] = {d.name: d for d in (XOR, AND, OR, NAND)}


def get_dataset(name: str) -> Dataset:
    """The dataset called `name`: "xor", "and", "or" or "nand"."""
    return DATASETS[choice("dataset", name, DATASETS)]


def is_solved(predictions: Sequence[float], targets: Sequence[float]) -> bool:
    """Every prediction on the right side of 0.5: above for a target 1, below for a 0."""
    return all(
        (p > 0.5) if y > 0.5 else (p < 0.5) for p, y in zip(predictions, targets, strict=True)
    )
