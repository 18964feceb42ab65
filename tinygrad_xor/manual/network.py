"""The learner's 2-5-1 XOR network in NumPy, with their two weight updates and the correct one.

    X, Y                   XOR as they wrote it
    Weights                W1 (2, hidden), W2 (hidden, 1), optional biases; names both ways
    learner_weights        np.random.seed(0); np.random.random(...), global state untouched
    backprop -> Backprop   one pass of their loop: forward, output error, deltas, gradients
    train -> ManualRun     their loop for one variant; compare runs all three

The output error dL/dy_hat, three ways (`VARIANTS`): attempt1 uses the loss value L
itself, attempt2 (y_hat - y) * L (np.dot(cost_delta, cost_error)), correct (y_hat - y)
for L = 0.5 * sum((y_hat - y)**2). `LOSSES`: half_sum, sum, mean. Everything is float64.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tinygrad_xor.checks import choice, real_number, whole_number
from tinygrad_xor.data import is_solved
from tinygrad_xor.nn import state_names

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
]

Array = npt.NDArray[np.float64]

VARIANTS = ("attempt1", "attempt2", "correct")
LOSSES = ("half_sum", "sum", "mean")
# The loss each of the learner's loops used: their first mse had no 0.5.
LEARNER_LOSS = {"attempt1": "sum", "attempt2": "half_sum", "correct": "half_sum"}

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
    input i to hidden unit j: weight i of neuron j of the Value MLP's first layer
    (`to_state_dict` gives the MLP's names).
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
        state_name = _state_names(self.hidden, self.has_biases)
        return {state_name[name]: value for name, value in self.named().items()}

    @classmethod
    def from_state_dict(cls, state: dict[str, float]) -> Weights:
        """Weights from a 2-hidden-1 MLP's state_dict (e.g. `from_torch(model).state_dict()`)."""
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict of name -> float, got {type(state).__name__}.")
        hidden, biases = _nearest_architecture(set(state))
        state_name = _state_names(hidden, biases)
        expected = set(state_name.values())
        if set(state) != expected:
            missing = sorted(expected - set(state))
            extra = sorted(set(state) - expected)
            raise ValueError(
                f"state is not that of MLP(2, [{hidden}, 1], bias={biases}): "
                f"missing {missing[:4]}, unexpected {extra[:4]}."
            )
        named = {learner: state[name] for learner, name in state_name.items()}
        W1 = [[named[f"W1[{i},{j}]"] for j in range(hidden)] for i in range(2)]
        W2 = [[named[f"W2[{j},0]"]] for j in range(hidden)]
        if not biases:
            return cls(np.array(W1), np.array(W2))
        b1 = [named[f"b1[{j}]"] for j in range(hidden)]
        return cls(np.array(W1), np.array(W2), np.array(b1), np.array([named["b2[0]"]]))


def _state_names(hidden: int, biases: bool) -> dict[str, str]:
    """Learner's name -> the name nn.state_names gives the same number in MLP(2, [hidden, 1])."""
    # The MLP's order: neuron by neuron, each neuron's weights (one per input), then its bias.
    learner: list[str] = []
    for j in range(hidden):
        learner += [f"W1[0,{j}]", f"W1[1,{j}]", *([f"b1[{j}]"] if biases else [])]
    learner += [f"W2[{j},0]" for j in range(hidden)] + (["b2[0]"] if biases else [])
    return dict(zip(learner, state_names(2, [hidden, 1], biases), strict=True))


def _nearest_architecture(names: set[str]) -> tuple[int, bool]:
    """(hidden, biases) of the MLP(2, [hidden, 1]) whose state_dict names are nearest `names`."""
    # MLP(2, [1, 1], bias=False) is at most n + 3 away (n = len(names)); a network of h hidden
    # units has at least 3h names, so it is at least 3h - n away: nearer only if 3h < 2n + 3.
    candidates = [(h, b) for h in range(1, 2 * len(names) // 3 + 2) for b in (False, True)]
    return min(candidates, key=lambda c: len(names ^ set(state_names(2, [c[0], 1], c[1]))))


def learner_weights(hidden: int = 5, seed: int = 0, biases: bool = False) -> Weights:
    """The learner's starting weights: np.random.seed(seed); W1 = random((2, hidden)); W2 = ...

    Biases, when asked for, start at 0 (the learner's network has none).
    """
    hidden = whole_number("hidden", hidden)
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


def resolve_loss(variant: str, loss: str | None) -> str:
    """The loss a run of `variant` uses: `loss`, or None for its own loop's (LEARNER_LOSS)."""
    variant = choice("variant", variant, VARIANTS)
    return choice("loss", LEARNER_LOSS[variant] if loss is None else loss, LOSSES)


def backprop(weights: Weights, variant: str = "correct", loss: str | None = None) -> Backprop:
    """The learner's loop body, with the output error their `variant` computes.

    loss: None means the loss that variant's loop used (LEARNER_LOSS).
    """
    loss = resolve_loss(variant, loss)
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
    loss_kind = resolve_loss(variant, loss)
    epochs = whole_number("epochs", epochs)
    lr = real_number("lr", lr, above=0)
    start = _resolve_start(weights, biases, hidden, seed)
    keep = set(keep_weights_at)
    targets = Y.ravel().tolist()

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
        if first_solved is None and is_solved(step.predictions.ravel().tolist(), targets):
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
    predictions = final.predictions.ravel().tolist()
    solved = is_solved(predictions, targets)
    if first_solved is None and solved:
        first_solved = epochs
    return ManualRun(
        variant=variant,
        loss_kind=loss_kind,
        lr=lr,
        epochs=epochs,
        initial_weights=start,
        final_weights=current,
        losses=losses,
        predictions=predictions,
        final_loss=final.loss,
        solved=solved,
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
