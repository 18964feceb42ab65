"""Fuzz the Value engine against PyTorch float64, with mpmath at 50 digits as the judge.

    .venv/bin/python tests/fuzz_torch.py --count 100000 --seed 0    # what `make fuzz` runs
    pytest tests/test_fuzz_torch.py                                 # 2,000 of them, in the suite

A case is a random expression: a DAG of 1-8 ops over 1-3 leaves, every op of the engine
(Value op Value, Value op number, number op Value, the unary ops), nodes used twice, and
numbers drawn to land on singular points (0 and -0, 1e-300, 1e300, exp's overflow edge,
negative bases, x ** 0, relu below 0, log at 0). Both engines compute its value and every
leaf's gradient. Where they differ by more than 1e-9 relative (and 2 ulp), mpmath computes
the true numbers at 50 digits (and again at 100, to be sure) and says which engine is
closer. The method, and what "true" means at a kink or 0 * inf: docs/reliability.md.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import mpmath
from mpmath import mpf

from tinygrad_xor import Value
from tinygrad_xor.engine import topological_order

__all__ = [
    "OPS",
    "Step",
    "Expression",
    "random_expression",
    "engine_result",
    "torch_result",
    "overflowed_local_derivative",
    "Truth",
    "reference",
    "ulp_distance",
    "agree",
    "verdict",
    "within_noise",
    "Disagreement",
    "judge",
    "Report",
    "fuzz",
    "main",
]

# -- expressions --------------------------------------------------------------------------

UNARY_OPS = ("neg", "exp", "log", "tanh", "sigmoid", "relu")
BINARY_OPS = ("add", "sub", "mul", "div", "pow")  # Value op Value
NUMBER_OPS = ("add_c", "radd", "sub_c", "rsub", "mul_c", "rmul", "div_c", "rdiv")
NUMBER_OPS += ("pow_c", "rpow")  # x ** c and c ** x
OPS = UNARY_OPS + BINARY_OPS + NUMBER_OPS

SMALLEST_NORMAL = 2.2250738585072014e-308  # below it, only the subnormal floats

# Numbers on and near the engine's singular points, drawn for about half of all leaves
# and constants; the rest are ordinary numbers of any sign and scale.
SPECIAL = (
    0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, 1e-8, -1e-8, 1e8,
    1e-300, -1e-300, 1e300, -1e300, 1.7976931348623157e308, SMALLEST_NORMAL, 5e-324, 1e-310,
    709.782712893384, 710.0, -708.4, -745.2, 1.0 + 2.0**-52, 1.0 - 2.0**-53, 20.0, -40.0,
)  # fmt: skip
EXPONENTS = (
    0.0, -0.0, 1.0, 2.0, 3.0, 4.0, -1.0, -2.0, -3.0, 0.5, -0.5, 1.5, 2.5, -1.5,
    1.0 / 3.0, 0.25, 1e-17, 400.0, -400.0,
)  # fmt: skip
BASES = (0.0, 1.0, 2.0, 0.5, 10.0, math.e, -2.0, -0.5, 1e300, 1e-300)


@dataclass(frozen=True)
class Step:
    """One op: node indices a (and b for Value op Value), or the number c it takes."""

    op: str
    a: int
    b: int = -1
    c: float = 0.0


@dataclass(frozen=True)
class Expression:
    """Leaves 0..n-1 hold `leaves`; step k makes node n + k; the last node is the output."""

    leaves: tuple[float, ...]
    steps: tuple[Step, ...]

    def source(self) -> str:
        """The expression as Python statements on one line, for Value or torch alike."""
        n = len(self.leaves)
        names = [f"x{i}" for i in range(n)] + [f"v{n + k}" for k in range(len(self.steps))]
        parts = [f"{names[i]} = V({value!r})" for i, value in enumerate(self.leaves)]
        for k, step in enumerate(self.steps):
            a = names[step.a]
            b = names[step.b] if step.b >= 0 else ""
            parts.append(f"{names[n + k]} = {_step_source(step, a, b)}")
        parts.append(f"{names[-1]}.backward()")
        return "; ".join(parts)

    def reproduction(self) -> str:
        """One line that builds the expression with the engine and prints its numbers."""
        shown = ", ".join([f"v{len(self.leaves) + len(self.steps) - 1}.data"] + [
            f"x{i}.grad" for i in range(len(self.leaves))
        ])  # fmt: skip
        return f"from tinygrad_xor import Value as V; {self.source()}; print({shown})"


def _literal(c: float) -> str:
    return f"({c!r})" if math.copysign(1.0, c) < 0.0 else repr(c)


_BINARY_SOURCE = {"add": "{a} + {b}", "sub": "{a} - {b}", "mul": "{a} * {b}", "div": "{a} / {b}"}
_BINARY_SOURCE["pow"] = "{a} ** {b}"
_NUMBER_SOURCE = {
    "add_c": "{a} + {c}",
    "radd": "{c} + {a}",
    "sub_c": "{a} - {c}",
    "rsub": "{c} - {a}",
    "mul_c": "{a} * {c}",
    "rmul": "{c} * {a}",
    "div_c": "{a} / {c}",
    "rdiv": "{c} / {a}",
    "pow_c": "{a} ** {c}",
    "rpow": "{c} ** {a}",
}


def _step_source(step: Step, a: str, b: str) -> str:
    if step.op == "neg":
        return f"-{a}"
    if step.op in UNARY_OPS:
        return f"{a}.{step.op}()"
    template = _BINARY_SOURCE.get(step.op) or _NUMBER_SOURCE[step.op]
    return template.format(a=a, b=b, c=_literal(step.c))


def _number(rng: random.Random) -> float:
    if rng.random() < 0.5:
        return rng.choice(SPECIAL)
    return rng.choice((-1.0, 1.0)) * 10.0 ** rng.uniform(-4.0, 4.0)


def random_expression(rng: random.Random) -> Expression:
    """A random DAG: each op takes the newest node or, half the time, any earlier one."""
    leaves = tuple(_number(rng) for _ in range(rng.randint(1, 3)))
    steps: list[Step] = []
    for _ in range(rng.randint(1, 8)):
        count = len(leaves) + len(steps)
        a = count - 1 if rng.random() < 0.5 else rng.randrange(count)
        op = rng.choice(OPS)
        if op in BINARY_OPS:
            steps.append(Step(op, a, rng.randrange(count)))
        elif op == "pow_c":
            exponent = rng.choice(EXPONENTS) if rng.random() < 0.7 else rng.uniform(-4.0, 4.0)
            steps.append(Step(op, a, c=exponent))
        elif op == "rpow":
            base = rng.choice(BASES) if rng.random() < 0.7 else rng.uniform(-4.0, 4.0)
            steps.append(Step(op, a, c=base))
        elif op in NUMBER_OPS:
            steps.append(Step(op, a, c=_number(rng)))
        else:
            steps.append(Step(op, a))
    return Expression(leaves, tuple(steps))


# -- the two engines ------------------------------------------------------------------------


def _apply(step: Step, nodes: Sequence[Any]) -> Any:
    """One op on Values or on torch tensors: the same operators and methods serve both."""
    a, c = nodes[step.a], step.c
    op = step.op
    if op in BINARY_OPS:
        b = nodes[step.b]
        if op == "add":
            return a + b
        if op == "sub":
            return a - b
        if op == "mul":
            return a * b
        if op == "div":
            return a / b
        return a**b
    table: dict[str, Callable[[], Any]] = {
        "neg": lambda: -a,
        "exp": a.exp,
        "log": a.log,
        "tanh": a.tanh,
        "sigmoid": a.sigmoid,
        "relu": a.relu,
        "add_c": lambda: a + c,
        "radd": lambda: c + a,
        "sub_c": lambda: a - c,
        "rsub": lambda: c - a,
        "mul_c": lambda: a * c,
        "rmul": lambda: c * a,
        "div_c": lambda: a / c,
        "rdiv": lambda: c / a,
        "pow_c": lambda: a**c,
        "rpow": lambda: c**a,
    }
    return table[op]()


def engine_result(expression: Expression) -> tuple[list[float], bool]:
    """[value, d value / d leaf for each leaf] by the engine, and whether it stored a local
    derivative past the float range (see `overflowed_local_derivative`)."""
    leaves = [Value(x) for x in expression.leaves]
    nodes: list[Any] = list(leaves)
    for step in expression.steps:
        nodes.append(_apply(step, nodes))
    root = nodes[-1]
    root.backward()
    numbers = [root.data] + [leaf.grad for leaf in leaves]
    return numbers, any(overflowed_local_derivative(node) for node in topological_order(root))


def overflowed_local_derivative(node: Value) -> bool:
    """True where the engine stored an infinite local derivative whose exact value, at the
    op's own float inputs, is a finite number past 1.8e308: 1/x at a subnormal x, a/b
    with a/b^2 past the float range, e^x past it. A documented limit of storing local
    derivatives (docs/concepts.md); PyTorch, which divides the gradient instead, avoids
    some of these."""
    stored = node.local_grads
    inputs = [parent.data for parent in node.parents]
    if not any(math.isinf(d) for d in stored) or any(math.isnan(x) for x in inputs):
        return False
    ref = _Reference()
    with mpmath.workdps(50):
        x, *rest = [x if x == 0.0 else mpf(x) for x in inputs]
        op = node.op
        if op == "/":
            y = rest[0]
            exact = [ref.div(_ONE, y), ref.neg(ref.div(ref.div(x, y), y))]
        elif op == "**":
            y = rest[0]
            exact = [ref.pow_slope(x, y), ref.exponent_slope(x, y, ref.pow(x, y))]
        elif op.startswith("**"):
            c = float(op[2:])
            exact = [ref.pow_slope(x, c if c == 0.0 else mpf(c))]
        elif op == "exp":
            exact = [ref.exp(x)]
        elif op == "log":
            exact = [ref.div(_ONE, x)]
        else:
            return False
        return any(
            math.isinf(d) and (isinstance(e, float) or (e is not None and mpmath.isfinite(e)))
            for d, e in zip(stored, exact, strict=True)
        )


def torch_result(expression: Expression) -> list[float]:
    """[value, d value / d leaf for each leaf] by PyTorch, float64 tensors of shape ()."""
    import torch  # here, so the reference and the judge run where torch is not installed

    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in expression.leaves]
    nodes: list[Any] = list(leaves)
    for step in expression.steps:
        nodes.append(_apply(step, nodes))
    nodes[-1].backward()
    grads = [0.0 if leaf.grad is None else float(leaf.grad) for leaf in leaves]
    return [float(nodes[-1].detach()), *grads]


# -- the reference: exact arithmetic at 50 digits, with IEEE's infinities and signed zeros ----
#
# A number is an mpf, or a float for an exact zero (mpf has no -0.0, and the sign of a
# zero decides 1/x). Each op gives the exact result, rounded only by mpmath's precision;
# where IEEE defines a special case (x/0, log 0, 0 ** -1, pow's sign rules) it is followed.

Num = Any  # mpf, or the float 0.0 / -0.0
STRUCTURAL = None  # a local derivative that is 0 because the output does not depend on the input
_ONE, _INF, _NAN = mpf(1), mpf("inf"), mpf("nan")
_HUGE_BITS = 2000  # |x| > 2**2000: exp(x) is past any float; evaluating it costs too much


class _Reference:
    def __init__(self) -> None:
        self.approximate = False  # set when a number had to be clamped (see _HUGE_BITS)

    # number classes
    @staticmethod
    def zero(x: Num) -> bool:
        return isinstance(x, float)

    @staticmethod
    def nan(x: Num) -> bool:
        return not isinstance(x, float) and mpmath.isnan(x)

    @staticmethod
    def inf(x: Num) -> bool:
        return not isinstance(x, float) and mpmath.isinf(x)

    @staticmethod
    def negative(x: Num) -> bool:
        if isinstance(x, float):
            return math.copysign(1.0, x) < 0.0
        return bool(x < 0)

    @staticmethod
    def odd_integer(y: Num) -> bool:
        return not isinstance(y, float) and mpmath.isint(y) and not mpmath.isint(y / 2)

    def signed_zero(self, negative: bool) -> float:
        return -0.0 if negative else 0.0

    def huge(self, x: Num) -> bool:
        return not isinstance(x, float) and mpmath.isfinite(x) and mpmath.mag(x) > _HUGE_BITS

    # arithmetic
    def add(self, x: Num, y: Num) -> Num:
        if self.zero(x):
            return x + y if self.zero(y) else y
        if self.zero(y):
            return x
        s = x + y
        return 0.0 if s == 0 else s  # an exact cancellation is +0, as IEEE rounds to nearest

    def neg(self, x: Num) -> Num:
        return -x

    def mul(self, x: Num, y: Num) -> Num:
        if self.zero(x) or self.zero(y):
            if self.nan(x) or self.nan(y) or self.inf(x) or self.inf(y):
                return _NAN  # 0 * inf
            return self.signed_zero(self.negative(x) != self.negative(y))
        return x * y

    def div(self, x: Num, y: Num) -> Num:
        if self.nan(x) or self.nan(y):
            return _NAN
        if self.zero(y):
            if self.zero(x):
                return _NAN
            return -_INF if self.negative(x) != self.negative(y) else _INF
        if self.zero(x):
            return self.signed_zero(self.negative(x) != self.negative(y))
        if self.inf(y):
            return _NAN if self.inf(x) else self.signed_zero(self.negative(x) != self.negative(y))
        return x / y

    def exp(self, x: Num) -> Num:
        if self.zero(x):
            return _ONE
        if self.nan(x):
            return _NAN
        if self.inf(x) or self.huge(x):
            self.approximate = self.approximate or not self.inf(x)
            return 0.0 if x < 0 else _INF
        return mpmath.exp(x)

    def log(self, x: Num) -> Num:
        if self.zero(x):
            return -_INF
        if self.nan(x) or x < 0:
            return _NAN
        if x == 1:
            return 0.0
        return mpmath.log(x)

    def tanh(self, x: Num) -> Num:
        if self.zero(x) or self.nan(x):
            return x
        if self.inf(x) or self.huge(x):
            self.approximate = self.approximate or not self.inf(x)
            return -_ONE if x < 0 else _ONE
        return mpmath.tanh(x)

    def sigmoid(self, x: Num) -> Num:
        if self.zero(x):
            return mpf(0.5)
        if self.nan(x):
            return _NAN
        if self.inf(x) or self.huge(x):
            self.approximate = self.approximate or not self.inf(x)
            return 0.0 if x < 0 else _ONE
        return 1 / (1 + mpmath.exp(-x))

    def relu(self, x: Num) -> Num:
        if self.zero(x) or self.nan(x):
            return x  # relu(-0.0) is -0.0, as in the engine and PyTorch
        return 0.0 if x < 0 else x

    def pow(self, x: Num, y: Num) -> Num:
        """x ** y as IEEE 754's pow (C99 Annex F) defines it, exactly."""
        if self.zero(y) or (not self.zero(x) and x == 1):
            return _ONE
        if self.nan(x) or self.nan(y):
            return _NAN
        odd = self.odd_integer(y)
        if self.zero(x):
            if y < 0:
                return -_INF if (odd and self.negative(x)) else _INF
            return x if odd else 0.0
        if self.inf(y):
            if x == -1:
                return _ONE
            return _INF if (y > 0) == (abs(x) > 1) else 0.0
        if self.inf(x):
            if x > 0:
                return _INF if y > 0 else 0.0
            if y > 0:
                return -_INF if odd else _INF
            return -0.0 if odd else 0.0
        if x < 0 and not mpmath.isint(y):
            return _NAN
        if mpmath.mag(y) + mpmath.mag(mpmath.log(abs(x), 2)) > _HUGE_BITS:
            self.approximate = True
            big = (y > 0) == (abs(x) > 1)
            sign = x < 0 and odd
            return (-_INF if sign else _INF) if big else self.signed_zero(sign)
        return mpmath.power(x, y)

    # derivatives
    def tanh_slope(self, x: Num) -> Num:
        if self.zero(x):
            return _ONE
        if self.nan(x):
            return _NAN
        if self.inf(x) or self.huge(x):
            self.approximate = self.approximate or not self.inf(x)
            return 0.0
        return mpmath.sech(x) ** 2  # not 1 - tanh^2, which cancels for large x

    def sigmoid_slope(self, x: Num) -> Num:
        if self.zero(x):
            return mpf(0.25)
        if self.nan(x):
            return _NAN
        if self.inf(x) or self.huge(x):
            self.approximate = self.approximate or not self.inf(x)
            return 0.0
        return 1 / ((1 + mpmath.exp(-x)) * (1 + mpmath.exp(x)))  # s(x) * s(-x), no cancelling

    def step(self, step: Step, values: Sequence[Num]) -> tuple[Num, list[tuple[int, Num]]]:
        """An op's exact value and its (input, local derivative) pairs; STRUCTURAL marks the
        zeros that hold on a whole neighbourhood (relu below 0, x ** 0, 0 ** y for y > 0)
        or by the documented convention at a kink (relu'(0) = 0, d(0 ** y)/dy = 0 at y = 0)."""
        op, a = step.op, step.a
        x = values[a]
        c: Num = mpf(step.c) if step.c != 0.0 else step.c
        if op in BINARY_OPS:
            b = step.b
            y = values[b]
            if op == "add":
                return self.add(x, y), [(a, _ONE), (b, _ONE)]
            if op == "sub":
                return self.add(x, self.neg(y)), [(a, _ONE), (b, -_ONE)]
            if op == "mul":
                return self.mul(x, y), [(a, y), (b, x)]
            if op == "div":
                q = self.div(x, y)
                return q, [(a, self.div(_ONE, y)), (b, self.neg(self.div(q, y)))]
            out = self.pow(x, y)
            return out, [(a, self.pow_slope(x, y)), (b, self.exponent_slope(x, y, out))]
        if op in ("add_c", "radd"):
            return self.add(x, c), [(a, _ONE)]
        if op == "sub_c":
            return self.add(x, self.neg(c)), [(a, _ONE)]
        if op == "rsub":
            return self.add(c, self.neg(x)), [(a, -_ONE)]
        if op in ("mul_c", "rmul"):
            return self.mul(x, c), [(a, c)]
        if op == "div_c":
            return self.div(x, c), [(a, self.div(_ONE, c))]
        if op == "rdiv":
            q = self.div(c, x)
            return q, [(a, self.neg(self.div(q, x)))]
        if op == "pow_c":
            return self.pow(x, c), [(a, self.pow_slope(x, c))]
        if op == "rpow":
            out = self.pow(c, x)
            return out, [(a, self.exponent_slope(c, x, out))]
        if op == "neg":
            return self.neg(x), [(a, -_ONE)]
        if op == "exp":
            out = self.exp(x)
            return out, [(a, out)]
        if op == "log":
            return self.log(x), [(a, self.div(_ONE, x))]
        if op == "tanh":
            return self.tanh(x), [(a, self.tanh_slope(x))]
        if op == "sigmoid":
            return self.sigmoid(x), [(a, self.sigmoid_slope(x))]
        if op == "relu":
            below = self.zero(x) or (not self.nan(x) and x < 0)
            return self.relu(x), [(a, STRUCTURAL if below else _ONE)]
        raise ValueError(f"unknown op {op!r}")

    def pow_slope(self, x: Num, y: Num) -> Num:
        """d(x ** y)/dx = y * x ** (y - 1); structurally 0 where y = 0 (x ** 0 is 1)."""
        if self.zero(y):
            return STRUCTURAL
        return self.mul(y, self.pow(x, self.add(y, -_ONE)))

    def exponent_slope(self, x: Num, y: Num, out: Num) -> Num:
        """d(x ** y)/dy = x ** y * log x; structurally 0 where x = 0 and y >= 0."""
        if self.zero(x) and (self.zero(y) or (not self.nan(y) and y > 0)):
            return STRUCTURAL
        return self.mul(out, self.log(x))


# How much of a local derivative the engines compute from the op's rounded output (exp's
# e^x, tanh's 1 - t^2, sigmoid's s(1 - s), -q/y for a quotient q, x^y log x for a power):
# d(local derivative)/d(output), per op and input side.
def _output_slope(ref: _Reference, step: Step, out: Num, values: Sequence[Num]) -> list[Num]:
    x = values[step.a]
    absolute = _magnitude
    if step.op == "exp":
        return [_ONE]
    if step.op == "tanh":
        return [2 * absolute(out)]
    if step.op == "sigmoid":
        return [absolute(ref.add(_ONE, ref.mul(mpf(-2), out)))]
    if step.op == "div":
        return [mpf(0), _inverse(absolute(values[step.b]))]
    if step.op == "rdiv":
        return [_inverse(absolute(x))]
    if step.op == "pow":
        return [mpf(0), absolute(ref.log(x))]
    if step.op == "rpow":
        return [absolute(ref.log(mpf(step.c)))]
    return [mpf(0), mpf(0)]


def _magnitude(x: Num) -> Any:
    """|x| as an mpf; nan (an unknown size) as inf."""
    if isinstance(x, float):
        return mpf(0)
    return _INF if mpmath.isnan(x) else abs(x)


_ULP = mpf(2) ** -52  # what one rounding may cost (libm's exp, log, pow: within 1 ulp)
_SMALLEST = mpf(2) ** -1074  # the spacing of the subnormal floats
_LARGEST = mpf(1.7976931348623157e308)


def _rounding(x: Num) -> Any:
    """The error of giving the exact x as a float64: 0 where it is one already."""
    if isinstance(x, float) or x is STRUCTURAL:
        return mpf(0)
    if mpmath.isnan(x):
        return _INF
    if mpf(float(x)) == x:
        return mpf(0)
    return _ULP * abs(x) + _SMALLEST


def _inverse(x: Any) -> Any:
    """1 / x for a magnitude, inf for 0."""
    return _INF if x == 0 else 1 / x


def _times(x: Any, y: Any) -> Any:
    """x * y for magnitudes, where 0 times anything (inf too) is 0."""
    return mpf(0) if x == 0 or y == 0 else x * y


def _change(new: Num, old: Num) -> Any:
    """|new - old|, for numbers or STRUCTURAL (a zero); inf unless both are the same infinity."""
    new = mpf(0) if new is STRUCTURAL else new
    old = mpf(0) if old is STRUCTURAL else old
    if isinstance(new, float) and isinstance(old, float):
        return mpf(0)
    new, old = mpf(new), mpf(old)
    if not (mpmath.isfinite(new) and mpmath.isfinite(old)):
        return mpf(0) if new == old else _INF
    return abs(new - old)


@dataclass
class Truth:
    """The exact [value, d value / d leaf ...] and the rounding noise of each.

    noise: the first-order bound on the error of any float64 evaluation of the same ops --
    each op rounding its result by 1 ulp (2**-52 relative), local derivatives computed from
    the rounded inputs and outputs, each product and sum of the backward pass rounding once.
    Two engines may differ anywhere inside it without either one being at fault.
    """

    numbers: list[Num]
    noise: list[Any]
    approximate: bool  # a number past 2**2000 was clamped: the truth is not exact


def reference(expression: Expression, digits: int = 50) -> Truth:
    """The true value and gradients, by reverse mode on the exact numbers.

    A STRUCTURAL local derivative passes nothing, and a node that received nothing (every
    path to the output structurally zero) passes nothing on; every other product is
    exact, 0 * inf included (undefined: nan).
    """
    ref, shifted_ref = _Reference(), _Reference()  # shifted_ref: for the moved inputs
    with mpmath.workdps(digits):
        values: list[Num] = [x if x == 0.0 else mpf(x) for x in expression.leaves]
        noise: list[Any] = [mpf(0) for _ in expression.leaves]
        edges: list[list[tuple[int, Num, Any]]] = [[] for _ in expression.leaves]
        for step in expression.steps:
            value, local = ref.step(step, values)
            out_slope = _output_slope(ref, step, value, values)
            value_noise = _rounding(value)
            local_noise = [
                _rounding(d) + _times(out_slope[k], value_noise) for k, (_, d) in enumerate(local)
            ]
            for j in {i for i, _ in local}:  # each input moved either way by its own noise
                if noise[j] == 0:
                    continue
                if not mpmath.isfinite(noise[j]):
                    value_noise, local_noise = _INF, [_INF for _ in local]
                    continue
                for shift in (noise[j], -noise[j]):
                    moved = list(values)
                    moved[j] = ref.add(values[j], shift)
                    moved_value, moved_local = shifted_ref.step(step, moved)
                    value_noise += _change(moved_value, value)
                    for k, ((_, d), (_, moved_d)) in enumerate(
                        zip(local, moved_local, strict=True)
                    ):
                        local_noise[k] += _change(moved_d, d)
            values.append(value)
            noise.append(value_noise)
            edges.append([(i, d, e) for (i, d), e in zip(local, local_noise, strict=True)])
        root = len(values) - 1
        needed = {root}
        for k in range(root, -1, -1):
            if k in needed:
                needed.update(i for i, _, _ in edges[k])
        grads: list[Num | None] = [None] * len(values)
        grad_noise: list[Any] = [mpf(0)] * len(values)
        terms: list[list[Any]] = [[] for _ in values]  # |each term| summed into a gradient
        grads[root] = _ONE
        for k in range(root, -1, -1):
            # Summing n terms in any order rounds by at most (n - 1) ulp of their |sum|.
            grad_noise[k] += _ULP * max(len(terms[k]) - 1, 0) * sum(terms[k], mpf(0))
            g = grads[k]
            if k not in needed or g is None:
                continue
            size = _magnitude(g)
            for i, local, local_noise in edges[k]:
                grad_noise[i] += _times(size, local_noise)
                if local is STRUCTURAL:
                    continue
                term = ref.mul(local, g)
                grad_noise[i] += _times(_magnitude(local), grad_noise[k]) + _rounding(term)
                terms[i].append(_magnitude(term))
                previous = grads[i]
                grads[i] = term if previous is None else ref.add(previous, term)
        leaves = range(len(expression.leaves))
        numbers = [values[root], *(0.0 if grads[i] is None else grads[i] for i in leaves)]
        bounds = [noise[root], *(grad_noise[i] for i in leaves)]
    return Truth(numbers, bounds, ref.approximate)


# -- judging ----------------------------------------------------------------------------------

AGREE, OURS_CLOSER, TORCH_CLOSER, BOTH_NON_FINITE, EQUALLY_FAR = (
    "agree",
    "we are closer",
    "torch is closer",
    "both non-finite",
    "equally far",
)
ULP_MARGIN = 2.0  # "torch is closer" counts as a failure only by more than this many ulp
RELATIVE = 1e-9  # closer than this, the two engines agree


def _ulp(t: Any) -> Any:
    """The spacing of float64 at the exact number t (2**-1074 below the normal range)."""
    if t == 0:
        return mpf(2) ** -1074
    _, _, exp, bits = t._mpf_
    return mpf(2) ** max(exp + bits - 1 - 52, -1074)


def ulp_distance(x: float, truth: Num) -> float:
    """How far the float x is from the exact truth, in float64 ulps at the truth.

    0 where x is what rounding the truth gives for a non-finite answer (inf for a truth
    past the float range); inf where x is nan or infinite and the truth is not, or the
    truth is undefined (nan) and x is a number.
    """
    t = mpf(truth) if isinstance(truth, float) else truth
    if mpmath.isnan(t):
        return 0.0 if math.isnan(x) else math.inf
    if math.isnan(x):
        return math.inf
    rounded = float(t)
    if math.isinf(x) or math.isinf(rounded):
        return 0.0 if x == rounded else math.inf
    with mpmath.workdps(30):
        return float(abs(mpf(x) - t) / _ulp(t))


def agree(ours: float, theirs: float) -> bool:
    """Equal, both nan, or within 1e-9 relative or 2 ulp of each other."""
    if ours == theirs or (math.isnan(ours) and math.isnan(theirs)):
        return True
    if not (math.isfinite(ours) and math.isfinite(theirs)):
        return False
    gap = abs(ours - theirs)
    return gap <= RELATIVE * max(abs(ours), abs(theirs)) or gap <= ULP_MARGIN * math.ulp(
        max(abs(ours), abs(theirs))
    )


def verdict(ours: float, theirs: float, truth: Num) -> tuple[str, float]:
    """Which of two disagreeing results is closer to the truth, and by how many ulp."""
    mine, torch_distance = ulp_distance(ours, truth), ulp_distance(theirs, truth)
    if mine < torch_distance:
        return OURS_CLOSER, torch_distance - mine
    if torch_distance < mine:
        return TORCH_CLOSER, mine - torch_distance
    if not (math.isfinite(ours) or math.isfinite(theirs)):
        return BOTH_NON_FINITE, 0.0
    return EQUALLY_FAR, 0.0


def within_noise(x: float, truth: Num, noise: Any) -> bool:
    """x is a finite number no farther from the truth than the expression's rounding noise,
    or anything at all where that noise is past the float range (float64 cannot hold it)."""
    t = mpf(truth) if isinstance(truth, float) else truth
    if mpmath.isnan(t):
        return False
    if t != 0 and not (mpmath.isfinite(noise) and noise <= _LARGEST):
        return True
    if not (math.isfinite(x) and mpmath.isfinite(noise) and mpmath.isfinite(t)):
        return False
    return bool(abs(mpf(x) - t) <= noise)


# Why a case where torch is closer does not count against us, checked in this order.
UNSETTLED = "the 50- and 100-digit references differ, or a number was clamped"
NOISE = "ours is within the expression's rounding noise"
LIMITATION = "a local derivative past the float range (documented limit)"


def _shown(x: Num) -> str:
    """An exact number in a few characters: 17 digits, or its power of 2 when that is huge."""
    if isinstance(x, float) or not mpmath.isfinite(x) or abs(mpmath.mag(x)) < 4000:
        return repr(x) if isinstance(x, float) else mpmath.nstr(x, 17)
    return f"{'-' if x < 0 else ''}2**({mpmath.nstr(mpf(mpmath.mag(x)), 4)})"


@dataclass
class Disagreement:
    """One number of one expression on which the engines differ, and the judgment."""

    expression: Expression
    index: int  # 0: the value; i + 1: d value / d leaf i
    ours: float
    theirs: float
    truth: Num
    noise: Any
    category: str
    margin: float  # ulp by which the closer one is closer (inf: the other is non-finite)
    excuse: str  # LIMITATION, UNSETTLED, NOISE, or "" (none)

    def quantity(self) -> str:
        return "value" if self.index == 0 else f"d/dx{self.index - 1}"

    def describe(self) -> str:
        truth = _shown(self.truth)
        closer = f", closer by {self.margin:.3g} ulp" if 0.0 < self.margin < math.inf else ""
        excuse = f" [{self.excuse}]" if self.excuse and self.category == TORCH_CLOSER else ""
        return (
            f"  {self.quantity()}: ours {self.ours!r}, torch {self.theirs!r}, true {truth}"
            f"{closer}{excuse}\n    {self.expression.reproduction()}"
        )

    @property
    def counts_against_us(self) -> bool:
        """Torch closer by more than 2 ulp, with nothing that explains it: the goal is none."""
        return self.category == TORCH_CLOSER and self.margin > ULP_MARGIN and not self.excuse


_SEVERITY = [TORCH_CLOSER, OURS_CLOSER, BOTH_NON_FINITE, EQUALLY_FAR]


def judge(expression: Expression) -> tuple[str, list[Disagreement]]:
    """Run both engines on one expression; where they disagree, ask mpmath."""
    ours, overflowed = engine_result(expression)
    theirs = torch_result(expression)
    differing = [i for i, (o, t) in enumerate(zip(ours, theirs, strict=True)) if not agree(o, t)]
    if not differing:
        return AGREE, []
    truth = reference(expression, 50)
    check = reference(expression, 100)
    found = []
    for i in differing:
        category, margin = verdict(ours[i], theirs[i], truth.numbers[i])
        settled = not (truth.approximate or check.approximate) and (
            verdict(ours[i], theirs[i], check.numbers[i])[0] == category
        )
        excuse = ""
        if not settled:
            excuse = UNSETTLED
        elif within_noise(ours[i], truth.numbers[i], truth.noise[i]):
            excuse = NOISE
        elif overflowed:
            excuse = LIMITATION
        found.append(
            Disagreement(
                expression,
                i,
                ours[i],
                theirs[i],
                truth.numbers[i],
                truth.noise[i],
                category,
                margin,
                excuse,
            )
        )
    worst = min(_SEVERITY.index(d.category) for d in found)
    return _SEVERITY[worst], found


@dataclass
class Report:
    """The counts over all expressions (each counted once, by its most severe number)."""

    count: int = 0
    seed: int = 0
    seconds: float = 0.0
    expressions: Counter[str] = field(default_factory=Counter)
    numbers: Counter[str] = field(default_factory=Counter)
    disagreements: list[Disagreement] = field(default_factory=list)

    @property
    def failures(self) -> list[Disagreement]:
        """Torch closer by more than 2 ulp, with nothing that explains it: the goal is none."""
        return [d for d in self.disagreements if d.counts_against_us]

    def text(self, examples: int = 5) -> str:
        lines = [
            f"{self.count} random expressions (seed {self.seed}) against PyTorch float64, "
            f"{self.seconds:.0f} s; every disagreement judged by mpmath at 50 digits.",
            "",
            "expressions (each counted once, by its most severe number):",
        ]
        for category in [AGREE, *_SEVERITY]:
            lines.append(f"  {category:<17} {self.expressions[category]:>7}")
        lines.append("numbers compared (values and gradients):")
        for category in [AGREE, *_SEVERITY]:
            lines.append(f"  {category:<17} {self.numbers[category]:>7}")
        over = [
            d for d in self.disagreements if d.category == TORCH_CLOSER and d.margin > ULP_MARGIN
        ]
        lines += ["", f"torch closer by more than {ULP_MARGIN:g} ulp: {len(over)} numbers"]
        for excuse in (UNSETTLED, NOISE, LIMITATION):
            lines.append(f"  {sum(d.excuse == excuse for d in over):>5}  {excuse}")
        lines.append(f"  {len(self.failures):>5}  counted against us (the goal: 0)")

        def worst_first(category: str) -> list[Disagreement]:
            cases = [d for d in self.disagreements if d.category == category]
            return sorted(cases, key=lambda d: (not d.counts_against_us, -d.margin))

        for title, category in [
            ("torch is closer, counted against us first, worst first", TORCH_CLOSER),
            ("we are closer, worst for torch first", OURS_CLOSER),
            ("both non-finite", BOTH_NON_FINITE),
            ("equally far", EQUALLY_FAR),
        ]:
            cases = worst_first(category)
            if cases:
                lines += ["", f"{title} ({len(cases)}; up to {examples} shown):"]
                lines += [d.describe() for d in cases[:examples]]
        return "\n".join(lines)


def fuzz(count: int, seed: int = 0) -> Report:
    """Generate `count` expressions from `seed` and judge each."""
    rng = random.Random(seed)
    report = Report(count=count, seed=seed)
    start = time.perf_counter()
    for _ in range(count):
        expression = random_expression(rng)
        category, found = judge(expression)
        report.expressions[category] += 1
        report.numbers[AGREE] += len(expression.leaves) + 1 - len(found)
        for d in found:
            report.numbers[d.category] += 1
        report.disagreements += found
    report.seconds = time.perf_counter() - start
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="expressions (100000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--examples", type=int, default=5, help="shown per category (5)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error(f"--count must be at least 1, got {args.count}")
    import torch

    torch.set_num_threads(1)  # scalars: threads only add overhead
    report = fuzz(args.count, args.seed)
    print(report.text(args.examples))
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
