"""A progress bar for training: a `train(..., callback=...)` that can also stop at a loss.

    with ProgressBar(2000, stop_at_loss=0.01) as bar:
        history = train(model, XOR, optimizer, epochs=2000, callback=bar)

The bar is tqdm's (tqdm.auto: a widget in Jupyter, text on a terminal), imported only
when a bar is shown; with show=False the callback only watches for the target loss.
"""

from __future__ import annotations

import sys
from typing import Any, Protocol, TextIO

from tinygrad_xor.checks import flag, real_number, whole_number

__all__ = ["ProgressBar"]


class _Report(Protocol):
    """What the callback reads of train's EpochReport."""

    @property
    def epoch(self) -> int: ...

    @property
    def loss(self) -> float: ...


class ProgressBar:
    """A train() callback: one tick per epoch, the loss every 100, True at `stop_at_loss`."""

    def __init__(
        self,
        epochs: int,
        *,
        stop_at_loss: float | None = None,
        show: bool = True,
        file: TextIO | None = None,
    ) -> None:
        whole_number("epochs", epochs)
        self.stop_at_loss = (
            None if stop_at_loss is None else real_number("stop_at_loss", stop_at_loss, at_least=0)
        )
        self._bar: Any = None
        if flag("show", show):
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=epochs, desc="training", unit="epoch", file=file or sys.stderr, leave=False
            )

    def __call__(self, report: _Report) -> bool:
        if self._bar is not None:
            self._bar.update(1)
            if report.epoch % 100 == 0:
                self._bar.set_postfix_str(f"loss {report.loss:.4g}", refresh=False)
        return self.stop_at_loss is not None and report.loss <= self.stop_at_loss

    def close(self) -> None:
        """Take the bar off the screen (it leaves no line behind)."""
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exception: object) -> None:
        self.close()
