"""plots.plot_comparison: labelled loss curves from plain data, on one log-scale figure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tinygrad_xor import MLP, XOR, plots
from tinygrad_xor.data import Dataset

PNG = b"\x89PNG\r\n\x1a\n"
CURVES = [("first", [1.0, 0.5, 0.25]), ("second", [2.0, 2.0])]


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The figures plots draws, kept as they are saved (still written to their files)."""
    figures: list[Any] = []
    save = plots._save

    def keeping_the_figure(figure, path, image_format="png"):  # type: ignore[no-untyped-def]
        figures.append(figure)
        save(figure, path, image_format)

    monkeypatch.setattr(plots, "_save", keeping_the_figure)
    return figures


def test_each_curve_is_drawn_with_its_label_on_a_log_scale(
    tmp_path: Path, drawn: list[Any]
) -> None:
    path = plots.plot_comparison(CURVES, tmp_path / "curves.png", title="Two runs")
    assert path == tmp_path / "curves.png" and path.read_bytes()[:8] == PNG
    ((axes,),) = [figure.axes for figure in drawn]
    assert axes.get_title() == "Two runs"
    assert axes.get_yscale() == "log"
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("epoch", "loss (before the epoch's update)")
    lines = axes.get_lines()
    assert [line.get_label() for line in lines] == ["first", "second"]
    assert [list(line.get_xdata()) for line in lines] == [[0, 1, 2], [0, 1]]
    assert [list(line.get_ydata()) for line in lines] == [losses for _, losses in CURVES]
    assert [text.get_text() for text in axes.get_legend().get_texts()] == ["first", "second"]


@pytest.mark.parametrize(
    ("name", "start"), [("c.svg", b"<?xml"), ("c.PDF", b"%PDF"), ("c.png", PNG), ("c", PNG)]
)
def test_the_suffix_chooses_the_format(name: str, start: bytes, tmp_path: Path) -> None:
    path = plots.plot_comparison(CURVES, tmp_path / "new" / name)  # folders made if missing
    assert path.read_bytes().startswith(start)


def test_no_curves_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no curves to draw"):
        plots.plot_comparison([], tmp_path / "empty.png")
    assert list(tmp_path.iterdir()) == []


def test_the_grid_resolution_is_checked_as_every_whole_number_is(tmp_path: Path) -> None:
    from tinygrad_xor import MLP
    from tinygrad_xor.data import XOR
    from tinygrad_xor.plots import plot_decision_boundary

    with pytest.raises(ValueError, match="resolution must be a whole number >= 2, got 1"):
        plot_decision_boundary(MLP(2, [2, 1]), XOR, tmp_path / "b.png", resolution=1)
    with pytest.raises(TypeError, match="resolution must be a whole number >= 2, got bool"):
        plot_decision_boundary(MLP(2, [2, 1]), XOR, tmp_path / "b.png", resolution=True)
    assert not (tmp_path / "b.png").exists()


def test_a_decision_boundary_needs_two_inputs_in_the_model_and_in_the_data(
    tmp_path: Path,
) -> None:
    three = Dataset("three", ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)), (0.0, 1.0))
    for model, data in ((MLP(2, [1]), three), (MLP(3, [1]), XOR)):
        with pytest.raises(ValueError, match="draws two inputs"):
            plots.plot_decision_boundary(model, data, tmp_path / "boundary.png")
    assert list(tmp_path.iterdir()) == []


def test_the_decision_boundary_marks_target_1_with_a_circle_and_target_0_with_a_cross(
    tmp_path: Path, drawn: list[Any]
) -> None:
    from matplotlib.markers import MarkerStyle

    plots.plot_decision_boundary(MLP(2, [2, 1], seed=0), XOR, tmp_path / "b.png", resolution=5)
    axes = drawn[0].axes[0]

    def shape(marker: str) -> list[list[float]]:
        style = MarkerStyle(marker)
        return style.get_path().transformed(style.get_transform()).vertices.round(6).tolist()

    points = {
        tuple(c.get_offsets()[0]): c.get_paths()[0].vertices.round(6).tolist()
        for c in axes.collections
        if len(c.get_offsets()) == 1
    }
    assert points == {
        (0.0, 0.0): shape("X"),
        (0.0, 1.0): shape("o"),
        (1.0, 0.0): shape("o"),
        (1.0, 1.0): shape("X"),
    }
    assert sorted(text.get_text() for text in axes.texts) == ["0", "0", "1", "1"]
