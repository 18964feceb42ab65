"""The learner's gradients against the Value engine's, which are right by construction.

    engine_gradients  an nn.MLP with the same weights, the same loss from losses.mse, backward()
    diagnose          one variant's hand-written gradients against those (a GradientDiagnosis)
    diagnose_run      diagnose at each weights snapshot of a run

Gradients are keyed by the learner's names ("W1[0,3]"), as Weights.named() gives them.
"""

from __future__ import annotations

from tinygrad_xor.checks import choice
from tinygrad_xor.gradcheck import GradientDiagnosis, diagnose_gradients
from tinygrad_xor.losses import mse
from tinygrad_xor.manual.network import (
    LOSSES,
    ManualRun,
    Weights,
    X,
    Y,
    backprop,
    resolve_loss,
)
from tinygrad_xor.nn import MLP

__all__ = ["engine_gradients", "diagnose", "diagnose_run"]


def engine_gradients(weights: Weights, loss: str = "half_sum") -> tuple[float, dict[str, float]]:
    """The loss and each weight's gradient (learner's names) from the Value engine's MLP."""
    loss = choice("loss", loss, LOSSES)
    model = MLP(2, [weights.hidden, 1], bias=weights.has_biases)
    model.load_state_dict(weights.to_state_dict())
    predictions = [model(row)[0] for row in X.tolist()]
    # LOSSES here are losses.mse's reductions, under the same names.
    total = mse(predictions, Y.ravel().tolist(), reduction=loss)
    total.backward()
    by_state_name = dict(model.named_parameters())
    gradients = {
        learner: by_state_name[state_name].grad
        for learner, state_name in zip(weights.named(), weights.to_state_dict(), strict=True)
    }
    return total.data, gradients


def diagnose(weights: Weights, variant: str, loss: str | None = None) -> GradientDiagnosis:
    """Compare a variant's hand-written gradients at `weights` with the engine's true ones."""
    loss_kind = resolve_loss(variant, loss)
    loss_value, true = engine_gradients(weights, loss_kind)
    manual = backprop(weights, variant, loss_kind).gradients().named()
    return diagnose_gradients(manual, true, constants={"the loss value": loss_value})


def diagnose_run(run: ManualRun) -> list[tuple[int, float, GradientDiagnosis]]:
    """(epoch, loss, diagnosis) at each of the run's snapshots, in epoch order."""
    results = []
    for epoch in sorted(run.snapshots):
        weights = run.snapshots[epoch]
        loss_value = backprop(weights, "correct", run.loss_kind).loss
        results.append((epoch, loss_value, diagnose(weights, run.variant, run.loss_kind)))
    return results
