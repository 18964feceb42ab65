"""tinygrad_xor, eager and compiled: the library as a learner uses it.

    eager          nn.MLP trained by train.train() with the library's own step
                   (autograd_step: build the graph, loss.backward()) and optim.SGD
    compiled       the same model's loss traced once by compile.trace; each epoch calls the
                   generated function and updates a list of floats (p - lr * g, as SGD)
    compiled-train train.train(..., make_step=compiled_step): `tinygrad-xor train --compile`

Times include tracing and compiling the tape (also reported on their own). For (e), the
loss as a function of the 21 weights (MLP.with_parameters), through derivatives.hessian
and derivatives.jvp.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.workloads import (
    CHAIN_START,
    CHAIN_WEIGHT,
    Workload,
    bytes_per_node,
    direction,
    xor,
)
from tinygrad_xor.compile import trace
from tinygrad_xor.data import Dataset
from tinygrad_xor.derivatives import hessian, jvp
from tinygrad_xor.engine import Value
from tinygrad_xor.losses import mse
from tinygrad_xor.nn import MLP
from tinygrad_xor.optim import SGD
from tinygrad_xor.train import compiled_step, train

__all__ = [
    "train_eager",
    "train_compiled",
    "train_compiled_via_train",
    "chain",
    "memory",
    "xor_hessian",
    "xor_jvp",
]


def _model(workload: Workload) -> MLP:
    network = workload.network
    model = MLP(
        2, network.sizes, activation=network.activation, output_activation=network.activation
    )
    names = [name for name, _ in model.named_parameters()]
    model.load_state_dict(dict(zip(names, network.flat(), strict=True)))
    return model


def _dataset(workload: Workload) -> Dataset:
    return Dataset(workload.name, tuple(workload.inputs), tuple(workload.targets))


def train_eager(workload: Workload) -> dict[str, Any]:
    model = _model(workload)
    dataset = _dataset(workload)
    optimizer = SGD(model.parameters(), lr=workload.lr)
    start = time.perf_counter()
    history = train(model, dataset, optimizer, epochs=workload.epochs, loss="mse")
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "first_loss": history.losses[0], "final_loss": history.losses[-1]}


def train_compiled_via_train(workload: Workload) -> dict[str, Any]:
    model = _model(workload)
    dataset = _dataset(workload)
    optimizer = SGD(model.parameters(), lr=workload.lr)
    start = time.perf_counter()
    history = train(
        model, dataset, optimizer, epochs=workload.epochs, loss="mse", make_step=compiled_step
    )
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "first_loss": history.losses[0], "final_loss": history.losses[-1]}


def train_compiled(workload: Workload) -> dict[str, Any]:
    model = _model(workload)
    samples = [list(x) for x in workload.inputs]
    targets = list(workload.targets)

    def loss() -> Value:
        return mse([model(x)[0] for x in samples], targets)

    start = time.perf_counter()
    tape = trace(loss, model.parameters(), name=f"{workload.name}_loss")
    compile_seconds = time.perf_counter() - start
    function = tape.function
    parameters = [p.data for p in model.parameters()]
    lr = workload.lr
    losses = []
    for _ in range(workload.epochs):
        value, grads, _ = function(parameters, ())
        losses.append(value)
        parameters = [p - lr * g for p, g in zip(parameters, grads, strict=True)]
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "compile_seconds": compile_seconds,
        "first_loss": losses[0],
        "final_loss": losses[-1],
        "source_bytes": len(tape.source.encode()),
        "source_lines": tape.source.count("\n"),
        "nodes": tape.node_count,
    }


def _chain(ops: int) -> tuple[Value, Value, Value]:
    x, w = Value(CHAIN_START), Value(CHAIN_WEIGHT)
    y = x
    for _ in range(ops // 2):
        y = (y * w).tanh()
    return x, w, y


def chain(ops: int) -> dict[str, Any]:
    start = time.perf_counter()
    x, w, y = _chain(ops)
    y.backward()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "value": y.data, "grad_x": x.grad, "grad_w": w.grad}


def memory(ops: int) -> dict[str, Any]:
    return bytes_per_node(lambda: _chain(ops)[2], ops)


def _xor_loss() -> tuple[Any, list[float]]:
    """(a)'s loss as a function of its 21 weights, and the initial weights."""
    workload = xor()
    model = _model(workload)
    samples = [list(x) for x in workload.inputs]
    targets = list(workload.targets)

    def loss(*weights: Value) -> Value:
        net = model.with_parameters(weights)
        return mse([net(x)[0] for x in samples], targets)

    return loss, [p.data for p in model.parameters()]


def xor_hessian(calls: int) -> dict[str, Any]:
    loss, weights = _xor_loss()
    matrix = hessian(loss)
    matrix(*weights)  # a first call, untimed, as for PyTorch
    start = time.perf_counter()
    for _ in range(calls):
        result = matrix(*weights)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "sum": sum(map(sum, result)), "last": result[-1][-1]}


def xor_jvp(calls: int) -> dict[str, Any]:
    loss, weights = _xor_loss()
    tangent = direction(len(weights))
    jvp(loss, weights, tangent)  # a first call, untimed, as for PyTorch
    start = time.perf_counter()
    for _ in range(calls):
        value, slope = jvp(loss, weights, tangent)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "value": value.data, "slope": slope.data}
