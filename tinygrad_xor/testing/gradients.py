"""assert_gradients_match: autograd's gradient of f against central differences, sympy or PyTorch.

    assert_gradients_match(f, point, ...)     f(*Values) -> Value; a point: its arguments

The oracles, by `against`:

    central   the slope of f's value alone, measured by slopes.measure_slope (5-point
              central differences at steps h and h/2, the step shrunk where it is too
              wide); default rel 1e-6, abs 1e-7
    sympy     each op's value and derivative by sympy's calculus at 30 digits, chained
              node by node (pip install sympy); default rel 1e-9, abs 1e-12 * M
    torch     f's graph rebuilt from float64 tensors, torch.autograd (pip install torch);
              default rel 1e-9, abs 1e-12 * M

M is the largest |number| an op makes in f's graph (at least 1): its rounding. Where
the slope cannot be judged (a kink or a singularity at or next to the point, f inf or
nan there, an oracle with no real number, an op on the way sitting on a kink of its
own as relu at 0, or f varying faster than any step can follow) that argument is
skipped, and the report says why: no correct gradient is called wrong.

With order=2 the second derivatives are checked too, as HIPS autograd's check_grads(order=2)
and PyTorch's gradgradcheck do: each first derivative d f/d x, as derivatives.grad builds it
(a graph of its own), must give backward()'s numbers, and its own gradient is checked
against the oracle as f's is. A first derivative that disagrees with backward() names the
op of define_op whose `derivative` (in Values) disagrees with its rule.

On a mismatch the AssertionError names the argument, autograd's and the oracle's
numbers and their relative error, and then the culprit: every op on the paths from that
argument to the output is checked on its own (testing.op_checks), and those off by more
than their tolerance are named, largest first; else the one that disagrees most; only
when none disagrees at all is backward() itself the suspect. An op made by define_op is
checked that way at every point in any case (sympy and torch take its rule's word).
A check leaves every .grad as it was, the weights f closes over included.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hypothesis import currently_in_test_context, event

from tinygrad_xor.checks import choice, real_number, shown, whole_number
from tinygrad_xor.derivatives import VALUES, grad, gradients
from tinygrad_xor.engine import Value, topological_order
from tinygrad_xor.gradcheck import gradients_of, returned_value, rounding_scale, value_rounding
from tinygrad_xor.rules import RuleOp
from tinygrad_xor.slopes import measure_slope, relative_error
from tinygrad_xor.testing.op_checks import OP_ABS, OP_REL, OpCheck, check_op, path_checks
from tinygrad_xor.testing.oracles import by_sympy, by_torch

__all__ = ["GradientReport", "assert_gradients_match"]

ORACLES = ("central", "sympy", "torch")
_SAME = 1e-9  # relative: one gradient computed two ways (floats, Values) differs by rounding
_DEFAULTS = {"central": (1e-6, 1e-7), "sympy": (1e-9, 1e-12), "torch": (1e-9, 1e-12)}
_WHERE = "assert_gradients_match"


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


def _close(ours: float, theirs: float, rel: float, abs_: float) -> bool:
    if ours == theirs:  # infinities of one sign too
        return True
    return math.fabs(ours - theirs) <= abs_ + rel * max(math.fabs(ours), math.fabs(theirs))


# -- the points -----------------------------------------------------------------------------


def _positional(f: Callable[..., Value]) -> tuple[list[str], int, float] | None:
    """f's positional parameter names, how many it needs and how many it takes (inf for
    *args); None when its signature does not say."""
    try:
        parameters = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    positional = [p for p in parameters if p.kind in kinds]
    required = sum(p.default is p.empty for p in positional)
    most = math.inf if any(p.kind is p.VAR_POSITIONAL for p in parameters) else len(positional)
    return [p.name for p in positional], required, most


def _points(f: Callable[..., Value], points: tuple[object, ...]) -> list[tuple[float, ...]]:
    """Each point's numbers, checked: finite, and as many as f takes."""
    if not callable(f):
        raise TypeError(
            f"{_WHERE}(f, *points): f must be a function of Values that returns a Value, "
            f"got {type(f).__name__} {shown(f)}."
        )
    if not points:
        raise TypeError(f"{_WHERE}(f, *points): give at least one point, e.g. (0.5, -1.0).")
    signature = _positional(f)
    parsed = []
    for k, point in enumerate(points):
        if isinstance(point, Sequence) and not isinstance(point, (str, bytes)):
            xs = tuple(
                real_number(f"{_WHERE}: point {k}, argument {i}", x) for i, x in enumerate(point)
            )
        elif isinstance(point, numbers.Real):  # real_number refuses a bool
            xs = (real_number(f"{_WHERE}: point {k}", point),)
        else:
            raise TypeError(
                f"{_WHERE}: point {k} must be a tuple of f's arguments, or a number for f of "
                f"one, got {type(point).__name__} {shown(point)}."
            )
        if signature is not None and not signature[1] <= len(xs) <= signature[2]:
            raise TypeError(_arity_hint(signature, k, xs, points))
        parsed.append(xs)
    return parsed


def _arity_hint(
    signature: tuple[list[str], int, float],
    k: int,
    xs: tuple[float, ...],
    points: tuple[object, ...],
) -> str:
    names, required, most = signature
    takes = f"{required}" if required == most else f"{required} to {most}"
    plural = "" if required == most == 1 else "s"
    given = f"{len(xs)} number{'' if len(xs) == 1 else 's'}"
    if len(points) > 1 and all(not isinstance(p, Sequence) for p in points):
        together = ", ".join(repr(float(p)) for p in points)  # type: ignore[arg-type]
        fix = (
            f"A point is one tuple of f's arguments: assert_gradients_match(f, ({together})) "
            "checks f there; two separate numbers are two points."
        )
    else:
        example = ", ".join(names[:required]) or "..."
        fix = f"A point is one tuple of f's arguments, ({example}); give one tuple per point."
    return (
        f"{_WHERE}: f takes {takes} argument{plural} ({', '.join(names)}), but point {k} "
        f"gives {given}, {xs if len(xs) != 1 else xs[0]!r}. {fix}"
    )


def _argument_names(f: Callable[..., Value], count: int) -> list[str]:
    """f's parameter names (x, y, ...), or x0, x1, ... when its signature does not say."""
    signature = _positional(f)
    names = signature[0] if signature is not None else []
    return names[:count] if len(names) >= count else [f"x{i}" for i in range(count)]


# -- the check ------------------------------------------------------------------------------


def assert_gradients_match(
    f: Callable[..., Value],
    *points: object,
    against: str = "central",
    rel: float | None = None,
    abs: float | None = None,  # pytest.approx's name for it
    order: int = 1,
) -> GradientReport:
    """Check autograd's gradient of f at each point against an oracle; AssertionError if not.

    f takes Values (one per argument) and returns a Value. A point is f's arguments:
    a tuple of finite numbers, or a number for f of one argument. `against`: "central"
    (default), "sympy" or "torch" (see the module docstring for each, and the default
    tolerances rel and abs: |autograd - oracle| <= abs + rel * max of their sizes).
    `order=2` checks the second derivatives too. Returns a GradientReport (what was
    compared, what was skipped and why).
    """
    choice(f"{_WHERE}(against)", against, ORACLES)
    order = whole_number(f"{_WHERE}(order) (1 or 2)", order, at_least=1, at_most=2)
    default_rel, default_abs = _DEFAULTS[against]
    rel_ = default_rel if rel is None else real_number(f"{_WHERE}(rel)", rel, at_least=0.0)
    abs_given = None if abs is None else real_number(f"{_WHERE}(abs)", abs, at_least=0.0)
    report = GradientReport()
    for xs in _points(f, points):
        names = _argument_names(f, len(xs))
        _check_point(f, "f", xs, names, against, rel_, abs_given, default_abs, report)
        if order == 2:
            _check_first_derivatives_as_graphs(f, xs, names)
            for i, name in enumerate(names):
                derivative = grad(f, argnum=i)
                of = f"d f/d {name}"
                _check_point(
                    derivative, of, xs, names, against, rel_, abs_given, default_abs, report
                )
        report.points += 1
    return report


def _check_first_derivatives_as_graphs(
    f: Callable[..., Value], xs: tuple[float, ...], names: list[str]
) -> None:
    """d f/d x built as a graph (create_graph=True) must give backward()'s numbers, and each
    op of define_op must give a `derivative` (in Values) that its own rule agrees with and
    whose graph has the slope it measures: else the second derivative would be wrong."""
    leaves = [Value(x, name) for x, name in zip(xs, names, strict=True)]
    root = returned_value(f(*leaves), _WHERE)
    floats = gradients_of(root, leaves)
    graphs = gradients(root, leaves, create_graph=True)
    at = ", ".join(f"{name}={x!r}" for name, x in zip(names, xs, strict=True))
    lines = [
        f"  d f/d {name}: as a graph {graph.data!r}, by backward() {number!r}"
        for name, graph, number in zip(names, graphs, floats, strict=True)
        if not _close(graph.data, number, _SAME, _SAME * rounding_scale(root))
    ]
    for node in topological_order(root):
        if isinstance(node.op, RuleOp) and node.op.derivative is not None:
            lines += _defined_derivative_problems(node, node.op)
    if lines:
        title = f"the first derivatives of f, as graphs to differentiate again, are wrong at {at}:"
        raise AssertionError("\n".join([title, *lines]))


def _defined_derivative_problems(node: Value, op: RuleOp) -> list[str]:
    """What is wrong with the `derivative` the op of define_op of this node was given."""
    parents = list(node.parents)
    inputs = ", ".join(repr(p.data) for p in parents)
    where = f"  {op}, made by define_op, at {inputs}:"
    given = gradients(node, parents, create_graph=True)  # the derivative= it was given
    problems = []
    for k, (derivative, recorded) in enumerate(zip(given, node.local_grads, strict=True)):
        wrt = f"d/d{'xy'[k]}"
        if not _close(derivative.data, recorded, _SAME, _SAME):
            problems.append(
                f"{where} its derivative= gives {wrt} = {derivative.data!r}, its rule "
                f"{recorded!r}: one of the two is wrong."
            )
            continue
        # The derivative's own slope, in each input, against the slope of its graph.
        for j, parent in enumerate(parents):

            def moved(t: float, j: int = j, k: int = k) -> float:
                shifted = tuple(
                    Value(t) if i == j else Value(p.data) for i, p in enumerate(parents)
                )
                local = VALUES.defined(op, shifted)[1 + k]
                return local.data if isinstance(local, Value) else float(local)

            (slope_of_graph,) = gradients(derivative, [parent])
            slope = measure_slope(
                moved, parent.data, fx=derivative.data, against=slope_of_graph.data
            )
            if slope.measured and not slope.agrees(slope_of_graph.data, OP_REL, OP_ABS):
                problems.append(
                    f"{where} the graph of its derivative= ({wrt}) has slope "
                    f"{slope_of_graph.data!r} in {'xy'[j]}, but its values change at "
                    f"{slope.estimate!r}: written so it cannot be differentiated (reading "
                    ".data, or making a new Value, cuts the graph)."
                )
    return problems


def _check_point(
    f: Callable[..., Value],
    of: str,
    xs: tuple[float, ...],
    names: list[str],
    against: str,
    rel: float,
    abs_given: float | None,
    default_abs: float,
    report: GradientReport,
) -> None:
    leaves = [Value(x, name) for x, name in zip(xs, names, strict=True)]
    root = returned_value(f(*leaves), _WHERE)
    analytic = gradients_of(root, leaves)
    scale = rounding_scale(root)
    abs_ = (
        default_abs * (max(1.0, scale) if against != "central" else 1.0)
        if abs_given is None
        else abs_given
    )
    at = ", ".join(f"{name}={x!r}" for name, x in zip(names, xs, strict=True))
    mismatches: list[tuple[Value | None, str]] = []  # (the argument or None for f, its line)
    if against == "central":
        rounding = value_rounding(root)
        for i, leaf in enumerate(leaves):

            def moved(t: float, i: int = i) -> float:
                shifted = [Value(t if j == i else x) for j, x in enumerate(xs)]
                return returned_value(f(*shifted), _WHERE).data

            g = analytic[i]
            slope = measure_slope(
                moved, xs[i], fx=root.data, scale=rounding, rel=rel, abs=abs_, against=g
            )
            if not slope.measured:
                _skip(report, f"at {at}, {_derivative(of, names[i])}: {slope.why_not}")
                continue
            report.compared += 1
            if not slope.agrees(g, rel, abs_):
                line = _line(of, names[i], g, "central difference", slope.estimate, rel, abs_)
                mismatches.append((leaf, line))
    elif not math.isfinite(root.data):
        for name in names:
            _skip(report, f"at {at}, {_derivative(of, name)}: {of} is {root.data!r} at the point")
    else:
        answer = (by_sympy if against == "sympy" else by_torch)(root, leaves)
        if answer.why_not_f or not math.isfinite(answer.value):
            why = answer.why_not_f or f"{against} says {of} is {answer.value!r} at the point"
            for name in names:
                _skip(report, f"at {at}, {_derivative(of, name)}: {why}")
        else:
            off = [(n, v) for n, v in answer.values if not _close(n.data, v, rel, abs_)]
            if off:  # an op whose own value is not what its name says
                node, exact = off[0]
                inputs = ", ".join(repr(p.data) for p in node.parents)
                what = f"the value of {node.op} at {inputs}"
                mismatches.append((None, _line(of, what, node.data, against, exact, rel, abs_)))
            elif not _close(root.data, answer.value, rel, abs_):
                mismatch = _line(of, "", root.data, against, answer.value, rel, abs_)
                mismatches.append((None, mismatch))
            for i, leaf in enumerate(leaves):
                theirs = answer.gradient[i]
                if answer.why_not[i] or math.isnan(theirs):
                    why = answer.why_not[i] or f"{against} has no number for it (nan)"
                    _skip(report, f"at {at}, {_derivative(of, names[i])}: {why}")
                    continue
                report.compared += 1
                if not _close(analytic[i], theirs, rel, abs_):
                    mismatches.append(
                        (leaf, _line(of, names[i], analytic[i], against, theirs, rel, abs_))
                    )
    # An op of define_op is checked on its own in any case: the oracles cannot see inside.
    culprits = [
        check
        for node in topological_order(root)
        if isinstance(node.op, RuleOp)
        for k in range(len(node.parents))
        if (check := check_op(node, k)) is not None and check.wrong
    ]
    if not mismatches and not culprits:
        return
    on_paths = {leaf: path_checks(root, leaf) for leaf, _ in mismatches if leaf is not None}
    named = {(c.node, c.k) for c in culprits}
    for checks in on_paths.values():
        for check in checks:
            if check.wrong and (check.node, check.k) not in named:
                named.add((check.node, check.k))
                culprits.append(check)
    excuses: dict[Value | None, list[OpCheck]] = {
        leaf: [c for c in checks if not c.slope.measured] for leaf, checks in on_paths.items()
    }
    if not culprits and all(excuses.get(argument) for argument, _ in mismatches):
        # f is smooth, but an op on the way sits on its own kink or singularity: autograd
        # follows the op's convention there (relu'(0) = 0; nan), not f's slope.
        for argument, line in mismatches:
            check = excuses[argument][0]
            why = f"{check.where}, on a kink or singularity of its own ({check.slope.why_not})"
            _skip(report, f"at {at}: {line.strip()}; but {why}")
            report.compared -= 1
        return
    raise AssertionError("\n".join(_message(of, against, at, mismatches, culprits, on_paths)))


def _message(
    of: str,
    against: str,
    at: str,
    mismatches: list[tuple[Value | None, str]],
    culprits: list[OpCheck],
    on_paths: dict[Value, list[OpCheck]],
) -> list[str]:
    oracle_name = "central differences" if against == "central" else against
    if mismatches:
        lines = [f"gradients of {of} do not match {oracle_name} at {at}:"]
        lines += [line for _, line in mismatches]
    else:  # each gradient matched; an op of define_op is wrong where it does not show
        lines = [f"gradients of {of} match {oracle_name} at {at}, but an op is wrong:"]
    if culprits:
        lines.append("ops whose local derivative disagrees with their own central difference:")
        lines += [f"  {check}" for check in sorted(culprits, key=_disagreement, reverse=True)]
        return lines
    suspects = [check for checks in on_paths.values() for check in checks if check.disagrees]
    if suspects:
        lines.append(
            f"no op on the way is off by more than its own tolerance (rel {OP_REL:g}), but this "
            "one disagrees with its own central difference most, by more than the measurement "
            "can explain:"
        )
        lines.append(f"  {max(suspects, key=_disagreement)}")
    elif on_paths:
        lines.append(
            "every op on the way agrees with its own central difference: suspect the "
            "chain rule itself (backward()), or f reading numbers (x.data) or branching on them."
        )
    else:
        lines.append(
            f"{of}'s own value differs from {oracle_name}'s: an op computes a different number "
            "than its name says (its value, not its derivative)."
        )
    return lines


def _disagreement(check: OpCheck) -> float:
    return relative_error(check.recorded, check.slope.estimate)


def _line(
    of: str, name: str, ours: float, oracle: str, theirs: float, rel: float, abs_: float
) -> str:
    what = (
        name if name.startswith("the value") else _derivative(of, name) if name else f"{of} itself"
    )
    return (
        f"  {what}: autograd {ours!r}, {oracle} {theirs!r}, relative error "
        f"{relative_error(ours, theirs):.3g} (allowed: rel {rel:g}, abs {abs_:.3g})"
    )


def _derivative(of: str, name: str) -> str:
    """d f/d x; for a first derivative d f/d x itself, d/d y (d f/d x)."""
    return f"d f/d {name}" if of == "f" else f"d/d {name} ({of})"


def _skip(report: GradientReport, why: str) -> None:
    report.skipped.append(why)
    if currently_in_test_context():  # hypothesis counts these in its statistics
        event("assert_gradients_match skipped a point: a kink or a singularity")
