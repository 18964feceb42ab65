"""Benchmarks: tinygrad_xor against micrograd, PyTorch, NumPy and hand-written Python.

`python -m benchmarks.run` (or `make bench`) runs every engine on every workload, each
run in its own process, engines interleaved, and prints the table kept in
docs/performance.md. workloads.py defines what is computed; engine_*.py computes it,
one engine per file; worker.py runs one engine on one workload in a fresh process.
"""
