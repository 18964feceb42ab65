"""Checking gradients: autograd against central differences, and hand-written against autograd.

Two questions, two functions:

- `gradcheck(f, params)`: is the engine right? For each parameter p it compares
  the gradient `backward()` gives with the float64 central difference

      d f / d p  ~  (f(p + eps) - f(p - eps)) / (2 eps)

  and raises `GradcheckError` naming the worst parameter when any differs by more
  than `atol + rtol * |numeric|` (PyTorch's test and defaults).
- `diagnose_gradients(manual, true)`: what is wrong with someone's hand-written
  gradients? Beyond "mismatch" it reports, per parameter, the relative error and
  whether the sign agrees and, for the whole vector, the cosine with the true
  gradient and whether the manual gradient is the true one times a constant (and
  which constant: the loss value, say) or points the wrong way.

Only the engine is needed: `f` is any function of leaf Values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from tinygrad_xor.checks import real_number
from tinygrad_xor.engine import Value, topological_order

__all__ = [
    "GradcheckError",
    "GradcheckRow",
    "GradcheckReport",
    "gradcheck",
    "GradientRow",
    "GradientDiagnosis",
    "diagnose_gradients",
]


class GradcheckError(RuntimeError):
    """Autograd and central differences disagree by more than the tolerance."""


# -- gradcheck ----------------------------------------------------------------------


@dataclass(frozen=True)
class GradcheckRow:
    """One parameter: the autograd gradient, the numeric one and how far apart they are."""

    name: str
    analytic: float
    numeric: float
    error: float  # |analytic - numeric|
    allowed: float  # atol + rtol * |numeric|

    @property
    def ok(self) -> bool:
        # Written so that a nan error (a nan gradient on either side) is not ok.
        return self.error <= self.allowed

    def __str__(self) -> str:
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
        return all(row.ok for row in self.rows)

    @property
    def worst(self) -> GradcheckRow:
        """The row furthest over (or closest to) its tolerance; nan errors count as worst."""
        return max(self.rows, key=_excess)

    def __str__(self) -> str:
        return "\n".join(str(row) for row in self.rows)


def _excess(row: GradcheckRow) -> float:
    if math.isnan(row.error):
        return math.inf
    return row.error / row.allowed if row.allowed > 0.0 else row.error


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
    return named


def _evaluate(f: Callable[[], Value]) -> Value:
    out = f()
    if not isinstance(out, Value):
        raise TypeError(
            f"f() must return a Value (the scalar to differentiate), got {type(out).__name__} "
            f"{out!r}. Wrap the computation so it builds and returns the loss Value."
        )
    return out


def gradcheck(
    f: Callable[[], Value],
    params: Sequence[Value] | Mapping[str, Value],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_on_failure: bool = True,
) -> GradcheckReport:
    """Compare autograd's d f / d p with the central difference, for each parameter p.

    `f` takes no arguments and rebuilds its result from the parameters' current
    `.data` each call. Parameters' `.data`, and the `.grad` of every Value in f's
    graph (the parameters not checked and the inputs too), are left as they were.

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
        raise ValueError("eps must be > 0: it is the step of the central difference.")

    # backward() writes the grad of every Value in f's graph: the leaves (parameters
    # not being checked and inputs too) and any interior node f shares with a graph
    # built outside it. Save them all, so checking one parameter in the middle of a
    # training step changes no gradient the step has computed.
    out = _evaluate(f)
    # (A parameter f does not use is zeroed below and reads as 0: restore it too.)
    touched = [*topological_order(out), *(p for _, p in named)]
    saved_grads = [(node, node.grad) for node in touched]
    try:
        for _, p in named:
            p.grad = 0.0
        out.backward()
        analytic = [p.grad for _, p in named]
    finally:
        for node, grad in saved_grads:
            node.grad = grad

    rows = []
    for (name, p), a in zip(named, analytic, strict=True):
        original = p.data
        try:
            p.data = original + eps
            f_plus = _evaluate(f).data
            p.data = original - eps
            f_minus = _evaluate(f).data
        finally:
            p.data = original
        numeric = (f_plus - f_minus) / (2.0 * eps)
        rows.append(GradcheckRow(name, a, numeric, abs(a - numeric), atol + rtol * abs(numeric)))

    report = GradcheckReport(tuple(rows), eps, atol, rtol)
    if raise_on_failure and not report.ok:
        worst = report.worst
        failing = sum(not row.ok for row in rows)
        raise GradcheckError(
            f"gradcheck failed for {failing} of {len(rows)} parameters; worst is {worst.name!r}: "
            f"analytic {worst.analytic!r} vs numeric {worst.numeric!r}, "
            f"error {worst.error:.3e} > allowed {worst.allowed:.3e} "
            f"(atol {atol:g} + rtol {rtol:g} * |numeric|, eps {eps:g}).\n{report}"
        )
    return report


# -- diagnosing hand-written gradients --------------------------------------------------


@dataclass(frozen=True)
class GradientRow:
    """One parameter: the hand-written gradient against the true one."""

    name: str
    manual: float
    true: float
    relative_error: float  # |manual - true| / max(|manual|, |true|); 0 when both are 0
    same_sign: bool  # both positive, both negative, or both zero

    def __str__(self) -> str:
        sign = "" if self.same_sign else "  sign differs"
        return (
            f"{self.name:>12}  manual {self.manual: .6e}  true {self.true: .6e}  "
            f"rel. error {self.relative_error:.2e}{sign}"
        )


@dataclass(frozen=True)
class GradientDiagnosis:
    """What a hand-written gradient gets wrong, as numbers and in words.

    `finding` is one of
      "correct"    every parameter within `rtol` of the true gradient;
      "scaled"     the true gradient times a positive constant `scale` (not 1);
      "negated"    the true gradient times a negative constant: a sign error;
      "wrong_way"  not proportional, and the cosine is negative: a step along it goes uphill;
      "different"  not proportional, cosine >= 0: the gradient of some other function;
      "vanished"   every gradient (theirs and the true one) below `vanished`: nothing to judge.
    `scale_name` names the constant when it matches one of the `constants` given.
    """

    rows: tuple[GradientRow, ...]
    cosine: float  # of the angle between the manual and the true gradient vectors
    scale: float  # the c minimising |manual - c * true|
    proportionality_error: float  # |manual - scale * true| / |manual|
    finding: str
    scale_name: str | None
    summary: str

    @property
    def sign_mismatches(self) -> int:
        return sum(not row.same_sign for row in self.rows)

    @property
    def max_relative_error(self) -> float:
        return max(row.relative_error for row in self.rows)

    def __str__(self) -> str:
        lines = [str(row) for row in self.rows]
        lines.append(
            f"cosine {self.cosine:.6f}, best constant {self.scale:.6g} "
            f"(off by {self.proportionality_error:.1e}), {self.sign_mismatches} of "
            f"{len(self.rows)} signs differ"
        )
        lines.append(self.summary)
        return "\n".join(lines)


def _relative_error(manual: float, true: float) -> float:
    largest = max(abs(manual), abs(true))
    return 0.0 if largest == 0.0 else abs(manual - true) / largest


def _sign(x: float) -> int:
    return (x > 0.0) - (x < 0.0)


def _checked_gradients(what: str, gradients: Mapping[str, float]) -> dict[str, float]:
    if not isinstance(gradients, Mapping):
        raise TypeError(
            f"{what} gradients must be a dict of parameter name -> float, "
            f"got {type(gradients).__name__}."
        )
    checked = {}
    for name, g in gradients.items():
        number = real_number(f"{what} gradient {name!r}", g, finite=False)
        if not math.isfinite(number):
            raise ValueError(f"{what} gradient {name!r} is {g!r}: only finite gradients compare.")
        checked[name] = number
    return checked


def diagnose_gradients(
    manual: Mapping[str, float],
    true: Mapping[str, float],
    *,
    constants: Mapping[str, float] | None = None,
    rtol: float = 1e-6,
    vanished: float = 1e-12,
) -> GradientDiagnosis:
    """Compare hand-written gradients with the true ones (from `backward()`), per parameter.

    `constants` names numbers the manual gradient may have been multiplied by,
    e.g. {"the loss value": 0.7556}; a detected constant is named when it is one of
    them (to `rtol`). Where every gradient, theirs and the true one, is below `vanished`
    (saturated units), there is nothing to compare: the finding is "vanished". The
    summary says what is wrong in plain words.

    >>> d = diagnose_gradients({"w": 3.0, "b": -1.5}, {"w": 2.0, "b": -1.0},
    ...                        constants={"the loss value": 1.5})
    >>> d.finding, d.scale_name
    ('scaled', 'the loss value')
    """
    manual_checked = _checked_gradients("manual", manual)
    true_checked = _checked_gradients("true", true)
    if set(manual_checked) != set(true_checked):
        missing = sorted(set(true_checked) - set(manual_checked))
        extra = sorted(set(manual_checked) - set(true_checked))
        raise ValueError(
            f"manual and true gradients must name the same parameters: manual lacks {missing}, "
            f"has extra {extra}."
        )
    if not true_checked:
        raise ValueError("no gradients to compare: pass at least one parameter.")
    named_constants = _checked_gradients("constant", constants or {})

    names = list(true_checked)
    m = [manual_checked[n] for n in names]
    t = [true_checked[n] for n in names]
    rows = tuple(
        GradientRow(n, mi, ti, _relative_error(mi, ti), _sign(mi) == _sign(ti))
        for n, mi, ti in zip(names, m, t, strict=True)
    )
    dot = math.fsum(mi * ti for mi, ti in zip(m, t, strict=True))
    norm_m = math.sqrt(math.fsum(mi * mi for mi in m))
    norm_t = math.sqrt(math.fsum(ti * ti for ti in t))
    cosine = dot / (norm_m * norm_t) if norm_m > 0.0 and norm_t > 0.0 else 0.0
    # Least squares: the constant c that makes c * true closest to manual.
    scale = dot / (norm_t * norm_t) if norm_t > 0.0 else 0.0
    residual = math.sqrt(math.fsum((mi - scale * ti) ** 2 for mi, ti in zip(m, t, strict=True)))
    proportionality_error = residual / norm_m if norm_m > 0.0 else 0.0

    scale_name = None
    for const_name, value in named_constants.items():
        if _relative_error(abs(scale), abs(value)) <= rtol:
            scale_name = const_name
            break

    max_error = max(row.relative_error for row in rows)
    mismatched = sum(not row.same_sign for row in rows)
    n = len(rows)
    proportional = norm_m > 0.0 and norm_t > 0.0 and proportionality_error <= rtol
    largest = max(max(abs(x) for x in m), max(abs(x) for x in t))

    if largest < vanished:
        finding = "vanished"
        summary = (
            f"Every gradient has vanished: the largest, yours or the true one, is {largest:.1e} "
            "(saturated units pass almost nothing back), so nothing can be judged here. "
            "Compare them where the gradient is alive, such as at the first epoch."
        )
    elif max_error <= rtol:
        finding = "correct"
        summary = (
            f"Your gradients are right: every one of the {n} matches the true gradient "
            f"to {max_error:.1e} relative."
        )
    elif proportional and scale > 0.0:
        finding = "scaled"
        because = (
            f" {scale:.6g} is {scale_name}: you multiplied by {scale_name} where it does not "
            "belong."
            if scale_name
            else ""
        )
        summary = (
            f"Your gradient points the right way (cosine {cosine:.6f}) but every component is "
            f"{scale:.6g} times the true one.{because} Gradient descent still goes downhill, "
            f"but each step is {scale:.6g} times the size it should be, as if the learning "
            "rate were multiplied by it; when that number changes during training "
            "(as a loss value does), the step size changes with it."
        )
    elif proportional:
        finding = "negated"
        named = f" ({scale_name}, with a minus sign)" if scale_name else ""
        summary = (
            f"Your gradient is the true one times {scale:.6g}{named}: it points exactly "
            "the wrong way, so every update climbs the loss instead of descending it. "
            "Look for a sign error, e.g. (y - y_hat) where (y_hat - y) belongs."
        )
    elif cosine < 0.0:
        finding = "wrong_way"
        summary = (
            f"Your gradient points the wrong way: its cosine with the true gradient is "
            f"{cosine:.4f}, and {mismatched} of the {n} parameters have the wrong sign, so a "
            "step 'downhill' along it goes uphill and the loss grows. It is not the true "
            "gradient times any constant: it is the gradient of something else."
        )
    elif norm_m == 0.0 or norm_t == 0.0:
        finding = "different"
        which = (
            "yours is zero and the true one is not"
            if norm_m == 0.0
            else ("the true gradient is zero here (a flat point of the loss) and yours is not")
        )
        summary = f"Your gradient is not the true one: {which}."
    else:
        finding = "different"
        summary = (
            f"Your gradient is not the true one and not a multiple of it (largest relative "
            f"error {max_error:.2g}, cosine {cosine:.4f}, {mismatched} of {n} signs differ). "
            "It is the gradient of some other function; here it still points roughly "
            "downhill, but nothing keeps it that way as the weights change."
        )
    return GradientDiagnosis(
        rows, cosine, scale, proportionality_error, finding, scale_name, summary
    )
