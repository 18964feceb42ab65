"""The training loop: full-batch gradient descent, one epoch at a time.

Each epoch does what a PyTorch training loop does:

    optimizer.zero_grad()
    loss = loss_fn([model(x) for x in inputs], targets)   # forward
    loss.backward()                                       # gradients
    losses.append(loss)                                   # recorded *before* the update
    optimizer.step()                                      # update

so `history.losses[e]` is the loss after e updates, and the model `train` returns
has had `history.epochs` updates (its loss is `history.final_loss`).

The forward + backward part is one function, a *step*: it leaves d loss / d p in
each parameter's grad and returns the loss and the predictions. `autograd_step`
builds it from Values; another implementation of the same contract (e.g. a compiled
tape) plugs in as `train(..., make_step=...)`.

A callback sees every epoch (for a progress bar) and can stop training early by
returning True. A loss that is not finite stops training at once with
NonFiniteLossError.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tinygrad_xor.checks import flag, whole_number
from tinygrad_xor.compile import trace
from tinygrad_xor.data import DATASETS, Dataset, get_dataset, is_solved
from tinygrad_xor.engine import Value, topological_order
from tinygrad_xor.losses import FIXED_GRAPH_LOSSES, LossFn, get_loss
from tinygrad_xor.nn import MLP
from tinygrad_xor.optim import SGD

__all__ = [
    "StepResult",
    "Step",
    "StepFactory",
    "EpochReport",
    "Callback",
    "History",
    "NonFiniteLossError",
    "autograd_step",
    "compiled_step",
    "step_factory",
    "evaluate",
    "loss_for",
    "sample_loss",
    "widest_hidden",
    "train",
]


@dataclass(frozen=True)
class StepResult:
    """What one forward + backward pass gives: the loss and each input's prediction."""

    loss: float
    predictions: list[float]


# A step computes the loss at the current parameters, leaves d loss / d p in p.grad
# for every parameter (the grads are zero when it is called), and returns StepResult.
Step = Callable[[], StepResult]
# Builds the step for a model, a dataset and a loss, once, before the first epoch.
StepFactory = Callable[[MLP, Dataset, LossFn], Step]


@dataclass(frozen=True)
class EpochReport:
    """What a callback sees at each epoch: the state after `epoch` updates."""

    epoch: int
    epochs: int
    loss: float
    predictions: list[float]
    solved: bool


# Called once per epoch, before the update; returning True stops training there.
Callback = Callable[[EpochReport], "bool | None"]


@dataclass(frozen=True)
class History:
    """The record of one training run.

    losses[e]           the loss after e updates, for e = 0 .. epochs - 1
    epochs              updates made (fewer than asked for when a callback stopped early)
    final_loss          the loss of the returned model, after all `epochs` updates
    predictions         the returned model's prediction for each input, in input order
    solved              every prediction on the right side of 0.5
    first_solved_epoch  the fewest updates after which every prediction was right, or None
    """

    losses: list[float]
    epochs: int
    stopped_early: bool
    final_loss: float
    predictions: list[float]
    solved: bool
    first_solved_epoch: int | None


class NonFiniteLossError(ArithmeticError):
    """The loss became inf or nan: the updates diverged (usually a learning rate too large)."""

    def __init__(self, epoch: int, loss: float, lr: float) -> None:
        self.epoch = epoch
        self.loss = loss
        self.lr = lr
        super().__init__(
            f"the loss is {loss} at epoch {epoch} (after {epoch} updates with lr {lr:g}): "
            f"training diverged; try a smaller learning rate, e.g. lr {lr / 10:g}."
        )


def loss_for(model: MLP, loss: str) -> LossFn:
    """The loss called `loss`, once it suits the model: bce needs a sigmoid output."""
    loss_fn = get_loss(loss)
    if loss == "bce" and model.output_activation != "sigmoid":
        raise ValueError(
            "bce needs outputs in [0, 1], i.e. a sigmoid output activation; this model's "
            f"is {model.output_activation}. Use mse instead."
        )
    return loss_fn


def sample_loss(
    model: MLP, dataset: Dataset | str, loss: str, samples: Sequence[int] | None = None
) -> Value:
    """The loss of some samples (0-based; all by default) as a labelled graph, after backward().

    Sample s's inputs are labelled x1[s+1], x2[s+1] and its prediction pred[s+1]; the
    root is "loss". This is the graph `tinygrad-xor graph` draws.
    """
    dataset = _as_dataset(dataset)
    _check_fits(model, dataset)
    loss_fn = loss_for(model, loss)
    last = len(dataset.inputs) - 1
    chosen = range(last + 1) if samples is None else samples
    indices = [whole_number("sample", s, at_least=0, at_most=last) for s in chosen]
    predictions = []
    for s in indices:
        xs = [Value(x, f"x{i + 1}[{s + 1}]") for i, x in enumerate(dataset.inputs[s])]
        (prediction,) = model(xs)
        prediction.label = f"pred[{s + 1}]"
        predictions.append(prediction)
    root = loss_fn(predictions, [dataset.targets[s] for s in indices])
    root.label = "loss"
    root.backward()
    return root


def widest_hidden(
    dataset: Dataset | str,
    loss: str,
    limit: int,
    samples: Sequence[int] | None = None,
    **settings: Any,
) -> int:
    """The most units one hidden layer may have for sample_loss's graph to keep within
    `limit` Values (0: not even one); `settings` are MLP's other arguments.

    Each hidden unit adds the same number of Values to the graph, so two sizes tell all.
    """
    dataset = _as_dataset(dataset)

    def size(width: int) -> int:
        model = MLP(dataset.nin, [width, 1], **settings)
        return len(topological_order(sample_loss(model, dataset, loss, samples)))

    first = size(1)
    return max(0, (limit - first) // (size(2) - first) + 1) if first <= limit else 0


def _as_dataset(dataset: Dataset | str) -> Dataset:
    """A Dataset, or the one a name like "xor" stands for (as loss= takes "mse")."""
    if isinstance(dataset, str):
        return get_dataset(dataset)
    if not isinstance(dataset, Dataset):
        raise TypeError(
            f"dataset must be a Dataset (e.g. tinygrad_xor.data.XOR) or its name, one of "
            f"{', '.join(DATASETS)}; got {type(dataset).__name__} {dataset!r}."
        )
    return dataset


def _check_fits(model: MLP, dataset: Dataset) -> None:
    if not isinstance(model, MLP):
        raise TypeError(f"model must be an MLP, got {type(model).__name__}.")
    if model.nin != dataset.nin or model.sizes[-1] != 1:
        raise ValueError(
            f"the model takes {model.nin} inputs and gives {model.sizes[-1]} outputs; dataset "
            f"{dataset.name!r} needs {dataset.nin} inputs and 1 output, e.g. "
            f"MLP({dataset.nin}, [5, 1])."
        )


def autograd_step(model: MLP, dataset: Dataset, loss_fn: LossFn) -> Step:
    """The step by the Value engine: build the graph of the loss, then loss.backward()."""
    inputs = [list(x) for x in dataset.inputs]
    targets = list(dataset.targets)

    def step() -> StepResult:
        outputs: list[Value] = [model(x)[0] for x in inputs]
        loss = loss_fn(outputs, targets)
        loss.backward()
        return StepResult(loss.data, [y.data for y in outputs])

    return step


def compiled_step(
    model: MLP,
    dataset: Dataset,
    loss_fn: LossFn,
    *,
    check_every: int | None = None,
    retrace: bool | None = None,
) -> Step:
    """The step by a compiled tape (tinygrad_xor.compile): the loss traced once, then replayed.

    The dataset's numbers are constants of the tape; each step replays it at the current
    weights. A loss from FIXED_GRAPH_LOSSES (the mse family: one graph at any weights) is
    replayed unchecked; any other (bce, whose floor branches on numbers, or your own) is
    re-checked every step and retraced when its graph changes: exact always, fast where
    that is safe. Pass check_every and retrace to choose yourself.
    """
    fixed_graph = loss_fn in FIXED_GRAPH_LOSSES
    samples = [list(x) for x in dataset.inputs]
    targets = list(dataset.targets)

    def loss_and_predictions() -> tuple[Value, list[Value]]:
        outputs = [model(x)[0] for x in samples]
        return loss_fn(outputs, targets), outputs

    name = f"{dataset.name}_loss"
    tape = trace(
        loss_and_predictions,
        model.parameters(),
        name=name if name.isidentifier() else "loss_and_grads",
        check_every=(0 if fixed_graph else 1) if check_every is None else check_every,
        retrace=(not fixed_graph) if retrace is None else retrace,
    )

    def step() -> StepResult:
        result = tape.forward_backward()
        return StepResult(result.loss, result.outputs)

    return step


def step_factory(compiled: bool) -> StepFactory:
    """The step `train` runs each epoch: compiled_step when `compiled`, else autograd_step."""
    return compiled_step if flag("compiled", compiled) else autograd_step


def evaluate(model: MLP, dataset: Dataset | str, loss: str | LossFn = "mse") -> StepResult:
    """The loss and predictions of `model` on `dataset` (forward only; grads untouched)."""
    dataset = _as_dataset(dataset)
    _check_fits(model, dataset)
    loss_fn = loss_for(model, loss) if isinstance(loss, str) else loss
    outputs = [model(list(x))[0] for x in dataset.inputs]
    return StepResult(loss_fn(outputs, list(dataset.targets)).data, [y.data for y in outputs])


def train(
    model: MLP,
    dataset: Dataset | str,
    optimizer: SGD,
    *,
    epochs: int,
    loss: str | LossFn = "mse",
    callback: Callback | None = None,
    make_step: StepFactory = autograd_step,
) -> History:
    """Train `model` on `dataset` (or its name: "xor") for `epochs` updates; return the History.

    >>> from tinygrad_xor.data import XOR
    >>> model = MLP(2, [5, 1], seed=0)
    >>> history = train(model, XOR, SGD(model.parameters(), lr=0.3, momentum=0.9), epochs=2000)
    >>> history.solved, len(history.losses)
    (True, 2000)
    """
    dataset = _as_dataset(dataset)
    _check_fits(model, dataset)
    epochs = whole_number("epochs", epochs)
    if not set(optimizer.params) & set(model.parameters()):
        raise ValueError(
            "the optimizer holds none of the model's parameters, so training would change "
            "nothing: build it from this model, SGD(model.parameters(), lr=...)."
        )
    loss_fn = loss_for(model, loss) if isinstance(loss, str) else loss
    targets = list(dataset.targets)
    step = make_step(model, dataset, loss_fn)

    losses: list[float] = []
    first_solved_epoch: int | None = None
    stopped_early = False
    for epoch in range(epochs):
        optimizer.zero_grad()
        result = step()
        if not math.isfinite(result.loss):
            # Stop before the update: the parameters are those that gave this loss.
            raise NonFiniteLossError(epoch, result.loss, optimizer.lr)
        losses.append(result.loss)
        solved = is_solved(result.predictions, targets)
        if solved and first_solved_epoch is None:
            first_solved_epoch = epoch
        if callback is not None and callback(
            EpochReport(epoch, epochs, result.loss, result.predictions, solved)
        ):
            stopped_early = True
            break
        optimizer.step()

    updates = len(losses) - 1 if stopped_early else len(losses)
    final = evaluate(model, dataset, loss_fn)
    if not math.isfinite(final.loss):
        raise NonFiniteLossError(updates, final.loss, optimizer.lr)
    solved = is_solved(final.predictions, targets)
    if solved and first_solved_epoch is None:
        first_solved_epoch = updates
    return History(
        losses=losses,
        epochs=updates,
        stopped_early=stopped_early,
        final_loss=final.loss,
        predictions=final.predictions,
        solved=solved,
        first_solved_epoch=first_solved_epoch,
    )
