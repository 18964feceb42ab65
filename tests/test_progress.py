"""The training progress bar: it stops at a target loss, loads tqdm only when shown, draws
on the file it is given and leaves no line behind, and checks its arguments."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import time

import pytest

from tinygrad_xor.data import XOR
from tinygrad_xor.nn import MLP
from tinygrad_xor.optim import SGD
from tinygrad_xor.progress import ProgressBar
from tinygrad_xor.train import EpochReport, train


def report(epoch: int, loss: float, epochs: int = 300) -> EpochReport:
    return EpochReport(epoch, epochs, loss, [0.5] * 4, False)


def test_the_callback_returns_true_once_the_loss_reaches_the_target() -> None:
    bar = ProgressBar(300, stop_at_loss=0.5, show=False)
    assert bar(report(0, 0.75)) is False
    assert bar(report(1, 0.5)) is True  # at the target counts
    assert bar(report(2, 0.25)) is True
    assert bar(report(3, math.nan)) is False  # nan is not below anything


def test_without_a_target_the_callback_never_stops_training() -> None:
    bar = ProgressBar(300, show=False)
    assert bar.stop_at_loss is None
    assert bar(report(0, 0.0)) is False


def test_training_stops_at_the_target_loss() -> None:
    model = MLP(2, [5, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=0.3, momentum=0.9)
    with ProgressBar(2000, stop_at_loss=0.05, show=False) as bar:
        history = train(model, XOR, optimizer, epochs=2000, callback=bar)
    assert history.stopped_early and history.epochs < 2000
    assert history.losses[-1] <= 0.05 < history.losses[-2]


def test_a_hidden_bar_never_imports_tqdm() -> None:
    code = (
        "import json, sys\n"
        "from tinygrad_xor.progress import ProgressBar\n"
        "from tinygrad_xor.train import EpochReport\n"
        "with ProgressBar(200, stop_at_loss=0.1, show=False) as bar:\n"
        "    for epoch in range(200):\n"
        "        bar(EpochReport(epoch, 200, 0.5, [0.5], False))\n"
        "print(json.dumps(sorted(name for name in sys.modules if name.startswith('tqdm'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == []


def test_a_shown_bar_draws_on_the_given_file_and_close_clears_it() -> None:
    pytest.importorskip("tqdm")
    screen = io.StringIO()
    bar = ProgressBar(300, file=screen)
    for epoch in range(150):
        assert bar(report(epoch, 0.25)) is False
    drawn = screen.getvalue()
    assert "training" in drawn and "/300" in drawn
    assert "epoch/s" in drawn  # its rate counts epochs
    bar.close()
    after = screen.getvalue()
    assert after.startswith(drawn)
    cleared = after[len(drawn) :]
    # leave=False: the bar's line is overwritten with blanks and the cursor goes back
    assert cleared.startswith("\r") and cleared.endswith("\r") and cleared.strip() == ""


def test_the_bar_shows_the_loss_of_every_hundredth_epoch() -> None:
    pytest.importorskip("tqdm")
    screen = io.StringIO()
    bar = ProgressBar(300, file=screen)
    for epoch in range(101):
        bar(report(epoch, epoch / 1000))
    time.sleep(0.15)  # past tqdm's 0.1 s between redraws: the next epoch is drawn
    bar(report(101, 0.101))
    assert screen.getvalue().endswith("epoch/s, loss 0.1]")  # epoch 100's
    for epoch in range(102, 250):
        bar(report(epoch, epoch / 1000))
    time.sleep(0.15)
    bar(report(250, 0.25))
    assert screen.getvalue().endswith("epoch/s, loss 0.2]")  # epoch 200's, not 249's
    bar.close()


def test_the_bar_shows_the_loss_to_four_significant_digits() -> None:
    pytest.importorskip("tqdm")
    screen = io.StringIO()
    bar = ProgressBar(300, file=screen)
    bar(report(0, 0.0123456))
    time.sleep(0.15)  # past tqdm's 0.1 s between redraws
    bar(report(1, 0.5))
    assert screen.getvalue().endswith("epoch/s, loss 0.01235]")
    bar.close()


def test_the_with_block_closes_the_bar() -> None:
    pytest.importorskip("tqdm")
    screen = io.StringIO()
    with ProgressBar(10, file=screen) as bar:
        bar(report(0, 1.0, epochs=10))
        drawn = screen.getvalue()
    assert "training" in drawn
    assert screen.getvalue()[len(drawn) :].strip() == ""
    assert screen.getvalue() != drawn  # something was written on exit: the clearing


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"epochs": 0}, ValueError, "epochs must be a whole number >= 1, got 0."),
        ({"epochs": 2.5}, TypeError, "epochs must be a whole number >= 1, got float 2.5."),
        (
            {"epochs": 10, "stop_at_loss": -0.1},
            ValueError,
            "stop_at_loss must be a finite number >= 0, got -0.1.",
        ),
        (
            {"epochs": 10, "stop_at_loss": math.nan},
            ValueError,
            "stop_at_loss must be a finite number >= 0, got nan.",
        ),
        (
            {"epochs": 10, "stop_at_loss": "0.1"},
            TypeError,
            "stop_at_loss must be a finite number >= 0, got str '0.1'.",
        ),
        ({"epochs": 10, "show": "yes"}, TypeError, "show must be True or False, got str 'yes'."),
        ({"epochs": 10, "show": 1}, TypeError, "show must be True or False, got int 1."),
    ],
)
def test_bad_arguments_are_refused(
    arguments: dict[str, object], error: type[Exception], message: str
) -> None:
    screen = io.StringIO()
    with pytest.raises(error) as caught:
        ProgressBar(**arguments, file=screen)  # type: ignore[arg-type]
    assert str(caught.value) == message
    assert screen.getvalue() == ""  # refused before any bar was drawn


def test_the_target_loss_is_kept_as_a_float() -> None:
    bar = ProgressBar(10, stop_at_loss=0, show=False)
    assert bar.stop_at_loss == 0.0 and type(bar.stop_at_loss) is float
    assert bar(report(0, 0.0, epochs=10)) is True
