"""What the engine's ops take and record: numbers, labels, a power's exponent.

An operand is a Value or a real number: int, float, bool, a NumPy scalar, a Fraction.
Anything else (a str, None, a complex, a list) raises TypeError naming what was
received and how to fix it. The engine tells Values apart itself; this module knows
only numbers (and checks.shown, to show them). An op is a str, its name; two kinds carry
data too: `PowerOp`, the op of `x ** c`, keeps the number c, and `RuleOp`, the op of an
op made by define_op, keeps its rule and checks what the rule returns.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Sized

from tinygrad_xor.checks import shown

__all__ = ["to_float", "leaf_data", "leaf_label", "seed_grad", "PowerOp", "RuleOp"]

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


class PowerOp(str):
    """The op of x ** c for a number c: reads "**2", and holds c itself as `exponent`."""

    exponent: float

    @staticmethod
    @functools.lru_cache(maxsize=256)  # the name formatted once: x ** 2 takes half the time
    def of(c: float) -> PowerOp:
        c += 0.0  # -0.0 and 0.0 are one exponent (and one cache entry): "**0"
        short = f"{c:g}"
        op = PowerOp(f"**{short}" if float(short) == c else f"**{c!r}")  # exact: "**0.1"
        op.exponent = c
        return op


class RuleOp(str):
    """The op of an op made by define_op: reads as its name, and holds its rule.

    `rule` takes `arity` floats (1 or 2) and returns the value and its derivative by each
    input: (value, d/dx) or (value, d/dx, d/dy). `evaluate` calls it and checks that.
    """

    rule: Callable[..., object]
    arity: int

    @staticmethod
    def of(name: str, rule: Callable[..., object], arity: int) -> RuleOp:
        op = RuleOp(name)  # made once per define_op, shared by every node of that op
        op.rule = rule
        op.arity = arity
        return op

    def evaluate(self, *xs: float) -> tuple[float, ...]:
        """The rule at xs, checked: its value and local derivatives as floats.

        The engine and the compiled tape both call this, so both get the same bits.
        """
        try:
            returned = self.rule(*xs)
        except Exception as error:  # the rule's own bug or domain error: say where
            raise ValueError(
                f"{self._call(xs)}: the rule raised {type(error).__name__}: {error}. A rule "
                "returns IEEE results (inf, nan) where Python raises: tinygrad_xor.floats' "
                "exp, log, power, divide and reciprocal do."
            ) from error
        if (
            type(returned) is tuple
            and len(returned) == self.arity + 1
            and all(type(x) is float for x in returned)
        ):  # the common case: floats, as they are
            return returned
        return self._checked(returned, xs)

    def _checked(self, returned: object, xs: tuple[float, ...]) -> tuple[float, ...]:
        shape = "(value, d/dx)" if self.arity == 1 else "(value, d/dx, d/dy)"
        if not isinstance(returned, (tuple, list)):
            raise TypeError(
                f"{self._call(xs)}: the rule returned {type(returned).__name__} "
                f"{shown(returned)}; it must return a tuple {shape}."
            )
        if len(returned) != self.arity + 1:
            raise ValueError(
                f"{self._call(xs)}: the rule returned {len(returned)} items, "
                f"{shown(returned)}; a {_KIND[self.arity]} op's rule returns {shape}."
            )
        for part, x in zip(shape[1:-1].split(", "), returned, strict=True):
            if not isinstance(x, numbers.Real):
                raise TypeError(
                    f"{self._call(xs)}: the rule returned {shown(returned)}; its {part} is "
                    f"{type(x).__name__} {shown(x)}, not a real number. The rule gets "
                    "floats and returns floats (math.sin(x), not a Value)."
                )
        return tuple(to_float(x, "the rule's result") for x in returned)

    def _call(self, xs: tuple[float, ...]) -> str:
        return f"{self}({', '.join(repr(x) for x in xs)})"


_KIND = {1: "unary", 2: "binary"}
