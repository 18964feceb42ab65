"""The slope of a function of one float, measured: central differences that know when they cannot.

    measure_slope(fn, x)     fn'(x) from fn's values near x, with a bound on its error, or why not
    relative_error(a, b)     |a - b| / max(|a|, |b|): how far apart two numbers are

A 5-point central difference at two steps (h and h/2) and a one-sided difference from
each side. Where fn is smooth they agree to within their truncation errors. Where they
do not (a kink, a singularity, or fn varying faster than the step: cos at 1e8), the step
is made 8 times smaller and tried again, until fn's own rounding would swamp the slope.
If no step gives agreement, the slope cannot be measured: `why_not` says why, and no
derivative may be judged there. Any function of floats will do, a gradient too (the
slope of a gradient is a second derivative). docs/reliability.md has the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Slope", "measure_slope", "relative_error", "STEP"]

STEP = 1e-3  # the first step, relative to max(1, |x|)
_EPS = 2.0**-52
_NOISE_ULPS = 64.0  # what one evaluation of fn may be off by, in ulps of `scale`
_SMOOTH = 1e-4  # the estimates must agree to this fraction of the slope's size
_SHRINK = 8.0  # each try's step is this much smaller than the last
_TRIES = 16
_RETRIES = 3  # a slope that disagrees with the derivative is measured again this often
_OFFSETS = (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0)
_NEARBY = (0.72, 0.84, 0.91)  # the steps a slope is confirmed at, relative to its own


@dataclass(frozen=True)
class Slope:
    """fn'(x) as measured: the estimate, a bound on its error and the step it was taken at;
    or, when it could not be measured, why not (and estimate nan, error inf)."""

    estimate: float
    error: float
    step: float
    why_not: str = ""

    @property
    def measured(self) -> bool:
        return not self.why_not

    def allowed(self, derivative: float, rel: float, abs: float) -> float:
        """How far `derivative` may be from the estimate: abs + rel * size + the error."""
        return abs + rel * max(math.fabs(derivative), math.fabs(self.estimate)) + self.error

    def agrees(self, derivative: float, rel: float, abs: float) -> bool:
        """Is `derivative` within `allowed` of a measured slope? (nan never is.)"""
        gap = math.fabs(derivative - self.estimate)
        return self.measured and gap <= self.allowed(derivative, rel, abs)


def relative_error(a: float, b: float) -> float:
    """|a - b| / max(|a|, |b|): 0.0 when a == b, inf when one is infinite, nan for a nan."""
    if a == b:
        return 0.0
    gap = math.fabs(a - b)
    return gap if math.isinf(gap) else gap / max(math.fabs(a), math.fabs(b))


def measure_slope(
    fn: Callable[[float], float],
    x: float,
    *,
    fx: float | None = None,
    scale: float = 0.0,
    rel: float = 1e-6,
    abs: float = 1e-7,
    step: float = STEP,
    against: float | None = None,
) -> Slope:
    """Measure fn'(x), starting at step `step * max(1, |x|)`.

    `fx` is fn(x) when the caller has it. `scale` is what fn's rounding goes with near x
    (gradcheck.value_rounding of its graph, say; fn's values are taken in any case): fn's
    rounding is taken as 64 ulps of it. The estimates must agree to 1e-4 of the slope's
    size (the steepest chord from x), else the step shrinks. Rounding may be as large as
    the tolerance the slope will be judged with (rel, abs), 1e-4 of the size or 1e-4: it
    is added to the error bound. A slope whose bound is looser than the tolerance is
    measured again at the next step, and the better kept. ValueError or ArithmeticError
    from fn near x reads as a singularity there.

    `against`: the derivative the slope will be judged against. Where they disagree, the
    slope must first prove itself: measured again at three nearby steps whose ratios to
    the first are not powers of two, it must come out the same. (A step near a multiple
    of f's period fakes a smooth slope, at every power-of-two step below it too.) If it
    does not, smaller steps are tried, and failing those the slope is not measured. This
    only ever asks for more measuring: it never moves the estimate towards `against`.
    """
    if not math.isfinite(x):
        return Slope(math.nan, math.inf, 0.0, f"x is {x!r}: a slope is measured at a finite x")
    if fx is None:
        fx = fn(x)
    if not math.isfinite(fx):
        return Slope(math.nan, math.inf, 0.0, f"f is {fx!r} at the point")
    # A power of two: x + k*h is exact for every k used, so the steps are what they say.
    first = math.ldexp(1.0, math.frexp(step * max(1.0, math.fabs(x)))[1] - 1)
    slope = _measure_from(fn, x, fx, first, scale, rel, abs)
    for _ in range(_RETRIES):
        if against is None or not slope.measured or slope.agrees(against, rel, abs):
            return slope
        unlike = _unlike_nearby(fn, x, fx, slope, scale, rel, abs)
        if not unlike:
            return slope  # the same at every nearby step: the derivative is what disagrees
        smaller = _measure_from(fn, x, fx, slope.step / _SHRINK, scale, rel, abs)
        if not smaller.measured:
            why = f"{unlike}: f varies faster than the step; below it, {smaller.why_not}"
            return Slope(math.nan, math.inf, slope.step, why)
        slope = smaller
    if against is None or slope.agrees(against, rel, abs):
        return slope
    why = f"the slope came out unlike itself at {_RETRIES} steps in turn, the last {slope.step:.3g}"
    return Slope(math.nan, math.inf, slope.step, f"{why}: f varies faster than the step")


def _unlike_nearby(
    fn: Callable[[float], float],
    x: float,
    fx: float,
    slope: Slope,
    scale: float,
    rel: float,
    abs: float,
) -> str:
    """How the slope at steps near slope.step differs from it; "" when it does not.

    Each nearby step is h times an odd number over 2**bits, bits as many as x's precision
    allows (up to 20): a step near a multiple of f's period fools these too only if
    h / 2**bits is one as well. And one ulp from x, f must change by what the slope says:
    past 1e9, cos turns between neighbouring floats, and no step of them can measure it.
    """
    h, estimate = slope.step, slope.estimate
    ulp = math.ulp(x)
    for neighbour in (x - ulp, x + ulp):
        try:
            change = fn(neighbour) - fx
        except (ValueError, ArithmeticError):
            change = math.nan
        said = estimate * (neighbour - x)
        noise = 2.0 * _NOISE_ULPS * _EPS * max(scale, math.fabs(fx), math.fabs(fx + change))
        if not math.fabs(change - said) <= slope.error * ulp + noise:
            return (
                f"one float from x, f changes by {change:.3g} where a slope of {estimate:.3g} "
                f"says {said:.3g}"
            )
    bits = min(20, math.frexp(h / (8.0 * math.ulp(math.fabs(x) + 2.0 * h)))[1] - 1)
    if bits < 4:
        return f"the slope is {estimate:.6g} at step {h:.3g}, too near x's precision"
    for ratio in _NEARBY:
        near_h = math.ldexp(float(int(math.ldexp(ratio, bits)) | 1), -bits) * h  # exact
        near = _at_step(fn, x, fx, near_h, scale, rel, abs).slope
        if near is None or math.fabs(near.estimate - estimate) > near.error + slope.error:
            theirs = "not measured" if near is None else f"{near.estimate:.6g}"
            return f"the slope is {estimate:.6g} at step {h:.3g}, {theirs} at {near_h:.3g}"
    return ""


@dataclass(frozen=True)
class _Try:
    """One step's measurement: the slope, or what stood in its way."""

    h: float
    slope: Slope | None = None  # measured at h
    left: float = math.nan  # the one-sided and the two central estimates, where evaluated
    right: float = math.nan
    wide: float = math.nan
    narrow: float = math.nan
    size: float = math.nan
    sides: float = math.nan  # how far the one-sided estimates disagree, past rounding
    steps: float = math.nan  # how far the central ones at h and h/2 do
    kink: bool = False  # the sides disagree more than the steps
    blocked: str = ""  # f not finite or not evaluable within 2h, or rounding swamps the slope
    swamped: bool = False  # by rounding: a smaller step only rounds worse


def _measure_from(
    fn: Callable[[float], float],
    x: float,
    fx: float,
    h: float,
    scale: float,
    rel: float,
    abs: float,
) -> Slope:
    """The slope at the first step from h down that gives one (8 times smaller each try)."""
    first = h
    best: Slope | None = None
    failed: list[_Try] = []
    for _ in range(_TRIES):
        if h / 2.0 < 4.0 * math.ulp(math.fabs(x) + 2.0 * h):
            break  # x's own precision: no smaller step exists
        before = failed[-1] if failed else None
        attempt = _at_step(fn, x, fx, h, scale, rel, abs, before)
        if attempt.slope is not None:
            if best is not None and attempt.slope.error >= best.error:
                break  # past the best step: rounding grows faster than truncation shrinks
            best = attempt.slope
            if best.error <= abs + rel * math.fabs(best.estimate):
                break
        elif best is not None:
            break
        else:
            failed.append(attempt)  # swamped too: a smaller step may find f flat
        h /= _SHRINK
    if best is not None:
        return best
    if not failed:
        return Slope(math.nan, math.inf, h, f"x = {x!r} leaves no room for a step")
    return Slope(math.nan, math.inf, failed[-1].h, _why_not(failed, first))


def _why_not(failed: list[_Try], first: float) -> str:
    """Why no step gave a slope, from the tries that failed (the largest step first)."""
    last = failed[-1]
    shaped = [t for t in failed if not t.blocked]  # evaluated, and not swamped
    if not shaped:
        earlier = next((t.blocked for t in failed if t.blocked != last.blocked), "")
        return f"{earlier}; below that, {last.blocked}" if earlier else last.blocked
    t = shaped[-1]
    tried = f"step {t.h:.3g}" if t.h == first else f"every step from {first:.3g} to {t.h:.3g}"
    # A kink: the one-sided slopes disagree, and stay put as the step shrinks.
    before = shaped[-2] if len(shaped) > 1 else t
    settled = max(math.fabs(t.left - before.left), math.fabs(t.right - before.right))
    if before is not t and t.kink and before.kink and settled <= 1e-3 * max(t.size, before.size):
        return f"slopes {t.left:.6g} from the left, {t.right:.6g} from the right at {tried}: a kink"
    else:
        why = (
            f"the slope does not settle at {tried} (at the last, {t.wide:.6g} at step "
            f"{t.h:.3g}, {t.narrow:.6g} at {t.h / 2:.3g}, {t.left:.6g} from the left, "
            f"{t.right:.6g} from the right): f turns faster than the step, or has a kink or a "
            f"singularity within {2 * t.h:.3g}"
        )
    return f"{why}; below that, {last.blocked}" if last is not t else why


def _at_step(
    fn: Callable[[float], float],
    x: float,
    fx: float,
    h: float,
    scale: float,
    rel: float,
    abs: float,
    before: _Try | None = None,
) -> _Try:
    """The slope at step h, or what stands in its way; `before`: the try at 8 h, if any."""
    try:
        at = {k: fn(x + k * h) for k in _OFFSETS}
    except (ValueError, ArithmeticError) as error:
        return _Try(h, blocked=f"f cannot be evaluated within {2 * h:.3g}: {error}")
    if not all(math.isfinite(v) for v in at.values()):
        return _Try(h, blocked=f"f is inf or nan within {2 * h:.3g}: a singularity")
    # What one evaluation may be off by, and what that makes each estimate below off by.
    values = [fx, *at.values()]
    off = _NOISE_ULPS * _EPS * max(scale, *map(math.fabs, values))
    noise = off / h
    rounding = 30.0 * noise
    wide = (at[-2.0] - 8.0 * at[-1.0] + 8.0 * at[1.0] - at[2.0]) / (12.0 * h)
    narrow = (at[-1.0] - 8.0 * at[-0.5] + 8.0 * at[0.5] - at[1.0]) / (6.0 * h)
    # The slope's size: the steepest chord from x, so a slope of 0 has one too.
    size = max(math.fabs(v - fx) / (math.fabs(k) * h) for k, v in at.items())
    tolerance = abs + rel * math.fabs(narrow)
    # Flat: every value the same, or the same to within a rounding far below f's own
    # size; no slope at this step, and none hidden.
    same = all(v == fx for v in values) or (
        size * h <= 2.0 * off and off <= 1e-8 * max(map(math.fabs, values))
    )
    if same and rounding + 2.0 * size <= max(tolerance, _SMOOTH):
        return _Try(h, Slope(narrow, rounding + 2.0 * size, h))
    right = (-3.0 * fx + 4.0 * at[0.5] - at[1.0]) / h
    left = (3.0 * fx - 4.0 * at[-0.5] + at[-1.0]) / h
    # Relative to the slope's size, never an absolute floor: a step far too wide makes
    # every estimate small, and alike.
    limit = _SMOOTH * max(math.fabs(narrow), size)
    # Smooth once each estimate is forgiven its rounding, where that rounding is small
    # beside the slope or within the tolerance: the slope's error bound then carries it.
    raw_sides, raw_steps = math.fabs(right - left), math.fabs(wide - narrow)
    if rounding <= max(limit, tolerance):
        sides = max(raw_sides - 16.0 * noise, 0.0)
        steps = max(raw_steps - 4.5 * noise, 0.0)
    else:
        reach = max(scale, math.fabs(fx))
        why = f"f's rounding (at the scale of {reach:.3g}) swamps a slope of {narrow:.3g}"
        return _Try(h, blocked=f"{why} at step {h:.3g}", swamped=True)
    # A kink keeps its sides apart at every step; smooth f's estimates come together as
    # h**2 or faster (flat as x**4 at 0, where they are as large as its size at any step).
    settles = before is not None and all(
        now <= limit or then >= 16.0 * now
        for now, then in ((sides, before.sides), (steps, before.steps))
    )
    if max(sides, steps) <= limit or settles:
        return _Try(h, Slope(narrow, 2.0 * max(sides, steps) + rounding, h))
    return _Try(h, None, left, right, wide, narrow, size, sides, steps, kink=sides >= steps)
