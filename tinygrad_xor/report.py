"""What a training run comes to, in words and in data: the tables and records it prints.

prediction_table(dataset, predictions)   each input, its target, the prediction, right?
verdict(model, dataset, predictions)     how many are right, and whether outputs saturated
summary(model, dataset, history, ...)    the report `tinygrad-xor train` prints
run_record(model, dataset, history, ...) the same run as JSON-able data (`--json`)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tinygrad_xor.data import Dataset, is_solved
from tinygrad_xor.nn import MLP
from tinygrad_xor.optim import SGD
from tinygrad_xor.train import History

__all__ = ["prediction_table", "Verdict", "verdict", "summary", "run_record"]


def prediction_table(dataset: Dataset, predictions: Sequence[float]) -> str:
    """One row per input: the input, its target, the prediction, and whether it is right.

    >>> from tinygrad_xor.data import AND
    >>> print(prediction_table(AND, [0.1, 0.2, 0.6, 0.7]))
    x1  x2  target  prediction  right?
     0   0       0    0.100000     yes
     0   1       0    0.200000     yes
     1   0       0    0.600000      NO
     1   1       1    0.700000     yes
    """
    header = [*(f"x{i + 1}" for i in range(dataset.nin)), "target", "prediction", "right?"]
    rows = [header]
    for x, target, prediction in zip(dataset.inputs, dataset.targets, predictions, strict=True):
        right = is_solved([prediction], [target])
        rows.append(
            [*(f"{v:g}" for v in x), f"{target:g}", f"{prediction:.6f}", "yes" if right else "NO"]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    )


@dataclass(frozen=True)
class Verdict:
    """How a run ended: how many predictions are right, and whether the outputs saturated.

    saturated: every output is a sigmoid's, pinned within 0.01 of 0 or 1, where its slope
    is almost 0, so the updates barely move it: smaller steps (lr, momentum) help, not
    more epochs. (Another activation's output can be anywhere: 2.2 is not stuck.)
    """

    right: int
    total: int
    saturated: bool

    @property
    def solved(self) -> bool:
        return self.right == self.total


def verdict(model: MLP, dataset: Dataset, predictions: Sequence[float]) -> Verdict:
    """What `predictions` (the model's, one per input of `dataset`) come to."""
    right = sum(is_solved([p], [y]) for p, y in zip(predictions, dataset.targets, strict=True))
    saturated = model.output_activation == "sigmoid" and all(
        0.0 <= p <= 1.0 and min(p, 1.0 - p) < 0.01 for p in predictions
    )
    return Verdict(right, len(dataset.targets), saturated and right < len(dataset.targets))


def summary(
    model: MLP,
    dataset: Dataset,
    history: History,
    optimizer: SGD,
    loss: str,
    *,
    loaded_from: str | None = None,
) -> str:
    """The report of a run, as `tinygrad-xor train` prints it (before its advice).

    >>> from tinygrad_xor.data import XOR
    >>> from tinygrad_xor.train import train
    >>> model = MLP(2, [5, 1], seed=0)
    >>> optimizer = SGD(model.parameters(), lr=0.3, momentum=0.9)
    >>> print(summary(model, XOR, train(model, XOR, optimizer, epochs=500), optimizer, "mse"))
    XOR: 2-5-1 MLP (sigmoid hidden, sigmoid output, biases, torch init, seed 0)
    trained 500 epochs: SGD lr 0.3 momentum 0.9, loss mse
    <BLANKLINE>
    x1  x2  target  prediction  right?
     0   0       0    0.155444     yes
     0   1       1    0.797712     yes
     1   0       1    0.842573     yes
     1   1       0    0.219263     yes
    <BLANKLINE>
    final loss: 0.0344857 (mse)
    solved: all 4 right (first at epoch 419)
    """
    stopped = " (stopped early)" if history.stopped_early else ""
    source = f", loaded from {loaded_from}" if loaded_from is not None else ""
    outcome = verdict(model, dataset, history.predictions)
    if history.solved:
        last = f"solved: all {outcome.total} right (first at epoch {history.first_solved_epoch})"
    else:
        last = f"not solved: {outcome.right} of {outcome.total} right"
        if outcome.saturated:
            last += ", and every output is stuck near 0 or 1 (saturated units learn almost nothing)"
    return "\n".join(
        [
            f"{dataset.name.upper()}: {model.describe()}{source}",
            f"trained {history.epochs} epochs{stopped}: SGD lr {optimizer.lr:g} momentum "
            f"{optimizer.momentum:g}, loss {loss}",
            "",
            prediction_table(dataset, history.predictions),
            "",
            f"final loss: {history.final_loss:.6g} ({loss})",
            last,
        ]
    )


def run_record(
    model: MLP, dataset: Dataset, history: History, optimizer: SGD, loss: str
) -> dict[str, Any]:
    """A run as JSON-able data: the dataset, the model, the training settings, the result."""
    return {
        "dataset": dataset.name,
        "inputs": [list(x) for x in dataset.inputs],
        "targets": list(dataset.targets),
        "predictions": history.predictions,
        "solved": history.solved,
        "first_solved_epoch": history.first_solved_epoch,
        "final_loss": history.final_loss,
        "initial_loss": history.losses[0],
        "epochs": history.epochs,
        "stopped_early": history.stopped_early,
        "seed": model.seed,
        "hidden": model.sizes[:-1],
        "activation": model.activation,
        "output_activation": model.output_activation,
        "bias": model.bias,
        "init": model.init,
        "loss": loss,
        "lr": optimizer.lr,
        "momentum": optimizer.momentum,
    }
