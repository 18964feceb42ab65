"""How reliably the default `tinygrad-xor train` solves XOR, and how long one run takes.

Runs the command line's own entry point, `main(["train", "--seed", S, "--json", "--quiet"])`,
for seeds 0..99 in one process, so it measures exactly the defaults a user gets (no
copy of them here to drift). Prints how many seeds solve XOR, the spread of the
epoch each first solved it and of the final loss, and the median wall time of one
run (the parse, the training and the output: what a user waits for).

    .venv/bin/python benchmarks/solve_rate.py            # seeds 0..99
    .venv/bin/python benchmarks/solve_rate.py 100 600    # seeds 100..599

Timings on a shared machine are noisy: the median is the number to quote.
"""

from __future__ import annotations

import contextlib
import io
import json
import statistics
import sys
import time
from typing import Any

from tinygrad_xor.cli import main as cli_main


def run_default(seed: int) -> tuple[dict[str, Any], float]:
    """One default training run for `seed`: its JSON result and its wall time in seconds."""
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        status = cli_main(["train", "--seed", str(seed), "--json", "--quiet"])
    elapsed = time.perf_counter() - start
    if status != 0:
        raise RuntimeError(f"seed {seed}: tinygrad-xor train exited with status {status}")
    result = json.loads(out.getvalue())
    if not isinstance(result, dict):
        raise RuntimeError(f"seed {seed}: expected one JSON object, got {result!r}")
    return result, elapsed


def main(argv: list[str]) -> int:
    if len(argv) not in (0, 2) or (argv and int(argv[0]) >= int(argv[1])):
        print("usage: solve_rate.py [FIRST_SEED END_SEED]  (seeds FIRST..END-1; default 0 100)")
        return 2
    first, last = (int(argv[0]), int(argv[1])) if argv else (0, 100)
    seeds = range(first, last)
    times: list[float] = []
    first_solved: list[int] = []
    final_losses: list[float] = []
    unsolved: list[int] = []
    for seed in seeds:
        result, elapsed = run_default(seed)
        times.append(elapsed)
        final_losses.append(result["final_loss"])
        if result["solved"]:
            first_solved.append(result["first_solved_epoch"])
        else:
            unsolved.append(seed)
    print(f"default `tinygrad-xor train` ({result['epochs']} epochs), seeds {first}..{last - 1}:")
    print(f"  solved XOR: {len(seeds) - len(unsolved)} of {len(seeds)}")
    if unsolved:
        print(f"  unsolved seeds: {unsolved}")
    if first_solved:
        print(
            f"  first solved at epoch: median {statistics.median(first_solved):g}, "
            f"max {max(first_solved)}"
        )
    print(
        f"  final loss: median {statistics.median(final_losses):.3g}, max {max(final_losses):.3g}"
    )
    print(
        f"  wall time of one run: median {statistics.median(times):.3f} s "
        f"(min {min(times):.3f} s, max {max(times):.3f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
