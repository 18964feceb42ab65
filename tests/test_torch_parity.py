"""PyTorch parity: the NumPy reference and the Value engine agree with PyTorch to the last digits.

The learner's PyTorch script: torch.manual_seed(42); nn.Sequential(Linear(2,5), Sigmoid,
Linear(5,1), Sigmoid); MSELoss; SGD lr 0.3; 5000 epochs. From its initial weights:

- against PyTorch float64, both our loss curves match to 1e-12 relative at every epoch
  (measured: 5.3e-15 NumPy, 5.2e-15 Value engine), and so do our gradients at any weights;
- against PyTorch float32, 1e-6 relative per epoch cannot be met by any float64
  computation, ours or PyTorch's own: float32's loss value is itself uncertain by up to
  1.8e-6 late in training (near a target of 1, y_hat - y loses digits), and over 5000
  updates float32's trajectory drifts 3.9e-6 (relative, in the loss) from float64's.
  So we check what does hold: at float32's own weights we equal PyTorch float64 to
  1e-12; each epoch's gap to float32 is within 1e-6 or float32's own rounding bound;
  the free-running gap is under 1e-5 and equal to PyTorch float64's own gap.

Plus to_torch / from_torch, and a clear error when torch is missing.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from tinygrad_xor import SGD, XOR, manual, train
from tinygrad_xor.nn import MLP
from tinygrad_xor.torch_bridge import from_torch, learner_torch_model, to_torch

EPOCHS = 5000
SKIP_REASON = "PyTorch parity needs torch: pip install torch==2.13.0"


@pytest.fixture(scope="module")
def torch() -> ModuleType:
    return pytest.importorskip("torch", reason=SKIP_REASON)


def _relative(ours: Any, reference: Any) -> np.ndarray:
    ours, reference = np.asarray(ours, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    return np.abs(ours - reference) / np.abs(reference)


def _weights_from_parameters(flat: np.ndarray) -> manual.Weights:
    """torch's parameter order (Linear(2,5).weight, .bias, Linear(5,1).weight, .bias), flattened,
    as the learner's layout: W1 is the first weight transposed."""
    return manual.Weights(
        flat[0:10].reshape(5, 2).T, flat[15:20].reshape(1, 5).T, flat[10:15], flat[20:21]
    )


def _torch_training(torch: ModuleType, dtype: Any, keep_weights: bool) -> dict[str, Any]:
    """The learner's PyTorch loop, in `dtype`; the loss (and weights) before each update."""
    model = learner_torch_model(seed=42).to(dtype)
    X = torch.tensor(manual.X, dtype=dtype)
    Y = torch.tensor(manual.Y, dtype=dtype)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.3)
    criterion = torch.nn.MSELoss()
    losses, weights = [], []
    for _ in range(EPOCHS):
        if keep_weights:
            weights.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()]))
        optimizer.zero_grad()
        loss = criterion(model(X), Y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    kept = torch.stack(weights).double().numpy() if keep_weights else None
    return {"losses": np.array(losses), "weights": kept}


def _value_mlp_losses(start: dict[str, float], epochs: int) -> list[float]:
    """The library's own trainer on the Value engine: MLP, MSE (mean), plain SGD lr 0.3."""
    model = MLP(2, [5, 1])
    model.load_state_dict(start)
    history = train(model, XOR, SGD(model.parameters(), lr=0.3), epochs=epochs, loss="mse")
    return history.losses


def _value_mlp_loss_at(weights: manual.Weights) -> float:
    model = MLP(2, [5, 1])
    model.load_state_dict(weights.to_state_dict())
    rows = manual.X.tolist()
    squares = [(model(row)[0] - t) ** 2 for row, t in zip(rows, [0, 1, 1, 0], strict=True)]
    return ((squares[0] + squares[1] + squares[2] + squares[3]) / 4).data


@pytest.fixture(scope="module")
def curves(torch: ModuleType) -> dict[str, Any]:
    start = from_torch(learner_torch_model(seed=42)).state_dict()
    numpy_run = manual.train(
        "correct", epochs=EPOCHS, loss="mean", weights=manual.Weights.from_state_dict(start)
    )
    return {
        "torch64": _torch_training(torch, torch.float64, keep_weights=False),
        "torch32": _torch_training(torch, torch.float32, keep_weights=True),
        "numpy": np.array(numpy_run.losses),
        "value": np.array(_value_mlp_losses(start, EPOCHS)),
    }


# -- loss curves -----------------------------------------------------------------------------


@pytest.mark.parametrize("ours", ["numpy", "value"])
def test_loss_curve_matches_torch_float64_to_1e_12(curves: dict[str, Any], ours: str) -> None:
    reference = curves["torch64"]["losses"]
    assert len(curves[ours]) == len(reference) == EPOCHS
    worst = _relative(curves[ours], reference).max()
    assert worst <= 1e-12, f"{ours} vs torch float64: max relative error {worst:.3e}"


def test_the_curve_is_the_learners_pytorch_curve(curves: dict[str, Any]) -> None:
    # Not a flat line: it starts near 0.25 (every prediction near 0.5) and falls far below.
    losses = curves["torch64"]["losses"]
    assert 0.24 < losses[0] < 0.26
    assert losses[-1] < 0.05


def _torch64_loss_at(torch: ModuleType, weights: manual.Weights) -> float:
    mlp = MLP(2, [5, 1])
    mlp.load_state_dict(weights.to_state_dict())
    X = torch.tensor(manual.X, dtype=torch.float64)
    Y = torch.tensor(manual.Y, dtype=torch.float64)
    return float(torch.nn.functional.mse_loss(to_torch(mlp)(X), Y).item())


def test_at_float32s_weights_we_equal_torch_float64_to_1e_12(
    torch: ModuleType, curves: dict[str, Any]
) -> None:
    # So whatever separates us from float32 below is float32's arithmetic, not ours.
    for epoch in range(0, EPOCHS, 50):
        weights = _weights_from_parameters(curves["torch32"]["weights"][epoch])
        reference = _torch64_loss_at(torch, weights)
        numpy_loss = manual.backprop(weights, "correct", "mean").loss
        value_loss = _value_mlp_loss_at(weights)
        assert abs(numpy_loss - reference) <= 1e-12 * reference, epoch
        assert abs(value_loss - reference) <= 1e-12 * reference, epoch


def test_each_epoch_matches_torch_float32_as_closely_as_float32_allows(
    curves: dict[str, Any],
) -> None:
    """Per epoch, from float32's own weights: within 1e-6 while float32 can hold that.

    A float32 prediction carries a rounding of about eps32 = 2**-24 relative; in
    (y_hat - y)**2 near a target of 1 that error is magnified by y_hat / |y_hat - y|.
    So the loss float32 reports is uncertain by about eps32 * cond, with
    cond = sum 2 |y_hat - y| |y_hat| / sum (y_hat - y)**2: 1.2e-7 at the start,
    6e-7 by epoch 4500. Measured: the gap stays under 1e-6 until epoch 3358, its
    maximum is 1.76e-6 (epoch 4639) and never more than 4.3 * eps32 * cond; PyTorch
    float64 at the same weights shows the same gap.
    """
    torch32 = curves["torch32"]
    eps32 = 2.0**-24
    targets = manual.Y.ravel()
    for epoch, (flat, float32_loss) in enumerate(
        zip(torch32["weights"], torch32["losses"], strict=True)
    ):
        result = manual.backprop(_weights_from_parameters(flat), "correct", "mean")
        y_hat = result.predictions.ravel()
        cond = np.sum(2 * np.abs(y_hat - targets) * y_hat) / np.sum((y_hat - targets) ** 2)
        gap = abs(result.loss - float32_loss) / float32_loss
        assert gap <= max(1e-6, 10 * eps32 * cond), (epoch, gap, eps32 * cond)


@pytest.mark.parametrize("ours", ["numpy", "value"])
def test_loss_curve_matches_torch_float32_to_1e_6_absolute(
    curves: dict[str, Any], ours: str
) -> None:
    # The loss is a number near 0.25 falling to 0.007: float32 holds it to ~1e-8
    # absolute, so 1e-6 absolute at every epoch is what "matches float32" can promise.
    worst = np.abs(np.asarray(curves[ours]) - curves["torch32"]["losses"]).max()
    assert worst <= 1e-6, f"{ours} vs torch float32: max absolute difference {worst:.3e}"


@pytest.mark.parametrize("ours", ["numpy", "value"])
def test_free_running_curve_is_as_close_to_float32_as_torch_float64_is(
    curves: dict[str, Any], ours: str
) -> None:
    float32 = curves["torch32"]["losses"]
    our_gap = _relative(curves[ours], float32).max()
    torch_gap = _relative(curves["torch64"]["losses"], float32).max()
    # float32's accumulated rounding (measured 3.9e-6), not ours: the gaps are the same.
    assert our_gap <= 1e-5, f"{ours} vs torch float32: {our_gap:.3e}"
    assert abs(our_gap - torch_gap) <= 1e-3 * torch_gap


# -- gradients at the same weights -----------------------------------------------------------


def _torch_gradients(torch: ModuleType, weights: manual.Weights, loss: str) -> dict[str, float]:
    mlp = MLP(2, [5, 1], bias=weights.has_biases)
    mlp.load_state_dict(weights.to_state_dict())
    model = to_torch(mlp)
    X = torch.tensor(manual.X, dtype=torch.float64)
    Y = torch.tensor(manual.Y, dtype=torch.float64)
    squared = torch.nn.functional.mse_loss(model(X), Y, reduction="sum")
    value = {"sum": squared, "half_sum": 0.5 * squared, "mean": squared / 4}[loss]
    value.backward()
    # Parameter order: Linear weight (row j = neuron j), then its bias; layer by layer.
    grads = [g for p in model.parameters() for g in p.grad.reshape(-1).tolist()]
    names = []
    for i, linear in enumerate([model[0], model[2]]):
        names += [
            f"layers.{i}.neurons.{j}.weight.{k}"
            for j in range(linear.out_features)
            for k in range(linear.in_features)
        ]
        if weights.has_biases:
            names += [f"layers.{i}.neurons.{j}.bias" for j in range(linear.out_features)]
    assert set(names) == set(mlp.state_dict())
    return dict(zip(names, grads, strict=True))


@pytest.mark.parametrize("loss", manual.LOSSES)
@pytest.mark.parametrize("start", ["learner", "random_with_biases"])
def test_correct_gradients_equal_torch_float64_to_1e_12(
    torch: ModuleType, loss: str, start: str
) -> None:
    if start == "learner":
        weights = manual.learner_weights()
    else:
        rng = np.random.RandomState(7)
        weights = manual.Weights(
            rng.normal(0, 2, (2, 5)), rng.normal(0, 2, (5, 1)), rng.normal(0, 1, 5), [0.3]
        )
    ours = dict(
        zip(
            weights.to_state_dict(),
            manual.backprop(weights, "correct", loss).gradients().named().values(),
            strict=True,
        )
    )
    theirs = _torch_gradients(torch, weights, loss)
    for name, g in theirs.items():
        assert abs(ours[name] - g) <= 1e-12 * abs(g), (name, ours[name], g)


# -- to_torch / from_torch -------------------------------------------------------------------


def test_to_torch_computes_the_same_function(torch: ModuleType) -> None:
    mlp = MLP(2, [5, 3, 1], activation="tanh", seed=4)
    model = to_torch(mlp)
    assert model[0].weight.dtype == torch.float64
    assert [type(m).__name__ for m in model] == [
        "Linear", "Tanh", "Linear", "Tanh", "Linear", "Sigmoid"
    ]  # fmt: skip
    for row in [[0.0, 0.0], [0.3, -1.2], [1.0, 1.0]]:
        ours = mlp(row)[0].data
        theirs = model(torch.tensor([row], dtype=torch.float64)).item()
        assert ours == pytest.approx(theirs, rel=1e-14)


def test_round_trip_carries_every_weight_exactly(torch: ModuleType) -> None:
    for bias in (True, False):
        mlp = MLP(2, [5, 1], bias=bias, seed=9)
        assert from_torch(to_torch(mlp)).state_dict() == mlp.state_dict()
    model32 = to_torch(MLP(2, [5, 1], seed=9), dtype="float32")
    assert model32[0].weight.dtype == torch.float32
    assert to_torch(MLP(2, [5, 1]), dtype=torch.float32)[2].bias.dtype == torch.float32


def test_from_torch_reads_the_learners_model(torch: ModuleType) -> None:
    model = learner_torch_model(seed=42)
    mlp = from_torch(model)
    assert mlp.bias and mlp.activation == "sigmoid" and mlp.output_activation == "sigmoid"
    assert mlp.layers[0].neurons[3].w[1].data == model[0].weight[3, 1].item()
    X = torch.tensor(manual.X, dtype=torch.float32)
    theirs = model(X).detach().double().numpy().ravel()
    ours = [mlp(row)[0].data for row in manual.X.tolist()]
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)  # torch computed in float32


def test_from_torch_handles_identity_and_missing_activations(torch: ModuleType) -> None:
    nn = torch.nn
    mlp = from_torch(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.Identity()))
    assert (mlp.nin, mlp.sizes, mlp.activation, mlp.output_activation) == (
        3, [4, 2], "relu", "linear"
    )  # fmt: skip
    mlp = from_torch(nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1)))
    assert (mlp.activation, mlp.output_activation) == ("linear", "linear")


SUPPORTED = (
    "Supported: an nn.Sequential of Linear, Sigmoid, Tanh, ReLU, Identity, each Linear followed "
    "by at most one activation."
)


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.1), nn.Linear(3, 1)),
         ValueError, "from_torch: module 1 is Dropout(p=0.1, inplace=False), which an MLP "
                     f"cannot hold. {SUPPORTED}"),
        (lambda nn: nn.Sequential(nn.Sigmoid(), nn.Linear(2, 1)), ValueError,
         f"from_torch: module 0 is Sigmoid(), which an MLP cannot hold. {SUPPORTED}"),
        (lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Tanh(), nn.Linear(3, 1)),
         ValueError, f"from_torch: module 2 is Tanh(), which an MLP cannot hold. {SUPPORTED}"),
        (lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Linear(4, 1)), ValueError,
         "from_torch: module 1 (Linear(in_features=4, out_features=1, bias=True)) takes 4 "
         "inputs but the layer before gives 3."),
        (lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 3), nn.ReLU(),
                                  nn.Linear(3, 1)),
         ValueError, "from_torch: the hidden layers use different activations ['tanh', "
                     "'relu']; an MLP has one activation for all hidden layers."),
        (lambda nn: nn.Sequential(nn.Linear(2, 3, bias=False), nn.Linear(3, 1)),
         ValueError, "from_torch: some Linear layers have a bias and some do not ([False, "
                     "True]); an MLP has biases everywhere or nowhere."),
        (lambda nn: nn.Sequential(), ValueError, "from_torch: the Sequential has no Linear layer."),
        (lambda nn: nn.Linear(2, 1), TypeError,
         "from_torch expects a torch nn.Sequential, got Linear. Wrap the layers: "
         "nn.Sequential(nn.Linear(2, 5), nn.Sigmoid(), ...)."),
    ],
)  # fmt: skip
def test_from_torch_rejects_what_an_mlp_cannot_hold(
    torch: ModuleType, build: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as caught:
        from_torch(build(torch.nn))
    assert str(caught.value) == message


def test_to_torch_rejects_bad_input(torch: ModuleType) -> None:
    with pytest.raises(TypeError) as caught:
        to_torch("model")  # type: ignore[arg-type]
    assert str(caught.value) == "to_torch expects an MLP, got str."
    with pytest.raises(ValueError) as caught:
        to_torch(MLP(2, [1]), dtype="float128")
    assert str(caught.value) == (
        "dtype must be 'float64', 'float32' or a torch floating dtype, got 'float128'."
    )
    with pytest.raises(ValueError) as caught:
        to_torch(MLP(2, [1]), dtype=torch.int64)
    assert str(caught.value) == "dtype must be a floating point type, got torch.int64."


def test_missing_torch_gives_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    for call in (lambda: to_torch(MLP(2, [1])), lambda: from_torch(None), learner_torch_model):
        with pytest.raises(ModuleNotFoundError) as caught:
            call()
        assert str(caught.value) == (
            "PyTorch is needed to convert to or from torch modules, and it is not installed: "
            "run `pip install torch==2.13.0` (the version this project is tested with)."
        )


def test_the_learners_torch_model_is_their_seed_42_build(torch: ModuleType) -> None:
    """By default the learner's own code: torch.manual_seed(42), then the 2-5-1 Sequential."""
    torch.manual_seed(42)
    nn = torch.nn
    theirs = nn.Sequential(nn.Linear(2, 5), nn.Sigmoid(), nn.Linear(5, 1), nn.Sigmoid())
    ours = learner_torch_model()
    assert str(ours) == str(theirs)
    for mine, reference in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(mine, reference)


def test_seeds_up_to_64_bits_are_taken_and_larger_ones_refused_before_torch(
    torch: ModuleType,
) -> None:
    learner_torch_model(seed=2**64 - 1)  # the largest torch.manual_seed takes
    with pytest.raises(ValueError) as caught:
        learner_torch_model(seed=2**64)
    assert str(caught.value) == f"seed must be a whole number from 0 to {2**64 - 1}, got {2**64}."


def test_a_single_linear_layer_keeps_the_default_hidden_activation(torch: ModuleType) -> None:
    """With no hidden layer, the one activation is the output's; the hidden one stays sigmoid."""
    nn = torch.nn
    mlp = from_torch(nn.Sequential(nn.Linear(2, 1), nn.Tanh()))
    assert (mlp.activation, mlp.output_activation) == ("sigmoid", "tanh")
    assert repr(mlp) == repr(MLP(2, [1], output_activation="tanh"))
