"""Value: one float, the graph that made it, and reverse-mode autodiff.

A Value holds a number (`data`) and, once `backward()` has run, the derivative of
the root with respect to it (`grad`). Every op returns a new Value that remembers
its inputs -- at most two, `a` and `b` -- and the *local* derivative of its output
with respect to each, `da` and `db`. An op computes its value and its local
derivatives in the same few lines, when it runs:

    a * b   value a*b     da = b       db = a
    a / b   value q = a/b da = 1/b     db = -q/b
    tanh(a) value t       da = 1 - t*t

`backward()` walks the graph from the root back to the leaves, in reverse
topological order, and applies the chain rule on every edge:

    input.grad += local derivative * output.grad

Gradients, as in PyTorch: the root is seeded with 1.0; leaves (Values you made
yourself) accumulate across calls, so call `zero_grad` between steps; interior
nodes hold the gradient of the latest call only.

Numerics, as PyTorch float64: no op raises a math error. Results follow IEEE 754,
so x/0 = +-inf, 0/0 = nan, log(0) = -inf, log(-1) = nan, exp(1000) = inf,
0 ** -1 = inf, (-8) ** 0.5 = nan, and the same holds for the derivatives. A
non-finite number flows on through later ops; the trainer stops on a non-finite
loss. sigmoid and tanh never overflow, anywhere in the float range (+-1e308),
and relu'(0) = 0, as in PyTorch. Where the output does not depend on an input --
relu at or below 0, x ** 0 -- its 0 derivative passes 0 even when the gradient
from above is inf or nan (not 0 * inf = nan), as PyTorch masks it.

Operands must be Values or real numbers (int, float, numpy scalars); anything
else (a str, None, a complex, a list) raises TypeError saying what it received.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Iterable
from typing import TypeAlias

__all__ = ["Value", "topological_order"]

Operand: TypeAlias = "Value | int | float"

_INF = math.inf
_NAN = math.nan


# -- IEEE-754 versions of the float operations Python would raise on ---------------


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:  # only for large positive x: the true value is past 1.8e308
        return _INF


def _log(x: float) -> float:
    if x > 0.0:
        return math.log(x)
    if x == 0.0:
        return -_INF
    return _NAN  # negative, -inf or nan


def _reciprocal(x: float) -> float:
    try:
        return 1.0 / x
    except ZeroDivisionError:
        return math.copysign(_INF, x)  # 1/+0 = inf, 1/-0 = -inf


def _divide(x: float, y: float) -> float:
    try:
        return x / y
    except ZeroDivisionError:  # x/+-0: inf signed by both signs; 0/0 and nan/0: nan
        if x == 0.0 or x != x:
            return _NAN
        return math.copysign(_INF, x) * math.copysign(1.0, y)


def _is_odd_integer(y: float) -> bool:
    return y.is_integer() and y % 2.0 == 1.0


def _pow(x: float, y: float) -> float:
    """x ** y as C's pow (and PyTorch) give it: inf and nan instead of exceptions."""
    try:
        return math.pow(x, y)
    except OverflowError:  # |x ** y| is past the float range; negative only for x < 0, odd y
        return -_INF if x < 0.0 and _is_odd_integer(y) else _INF
    except ValueError:  # zero to a negative power, or a negative base to a fractional power
        if x == 0.0:
            return math.copysign(_INF, x) if _is_odd_integer(y) else _INF
        return _NAN


# -- operands ---------------------------------------------------------------------


def _conversion_hint(received: object) -> str:
    if isinstance(received, Value):  # where only a plain number will do
        return "Pass its number, v.data."
    if isinstance(received, str):
        return "Convert the text first: Value(float(text))."
    if isinstance(received, complex):
        return "A Value holds one real number: use x.real, or abs(x) for the magnitude."
    if isinstance(received, (list, tuple)) or hasattr(received, "__len__"):
        return "A Value holds one number: make one per element, [Value(x) for x in xs]."
    if received is None:
        return "Check where the None came from: a function that returned nothing?"
    return "Pass a Value, an int or a float."


def _operand_error(
    received: object, where: str, expected: str = "a Value or a real number (int or float)"
) -> TypeError:
    shown = repr(received)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return TypeError(
        f"{where}: expected {expected}, "
        f"got {type(received).__name__} {shown}. {_conversion_hint(received)}"
    )


def _real_to_float(x: numbers.Real) -> float:
    try:
        return float(x)
    except OverflowError:  # an int (or Fraction) past 1.8e308: IEEE rounds it to +-inf
        return -_INF if x < 0 else _INF


def _as_float(
    x: object, where: str, expected: str = "a Value or a real number (int or float)"
) -> float:
    """The float a plain real number stands for; TypeError for anything else."""
    if type(x) is float:  # the common case, without the slower abstract-class check
        return x
    if isinstance(x, numbers.Real):  # int, bool, numpy scalars, Fraction
        return _real_to_float(x)
    raise _operand_error(x, where, expected)


def _leaf_number(x: object) -> float:
    """The number a new leaf holds: Value(data) takes a real number, not a Value."""
    if isinstance(x, Value):
        raise TypeError(
            f"Value(data): expected a real number (int or float), got a Value ({x!r}). "
            "Use that Value directly, or Value(v.data) for a new leaf with its number."
        )
    return _as_float(x, "Value(data)", expected="a real number (int or float)")


def _checked_label(label: object) -> str:
    if isinstance(label, tuple):
        raise TypeError(
            f"Value(data, label): the second argument is a label (a str), got a tuple "
            f"{label!r}. micrograd's Value(data, _children, _op) builds op nodes by hand; here "
            "every op is a method or operator (a * b, x.tanh()) that records its inputs itself."
        )
    if not isinstance(label, str):
        raise TypeError(
            f"Value(label=...): expected a str, got {type(label).__name__} {label!r}. "
            "Labels are names for drawing, e.g. Value(0.5, label='w1')."
        )
    return label


def _as_value(x: object, where: str) -> Value:
    """Wrap a plain number as a constant leaf, as micrograd does."""
    if isinstance(x, Value):
        return x
    return _node(_as_float(x, where), "", None, 0.0)  # a constant: a leaf with no inputs


def _checked(x: object, where: str) -> Value | float:
    """x itself if it is a Value, else x as a float; TypeError for anything else."""
    return x if isinstance(x, Value) else _as_float(x, where)


@functools.lru_cache(maxsize=256)
def _pow_op_name(exponent: float) -> str:
    """ "**2" for x ** 2: short when that is exact, else every digit ("**0.3333333333333333"),
    so the op names its exponent exactly. Cached: formatting costs more than the op."""
    short = f"{exponent:g}"
    return f"**{short}" if float(short) == exponent else f"**{exponent!r}"


_new_value = object.__new__


def _node(
    data: float, op: str, a: Value | None, da: float, b: Value | None = None, db: float = 0.0
) -> Value:
    """The result of an op: its value, and each input with its local derivative."""
    # Built without __init__: ops always pass a float, so its checks would be wasted
    # on the hot path (a measured 20% of an op's time).
    out = _new_value(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._op = op
    out._a = a
    out._da = da
    out._b = b
    out._db = db
    return out


class Value:
    """A float that remembers how it was computed, so it can be differentiated.

    >>> a, b = Value(2.0, "a"), Value(-3.0, "b")
    >>> y = a * b + a
    >>> y.backward()
    >>> y.data, a.grad, b.grad
    (-4.0, -2.0, 2.0)
    """

    # Eight slots and no per-node containers: an op node costs about 120-145
    # bytes (micrograd's closure + set per node: about 585).
    __slots__ = ("data", "grad", "label", "_op", "_a", "_da", "_b", "_db")

    data: float
    grad: float
    label: str
    _op: str
    _a: Value | None
    _da: float
    _b: Value | None
    _db: float

    def __init__(self, data: float, label: str = "") -> None:
        self.data = _leaf_number(data)
        self.grad = 0.0
        self.label = _checked_label(label)
        self._op = ""
        self._a = None
        self._da = 0.0
        self._b = None
        self._db = 0.0

    # -- what made this Value -------------------------------------------------------

    @property
    def op(self) -> str:
        """The op that produced this Value; "" for a leaf."""
        return self._op

    @property
    def parents(self) -> tuple[Value, ...]:
        """The op's inputs, in order: () for a leaf, (a,) or (a, b)."""
        if self._a is None:
            return ()
        if self._b is None:
            return (self._a,)
        return (self._a, self._b)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d self / d parent, for each parent in order."""
        if self._a is None:
            return ()
        if self._b is None:
            return (self._da,)
        return (self._da, self._db)

    @property
    def _prev(self) -> tuple[Value, ...]:
        # The name micrograd's drawing code reads, so a copied draw_dot still runs.
        return self.parents

    @property
    def is_leaf(self) -> bool:
        """True for a Value made directly (an input, a weight, a constant)."""
        return self._a is None

    # -- primitives: value and local derivative(s) side by side ---------------------

    def __add__(self, other: Operand) -> Value:
        if type(other) is not Value:
            other = _as_value(other, "Value + other")
        return _node(self.data + other.data, "+", self, 1.0, other, 1.0)

    def __mul__(self, other: Operand) -> Value:
        if type(other) is not Value:
            other = _as_value(other, "Value * other")
        return _node(self.data * other.data, "*", self, other.data, other, self.data)

    def __pow__(self, exponent: Operand) -> Value:
        if isinstance(exponent, Value):
            return self._pow_value(exponent)
        c = _as_float(exponent, "Value ** exponent")
        x = self.data
        # d(x**c)/dx = c * x**(c-1); for c = 0 the output is constant, so 0 (as PyTorch).
        local = c * _pow(x, c - 1.0) if c != 0.0 else 0.0
        return _node(_pow(x, c), _pow_op_name(c), self, local)

    def __truediv__(self, other: Operand) -> Value:
        # A primitive, not micrograd's a * b**-1: 1/b overflows for tiny b where a/b is
        # finite (1e-300 / 1e-310 = 1e10), and a * (1/b) is one rounding away from a/b
        # for about a quarter of all pairs (measured against PyTorch).
        if type(other) is not Value:
            other = _as_value(other, "Value / other")
        x, y = self.data, other.data
        quotient = _divide(x, y)
        # d(x/y)/dx = 1/y, d(x/y)/dy = -x/y^2, written -(x/y)/y as PyTorch does
        return _node(quotient, "/", self, _reciprocal(y), other, -_divide(quotient, y))

    def _pow_value(self, exponent: Value) -> Value:
        x, y = self.data, exponent.data
        out = _pow(x, y)
        dx = y * _pow(x, y - 1.0) if y != 0.0 else 0.0
        # d(x**y)/dy = x**y * log(x); PyTorch takes it as 0 where x = 0 and y >= 0.
        dy = 0.0 if (x == 0.0 and y >= 0.0) else out * _log(x)
        return _node(out, "**", self, dx, exponent, dy)

    def exp(self) -> Value:
        out = _exp(self.data)
        return _node(out, "exp", self, out)  # d(e^x)/dx = e^x

    def log(self) -> Value:
        x = self.data
        return _node(_log(x), "log", self, _reciprocal(x))  # d(log x)/dx = 1/x

    def tanh(self) -> Value:
        t = math.tanh(self.data)  # math.tanh saturates to +-1 without overflowing
        return _node(t, "tanh", self, 1.0 - t * t)

    def sigmoid(self) -> Value:
        x = self.data
        # Two forms so exp never overflows: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) below.
        if x >= 0.0:
            s = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            s = e / (1.0 + e)
        return _node(s, "sigmoid", self, s * (1.0 - s))

    def relu(self) -> Value:
        x = self.data
        # Written so that nan stays nan with slope 1, and relu'(0) = 0, as torch.relu.
        return _node(0.0 if x < 0.0 else x, "relu", self, 0.0 if x <= 0.0 else 1.0)

    # -- derived ops: one line each, built from the primitives ------------------------

    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Operand) -> Value:
        return self + (-_checked(other, "Value - other"))

    def __radd__(self, other: Operand) -> Value:
        return _as_value(other, "Value + other") + self

    def __rsub__(self, other: Operand) -> Value:
        return _checked(other, "Value - other") + (-self)

    def __rmul__(self, other: Operand) -> Value:
        return _as_value(other, "Value * other") * self

    def __rtruediv__(self, other: Operand) -> Value:
        return _as_value(other, "other / Value") / self

    def __rpow__(self, base: Operand) -> Value:
        return _as_value(base, "base ** Value") ** self

    # -- backpropagation -------------------------------------------------------------

    def backward(self, grad: float = 1.0) -> None:
        """Fill in d self / d v as v.grad for every Value v this one depends on.

        `grad` is the upstream gradient d loss / d self (1.0 when self is the loss).
        """
        seed = _as_float(grad, "backward(grad)", expected="a real number, d loss / d self")
        order = topological_order(self)
        # This call's gradient is summed from zero everywhere. Interior nodes keep
        # just that; leaves get it added to what earlier calls left, as one sum --
        # so two calls give exactly twice the leaf grads, as in PyTorch.
        earlier: list[tuple[Value, float]] = []
        for node in order:
            if node._a is None and node.grad != 0.0:
                earlier.append((node, node.grad))
            node.grad = 0.0
        self.grad = seed
        # Reverse order: a node's grad is complete (every use of it has added its
        # share) before it is passed on to its inputs.
        for node in reversed(order):
            a = node._a
            if a is not None:
                g = node.grad
                if g - g == 0.0:  # g is finite (inf - inf is nan): the common case
                    a.grad += node._da * g
                    b = node._b
                    if b is not None:
                        b.grad += node._db * g
                else:  # inf or nan from above: a structural zero must pass 0, not nan
                    _pass_non_finite(node, a, g)
        for leaf, earlier_grad in earlier:
            leaf.grad = earlier_grad + leaf.grad

    def zero_grad(self) -> None:
        """Set grad to 0.0 for this Value and every Value it depends on."""
        for node in topological_order(self):
            node.grad = 0.0

    def item(self) -> float:
        """The plain float, as torch.Tensor.item()."""
        return self.data

    def _repr_mimebundle_(
        self,
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        **_: object,
    ) -> dict[str, str]:
        """Jupyter shows a Value as the graph that made it (SVG), or as text when it cannot."""
        from tinygrad_xor.graph import value_mimebundle  # lazy: the engine needs only the stdlib

        return value_mimebundle(self, include, exclude)

    def __repr__(self) -> str:
        if self.label:
            return f"Value(data={self.data!r}, grad={self.grad!r}, label={self.label!r})"
        return f"Value(data={self.data!r}, grad={self.grad!r})"


def _pass_non_finite(node: Value, a: Value, g: float) -> None:
    """backward() on one node whose gradient g is inf or nan.

    A structural zero -- a local derivative that is 0 because the output does not depend
    on the input: relu at or below 0, x ** 0, and x ** y's base where y = 0 -- passes 0
    instead of 0 * inf = nan, as PyTorch masks it. Every other local derivative is
    multiplied as usual.
    """
    b = node._b
    op = node._op
    constant = node._da == 0.0 and (
        op in _ZERO_SLOPE_OPS or (op == "**" and b is not None and b.data == 0.0)
    )
    if not constant:
        a.grad += node._da * g
    if b is not None:
        b.grad += node._db * g


# relu (its slope is 0.0 exactly at or below 0) and x ** 0 (whichever zero names it).
_ZERO_SLOPE_OPS = ("relu", "**0", "**-0")


def topological_order(root: Value) -> list[Value]:
    """Every Value root depends on, each listed after all of its inputs.

    Depth-first with an explicit stack instead of recursion, so a chain of a
    million ops needs no more than Python's default recursion limit. The stack
    is always a path: each node on it is an input of the node below it. The top
    node is listed once both its inputs have been visited -- in a graph without
    cycles, a visited input of the top node can no longer be on the stack, so it
    has already been listed.
    """
    order: list[Value] = []
    visited = {root}
    stack = [root]
    while stack:
        node = stack[-1]
        a = node._a
        if a is not None and a not in visited:
            visited.add(a)
            stack.append(a)
            continue
        b = node._b
        if b is not None and b not in visited:
            visited.add(b)
            stack.append(b)
            continue
        order.append(stack.pop())
    return order
