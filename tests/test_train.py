"""The training loop: losses recorded before each update, callbacks, early stop, divergence,
a pluggable step, and the datasets; a run's verdict, summary and record; sample_loss;
which step runs (step_factory) and how compiled_step checks its tape."""

from __future__ import annotations

import dataclasses
import doctest
import importlib
import json
import math
import subprocess
import sys
from collections.abc import Sequence

import pytest
from refusals import Refusal, assert_refused, each_refusal

from tinygrad_xor.compile import Tape, trace
from tinygrad_xor.data import AND, DATASETS, NAND, OR, XOR, Dataset, get_dataset, is_solved
from tinygrad_xor.engine import Value, topological_order
from tinygrad_xor.losses import FIXED_GRAPH_LOSSES, LOSSES, LossFn, get_loss
from tinygrad_xor.nn import MLP
from tinygrad_xor.optim import SGD
from tinygrad_xor.report import prediction_table, run_record, summary, verdict
from tinygrad_xor.train import (
    EpochReport,
    History,
    NonFiniteLossError,
    Step,
    StepResult,
    autograd_step,
    compiled_step,
    evaluate,
    loss_for,
    sample_loss,
    step_factory,
    train,
    widest_hidden,
)

# The module, not the function tinygrad_xor exports under the same name.
train_module = importlib.import_module("tinygrad_xor.train")


def learner_model(seed: int = 0) -> MLP:
    return MLP(2, [5, 1], seed=seed)


def test_gates_are_truth_tables_in_the_learners_order() -> None:
    assert XOR.inputs == ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))
    assert XOR.targets == (0.0, 1.0, 1.0, 0.0)
    assert AND.targets == (0.0, 0.0, 0.0, 1.0)
    assert OR.targets == (0.0, 1.0, 1.0, 1.0)
    assert NAND.targets == (1.0, 1.0, 1.0, 0.0)
    assert get_dataset("xor") is XOR
    assert set(DATASETS) == {"xor", "and", "or", "nand"}
    with pytest.raises(ValueError) as caught:
        Dataset("bad", ((0.0, 1.0),), (0.0, 1.0))
    assert str(caught.value) == (  # both counts, so the user sees which is short
        "dataset 'bad': needs one target per input and at least one input, "
        "got 1 inputs and 2 targets."
    )
    with pytest.raises(ValueError) as caught:
        Dataset("empty", (), ())  # equal counts, but nothing to learn from
    assert str(caught.value) == (
        "dataset 'empty': needs one target per input and at least one input, "
        "got 0 inputs and 0 targets."
    )
    with pytest.raises(ValueError) as caught:
        Dataset("ragged", ((0.0, 1.0), (1.0,), (0.0, 0.0, 1.0)), (0.0, 1.0, 1.0))
    assert str(caught.value) == (
        "dataset 'ragged': every input must have the same length, got lengths [1, 2, 3]."
    )


def test_is_solved_needs_every_prediction_on_the_right_side_of_one_half() -> None:
    assert is_solved([0.1, 0.9, 0.6, 0.4], [0.0, 1.0, 1.0, 0.0])
    assert not is_solved([0.1, 0.9, 0.6, 0.5], [0.0, 1.0, 1.0, 0.0])  # 0.5 is on neither side
    assert not is_solved([0.1, 0.5, 0.6, 0.4], [0.0, 1.0, 1.0, 0.0])
    assert not is_solved([math.nan, 0.9, 0.6, 0.4], [0.0, 1.0, 1.0, 0.0])


def test_datasets_and_the_records_of_a_run_are_read_only() -> None:
    """XOR is shared by every run, and a History is what happened: neither can be reassigned."""
    model = learner_model()
    reports: list[EpochReport] = []
    history = train(model, XOR, SGD(model.parameters(), lr=0.3), epochs=1, callback=reports.append)
    step = autograd_step(model, XOR, get_loss("mse"))()
    records = [(XOR, "targets"), (history, "final_loss"), (reports[0], "loss"), (step, "loss")]
    records.append((verdict(model, XOR, history.predictions), "right"))
    for record, field in records:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, field, 0.0)


def test_each_loss_is_recorded_before_its_update() -> None:
    model = learner_model()
    initial = evaluate(model, XOR).loss
    history = train(model, XOR, SGD(model.parameters(), lr=0.3), epochs=1)
    assert history.losses == [initial]
    assert history.epochs == 1
    # the final loss is that of the returned model, after the one update
    assert history.final_loss == evaluate(model, XOR).loss
    assert history.final_loss != initial

    # training 3 epochs in one go records what 1 + 1 + 1 epochs record
    one_go = learner_model()
    h3 = train(one_go, XOR, SGD(one_go.parameters(), lr=0.3), epochs=3)
    stepwise = learner_model()
    optimizer = SGD(stepwise.parameters(), lr=0.3)
    losses = [train(stepwise, XOR, optimizer, epochs=1).losses[0] for _ in range(3)]
    assert h3.losses == losses
    assert one_go.state_dict() == stepwise.state_dict()


def test_history_of_a_default_run_solves_xor() -> None:
    model = learner_model()
    history = train(model, XOR, SGD(model.parameters(), lr=0.3, momentum=0.9), epochs=2000)
    assert len(history.losses) == 2000
    assert history.solved and not history.stopped_early
    assert history.first_solved_epoch is not None and 0 < history.first_solved_epoch < 2000
    assert history.final_loss < 0.01 < history.losses[0]
    assert history.predictions == evaluate(model, XOR).predictions


def test_callback_sees_every_epoch_and_first_solved_epoch_agrees() -> None:
    model = learner_model()
    reports: list[EpochReport] = []
    history = train(
        model,
        XOR,
        SGD(model.parameters(), lr=0.3, momentum=0.9),
        epochs=800,
        callback=reports.append,
    )
    assert [r.epoch for r in reports] == list(range(800))
    assert [r.loss for r in reports] == history.losses
    assert all(r.epochs == 800 for r in reports)
    first = next((r.epoch for r in reports if r.solved), None)
    assert first is not None
    assert history.first_solved_epoch == first


def test_a_run_solved_only_by_its_last_update_says_so() -> None:
    # The loss recorded at epoch e comes before update e: a run of exactly as many epochs as
    # a longer run needed to solve XOR is solved by its last update, first at that epoch.
    longer = learner_model()
    first = train(longer, XOR, SGD(longer.parameters(), lr=0.3, momentum=0.9), epochs=600)
    assert first.first_solved_epoch is not None
    model = learner_model()
    epochs = first.first_solved_epoch
    history = train(model, XOR, SGD(model.parameters(), lr=0.3, momentum=0.9), epochs=epochs)
    assert history.solved and history.first_solved_epoch == epochs == history.epochs


def test_callback_returning_true_stops_before_that_epochs_update() -> None:
    model = learner_model()
    seen: list[int] = []

    def stop_at_five(report: EpochReport) -> bool:
        seen.append(report.epoch)
        return report.epoch == 5

    history = train(model, XOR, SGD(model.parameters(), lr=0.3), epochs=100, callback=stop_at_five)
    assert seen == [0, 1, 2, 3, 4, 5]
    assert history.stopped_early
    assert history.epochs == 5  # five updates were made
    # the model is the one the callback saw at epoch 5
    assert history.final_loss == history.losses[5] == evaluate(model, XOR).loss
    reference = learner_model()
    train(reference, XOR, SGD(reference.parameters(), lr=0.3), epochs=5)
    assert model.state_dict() == reference.state_dict()


def test_non_finite_loss_stops_at_once_naming_the_epoch() -> None:
    model = MLP(2, [5, 1], activation="relu", output_activation="linear", seed=0)
    seen: list[float] = []
    with pytest.raises(NonFiniteLossError) as caught:
        train(
            model,
            XOR,
            SGD(model.parameters(), lr=1000.0),
            epochs=500,
            callback=lambda r: seen.append(r.loss) is not None,
        )
    error = caught.value
    assert isinstance(error, ArithmeticError)  # a numeric failure, not a bad argument
    assert not isinstance(error, ValueError)
    assert not math.isfinite(error.loss)
    assert error.epoch == len(seen)  # every earlier epoch was finite and reported
    assert all(math.isfinite(loss) for loss in seen)
    assert str(error) == (
        f"the loss is {error.loss} at epoch {error.epoch} (after {error.epoch} updates with "
        "lr 1000): training diverged; try a smaller learning rate, e.g. lr 100."
    )


def test_a_loss_that_is_not_finite_after_the_last_update_names_that_update() -> None:
    # The one update of lr 1e150 throws the weights far: the loss after it is inf.
    model = MLP(2, [5, 1], activation="relu", output_activation="linear", seed=0)
    with pytest.raises(NonFiniteLossError) as caught:
        train(model, XOR, SGD(model.parameters(), lr=1e150), epochs=1)
    assert caught.value.epoch == 1 and caught.value.loss == math.inf
    assert caught.value.lr == 1e150
    assert str(caught.value) == (  # the loss, the update count, the rate and a tenth of it
        "the loss is inf at epoch 1 (after 1 updates with lr 1e+150): "
        "training diverged; try a smaller learning rate, e.g. lr 1e+149."
    )


def test_a_replacement_step_plugs_in() -> None:
    calls = {"factory": 0, "step": 0}

    def counting_step(model: MLP, dataset: Dataset, loss_fn: object) -> Step:
        calls["factory"] += 1
        inner = autograd_step(model, dataset, get_loss("mse"))

        def step() -> StepResult:
            calls["step"] += 1
            return inner()

        return step

    plugged = learner_model()
    history = train(
        plugged, XOR, SGD(plugged.parameters(), lr=0.3), epochs=20, make_step=counting_step
    )
    assert calls == {"factory": 1, "step": 20}
    reference = learner_model()
    expected = train(reference, XOR, SGD(reference.parameters(), lr=0.3), epochs=20)
    assert history.losses == expected.losses
    assert plugged.state_dict() == reference.state_dict()


def test_the_step_is_what_moves_the_parameters() -> None:
    # A step that reports the loss but leaves every gradient 0: nothing may change.
    def frozen_step(model: MLP, dataset: Dataset, loss_fn: object) -> Step:
        def step() -> StepResult:
            result = evaluate(model, dataset)
            return StepResult(result.loss, result.predictions)

        return step

    model = learner_model()
    before = model.state_dict()
    history = train(model, XOR, SGD(model.parameters(), lr=0.3), epochs=5, make_step=frozen_step)
    assert model.state_dict() == before
    assert len(set(history.losses)) == 1


@pytest.mark.parametrize("gate", [AND, OR, NAND])
def test_linearly_separable_gates_train_quickly(gate: Dataset) -> None:
    model = learner_model()
    history = train(model, gate, SGD(model.parameters(), lr=0.3, momentum=0.9), epochs=300)
    assert history.solved


def test_bad_arguments_are_clear_errors() -> None:
    model = learner_model()
    wide = MLP(3, [5, 1])
    with pytest.raises(ValueError) as too_wide:
        train(wide, XOR, SGD(wide.parameters(), lr=0.3), epochs=1)
    # what the model has, what the dataset needs, and a model that would fit
    assert str(too_wide.value) == (
        "the model takes 3 inputs and gives 1 outputs; dataset 'xor' needs 2 inputs and "
        "1 output, e.g. MLP(2, [5, 1])."
    )
    two_outputs = MLP(2, [5, 2])
    with pytest.raises(ValueError) as too_many:
        train(two_outputs, XOR, SGD(two_outputs.parameters(), lr=0.3), epochs=1)
    assert str(too_many.value) == (
        "the model takes 2 inputs and gives 2 outputs; dataset 'xor' needs 2 inputs and "
        "1 output, e.g. MLP(2, [5, 1])."
    )
    with pytest.raises(TypeError) as not_a_dataset:
        train(model, [[0, 0]], SGD(model.parameters(), lr=0.3), epochs=1)  # type: ignore[arg-type]
    assert str(not_a_dataset.value) == (
        "dataset must be a Dataset (e.g. tinygrad_xor.data.XOR) or its name, one of xor, and, "
        "or, nand; got list [[0, 0]]."
    )


def train_xor(dataset: Dataset | str = XOR, **options: object) -> History:
    """A 2-5-1 learner trained on `dataset` with SGD(lr=0.3), one epoch unless told."""
    model = learner_model()
    optimizer = SGD(model.parameters(), lr=0.3)
    return train(model, dataset, optimizer, **{"epochs": 1, **options})  # type: ignore[arg-type]


UNKNOWN_LOSS = "unknown loss 'hinge'; choose one of: mse, mse_sum, mse_half_sum, bce."
UNKNOWN_DATASET = "unknown dataset 'nor'; choose one of: xor, and, or, nand."

# Each bad argument of the training functions and the datasets: its exception type and its
# whole message, naming the argument, what is allowed and what was received.
REFUSALS: list[Refusal] = [
    (lambda: train_xor(epochs=0), ValueError, "epochs must be a whole number >= 1, got 0."),
    (lambda: train_xor(loss="hinge"), ValueError, UNKNOWN_LOSS),
    (lambda: loss_for(learner_model(), "hinge"), ValueError, UNKNOWN_LOSS),
    (lambda: train_xor("nor"), ValueError, UNKNOWN_DATASET),
    (lambda: get_dataset("nor"), ValueError, UNKNOWN_DATASET),
    (
        lambda: evaluate(learner_model(), None),  # type: ignore[arg-type]
        TypeError,
        "dataset must be a Dataset (e.g. tinygrad_xor.data.XOR) or its name, one of xor, and, "
        "or, nand; got NoneType None.",
    ),
    (
        lambda: step_factory(1),  # type: ignore[arg-type]
        TypeError,
        "compiled must be True or False, got int 1.",
    ),
    # one odd input is enough
    (
        lambda: Dataset("two widths", ((0.0, 1.0), (1.0,)), (0.0, 1.0)),
        ValueError,
        "dataset 'two widths': every input must have the same length, got lengths [1, 2].",
    ),
    (
        lambda: Dataset("gate", (("0", 0.0),), (0.0,)),  # type: ignore[arg-type]
        TypeError,
        "dataset 'gate': input 0 must be a finite number, got str '0'.",
    ),
    (
        lambda: Dataset("gate", ((0.0, 0.0),), (None,)),  # type: ignore[arg-type]
        TypeError,
        "dataset 'gate': target 0 must be a finite number, got NoneType None.",
    ),
]


@each_refusal(REFUSALS)
def test_each_refusal_has_its_exception_type_and_says_its_whole_message(refusal: Refusal) -> None:
    assert_refused(*refusal)


def test_a_dataset_can_be_given_by_name() -> None:
    by_name, by_object = learner_model(), learner_model()
    history = train(by_name, "xor", SGD(by_name.parameters(), lr=0.3), epochs=20)
    expected = train(by_object, XOR, SGD(by_object.parameters(), lr=0.3), epochs=20)
    assert history == expected
    assert evaluate(by_name, "and") == evaluate(by_object, AND)


@pytest.mark.parametrize(
    "module_name",
    [
        "tinygrad_xor.nn",
        "tinygrad_xor.losses",
        "tinygrad_xor.optim",
        "tinygrad_xor.train",
        "tinygrad_xor.report",
    ],
)
def test_docstring_examples_run(module_name: str) -> None:
    module = importlib.import_module(module_name)
    result = doctest.testmod(module)
    assert result.attempted > 0, f"{module_name} has no examples"
    assert result.failed == 0


def test_importing_the_package_loads_only_the_standard_library() -> None:
    # Every module that `import tinygrad_xor` loads, in a fresh interpreter: the ones
    # loaded before it (site, the editable-install hook) are the interpreter's, not ours.
    code = (
        "import json, sys\n"
        "before = set(sys.modules)\n"
        "import tinygrad_xor\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = json.loads(result.stdout)
    assert "tinygrad_xor" in loaded  # the check sees the package's own imports
    not_standard = [
        name
        for name in loaded
        if name.split(".")[0] not in sys.stdlib_module_names
        and name.split(".")[0] != "tinygrad_xor"
    ]
    assert not_standard == []


# -- a run's verdict, its report and its record --------------------------------------


def test_verdict_counts_the_right_predictions() -> None:
    model = learner_model()
    outcome = verdict(model, XOR, [0.1, 0.9, 0.4, 0.6])  # samples 0 and 1 right
    assert (outcome.right, outcome.total, outcome.saturated) == (2, 4, False)
    assert not outcome.solved
    assert verdict(model, XOR, [0.4, 0.6, 0.6, 0.4]).solved
    assert not verdict(model, XOR, [0.4, 0.6, 0.6, 0.6]).solved  # three of four is not solved
    assert verdict(model, XOR, [0.5, 0.5, 0.5, 0.5]).right == 0  # 0.5 is on neither side


def test_verdict_calls_sigmoid_outputs_within_0_01_of_0_or_1_saturated() -> None:
    model = learner_model()
    stuck = [0.0099, 0.001, 0.999, 0.9901]  # wrong on samples 1 and 2, all pinned
    assert verdict(model, XOR, stuck).saturated
    assert verdict(model, XOR, [0.0, 0.0, 1.0, 1.0]).saturated
    # one output off the edge is enough to say it is not stuck
    assert not verdict(model, XOR, [0.011, 0.001, 0.999, 0.999]).saturated
    assert not verdict(model, XOR, [0.01, 0.001, 0.999, 0.999]).saturated  # 0.01 is not within
    assert not verdict(model, XOR, [0.001, 0.001, 0.999, 0.989]).saturated
    assert not verdict(model, XOR, [math.nan, 0.001, 0.999, 0.999]).saturated


def test_verdict_never_calls_a_solved_run_saturated() -> None:
    outcome = verdict(learner_model(), XOR, [0.001, 0.999, 0.999, 0.001])
    assert outcome.solved and not outcome.saturated


@pytest.mark.parametrize("output_activation", ["tanh", "relu", "linear"])
def test_verdict_never_calls_another_activations_output_saturated(output_activation: str) -> None:
    model = MLP(2, [5, 1], output_activation=output_activation, seed=0)
    outcome = verdict(model, XOR, [0.001, 0.001, 0.999, 0.999])
    assert outcome.right == 2 and not outcome.saturated


@pytest.mark.parametrize("output_activation", ["sigmoid", "tanh", "relu", "linear"])
@pytest.mark.parametrize("loss", ["mse", "mse_sum", "mse_half_sum", "bce"])
def test_loss_for_refuses_only_bce_without_a_sigmoid_output(
    output_activation: str, loss: str
) -> None:
    model = MLP(2, [5, 1], output_activation=output_activation, seed=0)
    if loss == "bce" and output_activation != "sigmoid":
        with pytest.raises(ValueError) as caught:
            loss_for(model, loss)
        assert str(caught.value) == (
            "bce needs outputs in [0, 1], i.e. a sigmoid output activation; this model's is "
            f"{output_activation}. Use mse instead."
        )
    else:
        assert loss_for(model, loss) is LOSSES[loss]


@pytest.mark.parametrize("output_activation", ["tanh", "relu", "linear"])
def test_train_and_evaluate_refuse_bce_as_loss_for_does_before_any_update(
    output_activation: str,
) -> None:
    # A linear output of seed 0 starts inside [0, 1]: bce alone would train on, unwarned.
    model = MLP(2, [5, 1], output_activation=output_activation, seed=0)
    before = model.state_dict()
    optimizer = SGD(model.parameters(), lr=0.3)
    says = (
        "bce needs outputs in [0, 1], i.e. a sigmoid output activation; this model's is "
        f"{output_activation}. Use mse instead."
    )
    assert_refused(lambda: train(model, XOR, optimizer, epochs=5, loss="bce"), ValueError, says)
    assert_refused(lambda: evaluate(model, XOR, "bce"), ValueError, says)
    assert model.state_dict() == before


def labels(root: Value) -> set[str]:
    return {node.label for node in topological_order(root) if node.label}


def test_sample_loss_labels_the_samples_it_draws() -> None:
    model = learner_model()
    root = sample_loss(model, XOR, "mse", [2])
    assert root.label == "loss"
    named = labels(root)
    assert {"x1[3]", "x2[3]", "pred[3]", "loss"} <= named
    assert not {"pred[1]", "pred[2]", "pred[4]", "x1[1]"} & named
    both = labels(sample_loss(learner_model(), XOR, "mse", [0, 3]))
    assert {"x1[1]", "x2[1]", "pred[1]", "x1[4]", "x2[4]", "pred[4]"} <= both


def test_sample_loss_is_the_loss_of_those_samples_after_backward() -> None:
    model = learner_model()
    root = sample_loss(model, XOR, "bce", [1, 2])
    reference = learner_model()
    predictions = [reference(list(XOR.inputs[s]))[0] for s in (1, 2)]
    expected = get_loss("bce")(predictions, [XOR.targets[1], XOR.targets[2]])
    expected.backward()
    assert root.data == expected.data
    assert [p.grad for p in model.parameters()] == [p.grad for p in reference.parameters()]
    assert all(p.grad != 0.0 for p in model.parameters())


def test_sample_loss_of_every_sample_is_the_batch_loss() -> None:
    model = learner_model()
    everything = sample_loss(model, "xor", "mse")
    assert everything.data == evaluate(learner_model(), XOR).loss
    listed = sample_loss(learner_model(), XOR, "mse", [0, 1, 2, 3])
    assert listed.data == everything.data
    assert {f"pred[{s}]" for s in range(1, 5)} <= labels(everything)


def test_sample_loss_refuses_samples_out_of_range_and_unsuited_losses() -> None:
    model = learner_model()
    with pytest.raises(ValueError) as caught:
        sample_loss(model, XOR, "mse", [4])
    assert str(caught.value) == "sample must be a whole number from 0 to 3, got 4."
    assert_refused(
        lambda: sample_loss(model, XOR, "mse", [0, -1]),
        ValueError,
        "sample must be a whole number from 0 to 3, got -1.",
    )
    assert_refused(
        lambda: sample_loss(model, XOR, "mse", [1.0]),  # type: ignore[list-item]
        TypeError,
        "sample must be a whole number from 0 to 3, got float 1.0.",
    )
    assert_refused(
        lambda: sample_loss(MLP(2, [5, 1], output_activation="linear"), XOR, "bce"),
        ValueError,
        "bce needs outputs in [0, 1], i.e. a sigmoid output activation; this model's is "
        "linear. Use mse instead.",
    )
    assert_refused(
        lambda: sample_loss(MLP(3, [5, 1]), XOR, "mse"),
        ValueError,
        "the model takes 3 inputs and gives 1 outputs; dataset 'xor' needs 2 inputs and "
        "1 output, e.g. MLP(2, [5, 1]).",
    )
    assert all(p.grad == 0.0 for p in model.parameters())  # refused before any backward


def hand_made_history(**changes: object) -> History:
    fields: dict[str, object] = {
        "losses": [0.3, 0.2],
        "epochs": 2,
        "stopped_early": False,
        "final_loss": 0.1,
        "predictions": [0.2, 0.7, 0.8, 0.3],
        "solved": True,
        "first_solved_epoch": 1,
    }
    return History(**{**fields, **changes})  # type: ignore[arg-type]


def test_summary_says_what_was_trained_and_how_it_ended() -> None:
    model = learner_model()
    optimizer = SGD(model.parameters(), lr=0.5, momentum=0.25)
    lines = summary(model, XOR, hand_made_history(), optimizer, "mse").splitlines()
    assert lines[0] == "XOR: 2-5-1 MLP (sigmoid hidden, sigmoid output, biases, torch init, seed 0)"
    assert lines[1] == "trained 2 epochs: SGD lr 0.5 momentum 0.25, loss mse"
    assert lines[2] == "" and lines[-3] == ""
    assert lines[3:8] == prediction_table(XOR, [0.2, 0.7, 0.8, 0.3]).splitlines()
    assert lines[-2] == "final loss: 0.1 (mse)"
    assert lines[-1] == "solved: all 4 right (first at epoch 1)"


def test_summary_says_stopped_early_and_where_the_model_was_loaded_from() -> None:
    model = MLP(2, [3, 1], activation="tanh", bias=False, init="xavier", seed=4)
    optimizer = SGD(model.parameters(), lr=0.3)
    text = summary(
        model,
        AND,
        hand_made_history(stopped_early=True, epochs=1),
        optimizer,
        "bce",
        loaded_from="runs/model.json",
    )
    first, second = text.splitlines()[:2]
    assert first == (
        "AND: 2-3-1 MLP (tanh hidden, sigmoid output, no biases, xavier init, seed 4), "
        "loaded from runs/model.json"
    )
    assert second == "trained 1 epochs (stopped early): SGD lr 0.3 momentum 0, loss bce"
    plain = summary(model, AND, hand_made_history(), optimizer, "bce")
    assert "loaded from" not in plain and "stopped early" not in plain


def test_summary_of_a_run_that_failed_counts_the_right_ones_and_names_saturation() -> None:
    model = learner_model()
    optimizer = SGD(model.parameters(), lr=0.3)
    wrong = hand_made_history(
        solved=False, first_solved_epoch=None, predictions=[0.2, 0.7, 0.8, 0.6]
    )
    assert summary(model, XOR, wrong, optimizer, "mse").splitlines()[-1] == (
        "not solved: 3 of 4 right"
    )
    stuck = hand_made_history(
        solved=False, first_solved_epoch=None, predictions=[0.001, 0.001, 0.999, 0.999]
    )
    assert summary(model, XOR, stuck, optimizer, "mse").splitlines()[-1] == (
        "not solved: 2 of 4 right, and every output is stuck near 0 or 1 "
        "(saturated units learn almost nothing)"
    )


def test_run_record_is_json_and_holds_the_run() -> None:
    model = MLP(2, [4, 3, 1], activation="tanh", init="xavier", seed=2)
    optimizer = SGD(model.parameters(), lr=0.3)
    history = train(model, XOR, optimizer, epochs=7)
    record = run_record(model, XOR, history, optimizer, "mse")
    assert set(record) == {
        "dataset", "inputs", "targets", "predictions", "solved", "first_solved_epoch",
        "final_loss", "initial_loss", "epochs", "stopped_early", "seed", "hidden",
        "activation", "output_activation", "bias", "init", "loss", "lr", "momentum",
    }  # fmt: skip
    assert (record["loss"], record["lr"], record["momentum"]) == ("mse", 0.3, 0.0)
    assert json.loads(json.dumps(record, allow_nan=False)) == record  # JSON, no tuples
    assert record["dataset"] == "xor"
    assert record["inputs"] == [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    assert record["targets"] == [0.0, 1.0, 1.0, 0.0]
    assert record["hidden"] == [4, 3] and record["seed"] == 2
    assert (record["activation"], record["output_activation"]) == ("tanh", "sigmoid")
    assert (record["bias"], record["init"]) == (True, "xavier")
    assert record["epochs"] == 7 and record["stopped_early"] is False
    assert record["initial_loss"] == history.losses[0]
    assert record["final_loss"] == history.final_loss
    assert record["predictions"] == history.predictions


# -- which step runs each epoch -------------------------------------------------------


def test_step_factory_picks_the_compiled_or_the_autograd_step() -> None:
    assert step_factory(True) is compiled_step
    assert step_factory(False) is autograd_step


def traced_with(
    monkeypatch: pytest.MonkeyPatch, loss_fn: LossFn, dataset: Dataset = XOR, **options: object
) -> Tape:
    """The tape compiled_step traces, caught on its way out of trace()."""
    tapes: list[Tape] = []

    def recording_trace(*args: object, **kwargs: object) -> Tape:
        tape = trace(*args, **kwargs)  # type: ignore[arg-type]
        tapes.append(tape)
        return tape

    monkeypatch.setattr(train_module, "trace", recording_trace)
    model = MLP(dataset.nin, [5, 1], seed=0)
    step = compiled_step(model, dataset, loss_fn, **options)  # type: ignore[arg-type]
    assert step().loss == evaluate(MLP(dataset.nin, [5, 1], seed=0), dataset, loss_fn).loss
    (tape,) = tapes
    return tape


@pytest.mark.parametrize("name", ["mse", "mse_sum", "mse_half_sum"])
def test_a_fixed_graph_loss_is_replayed_unchecked(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    assert LOSSES[name] in FIXED_GRAPH_LOSSES
    tape = traced_with(monkeypatch, LOSSES[name])
    assert (tape.check_every, tape.retrace) == (0, False)
    assert tape.name == "xor_loss"


def test_any_other_loss_is_checked_every_step_and_retraced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bce = traced_with(monkeypatch, LOSSES["bce"])
    assert (bce.check_every, bce.retrace) == (1, True)

    def my_mse(predictions: Sequence[Value], targets: Sequence[float]) -> Value:
        return get_loss("mse")(predictions, targets)  # the same graph, but we cannot know

    mine = traced_with(monkeypatch, my_mse)
    assert (mine.check_every, mine.retrace) == (1, True)


def test_the_check_policy_can_be_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    tape = traced_with(monkeypatch, LOSSES["bce"], check_every=5, retrace=False)
    assert (tape.check_every, tape.retrace) == (5, False)
    tape = traced_with(monkeypatch, LOSSES["mse"], check_every=2)
    assert (tape.check_every, tape.retrace) == (2, False)
    tape = traced_with(monkeypatch, LOSSES["mse"], retrace=True)
    assert (tape.check_every, tape.retrace) == (0, True)


def test_a_dataset_name_that_is_no_identifier_gives_the_default_tape_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = Dataset("my gate", XOR.inputs, XOR.targets)
    assert traced_with(monkeypatch, LOSSES["mse"], gate).name == "loss_and_grads"


# -- datasets refuse numbers that are not finite ---------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_dataset_refuses_non_finite_inputs_and_targets(bad: float) -> None:
    with pytest.raises(ValueError) as caught:
        Dataset("gate", ((0.0, 0.0), (0.0, bad)), (0.0, 1.0))
    assert str(caught.value) == f"dataset 'gate': input 1 must be a finite number, got {bad!r}."
    with pytest.raises(ValueError) as caught:
        Dataset("gate", ((0.0, 0.0), (0.0, 1.0)), (bad, 1.0))
    assert str(caught.value) == f"dataset 'gate': target 0 must be a finite number, got {bad!r}."


def test_an_optimizer_holding_more_than_the_models_parameters_trains_it() -> None:
    model, extra = learner_model(), Value(1.0)
    history = train(model, XOR, SGD([*model.parameters(), extra], lr=0.3), epochs=5)
    reference = learner_model()
    assert history == train(reference, XOR, SGD(reference.parameters(), lr=0.3), epochs=5)
    assert extra.data == 1.0  # no gradient reaches it


def test_a_model_that_is_not_an_mlp_is_a_type_error() -> None:
    with pytest.raises(TypeError) as caught:
        train("mlp", XOR, SGD(learner_model().parameters(), lr=0.3), epochs=1)  # type: ignore[arg-type]
    assert str(caught.value) == "model must be an MLP, got str."
    with pytest.raises(TypeError) as caught:
        evaluate(None, XOR)  # type: ignore[arg-type]
    assert str(caught.value) == "model must be an MLP, got NoneType."


@pytest.mark.parametrize("limit", [19, 20, 30, 31, 41, 42, 64])
def test_widest_hidden_is_the_most_units_whose_graph_fits(limit: int) -> None:
    # Counted one width at a time, not by widest_hidden's formula from two sizes.
    def values(width: int) -> int:
        return len(topological_order(sample_loss(MLP(2, [width, 1]), XOR, "mse", [0])))

    widest = max((w for w in range(1, 8) if values(w) <= limit), default=0)
    assert widest_hidden(XOR, "mse", limit, [0]) == widest
    assert widest_hidden("xor", "mse", limit, [0]) == widest  # a dataset by its name too


def test_an_optimizer_of_another_model_is_refused_rather_than_training_nothing() -> None:
    model, other = MLP(2, [5, 1], seed=0), MLP(2, [5, 1], seed=1)
    before = model.state_dict()
    with pytest.raises(ValueError) as caught:
        train(model, XOR, SGD(other.parameters(), lr=0.3), epochs=5)
    assert str(caught.value) == (  # what is wrong, and how to build the right one
        "the optimizer holds none of the model's parameters, so training would change "
        "nothing: build it from this model, SGD(model.parameters(), lr=...)."
    )
    assert model.state_dict() == before
