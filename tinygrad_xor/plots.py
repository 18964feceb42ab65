"""Every matplotlib figure: a training run's loss and decision boundary, loss curves compared.

    plot_loss_curve, plot_decision_boundary, write_training_plots   `train --plot`
    training_plot_paths   the files `train --plot DIR` writes
    plot_comparison   labelled loss curves on one log scale (`manual --plot`)

matplotlib is imported inside each function (so `import tinygrad_xor` stays light)
and used through its object API with the Agg renderer: no window, no global pyplot
state, no display needed. Each file is written atomically (tinygrad_xor.atomic), so
a failed plot never leaves half a file.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tinygrad_xor.atomic import check_target, write_atomically
from tinygrad_xor.checks import whole_number
from tinygrad_xor.data import Dataset
from tinygrad_xor.nn import MLP

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "IMAGE_FORMATS",
    "image_target",
    "plot_loss_curve",
    "plot_decision_boundary",
    "write_training_plots",
    "training_plot_paths",
    "plot_comparison",
]

# The formats plot_comparison writes, chosen by the file name's suffix.
IMAGE_FORMATS = ("png", "svg", "pdf")


def _new_figure(
    width: float, height: float, layout: Literal["constrained", "tight"] = "constrained"
) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout=layout)
    FigureCanvasAgg(figure)  # attaches the Agg renderer to the figure
    return figure


def _save(figure: Figure, path: Path, image_format: str = "png") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = io.BytesIO()  # drawn whole in memory first: a failed plot writes nothing
    figure.savefig(image, format=image_format)
    write_atomically(path, image.getvalue())


def image_target(path: str | os.PathLike[str]) -> tuple[Path, str]:
    """The file to write an image to, and its format (from the suffix; none: PNG).

    Checked before anything is drawn: a known format, and a path a file can go to
    (tinygrad_xor.atomic.check_target; missing folders are made).
    """
    target = check_target(path, make_folders=True, example="out/loss.png")
    image_format = Path(path).suffix.lstrip(".").lower() or "png"
    if image_format not in IMAGE_FORMATS:
        raise ValueError(
            f"{os.fspath(path)}: the format comes from the name's suffix, one of "
            f"{', '.join('.' + name for name in IMAGE_FORMATS)}; got .{image_format}."
        )
    return target, image_format


def plot_loss_curve(
    losses: Sequence[float],
    path: str | os.PathLike[str],
    *,
    title: str = "Training loss",
    first_solved_epoch: int | None = None,
) -> Path:
    """Draw the loss of each epoch (linear and log scale side by side) to an image at `path`
    (its format is the suffix's, as for plot_comparison)."""
    if not losses:
        raise ValueError("plot_loss_curve: no losses to draw; train for at least one epoch.")
    target, image_format = image_target(path)  # before the drawing: a bad name is refused
    figure = _new_figure(10.0, 4.0)
    linear, logarithmic = figure.subplots(1, 2)
    epochs = range(len(losses))
    for axes, scale in ((linear, "linear"), (logarithmic, "log")):
        axes.plot(epochs, losses, color="tab:blue", linewidth=1.5, label="loss")
        axes.set_yscale(scale)
        axes.set_xlabel("epoch (updates so far)")
        axes.set_ylabel(f"loss ({scale} scale)")
        axes.grid(True, alpha=0.3)
        if first_solved_epoch is not None:
            axes.axvline(
                first_solved_epoch,
                color="tab:green",
                linestyle="--",
                linewidth=1.0,
                label=f"all right from epoch {first_solved_epoch}",
            )
        axes.legend(loc="upper right")
    figure.suptitle(title)
    _save(figure, target, image_format)
    return Path(path)


def plot_decision_boundary(
    model: MLP,
    dataset: Dataset,
    path: str | os.PathLike[str],
    *,
    resolution: int = 61,
    title: str = "Decision boundary",
) -> Path:
    """Draw the model's output over the unit square, its 0.5 contour and the dataset's points,
    to an image at `path` (its format is the suffix's, as for plot_comparison)."""
    if model.nin != 2 or dataset.nin != 2:
        raise ValueError(
            f"plot_decision_boundary draws two inputs; the model takes {model.nin} "
            f"and dataset {dataset.name!r} has {dataset.nin}."
        )
    resolution = whole_number("resolution", resolution, at_least=2)
    image_path, image_format = image_target(path)
    # The grid reaches a little past the unit square so the corner points sit inside it.
    low, high = -0.1, 1.1
    steps = [low + (high - low) * i / (resolution - 1) for i in range(resolution)]
    # outputs[row][column]: row is x2 (vertical axis), column is x1.
    outputs = [[model([x1, x2])[0].data for x1 in steps] for x2 in steps]

    figure = _new_figure(5.5, 4.8)
    axes = figure.subplots()
    # Fixed levels from 0 to 1, so colours mean the same output in every picture.
    levels = [i / 20 for i in range(21)]
    filled = axes.contourf(steps, steps, outputs, levels=levels, cmap="RdBu_r", extend="both")
    figure.colorbar(filled, ax=axes, label="network output")
    # Skip the 0.5 line when the output never crosses it (e.g. an untrained network).
    flat = [y for row in outputs for y in row]
    if min(flat) < 0.5 < max(flat):
        axes.contour(steps, steps, outputs, levels=[0.5], colors="black", linewidths=2.0)
    for (x1, x2), target in zip(dataset.inputs, dataset.targets, strict=True):
        axes.scatter(
            [x1],
            [x2],
            s=160,
            marker="o" if target > 0.5 else "X",
            color="white",
            edgecolors="black",
            linewidths=1.5,
            zorder=3,
        )
        axes.annotate(
            f"{target:g}",
            (x1, x2),
            textcoords="offset points",
            xytext=(10, 8),
            fontsize=11,
            fontweight="bold",
        )
    axes.set_xlabel("x1")
    axes.set_ylabel("x2")
    axes.set_xlim(low, high)
    axes.set_ylim(low, high)
    axes.set_aspect("equal")
    axes.set_title(f"{title} (black line: output 0.5)")
    _save(figure, image_path, image_format)
    return Path(path)


def write_training_plots(
    directory: str | os.PathLike[str],
    model: MLP,
    dataset: Dataset,
    losses: Sequence[float],
    *,
    first_solved_epoch: int | None = None,
    label: str = "",
) -> list[Path]:
    """Write loss.png and decision_boundary.png into `directory` (made if missing)."""
    loss_path, boundary_path = training_plot_paths(directory)
    suffix = f": {label}" if label else ""
    return [
        plot_loss_curve(
            losses, loss_path, title=f"Training loss{suffix}", first_solved_epoch=first_solved_epoch
        ),
        plot_decision_boundary(model, dataset, boundary_path, title=f"{dataset.name.upper()}"),
    ]


def training_plot_paths(directory: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The files write_training_plots writes: loss.png and decision_boundary.png in `directory`."""
    folder = Path(directory)
    return folder / "loss.png", folder / "decision_boundary.png"


def plot_comparison(
    curves: Sequence[tuple[str, Sequence[float]]],
    path: str | os.PathLike[str],
    *,
    title: str = "Loss curves",
) -> Path:
    """Draw (label, loss per epoch) curves on one log-scale figure, saved as an image at `path`.

    The format is the file's suffix (IMAGE_FORMATS; PNG when there is none).
    manual.loss_curves(runs) and manual.plot_title(runs) give the learner's runs.
    """
    if not curves:
        raise ValueError("plot_comparison: no curves to draw; pass at least one (label, losses).")
    target, image_format = image_target(path)  # before the drawing: a bad name is refused
    figure = _new_figure(7.5, 4.5, layout="tight")  # as docs/manual-compare.png was drawn
    axes = figure.subplots()
    for label, losses in curves:
        axes.plot(range(len(losses)), losses, label=label, linewidth=1.5)
    axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss (before the epoch's update)")
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    _save(figure, target, image_format)
    return Path(path)
