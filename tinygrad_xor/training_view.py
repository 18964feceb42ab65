"""The training view: snapshots of a run, taken by train()'s callback, on a page with a slider.

    snapshots = TrainingSnapshots(model, XOR)
    history = train(model, XOR, optimizer, epochs=2000, callback=snapshots)
    page = snapshots.to_html(history, "out/training.html")

About `count` snapshots (50), evenly spaced over the epochs train() runs, the last one
the trained model: each holds the network's output over a grid on the input square (the decision
boundary, as plots.plot_decision_boundary draws it), the loss and the predictions. The
page (pages.training_page) shows one at a time beside the loss curve. Two inputs only.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinygrad_xor import pages
from tinygrad_xor.atomic import check_target, write_atomically
from tinygrad_xor.checks import whole_number
from tinygrad_xor.data import Dataset, is_solved
from tinygrad_xor.nn import MLP
from tinygrad_xor.train import Callback, EpochReport, History

__all__ = ["Snapshot", "TrainingSnapshots"]

# The grid reaches a little past the unit square, as in plots.plot_decision_boundary.
GRID_LOW, GRID_HIGH = -0.1, 1.1

_TOP = 65535  # an output of 1 (or more) on the page

# The most loss-curve points a page holds: past it, every k-th epoch (and the last).
_CURVE_POINTS = 1000


@dataclass(frozen=True)
class Snapshot:
    """The network after `epoch` updates: its loss, predictions and output over the grid.

    outputs[r * resolution + c] is the output at x1 = steps[c], x2 = steps[r], where steps
    run from GRID_LOW to GRID_HIGH: row by row from the bottom, as plots draws it.
    """

    epoch: int
    loss: float
    predictions: tuple[float, ...]
    outputs: tuple[float, ...]


class TrainingSnapshots:
    """A train() callback that keeps a snapshot at about `count` evenly spaced epochs.

    model, dataset  what train() is given (two inputs: the picture is the input square)
    resolution      grid points along each side of the input square
    then            another callback to call every epoch (a progress bar); training stops
                    when it returns True
    """

    def __init__(
        self,
        model: MLP,
        dataset: Dataset,
        *,
        count: int = 50,
        resolution: int = 33,
        then: Callback | None = None,
    ) -> None:
        if not isinstance(model, MLP) or not isinstance(dataset, Dataset):
            raise TypeError(
                f"TrainingSnapshots(model, dataset): expected an MLP and a Dataset, "
                f"got {type(model).__name__} and {type(dataset).__name__}."
            )
        if model.nin != 2 or dataset.nin != 2:
            raise ValueError(
                f"the training view draws the input square, so it needs two inputs; the "
                f"model takes {model.nin} and dataset {dataset.name!r} has {dataset.nin}."
            )
        self.count = whole_number("count", count, at_least=2)
        self.resolution = whole_number("resolution", resolution, at_least=2, at_most=200)
        self.model, self.dataset, self.then = model, dataset, then
        self._due: set[int] | None = None  # the epochs to keep, once train() says how many
        self._losses: list[float] = []
        self.snapshots: list[Snapshot] = []

    def __call__(self, report: EpochReport) -> bool:
        if self._due is None:  # count - 1 during training; finish() adds the trained model
            spread = max(self.count - 2, 1)
            self._due = {round(k * (report.epochs - 1) / spread) for k in range(self.count - 1)}
        self._losses.append(report.loss)
        if report.epoch in self._due:
            self.snapshots.append(
                Snapshot(report.epoch, report.loss, tuple(report.predictions), self._grid())
            )
        return bool(self.then(report)) if self.then is not None else False

    def _grid(self) -> tuple[float, ...]:
        n = self.resolution
        steps = [GRID_LOW + (GRID_HIGH - GRID_LOW) * i / (n - 1) for i in range(n)]
        return tuple(self.model([x1, x2])[0].data for x2 in steps for x1 in steps)

    def finish(self, history: History) -> list[Snapshot]:
        """Every snapshot, the trained model's last: call once train() has returned `history`."""
        if not isinstance(history, History) or history.losses != self._losses:
            raise ValueError(
                "finish(history): expected the History that train() returned for the run "
                f"these snapshots watched ({len(self._losses)} epochs seen), got "
                f"{type(history).__name__}."
            )
        if not self.snapshots or self.snapshots[-1].epoch != history.epochs:
            final = Snapshot(
                history.epochs, history.final_loss, tuple(history.predictions), self._grid()
            )
            self.snapshots.append(final)
        return list(self.snapshots)

    def describe(self, history: History) -> dict[str, Any]:
        """The run as the page reads it, JSON-able: the loss curve and every snapshot."""
        snapshots = self.finish(history)
        targets = self.dataset.targets
        curve = list(enumerate(history.losses))
        if history.epochs == len(curve):  # the trained model's loss (a stopped run has it)
            curve.append((history.epochs, history.final_loss))
        stride = -(-len(curve) // _CURVE_POINTS)  # rounded up: at most _CURVE_POINTS
        curve = curve[::stride] + ([curve[-1]] if (len(curve) - 1) % stride else [])
        return {
            "low": GRID_LOW,
            "high": GRID_HIGH,
            "resolution": self.resolution,
            "epochs": history.epochs,
            "points": [[*x, y] for x, y in zip(self.dataset.inputs, targets, strict=True)],
            "curve": [[epoch, float(f"{loss:.4g}")] for epoch, loss in curve],
            "snapshots": [
                {
                    "epoch": s.epoch,
                    "loss": f"{s.loss:.4g}",
                    "predictions": [f"{p:.4g}" for p in s.predictions],
                    "right": [
                        is_solved([p], [y]) for p, y in zip(s.predictions, targets, strict=True)
                    ],
                    "grid": _bytes(s.outputs),
                }
                for s in snapshots
            ],
        }

    def write(self, history: History, path: str | Path, *, title: str | None = None) -> str:
        """to_html(history, path): the page, written; return the path, as given."""
        self.to_html(history, path, title=title)
        return str(path)

    def to_html(
        self, history: History, path: str | Path | None = None, *, title: str | None = None
    ) -> str:
        """The page: a slider over the snapshots. With `path`, also writes it there, atomically
        (creating missing folders)."""
        if path is not None:
            check_target(path, make_folders=True, example="out/training.html")
        name = title or f"Training {self.dataset.name.upper()}: {self.model.describe()}"
        page = pages.training_page(self.describe(history), title=name)
        if path is not None:
            write_atomically(path, page.encode("utf-8"), make_folders=True)
        return page


def _bytes(outputs: Sequence[float]) -> str:
    """The outputs as 16-bit numbers, 0 for <= 0 to 65535 for >= 1, big-endian, in base64:
    2.7 characters a grid point. (One byte draws the colours, but puts steps in the 0.5
    line where the output is nearly flat, as early in training.)"""
    levels = [round(min(max(y, 0.0), 1.0) * _TOP) for y in outputs]
    return base64.b64encode(b"".join(level.to_bytes(2, "big") for level in levels)).decode()
