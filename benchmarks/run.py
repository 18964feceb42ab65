"""The benchmark harness: every engine, every workload, one process per run, interleaved.

    python -m benchmarks.run                      # the full run (make bench), 5-9 minutes
    python -m benchmarks.run --quick              # a smoke test: one round, small sizes
    python -m benchmarks.run --write docs/performance.md

Each measurement is a fresh `python -m benchmarks.worker ENGINE TASK SIZE` process;
rounds alternate the engines (the order rotates every round), so load from anything
else on the machine spreads over all engines instead of landing on one. The table
reports the median over rounds.

Before any time counts, every engine must end where eager tinygrad_xor ends: the same
final loss (training) or the same y and d y / d w (chain), within LOSS_TOLERANCE
relative. Otherwise the run fails (exit status 1): no engine is timed doing less work.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.workloads import CHAIN_SIZES, MEMORY_NODES, SECOND_ORDER_CALLS

__all__ = ["main"]

LOSS_TOLERANCE = 1e-9  # relative; the engines differ in summation order only (~1e-15 seen)
TIMEOUT_SECONDS = 900
ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- benchmark table: written by `make bench` (python -m benchmarks.run --write) -->"
END = "<!-- end of benchmark table -->"

TRAINING_ENGINES = ["eager", "compiled", "compiled-train", "micrograd", "torch", "numpy", "floor"]
MOONS_ENGINES = ["eager", "compiled", "compiled-train", "micrograd", "torch", "numpy"]
CHAIN_ENGINES = ["eager", "micrograd-deep", "torch"]
LABELS = {
    "eager": "tinygrad_xor eager",
    "compiled": "tinygrad_xor compiled tape",
    "compiled-train": "tinygrad_xor compiled, via train()",
    "micrograd": "micrograd 0.1.0",
    "micrograd-deep": "micrograd 0.1.0, recursion limit raised",
    "torch": "PyTorch eager, CPU, float64, 1 thread",
    "numpy": "NumPy, backprop by hand, vectorised",
    "floor": "plain Python floats, by hand (floor)",
}


@dataclass
class Job:
    engine: str
    task: str
    size: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.engine} {self.task}" + (f" {self.size:,}" if self.size else "")


def _plan(quick: bool) -> list[tuple[int, list[Job]]]:
    """(rounds, jobs) groups: every round runs each job of its group once, order rotated."""
    chain_sizes = CHAIN_SIZES[:2] if quick else CHAIN_SIZES
    if quick:
        return [
            (1, [Job(e, "xor") for e in TRAINING_ENGINES]),
            (1, [Job(e, "chain", n) for n in chain_sizes for e in [*CHAIN_ENGINES, "micrograd"]]),
            (1, [Job(e, "memory", MEMORY_NODES) for e in ("eager", "micrograd")]),
            (1, _second_order_jobs(10)),
        ]
    return [
        (5, [Job(e, "xor") for e in TRAINING_ENGINES]),
        # micrograd takes ~2 minutes per moons run (its graphs are reference cycles that
        # only the cyclic garbage collector frees): once, to keep `make bench` in budget.
        (3, [Job(e, "moons") for e in MOONS_ENGINES if e != "micrograd"]),
        (1, [Job("micrograd", "moons")]),
        (3, [Job(e, "chain", n) for n in chain_sizes for e in CHAIN_ENGINES]),
        # At the default recursion limit micrograd fails the same way at every size: once.
        (1, [Job("micrograd", "chain", n) for n in chain_sizes]),
        (1, [Job(e, "memory", MEMORY_NODES) for e in ("eager", "micrograd")]),
        (5, _second_order_jobs(1)),
    ]


def _second_order_jobs(fewer: int) -> list[Job]:
    """(e): tinygrad_xor and PyTorch, each task SECOND_ORDER_CALLS[task] // fewer calls."""
    return [
        Job(engine, task, SECOND_ORDER_CALLS[task] // fewer)
        for task in ("hessian", "jvp")
        for engine in ("eager", "torch")
    ]


def _run(job: Job) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.worker", job.engine, job.task, str(job.size)]
    try:
        done = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {TIMEOUT_SECONDS} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = done.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"error": f"exit status {done.returncode}: {last[0]}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _execute(plan: list[tuple[int, list[Job]]]) -> list[Job]:
    total = sum(rounds * len(jobs) for rounds, jobs in plan)
    count = 0
    for rounds, jobs in plan:
        for round_ in range(rounds):
            shift = round_ % len(jobs)
            for job in jobs[shift:] + jobs[:shift]:
                count += 1
                result = _run(job)
                job.results.append(result)
                if "error" in result:
                    shown = result["error"]
                elif "seconds" in result:
                    shown = f"{result['seconds']:.3f} s"
                else:
                    shown = f"{result['forward_bytes_per_node']:.0f} bytes per node"
                print(f"[{count}/{total}] {job.name}, round {round_ + 1}: {shown}", file=sys.stderr)
    return [job for _, jobs in plan for job in jobs]


# -- checks ----------------------------------------------------------------------------


def _relative(a: float, b: float) -> float:
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


def _check(jobs: list[Job]) -> list[str]:
    """Every engine agrees with eager; every run of one engine agrees with itself."""
    problems = []
    reference: dict[tuple[str, int], dict[str, Any]] = {}
    for job in jobs:
        if job.engine == "eager" and job.results and "error" not in job.results[0]:
            reference[(job.task, job.size)] = job.results[0]
    keys = {
        "xor": ["final_loss"],
        "moons": ["final_loss"],
        "chain": ["value", "grad_w"],
        "hessian": ["sum", "last"],
        "jvp": ["value", "slope"],
    }
    for job in jobs:
        if job.task not in keys:
            continue
        expected = reference.get((job.task, job.size))
        for result in job.results:
            if "error" in result:
                if not (job.engine == "micrograd" and job.task == "chain"):
                    problems.append(f"{job.name}: {result['error']}")
                continue
            if expected is None:
                problems.append(f"{job.name}: no eager result to compare with")
                continue
            for key in keys[job.task]:
                diff = _relative(result[key], expected[key])
                result[f"{key}_difference"] = diff
                if not diff <= LOSS_TOLERANCE:
                    problems.append(
                        f"{job.name}: {key} {result[key]!r} differs from eager's "
                        f"{expected[key]!r} by {diff:.2e} relative (> {LOSS_TOLERANCE:g})"
                    )
    return problems


# -- the report --------------------------------------------------------------------------


def _median(job: Job | None) -> float | None:
    if job is None:
        return None
    times = [r["seconds"] for r in job.results if "seconds" in r]
    return statistics.median(times) if times else None


def _spread(job: Job) -> str:
    times = [r["seconds"] for r in job.results if "seconds" in r]
    if len(times) < 2:
        return "1 run"
    return f"{min(times):.3g}-{max(times):.3g}"


def _ratio(reference: float | None, seconds: float | None) -> str:
    if reference is None or seconds is None:
        return "-"
    ratio = reference / seconds
    return f"{ratio:.1f}x" if ratio >= 0.1 else f"{ratio:.2g}x"


def _find(jobs: list[Job], engine: str, task: str, size: int = 0) -> Job | None:
    for job in jobs:
        if (job.engine, job.task, job.size) == (engine, task, size):
            return job
    return None


def _training_table(jobs: list[Job], task: str, epochs: int) -> list[str]:
    micro = _median(_find(jobs, "micrograd", task))
    torch = _median(_find(jobs, "torch", task))
    rows = [
        "| engine | median s | per epoch | runs (min-max s) | speed-up vs micrograd "
        "| vs PyTorch | final loss | differs from eager by |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for job in jobs:
        if job.task != task:
            continue
        seconds = _median(job)
        if seconds is None:
            rows.append(f"| {LABELS[job.engine]} | failed: {job.results[0].get('error')} |")
            continue
        first = job.results[0]
        note = ""
        if "compile_seconds" in first:
            compile_times = [r["compile_seconds"] for r in job.results]
            note = f" (trace + compile {statistics.median(compile_times):.3g} s)"
        diffs = [r.get("final_loss_difference", math.nan) for r in job.results]
        rows.append(
            f"| {LABELS[job.engine]}{note} | {seconds:.3f} | {seconds / epochs * 1e6:,.0f} us "
            f"| {_spread(job)} | {_ratio(micro, seconds)} | {_ratio(torch, seconds)} "
            f"| {first['final_loss']:.15g} | {max(diffs):.1e} |"
        )
    return rows


def _chain_table(jobs: list[Job]) -> list[str]:
    rows = [
        "| engine | ops | median s | per op | runs (min-max s) | speed-up vs micrograd "
        "(limit raised) | vs PyTorch |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for size in sorted({job.size for job in jobs if job.task == "chain"}):
        micro = _median(_find(jobs, "micrograd-deep", "chain", size))
        torch = _median(_find(jobs, "torch", "chain", size))
        for job in jobs:
            if job.task != "chain" or job.size != size:
                continue
            seconds = _median(job)
            if seconds is None:
                error = job.results[0].get("error", "no result")
                rows.append(f"| {LABELS[job.engine]} | {size:,} | fails: {error} | | | | |")
                continue
            per_op = seconds / size * 1e9
            rows.append(
                f"| {LABELS[job.engine]} | {size:,} | {seconds:.3f} | {per_op:,.0f} ns "
                f"| {_spread(job)} | {_ratio(micro, seconds)} | {_ratio(torch, seconds)} |"
            )
    return rows


def _second_order_table(jobs: list[Job]) -> list[str]:
    rows = [
        "| task | engine | calls | median s | per call | runs (min-max s) | speed-up vs PyTorch "
        "| differs from tinygrad_xor by |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for task in ("hessian", "jvp"):
        torch = _find_task(jobs, "torch", task)
        for job in jobs:
            if job.task != task:
                continue
            seconds = _median(job)
            if seconds is None:
                error = job.results[0].get("error", "no result")
                rows.append(f"| {task} | {LABELS[job.engine]} | failed: {error} | | | | | |")
                continue
            diffs = [max(v for k, v in r.items() if k.endswith("_difference")) for r in job.results]
            rows.append(
                f"| {task} | {LABELS[job.engine]} | {job.size:,} | {seconds:.3f} "
                f"| {seconds / job.size * 1e6:,.0f} us | {_spread(job)} "
                f"| {_ratio(_median(torch), seconds)} | {max(diffs):.1e} |"
            )
    return rows


def _find_task(jobs: list[Job], engine: str, task: str) -> Job | None:
    return next((job for job in jobs if (job.engine, job.task) == (engine, task)), None)


def _memory_table(jobs: list[Job]) -> list[str]:
    rows = [
        "| engine | bytes per node, graph built | after backward |",
        "|---|--:|--:|",
    ]
    for job in jobs:
        if job.task == "memory" and job.results and "error" not in job.results[0]:
            r = job.results[0]
            rows.append(
                f"| {LABELS[job.engine]} | {r['forward_bytes_per_node']:.0f} "
                f"| {r['backward_bytes_per_node']:.0f} |"
            )
    return rows


def _targets(jobs: list[Job]) -> list[str]:
    def ratio(a: str, b: str, task: str) -> float | None:
        ta, tb = _median(_find(jobs, a, task)), _median(_find(jobs, b, task))
        return None if ta is None or tb is None else tb / ta

    def per_op(size: int) -> float | None:
        seconds = _median(_find(jobs, "eager", "chain", size))
        return None if seconds is None else seconds / size

    checks: list[tuple[str, float | None, str, bool]] = []
    for task in ("xor", "moons"):
        r = ratio("eager", "micrograd", task)
        checks.append((f"eager vs micrograd, {task}", r, ">= 3x", r is not None and r >= 3))
    r = ratio("compiled", "micrograd", "xor")
    checks.append(("compiled vs micrograd, xor", r, ">= 20x", r is not None and r >= 20))
    r = ratio("compiled", "torch", "xor")
    checks.append(("compiled vs PyTorch, xor", r, ">= 5x", r is not None and r >= 5))
    r = ratio("floor", "compiled", "xor")  # t_compiled / t_floor: the floor's speed-up
    checks.append(("compiled time / floor time, xor", r, "<= 2", r is not None and r <= 2))
    for task, goal, least in (("hessian", ">= 5x", 5.0), ("jvp", "> 1x", 1.0)):
        ours, torch = _find_task(jobs, "eager", task), _find_task(jobs, "torch", task)
        r = None if ours is None or torch is None else _per_call(torch) / _per_call(ours)
        label = f"{task} of the XOR loss (21 weights) vs PyTorch"
        checks.append((label, r, goal, r is not None and r >= least and (r > 1.0 or least > 1.0)))
    sizes = sorted({job.size for job in jobs if job.task == "chain" and job.engine == "eager"})
    times = [per_op(n) for n in sizes]
    if len(sizes) > 1 and all(t is not None for t in times):
        known = [t for t in times if t is not None]
        flat = max(known) / min(known)
        shown = ", ".join(f"{t * 1e9:.0f} ns" for t in known)
        label = f"eager time per op, {sizes[0]:,} to {sizes[-1]:,} ops ({shown}): max / min"
        checks.append((label, flat, "flat (<= 1.5)", flat <= 1.5))
    rows = ["| target | measured | goal | met |", "|---|--:|--:|:-:|"]
    for label, value, goal, met in checks:
        if value is None:
            rows.append(f"| {label} | not measured | {goal} | - |")
        else:
            rows.append(f"| {label} | {value:.2f} | {goal} | {'yes' if met else 'NO'} |")
    return rows


def _per_call(job: Job) -> float:
    seconds = _median(job)
    return math.inf if seconds is None else seconds / job.size


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _machine() -> list[str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return [
        f"- machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        f"- python {platform.python_version()}; torch {_version('torch')}, "
        f"numpy {_version('numpy')}, micrograd {_version('micrograd')}; "
        f"tinygrad_xor {commit or 'unknown commit'}",
    ]


def _report(jobs: list[Job], started: datetime.datetime, load: tuple[float, float]) -> str:
    lines = [
        f"Measured {started:%Y-%m-%d %H:%M} UTC by `python -m benchmarks.run`; "
        "median over rounds, each run its own process.",
        "",
        *_machine(),
        f"- load average (1 min) at start {load[0]:.2f}, at end {load[1]:.2f} "
        "(on a shared machine the times are noisy; ratios within one run are fairer)",
        "",
        "Targets (ratios from this run):",
        "",
        *_targets(jobs),
    ]
    if any(job.task == "xor" for job in jobs):
        lines += ["", "(a) XOR, 2-5-1 sigmoid MLP, MSE, SGD lr 0.3, 2000 epochs:", ""]
        lines += _training_table(jobs, "xor", 2000)
    if any(job.task == "moons" for job in jobs):
        lines += ["", "(b) two moons, 100 points, 2-16-16-1 tanh MLP, MSE, SGD lr 0.1, 50 epochs:"]
        lines += ["", *_training_table(jobs, "moons", 50)]
    if any(job.task == "chain" for job in jobs):
        lines += ["", "(c) a chain of ops, y <- tanh(y * w) repeated, forward + backward:", ""]
        lines += _chain_table(jobs)
    if any(job.task == "memory" for job in jobs):
        lines += ["", f"(d) memory, a chain of {MEMORY_NODES:,} ops (tracemalloc):", ""]
        lines += _memory_table(jobs)
    if any(job.task in ("hessian", "jvp") for job in jobs):
        lines += ["", "(e) second order and forward mode, (a)'s loss in its 21 weights:", ""]
        lines += _second_order_table(jobs)
    return "\n".join(lines) + "\n"


def _write(path: Path, report: str) -> None:
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = f"{head}{BEGIN}\n{report}\n{END}{tail}"
    else:
        text = f"{text}\n{BEGIN}\n{report}\n{END}\n"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    temporary.replace(path)


def _source_fingerprint() -> str:
    """A digest of the library's source: it must not change while the engines are timed."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "tinygrad_xor").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one round, small sizes")
    parser.add_argument("--write", type=Path, metavar="FILE", help="put the table into FILE")
    args = parser.parse_args(argv)

    started = datetime.datetime.now(datetime.UTC)
    load_start = os.getloadavg()[0]
    clock = time.perf_counter()
    source = _source_fingerprint()
    jobs = _execute(_plan(args.quick))
    problems = _check(jobs)
    if _source_fingerprint() != source:
        problems.append("tinygrad_xor's source changed during the run: run it again")
    report = _report(jobs, started, (load_start, os.getloadavg()[0]))
    print(report)
    print(f"(the whole run took {time.perf_counter() - clock:.0f} s)", file=sys.stderr)
    if problems:
        print("The engines do not agree, so these times do not count:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    if args.write:
        _write(args.write, report)
        print(f"wrote the table into {args.write}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
