"""Loss functions: a network's predictions and the targets in, one Value out.

    mse  mean:     (1/n) * sum (p - y)^2      PyTorch's nn.MSELoss()
         sum:            sum (p - y)^2        nn.MSELoss(reduction="sum")
         half_sum: 0.5 * sum (p - y)^2        the learner's cost; its derivative is p - y
    bce  -(y log p + (1 - y) log(1 - p)), averaged (mean) or summed (sum), as nn.BCELoss

Each loss is built from Value ops, so `loss.backward()` differentiates it like any
other part of the graph. `LOSSES` names the four the trainer and the command line
offer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from tinygrad_xor.checks import choice, real_number
from tinygrad_xor.engine import Value

__all__ = ["LossFn", "LOSSES", "FIXED_GRAPH_LOSSES", "REDUCTIONS", "mse", "bce", "get_loss"]

# A loss: (predictions, targets) -> a Value whose backward() fills the gradients.
LossFn = Callable[[Sequence[Value], Sequence[float]], Value]

REDUCTIONS = ("mean", "sum", "half_sum")

# PyTorch's BCELoss clamps each log at -100 so a prediction of exactly 0 or 1 gives a
# finite loss (100 per wrong sample at most) instead of inf.
_LOG_FLOOR = -100.0


def _checked_pair(predictions: Sequence[Value], targets: Sequence[float], loss: str) -> list[float]:
    if len(predictions) != len(targets):
        raise ValueError(
            f"{loss}: got {len(predictions)} predictions but {len(targets)} targets; "
            "pass one target per prediction."
        )
    if not predictions:
        raise ValueError(f"{loss}: got no predictions; pass at least one.")
    for p in predictions:
        if not isinstance(p, Value):
            raise TypeError(
                f"{loss}: predictions must be Values (the network's outputs), "
                f"got {type(p).__name__} {p!r}."
            )
    return [real_number(f"{loss}: every target", y, finite=False) for y in targets]


def _total(terms: Sequence[Value]) -> Value:
    # Starting from the first term (not from 0) keeps a constant 0 out of the graph.
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def _reduce(terms: Sequence[Value], reduction: str, loss: str, allowed: Sequence[str]) -> Value:
    choice("reduction", reduction, allowed)
    total = _total(terms)
    if reduction == "mean":
        return total / len(terms)
    if reduction == "half_sum":
        return 0.5 * total
    return total


def mse(predictions: Sequence[Value], targets: Sequence[float], reduction: str = "mean") -> Value:
    """Squared error, reduced by "mean" (PyTorch's default), "sum" or "half_sum" (0.5 * sum).

    >>> from tinygrad_xor.engine import Value
    >>> mse([Value(0.5), Value(1.0)], [0.0, 0.0]).data  # (0.25 + 1) / 2
    0.625
    """
    ys = _checked_pair(predictions, targets, "mse")
    return _reduce(
        [(p - y) ** 2 for p, y in zip(predictions, ys, strict=True)], reduction, "mse", REDUCTIONS
    )


def _clamped_log(p: Value) -> Value:
    """log p, floored at -100 as PyTorch's BCELoss: a constant (gradient 0) below the floor."""
    log_p = p.log()
    if log_p.data < _LOG_FLOOR:  # includes log(0) = -inf
        return Value(_LOG_FLOOR)
    return log_p


def bce(predictions: Sequence[Value], targets: Sequence[float], reduction: str = "mean") -> Value:
    """Binary cross-entropy of probabilities in [0, 1]; finite even for p = 0 or p = 1.

    >>> from tinygrad_xor.engine import Value
    >>> round(bce([Value(0.8)], [1.0]).data, 6)  # -log 0.8
    0.223144
    >>> bce([Value(0.0)], [1.0]).data  # log 0 is floored at -100, as PyTorch
    100.0
    """
    ys = _checked_pair(predictions, targets, "bce")
    for p in predictions:
        # A prediction outside [0, 1] is not a probability: the log would be nan.
        if not 0.0 <= p.data <= 1.0 and not math.isnan(p.data):
            raise ValueError(
                f"bce: predictions must be probabilities in [0, 1], got {p.data!r}. "
                "Use a sigmoid output activation, or the mse loss."
            )
    terms = []
    for p, y in zip(predictions, ys, strict=True):
        # Each side is built only when its weight is non-zero, so the usual 0/1 targets
        # give one log per sample, and 0 * (-100) never appears in the graph.
        if y == 1.0:
            terms.append(-_clamped_log(p))
        elif y == 0.0:
            terms.append(-_clamped_log(1.0 - p))
        else:
            terms.append(-(y * _clamped_log(p) + (1.0 - y) * _clamped_log(1.0 - p)))
    return _reduce(terms, reduction, "bce", ("mean", "sum"))


def _mse_mean(predictions: Sequence[Value], targets: Sequence[float]) -> Value:
    return mse(predictions, targets, "mean")


def _mse_sum(predictions: Sequence[Value], targets: Sequence[float]) -> Value:
    return mse(predictions, targets, "sum")


def _mse_half_sum(predictions: Sequence[Value], targets: Sequence[float]) -> Value:
    return mse(predictions, targets, "half_sum")


def _bce_mean(predictions: Sequence[Value], targets: Sequence[float]) -> Value:
    return bce(predictions, targets, "mean")


# Losses that build the same graph at any predictions: a compiled tape of them never
# needs re-checking. bce is not one: its floor swaps log p for a constant.
FIXED_GRAPH_LOSSES: frozenset[LossFn] = frozenset({_mse_mean, _mse_sum, _mse_half_sum})

LOSSES: dict[str, LossFn] = {
    "mse": _mse_mean,
    "mse_sum": _mse_sum,
    "mse_half_sum": _mse_half_sum,
    "bce": _bce_mean,
}


def get_loss(name: str) -> LossFn:
    """The loss called `name` in LOSSES: "mse", "mse_sum", "mse_half_sum" or "bce"."""
    return LOSSES[choice("loss", name, LOSSES)]
