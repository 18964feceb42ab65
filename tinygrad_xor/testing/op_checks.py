"""Each op on its own: the local derivative a node recorded against its own measured slope.

    check_op(node, k)      node's recorded d node / d input k against the slope of the op's
                           value in that input, the other input held (an OpCheck, or None for
                           an op it cannot redo)
    path_checks(root, x)   check_op for every edge on a path from x to root

This is how a wrong gradient is traced to the op that made it, and how an op of
define_op is checked where the oracles cannot look inside its rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from tinygrad_xor.engine import Value, topological_order
from tinygrad_xor.rules import FLOATS, Rule, RuleOp
from tinygrad_xor.slopes import Slope, measure_slope, relative_error

__all__ = ["OpCheck", "check_op", "path_checks", "OP_REL", "OP_ABS"]

OP_REL, OP_ABS = 1e-6, 1e-7  # an op's own tolerance, whatever f is checked with
_UNEXPLAINED = 1e-9  # a gap past this (relative) and the slope's error is a disagreement


def _op_value(node: Value) -> Callable[..., float] | None:
    """The op of node as a function of its inputs' numbers, from its rule (rules.py); None
    for an op without one (recorded by calling engine.op_result with a bare name)."""
    op = node.op
    if not isinstance(op, Rule):
        return None
    return lambda *xs: float(op.value(FLOATS, *xs))


@dataclass(frozen=True)
class OpCheck:
    """One input of one op node: its recorded local derivative against its own slope."""

    node: Value
    k: int  # which input
    recorded: float
    slope: Slope

    @property
    def gap(self) -> float:
        return math.fabs(self.recorded - self.slope.estimate)

    @property
    def wrong(self) -> bool:
        """Off by more than the op's own tolerance (and the slope's error): a wrong rule."""
        return self.slope.measured and not self.slope.agrees(self.recorded, OP_REL, OP_ABS)

    @property
    def disagrees(self) -> bool:
        """Off by more than the slope's error can explain, even within the tolerance."""
        return self.slope.measured and not self.slope.agrees(self.recorded, _UNEXPLAINED, 0.0)

    @property
    def where(self) -> str:
        """The op and the numbers it was given: "sin, made by define_op, at x = 0.5"."""
        inputs = [p.data for p in self.node.parents]
        at = f"{inputs[0]!r}" if len(inputs) == 1 else f"({inputs[0]!r}, {inputs[1]!r})"
        made = ", made by define_op," if isinstance(self.node.op, RuleOp) else ""
        return f"{self.node.op}{made} at {'xy'[: len(inputs)]} = {at}"

    def __str__(self) -> str:
        return (
            f"{self.where}: it records "
            f"d/d{'xy'[self.k]} = {self.recorded!r}, its own central difference is "
            f"{self.slope.estimate!r} (relative error "
            f"{relative_error(self.recorded, self.slope.estimate):.3g})"
        )


def check_op(node: Value, k: int) -> OpCheck | None:
    """node's recorded derivative by input k against the op's measured slope there."""
    value = _op_value(node)
    if value is None:
        return None
    inputs = [p.data for p in node.parents]
    recorded = node.local_grads[k]
    if node.op == "**" and k == 1 and inputs[0] < 0.0:  # floats near 1e154 are all integers
        why = "x ** y of a negative x: d/dy = x**y * log(x) has no real value"
        return OpCheck(node, k, recorded, Slope(math.nan, math.inf, 0.0, why))

    def moved(t: float) -> float:
        return value(*(t if j == k else x for j, x in enumerate(inputs)))

    # Its value as the op computes it now (node.data may be what a broken op recorded);
    # one op rounds once, relative to its result: its inputs are exact numbers.
    fx = moved(inputs[k])
    scale = math.fabs(fx) if math.isfinite(fx) else 0.0
    slope = measure_slope(
        moved, inputs[k], fx=fx, scale=scale, rel=OP_REL, abs=OP_ABS, against=recorded
    )
    return OpCheck(node, k, recorded, slope)


def path_checks(root: Value, leaf: Value) -> list[OpCheck]:
    """check_op for every edge on a path from leaf to root (ops it cannot redo left out)."""
    reached = {leaf}
    checks = []
    for node in topological_order(root):
        for k, parent in enumerate(node.parents):
            if parent in reached:
                reached.add(node)
                if (check := check_op(node, k)) is not None:
                    checks.append(check)
    return checks
