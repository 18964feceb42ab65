"""tinygrad_xor.slopes: the one numeric differentiator, which both checkers use.

A slope is measured where it can be, to within the error bound it states; where it
cannot (a kink at the point, a singularity, rounding that swamps it, a function that
varies faster than any step), it says so and gives no number. Both directions are
pinned: a kink 3e-4 of the slope wide is not measured through, one 3e-5 wide is.
"""

from __future__ import annotations

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
    assert "a kink" not in slope.why_not.split(":")[0]


@pytest.mark.parametrize(("jump", "measured"), [(3e-4, False), (3e-5, True)])
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
    assert slope.why_not.startswith("f's rounding (its numbers reach 1e+20) swamps a slope")


def test_a_function_faster_than_any_step_is_not_measured() -> None:
    # cos at 1e300: the first step is 1e297, 16 tries make it 2**45 times smaller, no more.
    slope = measure_slope(math.cos, 1e300)
    assert slope.why_not.startswith("the slope does not settle at every step from 6.54e+296 to")
    assert "f turns faster than the step, or has a kink or a singularity within" in slope.why_not
    # Given the scale of its numbers, rounding is seen to stop it (1e15 * x rounds).
    slope = measure_slope(lambda x: math.cos(1e15 * x), 1.0, scale=1e15)
    assert slope.why_not.startswith("f's rounding (its numbers reach 1e+15) swamps a slope")


def test_a_point_that_is_not_finite_is_not_measured() -> None:
    assert measure_slope(math.sin, math.nan).why_not.startswith("x is nan")
    assert not measure_slope(math.sin, math.inf).measured


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
