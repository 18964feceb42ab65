"""The steps of a forward and a backward pass, recorded from a graph, each with its arithmetic.

    walk = record_steps(root)   every Value in topological order (the forward pass), then in
                                backward()'s order, with what each passes to its inputs
    walk.describe(digits=4)     the same in words: a caption and the arithmetic of every step

The gradients are backward()'s own: the steps are recorded while the engine's chain rule
runs (engine.chain_rule, which leaves every .grad as it was), so flat edges, the order of
the sums and every bit are the engine's. Each local derivative is written out from its
op's rule (rules.py), as a formula (formulas.py). backward() need not have run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tinygrad_xor import formulas
from tinygrad_xor.engine import Value, chain_rule, topological_order
from tinygrad_xor.formulas import FORMULA
from tinygrad_xor.rules import PowerOp, Rule, RuleOp

__all__ = ["Contribution", "BackwardStep", "Walkthrough", "record_steps"]

_TIMES = "\u00d7"  # the multiplication sign, as a learner writes a product of two numbers


@dataclass(frozen=True)
class Contribution:
    """One edge of the chain rule: inputs[input].grad += share, before -> after.

    share is local * upstream, as backward() computed it (0 on a flat edge, even when
    upstream is inf or nan).
    """

    input: int  # the input's index in Walkthrough.values
    local: float  # d out / d input, recorded by the op
    upstream: float  # out.grad, complete when out is visited
    share: float
    before: float
    after: float


@dataclass(frozen=True)
class BackwardStep:
    """backward() visiting one Value: its grad is complete; an op passes a share to each input."""

    node: int  # index in Walkthrough.values
    grad: float
    contributions: tuple[Contribution, ...]  # () for a leaf


@dataclass(frozen=True)
class Walkthrough:
    """A forward and a backward pass through the graph of `values[-1]`, step by step.

    values    every Value, inputs before outputs: the forward pass computes them in this order
    backward  one step per Value, root first, as backward() visits them
    grads     each Value's grad once backward() is done, by index
    """

    values: tuple[Value, ...]
    backward: tuple[BackwardStep, ...]
    grads: tuple[float, ...]

    def describe(self, digits: int = 4) -> dict[str, Any]:
        """The steps in words, JSON-able, numbers to `digits` significant digits.

        {"nodes": [{"name", "data", "grad", "inputs": [indices]}], "steps": [{"caption",
        "lines", "node": index or None, "shows": [[index, "data" or "grad", text]]}]}: step 0
        is the start, then one forward step per Value, then one backward step per Value.
        """
        names = _names(self.values)
        index = {value: i for i, value in enumerate(self.values)}
        count = len(self.values)

        def number(x: float) -> str:
            return f"{x + 0.0:.{digits}g}"  # + 0.0: -0 reads as 0

        steps: list[dict[str, Any]] = [
            {
                "caption": f"start: nothing computed yet; {count} forward and {count} backward "
                "steps to go",
                "lines": ["press → (or next) to compute the Values, inputs first"],
                "node": None,
                "shows": [],
            }
        ]
        for i, value in enumerate(self.values):
            inputs = [names[index[p]] for p in value.parents]
            caption, line = _forward_words(value, names[i], inputs, number)
            steps.append(
                {
                    "caption": f"forward {i + 1} of {count}: {caption}",
                    "lines": [line],
                    "node": i,
                    "shows": [[i, "data", number(value.data)]],
                }
            )
        touched: set[int] = set()  # the Values whose grad has a share in it
        for position, step in enumerate(self.backward, start=1):
            value, out = self.values[step.node], names[step.node]
            inputs = [names[c.input] for c in step.contributions]
            lines, shows = [], []
            if position == 1:
                lines.append(f"{out}.grad = 1: the derivative of {out} with respect to itself")
                shows.append([step.node, "grad", number(step.grad)])
            for which, c in enumerate(step.contributions):
                formula = _local_formula(value.op, which, inputs, out)
                local = f"local: {formula}" if formula else "local"
                total = number(c.after)
                if c.input in touched:  # its grad already holds another use's share
                    total = f"{number(c.before)} + {_bracketed(number(c.share))} = {total}"
                lines.append(
                    f"{inputs[which]}.grad += {number(c.local)} ({local}) {_TIMES} "
                    f"{number(c.upstream)} ({out}.grad) → {total}"
                )
                shows.append([c.input, "grad", number(c.after)])
                touched.add(c.input)
            if step.contributions:
                caption = f"{value.op} passes {_shares(step.contributions, inputs, number)}"
            else:
                kind = "the root" if position == 1 else "a leaf"
                caption = f"{out} is {kind}: its grad, {number(step.grad)}, is complete"
                lines.append(f"{out} has no inputs: nothing to pass on")
            steps.append(
                {
                    "caption": f"backward {position} of {count}: {caption}",
                    "lines": lines,
                    "node": step.node,
                    "shows": shows,
                }
            )
        nodes = [
            {
                "name": names[i],
                "data": number(v.data),
                "grad": number(self.grads[i]),
                "inputs": [index[p] for p in v.parents],
            }
            for i, v in enumerate(self.values)
        ]
        return {"nodes": nodes, "steps": steps}


def record_steps(root: Value) -> Walkthrough:
    """The forward and backward steps of root's graph, with the grads backward() would give.

    >>> a = Value(3.0, "a")
    >>> b = a + a
    >>> c = b * b
    >>> walk = record_steps(c)
    >>> [(s.before, s.after) for s in walk.backward[1].contributions]  # b passes 12 to a, twice
    [(0.0, 12.0), (12.0, 24.0)]
    >>> a.grad  # untouched: backward() has not run
    0.0
    """
    if not isinstance(root, Value):
        raise TypeError(
            f"record_steps(root): expected a Value, got {type(root).__name__}. "
            "Pass the Value whose graph you want to step through, e.g. record_steps(loss)."
        )
    values = topological_order(root)
    index = {value: i for i, value in enumerate(values)}
    seen = dict.fromkeys(values, 0.0)  # each grad as the last step left it
    seen[root] = 1.0
    passed_on: dict[Value, tuple[Contribution, ...]] = {}

    def watch(node: Value, first_share: float) -> None:
        """One op has just passed its grad on, in backward()'s own loop."""
        upstream = node.grad
        first, *second = node.parents
        # backward() just did first.grad += first_share (then second.grad += its share).
        before = seen[first]
        seen[first] = before + first_share
        row = [
            Contribution(
                index[first], node.local_grads[0], upstream, first_share, before, seen[first]
            )
        ]
        if second:
            (b,) = second
            before = seen[b]
            seen[b] = b.grad
            share = node.local_grads[1] * upstream  # a second input is never flat
            row.append(Contribution(index[b], node.local_grads[1], upstream, share, before, b.grad))
        passed_on[node] = tuple(row)

    grads = chain_rule(root, watch=watch)
    steps = [
        BackwardStep(i, grads[values[i]], passed_on.get(values[i], ()))
        for i in reversed(range(len(values)))
    ]
    return Walkthrough(tuple(values), tuple(steps), tuple(grads[value] for value in values))


def _names(values: tuple[Value, ...]) -> list[str]:
    """Each Value's name on the page: its label, else #n, n as draw_dot's show_order numbers it."""
    count = len(values)
    return [value.label or f"#{count - i}" for i, value in enumerate(values)]


def _bracketed(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


def _forward_words(
    value: Value, name: str, inputs: list[str], number: Callable[[float], str]
) -> tuple[str, str]:
    """The caption and the arithmetic of computing `value` from its inputs."""
    result = number(value.data)
    if value.is_leaf:
        return f"{name} = {result} is given", f"{name}.data = {result}"
    shown = [_bracketed(number(p.data)) for p in value.parents]
    op = value.op
    if isinstance(op, RuleOp):  # an op of define_op's: sin(x), hypot(x, y)
        line = f"{name} = {op}({', '.join(inputs)}) = {op}({', '.join(shown)})"
    elif len(inputs) == 2:
        sign = _TIMES if op == "*" else op
        line = f"{name} = {inputs[0]} {op} {inputs[1]} = {shown[0]} {sign} {shown[1]}"
    elif isinstance(op, PowerOp):  # a power by a number: "**2"
        line = f"{name} = {inputs[0]}{op} = {shown[0]}{op}"
    else:
        line = f"{name} = {op}({inputs[0]}) = {op}({shown[0]})"
    return f"{op} gives {name} = {result}", f"{line} = {result}"


def _local_formula(op: str, which: int, inputs: list[str], out: str) -> str:
    """d out / d inputs[which], written out from the op's rule; "" for an op without one."""
    if not isinstance(op, Rule):  # a bare name given to engine.op_result
        return ""
    names = [formulas.name(x) for x in inputs]
    local = op.local(FORMULA.arithmetic, *names, formulas.name(out))[which]
    zero = op.zero(*names)[which]
    return FORMULA.render(0.0 if zero is True else FORMULA.arithmetic.where(zero, 0.0, local))


def _shares(
    contributions: tuple[Contribution, ...], inputs: list[str], number: Callable[[float], str]
) -> str:
    """ "0.42 to a", "1 to a and -3 to b", "12 to a, twice"."""
    shares = [f"{number(c.share)} to {name}" for c, name in zip(contributions, inputs, strict=True)]
    if len(shares) == 2 and shares[0] == shares[1] and inputs[0] == inputs[1]:
        return f"{shares[0]}, twice"
    return " and ".join(shares)
