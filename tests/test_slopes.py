"""tinygrad_xor.slopes: the one numeric differentiator, which both checkers use.

A slope is measured where it can be, to within the error bound it states; where it
cannot (a kink at the point, a singularity, rounding that swamps it, a function that
varies faster than any step), it says so and gives no number. Both directions are
pinned: a kink 3e-4 of the slope wide is not measured through, one 3e-5 wide is.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from tinygrad_xor import Value
from tinygrad_xor.gradcheck import gradcheck
from tinygrad_xor.slopes import Slope, measure_slope, relative_error
from tinygrad_xor.testing import assert_gradients_match

SMOOTH = [
    # (name, f, f', x): small and large x, slopes from 1e-9 to 1e12, a stationary point
    ("sin", math.sin, math.cos, 0.5),
    ("sin at 0", math.sin, math.cos, 0.0),
    ("cos at its top", math.cos, lambda x: -math.sin(x), 0.0),
    ("exp", math.exp, math.exp, 3.0),
    ("exp far out", math.exp, math.exp, -20.0),
    ("log", math.log, lambda x: 1 / x, 1e5),
    ("log near 0", math.log, lambda x: 1 / x, 1e-12),
    ("cube", lambda x: x**3, lambda x: 3 * x * x, -7.0),
    ("small", lambda x: 1e-9 * math.sin(x), lambda x: 1e-9 * math.cos(x), 2.0),
    ("cos at 1e8", math.cos, lambda x: -math.sin(x), 1e8),
    ("cos at 1e9", math.cos, lambda x: -math.sin(x), 1e9),
    ("cos(x*x) at 250", lambda x: math.cos(x * x), lambda x: -2 * x * math.sin(x * x), 250.0),
    ("sqrt near 0", math.sqrt, lambda x: 0.5 / math.sqrt(x), 1e-8),
    ("flat as x**4 at 0", lambda x: x**4, lambda x: 4 * x**3, 0.0),
    ("flat on a hill", lambda x: 0.5 + x**4 - x**6, lambda x: 4 * x**3 - 6 * x**5, 0.0),
    ("x**5 at 0", lambda x: x**5, lambda x: 5 * x**4, 0.0),
]


@pytest.mark.parametrize(("name", "f", "df", "x"), SMOOTH, ids=[case[0] for case in SMOOTH])
def test_a_smooth_slope_is_measured_within_the_error_it_states(
    name: str, f: object, df: object, x: float
) -> None:
    slope = measure_slope(f, x)  # type: ignore[arg-type]
    true = df(x)  # type: ignore[operator]
    assert slope.measured, slope.why_not
    assert abs(slope.estimate - true) <= slope.error
    assert slope.error <= 1e-6 * abs(true) + 1e-7  # tight enough to judge by (the default)


def test_the_step_shrinks_only_where_it_must_and_is_a_power_of_two() -> None:
    assert measure_slope(math.sin, 0.5).step == 2.0**-10  # 1e-3, as a power of two
    assert measure_slope(math.log, 3000.0).step == 2.0  # 1e-3 * |x|
    assert measure_slope(math.sin, 3000.0).step <= 2.0**-3  # sin's own scale is 1: shrunk
    assert measure_slope(math.cos, 1e8).step < 0.1
    for x in (0.5, 3000.0, 1e8):
        step = measure_slope(math.cos, x).step
        assert math.frexp(step)[0] == 0.5  # x + k * step is exact for every k used


def test_a_kink_at_the_point_is_never_measured_through() -> None:
    slope = measure_slope(lambda x: max(x, 0.0) * 3.0, 0.0)
    assert not slope.measured and math.isnan(slope.estimate) and slope.error == math.inf
    assert slope.why_not.startswith("slopes 0 from the left, 3 from the right at every step")
    assert slope.why_not.endswith(": a kink")


@pytest.mark.parametrize("power", [1.002, 1.02])
def test_one_sided_slopes_that_keep_shrinking_are_not_called_a_kink(power: float) -> None:
    # |x| ** 1.02 is differentiable at 0 (slope 0), but its one-sided slopes go as
    # h ** 0.02: 4% (0.4% for 1.002) smaller at each 8 times smaller step. A kink's stay
    # put to 1e-3 of their size; these move, so the slope "does not settle".
    slope = measure_slope(lambda x: abs(x) ** power, 0.0)
    assert not slope.measured
    assert slope.why_not.startswith("the slope does not settle at every step from 0.000977")
    assert slope.step == 2.0**-10 / 8.0**15  # 16 tries, each 8 times smaller: no more
    assert "a kink" not in slope.why_not.split(":")[0]


def test_one_step_that_turned_and_smaller_ones_that_failed_are_both_said() -> None:
    # At the first step f has a kink within 2h; every smaller step meets nan.
    h = 2.0**-10

    def f(t: float) -> float:
        return abs(t - 1.5 * h) if t == 0 or abs(t) >= h / 2 else math.nan

    assert measure_slope(f, 0.0).why_not == (
        "the slope does not settle at step 0.000977 (at the last, -1.08333 at step 0.000977, "
        "-1 at 0.000488, -1 from the left, -1 from the right): f turns faster than the step, or "
        "has a kink or a singularity within 0.00195; below that, f is inf or nan within "
        "5.55e-17: a singularity"
    )


def test_a_slope_that_does_not_settle_is_said_in_full() -> None:
    # sqrt|x| at 0: infinitely steep from both sides, so no step's estimates agree.
    slope = measure_slope(lambda x: abs(x) ** 0.5, 0.0)
    assert slope.why_not == (
        "the slope does not settle at every step from 0.000977 to 2.78e-17 (at the last, 0 at "
        "step 2.78e-17, -4.96705e-09 at 1.39e-17, -3.47058e+08 from the left, 3.47058e+08 from "
        "the right): f turns faster than the step, or has a kink or a singularity within 5.55e-17"
    )


@pytest.mark.parametrize(
    ("jump", "measured"), [(3e-4, False), (1.3e-4, False), (0.7e-4, True), (3e-5, True)]
)
def test_how_small_a_kink_is_measured_through(jump: float, measured: bool) -> None:
    # The slopes on the two sides must agree to 1e-4 of the slope: a kink of 3e-4 is one,
    # and is skipped; 3e-5 is measured, with the kink inside its error bound.
    slope = measure_slope(lambda x: x + jump * max(x, 0.0), 0.0)
    assert slope.measured is measured, slope.why_not
    if measured:
        assert slope.error >= abs(slope.estimate - 1.0)
        assert slope.error >= abs(slope.estimate - (1.0 + jump))


@pytest.mark.parametrize("distance", [1.5e-3, 1e-5, 1e-7, -1e-7, -3e-4])
def test_a_kink_next_to_the_point_is_measured_on_the_points_side(distance: float) -> None:
    # The kink sits `distance` from x = 0.7; the step shrinks until it is out of reach.
    corner = 0.7 + distance
    slope = measure_slope(lambda x: 2.0 * x + 5.0 * max(x - corner, 0.0), 0.7)
    assert slope.measured, slope.why_not
    assert abs(slope.estimate - (2.0 if distance > 0 else 7.0)) <= slope.error <= 1e-4
    assert slope.step < abs(distance)


def test_a_singularity_at_or_next_to_the_point() -> None:
    assert measure_slope(math.log, 0.0, fx=-math.inf).why_not == "f is -inf at the point"
    slope = measure_slope(lambda x: math.log(x) if x > 0 else -math.inf, 1e-300)
    assert slope.why_not.startswith("f is inf or nan within ")
    assert slope.why_not.endswith(": a singularity")
    slope = measure_slope(math.sqrt, 1e-300)  # raises left of 0: a domain error
    assert slope.why_not.startswith("f cannot be evaluated within ")
    assert "math domain error" in slope.why_not
    assert measure_slope(math.sqrt, 1e-6).measured  # close, but the step fits


def test_rounding_that_swamps_the_slope_is_said_to() -> None:
    # (x + 1e20) - 1e20 is x, but rounds to multiples of 16384: nothing to measure.
    slope = measure_slope(lambda x: (x + 1e20) - 1e20, 1.0, scale=1e20)
    assert not slope.measured
    assert slope.why_not.startswith("f's rounding (at the scale of 1e+20) swamps a slope")


def test_a_function_faster_than_any_step_is_not_measured() -> None:
    # cos at 1e300: the first step is 1e297, 16 tries make it 2**45 times smaller, no more.
    slope = measure_slope(math.cos, 1e300)
    assert slope.why_not.startswith("the slope does not settle at every step from 6.54e+296 to")
    assert "f turns faster than the step, or has a kink or a singularity within" in slope.why_not
    # Given the scale of its numbers, rounding is seen to stop it (1e15 * x rounds).
    slope = measure_slope(lambda x: math.cos(1e15 * x), 1.0, scale=1e15)
    assert slope.why_not.startswith("f's rounding (at the scale of 1e+15) swamps a slope")


def test_a_point_that_is_not_finite_is_not_measured() -> None:
    assert measure_slope(math.sin, math.nan).why_not.startswith("x is nan")
    assert not measure_slope(math.sin, math.inf).measured
    # No step was taken at such a point, nor where f itself is not finite: step 0.
    for slope in (measure_slope(math.sin, math.inf), measure_slope(math.log, 0.0, fx=-math.inf)):
        assert (slope.step, slope.error) == (0.0, math.inf) and math.isnan(slope.estimate)


def test_a_first_step_below_the_points_precision_says_so_with_the_point() -> None:
    # 3 * 1e-17 is below half an ulp of 3.0 (4.4e-16): no step can be taken at all.
    slope = measure_slope(math.sin, 3.0, step=1e-17)
    assert not slope.measured and slope.why_not == "x = 3.0 leaves no room for a step"


def test_agreement_is_within_the_tolerance_plus_the_error() -> None:
    slope = Slope(2.0, 0.01, 1e-3)
    assert slope.allowed(2.5, 0.1, 0.02) == pytest.approx(0.02 + 0.25 + 0.01)
    assert slope.agrees(2.2, 0.1, 0.0) and not slope.agrees(2.5, 0.0, 0.0)
    assert not slope.agrees(math.nan, 1.0, 1.0)
    assert not Slope(math.nan, math.inf, 1e-3, "a kink").agrees(1.0, 1.0, 1.0)


def test_relative_error() -> None:
    assert relative_error(1.0, 1.1) == pytest.approx(0.1 / 1.1)
    assert relative_error(0.0, 0.0) == 0.0 and relative_error(math.inf, math.inf) == 0.0
    assert relative_error(-1.0, 1.0) == 2.0
    assert relative_error(math.inf, 1.0) == math.inf
    assert math.isnan(relative_error(math.nan, 1.0))


def test_both_checkers_measure_with_it_and_say_the_same() -> None:
    # One differentiator: gradcheck's skipped row and assert_gradients_match's skip give
    # the reason measure_slope gives.
    def f_of_floats(x: float) -> float:
        return max(x, 0.0) * 3.0

    why = measure_slope(f_of_floats, 0.0).why_not  # relu * 3 at 0: every op made 0
    x = Value(0.0, "x")
    (row,) = gradcheck(lambda: x.relu() * 3.0, [x], rtol=1e-6, atol=1e-7).rows
    assert row.skipped == why
    (skipped,) = assert_gradients_match(lambda x: x.relu() * 3.0, 0.0).skipped
    assert skipped == f"at x=0.0, d f/d x: {why}"


def test_every_distance_a_reason_names_is_the_stencils_reach() -> None:
    # The stencil takes f at x +- h/2, h and 2h: a reason names the step, the half step
    # of the narrow estimate, and 2h, how far from x the trouble may sit.
    first = 2.0**-10  # 1e-3 as a power of two
    slope = measure_slope(lambda x: math.log(x) if x > 0 else -math.inf, 1e-300)
    assert slope.why_not == (
        f"f is inf or nan within {2 * first:.3g}: a singularity; below that, "
        f"f is inf or nan within {2 * slope.step:.3g}: a singularity"
    )
    slope = measure_slope(math.sqrt, 1e-300)
    assert slope.why_not.startswith(f"f cannot be evaluated within {2 * first:.3g}: math domain")
    slope = measure_slope(math.cos, 1e300)
    h = slope.step
    assert slope.why_not.startswith(
        f"the slope does not settle at every step from 6.54e+296 to {h:.3g} (at the last, "
    )
    assert f" at step {h:.3g}, " in slope.why_not and f" at {h / 2:.3g}, " in slope.why_not
    assert slope.why_not.endswith(f"a kink or a singularity within {2 * h:.3g}")
    # It stopped where x's precision leaves no smaller step: the half step spans 4 floats.
    assert h / 2 == 4 * math.ulp(1e300)
    slope = measure_slope(lambda x: (x + 1e20) - 1e20, 1.0, scale=1e20)
    assert f"swamps a slope of 0 at step {first:.3g}; below that, " in slope.why_not


def _banded(x: float) -> float:
    """x times 1 or 1.01, by which power-of-8 band (of 2**-10) |x| falls in: each stencil
    of the steps 2**-10, 2**-13, ... sees one slope, any step between them two."""
    if x == 0.0:
        return 0.0
    band = math.floor(math.log(abs(x) / 2.0**-11) / math.log(8.0))
    return x * (1.0 + 0.01 * (band % 2))


def test_a_slope_unlike_itself_nearby_is_measured_again_three_times_at_most() -> None:
    # docs/reliability.md: smaller steps "three times at most", and failing those a skip.
    assert measure_slope(_banded, 0.0).measured  # nothing to disagree with: the first step's
    slope = measure_slope(_banded, 0.0, against=5.0)
    last = 2.0**-10 / 8.0**3  # the first step, made 8 times smaller three times
    assert slope.why_not == (
        f"the slope came out unlike itself at 3 steps in turn, the last {last:.3g}: "
        "f varies faster than the step"
    )
    assert slope.step == last


def test_the_nearby_steps_are_between_half_the_step_and_the_step_and_no_power_of_two() -> None:
    # A slope of 2 judged against 3: it is measured again at three nearby steps, comes out
    # 2 at each, and stands (the derivative is what disagrees). Each stencil calls f at
    # x - 2h first, so the steps it was measured at are read off the calls.
    h = 2.0**-10
    calls: list[float] = []

    def f(x: float) -> float:
        calls.append(x)
        return 2.0 * x

    slope = measure_slope(f, 0.0, against=3.0)
    assert slope.measured and slope.estimate == pytest.approx(2.0) and slope.step == h
    steps = [-t / 2 for t in calls if t < -1e-300][::3]  # x - 2h, x - h, x - h/2: one stencil
    assert steps[0] == h and len(steps) == 4
    for near in steps[1:]:  # odd multiples of h / 2**20, between h/2 and h, apart
        assert 0.5 < near / h < 1.0 and math.ldexp(near / h, 20) % 2 == 1
    assert len(set(steps)) == 4

    # Below half the first step f is nan: the first nearby step reaches it, and every
    # smaller step too. The reason names the step and the nearby one.
    def g(x: float) -> float:
        return x if abs(x) <= 1e-300 or abs(x) >= h / 2 else math.nan

    slope = measure_slope(g, 0.0, against=3.0)
    start = f"the slope is 1 at step {h:.3g}, not measured at {steps[1]:.3g}: "
    assert slope.why_not.startswith(start), slope.why_not
    assert "f varies faster than the step; below it, f is inf or nan within " in slope.why_not


def test_a_flat_slopes_error_is_its_rounding_and_twice_its_steepest_chord() -> None:
    # f is 1 left of 0 and 1 + 1 ulp right of it: flat to within rounding. By hand, at the
    # step h = 2**-10: each value may be off by 64 ulps of its size (the docstring), the
    # stencils by 30 times that over h; the steepest chord is 1 ulp over h/2; the narrow
    # estimate (f(-h) - 8 f(-h/2) + 8 f(h/2) - f(h)) / 6h is 7 ulps over 6h.
    ulp, h = 2.0**-52, 2.0**-10
    slope = measure_slope(lambda x: 1.0 + (ulp if x > 0 else 0.0), 0.0)
    assert slope.step == h
    assert slope.estimate == pytest.approx(7 * ulp / (6 * h), rel=1e-12, abs=0.0)
    rounding = 30 * 64 * ulp * (1 + ulp) / h
    assert slope.error == pytest.approx(rounding + 2 * (ulp / (h / 2)), rel=1e-12, abs=0.0)


def test_rounding_may_be_as_large_as_the_tolerance_and_no_larger() -> None:
    # The docstring: rounding "may be as large as the tolerance the slope will be judged
    # with". A flat f at the same scale states that rounding as its whole error.
    rounding = measure_slope(lambda x: 0.0, 0.0, scale=1.0).error
    assert 0.0 < rounding < 1e-9

    def slope_at(abs_: float) -> Slope:
        return measure_slope(lambda x: 1e-7 * x, 0.0, scale=1.0, rel=0.0, abs=abs_)

    assert slope_at(rounding).measured and slope_at(rounding).error == rounding
    below = slope_at(math.nextafter(rounding, 0.0))
    assert below.why_not.startswith("f's rounding (at the scale of 1) swamps a slope of 1e-07")


def test_a_slope_is_a_record_that_cannot_be_changed() -> None:
    slope = measure_slope(math.sin, 0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        slope.error = 0.0  # type: ignore[misc]


def test_f_that_cannot_be_evaluated_one_float_from_x_is_a_singularity_there() -> None:
    # Only at x - 1 ulp does f raise: the stencil never sees it, the check one float
    # from x does (the slope disagrees with the derivative), and no slope is judged.
    x = 0.75
    below = x - math.ulp(x)

    def f(t: float) -> float:
        if t == below:
            raise ValueError("math domain error")
        return 2.0 * t

    assert measure_slope(f, x).measured  # nothing to disagree with: the stencil's slope
    slope = measure_slope(f, x, against=3.0)
    assert not slope.measured
    assert slope.why_not.startswith("the slope came out unlike itself at 3 steps in turn")
