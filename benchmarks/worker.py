"""Run one engine on one task in this process; print the result as one JSON line.

    python -m benchmarks.worker ENGINE TASK [SIZE]

TASK is xor or moons (training, workloads.py), chain (SIZE ops, forward + backward),
memory (bytes per node of a SIZE-op chain), or hessian and jvp (SIZE calls on the XOR
loss in its weights). run.py starts one of these per measurement,
so no engine runs in a process another engine has warmed up, fragmented or imported
into. An engine that cannot do a task prints {"error": ...}; so does one that fails
(micrograd's RecursionError is a result, not a crash).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from benchmarks.workloads import WORKLOADS

__all__ = ["ENGINES", "TASKS", "tasks_of", "main"]

ENGINES = (
    "eager",
    "compiled",
    "compiled-train",
    "micrograd",
    "micrograd-deep",
    "torch",
    "numpy",
    "floor",
)
TASKS = ("xor", "moons", "chain", "memory", "hessian", "jvp")

Task = Callable[[int], dict[str, Any]]


def _training(train: Callable[[Any], dict[str, Any]], workload: str) -> Task:
    def run(size: int) -> dict[str, Any]:
        return train(WORKLOADS[workload]())

    return run


def tasks_of(engine: str) -> dict[str, Task]:
    """The tasks an engine can run (importing only that engine's libraries)."""
    if engine in ("eager", "compiled", "compiled-train"):
        from benchmarks import engine_tinygrad as tiny

        trainer = {
            "eager": tiny.train_eager,
            "compiled": tiny.train_compiled,
            "compiled-train": tiny.train_compiled_via_train,
        }[engine]
        tasks = {"xor": _training(trainer, "xor"), "moons": _training(trainer, "moons")}
        if engine == "eager":
            tasks |= {
                "chain": tiny.chain,
                "memory": tiny.memory,
                "hessian": tiny.xor_hessian,
                "jvp": tiny.xor_jvp,
            }
        return tasks
    if engine == "micrograd":
        from benchmarks import engine_micrograd as micro

        return {
            "xor": _training(micro.train, "xor"),
            "moons": _training(micro.train, "moons"),
            "chain": micro.chain,
            "memory": micro.memory,
        }
    if engine == "micrograd-deep":
        from benchmarks import engine_micrograd as micro

        return {"chain": micro.chain_raised_limit}
    if engine == "torch":
        from benchmarks import engine_torch as torch_engine

        return {
            "xor": _training(torch_engine.train, "xor"),
            "moons": _training(torch_engine.train, "moons"),
            "chain": torch_engine.chain,
            "hessian": torch_engine.xor_hessian,
            "jvp": torch_engine.xor_jvp,
        }
    if engine == "numpy":
        from benchmarks import engine_numpy as numpy_engine

        return {
            "xor": _training(numpy_engine.train, "xor"),
            "moons": _training(numpy_engine.train, "moons"),
        }
    if engine == "floor":
        from benchmarks import engine_floor as floor

        return {"xor": _training(floor.train, "xor")}
    raise ValueError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}.")


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or argv[1] not in TASKS:
        print(f"usage: python -m benchmarks.worker ENGINE {{{','.join(TASKS)}}} [SIZE]")
        return 2
    engine, task = argv[0], argv[1]
    size = int(argv[2]) if len(argv) == 3 else 0
    tasks = tasks_of(engine)
    if task not in tasks:
        result: dict[str, Any] = {"error": f"{engine} does not run {task}"}
    else:
        result = tasks[task](size)
    print(json.dumps({"engine": engine, "task": task, "size": size, **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
