"""NumPy, backpropagation by hand, vectorised over the batch: no autograd at all.

Each layer is a weight matrix (fan_in x width) and a bias row; the forward pass keeps
every layer's activations, the backward pass applies the chain rule layer by layer:

    loss = mean((y - t)^2)          d loss / d y = 2 (y - t) / n
    a = f(z), z = h W + b           d z = d a * f'(z)    f' = a (1 - a) or 1 - a^2
                                    d W = h^T d z,  d b = sum of d z,  d h = d z W^T
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from benchmarks.workloads import Workload

__all__ = ["train"]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # Two forms so exp never overflows, as tinygrad_xor's engine.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def train(workload: Workload) -> dict[str, Any]:
    network = workload.network
    weights = [np.array([w for w, _ in layer], dtype=np.float64).T for layer in network.layers]
    biases = [np.array([b for _, b in layer], dtype=np.float64) for layer in network.layers]
    inputs = np.array(workload.inputs, dtype=np.float64)
    targets = np.array(workload.targets, dtype=np.float64).reshape(-1, 1)
    sigmoid = network.activation == "sigmoid"
    lr = workload.lr
    n = len(inputs)
    losses = []
    start = time.perf_counter()
    for _ in range(workload.epochs):
        activations = [inputs]
        for w, b in zip(weights, biases, strict=True):
            z = activations[-1] @ w + b
            activations.append(_sigmoid(z) if sigmoid else np.tanh(z))
        y = activations[-1]
        losses.append(float(np.mean((y - targets) ** 2)))
        grad_a = 2.0 * (y - targets) / n
        for i in range(len(weights) - 1, -1, -1):
            a = activations[i + 1]
            grad_z = grad_a * (a * (1.0 - a) if sigmoid else 1.0 - a * a)
            grad_a = grad_z @ weights[i].T
            weights[i] -= lr * (activations[i].T @ grad_z)
            biases[i] -= lr * grad_z.sum(axis=0)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "first_loss": losses[0], "final_loss": losses[-1]}
