"""PyTorch eager on the CPU, float64, one thread: the loop a PyTorch user writes.

nn.Sequential of nn.Linear and the activation, nn.MSELoss(), optim.SGD; the whole
batch as one tensor. torch.set_num_threads(1) and set_num_interop_threads(1), so it
uses the one core every other engine here uses.
"""

from __future__ import annotations

import time
from typing import Any

import torch
from torch import nn

from benchmarks.workloads import CHAIN_START, CHAIN_WEIGHT, Workload

__all__ = ["train", "chain"]

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
