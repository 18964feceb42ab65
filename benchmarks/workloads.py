"""What every engine computes: the data, the initial weights, and the training settings.

    xor     (a) the learner's 2-5-1 sigmoid MLP with biases on XOR's 4 rows, MSE (mean),
            SGD lr 0.3, 2000 full-batch epochs
    moons   (b) a 2-16-16-1 tanh MLP (tanh output too, targets +-1) on 100 two-moons
            points, MSE (mean), SGD lr 0.1, 50 full-batch epochs
    chain   (c) one scalar through n ops, y <- y * w then y <- tanh(y), alternating,
            forward + backward (d y / d x and d y / d w)
    memory  (d) bytes per node of a 100 000-node chain, measured with tracemalloc
    hessian (e) the Hessian of (a)'s loss in its 21 weights, at (a)'s initial weights
    jvp     (e) the derivative of (a)'s loss along DIRECTION, at the same weights

Every engine starts from the same weights: tinygrad_xor.nn.MLP's "torch" initialiser
(U(-1/sqrt(fan_in), 1/sqrt(fan_in))) with a fixed seed, handed over as plain floats.
XOR uses seed 3, whose loss falls from 0.257 to 0.155 in 2000 epochs (seed 0 stays on
the 0.25 plateau), so "every engine ends at the same loss" checks a real trajectory.
"""

from __future__ import annotations

import math
import random
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "bytes_per_node",
    "Network",
    "Workload",
    "xor",
    "moons",
    "two_moons",
    "CHAIN_SIZES",
    "CHAIN_START",
    "CHAIN_WEIGHT",
    "MEMORY_NODES",
    "WORKLOADS",
    "SECOND_ORDER_CALLS",
    "direction",
]


@dataclass(frozen=True)
class Network:
    """An MLP as plain numbers: layers[i][j] = (weights of neuron j of layer i, its bias)."""

    layers: list[list[tuple[list[float], float]]]
    activation: str  # of every layer, the output layer included

    @property
    def sizes(self) -> list[int]:
        return [len(layer) for layer in self.layers]

    def flat(self) -> list[float]:
        """Every parameter in tinygrad_xor's order: layer, neuron, weights then bias."""
        return [p for layer in self.layers for w, b in layer for p in (*w, b)]


@dataclass(frozen=True)
class Workload:
    """A full-batch training run: the same for every engine."""

    name: str
    inputs: list[tuple[float, float]]
    targets: list[float]
    network: Network
    lr: float
    epochs: int


def initial_network(sizes: list[int], activation: str, seed: int) -> Network:
    """The weights tinygrad_xor.nn.MLP(2, sizes, ...) draws with this seed."""
    from tinygrad_xor.nn import MLP

    model = MLP(2, sizes, activation=activation, output_activation=activation, seed=seed)
    layers = []
    for layer in model.layers:
        neurons = []
        for neuron in layer.neurons:
            if neuron.b is None:
                raise ValueError("the benchmark networks have biases")
            neurons.append(([w.data for w in neuron.w], neuron.b.data))
        layers.append(neurons)
    return Network(layers, activation)


def two_moons(
    n: int = 100, noise: float = 0.1, seed: int = 0
) -> tuple[list[tuple[float, float]], list[float]]:
    """n points on two interleaved half circles, +1 on the upper, -1 on the lower.

    As sklearn.datasets.make_moons: the upper moon is (cos t, sin t), the lower
    (1 - cos t, 0.5 - sin t), t evenly spaced over [0, pi], plus Gaussian noise.
    """
    rng = random.Random(seed)
    upper = n // 2
    lower = n - upper
    points: list[tuple[float, float]] = []
    labels: list[float] = []
    for count, label in ((upper, 1.0), (lower, -1.0)):
        for i in range(count):
            t = math.pi * i / (count - 1)
            if label > 0:
                x, y = math.cos(t), math.sin(t)
            else:
                x, y = 1.0 - math.cos(t), 0.5 - math.sin(t)
            points.append((x + rng.gauss(0.0, noise), y + rng.gauss(0.0, noise)))
            labels.append(label)
    return points, labels


def xor() -> Workload:
    return Workload(
        name="xor",
        inputs=[(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)],
        targets=[0.0, 1.0, 1.0, 0.0],
        network=initial_network([5, 1], "sigmoid", seed=3),
        lr=0.3,
        epochs=2000,
    )


def moons() -> Workload:
    points, labels = two_moons()
    return Workload(
        name="moons",
        inputs=points,
        targets=labels,
        network=initial_network([16, 16, 1], "tanh", seed=0),
        lr=0.1,
        epochs=50,
    )


WORKLOADS = {"xor": xor, "moons": moons}

# (c): y starts at CHAIN_START; each pair of ops is y <- tanh(y * CHAIN_WEIGHT).
CHAIN_SIZES = (1_000, 100_000, 1_000_000)
CHAIN_START = 0.5
CHAIN_WEIGHT = 1.5
# (d)
MEMORY_NODES = 100_000
# (e): calls per timed run, for each task
SECOND_ORDER_CALLS = {"hessian": 100, "jvp": 1000}


def direction(n: int) -> list[float]:
    """(e)'s tangent for jvp: sin(1), sin(2), ..., a direction no weight is special in."""
    return [math.sin(k + 1.0) for k in range(n)]


def bytes_per_node(build_chain: Callable[[], Any], ops: int) -> dict[str, Any]:
    """(d): what one engine's `ops`-op chain holds, per op, after forward and after backward.

    build_chain returns the chain's last node (any engine's: it needs .backward(), .data).
    """
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    y = build_chain()  # y holds the whole graph alive
    after_forward = tracemalloc.get_traced_memory()[0]
    y.backward()
    after_backward = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return {
        "forward_bytes_per_node": (after_forward - before) / ops,
        "backward_bytes_per_node": (after_backward - before) / ops,
        "value": y.data,
    }
