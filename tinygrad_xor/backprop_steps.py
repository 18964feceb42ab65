"""The steps of a forward and a backward pass, recorded from a graph, each with its arithmetic.

    walk = record_steps(root)   every Value in topological order (the forward pass), then in
                                backward()'s order, with what each passes to its inputs
    walk.describe(digits=4)     the same in words: a caption and the arithmetic of every step

The gradients are summed as backward() sums them: the same products, added in the same
order, from zero, with root.grad = 1. They go into a table of this module's own, so the
Values' data and grad are left as they were, and backward() need not have run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tinygrad_xor.engine import Value, topological_order
from tinygrad_xor.operands import PowerOp, RuleOp

__all__ = ["Contribution", "BackwardStep", "Walkthrough", "record_steps"]

_TIMES = "\u00d7"  # the multiplication sign, as a learner writes a product of two numbers


@dataclass(frozen=True)
class Contribution:
    """One edge of the chain rule: inputs[input].grad += local * upstream, before -> after."""

    input: int  # the input's index in Walkthrough.values
    local: float  # d out / d input, recorded by the op
    upstream: float  # out.grad, complete when out is visited
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
            return f"{x:.{digits}g}"

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
                    total = (
                        f"{number(c.before)} + {_bracketed(number(c.local * c.upstream))} = {total}"
                    )
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
    grads = [0.0] * len(values)
    grads[-1] = 1.0  # the root: topological_order puts it last
    steps = []
    # As backward(): in reverse order every use of a Value has added its share before it
    # passes the sum on; the products and their order are the engine's.
    for i in reversed(range(len(values))):
        value = values[i]
        upstream = grads[i]
        contributions = []
        for parent, local in zip(value.parents, value.local_grads, strict=True):
            p = index[parent]
            before = grads[p]
            grads[p] = before + local * upstream
            contributions.append(Contribution(p, local, upstream, before, grads[p]))
        steps.append(BackwardStep(i, upstream, tuple(contributions)))
    return Walkthrough(tuple(values), tuple(steps), tuple(grads))


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
    """What d out / d inputs[which] is for the engine's ops (engine.py's table); "" for others."""
    a = inputs[0]
    b = inputs[1] if len(inputs) > 1 else ""
    if isinstance(op, PowerOp):  # a ** c for a number c
        c = op.exponent
        return f"{c:g}·{a}^{c - 1:g}"
    formulas = {
        "+": ("1", "1"),
        "*": (b, a),  # the other input
        "/": (f"1 / {b}", f"-{out} / {b}"),
        "**": (f"{b}·{a}^({b} - 1)", f"{out}·log({a})"),
        "exp": (out,),
        "log": (f"1 / {a}",),
        "tanh": (f"1 - {out}²",),
        "sigmoid": (f"{out}·(1 - {out})",),
        "relu": (f"1 if {a} > 0 else 0",),
    }
    return formulas.get(op, ("", ""))[which]


def _shares(
    contributions: tuple[Contribution, ...], inputs: list[str], number: Callable[[float], str]
) -> str:
    """ "0.42 to a", "1 to a and -3 to b", "12 to a, twice"."""
    shares = [
        f"{number(c.local * c.upstream)} to {name}"
        for c, name in zip(contributions, inputs, strict=True)
    ]
    if len(shares) == 2 and shares[0] == shares[1] and inputs[0] == inputs[1]:
        return f"{shares[0]}, twice"
    return " and ".join(shares)
