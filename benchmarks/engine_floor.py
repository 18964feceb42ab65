"""The floor: the 2-5-1 network's forward and backward written out by hand in plain floats.

No objects, no graph, no tensors: the arithmetic a Python scalar engine cannot avoid,
written the way a person derives it (a loop over the 4 samples and the 5 hidden units):

    h_j = sigmoid(w1_j . x + b1_j)      y = sigmoid(w2 . h + b2)      loss = mean (y - t)^2
    dz   = (2/n) (y - t) y (1 - y)       d b2 += dz     d w2_j += dz h_j
    dh_j = dz w2_j h_j (1 - h_j)         d b1_j += dh_j  d w1_j += dh_j x

Only the XOR network (a): the moons network would need the general loops an engine has.
"""

from __future__ import annotations

import math
import time
from typing import Any

from benchmarks.workloads import Workload

__all__ = ["train"]


def train(workload: Workload) -> dict[str, Any]:
    hidden_layer, output_layer = workload.network.layers
    if workload.network.activation != "sigmoid" or len(output_layer) != 1:
        raise ValueError("the hand-written floor is the 2-H-1 sigmoid network only")
    w1 = [list(w) for w, _ in hidden_layer]  # w1[j] = (weight of x1, weight of x2)
    b1 = [b for _, b in hidden_layer]
    w2 = list(output_layer[0][0])
    b2 = output_layer[0][1]
    samples = workload.inputs
    targets = workload.targets
    units = range(len(b1))
    lr = workload.lr
    n = len(samples)
    scale = 2.0 / n
    exp = math.exp
    losses = []
    start = time.perf_counter()
    for _ in range(workload.epochs):
        g_w1 = [[0.0, 0.0] for _ in units]
        g_b1 = [0.0 for _ in units]
        g_w2 = [0.0 for _ in units]
        g_b2 = 0.0
        total = 0.0
        for (x1, x2), t in zip(samples, targets, strict=True):
            h = [1.0 / (1.0 + exp(-(w1[j][0] * x1 + w1[j][1] * x2 + b1[j]))) for j in units]
            z = b2
            for j in units:
                z += w2[j] * h[j]
            y = 1.0 / (1.0 + exp(-z))
            error = y - t
            total += error * error
            dz = scale * error * y * (1.0 - y)
            g_b2 += dz
            for j in units:
                g_w2[j] += dz * h[j]
                dh = dz * w2[j] * h[j] * (1.0 - h[j])
                g_w1[j][0] += dh * x1
                g_w1[j][1] += dh * x2
                g_b1[j] += dh
        losses.append(total / n)
        for j in units:
            w1[j][0] -= lr * g_w1[j][0]
            w1[j][1] -= lr * g_w1[j][1]
            b1[j] -= lr * g_b1[j]
            w2[j] -= lr * g_w2[j]
        b2 -= lr * g_b2
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "first_loss": losses[0], "final_loss": losses[-1]}
