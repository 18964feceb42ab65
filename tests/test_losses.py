"""Losses: values and gradients against closed forms and PyTorch; BCE finite at 0 and 1."""

from __future__ import annotations

import math

import pytest
from refusals import Refusal, assert_refused, each_refusal

from tinygrad_xor.engine import Value
from tinygrad_xor.losses import LOSSES, bce, get_loss, mse

PREDICTIONS = [0.1, 0.7, 0.45, 0.95]
TARGETS = [0.0, 1.0, 1.0, 0.0]


def leaves(numbers: list[float]) -> list[Value]:
    return [Value(x) for x in numbers]


# d loss / d p_i, derived by hand for each reduction (n = 4 samples)
def mse_grad(p: float, y: float, reduction: str, n: int) -> float:
    return {"mean": 2.0 * (p - y) / n, "sum": 2.0 * (p - y), "half_sum": p - y}[reduction]


@pytest.mark.parametrize("reduction", ["mean", "sum", "half_sum"])
def test_mse_value_and_gradient_match_the_closed_form(reduction: str) -> None:
    ps = leaves(PREDICTIONS)
    loss = mse(ps, TARGETS, reduction)
    squares = sum((p - y) ** 2 for p, y in zip(PREDICTIONS, TARGETS, strict=True))
    expected = {"mean": squares / 4, "sum": squares, "half_sum": 0.5 * squares}[reduction]
    assert loss.data == pytest.approx(expected, rel=1e-15)
    loss.backward()
    for p, x, y in zip(ps, PREDICTIONS, TARGETS, strict=True):
        assert p.grad == pytest.approx(mse_grad(x, y, reduction, 4), rel=1e-15)


def test_bce_value_and_gradient_match_the_closed_form() -> None:
    ps = leaves(PREDICTIONS)
    loss = bce(ps, TARGETS)
    expected = -sum(
        y * math.log(p) + (1 - y) * math.log(1 - p)
        for p, y in zip(PREDICTIONS, TARGETS, strict=True)
    )
    assert loss.data == pytest.approx(expected / 4, rel=1e-15)
    loss.backward()
    for p, x, y in zip(ps, PREDICTIONS, TARGETS, strict=True):
        # d/dp of -(y log p + (1-y) log(1-p)), over n = 4
        assert p.grad == pytest.approx((-y / x + (1 - y) / (1 - x)) / 4, rel=1e-14)


def test_bce_with_soft_targets() -> None:
    p = Value(0.3)
    loss = bce([p], [0.25], reduction="sum")
    assert loss.data == pytest.approx(-(0.25 * math.log(0.3) + 0.75 * math.log(0.7)), rel=1e-15)
    loss.backward()
    assert p.grad == pytest.approx(-0.25 / 0.3 + 0.75 / 0.7, rel=1e-14)


@pytest.mark.parametrize(("p", "y"), [(0.0, 1.0), (1.0, 0.0), (0.0, 0.0), (1.0, 1.0)])
def test_bce_stays_finite_for_outputs_at_0_and_1(p: float, y: float) -> None:
    prediction = Value(p)
    loss = bce([prediction], [y])
    loss.backward()
    assert math.isfinite(loss.data)
    assert math.isfinite(prediction.grad)
    # PyTorch's BCELoss floors each log at -100: a confident wrong answer costs 100
    assert loss.data == (100.0 if p != y else 0.0)


def test_bce_behind_a_saturated_sigmoid_is_finite_with_zero_gradient() -> None:
    z = Value(800.0)  # sigmoid(800) is exactly 1.0 in float64
    loss = bce([z.sigmoid()], [0.0])
    loss.backward()
    assert loss.data == 100.0
    assert z.grad == 0.0


def test_losses_match_pytorch_float64() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is the reference for the losses")
    for name, torch_loss in [
        ("mse", torch.nn.MSELoss()),
        ("mse_sum", torch.nn.MSELoss(reduction="sum")),
        ("bce", torch.nn.BCELoss()),
    ]:
        ps = leaves(PREDICTIONS)
        loss = get_loss(name)(ps, TARGETS)
        loss.backward()
        tp = torch.tensor(PREDICTIONS, dtype=torch.float64, requires_grad=True)
        tloss = torch_loss(tp, torch.tensor(TARGETS, dtype=torch.float64))
        tloss.backward()
        assert loss.data == pytest.approx(tloss.item(), rel=1e-15), name
        for ours, theirs in zip(ps, tp.grad.tolist(), strict=True):
            assert ours.grad == pytest.approx(theirs, rel=1e-14), name
    # and at the clamp: PyTorch's loss for p = 0, y = 1 is also 100
    t_edge = torch.nn.BCELoss()(
        torch.tensor([0.0], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64)
    )
    assert bce([Value(0.0)], [1.0]).data == t_edge.item()


def test_named_losses() -> None:
    assert set(LOSSES) == {"mse", "mse_sum", "mse_half_sum", "bce"}
    ps = leaves(PREDICTIONS)
    assert get_loss("mse_half_sum")(ps, TARGETS).data == mse(ps, TARGETS, "half_sum").data


# Each bad input: its exception type and its whole message, which names the loss refusing it.
REFUSALS: list[Refusal] = [
    (
        lambda: get_loss("l1"),
        ValueError,
        "unknown loss 'l1'; choose one of: mse, mse_sum, mse_half_sum, bce.",
    ),
    (
        lambda: mse(leaves([0.1, 0.2]), [0.0, 1.0, 1.0]),
        ValueError,
        "mse: got 2 predictions but 3 targets; pass one target per prediction.",
    ),
    (
        lambda: bce(leaves([0.1]), [0.0, 1.0]),
        ValueError,
        "bce: got 1 predictions but 2 targets; pass one target per prediction.",
    ),
    (lambda: mse([], []), ValueError, "mse: got no predictions; pass at least one."),
    (lambda: bce([], []), ValueError, "bce: got no predictions; pass at least one."),
    (
        lambda: mse(leaves([0.1]), [0.0], "max"),
        ValueError,
        "unknown reduction 'max'; choose one of: mean, sum, half_sum.",
    ),
    # bce has no half_sum: its list of reductions is its own
    (
        lambda: bce(leaves([0.1]), [0.0], "half_sum"),
        ValueError,
        "unknown reduction 'half_sum'; choose one of: mean, sum.",
    ),
    (
        lambda: mse(leaves([0.1]), [0.0], 3),  # type: ignore[arg-type]
        TypeError,
        "reduction must be one of: mean, sum, half_sum; got int 3.",
    ),
    (
        lambda: mse([0.1], [0.0]),  # type: ignore[list-item]
        TypeError,
        "mse: predictions must be Values (the network's outputs), got float 0.1.",
    ),
    (
        lambda: bce([Value(0.5), 0.5], [0.0, 1.0]),  # type: ignore[list-item]
        TypeError,
        "bce: predictions must be Values (the network's outputs), got float 0.5.",
    ),
    (
        lambda: bce(leaves([0.1]), ["0"]),  # type: ignore[list-item]
        TypeError,
        "bce: every target must be a number, got str '0'.",
    ),
    (
        lambda: mse(leaves([0.1]), ["0"]),  # type: ignore[list-item]
        TypeError,
        "mse: every target must be a number, got str '0'.",
    ),
    (
        lambda: bce(leaves([1.5]), [1.0]),
        ValueError,
        "bce: predictions must be probabilities in [0, 1], got 1.5. "
        "Use a sigmoid output activation, or the mse loss.",
    ),
    # the first prediction outside [0, 1] is shown
    (
        lambda: bce(leaves([0.5, -0.25]), [1.0, 0.0]),
        ValueError,
        "bce: predictions must be probabilities in [0, 1], got -0.25. "
        "Use a sigmoid output activation, or the mse loss.",
    ),
]


@each_refusal(REFUSALS)
def test_each_refusal_has_its_exception_type_and_says_its_whole_message(refusal: Refusal) -> None:
    assert_refused(*refusal)


def test_a_nan_prediction_gives_a_nan_loss_not_an_error() -> None:
    """A diverged network's nan output reaches the loss, where training sees it."""
    assert math.isnan(bce(leaves([math.nan]), [1.0]).data)
    assert math.isnan(bce(leaves([0.5, math.nan]), [1.0, 0.0], reduction="sum").data)


def test_bce_with_0_and_1_targets_takes_one_log_per_sample() -> None:
    """The graph a learner draws holds log p for y = 1 and log(1 - p) for y = 0, nothing more."""
    from tinygrad_xor.engine import topological_order

    loss = bce(leaves(PREDICTIONS), TARGETS)
    assert [v.op for v in topological_order(loss)].count("log") == len(PREDICTIONS)


def test_bce_floors_a_log_below_minus_100_as_pytorch() -> None:
    p = Value(1e-50)  # log p is about -115
    loss = bce([p], [1.0])
    loss.backward()
    assert (loss.data, p.grad) == (100.0, 0.0)
    q = Value(1e-40)  # log q is about -92: above the floor, kept
    assert bce([q], [1.0]).data == pytest.approx(-math.log(1e-40), rel=1e-15)


def test_a_log_exactly_at_the_floor_is_kept_with_its_gradient() -> None:
    """Only a log *below* -100 becomes a constant: exactly -100 still passes its slope back."""
    p = Value(math.exp(-100))
    assert math.log(p.data) == -100.0  # exactly at the floor
    loss = bce([p], [1.0])
    loss.backward()
    assert loss.data == 100.0
    assert p.grad == -1.0 / p.data  # d(-log p)/dp, not 0
