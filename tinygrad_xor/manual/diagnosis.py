"""Hand-written gradients against the Value engine's, which are right by construction.

    diagnose_gradients  any hand-written gradients against the true ones: beyond "mismatch",
                        per parameter the relative error and the sign, and for the whole
                        vector the cosine and whether it is the true one times a constant
                        (which: the loss value, say) or points the wrong way (a GradientDiagnosis)
    engine_gradients    an nn.MLP with the learner's weights, the same loss, backward()
    diagnose            one variant's hand-written gradients against those
    diagnose_run        diagnose at each weights snapshot of a run

The learner's gradients are keyed by their names ("W1[0,3]"), as Weights.named() gives them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from tinygrad_xor.checks import choice, real_number
from tinygrad_xor.losses import mse
from tinygrad_xor.manual.network import (
    LOSSES,
    ManualRun,
    Weights,
    X,
    Y,
    backprop,
    resolve_loss,
)
from tinygrad_xor.nn import MLP
from tinygrad_xor.slopes import relative_error

__all__ = [
    "GradientRow",
    "GradientDiagnosis",
    "diagnose_gradients",
    "engine_gradients",
    "diagnose",
    "diagnose_run",
]


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
        GradientRow(n, mi, ti, relative_error(mi, ti), _sign(mi) == _sign(ti))
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
        if relative_error(abs(scale), abs(value)) <= rtol:
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


def engine_gradients(weights: Weights, loss: str = "half_sum") -> tuple[float, dict[str, float]]:
    """The loss and each weight's gradient (learner's names) from the Value engine's MLP."""
    loss = choice("loss", loss, LOSSES)
    model = MLP(2, [weights.hidden, 1], bias=weights.has_biases)
    model.load_state_dict(weights.to_state_dict())
    predictions = [model(row)[0] for row in X.tolist()]
    # LOSSES here are losses.mse's reductions, under the same names.
    total = mse(predictions, Y.ravel().tolist(), reduction=loss)
    total.backward()
    by_state_name = dict(model.named_parameters())
    gradients = {
        learner: by_state_name[state_name].grad
        for learner, state_name in zip(weights.named(), weights.to_state_dict(), strict=True)
    }
    return total.data, gradients


def diagnose(weights: Weights, variant: str, loss: str | None = None) -> GradientDiagnosis:
    """Compare a variant's hand-written gradients at `weights` with the engine's true ones."""
    loss_kind = resolve_loss(variant, loss)
    loss_value, true = engine_gradients(weights, loss_kind)
    manual = backprop(weights, variant, loss_kind).gradients().named()
    return diagnose_gradients(manual, true, constants={"the loss value": loss_value})


def diagnose_run(run: ManualRun) -> list[tuple[int, float, GradientDiagnosis]]:
    """(epoch, loss, diagnosis) at each of the run's snapshots, in epoch order."""
    results = []
    for epoch in sorted(run.snapshots):
        weights = run.snapshots[epoch]
        loss_value = backprop(weights, "correct", run.loss_kind).loss
        results.append((epoch, loss_value, diagnose(weights, run.variant, run.loss_kind)))
    return results
