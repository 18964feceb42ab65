"""plots.plot_comparison: labelled loss curves from plain data, on one log-scale figure."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from matplotlib.colors import to_hex

from tinygrad_xor import MLP, XOR, plots
from tinygrad_xor.data import Dataset

PNG = b"\x89PNG\r\n\x1a\n"
CURVES = [("first", [1.0, 0.5, 0.25]), ("second", [2.0, 2.0])]


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


def test_the_comparison_is_drawn_at_the_size_of_docs_manual_compare_png(tmp_path: Path) -> None:
    """docs/backprop.md shows `manual --compare --plot docs/manual-compare.png`'s picture."""

    def size(path: Path) -> tuple[int, int]:
        data = path.read_bytes()
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")

    docs = Path(__file__).resolve().parents[1] / "docs" / "manual-compare.png"
    assert size(plots.plot_comparison(CURVES, tmp_path / "c.png")) == size(docs) == (750, 450)


def test_no_curves_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as caught:
        plots.plot_comparison([], tmp_path / "empty.png")
    assert str(caught.value) == (
        "plot_comparison: no curves to draw; pass at least one (label, losses)."
    )
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
    for model, data, counts in ((MLP(2, [1]), three, (2, 3)), (MLP(3, [1]), XOR, (3, 2))):
        with pytest.raises(ValueError) as refused:
            plots.plot_decision_boundary(model, data, tmp_path / "boundary.png")
        takes, has = counts
        assert str(refused.value) == (
            f"plot_decision_boundary draws two inputs; the model takes {takes} "
            f"and dataset {data.name!r} has {has}."
        )
    assert list(tmp_path.iterdir()) == []


def test_the_decision_boundary_marks_target_1_with_a_circle_and_target_0_with_a_cross(
    tmp_path: Path, drawn: list[Any]
) -> None:
    from matplotlib.collections import PathCollection
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
    # white marks outlined in black: seen on red and on blue alike
    marks = [c for c in axes.collections if isinstance(c, PathCollection)]
    assert len(marks) == 4
    assert {to_hex(c.get_facecolor()[0]) for c in marks} == {"#ffffff"}
    assert {to_hex(c.get_edgecolor()[0]) for c in marks} == {"#000000"}


# -- train --plot: the loss curve and the decision boundary ---------------------------------------


def set_weights(model: MLP, numbers: list[float]) -> MLP:
    for p, number in zip(model.parameters(), numbers, strict=True):
        p.data = number
    return model


def test_the_loss_curve_is_drawn_on_a_linear_and_a_log_scale_with_the_solved_epoch(
    tmp_path: Path, drawn: list[Any]
) -> None:
    losses = [0.5, 0.4, 0.2, 0.1, 0.05]
    path = plots.plot_loss_curve(losses, tmp_path / "loss.png", title="Run", first_solved_epoch=3)
    assert path == tmp_path / "loss.png" and path.read_bytes()[:8] == PNG
    (figure,) = drawn
    assert figure.get_suptitle() == "Run"
    linear, logarithmic = figure.axes
    for axes, scale in ((linear, "linear"), (logarithmic, "log")):
        assert axes.get_yscale() == scale
        assert (axes.get_xlabel(), axes.get_ylabel()) == (
            "epoch (updates so far)",
            f"loss ({scale} scale)",
        )
        curve, solved = axes.get_lines()
        assert list(curve.get_xdata()) == [0, 1, 2, 3, 4]  # epoch k: the loss before update k
        assert list(curve.get_ydata()) == losses
        assert list(solved.get_xdata()) == [3, 3]
        # green and dashed: told apart from the blue loss curve
        assert (to_hex(curve.get_color()), to_hex(solved.get_color())) == ("#1f77b4", "#2ca02c")
        assert solved.get_linestyle() == "--"
        legend = axes.get_legend()
        assert [t.get_text() for t in legend.get_texts()] == ["loss", "all right from epoch 3"]
        # in the upper right quarter, above a falling curve
        box, inside = legend.get_window_extent(), axes.get_window_extent()
        assert box.x0 > (inside.x0 + inside.x1) / 2 and box.y0 > (inside.y0 + inside.y1) / 2


def test_no_losses_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as caught:
        plots.plot_loss_curve([], tmp_path / "loss.png")
    assert str(caught.value) == (
        "plot_loss_curve: no losses to draw; train for at least one epoch."
    )
    assert list(tmp_path.iterdir()) == []


def boundary_parts(figure: Any) -> tuple[Any, Any, list[Any]]:
    """The axes, its filled contour set and its 0.5 line contour sets."""
    from matplotlib.contour import ContourSet

    axes = figure.axes[0]
    sets = [c for c in axes.collections if isinstance(c, ContourSet)]
    (filled,) = [c for c in sets if c.filled]
    return axes, filled, [c for c in sets if not c.filled]


def test_the_decision_boundary_covers_a_little_past_the_square_with_fixed_colour_levels(
    tmp_path: Path, drawn: list[Any]
) -> None:
    model = set_weights(MLP(2, [1], output_activation="linear"), [1.0, 1.0, -0.5])
    plots.plot_decision_boundary(model, XOR, tmp_path / "b.png", resolution=7, title="Mine")
    axes, filled, lines = boundary_parts(drawn[0])
    assert axes.get_xlim() == axes.get_ylim() == pytest.approx((-0.1, 1.1))
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("x1", "x2")
    assert axes.get_title() == "Mine (black line: output 0.5)"
    assert drawn[0].axes[1].get_ylabel() == "network output"  # the colour bar says what it shows
    assert list(filled.levels) == pytest.approx([i / 20 for i in range(21)])  # 0, 0.05, ... 1
    # the grid: output x1 + x2 - 0.5 from -0.7 to 1.7 over [-0.1, 1.1]^2
    assert (filled.zmin, filled.zmax) == pytest.approx((-0.7, 1.7))
    assert [list(line.levels) for line in lines] == [[0.5]]
    assert to_hex(lines[0].get_edgecolor()[0]) == "#000000"  # the title's "black line"


class Watched(MLP):
    """An MLP that keeps every input it is asked about."""

    asked: list[tuple[float, ...]]

    def __call__(self, xs):  # type: ignore[no-untyped-def]
        self.__dict__.setdefault("asked", []).append(tuple(xs))
        return super().__call__(xs)


def test_the_default_grid_has_a_point_on_each_data_point_and_the_centre_every_0_02(
    tmp_path: Path,
) -> None:
    """61 points from -0.1 to 1.1: the colour at 0, 0.5 and 1 is the network's own output."""
    model = Watched(2, [2, 1], seed=0)
    plots.plot_decision_boundary(model, XOR, tmp_path / "b.png")
    xs = sorted({x1 for x1, _ in model.asked})
    assert sorted({x2 for _, x2 in model.asked}) == xs and len(model.asked) == len(xs) ** 2
    assert len(xs) == 61 and (xs[0], xs[-1]) == pytest.approx((-0.1, 1.1))
    assert [b - a for a, b in itertools.pairwise(xs)] == pytest.approx([0.02] * 60)
    for point in (0.0, 0.5, 1.0):
        assert min(abs(x - point) for x in xs) < 1e-12


@pytest.mark.parametrize("bias", [-3.0, 0.0, 3.0])  # 0.0: exactly 0.5 everywhere, no crossing
def test_an_output_that_never_crosses_0_5_has_no_boundary_line(
    bias: float, tmp_path: Path, drawn: list[Any]
) -> None:
    plots.plot_decision_boundary(
        set_weights(MLP(2, [1]), [0.0, 0.0, bias]), XOR, tmp_path / "b.png"
    )
    assert boundary_parts(drawn[0])[2] == []


def test_a_target_of_0_5_is_drawn_as_a_0_and_one_above_as_a_1(
    tmp_path: Path, drawn: list[Any]
) -> None:
    from matplotlib.collections import PathCollection
    from matplotlib.markers import MarkerStyle

    soft = Dataset("soft", ((0.0, 1.0), (1.0, 0.0)), (0.5, 0.75))  # not symmetric in x1, x2
    plots.plot_decision_boundary(MLP(2, [2, 1]), soft, tmp_path / "b.png", resolution=5)
    axes = drawn[0].axes[0]
    points = [c for c in axes.collections if isinstance(c, PathCollection)]  # the scatters
    assert [list(c.get_sizes()) for c in points] == [[160.0], [160.0]]
    markers = {
        tuple(c.get_offsets()[0]): c.get_paths()[0].vertices.round(6).tolist() for c in points
    }
    labels = {text.get_text(): tuple(text.xy) for text in axes.texts}
    assert labels == {"0.5": (0.0, 1.0), "0.75": (1.0, 0.0)}  # each beside its own point
    for point, marker in (((0.0, 1.0), "X"), ((1.0, 0.0), "o")):
        style = MarkerStyle(marker)
        assert (
            markers[point]
            == style.get_path().transformed(style.get_transform()).vertices.round(6).tolist()
        )


def test_write_training_plots_titles_the_loss_with_the_label_and_the_boundary_with_the_data(
    tmp_path: Path, drawn: list[Any]
) -> None:
    written = plots.write_training_plots(
        tmp_path / "out", MLP(2, [2, 1]), XOR, [0.3, 0.2], label="lr 0.3"
    )
    assert written == list(plots.training_plot_paths(tmp_path / "out"))
    assert [p.name for p in written] == ["loss.png", "decision_boundary.png"]
    loss, boundary = drawn
    assert loss.get_suptitle() == "Training loss: lr 0.3"
    assert boundary.axes[0].get_title() == "XOR (black line: output 0.5)"
    plots.write_training_plots(tmp_path / "out", MLP(2, [2, 1]), XOR, [0.3])
    assert drawn[2].get_suptitle() == "Training loss"


def test_each_plot_returns_the_path_as_given_relative_or_through_a_symlink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As docs/api.md prints them: `plots/loss.png`, not the real absolute path."""
    (tmp_path / "real").mkdir()
    (tmp_path / "plots").symlink_to(tmp_path / "real")
    monkeypatch.chdir(tmp_path)
    written = [
        plots.plot_comparison(CURVES, "plots/curves.svg"),
        plots.plot_loss_curve([0.3, 0.2], "plots/loss.pdf"),
        plots.plot_decision_boundary(MLP(2, [2, 1]), XOR, "plots/boundary.png", resolution=3),
    ]
    assert written == [Path("plots") / name for name in ("curves.svg", "loss.pdf", "boundary.png")]
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == [
        "boundary.png",
        "curves.svg",
        "loss.pdf",
    ]
    assert (tmp_path / "real" / "loss.pdf").read_bytes().startswith(b"%PDF")  # as named


# each plot, its format from the suffix: a suffix it cannot write is refused before drawing
PLOTS: dict[str, Any] = {
    "comparison": lambda path: plots.plot_comparison(CURVES, path),
    "loss curve": lambda path: plots.plot_loss_curve([0.3, 0.2], path),
    "decision boundary": lambda path: plots.plot_decision_boundary(
        MLP(2, [1]), XOR, path, resolution=2
    ),
}


@pytest.mark.parametrize("plot", PLOTS.values(), ids=PLOTS.keys())
def test_an_unknown_image_suffix_is_named_in_the_error(
    plot: Any, tmp_path: Path, drawn: list[Any]
) -> None:
    with pytest.raises(ValueError) as caught:
        plot(tmp_path / "c.gif")
    assert str(caught.value) == (
        f"{tmp_path / 'c.gif'}: the format comes from the name's suffix, one of .png, .svg, "
        ".pdf; got .gif."
    )
    assert drawn == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("plot", PLOTS.values(), ids=PLOTS.keys())
@pytest.mark.parametrize(("name", "start"), [("p.svg", b"<?xml"), ("p.PDF", b"%PDF"), ("p", PNG)])
def test_each_plot_is_written_in_the_format_its_suffix_names(
    plot: Any, name: str, start: bytes, tmp_path: Path
) -> None:
    assert plot(tmp_path / "new" / name).read_bytes().startswith(start)  # folders made


@pytest.mark.parametrize(("bias", "colour"), [(3.0, "red"), (-3.0, "blue")])
def test_the_decision_boundary_is_red_near_output_1_and_blue_near_0(
    bias: float, colour: str, tmp_path: Path, drawn: list[Any]
) -> None:
    """The training page's caption: "blue near 0, red near 1" (matplotlib's RdBu_r)."""
    image = pytest.importorskip("matplotlib.image", reason="decodes the PNG")
    model = set_weights(MLP(2, [1]), [0.0, 0.0, bias])  # sigmoid(3) = 0.95 everywhere
    path = plots.plot_decision_boundary(model, XOR, tmp_path / "b.png")
    pixels = image.imread(path)
    # the centre of the square, away from the points: its pixel in the saved PNG
    x, y = drawn[0].axes[0].transData.transform((0.5, 0.5))
    red, _, blue = pixels[pixels.shape[0] - int(y), int(x)][:3]
    assert (red - blue > 0.3) if colour == "red" else (blue - red > 0.3), (red, blue)


def test_each_plot_has_a_title_when_none_is_given(tmp_path: Path, drawn: list[Any]) -> None:
    plots.plot_loss_curve([1.0, 0.5], tmp_path / "loss.png")
    plots.plot_decision_boundary(MLP(2, [1]), XOR, tmp_path / "b.png", resolution=2)
    plots.plot_comparison(CURVES, tmp_path / "c.png")
    loss, boundary, comparison = drawn
    assert loss.get_suptitle() == "Training loss"
    # no epoch given, no "all right from epoch" line: only the loss curve on each scale
    assert [[line.get_label() for line in axes.get_lines()] for axes in loss.axes] == [["loss"]] * 2
    assert boundary.axes[0].get_title() == "Decision boundary (black line: output 0.5)"
    assert comparison.axes[0].get_title() == "Loss curves"
