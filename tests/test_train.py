"""The training loop: losses recorded before each update, callbacks, early stop, divergence,
a pluggable step, and the datasets."""

from __future__ import annotations

import doctest
import importlib
import json
import math
import subprocess
import sys

import pytest

from tinygrad_xor.data import AND, DATASETS, NAND, OR, XOR, Dataset, get_dataset, is_solved
from tinygrad_xor.losses import get_loss
from tinygrad_xor.nn import MLP
from tinygrad_xor.optim import SGD
from tinygrad_xor.train import (
    EpochReport,
    NonFiniteLossError,
    Step,
    StepResult,
    autograd_step,
    evaluate,
    train,
)


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
    with pytest.raises(ValueError, match="unknown dataset 'nor'; choose one of: xor, and"):
        get_dataset("nor")
    with pytest.raises(ValueError, match="one target per input"):
        Dataset("bad", ((0.0, 1.0),), (0.0, 1.0))


def test_is_solved_needs_every_prediction_on_the_right_side_of_one_half() -> None:
    assert is_solved([0.1, 0.9, 0.6, 0.4], [0.0, 1.0, 1.0, 0.0])
    assert not is_solved([0.1, 0.9, 0.6, 0.5], [0.0, 1.0, 1.0, 0.0])  # 0.5 is on neither side
    assert not is_solved([0.1, 0.5, 0.6, 0.4], [0.0, 1.0, 1.0, 0.0])
    assert not is_solved([math.nan, 0.9, 0.6, 0.4], [0.0, 1.0, 1.0, 0.0])


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
    assert not math.isfinite(error.loss)
    assert error.epoch == len(seen)  # every earlier epoch was finite and reported
    assert all(math.isfinite(loss) for loss in seen)
    assert f"at epoch {error.epoch}" in str(error)
    assert "smaller learning rate" in str(error)


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
    optimizer = SGD(model.parameters(), lr=0.3)
    with pytest.raises(ValueError, match="epochs must be a whole number >= 1, got 0"):
        train(model, XOR, optimizer, epochs=0)
    with pytest.raises(ValueError, match="the model takes 3 inputs"):
        wide = MLP(3, [5, 1])
        train(wide, XOR, SGD(wide.parameters(), lr=0.3), epochs=1)
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        train(model, XOR, optimizer, epochs=1, loss="hinge")
    with pytest.raises(ValueError, match="unknown dataset 'nor'; choose one of: xor, and"):
        train(model, "nor", optimizer, epochs=1)
    with pytest.raises(TypeError, match=r"dataset must be a Dataset .* got list \[\[0, 0\]\]"):
        train(model, [[0, 0]], optimizer, epochs=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"dataset must be a Dataset .* got NoneType None"):
        evaluate(model, None)  # type: ignore[arg-type]


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
