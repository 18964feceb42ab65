"""The oracles that read f's graph: sympy at 30 digits, and PyTorch float64 autograd.

    by_sympy(root, leaves)   each op's value and derivative by sympy's symbolic calculus,
                             evaluated with mpmath to 30 digits at the numbers the engine
                             gave its inputs, and chained forward node by node
    by_torch(root, leaves)   the graph rebuilt from float64 tensors, torch.autograd backward

Each returns an Answer: f's value and d f / d leaf for each leaf, as floats, and why one is
undefined where the oracle has no number (sympy at log(0), a negative base to a fractional
power). Neither oracle restates the engine's ops: each runs the op's value, as stated once
in rules.py, in its own arithmetic (sympy_arithmetic, torch_arithmetic), and takes the
derivatives from its own calculus. An op of define_op is taken as its rule gives it: its
value and its recorded derivatives (neither library can look inside a Python function), so
op_checks checks those on its own.

Both cost time in proportion to the graph's size: a node used many times is computed once.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tinygrad_xor.engine import Value, topological_order
from tinygrad_xor.rules import Arithmetic, Rule, RuleOp
from tinygrad_xor.torch_bridge import TORCH_INSTALL_HINT

__all__ = ["Answer", "by_sympy", "by_torch", "sympy_arithmetic", "torch_arithmetic"]

_DIGITS = 30


@dataclass(frozen=True)
class Answer:
    """What an oracle says f and its gradient are; why_not[i] (or why_not_f) when undefined."""

    value: float
    gradient: tuple[float, ...]
    why_not_f: str = ""
    why_not: tuple[str, ...] = ()
    values: tuple[tuple[Value, float], ...] = ()  # sympy: each op's real value at its inputs


def _rule(op: str) -> Rule:
    if not isinstance(op, Rule):
        raise ValueError(
            f"the op {op!r} (made with engine.op_result) cannot be rebuilt by another library; "
            "make it with define_op, or check against='central'."
        )
    return op


def _no_define_op(op: RuleOp, inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    raise ValueError(f"internal: {op} (define_op) has no form in another library's arithmetic.")


# -- PyTorch --------------------------------------------------------------------------------


@functools.cache
def torch_arithmetic() -> Arithmetic:
    """The rules on float64 tensors, differentiated by PyTorch's autograd.

    `where` picks its branch by the number, as the engine does, so the branch not taken
    (sigmoid's other form, overflowing) never enters the graph.
    """
    import torch

    def where(condition: Any, then: Any, otherwise: Any) -> Any:
        chosen = then if bool(condition) else otherwise
        return torch.as_tensor(chosen, dtype=torch.float64)  # relu's 0.0: a constant

    return Arithmetic(
        exp=torch.exp,
        log=torch.log,
        tanh=torch.tanh,
        power=torch.pow,
        divide=lambda a, b: a / b,
        reciprocal=lambda a: 1 / a,
        where=where,
        defined=_no_define_op,
    )


@functools.cache
def _recorded_rule() -> Any:
    """A torch autograd Function: an op of define_op, as its value and recorded derivatives.

    Its own backward, not value + d * (x - x.detach()): an inf derivative must give inf,
    not inf * 0 = nan in the value.
    """
    import torch

    def forward(ctx: Any, value: float, derivatives: tuple[float, ...], *inputs: Any) -> Any:
        ctx.derivatives = derivatives
        return torch.tensor(value, dtype=torch.float64)

    def backward(ctx: Any, grad: Any) -> Any:
        return (None, None, *(grad * d for d in ctx.derivatives))

    # Made with type(): mypy types torch as Any where torch is not installed.
    methods = {"forward": staticmethod(forward), "backward": staticmethod(backward)}
    return type("RecordedRule", (torch.autograd.Function,), methods)


def by_torch(root: Value, leaves: Sequence[Value]) -> Answer:
    try:
        import torch
    except ImportError as error:
        raise ModuleNotFoundError(
            f"against='torch' needs PyTorch, which is not installed: {TORCH_INSTALL_HINT}"
        ) from error
    f64 = torch.float64
    arguments = {leaf: torch.tensor(leaf.data, dtype=f64, requires_grad=True) for leaf in leaves}
    built: dict[Value, Any] = {}
    for node in topological_order(root):
        if node.is_leaf:
            given = arguments.get(node)
            built[node] = given if given is not None else torch.tensor(node.data, dtype=f64)
            continue
        inputs = [built[p] for p in node.parents]
        op = _rule(node.op)
        if isinstance(op, RuleOp):
            built[node] = _recorded_rule().apply(node.data, node.local_grads, *inputs)
        else:
            built[node] = op.value(torch_arithmetic(), *inputs)
    out = built[root]
    if out.requires_grad:  # False when f does not depend on any argument
        out.backward()
    grads = [arguments[leaf].grad for leaf in leaves]
    gradient = tuple(0.0 if g is None else float(g) for g in grads)
    return Answer(float(out.detach()), gradient, "", ("",) * len(leaves))


# -- sympy ----------------------------------------------------------------------------------


@functools.cache
def sympy_arithmetic() -> Arithmetic:
    """The rules as sympy expressions, differentiated by sympy's calculus.

    A number in a rule (the exponent of x ** 2) becomes an exact sympy number; `where`
    becomes a Piecewise, whose derivative is the derivative of the branch that holds.
    """
    import sympy

    def exact(x: Any) -> Any:
        if isinstance(x, float):
            return sympy.Integer(int(x)) if x.is_integer() else sympy.Float(x, _DIGITS)
        return x

    return Arithmetic(
        exp=sympy.exp,
        log=sympy.log,
        tanh=sympy.tanh,
        power=lambda a, b: exact(a) ** exact(b),
        divide=lambda a, b: exact(a) / exact(b),
        reciprocal=lambda a: 1 / exact(a),
        where=lambda condition, then, otherwise: sympy.Piecewise(
            (exact(then), condition), (exact(otherwise), True)
        ),
        defined=_no_define_op,
    )


@functools.cache  # per op (an exponent of **c is an op of its own): sympy's work done once
def _compiled(op: Rule) -> tuple[Callable[..., Any], tuple[Callable[..., Any], ...]]:
    """The op's value and its symbolic derivative by each input, as mpmath functions."""
    import sympy

    inputs = sympy.symbols("u w", real=True)[: op.arity]
    expression = op.value(sympy_arithmetic(), *inputs)
    value = sympy.lambdify(inputs, expression, "mpmath")
    derivatives = tuple(sympy.lambdify(inputs, sympy.diff(expression, s), "mpmath") for s in inputs)
    return value, derivatives


def _real(number: Any, what: str) -> tuple[Any, str]:
    """number as an mpmath real, or nan and why not (a complex result: no real value)."""
    import mpmath

    if isinstance(number, mpmath.mpc):
        if number.imag != 0:
            return mpmath.mpf("nan"), f"{what} is not a real number ({number})"
        number = number.real
    return mpmath.mpf(number), ""


def by_sympy(root: Value, leaves: Sequence[Value]) -> Answer:
    try:
        import mpmath
        import sympy  # noqa: F401  # the oracle is sympy's calculus; mpmath comes with it
    except ImportError as error:
        raise ModuleNotFoundError(
            "against='sympy' needs sympy, which is not installed: pip install sympy"
        ) from error
    index = {leaf: i for i, leaf in enumerate(leaves)}
    tangent: dict[Value, dict[int, Any]] = {}  # d node / d leaf i, for the leaves it depends on
    # Why a node's value, or its d node / d leaf i, has no real number: the first op on the way.
    why_value: dict[Value, str] = {}
    why_slope: dict[Value, dict[int, str]] = {}
    values: list[tuple[Value, float]] = []  # each op's exact value at its inputs' floats, if real
    f_value = root.data  # f is a leaf: its own number
    with mpmath.workdps(_DIGITS):
        for node in topological_order(root):
            why_slope[node] = {}
            if node.is_leaf:
                tangent[node] = {index[node]: mpmath.mpf(1)} if node in index else {}
                continue
            # At the numbers the engine gave its inputs: one op's rounding is judged, not
            # how f's own conditioning magnifies the roundings before it (log of a product
            # that underflowed to a subnormal).
            inputs = [mpmath.mpf(p.data) for p in node.parents]
            if isinstance(node.op, RuleOp):  # its value, with the derivatives its rule gave
                own, locals_ = mpmath.mpf(node.data), [mpmath.mpf(d) for d in node.local_grads]
                problem, local_problems = "", [""] * len(locals_)
            else:
                own, locals_, problem, local_problems = _evaluate(node, inputs)
            if not problem:  # no real number here is a singularity of the op, not a wrong value
                values.append((node, float(own)))
            if node is root:
                f_value = float(own)
            inherited = next((why_value[p] for p in node.parents if p in why_value), "")
            if problem or inherited:
                why_value[node] = inherited or problem
            sums: dict[int, Any] = {}
            for parent, local, local_problem in zip(
                node.parents, locals_, local_problems, strict=True
            ):
                for i, d in tangent[parent].items():
                    sums[i] = sums.get(i, 0) + local * d
                    reason = why_slope[parent].get(i) or why_value.get(parent) or local_problem
                    if reason:
                        why_slope[node].setdefault(i, reason)
            tangent[node] = sums
        gradient = tuple(float(tangent[root].get(i, 0)) for i in range(len(leaves)))
    return Answer(
        f_value,
        gradient,
        why_value.get(root, "") if math.isnan(f_value) else "",
        tuple(why_slope[root].get(i, "") if math.isnan(g) else "" for i, g in enumerate(gradient)),
        tuple(values),
    )


def _evaluate(node: Value, inputs: list[Any]) -> tuple[Any, list[Any], str, list[str]]:
    """node's op at 30-digit inputs: its value, its derivative by each input, and why each
    has no real number ("" where it has one)."""
    import mpmath

    op = _rule(node.op)
    value_of, derivatives_of = _compiled(op)
    at = ", ".join(mpmath.nstr(x, 17) for x in inputs)
    where = f"{node.op} at {at}"
    nan = mpmath.mpf("nan")
    try:
        own, problem = _real(value_of(*inputs), f"sympy: {where}")
    except ZeroDivisionError:
        problem = f"sympy: {where} divides by zero: a singularity"
        return nan, [nan] * len(inputs), problem, [problem] * len(inputs)
    # Where the rule says a derivative is 0 by convention (relu'(0), d/dy 0 ** y), so is
    # this one: the convention is part of the op, as in PyTorch.
    zero = op.zero(*(parent.data for parent in node.parents))
    locals_, problems = [], []
    for k, derivative_of in enumerate(derivatives_of):
        if zero[k]:
            locals_.append(mpmath.mpf(0))
            problems.append("")
            continue
        try:
            local, why = _real(derivative_of(*inputs), f"sympy: d/d{'xy'[k]} of {where}")
        except ZeroDivisionError:
            local, why = nan, f"sympy: d/d{'xy'[k]} of {where} divides by zero: a singularity"
        locals_.append(local)
        problems.append(why)
    return own, locals_, problem, problems
