"""Each op's one statement: its value and its local derivatives, written once, read by all.

A rule is written with its inputs (a, and b for two), its result (`out`) and an
arithmetic `m`: the functions m.exp, m.log, m.tanh, m.power, m.divide, m.reciprocal and
m.where, and + - * on m's numbers. Each reader runs the same rule in its own arithmetic:

    floats        the numbers the engine's ops record beside their values (FLOATS below;
                  tests/test_rules.py checks the engine's inline formulas against them, bitwise)
    Values        a derivative that is a graph of its own: grad of grad (derivatives.py)
    text          the compiled tape's source, the backprop page's formulas (formulas.py)
    sympy, torch  the testing toolkit's oracles

    op          value                            local derivative(s)       0 where
    a + b       a + b                            1, 1
    a * b       a * b                            b, a
    a / b       out = a / b                      1 / b, -out / b
    a ** b      out = a ** b                     b * a**(b-1), out * log a b = 0; a = 0 and b >= 0
    a ** c      a ** c (c a number)              c * a**(c-1)              c = 0
    a.exp()     out = exp(a)                     out
    a.log()     log(a)                           1 / a
    a.tanh()    out = tanh(a)                    1 - out * out
    a.sigmoid() out = 1/(1 + exp(-a)), 2 forms   out * (1 - out)
    a.relu()    0 if a < 0 else a                1                         a <= 0

The last column says where a local derivative is exactly 0 (`zero`, on the inputs'
numbers, written apart because a Value's `==` is identity, not its number). Where an op
is flat in its first input (relu at or below 0, x ** 0: `flat`), that edge passes 0
even under an inf or nan gradient, as PyTorch does; elsewhere 0 * inf is nan.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tinygrad_xor import floats
from tinygrad_xor.checks import shown
from tinygrad_xor.operands import to_float

__all__ = [
    "Arithmetic",
    "FLOATS",
    "Rule",
    "PowerOp",
    "RuleOp",
    "ADD",
    "MUL",
    "DIVIDE",
    "POWER",
    "EXP",
    "LOG",
    "TANH",
    "SIGMOID",
    "RELU",
    "BUILT_IN",
]


@dataclass(frozen=True)
class Arithmetic:
    """The functions a rule may call, for one kind of number (floats, Values, text, ...).

    `where(condition, then, otherwise)` is `then if condition else otherwise`; an
    arithmetic that cannot branch on its numbers (text, sympy) keeps both branches.
    `defined(op, inputs)` is an op made by define_op: (value, *local derivatives).
    """

    exp: Callable[[Any], Any]
    log: Callable[[Any], Any]
    tanh: Callable[[Any], Any]
    power: Callable[[Any, Any], Any]
    divide: Callable[[Any, Any], Any]
    reciprocal: Callable[[Any], Any]
    where: Callable[[Any, Any, Any], Any]
    defined: Callable[[RuleOp, tuple[Any, ...]], tuple[Any, ...]]


def _where(condition: object, then: object, otherwise: object) -> object:
    return then if condition else otherwise


# The IEEE results of tinygrad_xor.floats: what the engine's ops compute.
FLOATS = Arithmetic(
    exp=floats.exp,
    log=floats.log,
    tanh=math.tanh,
    power=floats.power,
    divide=floats.divide,
    reciprocal=floats.reciprocal,
    where=_where,
    defined=lambda op, inputs: op.evaluate(*inputs),
)


class Rule(str):
    """An op as Values record it: its name (the str itself, as drawn) and its rule.

    value(m, *inputs)          the op's result
    local(m, *inputs, out)     d out / d input, for each input (where `zero` is False)
    zero(*numbers)             for each input: is d out / d input exactly 0 here?
    flat                       a zero of the first input passes 0 under any gradient
    method                     the Value method that applies it ("__add__", "tanh", ...)
    """

    arity: int
    value: Callable[..., Any]
    local: Callable[..., tuple[Any, ...]]
    zero: Callable[..., tuple[Any, ...]]  # bools on numbers; conditions in text
    flat: bool
    method: str

    @classmethod
    def of(
        cls,
        name: str,
        method: str,
        value: Callable[..., Any],
        local: Callable[..., tuple[Any, ...]],
        zero: Callable[..., tuple[Any, ...]] | None = None,
        flat: bool = False,
        arity: int = 1,
    ) -> Rule:
        rule = cls(name)
        rule.arity = arity
        rule.value = value
        rule.local = local
        rule.zero = zero or _nowhere[arity]
        rule.flat = flat
        rule.method = method
        return rule

    def floats(self, *inputs: float) -> tuple[float, tuple[float, ...]]:
        """The value and local derivatives at these numbers, as the engine records them."""
        out = self.value(FLOATS, *inputs)
        zero = self.zero(*inputs)
        local = self.local(FLOATS, *inputs, out)
        return out, tuple(0.0 if z else float(d) for z, d in zip(zero, local, strict=True))

    def is_flat(self, *inputs: float) -> bool:
        """Does the first input's edge pass 0 whatever the gradient, at these numbers?"""
        return self.flat and bool(self.zero(*inputs)[0])


_nowhere: dict[int, Callable[..., tuple[Any, ...]]] = {
    1: lambda a: (False,),
    2: lambda a, b: (False, False),
}


def _sigmoid(m: Arithmetic, a: Any) -> Any:
    e = m.exp(a)  # read only where a < 0, where it cannot overflow
    return m.where(a >= 0.0, 1.0 / (1.0 + m.exp(-a)), e / (1.0 + e))


# fmt: off
ADD = Rule.of("+", "__add__", lambda m, a, b: a + b,
              lambda m, a, b, out: (1.0, 1.0), arity=2)
MUL = Rule.of("*", "__mul__", lambda m, a, b: a * b,
              lambda m, a, b, out: (b, a), arity=2)
DIVIDE = Rule.of("/", "__truediv__", lambda m, a, b: m.divide(a, b),
                 lambda m, a, b, out: (m.reciprocal(b), -m.divide(out, b)), arity=2)
POWER = Rule.of("**", "__pow__", lambda m, a, b: m.power(a, b),
                lambda m, a, b, out: (b * m.power(a, b - 1.0), out * m.log(a)),
                zero=lambda a, b: (b == 0.0, (a == 0.0) & (b >= 0.0)), flat=True, arity=2)
EXP = Rule.of("exp", "exp", lambda m, a: m.exp(a),
              lambda m, a, out: (out,))
LOG = Rule.of("log", "log", lambda m, a: m.log(a),
              lambda m, a, out: (m.reciprocal(a),))
TANH = Rule.of("tanh", "tanh", lambda m, a: m.tanh(a),
               lambda m, a, out: (1.0 - out * out,))
SIGMOID = Rule.of("sigmoid", "sigmoid", _sigmoid,
                  lambda m, a, out: (out * (1.0 - out),))
RELU = Rule.of("relu", "relu", lambda m, a: m.where(a < 0.0, 0.0, a),
               lambda m, a, out: (1.0,), zero=lambda a: (a <= 0.0,), flat=True)
# fmt: on

# Every op the engine has, x ** c aside (PowerOp: one per exponent).
BUILT_IN: tuple[Rule, ...] = (ADD, MUL, DIVIDE, POWER, EXP, LOG, TANH, SIGMOID, RELU)


class PowerOp(Rule):
    """The op of x ** c for a number c: reads "**2", and holds c itself as `exponent`."""

    exponent: float

    @staticmethod
    @functools.lru_cache(maxsize=256)  # the name formatted once: x ** 2 takes half the time
    def of(c: float) -> PowerOp:
        c += 0.0  # -0.0 and 0.0 are one exponent (and one cache entry): "**0"
        short = f"{c:g}"
        name = f"**{short}" if float(short) == c else f"**{c!r}"  # exact: "**0.1"
        op = PowerOp(name)
        op.exponent = c
        op.arity = 1
        op.value = lambda m, a: m.power(a, c)
        op.local = lambda m, a, out: (c * m.power(a, c - 1.0),)
        op.zero = lambda a: (c == 0.0,)
        op.flat = True
        op.method = "__pow__"
        return op


class RuleOp(Rule):
    """The op of an op made by define_op: reads as its name, and holds the user's rule.

    `rule` takes `arity` floats (1 or 2) and returns the value and its derivative by each
    input: (value, d/dx) or (value, d/dx, d/dy). `evaluate` calls it and checks that.
    `derivative`, if given, takes the inputs as Values and returns d/dx (or (d/dx, d/dy))
    as Values: what differentiating the op's gradient again needs (create_graph=True).
    """

    rule: Callable[..., object]
    derivative: Callable[..., object] | None

    @staticmethod
    def of(  # type: ignore[override]
        name: str,
        rule: Callable[..., object],
        arity: int,
        derivative: Callable[..., object] | None = None,
    ) -> RuleOp:
        op = RuleOp(name)  # made once per define_op, shared by every node of that op
        op.rule = rule
        op.arity = arity
        op.derivative = derivative
        op.value = lambda m, *inputs: m.defined(op, inputs)[0]
        op.local = lambda m, *inputs_and_out: m.defined(op, inputs_and_out[:-1])[1:]
        op.zero = _nowhere[arity]
        op.flat = False
        op.method = ""
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
