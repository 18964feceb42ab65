"""The learner's NumPy network (tinygrad_xor.manual): faithful to their code, right where fixed.

- their own loops, copied from the question, give the same losses as our variants;
- the correct gradients equal the Value engine's (an nn.MLP loaded with the same
  weights) to 1e-12 relative, per parameter, with and without biases, for every loss;
- the two bugs have the shape the docs claim (attempt2 = correct * loss value;
  attempt1 pushes every output weight down);
- the comparison over 10000 epochs shows what the sentences say;
- report_text / report_json assemble what `tinygrad-xor manual` prints.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from failing_disk import fill_disk

from tinygrad_xor import losses, manual, plots
from tinygrad_xor.data import is_solved
from tinygrad_xor.engine import Value
from tinygrad_xor.manual import diagnosis, network
from tinygrad_xor.nn import MLP

# -- the learner's code, as posted (only `losses` added to their second and fixed loops) --


def _sigmoid(x):  # type: ignore[no-untyped-def]
    return 1 / (1 + np.exp(-x))


def _sigmoid_derivative(sx):  # type: ignore[no-untyped-def]
    return sx * (1 - sx)


def _mse_first(predicted, truth):  # type: ignore[no-untyped-def]
    return np.sum(np.square(truth - predicted))


def _mse_second(predicted, truth):  # type: ignore[no-untyped-def]
    return 0.5 * np.sum(np.square(predicted - truth)).mean()


def _mse_derivative(predicted, truth):  # type: ignore[no-untyped-def]
    return predicted - truth


def _learner_loop(variant: str, num_epochs: int) -> tuple[list[float], np.ndarray, np.ndarray]:
    """Their script, run with the global seed they used; numpy's global state is restored."""
    saved_state = np.random.get_state()
    try:
        np.random.seed(0)
        X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
        Y = np.array([[0, 1, 1, 0]]).T
        num_data, input_dim = X.shape  # noqa: RUF059 (their line, kept as posted)
        hidden_dim = 5
        W1 = np.random.random((input_dim, hidden_dim))
        output_dim = len(Y.T)
        W2 = np.random.random((hidden_dim, output_dim))
    finally:
        np.random.set_state(saved_state)
    learning_rate = 0.3
    losses = []
    for _epoch_n in range(num_epochs):
        layer0 = X
        layer1 = _sigmoid(np.dot(layer0, W1))
        layer2 = _sigmoid(np.dot(layer1, W2))
        if variant == "attempt1":
            layer2_error = _mse_first(layer2, Y)
            layer2_delta = layer2_error * _sigmoid_derivative(layer2)
            losses.append(layer2_error.mean())
        else:
            cost_error = _mse_second(layer2, Y)
            cost_delta = _mse_derivative(layer2, Y)
            if variant == "attempt2":  # noqa: SIM108 (their code, with the fix beside it)
                layer2_error = np.dot(cost_delta, cost_error)
            else:  # the fix: the derivative of the cost alone
                layer2_error = cost_delta
            layer2_delta = layer2_error * _sigmoid_derivative(layer2)
            losses.append(cost_error)
        layer1_error = np.dot(layer2_delta, W2.T)
        layer1_delta = layer1_error * _sigmoid_derivative(layer1)
        W2 += -learning_rate * np.dot(layer1.T, layer2_delta)
        W1 += -learning_rate * np.dot(layer0.T, layer1_delta)
    return [float(x) for x in losses], W1, W2


@pytest.mark.parametrize("variant", manual.VARIANTS)
def test_each_variant_reproduces_the_learners_own_loop(variant: str) -> None:
    epochs = 300
    their_losses, their_W1, their_W2 = _learner_loop(variant, epochs)
    run = manual.train(variant, epochs=epochs)
    assert run.loss_kind == manual.LEARNER_LOSS[variant]
    np.testing.assert_allclose(run.losses, their_losses, rtol=1e-14, atol=0)
    np.testing.assert_allclose(run.final_weights.W1, their_W1, rtol=1e-14, atol=0)
    np.testing.assert_allclose(run.final_weights.W2, their_W2, rtol=1e-14, atol=0)


def test_learner_weights_are_np_random_seed_0_draws_and_leave_global_state_alone() -> None:
    saved_state = np.random.get_state()
    try:
        np.random.seed(0)
        expected_W1 = np.random.random((2, 5))
        expected_W2 = np.random.random((5, 1))
        np.random.seed(123)
        before = np.random.get_state()[1].copy()
        weights = manual.learner_weights()
        after = np.random.get_state()[1]
    finally:
        np.random.set_state(saved_state)
    np.testing.assert_array_equal(weights.W1, expected_W1)
    np.testing.assert_array_equal(weights.W2, expected_W2)
    np.testing.assert_array_equal(before, after)
    assert weights.b1 is None and weights.b2 is None


def test_learner_weights_with_biases_start_them_at_zero() -> None:
    weights = manual.learner_weights(biases=True)
    np.testing.assert_array_equal(weights.W1, manual.learner_weights().W1)
    assert weights.b1 is not None and weights.b2 is not None
    assert weights.b1.tolist() == [0.0] * 5 and weights.b2.tolist() == [0.0]


# -- the correct gradients equal the engine's ----------------------------------------------


def _random_weights(seed: int, biases: bool) -> manual.Weights:
    rng = np.random.RandomState(1000 + seed)
    if not biases:
        return manual.Weights(rng.normal(0, 2, (2, 5)), rng.normal(0, 2, (5, 1)))
    return manual.Weights(
        rng.normal(0, 2, (2, 5)), rng.normal(0, 2, (5, 1)), rng.normal(0, 1, 5), rng.normal(0, 1, 1)
    )


def _engine_loss_and_gradients(
    weights: manual.Weights, loss: str
) -> tuple[float, dict[str, float]]:
    """Built here from nn.MLP and Values, independently of manual.engine_gradients."""
    model = MLP(2, [5, 1], bias=weights.has_biases)
    model.load_state_dict(weights.to_state_dict())
    targets = [0.0, 1.0, 1.0, 0.0]
    squares = [
        (model(row)[0] - target) ** 2
        for row, target in zip([[0, 0], [0, 1], [1, 0], [1, 1]], targets, strict=True)
    ]
    total = squares[0] + squares[1] + squares[2] + squares[3]
    scaled = {"sum": total, "half_sum": total * 0.5, "mean": total / 4}[loss]
    scaled.backward()
    return scaled.data, {name: p.grad for name, p in model.named_parameters()}


@pytest.mark.parametrize("loss", manual.LOSSES)
@pytest.mark.parametrize("biases", [False, True])
@pytest.mark.parametrize("seed", [None, 0, 1, 2, 3, 4])
def test_correct_gradients_equal_the_engines_to_1e_12(
    loss: str, biases: bool, seed: int | None
) -> None:
    if seed is None:
        weights = manual.learner_weights(biases=biases)
    else:
        weights = _random_weights(seed, biases)
    result = manual.backprop(weights, "correct", loss)
    engine_loss, engine_grads = _engine_loss_and_gradients(weights, loss)

    assert math.isclose(result.loss, engine_loss, rel_tol=1e-12)
    ours = {
        state_name: g
        for state_name, g in zip(
            weights.to_state_dict(), result.gradients().named().values(), strict=True
        )
    }
    assert set(ours) == set(engine_grads)
    for name, g in engine_grads.items():
        assert g != 0.0
        assert abs(ours[name] - g) <= 1e-12 * abs(g), (name, ours[name], g)


def test_a_pass_and_its_diagnosis_are_read_only_records() -> None:
    """Backprop, GradientDiagnosis and GradientRow are results: assigning to one is an error."""
    weights = manual.learner_weights()
    step = manual.backprop(weights)
    found = manual.diagnose(weights, "attempt2")
    for record, field in [(step, "loss"), (found, "finding"), (found.rows[0], "true")]:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, field, 0.0)


def test_predictions_equal_the_engines_forward_pass() -> None:
    weights = _random_weights(7, biases=True)
    model = MLP(2, [5, 1])
    model.load_state_dict(weights.to_state_dict())
    engine = [model(row)[0].data for row in manual.X.tolist()]
    ours = manual.backprop(weights).predictions.ravel().tolist()
    np.testing.assert_allclose(ours, engine, rtol=1e-14, atol=0)


@pytest.mark.parametrize("loss", [*manual.LOSSES, None])
def test_engine_gradients_glue_agrees_with_the_independent_build(loss: str | None) -> None:
    """None: engine_gradients' default, the learner's own cost 0.5 * sum((y_hat - y)^2)."""
    weights = _random_weights(3, biases=True)
    if loss is None:
        got, by_learner_name = manual.engine_gradients(weights)
    else:
        got, by_learner_name = manual.engine_gradients(weights, loss)
    expected_loss, by_state_name = _engine_loss_and_gradients(weights, loss or "half_sum")
    assert got == pytest.approx(expected_loss, rel=1e-15)
    for learner, state_name in zip(weights.named(), weights.to_state_dict(), strict=True):
        assert by_learner_name[learner] == pytest.approx(by_state_name[state_name], rel=1e-15)


@pytest.mark.parametrize("loss", manual.LOSSES)
def test_engine_gradients_take_the_loss_from_losses_mse(
    loss: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One definition of each loss: the engine's side of the comparison is losses.mse,
    # the loss the trainer minimises, not a second copy of its reductions.
    reductions = []

    def recording_mse(
        predictions: Sequence[Value], targets: Sequence[float], reduction: str = "mean"
    ) -> Value:
        reductions.append(reduction)
        return losses.mse(predictions, targets, reduction)

    monkeypatch.setattr(diagnosis, "mse", recording_mse)
    weights = _random_weights(5, biases=True)
    value, _ = manual.engine_gradients(weights, loss)
    assert reductions == [loss]
    model = MLP(2, [5, 1])
    model.load_state_dict(weights.to_state_dict())
    outputs = [model(row)[0] for row in manual.X.tolist()]
    assert value == losses.mse(outputs, [0.0, 1.0, 1.0, 0.0], loss).data  # bit for bit


@pytest.mark.parametrize(("variant", "epochs"), [("correct", 900), ("attempt1", 40)])
def test_solved_and_first_solved_epoch_are_data_is_solved_on_the_runs_predictions(
    variant: str, epochs: int
) -> None:
    # One definition of "solved" (data.is_solved): asked of the predictions after every
    # number of updates, it must give the run's first_solved_epoch and solved.
    run = manual.train(variant, epochs=epochs, keep_weights_at=range(epochs + 1))
    targets = manual.Y.ravel().tolist()
    solved_after = [
        is_solved(manual.backprop(run.snapshots[e]).predictions.ravel().tolist(), targets)
        for e in range(epochs + 1)
    ]
    expected_first = solved_after.index(True) if True in solved_after else None
    assert run.first_solved_epoch == expected_first
    assert run.solved == solved_after[-1] == is_solved(run.predictions, targets)
    if variant == "correct":  # the case holds something: solved within the run, not at once
        assert expected_first is not None and 0 < expected_first < epochs
    else:
        assert expected_first is None


# -- the shape of each bug ------------------------------------------------------------------


@pytest.mark.parametrize("loss", manual.LOSSES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_attempt2_is_the_correct_gradient_times_the_loss_value(loss: str, seed: int) -> None:
    weights = _random_weights(seed, biases=True)
    correct = manual.backprop(weights, "correct", loss)
    attempt2 = manual.backprop(weights, "attempt2", loss)
    assert attempt2.loss == correct.loss
    np.testing.assert_allclose(
        attempt2.gradients().flat(), correct.gradients().flat() * correct.loss, rtol=1e-13
    )


@pytest.mark.parametrize("seed", range(6))
def test_attempt1_output_gradient_is_always_positive(seed: int) -> None:
    # The loss value, sigmoid' and the hidden outputs are all positive, so every
    # output weight (and the output bias) has a positive gradient: a step always lowers it.
    weights = _random_weights(seed, biases=True)
    result = manual.backprop(weights, "attempt1")
    assert np.all(result.grad_W2 > 0)
    assert result.grad_b2 is not None and np.all(result.grad_b2 > 0)
    # ... while the true gradient has both signs somewhere for these weights.
    layer2_error = result.predictions - manual.Y
    assert np.any(layer2_error > 0) and np.any(layer2_error < 0)


def test_attempt1_output_error_is_the_loss_value_for_every_row() -> None:
    weights = manual.learner_weights()
    result = manual.backprop(weights, "attempt1")
    # grad_W2 = h^T (L * sigmoid'(z2)); reconstruct it from the forward pass.
    h = manual.sigmoid(manual.X @ weights.W1)
    y_hat = result.predictions
    expected = h.T @ (result.loss * y_hat * (1 - y_hat))
    np.testing.assert_allclose(result.grad_W2, expected, rtol=1e-14)
    assert result.loss == pytest.approx(float(np.sum((y_hat - manual.Y) ** 2)), rel=1e-15)


# -- the comparison over the learner's 10000 epochs ------------------------------------------


@pytest.fixture(scope="module")
def runs() -> dict[str, manual.ManualRun]:
    return {run.variant: run for run in manual.compare()}


def test_compare_runs_all_three_from_the_same_start(runs: dict[str, manual.ManualRun]) -> None:
    assert list(runs) == list(manual.VARIANTS)
    start = runs["correct"].initial_weights.flat()
    for run in runs.values():
        np.testing.assert_array_equal(run.initial_weights.flat(), start)
        assert run.epochs == 10000 and len(run.losses) == 10000 and run.lr == 0.3
        # losses[0] is the loss of the starting weights (recorded before the first update)
        assert run.losses[0] == manual.backprop(run.initial_weights, "correct", run.loss_kind).loss


def test_attempt1_drives_every_prediction_to_zero_and_the_loss_up(
    runs: dict[str, manual.ManualRun],
) -> None:
    run = runs["attempt1"]
    assert not run.solved and run.first_solved_epoch is None
    assert max(run.predictions) < 1e-3
    assert run.final_loss > run.losses[0]
    assert run.final_loss == pytest.approx(2.0, abs=1e-4)  # sum of (0 - y)^2 over two 1s
    output_weights = ["W2[0,0]", "W2[1,0]", "W2[2,0]", "W2[3,0]", "W2[4,0]"]
    assert all(run.downward_steps[name] == run.epochs for name in output_weights)


def test_attempt2_learns_but_slower_than_the_correct_update(
    runs: dict[str, manual.ManualRun],
) -> None:
    attempt2, correct = runs["attempt2"], runs["correct"]
    assert correct.solved and attempt2.solved
    assert correct.first_solved_epoch is not None and attempt2.first_solved_epoch is not None
    assert correct.first_solved_epoch < attempt2.first_solved_epoch
    assert correct.final_loss < attempt2.final_loss
    assert correct.final_loss < 0.01


def test_first_solved_epoch_is_the_first_forward_pass_with_all_four_right(
    runs: dict[str, manual.ManualRun],
) -> None:
    first = runs["correct"].first_solved_epoch
    assert first is not None and first > 0
    rerun = manual.train("correct", epochs=first + 1, keep_weights_at=(first - 1, first))

    def all_right(weights: manual.Weights) -> bool:
        predictions = manual.backprop(weights).predictions.ravel()
        return bool(np.all((predictions > 0.5) == (manual.Y.ravel() == 1.0)))

    assert not all_right(rerun.snapshots[first - 1])  # after first - 1 updates: not yet
    assert all_right(rerun.snapshots[first])  # after `first` updates: all four right


def test_a_run_that_first_gets_all_four_right_with_its_last_update_says_so(
    runs: dict[str, manual.ManualRun],
) -> None:
    # The predictions after the last update count too: solved at `first` updates, a run of
    # exactly `first` epochs (whose forward passes were all before that) solved at its end.
    first = runs["correct"].first_solved_epoch
    assert first is not None
    short = manual.train("correct", epochs=first)
    assert short.solved and short.first_solved_epoch == first


def test_explanations_state_what_the_runs_show(runs: dict[str, manual.ManualRun]) -> None:
    first, second = manual.explain(list(runs.values()))
    assert "attempt1" in first and "loss value" in first
    assert "went down on every one of the 10000 epochs" in first
    start, end = runs["attempt1"].losses[0], runs["attempt1"].final_loss
    assert f"uses the loss value itself (always positive: {start:.3g} at the start)" in first
    assert first.endswith(f"and the loss rose from {start:.3g} to {end:.3g}.")
    assert "attempt2" in second and "lr * loss" in second
    start_lr = 0.3 * runs["attempt2"].losses[0]
    assert f"{start_lr:.3g} at the start" in second
    end_lr = 0.3 * runs["attempt2"].final_loss
    assert f"{end_lr:.3g} at the end" in second and f"{end_lr:.3g}" != f"{start_lr:.3g}"
    solved_at = runs["attempt2"].first_solved_epoch, runs["correct"].first_solved_epoch
    assert "epoch {} against {} for the correct update".format(*solved_at) in second
    # Without the correct run to compare with: attempt2's own final loss and when it solved XOR.
    (alone,) = manual.explain([runs["attempt2"]])
    final, first_solved = runs["attempt2"].final_loss, runs["attempt2"].first_solved_epoch
    assert alone.endswith(f"; it ended at loss {final:.3g}, solving XOR at epoch {first_solved}.")


def test_each_explanation_is_one_whole_sentence_built_from_its_run(
    runs: dict[str, manual.ManualRun],
) -> None:
    """Checked whole, word for word: a changed word anywhere is a changed explanation."""
    first, second = manual.explain(list(runs.values()))
    bad, good = runs["attempt1"], runs["correct"]
    start, end = bad.losses[0], bad.final_loss
    ended = ", ".join(f"{p:.2g}" for p in bad.predictions)
    assert all(p < 0.5 for p in bad.predictions)  # pushed down, as the sentence says
    assert first == (
        f"attempt1 uses the loss value itself (always positive: {start:.3g} at the start) as "
        "the output error of every input, in place of the signed error dL/dy_hat; sigmoid' and "
        "the hidden outputs are positive too, so every weight into the output (W2[0,0], W2[1,0], "
        "W2[2,0], W2[3,0], W2[4,0]) went down on every one of the 10000 epochs: every "
        f"prediction is pushed down whatever its target, they ended at [{ended}] and the loss "
        f"rose from {start:.3g} to {end:.3g}."
    )
    lr_loss = [0.3 * runs["attempt2"].losses[0], 0.3 * runs["attempt2"].final_loss]
    assert second == (
        "attempt2 has the right direction, (y_hat - y), but multiplies it by the loss value, "
        "so every step is the correct step times the loss: in effect the learning rate became "
        f"lr * loss, {lr_loss[0]:.3g} at the start and {lr_loss[1]:.3g} at the end, shrinking "
        f"just as the loss does; all four were first right at epoch "
        f"{runs['attempt2'].first_solved_epoch} against {good.first_solved_epoch} for the "
        f"correct update, and it ended at loss {runs['attempt2'].final_loss:.3g} against "
        f"{good.final_loss:.3g}."
    )


def test_the_explanation_says_whether_attempt1s_loss_rose_fell_or_stayed() -> None:
    """Outputs that start near 1 come down towards the 0 targets: attempt1 lowers the loss
    then; an lr too small to move a weight leaves it where it was, and the sentence says so."""
    high = manual.Weights(np.zeros((2, 5)), np.full((5, 1), 3.0))  # every prediction ~0.9994
    fell = manual.train("attempt1", epochs=20, weights=high)
    assert fell.final_loss < fell.losses[0]
    (said,) = manual.explain([fell])
    assert said.endswith(f"the loss fell from {fell.losses[0]:.3g} to {fell.final_loss:.3g}.")
    still = manual.train("attempt1", epochs=1, lr=1e-20)
    assert still.final_loss == still.losses[0]
    (said,) = manual.explain([still])
    assert said.endswith(f"and the loss stayed at {still.losses[0]:.3g}.")


def test_the_explanation_names_the_weights_into_the_output_the_bias_among_them() -> None:
    weights = "W2[0,0], W2[1,0], W2[2,0], W2[3,0], W2[4,0]"
    (without_biases,) = manual.explain([manual.train("attempt1", epochs=20)])
    assert f"every weight into the output ({weights}) went down" in without_biases
    (with_biases,) = manual.explain([manual.train("attempt1", epochs=20, biases=True)])
    assert f"every weight into the output ({weights}, b2[0]) went down" in with_biases


def test_the_explanation_counts_the_output_weights_that_always_went_down() -> None:
    run = manual.train("attempt1", epochs=20)
    outputs = [name for name in run.downward_steps if name.startswith(("W2", "b2"))]
    assert all(run.downward_steps[name] == 20 for name in outputs)
    assert "every weight into the output" in manual.explain([run])[0]
    run.downward_steps[outputs[0]] = 19  # one went up once
    (sentence,) = manual.explain([run])
    assert sentence == (  # the whole sentence the learner reads, with the count in it
        "attempt1 uses the loss value itself (always positive: 1.51 at the start) as the output "
        "error of every input, in place of the signed error dL/dy_hat; sigmoid' and the hidden "
        "outputs are positive too, so 4 of the 5 weights into the output went down on every one "
        "of the 20 epochs: every prediction is pushed down whatever its target, they ended at "
        "[0.036, 0.012, 0.013, 0.0053] and the loss rose from 1.51 to 1.95."
    )


def test_a_weight_that_did_not_move_took_no_downward_step() -> None:
    # An update far below a weight's last digit leaves it exactly where it was.
    run = manual.train("correct", epochs=3, lr=1e-300)
    assert run.final_weights.flat().tolist() == run.initial_weights.flat().tolist()
    assert set(run.downward_steps.values()) == {0}


def test_explanation_when_attempt2_has_not_solved_it_yet() -> None:
    runs = [manual.train(variant, epochs=900) for variant in ("attempt2", "correct")]
    assert not runs[0].solved and runs[1].first_solved_epoch is not None
    (alone,) = manual.explain(runs[:1])  # no correct run to compare with: just its final loss
    assert alone.endswith(f"as the loss does; it ended at loss {runs[0].final_loss:.3g}.")
    (sentence,) = manual.explain(runs)
    expected = (
        f"never got all four right; the correct update did at epoch {runs[1].first_solved_epoch}"
    )
    assert expected in sentence


def test_explanation_when_only_attempt2_or_neither_solved_it() -> None:
    runs = [manual.train(variant, epochs=900) for variant in ("attempt2", "correct")]
    runs[0].first_solved_epoch, runs[1].first_solved_epoch = 850, None  # as if reversed
    (sentence,) = manual.explain(runs)
    assert "all four were first right at epoch 850; the correct update never got there" in (
        sentence
    )
    runs[0].first_solved_epoch = None
    (sentence,) = manual.explain(runs)
    assert "; neither it nor the correct update got all four right, and it ended at" in sentence
    final = f"it ended at loss {runs[0].final_loss:.3g} against {runs[1].final_loss:.3g}."
    assert final in sentence


def test_format_table_has_a_row_per_run(runs: dict[str, manual.ManualRun]) -> None:
    table = manual.format_table(list(runs.values())).splitlines()
    assert table[0].split()[:3] == ["variant", "loss", "final"]
    assert [line.split()[0] for line in table[1:]] == list(manual.VARIANTS)
    assert table[1].split()[-2:] == ["no", "never"]
    assert table[3].split()[-1] == str(runs["correct"].first_solved_epoch)
    assert all(line == line.rstrip() for line in table)  # columns padded, lines not


@pytest.fixture(scope="module")
def short_runs() -> list[manual.ManualRun]:
    return manual.compare(epochs=100)  # weights kept after 0 and 100 updates


def _words(text: str) -> str:
    return " ".join(text.split())


def test_report_text_is_the_table_then_a_paragraph_per_sentence(
    short_runs: list[manual.ManualRun],
) -> None:
    text = manual.report_text(short_runs)
    table, *paragraphs = text.split("\n\n")
    assert table == manual.format_table(short_runs)
    assert [_words(p) for p in paragraphs] == manual.explain(short_runs)
    assert all(len(line) <= 100 for p in paragraphs for line in p.splitlines())
    assert "against the engine's" not in text


def test_report_text_with_diagnose_adds_each_bugs_diagnosis_at_each_snapshot(
    short_runs: list[manual.ManualRun],
) -> None:
    plain = manual.report_text(short_runs)
    text = manual.report_text(short_runs, diagnose=True)
    assert text.startswith(plain + "\n\n")
    sections = text[len(plain) + 2 :].split("\n\n")
    assert [s.splitlines()[0] for s in sections] == [
        "attempt1: its gradient against the engine's",
        "attempt2: its gradient against the engine's",
    ]  # none for the correct update
    for section, run in zip(sections, short_runs, strict=False):
        expected = [
            f"after {epoch} epochs (loss {loss:.4g}): {_words(diagnosis.summary)}"
            for epoch, loss, diagnosis in manual.diagnose_run(run)
        ]
        assert _words(section.split("\n", 1)[1]) == " ".join(expected)
        lines = section.splitlines()[1:]
        assert sum(line.startswith("after ") for line in lines) == len(expected) == 2
        assert all(len(line) <= 100 for line in lines)
        assert all(line.startswith(("after ", "  ")) for line in lines)  # wrapped lines indented


def test_report_json_is_each_runs_object_with_the_diagnosis_on_request(
    short_runs: list[manual.ManualRun],
) -> None:
    assert manual.report_json(short_runs) == [run.to_json() for run in short_runs]
    rows = manual.report_json(short_runs, diagnose=True)
    for row, run in zip(rows, short_runs, strict=True):
        diagnoses = row.pop("diagnosis")
        assert row == run.to_json()
        assert diagnoses == [
            {"epoch": epoch, "loss": loss, "summary": diagnosis.summary}
            for epoch, loss, diagnosis in manual.diagnose_run(run)
        ]
        assert [d["epoch"] for d in diagnoses] == [0, 100]  # the correct run's too


def test_loss_curves_and_plot_title_name_each_run_and_the_network(
    short_runs: list[manual.ManualRun],
) -> None:
    curves = manual.loss_curves(short_runs)
    assert [label for label, _ in curves] == [
        "attempt1  (loss sum((y_hat-y)^2))",
        "attempt2  (loss 0.5*sum((y_hat-y)^2))",
        "correct  (loss 0.5*sum((y_hat-y)^2))",
    ]
    assert [losses for _, losses in curves] == [run.losses for run in short_runs]
    assert manual.plot_title(short_runs) == "The learner's 2-5-1 network on XOR, lr 0.3"
    with pytest.raises(ValueError, match=r"^no runs to plot\.$"):
        manual.plot_title([])
    mean_run = manual.train("correct", epochs=2, loss="mean")
    assert manual.loss_curves([mean_run])[0][0] == "correct  (loss mean((y_hat-y)^2))"


def _plot(runs: list[manual.ManualRun], path: Path) -> Path:
    """What `tinygrad-xor manual --plot` draws."""
    return plots.plot_comparison(manual.loss_curves(runs), path, title=manual.plot_title(runs))


def test_plot_comparison_writes_a_png(runs: dict[str, manual.ManualRun], tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "sub" / "curves.png"
    _plot(list(runs.values()), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_comparison_writes_atomically_so_a_failed_write_keeps_the_old_file(
    runs: dict[str, manual.ManualRun], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "curves.png"
    path.write_bytes(b"the old picture")
    fill_disk(monkeypatch, tmp_path)
    with pytest.raises(OSError, match="No space left on device"):
        _plot(list(runs.values()), path)
    assert path.read_bytes() == b"the old picture"
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


# -- options -------------------------------------------------------------------------------


def test_mean_loss_is_the_half_sum_divided_by_two_over_four_rows() -> None:
    half = manual.train("correct", epochs=1, loss="half_sum")
    mean = manual.train("correct", epochs=1, loss="mean")
    assert mean.losses[0] == pytest.approx(half.losses[0] / 2, rel=1e-15)


def test_biases_add_b1_and_b2_and_train() -> None:
    run = manual.train("correct", epochs=20, biases=True)
    assert "b1[4]" in run.downward_steps and "b2[0]" in run.downward_steps
    assert run.final_weights.b2 is not None and run.final_weights.b2[0] != 0.0


def test_explicit_weights_are_used_and_not_modified() -> None:
    weights = manual.Weights(np.full((2, 5), 0.1), np.full((5, 1), -0.2), np.zeros(5), np.zeros(1))
    run = manual.train("correct", epochs=3, weights=weights, loss="mean")
    np.testing.assert_array_equal(run.initial_weights.flat(), weights.flat())
    assert weights.W1[0, 0] == 0.1  # the caller's arrays are untouched
    assert run.final_weights.b1 is not None


def test_keep_weights_at_takes_snapshots() -> None:
    run = manual.train("correct", epochs=5, keep_weights_at=(0, 2, 5))
    assert sorted(run.snapshots) == [0, 2, 5]
    np.testing.assert_array_equal(run.snapshots[0].flat(), run.initial_weights.flat())
    np.testing.assert_array_equal(run.snapshots[5].flat(), run.final_weights.flat())


def test_state_dict_round_trip() -> None:
    weights = _random_weights(5, biases=True)
    back = manual.Weights.from_state_dict(weights.to_state_dict())
    np.testing.assert_array_equal(back.flat(), weights.flat())
    model = MLP(2, [5, 1], bias=False, seed=3)
    no_bias = manual.Weights.from_state_dict(model.state_dict())
    assert not no_bias.has_biases
    assert no_bias.to_state_dict() == model.state_dict()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"variant": "attempt3"},
            "unknown variant 'attempt3'; choose one of: attempt1, attempt2, correct.",
        ),
        ({"loss": "l1"}, "unknown loss 'l1'; choose one of: half_sum, sum, mean."),
        ({"epochs": 0}, "epochs must be a whole number >= 1, got 0."),
        ({"lr": -0.1}, "lr must be a finite number > 0, got -0.1."),
        ({"lr": math.nan}, "lr must be a finite number > 0, got nan."),
        (
            {"weights": manual.learner_weights(), "biases": True},
            "biases=True contradicts the weights given, which have no biases; leave biases out.",
        ),
        (
            {"weights": manual.learner_weights(biases=True), "biases": False},
            "biases=False contradicts the weights given, which have biases; leave biases out.",
        ),
    ],
)
def test_bad_options_raise_clear_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        manual.train(**kwargs)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_one_hidden_unit_is_the_smallest_network() -> None:
    weights = manual.learner_weights(hidden=1)
    assert weights.hidden == 1 and list(weights.named()) == ["W1[0,0]", "W1[1,0]", "W2[0,0]"]
    assert len(manual.train("correct", epochs=2, hidden=1).losses) == 2


def _weights_refusal(error: type[Exception], make: Callable[[], object]) -> str:
    with pytest.raises(error) as caught:
        make()
    return str(caught.value)


def test_bad_weights_raise_clear_errors() -> None:
    assert (
        _weights_refusal(ValueError, lambda: manual.Weights(np.zeros((2, 5)), np.zeros((4, 1))))
        == "W2 must have shape (5, 1), got (4, 1)."
    )
    assert (
        _weights_refusal(ValueError, lambda: manual.Weights(np.zeros((2, 0)), np.zeros((0, 1))))
        == "W1 must have shape (2, hidden), got (2, 0)."
    )
    assert (
        _weights_refusal(
            ValueError, lambda: manual.Weights(np.zeros((2, 5)), np.zeros((5, 1)), np.zeros(5))
        )
        == "give both biases (b1 and b2) or neither."
    )
    assert (
        _weights_refusal(
            ValueError, lambda: manual.Weights(np.zeros((2, 2)), np.array([[1.0], [np.inf]]))
        )
        == "W2 has non-finite entries: [[1.0], [inf]]."
    )
    assert _weights_refusal(
        TypeError,
        lambda: manual.train(weights={"W1": 0}),  # type: ignore[arg-type]
    ) == (
        "weights must be a manual.Weights, got dict; use Weights.from_state_dict"
        "(mlp.state_dict()) to start from an MLP's weights."
    )
    assert (
        _weights_refusal(
            TypeError,
            lambda: manual.Weights.from_state_dict([1.0]),  # type: ignore[arg-type]
        )
        == "state must be a dict of name -> float, got list."
    )
    # Five names gone from a full 2-5-1 state and five strangers added: four of each are listed.
    state = MLP(2, [5, 1]).state_dict()
    gone = [f"layers.0.neurons.{j}.weight.0" for j in range(5)]
    for name in gone:
        del state[name]
    strangers = [f"extra.{k}" for k in range(5)]
    state.update(dict.fromkeys(strangers, 0.0))
    with pytest.raises(ValueError) as caught:
        manual.Weights.from_state_dict(state)
    assert str(caught.value) == (
        f"state is not that of MLP(2, [5, 1], bias=True): missing {sorted(gone)[:4]}, "
        f"unexpected {strangers[:4]}."
    )
    # A state with its first weight renamed: the message names the MLP, what is missing, what extra.
    state = MLP(2, [3, 1]).state_dict()
    state["extra"] = state.pop("layers.0.neurons.0.weight.0")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "state is not that of MLP(2, [3, 1], bias=True): "
            "missing ['layers.0.neurons.0.weight.0'], unexpected ['extra']."
        ),
    ):
        manual.Weights.from_state_dict(state)


def test_a_state_is_compared_with_the_nearest_network_even_a_larger_one() -> None:
    """Hidden unit 2's input weights alone: MLP(2, [2, 1]) lacks 4 of its 6 names and has none
    extra (4 apart); MLP(2, [1, 1]) lacks its 3 and has 2 extra (5 apart), so [2, 1] is named."""
    state = {"layers.0.neurons.1.weight.0": 0.5, "layers.0.neurons.1.weight.1": -0.5}
    with pytest.raises(
        ValueError, match=re.escape("state is not that of MLP(2, [2, 1], bias=False)")
    ):
        manual.Weights.from_state_dict(state)


def test_a_loss_that_blows_up_stops_with_the_epoch_and_advice() -> None:
    # Huge opposite output weights that cancel: z2 = 0, so the hidden deltas are ~1e299
    # and lr 1e10 overflows W1 in the first update.
    weights = manual.Weights(np.zeros((2, 5)), np.array([[1e300], [-1e300], [0], [0], [0]]))
    with pytest.raises(FloatingPointError) as caught:
        manual.train("attempt1", epochs=5, lr=1e10, weights=weights)
    assert str(caught.value) == (
        "the weights overflowed to inf or nan in the update of epoch 0 "
        "(attempt1, lr 10000000000.0); try a smaller lr."
    )


def test_a_loss_that_is_not_finite_names_the_epoch_it_appeared_at(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The 4th forward pass (after 3 updates) gives an inf loss: training stops there, saying so."""
    real_backprop = network.backprop
    calls: list[int] = []

    def diverging_at_the_fourth_pass(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real_backprop(*args, **kwargs)
        calls.append(1)
        return dataclasses.replace(result, loss=math.inf) if len(calls) == 4 else result

    monkeypatch.setattr(network, "backprop", diverging_at_the_fourth_pass)
    with pytest.raises(FloatingPointError) as caught:
        manual.train("attempt2", epochs=10, lr=0.5)
    assert str(caught.value) == (
        "the loss became inf at epoch 3 (attempt2, lr 0.5); try a smaller lr."
    )
    assert len(calls) == 4  # stopped at once, before the 4th update
