"""GradientMachine: graphs built op by op, backward and zero_grad in any order, every grad checked.

A hypothesis RuleBasedStateMachine. Its rules make leaves, apply ops (those of
expressions(): the built-in ones, or the ones given to with_ops, define_op's included)
to nodes made earlier, call backward() on any node, with any upstream gradient, as often
as it likes, and zero_grad() on any node. After every step each Value's grad must be
what PyTorch's rules say: a leaf adds each backward's gradient to what it had, every
other Value holds d root / d itself from the last backward that reached it, and
zero_grad clears a whole graph.

Two checks, so that neither trusts what it checks:

- each op's rule: when an op makes a node, the local derivative it recorded is checked
  against the op's own measured slope (testing.op_checks), so a wrong rule, of define_op
  or of the engine, fails where it is made;
- how grads flow and accumulate: the reference does not use backward() or the local
  derivatives the ops stored. It recomputes each op's local derivative from the numbers
  in the graph (each op's rule in rules.py, run again; a rule of define_op is called
  again) and applies the chain rule forwards, from each node to
  the root. The two may differ by rounding: a few ulps of the sums behind each grad, and
  at least a few units of the smallest float (a subnormal leaf rounds absolutely).

    TestGradients = GradientMachine.TestCase                          # the built-in ops
    TestSin = GradientMachine.with_ops([sin, "*", "+"]).TestCase      # or the ops given
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, rule

from tinygrad_xor.custom_ops import DefinedOp
from tinygrad_xor.engine import Value, topological_order
from tinygrad_xor.rules import Rule
from tinygrad_xor.testing.op_checks import check_op
from tinygrad_xor.testing.strategies import _ops, values

__all__ = ["GradientMachine"]

_EPS = 2.0**-52
_SMALLEST = math.ulp(0.0)  # 5e-324: below 2.2e-308 floats round to multiples of it
_LARGEST = 1e6  # a node past this is not kept: products of products would overflow


def _local_derivatives(node: Value) -> tuple[float, ...]:
    """d node / d each input, recomputed from the numbers in the graph (not node.local_grads):
    the op's rule (rules.py) run again on its inputs' numbers."""
    op, inputs = node.op, [p.data for p in node.parents]
    if not inputs:  # a leaf
        return ()
    if not isinstance(op, Rule):
        raise ValueError(f"GradientMachine: the op {op!r} has no rule; make it with define_op.")
    return op.floats(*inputs)[1]


def _reference(root: Value) -> dict[Value, tuple[float, float]]:
    """d root / d v for every v in root's graph, by forward mode, with an error scale:
    the sum of |product of local derivatives| over the paths from v to root."""
    order = topological_order(root)
    local = [list(zip(node.parents, _local_derivatives(node), strict=True)) for node in order]
    found: dict[Value, tuple[float, float]] = {}
    for start, source in enumerate(order):
        tangent = {source: 1.0}
        size = {source: 1.0}  # the same sums, of absolute values
        for k in range(start + 1, len(order)):
            terms = [(d, p) for p, d in local[k] if p in tangent]
            if terms:
                node = order[k]
                tangent[node] = sum(d * tangent[p] for d, p in terms)
                size[node] = sum(abs(d) * size[p] for d, p in terms)
        found[source] = (tangent.get(root, 0.0), size.get(root, 0.0))
    return found


class GradientMachine(RuleBasedStateMachine):
    """Builds graphs op by op and checks every grad after each backward and zero_grad.

    `ops`: the ops to apply (as expressions(ops=...) takes them); None: the built-in ones.
    Run it with `TestSomething = GradientMachine.TestCase`, or with_ops(...).TestCase.
    """

    ops: ClassVar[Sequence[str | DefinedOp] | None] = None
    nodes = Bundle("nodes")

    @classmethod
    def with_ops(cls, ops: Sequence[str | DefinedOp]) -> type[GradientMachine]:
        """A GradientMachine on these ops (as expressions(ops=...) takes them)."""
        _ops(ops)  # checked now, not at the first example
        return type(f"{cls.__name__}_with_ops", (cls,), {"ops": list(ops)})

    def __init__(self) -> None:
        super().__init__()
        self._table = _ops(self.ops)
        self.known: dict[Value, None] = {}  # every Value of every graph made, in order
        # What each grad should be, and the size of the sums behind it (for rounding).
        self.expected: dict[Value, tuple[float, float]] = {}

    @rule(target=nodes, x=values())
    def leaf(self, x: float) -> Value:
        v = Value(x, f"x{len(self.known)}")
        self.known[v] = None
        return v

    @rule(target=nodes, a=nodes, b=nodes, data=st.data())
    def apply_op(self, a: Value, b: Value, data: Any) -> Any:
        op = data.draw(st.sampled_from(self._table), label="op")
        number = data.draw(st.sampled_from(op.numbers), label="number") if op.numbers else 0.0
        try:
            out = op.apply(number, *(a, b)[: op.arity])
        except ValueError:  # a rule of define_op that raised outside its domain
            return multiple()
        graph = topological_order(out)
        fine = all(
            math.isfinite(n.data)
            and abs(n.data) <= _LARGEST
            and all(map(math.isfinite, n.local_grads))
            for n in graph
        )
        if not fine:  # the graph would overflow soon: not kept
            return multiple()
        for node in graph:
            if node not in self.known:  # made just now: its rule, against its own slope
                for k in range(len(node.parents)):
                    check = check_op(node, k)
                    if check is not None and check.wrong:
                        raise AssertionError(
                            f"an op's local derivative disagrees with its own central "
                            f"difference: {check}"
                        )
        self.known.update(dict.fromkeys(graph))
        return out

    @rule(root=nodes, seed=st.sampled_from([1.0, -0.5, 2.0, 0.0]))
    def backward(self, root: Value, seed: float) -> None:
        root.backward(seed)
        for node, (d, size) in _reference(root).items():
            if node.is_leaf:  # leaves add to what they had
                grad, scale = self.expected.get(node, (0.0, 0.0))
                self.expected[node] = (grad + seed * d, scale + abs(grad) + abs(seed) * size)
            else:  # every other node: this backward's gradient alone
                self.expected[node] = (seed * d, abs(seed) * size)

    @rule(root=nodes)
    def zero_grad(self, root: Value) -> None:
        root.zero_grad()
        for node in topological_order(root):
            self.expected[node] = (0.0, 0.0)

    @invariant()
    def every_grad_is_the_reference(self) -> None:
        for node in self.known:
            want, scale = self.expected.get(node, (0.0, 0.0))
            # Forward and reverse mode add the same products, in other orders.
            if not abs(node.grad - want) <= 8 * len(self.known) * (_EPS * scale + _SMALLEST):
                raise AssertionError(
                    f"{node!r} (op {node.op!r}): grad {node.grad!r}, the reference says "
                    f"{want!r} (forward mode, independent of backward())"
                )
