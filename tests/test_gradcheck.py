"""gradcheck: autograd against the measured slope, parameter by parameter.

The measuring itself (tinygrad_xor.slopes) is tested in test_slopes.py; the diagnosis of
hand-written gradients in test_manual_diagnosis.py.
"""

from __future__ import annotations

import dataclasses
import math
import re

import pytest
from refusals import Refusal, assert_refused, each_refusal

from tinygrad_xor import define_op
from tinygrad_xor.engine import Value, op_result
from tinygrad_xor.gradcheck import GradcheckError, gradcheck, rounding_scale, value_rounding
from tinygrad_xor.nn import MLP
from tinygrad_xor.slopes import STEP
from tinygrad_xor.testing import assert_gradients_match

# -- gradcheck -----------------------------------------------------------------------------


def _xor_loss(model: MLP) -> Value:
    total = Value(0.0)
    for row, target in zip([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0], strict=True):
        (prediction,) = model(row)
        total = total + (prediction - target) ** 2
    return total / 4


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_gradcheck_passes_on_the_mlp_loss(activation: str) -> None:
    model = MLP(2, [5, 1], activation=activation, seed=3)
    report = gradcheck(lambda: _xor_loss(model), dict(model.named_parameters()))
    assert report.ok
    assert len(report.rows) == 21
    assert max(row.error for row in report.rows) < 1e-9  # float64 central differences


def test_gradcheck_passes_on_every_op() -> None:
    a, b = Value(0.7, "a"), Value(-1.3, "b")

    def f() -> Value:
        return (
            a * b
            + a / b
            - b**3
            + (a - b).exp()
            + (a * a + 1).log()
            + (a * b).tanh()
            + b.sigmoid()
            + (a + 2).relu()
            + 2.0**a
            + (a + 1.5) ** b
        )

    report = gradcheck(f, [a, b])
    assert report.ok and [row.name for row in report.rows] == ["a", "b"]


def test_gradcheck_prints_one_line_per_parameter() -> None:
    model = MLP(2, [2, 1], seed=0)
    report = gradcheck(lambda: _xor_loss(model), model.parameters())
    lines = str(report).splitlines()
    assert len(lines) == len(model.parameters()) == 9
    number = r"[ -]\d\.\d{12}e[+-]\d\d"  # 13 significant digits, a space for the sign
    row = rf"  analytic {number}  numeric {number}  error \d\.\d{{3}}e-\d\d  \(allowed \S+\)  ok"
    # the label right-aligned in 12 columns, so the numbers of every row line up
    assert re.fullmatch(r"      w1\.1\.1" + row, lines[0]), lines[0]
    assert re.fullmatch(r"        b2\.1" + row, lines[-1]), lines[-1]


def _broken_sigmoid(x: Value) -> Value:
    """sigmoid with the derivative written as s instead of s * (1 - s): a typical slip."""
    s = 1.0 / (1.0 + math.exp(-x.data))
    return op_result(s, "sigmoid", x, s)


def test_gradcheck_catches_a_broken_derivative_and_names_the_worst_parameter() -> None:
    w1, w2, x = Value(0.4, "w1"), Value(-0.2, "w2"), Value(1.5, "x")

    def f() -> Value:
        return _broken_sigmoid(w1 * x) * 2.0 + w2 * w2

    with pytest.raises(GradcheckError, match=r"worst is 'w1'") as caught:
        gradcheck(f, [w1, w2])
    message = str(caught.value)
    assert "1 of 2 parameters" in message and "analytic" in message and "numeric" in message
    assert "(atol 1e-05 + rtol 0.001 * size + the slope's own error)" in message  # the defaults
    assert isinstance(caught.value, RuntimeError)
    report = gradcheck(f, [w1, w2], raise_on_failure=False)
    assert not report.ok and report.worst.name == "w1"
    assert [row.ok for row in report.rows] == [False, True]


def test_gradcheck_leaves_data_and_grad_as_they_were() -> None:
    w, x = Value(0.5, "w"), Value(2.0, "x")
    w.grad = 7.0
    gradcheck(lambda: (w * x).tanh(), [w])
    assert (w.data, w.grad) == (0.5, 7.0)


def test_gradcheck_of_one_parameter_leaves_every_other_grad_in_the_graph_alone() -> None:
    # A training step in progress: backward() has filled every grad, and then one
    # parameter is checked. The other parameter, the input and the interior node the
    # function shares with that step must keep the grads the step gave them.
    w1, w2, x = Value(0.5, "w1"), Value(-1.5, "w2"), Value(2.0, "x")
    shared = w2 * x  # built once, outside f: an interior node of both graphs
    step_loss = (w1 * shared).tanh() + shared * shared
    step_loss.backward()
    before = {v.label or "shared": v.grad for v in (w1, w2, x, shared)}
    assert all(grad != 0.0 for grad in before.values())

    report = gradcheck(lambda: (w1 * shared).tanh(), [w1])

    assert report.ok and report.rows[0].name == "w1"
    after = {v.label or "shared": v.grad for v in (w1, w2, x, shared)}
    assert after == before


def test_gradcheck_reports_nan_gradients_as_failures() -> None:
    w = Value(1.0, "w")
    report = gradcheck(
        lambda: op_result(w.data * 2.0, "twice", w, math.nan), [w], raise_on_failure=False
    )
    assert not report.ok and math.isnan(report.rows[0].analytic)
    assert report.rows[0].numeric == pytest.approx(2.0)  # f is fine: the gradient is not


def test_gradcheck_skips_what_it_cannot_measure_and_says_why() -> None:
    kink, w = Value(0.0, "kink"), Value(-1.0, "w")
    report = gradcheck(lambda: kink.relu() * 3.0, [kink])  # no GradcheckError: not a failure
    (row,) = report.rows
    assert report.ok and report.compared == 0 and report.skipped == (row,)
    assert row.skipped.startswith("slopes 0 from the left, 3 from the right at every step")
    assert str(report).endswith(f"skipped: {row.skipped}")
    report = gradcheck(lambda: w**0.5, [w])  # nan at the point
    assert report.rows[0].skipped == "f is nan at the point"
    assert str(report) == "           w  analytic  nan  skipped: f is nan at the point"


def test_the_worst_parameter_is_one_that_was_compared_never_a_skipped_one() -> None:
    kink, w = Value(0.0, "kink"), Value(0.7, "w")
    report = gradcheck(lambda: kink.relu() * 3.0 + w * w, [kink, w])
    assert [bool(row.skipped) for row in report.rows] == [True, False]
    assert report.worst.name == "w"


def test_the_worst_parameter_is_the_one_furthest_over_its_tolerance() -> None:
    # a's gradient is off by 500 of 1e6 (within rtol 1e-3); b's by 0.02 of 1 (20 times over).
    scaled = define_op("scaled", lambda x: (1e6 * x, 1e6 * (1 + 5e-4)))
    off = define_op("off", lambda x: (x, 1.02))
    a, b, c = Value(0.5, "a"), Value(0.25, "b"), Value(2.0, "c")
    report = gradcheck(lambda: scaled(a) + off(b) + c * c, [a, b, c], raise_on_failure=False)
    assert [row.ok for row in report.rows] == [True, False, True]
    assert report.rows[0].error > report.rows[1].error and report.worst.name == "b"
    tolerances = {"atol": 2e-5, "rtol": 3e-3}
    report = gradcheck(
        lambda: scaled(a) + off(b) + c * c, [a, b, c], raise_on_failure=False, **tolerances
    )
    worst = report.rows[1]
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda: scaled(a) + off(b) + c * c, [a, b, c], **tolerances)
    assert str(caught.value) == (
        f"gradcheck failed for 1 of 3 parameters; worst is 'b': analytic {worst.analytic!r} vs "
        f"numeric {worst.numeric!r}, error {worst.error:.3e} > allowed {worst.allowed:.3e} "
        f"(atol 2e-05 + rtol 0.003 * size + the slope's own error).\n{report}"
    )
    # each row shows its own numbers, its allowance and its verdict
    assert str(worst).split() == [
        "b", "analytic", f"{worst.analytic:.12e}", "numeric", f"{worst.numeric:.12e}",
        "error", f"{worst.error:.3e}", "(allowed", f"{worst.allowed:.1e})", "MISMATCH",
    ]  # fmt: skip
    assert str(report.rows[2]).endswith(f"(allowed {report.rows[2].allowed:.1e})  ok")


def test_an_exact_gradient_passes_at_zero_tolerance() -> None:
    # f is 0 whatever w is: autograd 0, every value of f 0, no rounding: error 0, allowed 0.
    w = Value(0.5, "w")
    report = gradcheck(lambda: w * 0.0, [w], atol=0.0, rtol=0.0)
    assert report.ok and (report.rows[0].error, report.rows[0].allowed) == (0.0, 0.0)


def test_parameters_without_labels_are_named_by_their_index() -> None:
    first, second = Value(0.5), Value(-1.0)
    report = gradcheck(lambda: first * second, [first, second])
    assert [row.name for row in report.rows] == ["params[0]", "params[1]"]


def test_a_parameter_f_does_not_use_keeps_its_grad() -> None:
    used, unused = Value(0.5, "used"), Value(2.0, "unused")
    used.grad, unused.grad = 3.0, 4.0
    report = gradcheck(lambda: used * used, [used, unused])
    assert report.rows[1].analytic == 0.0
    assert (used.grad, unused.grad) == (3.0, 4.0)


def test_gradcheck_measures_where_the_first_step_is_too_wide() -> None:
    cos = define_op("cos", lambda x: (math.cos(x), -math.sin(x)))
    x = Value(250.0, "x")
    report = gradcheck(lambda: cos(x * x), [x])
    assert report.ok and report.compared == 1
    (row,) = report.rows
    assert abs(row.numeric - -500 * math.sin(62500.0)) <= row.allowed


W = Value(1.0, "w")
B = Value(math.inf, "b")

REFUSALS = [
    (
        lambda: gradcheck(lambda: 3.0, [W]),  # type: ignore[arg-type, return-value]
        TypeError,
        "gradcheck: f must return a Value (the number to differentiate), it returned float "
        "3.0. Build the result from the Values f is given and return it.",
    ),
    (
        lambda: gradcheck(lambda: W * 2, [W * 2]),
        ValueError,
        "parameter 'params[0]' is the result of an op ('*'), not a leaf: central differences "
        "perturb leaves, so pass the Values you created.",
    ),
    (
        lambda: gradcheck(lambda: W * 2, []),
        ValueError,
        "params is empty: pass the leaf Values to check, e.g. model.parameters().",
    ),
    (
        lambda: gradcheck(lambda: W * 2, [1.0]),  # type: ignore[list-item]
        TypeError,
        "parameter 'params[0]' must be a Value, got float 1.0.",
    ),
    (
        lambda: gradcheck(lambda: W * 2, 5),  # type: ignore[arg-type]
        TypeError,
        "params must be a list of leaf Values or a dict of name -> Value, got int.",
    ),
    (
        lambda: gradcheck(lambda: W * 2, [W], eps=0.0),
        ValueError,
        "eps must be > 0: it is the first step of the central difference.",
    ),
    (
        lambda: gradcheck(lambda: B * 2, [B]),
        ValueError,
        "parameter 'b' is inf: a gradient is checked at finite numbers.",
    ),
]


@each_refusal(REFUSALS)
def test_gradcheck_rejects_bad_input_saying_what_it_got(refusal: Refusal) -> None:
    assert_refused(*refusal)


def test_a_nan_parameter_is_refused_too() -> None:
    b = Value(math.nan, "b")
    with pytest.raises(ValueError, match=r"^parameter 'b' is nan: a gradient is checked at"):
        gradcheck(lambda: b * 2, [b])


def test_a_report_and_its_rows_cannot_be_changed_after_the_check() -> None:
    # What was compared is a record: frozen, so a caller cannot make a failing row pass.
    w = Value(0.5, "w")
    report = gradcheck(lambda: w * w, [w])
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.rows = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.rows[0].error = 0.0  # type: ignore[misc]


def test_gradchecks_defaults_are_the_first_step_and_atol_1e_5_rtol_1e_3() -> None:
    w = Value(0.5, "w")
    report = gradcheck(lambda: w * w, [w])
    assert (report.eps, report.atol, report.rtol) == (STEP, 1e-5, 1e-3) == (1e-3, 1e-5, 1e-3)


def small_over_large(x: Value) -> Value:
    """Found by hypothesis (test_gradient_matches_central_differences) at x = 0: numbers up
    to 1.3e3 (w*w + 1), a value of 0.002 and a slope of 0.003."""
    v = x + 1.5
    w = (v * 4.0 * v * 4.0 + 0.5).relu()
    return v * 2.0 / (w * w + 1.0)


def test_rounding_is_weighted_by_how_much_f_depends_on_each_number() -> None:
    # Each op's result n counts |n| * |d f/d n|: w*w + 1 is 1.3e3, but f moves by 2e-6 of it.
    x = Value(0.0, "x")
    out = small_over_large(x)
    assert rounding_scale(out) == 1333.25
    # w*w + 1 = 1333.25 counts 1333.25 * 3 / 1333.25**2 = 0.00225; f itself 0.00225, and so on.
    assert abs(out.data) * 2 < value_rounding(out) < 0.1  # 0.038, where the largest is 1.3e3
    # Weighted by the largest number instead, 64 ulps of 1.3e3 over the step swamped it.
    report = gradcheck(lambda: small_over_large(x), [x], atol=1e-7, rtol=1e-7)
    assert (report.compared, report.skipped) == (1, ())
    assert assert_gradients_match(small_over_large, 0.0).compared == 1
    assert x.grad == 0.0 and out.grad == 0.0  # the adjoints it read were put back


def test_value_rounding_is_never_more_than_the_largest_number() -> None:
    # A derivative that is wrong by 1e12 cannot make rounding look larger than the graph's
    # numbers, and so cannot turn its own failure into a skip.
    steep = define_op("steep", lambda x: (2.0 * x, 2e12))
    x = Value(0.25)
    out = steep(x) * 3.0
    assert value_rounding(out) == rounding_scale(out) == 1.5
    assert value_rounding(Value(2.0) * math.inf) == rounding_scale(Value(2.0) * math.inf) == 0.0
