"""The fuzz against PyTorch float64 (tests/fuzz_torch.py): 2,000 random expressions here,
100,000 in `make fuzz`; and its parts -- the expressions, the 50-digit reference, the
judge -- checked on cases whose answers are known. Method and counts: docs/reliability.md.
"""

from __future__ import annotations

import math
import random

import mpmath
import pytest
from fuzz_torch import (
    OPS,
    OURS_CLOSER,
    TORCH_CLOSER,
    Expression,
    Step,
    agree,
    fuzz,
    random_expression,
    reference,
    ulp_distance,
    verdict,
    within_noise,
)
from mpmath import mpf

INF, NAN = math.inf, math.nan


def test_fuzz_2000_expressions_torch_is_never_closer_by_more_than_2_ulp() -> None:
    pytest.importorskip("torch", reason="the fuzz compares with PyTorch: pip install torch==2.13.0")
    report = fuzz(2000, seed=0)
    assert report.count == 2000 and sum(report.expressions.values()) == 2000
    assert not report.failures, report.text(examples=10)


# -- the expressions ---------------------------------------------------------------------------


def test_the_expressions_cover_every_op_reuse_and_the_singular_points() -> None:
    rng = random.Random(0)
    expressions = [random_expression(rng) for _ in range(2000)]
    steps = [step for e in expressions for step in e.steps]
    assert {step.op for step in steps} == set(OPS)
    # A node used twice: by two ops, or twice by one (x * x).
    reused = 0
    for e in expressions:
        uses = [i for step in e.steps for i in (step.a, step.b) if i >= 0]
        reused += len(uses) != len(set(uses))
    assert reused > 200
    leaves = [x for e in expressions for x in e.leaves]
    assert any(x == 0.0 and math.copysign(1.0, x) < 0.0 for x in leaves)  # -0.0
    assert any(0.0 < abs(x) < 2.2250738585072014e-308 for x in leaves)  # subnormal
    assert any(x > 709.78 for x in leaves)  # exp overflows
    powers = [step.c for step in steps if step.op == "pow_c"]
    assert 0.0 in powers and 0.5 in powers and -1.0 in powers


def test_a_reproduction_line_runs_and_prints_the_engines_numbers() -> None:
    e = Expression((-1.0, 2.0), (Step("relu", 0), Step("pow_c", 2, c=0.5), Step("rdiv", 3, c=-2.0)))
    line = e.reproduction()
    assert "v2 = x0.relu(); v3 = v2 ** 0.5; v4 = (-2.0) / v3; v4.backward()" in line
    assert line.startswith("from tinygrad_xor import Value as V; x0 = V(-1.0); x1 = V(2.0);")


# -- the reference: exact numbers, IEEE's special cases, structural zeros -------------------


def test_reference_relu_below_zero_then_sqrt_has_gradient_zero() -> None:
    # The function is 0 on a neighbourhood of -1, so its derivative is 0 there, however
    # infinite the derivative of sqrt at 0 is (the engine gave 0 * inf = nan).
    truth = reference(Expression((-1.0,), (Step("relu", 0), Step("pow_c", 1, c=0.5))))
    assert truth.numbers == [0.0, 0.0]


def test_reference_is_exact_where_float64_underflows() -> None:
    # log(exp(-1000)) is -1000 and its derivative 1; in float64 exp(-1000) is 0.
    truth = reference(Expression((-1000.0,), (Step("exp", 0), Step("log", 1))))
    assert truth.numbers == [mpf(-1000), mpf(1)]


def test_reference_0_times_inf_is_undefined_and_1_over_0_is_signed() -> None:
    # x * log(y) at x = 0, y = 0: 0 * -inf has no value; d/dx = log 0 = -inf; d/dy = x / y.
    truth = reference(Expression((0.0, 0.0), (Step("log", 1), Step("mul", 0, 2))))
    value, dx, dy = truth.numbers
    assert mpmath.isnan(value) and dx == -mpmath.inf and mpmath.isnan(dy)
    negative_zero = reference(Expression((-0.0,), (Step("rdiv", 0, c=1.0),)))
    assert negative_zero.numbers[0] == -mpmath.inf


def test_reference_noise_covers_a_different_summation_order() -> None:
    # d/dx of (x - 2y) - x - exp(x): 1 - 1 - e^x, which float64 gives as 0.0 or -e^x
    # depending on the order of the three terms.
    e = Expression(
        (-57.48573592168794, -4561.0),
        (
            Step("add", 1, 1),  # v2 = 2y
            Step("exp", 0),  # v3 = exp(x)
            Step("sub", 0, 2),  # v4 = x - 2y
            Step("sub", 4, 0),  # v5 = v4 - x
            Step("sub", 5, 3),  # v6 = v5 - exp(x)
        ),
    )
    truth = reference(e)
    assert within_noise(0.0, truth.numbers[1], truth.noise[1])
    assert within_noise(-math.exp(-57.48573592168794), truth.numbers[1], truth.noise[1])
    assert not within_noise(NAN, truth.numbers[1], truth.noise[1])


# -- the judge ---------------------------------------------------------------------------------


def test_ulp_distance() -> None:
    assert ulp_distance(1.0, mpf(1)) == 0.0
    assert ulp_distance(math.nextafter(1.0, 2.0), mpf(1)) == 1.0
    assert ulp_distance(INF, mpf("1e400")) == 0.0  # inf is how float64 rounds 1e400
    assert ulp_distance(1.7976931348623157e308, mpf("1e400")) == INF
    assert ulp_distance(NAN, mpf("nan")) == 0.0  # undefined, and said so
    assert ulp_distance(0.0, mpf("nan")) == INF
    assert ulp_distance(5e-324, 0.0) == 1.0


def test_agree() -> None:
    assert agree(1.0, 1.0 + 1e-12) and agree(NAN, NAN) and agree(0.0, -0.0) and agree(INF, INF)
    assert agree(5e-324, 1e-323)  # 1 ulp apart
    assert not agree(1.0, 1.0 + 1e-8)
    assert not agree(INF, NAN) and not agree(0.0, NAN) and not agree(INF, -INF)


def test_verdict() -> None:
    assert verdict(NAN, 0.0, 0.0) == (TORCH_CLOSER, INF)
    assert verdict(0.0, NAN, 0.0) == (OURS_CLOSER, INF)
    with mpmath.workdps(30):  # 1 + 0.75 ulp: ours 0.75 ulp away, torch's 0.25
        truth = mpf(1) + mpf(2) ** -52 * 0.75
    category, margin = verdict(1.0, math.nextafter(1.0, 2.0), truth)
    assert category == TORCH_CLOSER and margin == pytest.approx(0.5)
