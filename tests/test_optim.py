"""SGD: one step equals the hand-derived update, with and without momentum, as PyTorch."""

from __future__ import annotations

from fractions import Fraction
from functools import partial

import numpy as np
import pytest
from refusals import Refusal, assert_refused, each_refusal

from tinygrad_xor.data import XOR
from tinygrad_xor.engine import Value
from tinygrad_xor.losses import mse
from tinygrad_xor.nn import MLP
from tinygrad_xor.optim import SGD


def params_with_grads(values: list[float], grads: list[float]) -> list[Value]:
    params = [Value(v) for v in values]
    for p, g in zip(params, grads, strict=True):
        p.grad = g
    return params


def test_one_step_without_momentum() -> None:
    params = params_with_grads([1.0, -2.0, 0.5], [0.25, -1.5, 0.0])
    SGD(params, lr=0.3).step()
    assert [p.data for p in params] == [1.0 - 0.3 * 0.25, -2.0 - 0.3 * -1.5, 0.5]


def test_steps_with_momentum_follow_pytorch_formula() -> None:
    # torch.optim.SGD: buf = grad on the first step, then buf = momentum * buf + grad;
    # p = p - lr * buf
    lr, momentum = 0.1, 0.9
    p = Value(1.0)
    optimizer = SGD([p], lr=lr, momentum=momentum)
    p.grad = 0.5
    optimizer.step()
    assert p.data == 1.0 - lr * 0.5
    p.grad = -2.0
    optimizer.step()
    velocity = momentum * 0.5 + -2.0
    assert p.data == (1.0 - lr * 0.5) - lr * velocity
    p.grad = 0.0  # no gradient: the velocity still carries the parameter on
    optimizer.step()
    assert p.data == ((1.0 - lr * 0.5) - lr * velocity) - lr * (momentum * velocity)


def test_matches_torch_sgd() -> None:
    torch = pytest.importorskip("torch", reason="torch.optim.SGD is the reference")
    rng = np.random.default_rng(0)
    start = rng.normal(size=6)
    grads = rng.normal(size=(5, 6))
    for momentum in (0.0, 0.9):
        ours = [Value(float(v)) for v in start]
        optimizer = SGD(ours, lr=0.3, momentum=momentum)
        theirs = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        torch_optimizer = torch.optim.SGD([theirs], lr=0.3, momentum=momentum)
        for g in grads:
            for p, gi in zip(ours, g, strict=True):
                p.grad = float(gi)
            optimizer.step()
            theirs.grad = torch.tensor(g, dtype=torch.float64)
            torch_optimizer.step()
        # Not bitwise: PyTorch's CPU kernel may fuse p + (-lr) * grad into one FMA.
        np.testing.assert_allclose(
            [p.data for p in ours], theirs.detach().tolist(), rtol=1e-14, atol=0.0
        )


def numpy_gradients(
    w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Backprop for 2-5-1 sigmoid, MSE mean over the 4 XOR rows, derived by hand."""
    x = np.array(XOR.inputs)  # (4, 2)
    y = np.array(XOR.targets).reshape(4, 1)
    h = 1.0 / (1.0 + np.exp(-(x @ w1.T + b1)))  # (4, 5)
    out = 1.0 / (1.0 + np.exp(-(h @ w2.T + b2)))  # (4, 1)
    d_out = 2.0 * (out - y) / 4  # d mean((out - y)^2) / d out
    d_z2 = d_out * out * (1.0 - out)  # sigmoid' = s (1 - s)
    d_w2 = d_z2.T @ h  # (1, 5)
    d_b2 = d_z2.sum(axis=0)
    d_z1 = (d_z2 @ w2) * h * (1.0 - h)  # (4, 5)
    d_w1 = d_z1.T @ x  # (5, 2)
    d_b1 = d_z1.sum(axis=0)
    return d_w1, d_b1, d_w2, d_b2


def network_arrays(model: MLP) -> tuple[np.ndarray, ...]:
    hidden, output = model.layers
    w1 = np.array([[w.data for w in n.w] for n in hidden.neurons])
    b1 = np.array([n.b.data for n in hidden.neurons if n.b is not None])
    w2 = np.array([[w.data for w in n.w] for n in output.neurons])
    b2 = np.array([n.b.data for n in output.neurons if n.b is not None])
    return w1, b1, w2, b2


def sgd_epoch(model: MLP, optimizer: SGD) -> None:
    optimizer.zero_grad()
    loss = mse([model(list(x))[0] for x in XOR.inputs], list(XOR.targets))
    loss.backward()
    optimizer.step()


def test_one_network_step_equals_the_hand_derived_update() -> None:
    model = MLP(2, [5, 1], seed=0)
    before = network_arrays(model)
    sgd_epoch(model, SGD(model.parameters(), lr=0.3))
    expected = [w - 0.3 * g for w, g in zip(before, numpy_gradients(*before), strict=True)]
    for got, want in zip(network_arrays(model), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_two_network_steps_with_momentum_equal_the_hand_derived_update() -> None:
    model = MLP(2, [5, 1], seed=1)
    optimizer = SGD(model.parameters(), lr=0.3, momentum=0.9)
    start = network_arrays(model)
    sgd_epoch(model, optimizer)
    first_grads = numpy_gradients(*start)
    after_one = [w - 0.3 * g for w, g in zip(start, first_grads, strict=True)]
    sgd_epoch(model, optimizer)
    second_grads = numpy_gradients(*after_one)
    velocities = [0.9 * g1 + g2 for g1, g2 in zip(first_grads, second_grads, strict=True)]
    expected = [w - 0.3 * v for w, v in zip(after_one, velocities, strict=True)]
    for got, want in zip(network_arrays(model), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_zero_grad_clears_the_parameters() -> None:
    params = params_with_grads([1.0, 2.0], [3.0, 4.0])
    SGD(params, lr=0.1).zero_grad()
    assert [p.grad for p in params] == [0.0, 0.0]


def test_params_must_be_values() -> None:
    with pytest.raises(TypeError) as caught:
        SGD([1.0], lr=0.1)  # type: ignore[list-item]
    assert str(caught.value) == (
        "SGD: params must be Values (e.g. model.parameters()), got float 1.0."
    )


@pytest.mark.parametrize(
    ("kwargs", "lr", "momentum"),
    [
        ({"lr": np.float32(0.25)}, 0.25, 0.0),
        ({"lr": np.float64(0.3), "momentum": np.float32(0.5)}, 0.3, 0.5),
        ({"lr": np.int64(1), "momentum": np.int64(0)}, 1.0, 0.0),
        ({"lr": Fraction(1, 4), "momentum": Fraction(9, 10)}, 0.25, 0.9),
        ({"lr": 2}, 2.0, 0.0),
    ],
)
def test_any_real_number_is_a_learning_rate_and_a_momentum(
    kwargs: dict[str, object], lr: float, momentum: float
) -> None:
    optimizer = SGD([Value(1.0)], **kwargs)  # type: ignore[arg-type]
    assert (optimizer.lr, optimizer.momentum) == (lr, momentum)
    assert type(optimizer.lr) is float and type(optimizer.momentum) is float


LR = "SGD: lr must be a finite number > 0, got"
MOMENTUM = "SGD: momentum must be in [0, 1), got"
TOO_LARGE = "a whole number of about 10**400, too large for a float."

# Each bad learning rate or momentum: its exception type and its whole message, which says
# which setting (SGD's lr or momentum), what is allowed and what was received.
REFUSALS: list[Refusal] = [
    (lambda: SGD([Value(1.0)], lr=0.0), ValueError, f"{LR} 0.0."),
    (lambda: SGD([Value(1.0)], lr=-0.1), ValueError, f"{LR} -0.1."),
    (lambda: SGD([Value(1.0)], lr=float("nan")), ValueError, f"{LR} nan."),
    (lambda: SGD([Value(1.0)], lr=0.1, momentum=-0.5), ValueError, f"{MOMENTUM} -0.5."),
    # momentum 1 never forgets a gradient
    (lambda: SGD([Value(1.0)], lr=0.1, momentum=1.0), ValueError, f"{MOMENTUM} 1.0."),
    (lambda: SGD([Value(1.0)], lr=True), TypeError, f"{LR} bool True."),
    (lambda: SGD([Value(1.0)], lr="0.3"), TypeError, f"{LR} str '0.3'."),  # type: ignore[arg-type]
    (
        lambda: SGD([Value(1.0)], lr=np.float32("inf")),  # type: ignore[arg-type]
        ValueError,
        f"{LR} {np.float32('inf')!r}.",
    ),
    (lambda: SGD([Value(1.0)], lr=10**400), ValueError, f"{LR} {TOO_LARGE}"),
    (
        lambda: SGD([Value(1.0)], lr=-(10**400)),
        ValueError,
        f"{LR} a whole number of about -10**400, too large for a float.",
    ),
    (lambda: SGD([Value(1.0)], lr=0.1, momentum=10**400), ValueError, f"{MOMENTUM} {TOO_LARGE}"),
    (
        lambda: SGD([Value(1.0)], lr=0.1, momentum=np.float32(1.0)),  # type: ignore[arg-type]
        ValueError,
        f"{MOMENTUM} {np.float32(1.0)!r}.",
    ),
    (
        lambda: SGD([Value(1.0)], lr=0.1, momentum=None),  # type: ignore[arg-type]
        TypeError,
        f"{MOMENTUM} NoneType None.",
    ),
]


@each_refusal(REFUSALS)
def test_each_refusal_has_its_exception_type_and_says_its_whole_message(refusal: Refusal) -> None:
    assert_refused(*refusal)


def test_passing_the_model_instead_of_its_parameters() -> None:
    model = MLP(2, [5, 1])
    for given, said in ((model, "an MLP"), (model.layers[0], "a Layer")):
        with pytest.raises(TypeError) as caught:
            SGD(given, lr=0.3)  # type: ignore[arg-type]
        assert str(caught.value) == (
            f"SGD takes model.parameters(), got {said}: write SGD(model.parameters(), lr=...)."
        )


class XY:
    """Not iterable, named by an acronym whose first letter is read "ex"."""


@pytest.mark.parametrize(
    ("params", "said"),
    [(3, "an int"), (2.5, "a float"), (XY(), "an XY"), (Value(1.0), "a Value")],
)
def test_something_not_iterable_as_params_is_named_with_its_article(
    params: object, said: str
) -> None:
    with pytest.raises(TypeError) as caught:
        SGD(params, lr=0.3)  # type: ignore[arg-type]
    assert str(caught.value) == (
        f"SGD takes model.parameters(), got {said}: write SGD(model.parameters(), lr=...)."
    )


@pytest.mark.parametrize("letter", "FHLMNRSX")
def test_every_acronym_whose_first_letter_sounds_like_a_vowel_takes_an(letter: str) -> None:
    """F, H, L, M, N, R, S and X are read "ef", "aitch", "el", ... : an FFT, but a BFS."""
    for name, article in [(f"{letter}FT", "an"), (f"B{letter}T", "a"), (f"{letter}ft", "a")]:
        assert_refused(
            partial(SGD, type(name, (), {})(), lr=0.3),  # binds this iteration's class
            TypeError,
            f"SGD takes model.parameters(), got {article} {name}: write SGD(model.parameters(), "
            "lr=...).",
        )


def test_repr_shows_the_parameter_count_and_the_settings() -> None:
    assert repr(SGD([Value(1.0), Value(2.0), Value(3.0)], lr=0.1, momentum=0.9)) == (
        "SGD(3 params, lr=0.1, momentum=0.9)"
    )
    assert repr(SGD([], lr=2)) == "SGD(0 params, lr=2.0, momentum=0.0)"


def test_a_small_momentum_is_still_momentum() -> None:
    params = params_with_grads([1.0], [0.5])
    optimizer = SGD(params, lr=0.1, momentum=0.25)
    optimizer.step()  # velocity 0.5
    optimizer.step()  # velocity 0.25 * 0.5 + 0.5 = 0.625
    assert params[0].data == pytest.approx(1.0 - 0.1 * 0.5 - 0.1 * 0.625, rel=1e-15)
