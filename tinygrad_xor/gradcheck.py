"""Checking the engine's gradients against the measured slope: gradcheck, and what it shares.

    gradcheck(f, params)            each parameter's backward() gradient against the slope of
                                    f measured by slopes.measure_slope; GradcheckError if off
    returned_value(out, where)      f's result, or TypeError when f did not return a Value
    gradients_of(out, leaves)       d out / d leaf by backward(), every .grad left as it was
    rounding_scale(out)             the largest number an op made in out's graph: the scale
                                    its gradients round at
    value_rounding(out)             how far rounding may move out's value: the scale the
                                    measured slope's noise goes with

The last four are the pieces tinygrad_xor.testing's assert_gradients_match uses too, so
both checkers measure, refuse and restore alike. Only the engine is needed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from tinygrad_xor.checks import real_number, shown
from tinygrad_xor.engine import Value, topological_order
from tinygrad_xor.slopes import STEP, measure_slope

__all__ = [
    "GradcheckError",
    "GradcheckRow",
    "GradcheckReport",
    "gradcheck",
    "returned_value",
    "gradients_of",
    "rounding_scale",
    "value_rounding",
]


_Read = TypeVar("_Read")


class GradcheckError(RuntimeError):
    """Autograd and the measured slope disagree by more than the tolerance."""


@dataclass(frozen=True)
class GradcheckRow:
    """One parameter: the autograd gradient, the measured slope and how far apart they are;
    or, where the slope cannot be measured (a kink, a singularity), why it was skipped."""

    name: str
    analytic: float
    numeric: float  # nan when skipped
    error: float  # |analytic - numeric|
    allowed: float  # atol + rtol * max(|analytic|, |numeric|) + the slope's own error bound
    skipped: str = ""  # why the slope could not be measured ("" when it was compared)

    @property
    def ok(self) -> bool:
        # Written so that a nan error (a nan gradient on either side) is not ok.
        return bool(self.skipped) or self.error <= self.allowed

    def __str__(self) -> str:
        if self.skipped:
            return f"{self.name:>12}  analytic {self.analytic: .12e}  skipped: {self.skipped}"
        verdict = "ok" if self.ok else "MISMATCH"
        return (
            f"{self.name:>12}  analytic {self.analytic: .12e}  numeric {self.numeric: .12e}  "
            f"error {self.error:.3e}  (allowed {self.allowed:.1e})  {verdict}"
        )


@dataclass(frozen=True)
class GradcheckReport:
    """All parameters' rows; `str(report)` prints one line per parameter."""

    rows: tuple[GradcheckRow, ...]
    eps: float
    atol: float
    rtol: float

    @property
    def ok(self) -> bool:
        """No compared row is off (skipped rows are not failures: see `skipped`)."""
        return all(row.ok for row in self.rows)

    @property
    def compared(self) -> int:
        return sum(not row.skipped for row in self.rows)

    @property
    def skipped(self) -> tuple[GradcheckRow, ...]:
        return tuple(row for row in self.rows if row.skipped)

    @property
    def worst(self) -> GradcheckRow:
        """The compared row furthest over (or closest to) its tolerance; nan counts as worst."""
        return max(self.rows, key=_excess)

    def __str__(self) -> str:
        return "\n".join(str(row) for row in self.rows)


def _excess(row: GradcheckRow) -> float:
    if row.skipped:
        return -math.inf
    if math.isnan(row.error):
        return math.inf
    return row.error / row.allowed if row.allowed > 0.0 else row.error


def returned_value(out: object, where: str) -> Value:
    """`out` if it is a Value; TypeError saying what f returned instead."""
    if not isinstance(out, Value):
        raise TypeError(
            f"{where}: f must return a Value (the number to differentiate), it returned "
            f"{type(out).__name__} {shown(out)}. Build the result from the Values f is given "
            "and return it."
        )
    return out


def gradients_of(out: Value, leaves: Sequence[Value]) -> list[float]:
    """d out / d leaf for each leaf, by out.backward(), leaving every .grad as it was.

    backward() writes the grad of every Value in out's graph: the leaves it checks, the
    weights f closes over, and nodes shared with a graph built outside f. A check in the
    middle of a training step must change none of them.
    """
    return _after_backward(out, leaves, lambda: [leaf.grad for leaf in leaves])


def _after_backward(out: Value, leaves: Sequence[Value], read: Callable[[], _Read]) -> _Read:
    """What `read` finds in the .grads right after out.backward(); every .grad then restored."""
    touched = [*topological_order(out), *leaves]  # a leaf out does not use reads 0
    saved = [(node, node.grad) for node in touched]
    try:
        for leaf in leaves:
            leaf.grad = 0.0
        out.backward()
        return read()
    finally:
        for node, grad in saved:
            node.grad = grad


def rounding_scale(out: Value) -> float:
    """The largest finite |number| an op made in out's graph (0.0 if none): what its
    rounding scales with. (Leaves are exact: cos(x) at x = 1e9 rounds like a number near 1.)"""
    made = (n.data for n in topological_order(out) if not n.is_leaf)
    return max([0.0, *(math.fabs(data) for data in made if math.isfinite(data))])


def value_rounding(out: Value) -> float:
    """How far rounding may move out's value, in units of the relative precision.

    An op's result n that rounds by a fraction e of itself moves out by about e * |n| *
    |d out / d n|: the sum of |n| * |d out / d n| over the ops' results. A number far
    larger than out that out hardly depends on (v / (v*v + 1) at v = 36) adds little.
    Never more than rounding_scale(out), so an op's wrong derivative under test cannot
    make rounding look larger than the graph's numbers (it is the bound when an adjoint
    is not finite).
    """
    largest = rounding_scale(out)

    def weighted() -> float:
        made = [n for n in topological_order(out) if not n.is_leaf]
        return sum(math.fabs(n.data * n.grad) for n in made if n.grad != 0.0)

    total = _after_backward(out, [], weighted)
    return total if total < largest else largest  # a nan total is not smaller: the bound


def _named_params(params: Sequence[Value] | Mapping[str, Value]) -> list[tuple[str, Value]]:
    if isinstance(params, Mapping):
        named = list(params.items())
    elif isinstance(params, (list, tuple)):
        named = [
            (p.label if isinstance(p, Value) and p.label else f"params[{i}]", p)
            for i, p in enumerate(params)
        ]
    else:
        raise TypeError(
            "params must be a list of leaf Values or a dict of name -> Value, "
            f"got {type(params).__name__}."
        )
    if not named:
        raise ValueError("params is empty: pass the leaf Values to check, e.g. model.parameters().")
    for name, p in named:
        if not isinstance(p, Value):
            raise TypeError(f"parameter {name!r} must be a Value, got {type(p).__name__} {p!r}.")
        if not p.is_leaf:
            raise ValueError(
                f"parameter {name!r} is the result of an op ({p.op!r}), not a leaf: "
                "central differences perturb leaves, so pass the Values you created."
            )
        if not math.isfinite(p.data):
            raise ValueError(
                f"parameter {name!r} is {p.data!r}: a gradient is checked at finite numbers."
            )
    return named


def gradcheck(
    f: Callable[[], Value],
    params: Sequence[Value] | Mapping[str, Value],
    *,
    eps: float = STEP,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_on_failure: bool = True,
) -> GradcheckReport:
    """Compare autograd's d f / d p with the measured slope of f, for each parameter p.

    `f` takes no arguments and rebuilds its result from the parameters' current
    `.data` each call. The slope is slopes.measure_slope's, its first step `eps *
    max(1, |p|)`; where it cannot be measured (a kink, a singularity) the row is
    skipped, with the reason, and is not a failure. Parameters' `.data`, and the
    `.grad` of every Value in f's graph, are left as they were.

    >>> w, x = Value(0.5, "w"), Value(2.0, "x")
    >>> print(gradcheck(lambda: (w * x).tanh(), [w]).ok)
    True
    """
    named = _named_params(params)
    eps, atol, rtol = (
        real_number(what, x, at_least=0.0)
        for what, x in (("eps", eps), ("atol", atol), ("rtol", rtol))
    )
    if eps == 0:
        raise ValueError("eps must be > 0: it is the first step of the central difference.")

    out = returned_value(f(), "gradcheck")
    analytic = gradients_of(out, [p for _, p in named])
    scale = value_rounding(out)

    rows = []
    for (name, p), a in zip(named, analytic, strict=True):

        def moved(t: float, p: Value = p) -> float:
            original = p.data
            try:
                p.data = t
                return returned_value(f(), "gradcheck").data
            finally:
                p.data = original

        slope = measure_slope(
            moved, p.data, fx=out.data, scale=scale, rel=rtol, abs=atol, step=eps, against=a
        )
        if not slope.measured:
            rows.append(GradcheckRow(name, a, math.nan, math.nan, math.nan, slope.why_not))
            continue
        error = math.fabs(a - slope.estimate)
        rows.append(GradcheckRow(name, a, slope.estimate, error, slope.allowed(a, rtol, atol)))

    report = GradcheckReport(tuple(rows), eps, atol, rtol)
    if raise_on_failure and not report.ok:
        worst = report.worst
        failing = sum(not row.ok for row in rows)
        raise GradcheckError(
            f"gradcheck failed for {failing} of {len(rows)} parameters; worst is {worst.name!r}: "
            f"analytic {worst.analytic!r} vs numeric {worst.numeric!r}, "
            f"error {worst.error:.3e} > allowed {worst.allowed:.3e} "
            f"(atol {atol:g} + rtol {rtol:g} * size + the slope's own error).\n{report}"
        )
    return report
