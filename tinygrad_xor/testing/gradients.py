"""assert_gradients_match: autograd's gradient of f against central differences, sympy or PyTorch.

    assert_gradients_match(f, point, ...)     f(*Values) -> Value; a point: its arguments

The oracles, by `against`:

    central   the slope of f's value alone: (f(x - 2h) - 8 f(x - h) + 8 f(x + h) - f(x + 2h))
              / 12h, at h and h/2 (h = 1e-3 * max(1, |x|)); default rel 1e-6, abs 1e-7
    sympy     f's graph rebuilt as a sympy expression, differentiated symbolically and
              evaluated to 30 digits (pip install sympy); default rel 1e-9, abs 1e-12 * M
    torch     f's graph rebuilt from float64 tensors, torch.autograd (pip install torch);
              default rel 1e-9, abs 1e-12 * M

M is the largest |number| in f's graph (at least 1): the scale of its rounding. A
kink or a singularity near the point (the one-sided slopes disagree, f is inf or nan
within 2h, or an op on the way sits on a kink of its own, as relu at 0) is not a wrong
gradient: that argument is skipped, and the report says so.

On a mismatch the AssertionError names the argument, autograd's and the oracle's
numbers and their relative error, and then looks for the culprit: every op on the
paths from that argument to the output is checked on its own (its recorded local
derivative against the central difference of its own value), and those that disagree
are named. An op made by define_op is checked that way at every point in any case:
sympy and torch cannot look inside its rule (they use the derivative it returns).
"""

from __future__ import annotations

import inspect
import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import currently_in_test_context, event

from tinygrad_xor.checks import choice, real_number
from tinygrad_xor.engine import Value, topological_order
from tinygrad_xor.operands import to_float
from tinygrad_xor.rules import PowerOp, RuleOp
from tinygrad_xor.torch_bridge import TORCH_INSTALL_HINT

__all__ = ["GradientReport", "assert_gradients_match"]

ORACLES = ("central", "sympy", "torch")
_EPS = 2.0**-52
_STEP = 1e-3  # h = _STEP * max(1, |x|)
_NOISE_ULPS = 64.0  # what one evaluation of f may be off by, in ulps of the graph's scale
_DEFAULTS = {"central": (1e-6, 1e-7), "sympy": (1e-9, 1e-12), "torch": (1e-9, 1e-12)}


@dataclass
class GradientReport:
    """What assert_gradients_match compared: how many (point, argument) gradients, and
    which it skipped and why (a kink or a singularity next to the point)."""

    points: int = 0
    compared: int = 0
    skipped: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{self.compared} gradients compared at {self.points} points"]
        lines += [f"skipped: {why}" for why in self.skipped]
        return "\n".join(lines)


# -- central differences ------------------------------------------------------------------


@dataclass(frozen=True)
class _Slope:
    """The slope of a function of one number at x, measured, and how far to trust it."""

    estimate: float  # the 5-point central difference at step h/2
    error: float  # a bound on its error: truncation (seen between h and h/2) and rounding
    unusable: str  # why it cannot judge a derivative here ("" when it can)


def _slope(
    fn: Callable[[float], float], x: float, fx: float, scale: float, rel: float, abs_: float
) -> _Slope:
    """Measure fn'(x): central differences at steps h and h/2, one-sided ones from both sides.

    For a smooth fn the four agree to within their truncation errors (O(h^3) and less);
    a kink within 2h makes them disagree by about its jump in slope, and the central
    difference is then off by at most about that much. So the disagreement is added to
    the error bound; past the tolerance (abs_ + rel * |slope|) or 1e-4 of the slope, the
    point is unusable: a kink or a singularity, no place to judge a derivative. (Not the
    derivative under test: a wrong one must not move the line.) `scale` bounds |fn|
    near x: the scale of its rounding.
    """
    h = (x + _STEP * max(1.0, abs(x))) - x  # a step that x + h represents exactly
    try:
        at = {k: fn(x + k * h) for k in (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0)}
    except ValueError as error:  # a rule of define_op raised past the edge of its domain
        return _Slope(math.nan, math.inf, f"f cannot be evaluated within {2 * h:.3g}: {error}")
    if not all(math.isfinite(v) for v in (fx, *at.values())):
        return _Slope(math.nan, math.inf, f"f is inf or nan within {2 * h:.3g}: a singularity")
    noise = _NOISE_ULPS * _EPS * max(scale, *(abs(v) for v in at.values())) / h
    wide = (at[-2.0] - 8.0 * at[-1.0] + 8.0 * at[1.0] - at[2.0]) / (12.0 * h)
    narrow = (at[-1.0] - 8.0 * at[-0.5] + 8.0 * at[0.5] - at[1.0]) / (6.0 * h)
    right = (-3.0 * fx + 4.0 * at[0.5] - at[1.0]) / h
    left = (3.0 * fx - 4.0 * at[-0.5] + at[-1.0]) / h
    sides = max(abs(right - left) - 16.0 * noise, 0.0)  # each term: its rounding bound
    steps = max(abs(wide - narrow) - 4.5 * noise, 0.0)
    limit = max(abs_ + rel * abs(narrow), 1e-4 * max(1.0, abs(narrow)))
    if not max(sides, steps) <= limit:  # written so that a nan counts as not smooth
        if sides >= steps:
            why = f"slopes {left:.6g} from the left, {right:.6g} from the right: a kink"
            return _Slope(narrow, math.inf, f"{why} within {h:.3g}")
        why = f"slopes {wide:.6g} at step {h:.3g}, {narrow:.6g} at {h / 2:.3g}"
        return _Slope(narrow, math.inf, f"{why}: a kink or a singularity within {2 * h:.3g}")
    return _Slope(narrow, 2.0 * max(sides, steps) + 30.0 * noise, "")


def _close(ours: float, theirs: float, rel: float, abs_: float) -> bool:
    if math.isnan(ours) or math.isnan(theirs):
        return math.isnan(ours) and math.isnan(theirs)
    if ours == theirs:  # infinities of one sign
        return True
    gap = abs(ours - theirs)
    return gap <= abs_ + rel * max(abs(ours), abs(theirs))


def _relative_error(ours: float, theirs: float) -> float:
    gap = abs(ours - theirs)
    size = max(abs(ours), abs(theirs))
    return gap / size if size > 0.0 else gap


# -- each op on its own -------------------------------------------------------------------

_BINARY: dict[str, Callable[[Value, Value], Value]] = {
    "+": operator.add,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
}
_UNARY: dict[str, Callable[[Value], Value]] = {
    "exp": Value.exp,
    "log": Value.log,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "relu": Value.relu,
}


def _op_value(node: Value) -> Callable[..., float] | None:
    """The op of node as a function of its inputs' numbers; None for an op it cannot redo
    (one made by calling engine.op_result directly)."""
    op = node.op
    if isinstance(op, RuleOp):
        return lambda *xs: op.evaluate(*xs)[0]
    if isinstance(op, PowerOp):
        return lambda x: (Value(x) ** op.exponent).data
    if op in _UNARY:
        unary = _UNARY[op]
        return lambda x: unary(Value(x)).data
    if op in _BINARY:
        binary = _BINARY[op]
        return lambda x, y: binary(Value(x), Value(y)).data
    return None


@dataclass(frozen=True)
class _OpCheck:
    """One input of one op node: its recorded local derivative against its own slope."""

    node: Value
    k: int  # which input
    recorded: float
    slope: _Slope

    @property
    def wrong(self) -> bool:
        return not self.slope.unusable and not (
            abs(self.recorded - self.slope.estimate) <= self._allowed()
        )

    def _allowed(self) -> float:
        rel, abs_ = _DEFAULTS["central"]
        return abs_ + rel * abs(self.slope.estimate) + self.slope.error

    @property
    def where(self) -> str:
        """The op and the numbers it was given: "sin, made by define_op, at x = 0.5"."""
        inputs = [p.data for p in self.node.parents]
        at = f"{inputs[0]!r}" if len(inputs) == 1 else f"({inputs[0]!r}, {inputs[1]!r})"
        made = ", made by define_op," if isinstance(self.node.op, RuleOp) else ""
        return f"{self.node.op}{made} at {'xy'[: len(inputs)]} = {at}"

    def __str__(self) -> str:
        return (
            f"{self.where}: it records "
            f"d/d{'xy'[self.k]} = {self.recorded!r}, its own central difference is "
            f"{self.slope.estimate!r} (relative error "
            f"{_relative_error(self.recorded, self.slope.estimate):.3g})"
        )


def _check_op(node: Value, k: int) -> _OpCheck | None:
    value = _op_value(node)
    if value is None:
        return None
    inputs = [p.data for p in node.parents]

    def moved(t: float) -> float:
        return value(*(t if j == k else x for j, x in enumerate(inputs)))

    slope = _slope(moved, inputs[k], node.data, abs(node.data), *_DEFAULTS["central"])
    return _OpCheck(node, k, node.local_grads[k], slope)


def _on_paths(root: Value, leaf: Value) -> list[tuple[Value, int]]:
    """(op node, input) for every edge on a path from leaf to root."""
    reached = {leaf}
    edges = []
    for node in topological_order(root):
        for k, parent in enumerate(node.parents):
            if parent in reached:
                reached.add(node)
                edges.append((node, k))
    return edges


# -- the oracles that rebuild f's graph -----------------------------------------------------


def _rebuild(
    root: Value, leaf: Callable[[Value], Any], apply: Callable[[Value, list[Any]], Any]
) -> Any:
    """root's graph in another library: leaf(node) for each leaf, apply(node, inputs) per op."""
    built: dict[Value, Any] = {}
    for node in topological_order(root):
        built[node] = leaf(node) if node.is_leaf else apply(node, [built[p] for p in node.parents])
    return built[root]


def _unknown(op: str) -> ValueError:
    return ValueError(
        f"the op {op!r} (made with engine.op_result) cannot be rebuilt by another library; "
        "make it with define_op, or check against='central'."
    )


def _by_torch(root: Value, leaves: Sequence[Value]) -> tuple[float, list[float]]:
    try:
        import torch
    except ImportError as error:
        raise ModuleNotFoundError(
            f"against='torch' needs PyTorch, which is not installed: {TORCH_INSTALL_HINT}"
        ) from error
    f64 = torch.float64
    arguments = {leaf: torch.tensor(leaf.data, dtype=f64, requires_grad=True) for leaf in leaves}
    unary = {
        "exp": torch.exp,
        "log": torch.log,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "relu": torch.relu,
    }

    def leaf(node: Value) -> Any:
        return arguments[node] if node in arguments else torch.tensor(node.data, dtype=f64)

    def apply(node: Value, inputs: list[Any]) -> Any:
        op = node.op
        if isinstance(op, RuleOp):  # its value, with the derivatives its rule gave
            out = torch.tensor(node.data, dtype=f64)
            for x, d in zip(inputs, node.local_grads, strict=True):
                out = out + d * (x - x.detach())
            return out
        if isinstance(op, PowerOp):
            return inputs[0] ** op.exponent
        if op in _BINARY:
            return _BINARY[op](inputs[0], inputs[1])
        if op in unary:
            return unary[op](inputs[0])
        raise _unknown(op)

    out = _rebuild(root, leaf, apply)
    if out.requires_grad:  # False when f does not depend on any argument
        out.backward()
    grads = [arguments[leaf].grad for leaf in leaves]
    return float(out.detach()), [0.0 if g is None else float(g) for g in grads]


def _by_sympy(root: Value, leaves: Sequence[Value]) -> tuple[float, list[float]]:
    try:
        import sympy
    except ImportError as error:
        raise ModuleNotFoundError(
            "against='sympy' needs sympy, which is not installed: pip install sympy"
        ) from error
    symbols = {leaf: sympy.Symbol(f"x{i}", real=True) for i, leaf in enumerate(leaves)}

    def number(x: float) -> Any:
        return sympy.Integer(int(x)) if x.is_integer() else sympy.Float(x, 30)

    def leaf(node: Value) -> Any:
        return symbols[node] if node in symbols else sympy.Float(node.data, 30)

    def apply(node: Value, inputs: list[Any]) -> Any:
        op, u = node.op, inputs[0]
        if isinstance(op, RuleOp):  # its value, with the derivatives its rule gave
            out = sympy.Float(node.data, 30)
            for x, p, d in zip(inputs, node.parents, node.local_grads, strict=True):
                out = out + sympy.Float(d, 30) * (x - sympy.Float(p.data, 30))
            return out
        if isinstance(op, PowerOp):
            return u ** number(op.exponent)
        if op in _BINARY:
            return _BINARY[op](u, inputs[1])
        if op == "exp":
            return sympy.exp(u)
        if op == "log":
            return sympy.log(u)
        if op == "tanh":
            return sympy.tanh(u)
        if op == "sigmoid":
            return 1 / (1 + sympy.exp(-u))
        if op == "relu":
            return sympy.Piecewise((u, u > 0), (0, True))
        raise _unknown(op)

    expression = _rebuild(root, leaf, apply)
    at = {symbols[leaf]: sympy.Float(leaf.data, 30) for leaf in leaves}

    def real(e: Any) -> float:
        try:
            return float(sympy.sympify(e).evalf(30, subs=at))
        except TypeError:  # complex: a negative number to a fractional power
            return math.nan

    return real(expression), [real(sympy.diff(expression, symbols[leaf])) for leaf in leaves]


# -- the check ----------------------------------------------------------------------------


def _point(point: object, k: int) -> tuple[float, ...]:
    """A point's numbers: f's arguments, or the one argument of f."""
    where = f"assert_gradients_match: point {k}"
    if isinstance(point, Sequence) and not isinstance(point, (str, bytes)):
        return tuple(to_float(x, f"{where}, argument {i}", "a number") for i, x in enumerate(point))
    return (to_float(point, where, "a tuple of f's arguments, or a number for f of one"),)


def _argument_names(f: Callable[..., Value], count: int) -> list[str]:
    """f's parameter names (x, y, ...), or x0, x1, ... when its signature does not say."""
    try:
        parameters = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = [p.name for p in parameters if p.kind in positional]
    return names[:count] if len(names) >= count else [f"x{i}" for i in range(count)]


def _call(f: Callable[..., Value], leaves: Sequence[Value]) -> Value:
    out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(
            f"assert_gradients_match: f must return a Value, it returned "
            f"{type(out).__name__} {out!r:.60}."
        )
    return out


def assert_gradients_match(
    f: Callable[..., Value],
    *points: object,
    against: str = "central",
    rel: float | None = None,
    abs: float | None = None,  # pytest.approx's name for it
) -> GradientReport:
    """Check autograd's gradient of f at each point against an oracle; AssertionError if not.

    f takes Values (one per argument) and returns a Value. A point is f's arguments:
    a tuple of numbers, or a number for f of one argument. `against`: "central"
    (default), "sympy" or "torch" (see the module docstring for each, and the default
    tolerances rel and abs: |autograd - oracle| <= abs + rel * max of their sizes).
    Returns a GradientReport (what was compared, what was skipped and why).
    """
    choice("assert_gradients_match(against)", against, ORACLES)
    default_rel, default_abs = _DEFAULTS[against]
    rel_ = (
        default_rel
        if rel is None
        else real_number("assert_gradients_match(rel)", rel, at_least=0.0)
    )
    abs_given = (
        None if abs is None else real_number("assert_gradients_match(abs)", abs, at_least=0.0)
    )
    if not points:
        raise TypeError(
            "assert_gradients_match(f, *points): give at least one point, e.g. (0.5, -1.0)."
        )
    report = GradientReport()
    for k, point in enumerate(points):
        xs = _point(point, k)
        names = _argument_names(f, len(xs))
        _check_point(f, xs, names, against, rel_, abs_given, default_abs, report)
        report.points += 1
    return report


def _check_point(
    f: Callable[..., Value],
    xs: tuple[float, ...],
    names: list[str],
    against: str,
    rel: float,
    abs_given: float | None,
    default_abs: float,
    report: GradientReport,
) -> None:
    leaves = [Value(x, name) for x, name in zip(xs, names, strict=True)]
    root = _call(f, leaves)
    root.backward()
    analytic = [leaf.grad for leaf in leaves]
    graph = topological_order(root)
    scale = max([1.0, *(abs(n.data) for n in graph if math.isfinite(n.data))])
    abs_ = (
        default_abs * (scale if against != "central" else 1.0) if abs_given is None else abs_given
    )
    at = ", ".join(f"{name}={x!r}" for name, x in zip(names, xs, strict=True))
    mismatches: list[tuple[Value | None, str]] = []  # (the argument or None for f, its line)
    if against == "central":
        for i, leaf in enumerate(leaves):

            def moved(t: float, i: int = i) -> float:
                return _call(f, [Value(t if j == i else x) for j, x in enumerate(xs)]).data

            g = analytic[i]
            slope = _slope(moved, xs[i], root.data, scale, rel, abs_)
            if slope.unusable:
                _skip(report, f"at {at}, d f/d {names[i]}: {slope.unusable}")
                continue
            report.compared += 1
            allowed = abs_ + rel * max(abs(g), abs(slope.estimate)) + slope.error
            if not abs(g - slope.estimate) <= allowed:
                line = _line(names[i], g, "central difference", slope.estimate, rel, abs_)
                mismatches.append((leaf, line))
    else:
        by = _by_sympy if against == "sympy" else _by_torch
        value, oracle = by(root, leaves)
        if not _close(root.data, value, rel, abs_):
            mismatches.append((None, _line("", root.data, against, value, rel, abs_)))
        for i, leaf in enumerate(leaves):
            report.compared += 1
            if not _close(analytic[i], oracle[i], rel, abs_):
                mismatches.append(
                    (leaf, _line(names[i], analytic[i], against, oracle[i], rel, abs_))
                )
    # An op of define_op is checked on its own in any case: the oracles cannot see inside.
    culprits = [
        check
        for node in graph
        if isinstance(node.op, RuleOp)
        for k in range(len(node.parents))
        if (check := _check_op(node, k)) is not None and check.wrong
    ]
    if not mismatches and not culprits:
        return
    on_paths = {leaf: _path_checks(root, leaf) for leaf, _ in mismatches if leaf is not None}
    named = {(c.node, c.k) for c in culprits}
    for checks in on_paths.values():
        for check in checks:
            if check.wrong and (check.node, check.k) not in named:
                named.add((check.node, check.k))
                culprits.append(check)
    excuses: dict[Value | None, list[_OpCheck]] = {
        leaf: [c for c in checks if c.slope.unusable] for leaf, checks in on_paths.items()
    }
    if not culprits and all(excuses.get(argument) for argument, _ in mismatches):
        # f is smooth, but an op on the way sits on its own kink or singularity: autograd
        # follows the op's convention there (relu'(0) = 0; nan), not f's slope.
        for argument, line in mismatches:
            check = excuses[argument][0]
            why = f"{check.where}, on a kink or singularity of its own ({check.slope.unusable})"
            _skip(report, f"at {at}: {line.strip()}; but {why}")
            report.compared -= 1
        return
    oracle_name = "central differences" if against == "central" else against
    if mismatches:
        lines = [f"gradients of f do not match {oracle_name} at {at}:"]
        lines += [line for _, line in mismatches]
    else:  # each gradient matched; an op of define_op is wrong where it does not show
        lines = [f"gradients of f match {oracle_name} at {at}, but an op is wrong:"]
    if culprits:
        lines.append("ops whose local derivative disagrees with their own central difference:")
        lines += [f"  {check}" for check in culprits]
    else:
        lines.append(
            "every op on the way agrees with its own central difference: suspect the "
            "chain rule itself (backward()), or f reading numbers (x.data) or branching on them."
        )
    raise AssertionError("\n".join(lines))


def _line(name: str, ours: float, oracle: str, theirs: float, rel: float, abs_: float) -> str:
    what = f"d f/d {name}" if name else "f itself"
    return (
        f"  {what}: autograd {ours!r}, {oracle} {theirs!r}, relative error "
        f"{_relative_error(ours, theirs):.3g} (allowed: rel {rel:g}, abs {abs_:.3g})"
    )


def _path_checks(root: Value, leaf: Value) -> list[_OpCheck]:
    """Each op on a path from leaf to root, checked on its own (ops it cannot redo left out)."""
    checks = (_check_op(node, k) for node, k in _on_paths(root, leaf))
    return [check for check in checks if check is not None]


def _skip(report: GradientReport, why: str) -> None:
    report.skipped.append(why)
    if currently_in_test_context():  # hypothesis counts these in its statistics
        event("assert_gradients_match skipped a point: a kink or a singularity")
