"""PyTorch eager on the CPU, float64, one thread: the loop a PyTorch user writes.

nn.Sequential of nn.Linear and the activation, nn.MSELoss(), optim.SGD; the whole
batch as one tensor. torch.set_num_threads(1) and set_num_interop_threads(1), so it
uses the one core every other engine here uses. For (e), (a)'s loss as a function of one
vector of the 21 weights (in tinygrad_xor's order), through
torch.autograd.functional.hessian and torch.func.jvp.
"""

from __future__ import annotations

import time
from typing import Any

import torch
from torch import nn

from benchmarks.workloads import CHAIN_START, CHAIN_WEIGHT, Workload, direction, xor

__all__ = ["train", "chain", "xor_hessian", "xor_jvp"]

torch.set_num_threads(1)
torch.set_num_interop_threads(1)
DTYPE = torch.float64


def _model(workload: Workload) -> nn.Sequential:
    activations = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
    network = workload.network
    modules: list[nn.Module] = []
    fan_in = 2
    for layer in network.layers:
        linear = nn.Linear(fan_in, len(layer), dtype=DTYPE)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([w for w, _ in layer], dtype=DTYPE))
            linear.bias.copy_(torch.tensor([b for _, b in layer], dtype=DTYPE))
        modules += [linear, activations[network.activation]()]
        fan_in = len(layer)
    return nn.Sequential(*modules)


def train(workload: Workload) -> dict[str, Any]:
    model = _model(workload)
    inputs = torch.tensor(workload.inputs, dtype=DTYPE)
    targets = torch.tensor(workload.targets, dtype=DTYPE).reshape(-1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=workload.lr)
    criterion = nn.MSELoss()
    losses = []
    start = time.perf_counter()
    for _ in range(workload.epochs):
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "first_loss": losses[0], "final_loss": losses[-1]}


def chain(ops: int) -> dict[str, Any]:
    start = time.perf_counter()
    x = torch.tensor(CHAIN_START, dtype=DTYPE, requires_grad=True)
    w = torch.tensor(CHAIN_WEIGHT, dtype=DTYPE, requires_grad=True)
    y = x
    for _ in range(ops // 2):
        y = torch.tanh(y * w)
    y.backward()
    seconds = time.perf_counter() - start
    assert x.grad is not None and w.grad is not None
    return {
        "seconds": seconds,
        "value": y.item(),
        "grad_x": x.grad.item(),
        "grad_w": w.grad.item(),
    }


def _xor_loss() -> tuple[Any, Any]:
    """(a)'s loss as a function of a vector of its weights (each neuron's weights, then its
    bias, layer by layer, as tinygrad_xor lists them), and the initial weights."""
    workload = xor()
    network = workload.network
    inputs = torch.tensor(workload.inputs, dtype=DTYPE)
    targets = torch.tensor(workload.targets, dtype=DTYPE)
    activation = {"sigmoid": torch.sigmoid, "tanh": torch.tanh}[network.activation]
    shapes = []
    fan_in = 2
    for layer in network.layers:
        shapes.append((len(layer), fan_in))
        fan_in = len(layer)

    def loss(weights: Any) -> Any:
        out, start = inputs, 0
        for width, fan_in in shapes:
            block = weights[start : start + width * (fan_in + 1)].reshape(width, fan_in + 1)
            out = activation(out @ block[:, :fan_in].T + block[:, fan_in])
            start += width * (fan_in + 1)
        return ((out.reshape(-1) - targets) ** 2).mean()

    return loss, torch.tensor(network.flat(), dtype=DTYPE)


def xor_hessian(calls: int) -> dict[str, Any]:
    loss, weights = _xor_loss()
    torch.autograd.functional.hessian(loss, weights)  # a first call, untimed: set-up
    start = time.perf_counter()
    for _ in range(calls):
        result = torch.autograd.functional.hessian(loss, weights)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "sum": result.sum().item(), "last": result[-1, -1].item()}


def xor_jvp(calls: int) -> dict[str, Any]:
    loss, weights = _xor_loss()
    tangent = torch.tensor(direction(len(weights)), dtype=DTYPE)
    torch.func.jvp(loss, (weights,), (tangent,))  # a first call, untimed: 3 s of set-up
    start = time.perf_counter()
    for _ in range(calls):
        value, slope = torch.func.jvp(loss, (weights,), (tangent,))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "value": value.item(), "slope": slope.item()}
