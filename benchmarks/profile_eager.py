"""Where eager tinygrad_xor spends its time: a phase-by-phase breakdown, beside micrograd.

    python -m benchmarks.profile_eager

1. One XOR epoch (workload a), split into phases, timed over 2000 epochs in each engine:
   building the graph (the 4 forward passes and the loss), sorting it topologically,
   the backward pass proper (the chain rule over the sorted nodes), and the SGD update.
2. The chain of workload (c) at each size, forward and backward per op, with Python's
   cyclic garbage collector on (as users run) and off: the difference is the collector.

Timers wrap whole phases, never single ops, so they cost well under 1% of what they time.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable

from benchmarks import engine_micrograd as micro
from benchmarks.workloads import CHAIN_SIZES, CHAIN_START, CHAIN_WEIGHT, xor
from tinygrad_xor import engine
from tinygrad_xor.engine import Value
from tinygrad_xor.losses import mse
from tinygrad_xor.nn import MLP

__all__ = ["main"]

PHASES = ("graph", "topological sort", "backward pass", "zero_grad + SGD step")


def _eager_epoch_phases(epochs: int) -> tuple[dict[str, float], int]:
    workload = xor()
    network = workload.network
    model = MLP(2, network.sizes, activation=network.activation, output_activation="sigmoid")
    names = [name for name, _ in model.named_parameters()]
    model.load_state_dict(dict(zip(names, network.flat(), strict=True)))
    parameters = model.parameters()
    samples = [list(x) for x in workload.inputs]
    targets = list(workload.targets)
    lr = workload.lr
    totals = dict.fromkeys(PHASES, 0.0)
    nodes = 0
    clock = time.perf_counter
    for _ in range(epochs):
        t0 = clock()
        loss = mse([model(x)[0] for x in samples], targets)
        t1 = clock()
        order = engine.topological_order(loss)  # the sort backward() does first
        t2 = clock()
        loss.backward()  # sorts again, then the chain rule: pass = backward - sort
        t3 = clock()
        for p in parameters:
            p.data -= lr * p.grad
            p.grad = 0.0
        t4 = clock()
        totals["graph"] += t1 - t0
        totals["topological sort"] += t2 - t1
        totals["backward pass"] += (t3 - t2) - (t2 - t1)
        totals["zero_grad + SGD step"] += t4 - t3
        nodes = len(order)
    return totals, nodes


def _micrograd_epoch_phases(epochs: int) -> tuple[dict[str, float], int]:
    workload = xor()
    model = micro._model(workload)
    parameters = model.parameters()
    samples = [list(x) for x in workload.inputs]
    targets = workload.targets
    lr = workload.lr
    scale = 1.0 / len(samples)
    totals = dict.fromkeys(PHASES, 0.0)
    clock = time.perf_counter
    nodes = 0
    for _ in range(epochs):
        t0 = clock()
        outputs = [model(x) for x in samples]
        loss = sum((out - y) ** 2 for out, y in zip(outputs, targets, strict=True)) * scale
        t1 = clock()
        # micrograd's backward is its sort and its closures in one function: time it whole.
        loss.backward()
        t3 = clock()
        for p in parameters:
            p.data -= lr * p.grad
            p.grad = 0
        t4 = clock()
        totals["graph"] += t1 - t0
        totals["backward pass"] += t3 - t1
        totals["zero_grad + SGD step"] += t4 - t3
        nodes = _count(loss)
    return totals, nodes


def _count(root: micro.Value) -> int:
    seen = {root}
    stack = [root]
    while stack:
        for child in stack.pop()._prev:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return len(seen)


def _epoch_table(epochs: int) -> list[str]:
    eager, eager_nodes = _eager_epoch_phases(epochs)
    micrograd, micrograd_nodes = _micrograd_epoch_phases(epochs)
    rows = [
        f"One XOR epoch, mean over {epochs} epochs (eager graph: {eager_nodes} Values; "
        f"micrograd's: {micrograd_nodes}):",
        "",
        "| phase | eager us/epoch | ns/node | micrograd us/epoch | ns/node | micrograd / eager |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for phase in PHASES:
        e = eager[phase] / epochs
        m = micrograd[phase] / epochs
        if phase == "topological sort":
            shown_m, ratio = "(in backward)", "-"
        else:
            shown_m = f"{m * 1e6:.1f} | {m / micrograd_nodes * 1e9:.0f}"
            ratio = f"{m / e:.1f}x" if e > 0 else "-"
        if phase == "topological sort":
            shown_m = f"{shown_m} | -"
        rows.append(
            f"| {phase} | {e * 1e6:.1f} | {e / eager_nodes * 1e9:.0f} | {shown_m} | {ratio} |"
        )
    e_total = sum(eager.values()) / epochs
    m_total = sum(micrograd.values()) / epochs
    rows.append(
        f"| total | {e_total * 1e6:.1f} | {e_total / eager_nodes * 1e9:.0f} "
        f"| {m_total * 1e6:.1f} | {m_total / micrograd_nodes * 1e9:.0f} "
        f"| {m_total / e_total:.1f}x |"
    )
    return rows


def _chain_phases(ops: int, collect: bool) -> tuple[float, float, int]:
    """(forward s, backward s, full collections) for one chain, collector on or off."""
    gc.collect()
    collections = gc.get_stats()[2]["collections"]
    if not collect:
        gc.disable()
    try:
        start = time.perf_counter()
        x, w = Value(CHAIN_START), Value(CHAIN_WEIGHT)
        y = x
        for _ in range(ops // 2):
            y = (y * w).tanh()
        middle = time.perf_counter()
        y.backward()
        end = time.perf_counter()
    finally:
        gc.enable()
    full = gc.get_stats()[2]["collections"] - collections
    del x, w, y
    return middle - start, end - middle, full


def _chain_table(repeats: int) -> list[str]:
    rows = [
        f"The chain of (c), ns per op, best of {repeats}:",
        "",
        "| ops | forward, gc on | backward, gc on | full collections | forward, gc off "
        "| backward, gc off |",
        "|--:|--:|--:|--:|--:|--:|",
    ]
    for ops in CHAIN_SIZES:
        runs = 1 if ops >= 1_000_000 else repeats
        on = min((_chain_phases(ops, True) for _ in range(runs)), key=lambda r: r[0] + r[1])
        off = min((_chain_phases(ops, False) for _ in range(runs)), key=lambda r: r[0] + r[1])
        rows.append(
            f"| {ops:,} | {on[0] / ops * 1e9:.0f} | {on[1] / ops * 1e9:.0f} | {on[2]} "
            f"| {off[0] / ops * 1e9:.0f} | {off[1] / ops * 1e9:.0f} |"
        )
    return rows


def main() -> int:
    sections: list[Callable[[], list[str]]] = [lambda: _epoch_table(2000), lambda: _chain_table(3)]
    for section in sections:
        print("\n".join(section()))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
