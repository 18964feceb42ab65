"""Tests for training_view.py: snapshots taken by train()'s callback, the page, `train --html`.

The snapshots must be the run's own numbers (the losses and predictions train() saw, the
trained model's output over the grid), taken without changing the run; the page that
shows them is tested in a browser by tests/test_browser.py.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from refusals import Refusal, assert_refused, each_refusal

from tinygrad_xor import MLP, SGD, XOR, pages
from tinygrad_xor.atomic import TargetError
from tinygrad_xor.cli import main
from tinygrad_xor.data import AND, Dataset
from tinygrad_xor.train import EpochReport, History, train
from tinygrad_xor.training_view import GRID_HIGH, GRID_LOW, Snapshot, TrainingSnapshots


def run(epochs: int = 200, **options: object) -> tuple[MLP, TrainingSnapshots, History]:
    model = MLP(2, [5, 1], seed=0)
    snapshots = TrainingSnapshots(model, XOR, **options)  # type: ignore[arg-type]
    history = train(
        model, XOR, SGD(model.parameters(), lr=0.3, momentum=0.9), epochs=epochs, callback=snapshots
    )
    return model, snapshots, history


def page_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', page, re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_about_fifty_snapshots_evenly_spaced_the_last_the_trained_model() -> None:
    _, snapshots, history = run(epochs=1000)
    taken = snapshots.finish(history)
    epochs = [s.epoch for s in taken]
    assert len(taken) == 50
    assert epochs[0] == 0 and epochs[-2] == 999 and epochs[-1] == 1000 == history.epochs
    gaps = {b - a for a, b in itertools.pairwise(epochs[:-1])}
    assert gaps <= {20, 21}  # 0 .. 999 in 48 steps
    assert epochs == sorted(set(epochs))


def test_snapshots_hold_the_runs_own_numbers() -> None:
    model, snapshots, history = run(epochs=300, count=7)
    taken = snapshots.finish(history)
    for snapshot in taken[:-1]:
        assert snapshot.loss == history.losses[snapshot.epoch]
    final = taken[-1]
    assert (final.epoch, final.loss) == (history.epochs, history.final_loss)
    assert list(final.predictions) == history.predictions
    # the grid: row r is x2 = steps[r], column c is x1 = steps[c], the trained model's output
    n = snapshots.resolution
    steps = [GRID_LOW + (GRID_HIGH - GRID_LOW) * i / (n - 1) for i in range(n)]
    assert len(final.outputs) == n * n
    for r, c in [(0, 0), (0, n - 1), (n - 1, 0), (5, 20)]:
        assert final.outputs[r * n + c] == model([steps[c], steps[r]])[0].data


def test_the_grid_is_the_decision_boundary_plots_grid_a_little_past_the_square(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's picture and train --plot's decision_boundary.png ask the network about the
    same points: -0.1 to 1.1 on each side, the four XOR points inside."""
    from tinygrad_xor import plots

    asked: list[tuple[float, ...]] = []
    call = MLP.__call__

    def watched(self: MLP, xs: Any) -> Any:
        asked.append(tuple(xs))
        return call(self, xs)

    model = MLP(2, [2, 1], seed=0)
    snapshots = TrainingSnapshots(model, XOR, count=2, resolution=7)
    optimizer = SGD(model.parameters(), lr=0.1)
    history = train(model, XOR, optimizer, epochs=1, callback=snapshots)
    monkeypatch.setattr(MLP, "__call__", watched)
    snapshots.finish(history)  # the trained model's grid
    on_the_page, asked[:] = list(asked), []
    plots.plot_decision_boundary(model, XOR, tmp_path / "b.png", resolution=7)
    assert on_the_page == asked and len(asked) == 7 * 7
    view = snapshots.describe(history)
    assert (view["low"], view["high"]) == (GRID_LOW, GRID_HIGH) == pytest.approx((-0.1, 1.1))
    assert min(on_the_page) == pytest.approx((-0.1, -0.1))
    assert max(on_the_page) == pytest.approx((1.1, 1.1))


def test_the_default_grid_is_33_by_33_with_a_row_and_a_column_through_the_centre() -> None:
    """1089 outputs a snapshot, as docs/api.md prints; odd, so 0.5 is on the grid."""
    _, snapshots, history = run(epochs=3, count=2)
    assert [len(s.outputs) for s in snapshots.finish(history)] == [1089, 1089]
    n = snapshots.resolution
    assert n == 33 and GRID_LOW + (GRID_HIGH - GRID_LOW) * (n // 2) / (n - 1) == pytest.approx(0.5)


def test_recording_does_not_change_the_run() -> None:
    _, _, watched = run(epochs=150)
    model = MLP(2, [5, 1], seed=0)
    plain = train(model, XOR, SGD(model.parameters(), lr=0.3, momentum=0.9), epochs=150)
    assert watched == plain


def test_then_is_called_every_epoch_and_can_stop_training() -> None:
    seen: list[int] = []

    def stop_at_30(report: EpochReport) -> bool:
        seen.append(report.epoch)
        return report.epoch == 30

    _, snapshots, history = run(epochs=1000, then=stop_at_30)
    assert seen == list(range(31)) and history.stopped_early and history.epochs == 30
    assert snapshots.finish(history)[-1].epoch == 30
    assert len([s for s in snapshots.snapshots if s.epoch == 30]) == 1


def test_a_run_stopped_on_a_snapshots_epoch_and_finished_twice_holds_it_once() -> None:
    # Epoch 0 is always kept; stopped there, the trained model is that snapshot.
    _, snapshots, history = run(epochs=1000, then=lambda report: True)
    assert history.epochs == 0
    assert [s.epoch for s in snapshots.finish(history)] == [0]
    _, snapshots, history = run(epochs=100, count=5)
    assert snapshots.finish(history) == snapshots.finish(history)  # describe() finishes again
    assert [s.epoch for s in snapshots.finish(history)] == [0, 33, 66, 99, 100]


def test_finish_refuses_another_runs_history() -> None:
    _, snapshots, _ = run(epochs=20)
    _, _, other = run(epochs=21)
    with pytest.raises(ValueError) as caught:
        snapshots.finish(other)
    assert str(caught.value) == (
        "finish(history): expected the History that train() returned for the run these "
        "snapshots watched (20 epochs seen), got History."
    )
    assert_refused(
        lambda: snapshots.finish([]),  # type: ignore[arg-type]
        ValueError,
        "finish(history): expected the History that train() returned for the run these "
        "snapshots watched (20 epochs seen), got list.",
    )


THREE = Dataset("three", ((0.0, 0.0, 1.0),), (1.0,))
NO_SQUARE = "the training view draws the input square, so it needs two inputs; the model takes"

# What TrainingSnapshots refuses: each exception type and its whole message.
REFUSALS: list[Refusal] = [
    (
        lambda: TrainingSnapshots(MLP(3, [2, 1]), THREE),
        ValueError,
        f"{NO_SQUARE} 3 and dataset 'three' has 3.",
    ),
    # a model of two inputs is not enough: the dataset must have two too
    (
        lambda: TrainingSnapshots(MLP(2, [2, 1]), THREE),
        ValueError,
        f"{NO_SQUARE} 2 and dataset 'three' has 3.",
    ),
    (
        lambda: TrainingSnapshots("model", XOR),  # type: ignore[arg-type]
        TypeError,
        "TrainingSnapshots(model, dataset): expected an MLP and a Dataset, got str and Dataset.",
    ),
    # a page needs the first epoch and the trained model: two snapshots at least
    (
        lambda: TrainingSnapshots(MLP(2, [2, 1]), AND, count=1),
        ValueError,
        "count must be a whole number >= 2, got 1.",
    ),
]


@each_refusal(REFUSALS)
def test_each_refusal_has_its_exception_type_and_says_its_whole_message(refusal: Refusal) -> None:
    assert_refused(*refusal)


def test_describe_is_json_with_a_bounded_loss_curve_and_16_bits_per_grid_point() -> None:
    _, snapshots, history = run(epochs=2500, count=5, resolution=9)
    view = snapshots.describe(history)
    json.dumps(view, allow_nan=False)
    assert view["points"] == [[0.0, 0.0, 0.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    curve = view["curve"]
    assert curve[0][0] == 0 and curve[-1][0] == 2500 and len(curve) <= 1002
    first = view["snapshots"][0]
    assert first["epoch"] == 0 and first["loss"] == f"{history.losses[0]:.4g}"
    # the predictions, like the loss, to four significant digits
    shown = [float(p) for p in view["snapshots"][-1]["predictions"]]
    assert shown == pytest.approx(history.predictions, rel=5e-4)
    grid = base64.b64decode(view["snapshots"][-1]["grid"])
    final: Snapshot = snapshots.snapshots[-1]
    levels = [int.from_bytes(grid[i : i + 2], "big") for i in range(0, len(grid), 2)]
    assert levels == [round(min(max(y, 0.0), 1.0) * 65535) for y in final.outputs]
    assert view["snapshots"][-1]["right"] == [True, True, True, True]


@pytest.mark.parametrize(("epochs", "every"), [(999, 1), (1000, 2)])
def test_the_loss_curve_holds_every_epoch_up_to_1000_points_then_every_other(
    epochs: int, every: int
) -> None:
    """999 updates: 1000 losses, all kept; 1000 updates: 1001, so every other (0, 2 ... 1000)."""
    model = MLP(2, [1], seed=0)
    snapshots = TrainingSnapshots(model, XOR, count=2, resolution=2)
    history = train(model, XOR, SGD(model.parameters(), lr=0.1), epochs=epochs, callback=snapshots)
    curve = snapshots.describe(history)["curve"]
    assert [epoch for epoch, _ in curve] == list(range(0, epochs + 1, every))


@pytest.mark.parametrize(
    ("read", "said"),
    [
        (
            lambda svg: pages.backprop_page(svg, {}, title="t"),
            "expected SVG text (render.render_svg's), got text with no <svg element:",
        ),
        (pages.svg_size, "expected SVG text with its size in points (render.render_svg's), got"),
    ],
)
def test_text_that_is_not_graphviz_svg_is_refused_showing_its_start(read: Any, said: str) -> None:
    """The error shows the first 60 characters of what was given, so the mix-up can be seen."""
    text = "<html>" + "x" * 100
    assert_refused(lambda: read(text), ValueError, f"{said} {text[:60]!r}")


def test_outputs_past_0_and_1_are_drawn_at_the_ends_of_the_colour_scale() -> None:
    # A linear output leaves [0, 1] over the square (train --output-activation linear).
    model = MLP(2, [1], output_activation="linear")  # y = 3 x1 - 1: -1.3 to 2.3 on the square
    for p, number in zip(model.parameters(), [3.0, 0.0, -1.0], strict=True):
        p.data = number
    snapshots = TrainingSnapshots(model, XOR, count=2, resolution=9)
    history = train(model, XOR, SGD(model.parameters(), lr=0.01), epochs=2, callback=snapshots)
    grid = base64.b64decode(snapshots.describe(history)["snapshots"][-1]["grid"])
    final: Snapshot = snapshots.snapshots[-1]
    assert max(final.outputs) > 1.0 and min(final.outputs) < 0.0
    levels = [int.from_bytes(grid[i : i + 2], "big") for i in range(0, len(grid), 2)]
    assert 0 in levels and 65535 in levels
    assert levels == [round(min(max(y, 0.0), 1.0) * 65535) for y in final.outputs]


def test_to_html_checks_the_path_first_and_writes_the_page(tmp_path: Path) -> None:
    _, snapshots, history = run(epochs=50, count=4)
    assert_refused(
        lambda: snapshots.to_html(history, tmp_path),
        TargetError,
        f"{tmp_path} is a directory; give a file name.",
    )
    target = tmp_path / "new" / "training.html"
    page = snapshots.to_html(history, target)
    assert target.read_text(encoding="utf-8") == page
    assert "<script src" not in page and "<link" not in page and "{{" not in page
    assert len(page_data(page)["snapshots"]) == 4
    assert "<title>Training XOR: 2-5-1 MLP (sigmoid hidden" in page


# -- the command line ---------------------------------------------------------------------------


def test_cli_train_html_writes_the_page_with_about_fifty_snapshots(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "training.html"
    assert main(["train", "--epochs", "300", "--html", str(target)]) == 0
    assert f"wrote {target}" in capsys.readouterr().out.splitlines()
    data = page_data(target.read_text(encoding="utf-8"))
    assert len(data["snapshots"]) == 50 and data["snapshots"][-1]["epoch"] == 300
    assert main(["train", "--epochs", "5", "--json", "--html", str(target)]) == 0
    assert json.loads(capsys.readouterr().out)["files"] == [str(target)]


def test_cli_train_html_that_cannot_be_written_fails_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_training(*args: object, **kwargs: object) -> History:
        raise AssertionError("trained before the path was checked")

    monkeypatch.setattr("tinygrad_xor.cli.train", no_training)
    assert main(["train", "--html", str(tmp_path)]) == 1
    assert "--html" in capsys.readouterr().err
    a_file = tmp_path / "file"
    a_file.write_text("a file")
    assert main(["train", "--html", str(a_file / "training.html")]) == 1
    assert "is a file, not a folder" in capsys.readouterr().err


def grid_levels(grid: str) -> list[int]:
    """A snapshot's grid as the page reads it: 16-bit big-endian numbers."""
    data = base64.b64decode(grid)
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def test_every_snapshot_on_the_page_draws_its_own_grid() -> None:
    _, snapshots, history = run(epochs=300, count=4, resolution=5)
    view = snapshots.describe(history)
    drawn = [grid_levels(s["grid"]) for s in view["snapshots"]]
    kept = [[round(min(max(y, 0.0), 1.0) * 65535) for y in s.outputs] for s in snapshots.snapshots]
    assert drawn == kept
    assert drawn[0] != drawn[-1]  # the untrained and the trained network differ


def test_two_snapshots_are_the_first_epoch_and_the_trained_model() -> None:
    _, snapshots, history = run(epochs=40, count=2)
    assert [s.epoch for s in snapshots.finish(history)] == [0, 40]


def test_the_grid_resolution_is_at_most_200() -> None:
    assert TrainingSnapshots(MLP(2, [2, 1]), XOR, resolution=200).resolution == 200
    assert_refused(
        lambda: TrainingSnapshots(MLP(2, [2, 1]), XOR, resolution=201),
        ValueError,
        "resolution must be a whole number from 2 to 200, got 201.",
    )


def test_write_returns_the_path_and_gives_the_page_its_title(tmp_path: Path) -> None:
    _, snapshots, history = run(epochs=20, count=2)
    target = tmp_path / "run.html"
    assert snapshots.write(history, target, title="XOR <run> & more") == str(target)
    page = target.read_text(encoding="utf-8")
    assert "<title>XOR &lt;run&gt; &amp; more</title>" in page
    assert "<run>" not in page


# -- pages.py: the frame a notebook shows a page in -----------------------------------------------

SVG = '<svg width="120pt" height="80pt" viewBox="0 0 120 80"><g id="graph0"></g></svg>'


def test_a_page_view_is_640_pixels_tall_at_first_and_says_so_in_its_repr() -> None:
    view = pages.PageView("<p>page</p>")
    assert view.height == 640
    assert 'style="width: 100%; height: 640px; border: 0"' in view._repr_html_()
    assert repr(view) == "PageView(11 characters of HTML, height=640)"


def test_an_untrusted_notebook_shows_the_picture_under_a_line_saying_what_it_is() -> None:
    shown = pages.PageView("<p>page</p>", picture=SVG)._repr_html_()
    line = "<p>Meanwhile, the graph with every step done:</p>"
    assert shown.index("Trust Notebook") < shown.index(line) < shown.index("<img")
    assert 'alt="the graph with every step done"' in shown
    assert line not in pages.PageView("<p>page</p>")._repr_html_()


def test_a_backprop_page_takes_an_svg_without_an_xml_declaration() -> None:
    page = pages.backprop_page(SVG, {"steps": []}, title="bare")
    assert SVG in page
    assert_refused(
        lambda: pages.backprop_page("<html></html>", {"steps": []}, title="bare"),
        ValueError,
        "expected SVG text (render.render_svg's), got text with no <svg element: '<html></html>'",
    )
