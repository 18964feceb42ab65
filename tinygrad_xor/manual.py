"""The learner's network in NumPy: their two weight updates, the correct one, and why.

Read `backprop` next to the question (docs/learner-question.md, docs/backprop.md):
it is their loop -- `layer0`, `layer1`, `layer2`, `layer2_delta`, `layer1_delta` -- with
one line per derivative. The network, as they wrote it:

    X = [[0,0], [0,1], [1,0], [1,1]]      Y = [[0], [1], [1], [0]]
    np.random.seed(0)
    W1 = np.random.random((2, 5))         input -> 5 hidden, no biases
    W2 = np.random.random((5, 1))         hidden -> 1 output, no bias
    sigmoid on both layers, lr 0.3, 10000 epochs

Three ways to compute the output error dL/dy_hat (`VARIANTS`):

    attempt1  the loss value L itself                        (their first loop)
    attempt2  (y_hat - y) * L, from np.dot(cost_delta, cost_error)  (their second)
    correct   dL/dy_hat = (y_hat - y) for L = 0.5 * sum((y_hat - y)**2)

Losses (`LOSSES`): "half_sum" 0.5*sum (their second), "sum" (their first mse),
"mean" (PyTorch's nn.MSELoss). Everything is float64. The global numpy random
state is never touched: `np.random.RandomState(seed).random_sample` draws the same
numbers as `np.random.seed(seed); np.random.random(...)`.

The engine glue at the end (`engine_gradients`, `diagnose`) checks these gradients
against the Value engine's: an nn.MLP with the same weights, the same loss from
losses.mse, and gradcheck.diagnose_gradients to say what differs.

Imports: numpy; from this package nn, losses, gradcheck and atomic (the comparison
plot is written atomically); matplotlib only inside `plot_comparison`.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tinygrad_xor.atomic import write_atomically
from tinygrad_xor.gradcheck import GradientDiagnosis, diagnose_gradients
from tinygrad_xor.losses import mse
from tinygrad_xor.nn import MLP

__all__ = [
    "VARIANTS",
    "LOSSES",
    "LEARNER_LOSS",
    "X",
    "Y",
    "Weights",
    "learner_weights",
    "sigmoid",
    "Backprop",
    "backprop",
    "ManualRun",
    "train",
    "compare",
    "explain",
    "format_table",
    "plot_comparison",
    "engine_gradients",
    "diagnose",
    "diagnose_run",
]

Array = npt.NDArray[np.float64]

VARIANTS = ("attempt1", "attempt2", "correct")
LOSSES = ("half_sum", "sum", "mean")
# The loss each of the learner's loops used: their first mse had no 0.5.
LEARNER_LOSS = {"attempt1": "sum", "attempt2": "half_sum", "correct": "half_sum"}
LOSS_FORMULAS = {
    "half_sum": "0.5*sum((y_hat-y)^2)",
    "sum": "sum((y_hat-y)^2)",
    "mean": "mean((y_hat-y)^2)",
}

# XOR, as the learner wrote it (as floats: the products are the same).
X: Array = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
Y: Array = np.array([[0, 1, 1, 0]], dtype=np.float64).T


# -- weights ---------------------------------------------------------------------------


def _as_matrix(name: str, value: object, shape: tuple[int, ...]) -> Array:
    array = np.array(value, dtype=np.float64)  # a copy: training never changes the caller's
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} has non-finite entries: {array.tolist()}.")
    return array


@dataclass
class Weights:
    """W1 (2, hidden): input -> hidden; W2 (hidden, 1): hidden -> output; biases optional.

    The layout is the learner's: layer1 = sigmoid(X @ W1 + b1), so W1[i, j] joins
    input i to hidden unit j. In the Value MLP that is
    `layers.0.neurons.j.weight.i`; see `to_state_dict`.
    """

    W1: Array
    W2: Array
    b1: Array | None = None
    b2: Array | None = None

    def __post_init__(self) -> None:
        W1 = np.asarray(self.W1)
        if W1.ndim != 2 or W1.shape[0] != 2 or W1.shape[1] < 1:
            raise ValueError(f"W1 must have shape (2, hidden), got {W1.shape}.")
        hidden = W1.shape[1]
        self.W1 = _as_matrix("W1", W1, (2, hidden))
        self.W2 = _as_matrix("W2", self.W2, (hidden, 1))
        if (self.b1 is None) != (self.b2 is None):
            raise ValueError("give both biases (b1 and b2) or neither.")
        if self.b1 is not None:
            self.b1 = _as_matrix("b1", self.b1, (hidden,))
            self.b2 = _as_matrix("b2", self.b2, (1,))

    @property
    def hidden(self) -> int:
        return int(self.W1.shape[1])

    @property
    def has_biases(self) -> bool:
        return self.b1 is not None

    def copy(self) -> Weights:
        return Weights(self.W1, self.W2, self.b1, self.b2)  # __post_init__ copies

    def flat(self) -> Array:
        """All the numbers in one vector, in the order of `named()`."""
        parts = [self.W1.ravel(), self.W2.ravel()]
        if self.b1 is not None and self.b2 is not None:
            parts += [self.b1, self.b2]
        return np.concatenate(parts)

    def named(self) -> dict[str, float]:
        """Every weight by the learner's name: "W1[0,3]", "W2[3,0]", "b1[3]", "b2[0]"."""
        named = {f"W1[{i},{j}]": float(self.W1[i, j]) for i in range(2) for j in range(self.hidden)}
        named.update({f"W2[{j},0]": float(self.W2[j, 0]) for j in range(self.hidden)})
        if self.b1 is not None and self.b2 is not None:
            named.update({f"b1[{j}]": float(self.b1[j]) for j in range(self.hidden)})
            named["b2[0]"] = float(self.b2[0])
        return named

    def to_state_dict(self) -> dict[str, float]:
        """The same numbers under the Value MLP's names (`MLP(2, [hidden, 1]).state_dict()`)."""
        return {_state_name(name): value for name, value in self.named().items()}

    @classmethod
    def from_state_dict(cls, state: dict[str, float]) -> Weights:
        """Weights from a 2-hidden-1 MLP's state_dict (e.g. `from_torch(model).state_dict()`)."""
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict of name -> float, got {type(state).__name__}.")
        hidden = 0
        while f"layers.0.neurons.{hidden}.weight.0" in state:
            hidden += 1
        if hidden == 0:
            raise ValueError(
                "state has no 'layers.0.neurons.0.weight.0': expected the state_dict of "
                "MLP(2, [hidden, 1])."
            )
        biases = "layers.0.neurons.0.bias" in state
        template = Weights(
            np.zeros((2, hidden)),
            np.zeros((hidden, 1)),
            np.zeros(hidden) if biases else None,
            np.zeros(1) if biases else None,
        )
        expected = template.to_state_dict()
        if set(state) != set(expected):
            missing = sorted(set(expected) - set(state))
            extra = sorted(set(state) - set(expected))
            raise ValueError(
                f"state is not that of MLP(2, [{hidden}, 1], bias={biases}): "
                f"missing {missing[:4]}, unexpected {extra[:4]}."
            )
        named = {
            learner: state[state_name]
            for learner, state_name in zip(template.named(), expected, strict=True)
        }
        W1 = [[named[f"W1[{i},{j}]"] for j in range(hidden)] for i in range(2)]
        W2 = [[named[f"W2[{j},0]"]] for j in range(hidden)]
        if not biases:
            return cls(np.array(W1), np.array(W2))
        b1 = [named[f"b1[{j}]"] for j in range(hidden)]
        return cls(np.array(W1), np.array(W2), np.array(b1), np.array([named["b2[0]"]]))


def _state_name(learner_name: str) -> str:
    """ "W1[i,j]" -> "layers.0.neurons.j.weight.i" and so on (see Weights)."""
    matrix, index = learner_name[:2], learner_name[3:-1]
    if matrix == "W1":
        i, j = index.split(",")
        return f"layers.0.neurons.{j}.weight.{i}"
    if matrix == "W2":
        j, _ = index.split(",")
        return f"layers.1.neurons.0.weight.{j}"
    if matrix == "b1":
        return f"layers.0.neurons.{index}.bias"
    return "layers.1.neurons.0.bias"  # b2[0]


def learner_weights(hidden: int = 5, seed: int = 0, biases: bool = False) -> Weights:
    """The learner's starting weights: np.random.seed(seed); W1 = random((2, hidden)); W2 = ...

    Biases, when asked for, start at 0 (the learner's network has none).
    """
    if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 1:
        raise ValueError(f"hidden must be a whole number >= 1, got {hidden!r}.")
    rng = np.random.RandomState(seed)  # same stream as np.random.seed(seed), global state untouched
    W1 = rng.random_sample((2, hidden))
    W2 = rng.random_sample((hidden, 1))
    if not biases:
        return Weights(W1, W2)
    return Weights(W1, W2, np.zeros(hidden), np.zeros(1))


# -- one epoch: forward pass, output delta, hidden delta, gradients ---------------------


def sigmoid(x: Array) -> Array:
    with np.errstate(over="ignore"):  # exp(-x) = inf for x < -709 gives 1/(1+inf) = 0, as it should
        result: Array = 1.0 / (1.0 + np.exp(-x))
    return result


def _loss(layer2: Array, kind: str) -> float:
    squared = np.square(layer2 - Y)
    if kind == "half_sum":
        return float(0.5 * np.sum(squared))
    if kind == "sum":
        return float(np.sum(squared))
    return float(np.sum(squared) / squared.size)  # "mean": nn.MSELoss() over the 4 rows


def _loss_derivative(layer2: Array, kind: str) -> Array:
    """dL/dy_hat for each row."""
    if kind == "half_sum":
        return layer2 - Y  # d/dy_hat of 0.5*(y_hat - y)^2
    if kind == "sum":
        return 2.0 * (layer2 - Y)  # d/dy_hat of (y_hat - y)^2
    return 2.0 * (layer2 - Y) / layer2.size  # d/dy_hat of (y_hat - y)^2 / N


@dataclass(frozen=True)
class Backprop:
    """One forward and backward pass: the loss, the predictions and each weight's gradient."""

    loss: float
    predictions: Array  # (4, 1): layer2
    grad_W1: Array  # dL/dW1, shaped like W1; and so on
    grad_W2: Array
    grad_b1: Array | None = None
    grad_b2: Array | None = None

    def gradients(self) -> Weights:
        """The gradients as a Weights (so `.named()` gives them by the learner's names)."""
        return Weights(self.grad_W1, self.grad_W2, self.grad_b1, self.grad_b2)


def backprop(weights: Weights, variant: str = "correct", loss: str | None = None) -> Backprop:
    """The learner's loop body, with the output error their `variant` computes.

    loss: None means the loss that variant's loop used (LEARNER_LOSS).
    """
    _check_choice("variant", variant, VARIANTS)
    loss = LEARNER_LOSS[variant] if loss is None else loss
    _check_choice("loss", loss, LOSSES)
    W1, W2 = weights.W1, weights.W2
    b1 = weights.b1 if weights.b1 is not None else 0.0  # no bias: adding 0.0 changes nothing
    b2 = weights.b2 if weights.b2 is not None else 0.0

    # Forward pass.
    layer0 = X
    layer1 = sigmoid(layer0 @ W1 + b1)  # h = sigmoid(z1), z1 = X.W1 + b1
    layer2 = sigmoid(layer1 @ W2 + b2)  # y_hat = sigmoid(z2), z2 = h.W2 + b2
    loss_value = _loss(layer2, loss)  # L

    # Output error: how the loss changes with each prediction, dL/dy_hat.
    if variant == "correct":
        layer2_error = _loss_derivative(layer2, loss)  # dL/dy_hat: (y_hat - y) for 0.5*sum
    elif variant == "attempt1":
        # Bug 1: the loss value itself -- one positive number, the same for every row.
        layer2_error = np.full_like(layer2, loss_value)
    else:
        # Bug 2: dL/dy_hat times L (np.dot(cost_delta, cost_error) with a scalar is a product).
        layer2_error = _loss_derivative(layer2, loss) * loss_value

    # Backward pass: the chain rule, one factor per line.
    layer2_delta = layer2_error * layer2 * (1 - layer2)  # dL/dz2 = dL/dy_hat * sigmoid'(z2)
    layer1_error = layer2_delta @ W2.T  # dL/dh = dL/dz2 . W2^T
    layer1_delta = layer1_error * layer1 * (1 - layer1)  # dL/dz1 = dL/dh * sigmoid'(z1)

    # Gradients: each weight's input times the delta it feeds, summed over the 4 rows.
    grad_W2 = layer1.T @ layer2_delta  # dL/dW2 = h^T . dL/dz2
    grad_W1 = layer0.T @ layer1_delta  # dL/dW1 = X^T . dL/dz1
    if not weights.has_biases:
        return Backprop(loss_value, layer2, grad_W1, grad_W2)
    grad_b2 = layer2_delta.sum(axis=0)  # dL/db2 = sum over rows of dL/dz2
    grad_b1 = layer1_delta.sum(axis=0)  # dL/db1 = sum over rows of dL/dz1
    return Backprop(loss_value, layer2, grad_W1, grad_W2, grad_b1, grad_b2)


def _check_choice(what: str, value: object, allowed: Sequence[str]) -> None:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; choose one of: {', '.join(allowed)}.")


def _all_right(predictions: Array) -> bool:
    """Every prediction on the right side of 0.5 (0.5 itself counts as wrong).

    The rule of train.is_solved, on NumPy arrays. It is not imported from train:
    manual and train are both layer 2 and a module imports only from lower layers
    (docs/architecture.md, held by tests/test_docs.py); tests/test_manual.py checks
    the two agree.
    """
    return bool(np.all(np.where(Y > 0.5, predictions > 0.5, predictions < 0.5)))


# -- training -----------------------------------------------------------------------------


@dataclass
class ManualRun:
    """A training run of one variant: the loss curve, the result, and how the weights moved."""

    variant: str
    loss_kind: str
    lr: float
    epochs: int
    initial_weights: Weights
    final_weights: Weights
    losses: list[float]  # losses[e]: the loss of epoch e's forward pass, before its update
    predictions: list[float]  # after the last update, in the order of X
    final_loss: float  # the loss of those predictions
    solved: bool
    first_solved_epoch: int | None  # updates done when all four were first right; 0 = at once
    downward_steps: dict[str, int]  # per weight (learner's names): updates that decreased it
    snapshots: dict[int, Weights] = field(default_factory=dict)  # weights after e updates

    def to_json(self) -> dict[str, object]:
        return {
            "variant": self.variant,
            "loss": self.loss_kind,
            "final_loss": self.final_loss,
            "predictions": self.predictions,
            "solved": self.solved,
            "first_solved_epoch": self.first_solved_epoch,
        }


def _resolve_start(weights: Weights | None, biases: bool | None, hidden: int, seed: int) -> Weights:
    if weights is None:
        return learner_weights(hidden, seed, biases=bool(biases))
    if not isinstance(weights, Weights):
        raise TypeError(
            f"weights must be a manual.Weights, got {type(weights).__name__}; "
            "use Weights.from_state_dict(mlp.state_dict()) to start from an MLP's weights."
        )
    if biases is not None and biases != weights.has_biases:
        raise ValueError(
            f"biases={biases} contradicts the weights given, which "
            f"{'have' if weights.has_biases else 'have no'} biases; leave biases out."
        )
    return weights.copy()


def train(
    variant: str = "correct",
    *,
    epochs: int = 10000,
    lr: float = 0.3,
    loss: str | None = None,
    biases: bool | None = None,
    weights: Weights | None = None,
    hidden: int = 5,
    seed: int = 0,
    keep_weights_at: Sequence[int] = (),
) -> ManualRun:
    """Train the learner's network with one variant's update, full batch, plain gradient descent.

    loss: None means the loss that variant's loop used (LEARNER_LOSS).
    weights: start here instead of learner_weights(hidden, seed, biases); the run has
    biases exactly when these weights do.
    keep_weights_at: epochs after which to keep a copy of the weights (run.snapshots).
    """
    _check_choice("variant", variant, VARIANTS)
    loss_kind = LEARNER_LOSS[variant] if loss is None else loss
    _check_choice("loss", loss_kind, LOSSES)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a whole number >= 1, got {epochs!r}.")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not (0 < lr < math.inf):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}.")
    start = _resolve_start(weights, biases, hidden, seed)
    keep = set(keep_weights_at)

    current = start.copy()
    W1, W2, b1, b2 = current.W1, current.W2, current.b1, current.b2  # updated in place
    names = list(start.named())
    downward = np.zeros(len(names), dtype=np.int64)
    losses: list[float] = []
    snapshots: dict[int, Weights] = {}
    first_solved: int | None = None
    for epoch in range(epochs):
        if epoch in keep:
            snapshots[epoch] = current.copy()
        step = backprop(current, variant, loss_kind)
        if not math.isfinite(step.loss):
            raise FloatingPointError(
                f"the loss became {step.loss} at epoch {epoch} ({variant}, lr {lr}); "
                "try a smaller lr."
            )
        losses.append(step.loss)
        if first_solved is None and _all_right(step.predictions):
            first_solved = epoch
        before = current.flat()

        # Updates: a step against the gradient, W <- W - lr * dL/dW. (An overflow is
        # reported just below, with advice, instead of as numpy's warning.)
        with np.errstate(over="ignore", invalid="ignore"):
            W2 -= lr * step.grad_W2
            W1 -= lr * step.grad_W1
            if b1 is not None and step.grad_b1 is not None:
                b1 -= lr * step.grad_b1
            if b2 is not None and step.grad_b2 is not None:
                b2 -= lr * step.grad_b2

        after = current.flat()
        if not np.all(np.isfinite(after)):
            raise FloatingPointError(
                f"the weights overflowed to inf or nan in the update of epoch {epoch} "
                f"({variant}, lr {lr}); try a smaller lr."
            )
        downward += after < before
    if epochs in keep:
        snapshots[epochs] = current.copy()

    final = backprop(current, variant, loss_kind)
    if first_solved is None and _all_right(final.predictions):
        first_solved = epochs
    return ManualRun(
        variant=variant,
        loss_kind=loss_kind,
        lr=float(lr),
        epochs=epochs,
        initial_weights=start,
        final_weights=current,
        losses=losses,
        predictions=[float(p) for p in final.predictions.ravel()],
        final_loss=final.loss,
        solved=_all_right(final.predictions),
        first_solved_epoch=first_solved,
        downward_steps=dict(zip(names, (int(n) for n in downward), strict=True)),
        snapshots=snapshots,
    )


def compare(
    *,
    epochs: int = 10000,
    lr: float = 0.3,
    loss: str | None = None,
    biases: bool | None = None,
    weights: Weights | None = None,
    hidden: int = 5,
    seed: int = 0,
    keep_weights_at: Sequence[int] = (0,),
) -> list[ManualRun]:
    """attempt1, attempt2 and correct, each from the same starting weights.

    Each run keeps its weights at `keep_weights_at` and at the end (for diagnose_run).
    """
    return [
        train(
            variant,
            epochs=epochs,
            lr=lr,
            loss=loss,
            biases=biases,
            weights=weights,
            hidden=hidden,
            seed=seed,
            keep_weights_at=(*keep_weights_at, epochs),
        )
        for variant in VARIANTS
    ]


# -- what the runs show, in words --------------------------------------------------------


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _explain_attempt1(run: ManualRun) -> str:
    output_names = [n for n in run.downward_steps if n.startswith(("W2", "b2"))]
    always_down = [n for n in output_names if run.downward_steps[n] == run.epochs]
    if len(always_down) == len(output_names):
        weights_moved = (
            f"so every weight into the output ({', '.join(output_names)}) went down on every "
            f"one of the {run.epochs} epochs"
        )
    else:
        weights_moved = (
            f"so {len(always_down)} of the {len(output_names)} weights into the output went "
            f"down on every one of the {run.epochs} epochs"
        )
    start, end = run.losses[0], run.final_loss
    trend = "rose" if end > start else "fell"
    predictions = ", ".join(f"{p:.2g}" for p in run.predictions)
    return (
        f"attempt1 uses the loss value itself (always positive: {_fmt(start)} at the start) as "
        "the output error of every input, in place of the signed error dL/dy_hat; sigmoid' and "
        f"the hidden outputs are positive too, {weights_moved}: every prediction is pushed "
        f"down whatever its target, they ended at [{predictions}] and the loss {trend} from "
        f"{_fmt(start)} to {_fmt(end)}."
    )


def _explain_attempt2(run: ManualRun, correct: ManualRun | None) -> str:
    start_lr = run.lr * run.losses[0]
    end_lr = run.lr * run.final_loss
    if correct is None:
        outcome = f"it ended at loss {_fmt(run.final_loss)}" + (
            f", solving XOR at epoch {run.first_solved_epoch}." if run.solved else "."
        )
    else:
        mine, theirs = run.first_solved_epoch, correct.first_solved_epoch
        if mine is not None and theirs is not None:
            solved = (
                f"all four were first right at epoch {mine} against {theirs} for the correct update"
            )
        elif mine is not None:
            solved = (
                f"all four were first right at epoch {mine}; the correct update never got there"
            )
        elif theirs is not None:
            solved = f"it never got all four right; the correct update did at epoch {theirs}"
        else:
            solved = "neither it nor the correct update got all four right"
        outcome = (
            f"{solved}, and it ended at loss {_fmt(run.final_loss)} against "
            f"{_fmt(correct.final_loss)}."
        )
    return (
        "attempt2 has the right direction, (y_hat - y), but multiplies it by the loss value, "
        "so every step is the correct step times the loss: in effect the learning rate became "
        f"lr * loss, {_fmt(start_lr)} at the start and {_fmt(end_lr)} at the end, shrinking just "
        f"as the loss does; {outcome}"
    )


def explain(runs: Sequence[ManualRun]) -> list[str]:
    """One plain sentence per buggy variant in `runs`, built from what the runs show."""
    by_variant = {run.variant: run for run in runs}
    sentences = []
    if "attempt1" in by_variant:
        sentences.append(_explain_attempt1(by_variant["attempt1"]))
    if "attempt2" in by_variant:
        sentences.append(_explain_attempt2(by_variant["attempt2"], by_variant.get("correct")))
    return sentences


def format_table(runs: Sequence[ManualRun]) -> str:
    """The runs side by side: variant, loss, final loss, 4 predictions, solved, first solved."""
    inputs = [f"({a:g},{b:g})" for a, b in X.tolist()]
    header = ["variant", "loss", "final loss", *inputs, "solved", "first solved epoch"]
    rows = [
        [
            run.variant,
            run.loss_kind,
            f"{run.final_loss:.6g}",
            *(f"{p:.4f}" for p in run.predictions),
            "yes" if run.solved else "no",
            str(run.first_solved_epoch) if run.first_solved_epoch is not None else "never",
        ]
        for run in runs
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


def plot_comparison(runs: Sequence[ManualRun], path: str | os.PathLike[str]) -> None:
    """Draw the runs' loss curves on one figure (log scale) and save it as an image at `path`.

    The format is the file's suffix (.png, .svg, .pdf; PNG when there is none). The
    file is written atomically: a failed write leaves what was there as it was.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # lazy: matplotlib is heavy
    from matplotlib.figure import Figure

    if not runs:
        raise ValueError("no runs to plot.")
    figure = Figure(figsize=(7.5, 4.5), dpi=100)
    FigureCanvasAgg(figure)  # attaches itself to the figure: no pyplot, no global state
    axes = figure.add_subplot()
    for run in runs:
        label = f"{run.variant}  (loss {LOSS_FORMULAS[run.loss_kind]})"
        axes.plot(range(len(run.losses)), run.losses, label=label, linewidth=1.5)
    axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss (before the epoch's update)")
    axes.set_title(
        f"The learner's 2-{runs[0].initial_weights.hidden}-1 network on XOR, lr {runs[0].lr:g}"
    )
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    # As plots.py writes its PNGs: the whole image is drawn into memory first and
    # then replaces the file in one step, so a failed plot never leaves half a file.
    target = Path(path)
    image = io.BytesIO()
    figure.savefig(image, format=target.suffix.lstrip(".").lower() or "png")
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, image.getvalue())


# -- the engine's view: the true gradients, and what the hand-written ones get wrong ---


def engine_gradients(weights: Weights, loss: str = "half_sum") -> tuple[float, dict[str, float]]:
    """The loss and each weight's gradient (learner's names) from the Value engine's MLP."""
    _check_choice("loss", loss, LOSSES)
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
    _check_choice("variant", variant, VARIANTS)
    loss_kind = LEARNER_LOSS[variant] if loss is None else loss
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
