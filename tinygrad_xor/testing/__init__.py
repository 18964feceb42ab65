"""Property-based gradient tests, for the engine and for the ops you define (hypothesis).

    pip install tinygrad_xor[testing]      # hypothesis comes with this extra

    values(...)                  hypothesis strategy: floats where every built-in op is smooth
    expressions(n, ops=...)      strategy: random expression DAGs, callables f(*Values) -> Value
    networks(...)                strategy: small MLPs with inputs and targets (Network)
    assert_gradients_match(f, *points, against="central" | "sympy" | "torch")
                                 autograd's gradient of f against an oracle; a mismatch names
                                 the argument, both numbers, and the op that is wrong
    GradientMachine              a hypothesis state machine: graphs built op by op, backward
                                 and zero_grad in any order, every grad against a reference

In ten lines (docs/testing-ops.md has the walk-through):

    >>> import math
    >>> from hypothesis import given
    >>> from tinygrad_xor import define_op
    >>> from tinygrad_xor.testing import assert_gradients_match, expressions, values
    >>> sin = define_op("sin", lambda x: (math.sin(x), math.cos(x)))
    >>> @given(expressions(2, ops=[sin, "*", "+"]), values(), values())
    ... def test_sin(f, x, y):
    ...     assert_gradients_match(f, (x, y))
    >>> test_sin()
"""

from __future__ import annotations

try:
    import hypothesis  # noqa: F401  # the extra this module needs: say so first
except ModuleNotFoundError as error:
    raise ModuleNotFoundError(
        "tinygrad_xor.testing needs hypothesis, which comes with the testing extra: "
        "pip install tinygrad_xor[testing]",
        name=error.name,
    ) from error

from tinygrad_xor.testing.gradients import GradientReport, assert_gradients_match
from tinygrad_xor.testing.machine import GradientMachine
from tinygrad_xor.testing.strategies import (
    BUILTIN_OPS,
    Expression,
    Network,
    expressions,
    networks,
    values,
)

__all__ = [
    "values",
    "expressions",
    "networks",
    "assert_gradients_match",
    "GradientReport",
    "GradientMachine",
    "Expression",
    "Network",
    "BUILTIN_OPS",
]
