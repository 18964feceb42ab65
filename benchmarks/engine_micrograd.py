"""micrograd 0.1.0 (from PyPI), with sigmoid and tanh added the way its own ops are written.

micrograd's Value has + * ** relu; its nn.Neuron is relu or linear, draws its own
random weights, and starts its sum at the bias. The networks here are built in
micrograd.nn's style -- Module subclasses, `sum((wi*xi ...), self.b)`, a Layer of one
neuron returns that neuron's Value -- with the given weights and activation, so they
compute what the other engines compute (the sum in micrograd's order: bias first).

Its backward() sorts the graph with a recursive function, so a chain deeper than the
recursion limit (1000) raises RecursionError: `chain` reports that as its result;
`chain_raised_limit` raises the limit first to time the rest of the engine.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from micrograd.engine import Value
from micrograd.nn import Module

from benchmarks.workloads import CHAIN_START, CHAIN_WEIGHT, Workload, bytes_per_node

__all__ = ["train", "chain", "chain_raised_limit", "memory"]


def sigmoid(self: Value) -> Value:
    x = self.data
    # Two forms so exp never overflows, as tinygrad_xor's engine.
    if x >= 0:
        s = 1.0 / (1.0 + math.exp(-x))
    else:
        e = math.exp(x)
        s = e / (1.0 + e)
    out = Value(s, (self,), "sigmoid")

    def _backward() -> None:
        self.grad += s * (1 - s) * out.grad

    out._backward = _backward
    return out


def tanh(self: Value) -> Value:
    t = math.tanh(self.data)
    out = Value(t, (self,), "tanh")

    def _backward() -> None:
        self.grad += (1 - t * t) * out.grad

    out._backward = _backward
    return out


ACTIVATIONS: dict[str, Callable[[Value], Value]] = {"sigmoid": sigmoid, "tanh": tanh}


class Neuron(Module):
    def __init__(self, weights: Sequence[float], bias: float, activation: str) -> None:
        self.w = [Value(w) for w in weights]
        self.b = Value(bias)
        self.activation = ACTIVATIONS[activation]

    def __call__(self, x: Sequence[Any]) -> Value:
        act = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        return self.activation(act)

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]


class Layer(Module):
    def __init__(self, neurons: list[Neuron]) -> None:
        self.neurons = neurons

    def __call__(self, x: Sequence[Any]) -> Any:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]


class MLP(Module):
    def __init__(self, layers: list[Layer]) -> None:
        self.layers = layers

    def __call__(self, x: Sequence[Any]) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]


def _model(workload: Workload) -> MLP:
    network = workload.network
    return MLP(
        [Layer([Neuron(w, b, network.activation) for w, b in layer]) for layer in network.layers]
    )


def train(workload: Workload) -> dict[str, Any]:
    model = _model(workload)
    samples = [list(x) for x in workload.inputs]
    targets = workload.targets
    lr = workload.lr
    scale = 1.0 / len(samples)
    losses = []
    start = time.perf_counter()
    for _ in range(workload.epochs):
        outputs = [model(x) for x in samples]
        loss = sum((out - y) ** 2 for out, y in zip(outputs, targets, strict=True)) * scale
        model.zero_grad()
        loss.backward()
        losses.append(loss.data)
        for p in model.parameters():
            p.data -= lr * p.grad
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "first_loss": losses[0], "final_loss": losses[-1]}


def _chain(ops: int) -> tuple[Value, Value, Value]:
    x, w = Value(CHAIN_START), Value(CHAIN_WEIGHT)
    y = x
    for _ in range(ops // 2):
        y = tanh(y * w)
    return x, w, y


def chain(ops: int) -> dict[str, Any]:
    start = time.perf_counter()
    x, w, y = _chain(ops)
    try:
        y.backward()
    except RecursionError as error:
        return {"error": f"RecursionError ({error}) at the default limit {sys.getrecursionlimit()}"}
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "value": y.data, "grad_x": x.grad, "grad_w": w.grad}


def chain_raised_limit(ops: int) -> dict[str, Any]:
    # Deep enough for build_topo's recursion (one frame per node, plus some to spare).
    sys.setrecursionlimit(ops + 10_000)
    return chain(ops)


def memory(ops: int) -> dict[str, Any]:
    sys.setrecursionlimit(ops + 10_000)
    return bytes_per_node(lambda: _chain(ops)[2], ops)
