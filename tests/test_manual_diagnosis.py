"""The diagnosis of hand-written gradients (manual.diagnose_gradients), and of the learner's.

It must say what each attempt gets wrong: attempt2 is the true gradient times the loss
value; attempt1 (once its predictions have fallen below their targets) points the wrong way.
"""

from __future__ import annotations

import math

import pytest

from tinygrad_xor import manual
from tinygrad_xor.manual import GradientDiagnosis, diagnose_gradients

# -- diagnose_gradients on synthetic cases ---------------------------------------------------


TRUE = {"w": 2.0, "b": -1.0, "v": 0.5}


def test_diagnosis_of_the_right_gradient() -> None:
    d = diagnose_gradients({"w": 2.0, "b": -1.0, "v": 0.5}, TRUE)
    assert d.finding == "correct"
    assert d.summary == (
        "Your gradients are right: every one of the 3 matches the true gradient "
        "to 0.0e+00 relative."
    )


def test_diagnosis_finds_a_named_constant() -> None:
    d = diagnose_gradients({k: 0.37 * g for k, g in TRUE.items()}, TRUE, constants={"L": 0.37})
    assert d.finding == "scaled" and d.scale == pytest.approx(0.37) and d.scale_name == "L"
    assert d.cosine == pytest.approx(1.0)
    # The whole diagnosis a learner reads: what is wrong, why it still descends, what it costs.
    assert d.summary == (
        "Your gradient points the right way (cosine 1.000000) but every component is 0.37 "
        "times the true one. 0.37 is L: you multiplied by L where it does not belong. "
        "Gradient descent still goes downhill, but each step is 0.37 times the size it should "
        "be, as if the learning rate were multiplied by it; when that number changes during "
        "training (as a loss value does), the step size changes with it."
    )


def test_diagnosis_finds_an_unnamed_constant() -> None:
    d = diagnose_gradients({k: 2 * g for k, g in TRUE.items()}, TRUE, constants={"L": 0.37})
    assert d.finding == "scaled" and d.scale == pytest.approx(2.0) and d.scale_name is None


def test_diagnosis_of_a_sign_error() -> None:
    d = diagnose_gradients({k: -g for k, g in TRUE.items()}, TRUE)
    assert d.finding == "negated" and d.scale == pytest.approx(-1.0)
    assert d.sign_mismatches == 3
    assert d.summary == (
        "Your gradient is the true one times -1: it points exactly the wrong way, so every "
        "update climbs the loss instead of descending it. Look for a sign error, e.g. "
        "(y - y_hat) where (y_hat - y) belongs."
    )


def test_a_named_constant_with_a_minus_sign_is_named() -> None:
    d = diagnose_gradients({k: -0.37 * g for k, g in TRUE.items()}, TRUE, constants={"L": 0.37})
    assert d.finding == "negated" and d.scale == pytest.approx(-0.37) and d.scale_name == "L"
    assert d.summary == (
        "Your gradient is the true one times -0.37 (L, with a minus sign): it points exactly the "
        "wrong way, so every update climbs the loss instead of descending it. Look for a sign "
        "error, e.g. (y - y_hat) where (y_hat - y) belongs."
    )


@pytest.mark.parametrize(
    ("manual", "true", "opening"),
    [
        # (3, 4) = 2 * (1.5, 2): cosine exactly 1, shown to six decimals.
        ({"w": 3.0, "b": 4.0}, {"w": 1.5, "b": 2.0},
         "Your gradient points the right way (cosine 1.000000) but every component is 2 times "
         "the true one."),
        # Six significant digits of the constant: all of -1.23456.
        ({"w": -1.23456}, {"w": 1.0},
         "Your gradient is the true one times -1.23456: it points exactly the wrong way"),
        # b: |1 - 1.3| / 1.3 = 0.2308 (two digits); cosine 2.3 / sqrt(2 * 2.69) = 0.99159.
        ({"w": 1.0, "b": 1.0}, {"w": 1.0, "b": 1.3},
         "Your gradient is not the true one and not a multiple of it (largest relative error "
         "0.23, cosine 0.9916, 0 of 2 signs differ)."),
    ],
)  # fmt: skip
def test_each_summary_gives_its_numbers_to_the_digits_it_shows(
    manual: dict[str, float], true: dict[str, float], opening: str
) -> None:
    assert diagnose_gradients(manual, true).summary.startswith(opening)


def test_diagnosis_of_a_different_gradient() -> None:
    d = diagnose_gradients({"w": 2.0, "b": 1.0, "v": 0.5}, TRUE)
    assert d.finding == "different" and d.sign_mismatches == 1 and d.cosine > 0
    # b is off by 2 relative to its size, the largest relative error; cosine 3.25 / 5.25
    assert d.summary == (
        "Your gradient is not the true one and not a multiple of it (largest relative "
        "error 2, cosine 0.6190, 1 of 3 signs differ). It is the gradient of some other "
        "function; here it still points roughly downhill, but nothing keeps it that way as the "
        "weights change."
    )
    d = diagnose_gradients({"w": -2.0, "b": 1.0, "v": 0.5}, TRUE)
    assert d.finding == "wrong_way" and d.cosine < 0
    # cosine = (-4 - 1 + 0.25) / 5.25; w and b have the wrong sign.
    assert d.summary == (
        "Your gradient points the wrong way: its cosine with the true gradient is -0.9048, "
        "and 2 of the 3 parameters have the wrong sign, so a step 'downhill' along it goes "
        "uphill and the loss grows. It is not the true gradient times any constant: it is the "
        "gradient of something else."
    )
    # At right angles (cosine 0) a step goes neither up nor down: different, not wrong way.
    # A 0 has no sign, so it differs from v's 0.5 as b's 2 differs from -1.
    d = diagnose_gradients({"w": 1.0, "b": 2.0, "v": 0.0}, TRUE)
    assert d.cosine == 0.0 and d.finding == "different" and d.sign_mismatches == 2


def _refusal(error: type[Exception], manual: object, true: object) -> str:
    with pytest.raises(error) as caught:
        diagnose_gradients(manual, true)  # type: ignore[arg-type]
    return str(caught.value)


def test_diagnosis_rejects_mismatched_names_and_non_numbers() -> None:
    assert _refusal(ValueError, {"w": 1.0, "b": 1.0}, TRUE) == (
        "manual and true gradients must name the same parameters: manual lacks ['v'], has extra []."
    )
    assert _refusal(ValueError, {"w": 1.0, "b": 1.0, "u": 0.5}, TRUE) == (
        "manual and true gradients must name the same parameters: manual lacks ['v'], "
        "has extra ['u']."
    )
    assert _refusal(ValueError, {}, {}) == "no gradients to compare: pass at least one parameter."
    assert _refusal(TypeError, {"w": 1.0}, [("w", 1.0)]) == (
        "true gradients must be a dict of parameter name -> float, got list."
    )
    assert _refusal(TypeError, {"w": "1", "b": 1.0, "v": 0.5}, TRUE) == (
        "manual gradient 'w' must be a number, got str '1'."
    )
    assert _refusal(ValueError, {"w": math.nan, "b": 1.0, "v": 0.5}, TRUE) == (
        "manual gradient 'w' is nan: only finite gradients compare."
    )


# -- the learner's two attempts --------------------------------------------------------------


def test_diagnosis_of_the_correct_update_says_it_is_right() -> None:
    d = manual.diagnose(manual.learner_weights(), "correct")
    assert d.finding == "correct" and d.max_relative_error < 1e-12


def test_attempt2_is_diagnosed_as_the_true_gradient_times_the_loss_value() -> None:
    weights = manual.learner_weights()
    loss = manual.backprop(weights, "correct", "half_sum").loss
    d = manual.diagnose(weights, "attempt2")
    assert d.finding == "scaled"
    assert d.scale_name == "the loss value"
    assert d.scale == pytest.approx(loss, rel=1e-12)
    assert d.cosine == pytest.approx(1.0, abs=1e-12) and d.sign_mismatches == 0
    # The learner's own bug, diagnosed in full: the loss value 0.755555 multiplies every step.
    assert d.summary == (
        "Your gradient points the right way (cosine 1.000000) but every component is 0.755555 "
        "times the true one. 0.755555 is the loss value: you multiplied by the loss value where "
        "it does not belong. Gradient descent still goes downhill, but each step is 0.755555 "
        "times the size it should be, as if the learning rate were multiplied by it; when that "
        "number changes during training (as a loss value does), the step size changes with it."
    )


@pytest.mark.parametrize("loss", ["half_sum", "mean"])
def test_attempt2_scale_is_the_loss_value_all_along_its_run(loss: str) -> None:
    run = manual.train("attempt2", epochs=500, loss=loss, keep_weights_at=(0, 100, 499))
    for epoch, loss_value, d in manual.diagnose_run(run):
        assert d.finding == "scaled", epoch
        assert d.scale == pytest.approx(loss_value, rel=1e-12)


def _attempt1_diagnoses() -> list[tuple[int, float, GradientDiagnosis]]:
    run = manual.train("attempt1", epochs=1000, keep_weights_at=(0, 10, 100, 1000))
    return manual.diagnose_run(run)


def test_attempt1_is_diagnosed_as_pointing_the_wrong_way_once_predictions_fall() -> None:
    by_epoch = {epoch: d for epoch, _, d in _attempt1_diagnoses()}
    # At the learner's start every prediction is too high (0.81 to 0.91), so "push every
    # output down" happens to be nearly right: a different gradient, but not proportional.
    start = by_epoch[0]
    assert start.finding == "different" and start.cosine > 0.99
    assert start.proportionality_error > 0.01  # 0.043: far from a constant multiple
    # Ten updates later the predictions are below their targets of 1, and attempt1 still
    # pushes them down: its gradient points against the true one, every sign wrong.
    for epoch in (10, 100, 1000):
        d = by_epoch[epoch]
        assert d.finding == "wrong_way", epoch
        assert d.cosine < -0.9
        assert d.sign_mismatches == len(d.rows) == 15
    # What the learner reads at epochs 0 and 10, whole: nearly right at first, then uphill.
    assert start.summary == (
        "Your gradient is not the true one and not a multiple of it (largest relative error "
        "0.75, cosine 0.9991, 0 of 15 signs differ). It is the gradient of some other function; "
        "here it still points roughly downhill, but nothing keeps it that way as the weights "
        "change."
    )
    assert by_epoch[10].summary == (
        "Your gradient points the wrong way: its cosine with the true gradient is -0.9966, and "
        "15 of the 15 parameters have the wrong sign, so a step 'downhill' along it goes uphill "
        "and the loss grows. It is not the true gradient times any constant: it is the gradient "
        "of something else."
    )


def test_attempt1_manual_output_gradients_are_all_positive_in_the_diagnosis() -> None:
    for _, _, d in _attempt1_diagnoses():
        output_rows = [row for row in d.rows if row.name.startswith("W2")]
        assert all(row.manual > 0 for row in output_rows)


def test_gradients_that_vanished_are_not_called_right() -> None:
    # Saturated units: every gradient round-off small. Nothing can be judged there.
    tiny = diagnose_gradients({"w": 6.5e-16, "b": -1e-17}, {"w": 6.4e-16, "b": 2e-17})
    assert tiny.finding == "vanished"
    assert tiny.summary == (
        "Every gradient has vanished: the largest, yours or the true one, is 6.5e-16 "
        "(saturated units pass almost nothing back), so nothing can be judged here. "
        "Compare them where the gradient is alive, such as at the first epoch."
    )
    alive = diagnose_gradients({"w": 6.4e-16, "b": 0.5}, {"w": 6.4e-16, "b": 0.5})
    assert alive.finding == "correct"  # one live component: judged as usual
    zeros = diagnose_gradients({"w": 0.0}, {"w": 0.0})
    assert zeros.finding == "vanished"


def test_gradients_exactly_at_the_vanished_bound_are_judged() -> None:
    at_bound = diagnose_gradients({"w": 1e-3}, {"w": 1e-3}, vanished=1e-3)
    assert at_bound.finding == "correct"
    below = diagnose_gradients({"w": 0.9e-3}, {"w": 0.9e-3}, vanished=1e-3)
    assert below.finding == "vanished"
    # By default the bound is 1e-12, round-off's size: just above it is judged, below is not.
    assert diagnose_gradients({"w": 1.1e-12}, {"w": 1.1e-12}).finding == "correct"
    assert diagnose_gradients({"w": 0.9e-12}, {"w": 0.9e-12}).finding == "vanished"


def test_by_default_gradients_within_one_part_in_a_million_are_right() -> None:
    assert diagnose_gradients({"w": 1.0 + 0.9e-6}, {"w": 1.0}).finding == "correct"
    assert diagnose_gradients({"w": 1.0 + 1.2e-6}, {"w": 1.0}).finding == "scaled"


def test_a_constant_matching_exactly_is_named_even_with_no_tolerance() -> None:
    # 2 = 2 * 1 exactly: the best constant is 2.0 to the bit, so rtol=0 still names it.
    d = diagnose_gradients({"w": 2.0}, {"w": 1.0}, constants={"L": 2.0}, rtol=0.0)
    assert (d.finding, d.scale, d.scale_name) == ("scaled", 2.0, "L")


def test_of_two_matching_constants_the_first_given_names_the_scale() -> None:
    both = {"the loss value": 2.0, "twice": 2.0}
    d = diagnose_gradients({"w": 2.0}, {"w": 1.0}, constants=both)
    assert d.scale_name == "the loss value"
    d = diagnose_gradients({"w": 2.0}, {"w": 1.0}, constants=dict(reversed(both.items())))
    assert d.scale_name == "twice"


def test_a_zero_gradient_is_named_as_yours_or_the_true_one() -> None:
    yours = diagnose_gradients({"w": 0.0, "b": 0.0}, {"w": 1.0, "b": -1.0})
    assert yours.finding == "different"
    assert (
        yours.summary == "Your gradient is not the true one: yours is zero and the true one is not."
    )
    true = diagnose_gradients({"w": 1.0, "b": -1.0}, {"w": 0.0, "b": 0.0})
    assert true.finding == "different"
    assert true.summary == (
        "Your gradient is not the true one: the true gradient is zero here (a flat point of "
        "the loss) and yours is not."
    )


def test_the_printed_diagnosis_marks_and_counts_the_signs_that_differ() -> None:
    d = diagnose_gradients({"w": 2.0, "b": 1.0, "v": 0.5}, TRUE)  # b's sign is wrong
    lines = str(d).split("\n")
    assert [line.endswith("  sign differs") for line in lines[:3]] == [False, True, False]
    assert lines[1].split() == [
        "b",
        "manual",
        "1.000000e+00",
        "true",
        "-1.000000e+00",
        "rel.",
        "error",
        "2.00e+00",
        "sign",
        "differs",
    ]
    assert lines[3].endswith(", 1 of 3 signs differ")
    assert lines[4] == d.summary


def test_the_printed_diagnosis_right_aligns_names_and_gives_cosine_then_constant() -> None:
    # (3, 4) = 2 * (1.5, 2) exactly: cosine 1, constant 2, no residual; each off by 1.5/3 = 0.5.
    d = diagnose_gradients({"w": 3.0, "b": 4.0}, {"w": 1.5, "b": 2.0})
    assert str(d).split("\n")[:3] == [
        " " * 11 + "w  manual  3.000000e+00  true  1.500000e+00  rel. error 5.00e-01",
        " " * 11 + "b  manual  4.000000e+00  true  2.000000e+00  rel. error 5.00e-01",
        "cosine 1.000000, best constant 2 (off by 0.0e+00), 0 of 2 signs differ",
    ]


def test_the_proportionality_error_is_the_distance_to_the_best_multiple_relative_to_yours() -> None:
    # Best multiple of the true (1, 0) is 3 * (1, 0); yours, (3, 4), is 4 away from it and 5 long.
    found = diagnose_gradients({"a": 3.0, "b": 4.0}, {"a": 1.0, "b": 0.0})
    assert found.scale == 3.0
    assert found.proportionality_error == pytest.approx(0.8)
