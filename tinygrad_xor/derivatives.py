"""Derivatives of any order, and forward mode: gradients, grad, hessian, jvp.

    gradients(y, xs)                      d y / d x for each x in xs, as Values
    gradients(y, xs, create_graph=True)   the same, as graphs of their own: differentiable again
    grad(f)(x)                            d f / d x at x, a Value; grad(grad(f)) is f''
    hessian(f)(*numbers)                  every d2 f / dx_i dx_j, a list of lists of floats
    jvp(f, primals, tangents)             f at primals, and its derivative along tangents

    >>> from tinygrad_xor import Value
    >>> f = lambda x: x * x * x
    >>> grad(f)(2.0).data, grad(grad(f))(2.0).data, grad(grad(grad(f)))(2.0).data
    (12.0, 12.0, 6.0)
    >>> value, slope = jvp(f, (2.0,), (1.0,))
    >>> value.data, slope.data
    (8.0, 12.0)

With create_graph=True the chain rule runs on Values instead of floats: each op's local
derivative is its rule (rules.py) run in the arithmetic of Values, so d y / d x is built
from the same ops as y, and differentiating it again is backward() as usual. No .grad is
written: gradients() keeps its sums to itself (so no graph is ever stored in a .grad, the
reference cycle PyTorch warns about for backward(create_graph=True)).

Forward mode pushes tangents through the graph f recorded, inputs first, in one sweep: a
node's tangent is the sum of local derivative * input tangent, with the local derivatives
the engine recorded. When a primal or a tangent is itself a Value (jvp inside grad), the
sweep runs on Values, from the rules, so its result can be differentiated too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tinygrad_xor.checks import shown, whole_number
from tinygrad_xor.engine import Value, chain_rule, push_tangents, topological_order
from tinygrad_xor.operands import to_float
from tinygrad_xor.rules import Arithmetic, Rule, RuleOp

__all__ = ["gradients", "grad", "hessian", "jvp", "VALUES"]


# -- the arithmetic of Values: a rule run here gives a derivative with a graph -----------


def _value(x: Value | float) -> Value:
    return x if isinstance(x, Value) else Value(x)


def _where(condition: object, then: object, otherwise: object) -> object:
    if not isinstance(condition, bool):  # a rule tests numbers in `zero`, never Values
        raise TypeError(f"where: a condition on Values must be a bool, got {shown(condition)}.")
    return then if condition else otherwise


def _defined(op: RuleOp, inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    """An op of define_op's: its derivative as Values, from the `derivative` it was given."""
    if op.derivative is None:
        raise TypeError(
            f"the op {str(op)!r} (made by define_op) gives its derivative as a float, so a "
            f"gradient through it cannot be differentiated again. Give its derivative in "
            f"Values too: define_op({str(op)!r}, rule, derivative=lambda "
            f"{'x' if op.arity == 1 else 'x, y'}: ...), written with ops that have "
            "derivatives of their own (Value's ops, or ops of define_op given one). For a "
            "first derivative only, gradients(y, xs) and backward() work as they are."
        )
    returned = op.derivative(*inputs)
    local = (returned,) if op.arity == 1 else returned
    if (
        not isinstance(local, (tuple, list))
        or len(local) != op.arity
        or not all(isinstance(d, (Value, int, float)) for d in local)
    ):
        shape = "d/dx (a Value)" if op.arity == 1 else "(d/dx, d/dy), Values"
        raise TypeError(f"{op}'s derivative returned {shown(returned)}; it must return {shape}.")
    return (None, *local)


VALUES = Arithmetic(
    exp=lambda x: _value(x).exp(),
    log=lambda x: _value(x).log(),
    tanh=lambda x: _value(x).tanh(),
    power=lambda x, y: _value(x) ** y,
    divide=lambda x, y: _value(x) / y,
    reciprocal=lambda x: 1.0 / _value(x),
    where=_where,
    defined=_defined,
)


def _local_values(
    node: Value, parents: tuple[Value, ...]
) -> list[tuple[Value, Value | float | None]]:
    """(input, d node / d input as a Value) for each of its parents; None where the op is
    flat there (relu below 0, x ** 0): that edge passes nothing, whatever the gradient."""
    op = node.op
    if not isinstance(op, Rule):
        raise TypeError(
            f"cannot differentiate through the op {op!r} on Values: it has no rule (it was "
            "recorded by engine.op_result with a bare name). Make it with define_op."
        )
    local = op.local(VALUES, *parents, node)
    zero = op.zero(*[parent.data for parent in parents])
    edges: list[tuple[Value, Value | float | None]] = []
    for k, parent in enumerate(parents):
        if zero[k]:
            edges.append((parent, None if (op.flat and k == 0) else 0.0))
        else:
            edges.append((parent, local[k]))
    return edges


def _times(local: Value | float, g: Value) -> Value:
    """local * g, as backward() multiplies; 1.0 * g is g itself."""
    if local.__class__ is float and local == 1.0:
        return g
    return local * g


# -- reverse mode -------------------------------------------------------------------------


def gradients(y: Value, xs: Sequence[Value], create_graph: bool = False) -> tuple[Value, ...]:
    """d y / d x for each x in xs, as Values; 0 for an x that y does not depend on.

    The numbers are backward()'s own; no .grad is changed. With create_graph=True each
    gradient is a graph over y's Values, which can be differentiated again.

    >>> x = Value(3.0, "x")
    >>> y = x * x
    >>> (dy,) = gradients(y, [x], create_graph=True)
    >>> (d2y,) = gradients(dy, [x])
    >>> dy.data, d2y.data, x.grad
    (6.0, 2.0, 0.0)
    """
    leaves = _checked(y, xs)
    if not create_graph:
        grads = chain_rule(y)
        return tuple(Value(grads.get(x, 0.0)) for x in leaves)
    order = topological_order(y)
    sums: dict[Value, Value] = {y: Value(1.0)}
    # As backward(): in reverse order every use of a node has added its share first.
    for node in reversed(order):
        g = sums.get(node)
        parents = node.parents
        if g is None or not parents:
            continue
        for parent, local in _local_values(node, parents):
            if local is None:
                continue
            share = _times(local, g)
            before = sums.get(parent)
            sums[parent] = share if before is None else before + share
    return tuple(sums[x] if x in sums else Value(0.0) for x in leaves)


def _checked(y: object, xs: object) -> list[Value]:
    if not isinstance(y, Value):
        raise TypeError(f"gradients(y, xs): y must be a Value, got {type(y).__name__} {shown(y)}.")
    if isinstance(xs, Value) or not isinstance(xs, Sequence):
        raise TypeError(
            f"gradients(y, xs): xs must be a list of Values, got {type(xs).__name__}; "
            "for one, pass [x]."
        )
    for k, x in enumerate(xs):
        if not isinstance(x, Value):
            raise TypeError(f"gradients(y, xs): xs[{k}] must be a Value, got {shown(x)}.")
    return list(xs)


def _leaves(where: str, args: tuple[object, ...]) -> list[Value]:
    """The arguments as Values: a number becomes a new leaf, a Value is used as it is
    (so an outer derivative sees through this one)."""
    return [
        arg if isinstance(arg, Value) else Value(to_float(arg, f"{where}: argument {k}"))
        for k, arg in enumerate(args)
    ]


def _called(f: Callable[..., object], where: str, args: list[Value]) -> Value:
    result = f(*args)
    if not isinstance(result, Value):
        raise TypeError(
            f"{where}: f must return a Value (one number), got {type(result).__name__} "
            f"{shown(result)}."
        )
    return result


def _name(f: Callable[..., object]) -> str:
    return getattr(f, "__name__", type(f).__name__)


def grad(f: Callable[..., Value], argnum: int = 0) -> Callable[..., Value]:
    """The function x -> d f / d (argument argnum), returning a Value with its graph.

    Its arguments may be numbers or Values; so grad(grad(f)) is the second derivative,
    and grad(grad(f, argnum=0), argnum=1) the mixed one.

    >>> grad(lambda x, y: x * x * y, argnum=1)(3.0, 5.0).data
    9.0
    """
    if not callable(f):
        raise TypeError(f"grad(f): f must be a function of Values, got {type(f).__name__}.")
    argnum = whole_number("grad(f, argnum)", argnum, at_least=0)
    where = f"grad({_name(f)})"

    def derivative(*args: Value | float) -> Value:
        if argnum >= len(args):
            raise TypeError(
                f"{where}: argnum={argnum}, but it was called with {len(args)} "
                f"argument{'s' if len(args) != 1 else ''}; argnum counts from 0."
            )
        leaves = _leaves(where, args)
        (d,) = gradients(_called(f, where, leaves), [leaves[argnum]], create_graph=True)
        return d

    derivative.__name__ = where
    return derivative


def hessian(f: Callable[..., Value]) -> Callable[..., list[list[float]]]:
    """The function (x1, ..., xn) -> [[d2 f / dxi dxj for j] for i], floats.

    One backward pass with create_graph=True gives the gradient as n graphs; one forward
    sweep over them, in the n directions at once, gives every d (d f / dxi) / dxj.

    >>> hessian(lambda x, y: x * x * y)(3.0, 5.0)
    [[10.0, 6.0], [6.0, 0.0]]
    """
    if not callable(f):
        raise TypeError(f"hessian(f): f must be a function of Values, got {type(f).__name__}.")
    where = f"hessian({_name(f)})"

    def matrix(*numbers: float) -> list[list[float]]:
        leaves = [Value(to_float(x, f"{where}: argument {k}")) for k, x in enumerate(numbers)]
        first = gradients(_called(f, where, leaves), leaves, create_graph=True)
        # Forward mode over the gradient's graphs, in the n directions at once.
        tangents = push_tangents(
            topological_order(*first), {x: {j: 1.0} for j, x in enumerate(leaves)}
        )
        n = len(leaves)
        return [[tangents.get(g, {}).get(j, 0.0) for j in range(n)] for g in first]

    matrix.__name__ = where
    return matrix


# -- forward mode ---------------------------------------------------------------------


def jvp(
    f: Callable[..., Value | Sequence[Value]],
    primals: Sequence[Value | float],
    tangents: Sequence[Value | float],
) -> tuple[Any, Any]:
    """(f(*primals), the derivative of f at primals along tangents), in one forward sweep.

    f returns a Value, or a sequence of Values (then both results are tuples). Each
    tangent is a Value: a constant, or, when a primal or a tangent was a Value, a graph.
    One Value given as two primals is one variable: it moves by the sum of their tangents.

    >>> y, dy = jvp(lambda x, w: (x * w).tanh(), (0.5, 2.0), (1.0, 0.0))
    >>> round(y.data, 6), round(dy.data, 6)  # d tanh(x w) / dx = w (1 - tanh^2)
    (0.761594, 0.839949)
    """
    if not callable(f):
        raise TypeError(f"jvp(f, ...): f must be a function of Values, got {type(f).__name__}.")
    for what, given in (("primals", primals), ("tangents", tangents)):
        if isinstance(given, (str, bytes, Value)) or not isinstance(given, Sequence):
            raise TypeError(
                f"jvp(f, primals, tangents): {what} must be a tuple, one entry per argument "
                f"of f, got {type(given).__name__} {shown(given)}; e.g. jvp(f, (x,), (1.0,))."
            )
    if len(primals) != len(tangents):
        raise ValueError(
            f"jvp(f, primals, tangents): {len(primals)} primals but {len(tangents)} tangents; "
            "give one tangent per primal."
        )
    where = f"jvp({_name(f)})"
    leaves = _leaves(where, tuple(primals))
    symbolic = any(isinstance(x, Value) for x in (*primals, *tangents))
    seeds: dict[Value, Any] = {}
    for k, (leaf, tangent) in enumerate(zip(leaves, tangents, strict=True)):
        t = tangent if isinstance(tangent, Value) else to_float(tangent, f"{where}: tangent {k}")
        seeds[leaf] = t if leaf not in seeds else seeds[leaf] + t  # one Value passed twice
    result = f(*leaves)
    outputs = _outputs(result, where)
    order = topological_order(*outputs)
    if symbolic:
        tangent_of = _tangents_as_values(order, seeds)
        slopes = tuple(_value(tangent_of.get(out, 0.0)) for out in outputs)
    else:
        swept = push_tangents(order, {leaf: {0: t} for leaf, t in seeds.items()})
        slopes = tuple(Value(swept.get(out, {}).get(0, 0.0)) for out in outputs)
    if isinstance(result, Value):
        return result, slopes[0]
    return tuple(outputs), slopes


def _outputs(result: object, where: str) -> list[Value]:
    if isinstance(result, Value):
        return [result]
    if isinstance(result, Sequence) and result and all(isinstance(y, Value) for y in result):
        return list(result)
    raise TypeError(
        f"{where}: f must return a Value or a list of Values, got {type(result).__name__} "
        f"{shown(result)}."
    )


def _tangents_as_values(order: list[Value], seeds: dict[Value, Any]) -> dict[Value, Any]:
    tangent: dict[Value, Any] = {leaf: _value(t) for leaf, t in seeds.items()}
    for node in order:
        parents = node.parents
        if not any(p in tangent for p in parents):  # a leaf, or not moved
            continue
        total = None
        for parent, local in _local_values(node, parents):
            t = tangent.get(parent)
            if t is None or local is None:
                continue
            share = _times(local, t)
            total = share if total is None else total + share
        tangent[node] = Value(0.0) if total is None else total
    return tangent
