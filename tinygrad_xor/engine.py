"""Value: one float, the graph that made it, and reverse-mode autodiff.

A Value holds a number (`data`) and, after `backward()`, the derivative of the root
with respect to it (`grad`). Every op returns a new Value that remembers its inputs
(`a`, and `b` for two) and the *local* derivative of its output with respect to each
(`da`, `db`), computed beside the value:

    op          value            da              db
    a + b       a + b            1               1
    a * b       a * b            b               a
    a / b       q = a / b        1 / b           -q / b
    a ** c      a ** c           c * a**(c-1)    (c a number)
    a ** b      p = a ** b       b * a**(b-1)    p * log(a)
    a.exp()     e = exp(a)       e
    a.log()     log(a)           1 / a
    a.tanh()    t = tanh(a)      1 - t*t
    a.sigmoid() s = 1/(1+e^-a)   s * (1 - s)
    a.relu()    max(a, 0)        1 if a > 0 else 0

`-a`, `a - b`, `2 * a` are built from these. `backward()` walks from the root to the
leaves and applies the chain rule on every edge: input.grad += local * output.grad;
`push_tangents` walks the other way (forward mode). As in PyTorch: leaves accumulate
across calls; floats.py gives IEEE results (log 0 = -inf); relu'(0) = 0; a flat edge
(relu below 0, x ** 0) passes 0 even under an inf or nan grad.

Each op records its row of rules.py, where the same table is written once for the
readers that need a derivative as Values (grad of grad) or as text (the compiled tape,
the backprop page); tests/test_rules.py holds the formulas here to it, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from tinygrad_xor import operands
from tinygrad_xor.floats import divide, exp, log, power, reciprocal
from tinygrad_xor.operands import to_float
from tinygrad_xor.rules import ADD, DIVIDE, EXP, LOG, MUL, POWER, RELU, SIGMOID, TANH, PowerOp, Rule

__all__ = ["Value", "topological_order", "op_result", "chain_rule", "push_tangents"]


class Value:
    """A float that remembers how it was computed, so it can be differentiated.

    >>> a, b = Value(2.0, "a"), Value(-3.0, "b")
    >>> y = a * b + a
    >>> y.backward()
    >>> y.data, a.grad, b.grad
    (-4.0, -2.0, 2.0)
    """

    # Slots, no per-node containers: about 130 bytes a node (micrograd's: about 690).
    __slots__ = ("data", "grad", "label", "op", "_a", "_da", "_b", "_db")
    op: str  # the op that made this Value ("*", "tanh", ...); "" for a leaf
    _a: Value | None
    _b: Value | None

    def __init__(self, data: float, label: str = "", *micrograd_args: object) -> None:
        self.data = operands.leaf_data(data, isinstance(data, Value))
        self.label = operands.leaf_label(label, micrograd_args)
        self.grad, self.op, self._a, self._da, self._b, self._db = 0.0, "", None, 0.0, None, 0.0

    # -- primitives: the value and its local derivatives, side by side ---------------

    def __add__(self, other: Value | float) -> Value:
        b = other if isinstance(other, Value) else _constant(other, "Value + other")
        return op_result(self.data + b.data, ADD, self, 1.0, b, 1.0)

    def __mul__(self, other: Value | float) -> Value:
        b = other if isinstance(other, Value) else _constant(other, "Value * other")
        return op_result(self.data * b.data, MUL, self, b.data, b, self.data)

    def __truediv__(self, other: Value | float) -> Value:
        # A primitive, not a * b**-1: 1/b overflows for tiny b where a/b is finite.
        b = other if isinstance(other, Value) else _constant(other, "Value / other")
        q = divide(self.data, b.data)
        return op_result(q, DIVIDE, self, reciprocal(b.data), b, -divide(q, b.data))

    def __pow__(self, exponent: Value | float) -> Value:
        x = self.data
        if isinstance(exponent, Value):
            y = exponent.data
            p = power(x, y)
            # d/dy = p * log(x), taken as 0 where x = 0 and y >= 0 (as PyTorch)
            dy = 0.0 if (x == 0.0 and y >= 0.0) else p * log(x)
            return op_result(p, POWER, self, y * power(x, y - 1.0) if y else 0.0, exponent, dy)
        c = to_float(exponent, "Value ** exponent")  # d/dx is 0 for c = 0 (as PyTorch)
        return op_result(power(x, c), PowerOp.of(c), self, c * power(x, c - 1.0) if c else 0.0)

    def exp(self) -> Value:
        e = exp(self.data)
        return op_result(e, EXP, self, e)

    def log(self) -> Value:
        return op_result(log(self.data), LOG, self, reciprocal(self.data))

    def tanh(self) -> Value:
        t = math.tanh(self.data)  # saturates to +-1, never overflows
        return op_result(t, TANH, self, 1.0 - t * t)

    def sigmoid(self) -> Value:
        x = self.data
        if x >= 0.0:  # two forms, so exp never overflows
            s = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            s = e / (1.0 + e)
        return op_result(s, SIGMOID, self, s * (1.0 - s))

    def relu(self) -> Value:
        x = self.data  # written so that nan stays nan with slope 1, as torch.relu
        return op_result(0.0 if x < 0.0 else x, RELU, self, 0.0 if x <= 0.0 else 1.0)

    # -- derived ops, one line each ---------------------------------------------------

    def __neg__(self) -> Value:  # -a
        return self * -1.0

    def __sub__(self, other: Value | float) -> Value:  # a - b
        return self + (-other if isinstance(other, Value) else -to_float(other, "Value - other"))

    def __rsub__(self, other: Value | float) -> Value:  # 2 - a
        return _constant(other, "other - Value") + (-self)

    def __radd__(self, other: Value | float) -> Value:  # 2 + a
        return _constant(other, "other + Value") + self

    def __rmul__(self, other: Value | float) -> Value:  # 2 * a
        return _constant(other, "other * Value") * self

    def __rtruediv__(self, other: Value | float) -> Value:  # 2 / a
        return _constant(other, "other / Value") / self

    def __rpow__(self, base: Value | float) -> Value:  # 2 ** a
        return _constant(base, "base ** Value") ** self

    # -- backpropagation ----------------------------------------------------------------

    def backward(self, grad: float = 1.0) -> None:
        """Fill in d self / d v as v.grad for every Value v this one depends on.

        `grad` is the upstream gradient d loss / d self (1.0 when self is the loss).
        """
        seed = operands.seed_grad(grad, isinstance(grad, Value))
        order = topological_order(self)
        # Leaves keep earlier calls' grads, added back at the end (as PyTorch: twice exactly).
        earlier: list[tuple[Value, float]] = []
        for node in order:
            if node._a is None and node.grad != 0.0:
                earlier.append((node, node.grad))
            node.grad = 0.0
        self.grad = seed
        _backpropagate(order, None)
        for leaf, earlier_grad in earlier:
            leaf.grad = earlier_grad + leaf.grad

    def zero_grad(self) -> None:
        """Set grad to 0.0 for this Value and every Value it depends on."""
        for node in topological_order(self):
            node.grad = 0.0

    # -- what made this Value -------------------------------------------------------------

    @property
    def is_leaf(self) -> bool:
        """True for a Value made directly (an input, a weight, a constant)."""
        return self._a is None

    @property
    def parents(self) -> tuple[Value, ...]:
        """The op's inputs, in order: () for a leaf, (a,) or (a, b)."""
        a, b = self._a, self._b
        return () if a is None else (a,) if b is None else (a, b)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d self / d parent, for each parent in order."""
        a, b = self._a, self._b
        return () if a is None else (self._da,) if b is None else (self._da, self._db)

    # micrograd's names, so code written for its Value (its draw_dot, say) runs unchanged.
    _prev = parents

    @property
    def _op(self) -> str:
        return self.op

    def item(self) -> float:  # the plain float, as torch.Tensor.item()
        return self.data

    def _repr_mimebundle_(self, **options: Any) -> dict[str, str]:
        """Jupyter shows a Value as the graph that made it (SVG), or as text when it cannot."""
        from tinygrad_xor.graph import value_mimebundle  # lazy: the engine needs only the stdlib

        return value_mimebundle(self, **options)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"


def topological_order(root: Value, *more_roots: Value) -> list[Value]:
    """Every Value root (and more_roots) depends on, each after its inputs: depth-first
    with an explicit stack, not recursion, so a chain of a million ops fits Python's
    recursion limit."""
    order: list[Value] = []
    visited: set[Value] = set()
    for start in (root, *more_roots):
        if start in visited:
            continue
        visited.add(start)
        stack = [start]
        while stack:
            node = stack[-1]
            if (a := node._a) is not None and a not in visited:
                visited.add(a)
                stack.append(a)
                continue
            if (b := node._b) is not None and b not in visited:
                visited.add(b)
                stack.append(b)
                continue
            order.append(stack.pop())
    return order


def _backpropagate(order: list[Value], watch: Callable[[Value, float], None] | None) -> None:
    """The chain rule over `order` (topological, root last): each op adds local * its grad
    to its inputs' grads. watch(node, share), if given, sees each op once it has passed on
    (share: what it gave its first input); backward() passes None."""
    # Reverse order: every use of a node has added its share before it passes it on.
    for node in reversed(order):
        a = node._a
        if a is not None:
            g = node.grad
            # g inf or nan (g - g is nan): a flat edge passes 0, not 0 * inf (as PyTorch)
            share = node._da * g if g - g == 0.0 or not _is_flat(node) else 0.0
            a.grad += share
            b = node._b
            if b is not None:
                b.grad += node._db * g
            if watch is not None:
                watch(node, share)


def _is_flat(node: Value) -> bool:
    """Is the output constant in the first input here (relu at or below 0, x ** 0)?"""
    op = node.op
    if not isinstance(op, Rule) or not op.flat:  # (a bare name given to op_result: no rule)
        return False
    return op.is_flat(*(parent.data for parent in node.parents))


def push_tangents(
    order: list[Value], tangents: dict[Value, dict[int, float]]
) -> dict[Value, dict[int, float]]:
    """Forward mode: the chain rule from the inputs on, one sweep over `order` (topological),
    in several directions at once.

    A tangent is {direction: d node / d t}, holding the directions that move the node;
    `tangents` gives the moving leaves'. Every op with a moving input gets local * (its
    inputs' tangents), with the local derivatives backward() uses, and is added to it.
    Nodes may share one tangent (1.0 * t is t): read them, never change them.
    """
    for node in order:
        a = node._a
        if a is None:
            continue
        b = node._b
        ta = tangents.get(a)
        tb = None if b is None else tangents.get(b)
        if ta is not None:
            da = node._da
            flat = da == 0.0 and _is_flat(node)
            if tb is not None and not flat and ta.keys() == tb.keys():  # a Hessian's common case
                db = node._db
                total = {j: da * t + db * tb[j] for j, t in ta.items()}
            else:
                total = _scaled(da, ta, flat)
                if tb is not None:
                    db = node._db
                    total = dict(total) if total is ta else total
                    for j, t in tb.items():
                        total[j] = total[j] + db * t if j in total else db * t
        elif tb is not None:
            total = _scaled(node._db, tb, False)
        else:
            continue
        tangents[node] = total
    return tangents


def _scaled(local: float, tangent: dict[int, float], flat: bool) -> dict[int, float]:
    """local * tangent, in each direction; a flat edge passes +0.0 whatever the tangent:
    0 for an inf or nan one too (as backward() does), +0.0 for a negative one (as the sweep
    on Values and PyTorch's jvp do). 1.0 * tangent is the tangent itself, shared."""
    if flat:
        return dict.fromkeys(tangent, 0.0)
    if local == 1.0:
        return tangent
    return {j: local * t for j, t in tangent.items()}


def chain_rule(
    root: Value, seed: float = 1.0, watch: Callable[[Value, float], None] | None = None
) -> dict[Value, float]:
    """d root / d v for every Value v root depends on, by backward()'s own loop, seeded
    with root.grad = seed; every .grad is left as it was. `watch` is as in _backpropagate:
    the backprop page records its steps with it."""
    order = topological_order(root)
    saved = [node.grad for node in order]
    try:
        for node in order:
            node.grad = 0.0
        root.grad = seed
        _backpropagate(order, watch)
        return {node: node.grad for node in order}
    finally:
        for node, grad in zip(order, saved, strict=True):
            node.grad = grad


_new_value = object.__new__  # a global name: 3% fewer instructions than object.__new__


def op_result(
    data: float, op: str, a: Value | None, da: float, b: Value | None = None, db: float = 0.0
) -> Value:
    """How every op records its result: the value `data`, and each input with its local
    derivative (da = d data / d a; db for b), unchecked. define_op makes checked ops."""
    out = _new_value(Value)  # skips __init__'s checks, ops pass floats: 30% fewer instructions
    out.data = data
    out.grad = 0.0
    out.label = ""
    out.op = op
    out._a = a
    out._da = da
    out._b = b
    out._db = db
    return out


def _constant(x: object, where: str) -> Value:
    """A plain number as a constant leaf, as micrograd wraps it."""
    return op_result(to_float(x, where), "", None, 0.0)
