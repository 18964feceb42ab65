"""Hypothesis strategies: numbers, random expression graphs over any ops, small networks.

    values()                 floats in [-2, 2]
    expressions(n, ops)      Expression: a DAG of ops over n inputs, called as f(*Values)
    networks()               Network: an MLP, its inputs and targets, loss(*weights)

Each built-in op (rules.BUILT_IN, and Value's operators with numbers) is applied where it
is smooth *by construction*, whatever its input: log(u*u + 1), a / (b*b + 1),
relu(u*u + 0.5); an op smooth everywhere, as it is. So an expression is smooth (no kinks, no
singularities, every value and derivative finite) at any point values() draws, and can
be checked against central differences with no `assume`. An op you define with
define_op is applied to its inputs as they are: where it has a kink or a singularity,
assert_gradients_match says so and skips that point.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hypothesis import strategies as st

from tinygrad_xor.checks import choice, real_number, whole_number
from tinygrad_xor.custom_ops import DefinedOp
from tinygrad_xor.engine import Value
from tinygrad_xor.losses import mse
from tinygrad_xor.nn import ACTIVATIONS, MLP
from tinygrad_xor.rules import BUILT_IN, DIVIDE, EXP, LOG, POWER, RELU, Rule

__all__ = ["BUILTIN_OPS", "Expression", "Network", "values", "expressions", "networks"]


def values(min_value: float = -2.0, max_value: float = 2.0) -> st.SearchStrategy[float]:
    """Finite floats from min_value to max_value (by default [-2, 2]).

    In that range every built-in op of expressions(), and its derivative, is finite,
    and nested exps stay far from overflow.
    """
    low = real_number("values(min_value)", min_value)
    high = real_number("values(max_value)", max_value, at_least=low)
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


# -- the ops of an expression --------------------------------------------------------------


@dataclass(frozen=True)
class _Op:
    """One op of an expression: how to apply it to Values and how to write it."""

    name: str  # as ops=[...] names it
    arity: int
    source: str  # "{0}", "{1}": the inputs; "{c}": the number it takes
    apply: Callable[..., Value]  # (number, *inputs) -> Value
    numbers: tuple[float, ...] = ()  # the number, drawn from these (if any)


def _as_it_is(rule: Rule) -> _Op:
    """An op of the engine applied to its inputs as they are: `a + b`, `a.tanh()`."""
    method = getattr(Value, rule.method)
    if rule.arity == 2:
        return _Op(str(rule), 2, f"{{0}} {rule} {{1}}", lambda c, a, b: method(a, b))
    return _Op(str(rule), 1, f"{{0}}.{rule.method}()", lambda c, a: method(a))


# The engine's ops that need their inputs kept where they are smooth and finite (see the
# module docstring), by rule; every other op of rules.BUILT_IN is applied as it is, so a
# new op that is smooth everywhere needs no row here.
_KEPT_SMOOTH: dict[Rule, tuple[_Op, ...]] = {
    DIVIDE: (_Op("/", 2, "{0} / ({1} * {1} + 1)", lambda c, a, b: a / (b * b + 1)),),
    POWER: (
        _Op("**", 2, "({0} * {0} + 1) ** {1}.tanh()", lambda c, a, b: (a * a + 1) ** b.tanh()),
    ),
    EXP: (_Op("exp", 1, "({0}.tanh() * 2).exp()", lambda c, a: (a.tanh() * 2).exp()),),  # bounded
    LOG: (_Op("log", 1, "({0} * {0} + 1).log()", lambda c, a: (a * a + 1).log()),),
    RELU: (
        _Op("relu+", 1, "({0} * {0} + 0.5).relu()", lambda c, a: (a * a + 0.5).relu()),  # sloped
        # flat:
        _Op("relu-", 1, "(-({0} * {0}) - 0.5).relu()", lambda c, a: (-(a * a) - 0.5).relu()),
    ),
}  # fmt: skip
_EXPONENTS = (-2.0, -1.0, -0.5, 0.5, 1.5)
# Value's operators that are not rules of their own (-, neg) and the ops that take a
# number: x ** c (its rule is made per exponent) and a number on either side.
_WITH_NUMBERS: tuple[_Op, ...] = (
    _Op("-", 2, "{0} - {1}", lambda c, a, b: a - b),
    _Op("neg", 1, "-{0}", lambda c, a: -a),
    _Op("**n", 1, "{0} ** {c}", lambda c, a: a**c, (1, 2, 3)),
    _Op("**c", 1, "({0} * {0} + 1) ** {c}", lambda c, a: (a * a + 1) ** c, _EXPONENTS),
    _Op("c**", 1, "{c} ** {0}.tanh()", lambda c, a: c ** a.tanh(), (0.5, 2.0, 3.0)),
    _Op("c/", 1, "{c} / ({0} * {0} + 1)", lambda c, a: c / (a * a + 1), (1.0, -2.5)),
    _Op("c-", 1, "{c} - {0}", lambda c, a: c - a, (1.0, -0.5)),
    _Op("c+", 1, "{c} + {0}", lambda c, a: c + a, (1.5, -0.5)),
    _Op("c*", 1, "{c} * {0}", lambda c, a: c * a, (2.0, -1.5, 0.5)),
)  # fmt: skip
_BUILTIN: tuple[_Op, ...] = (
    *(op for rule in BUILT_IN for op in _KEPT_SMOOTH.get(rule, (_as_it_is(rule),))),
    *_WITH_NUMBERS,
)
_BY_NAME = {op.name: op for op in _BUILTIN}

BUILTIN_OPS: tuple[str, ...] = tuple(op.name for op in _BUILTIN)
"""The names expressions(ops=[...]) takes for the engine's own ops (and uses by default)."""


def _defined(op: DefinedOp) -> _Op:
    if re.fullmatch(r"f|Value|[xv][0-9]+", op.name):  # the names Expression.source uses
        raise ValueError(
            f"expressions(ops=...): Expression.source has a name {op.name!r} of its own (the "
            f"function f, Value, the variables x0, v1, ...), so an op named {op.name!r} would "
            f"be read as that; define it under another name, e.g. '{op.name}_op'."
        )
    inputs = ", ".join(f"{{{k}}}" for k in range(op.arity))
    return _Op(op.name, op.arity, f"{op.name}({inputs})", lambda c, *xs: op(*xs))


def _ops(ops: Sequence[str | DefinedOp] | None) -> tuple[_Op, ...]:
    if ops is None:
        return _BUILTIN
    if isinstance(ops, (str, DefinedOp)) or not isinstance(ops, Sequence) or not ops:
        raise TypeError(
            f"expressions(ops=...): expected a non-empty list of ops, got {ops!r}; e.g. "
            f"ops=[sin, '*', '+'] (names from BUILTIN_OPS, ops from define_op)."
        )
    chosen = []
    for op in ops:
        if isinstance(op, DefinedOp):
            chosen.append(_defined(op))
        elif isinstance(op, str) and op in _BY_NAME:
            chosen.append(_BY_NAME[op])
        elif isinstance(op, str):
            raise ValueError(
                f"expressions(ops=...): unknown op {op!r}; the built-in ones are "
                f"{', '.join(BUILTIN_OPS)}, and any op made by define_op."
            )
        else:
            raise TypeError(
                f"expressions(ops=...): {op!r} is neither a name from BUILTIN_OPS nor an op "
                "made by define_op."
            )
    return tuple(chosen)


# -- expressions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    """Node n_inputs + k: an op of earlier nodes (with its number), or a constant."""

    op: _Op | None  # None: the constant `number`
    inputs: tuple[int, ...]
    number: float


class Expression:
    """A random expression of n inputs: f(*inputs) builds its graph and returns the output.

    Node k < n is input k; each step makes the next node from earlier ones, so a node
    can be used many times (a DAG). The last node is the output. `source` is the
    expression as Python; repr shows it on one line (so hypothesis prints it).
    """

    def __init__(self, n_inputs: int, steps: Sequence[_Step]) -> None:
        self.n_inputs = n_inputs
        self.steps = tuple(steps)

    @property
    def ops(self) -> frozenset[str]:
        """The names of the ops it uses."""
        return frozenset(step.op.name for step in self.steps if step.op is not None)

    def __call__(self, *inputs: Value | float) -> Value:
        if len(inputs) != self.n_inputs:
            raise TypeError(
                f"{self!r} takes {self.n_inputs} inputs, got {len(inputs)}; to check it, "
                f"give assert_gradients_match one tuple of {self.n_inputs} numbers per point."
            )
        nodes = [x if isinstance(x, Value) else Value(x) for x in inputs]
        for step in self.steps:
            if step.op is None:
                nodes.append(Value(step.number))
            else:
                nodes.append(step.op.apply(step.number, *(nodes[i] for i in step.inputs)))
        return nodes[-1]

    def _lines(self) -> list[str]:
        names = [f"x{i}" for i in range(self.n_inputs)]
        lines = []
        for step in self.steps:
            name = f"v{len(names)}"
            if step.op is None:
                lines.append(f"{name} = Value({step.number!r})")
            else:
                number = step.number if step.op.numbers else ""
                text = step.op.source.format(*(names[i] for i in step.inputs), c=number)
                lines.append(f"{name} = {text}")
            names.append(name)
        return [*lines, f"return {names[-1]}"]

    @property
    def source(self) -> str:
        """The expression as a Python function of Values."""
        arguments = ", ".join(f"x{i}" for i in range(self.n_inputs))
        body = "".join(f"    {line}\n" for line in self._lines())
        return f"def f({arguments}):\n{body}"

    def __repr__(self) -> str:
        arguments = ", ".join(f"x{i}" for i in range(self.n_inputs))
        return f"Expression({arguments}: {'; '.join(self._lines())})"


@st.composite
def _expression(
    draw: st.DrawFn, n_inputs: int, ops: tuple[_Op, ...], max_depth: int, max_ops: int
) -> Expression:
    depth = [0] * n_inputs  # ops on the longest path from an input to each node
    steps: list[_Step] = []
    for _ in range(draw(st.integers(1, max_ops))):
        if draw(st.integers(0, 9)) == 0:  # now and then a constant
            steps.append(_Step(None, (), draw(values())))
            depth.append(0)
            continue
        op = draw(st.sampled_from(ops))
        usable = [k for k, d in enumerate(depth) if d < max_depth]
        # Mostly a recent node (deep chains), sometimes any (shared nodes: a DAG).
        back = [
            draw(st.one_of(st.integers(0, 2), st.integers(0, len(usable) - 1)))
            for _ in range(op.arity)
        ]
        inputs = tuple(usable[-1 - min(k, len(usable) - 1)] for k in back)
        number = draw(st.sampled_from(op.numbers)) if op.numbers else 0.0
        steps.append(_Step(op, inputs, number))
        depth.append(1 + max(depth[i] for i in inputs))
    return Expression(n_inputs, steps)


def expressions(
    n_inputs: int = 3,
    ops: Sequence[str | DefinedOp] | None = None,
    *,
    max_depth: int = 6,
    max_ops: int = 10,
) -> st.SearchStrategy[Expression]:
    """Random expressions of n_inputs inputs, as callables f(*Values) -> Value.

    Up to max_ops ops (and a few constants), no path from an input to a node longer
    than max_depth ops; nodes are reused (a DAG, not only a tree). `ops`: the ops to
    draw from, names from BUILTIN_OPS and ops made by define_op (default: all of
    BUILTIN_OPS). Hypothesis shrinks a failing one to few ops and recent inputs.
    """
    n = whole_number("expressions(n_inputs)", n_inputs)
    chosen = _ops(ops)
    depth = whole_number("expressions(max_depth)", max_depth)
    count = whole_number("expressions(max_ops)", max_ops)
    return _expression(n, chosen, depth, count)


# -- networks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Network:
    """A small MLP with its inputs and targets; `loss(*weights)` is their MSE at those weights.

    `weights` are the numbers of model.parameters(), in that order, so
    `assert_gradients_match(network.loss, network.weights)` checks every weight.
    """

    model: MLP
    inputs: tuple[tuple[float, ...], ...]
    targets: tuple[float, ...]

    @property
    def weights(self) -> tuple[float, ...]:
        return tuple(p.data for p in self.model.parameters())

    def loss(self, *weights: Value) -> Value:
        """mse(model(x) for x in inputs, targets), with `weights` in the parameters' places."""
        count = len(self.model.parameters())
        if len(weights) != count:
            raise TypeError(
                f"Network.loss takes {count} weights, got {len(weights)}; to check it, "
                "give assert_gradients_match the tuple network.weights as one point."
            )
        neurons = [neuron for layer in self.model.layers for neuron in layer.neurons]
        own = [(neuron.w, neuron.b) for neuron in neurons]
        given = iter(weights)
        try:  # the model's own forward pass, with these leaves as its parameters
            for neuron in neurons:
                neuron.w = [next(given) for _ in neuron.w]
                neuron.b = next(given) if neuron.b is not None else None
            predictions = [self.model(list(x))[0] for x in self.inputs]
            return mse(predictions, list(self.targets))
        finally:
            for neuron, (w, b) in zip(neurons, own, strict=True):
                neuron.w, neuron.b = w, b

    def __repr__(self) -> str:
        return f"Network({self.model!r}, inputs={self.inputs!r}, targets={self.targets!r})"


@st.composite
def _network(
    draw: st.DrawFn,
    max_inputs: int,
    max_width: int,
    max_layers: int,
    samples: int,
    activations: tuple[str, ...],
) -> Network:
    nin = draw(st.integers(1, max_inputs))
    hidden = draw(st.lists(st.integers(1, max_width), max_size=max_layers - 1))
    model = MLP(
        nin,
        [*hidden, 1],
        activation=draw(st.sampled_from(activations)),
        output_activation=draw(st.sampled_from(activations)),
        seed=draw(st.integers(0, 2**32 - 1)),
    )
    inputs = draw(st.lists(st.tuples(*[values()] * nin), min_size=1, max_size=samples))
    targets = draw(st.lists(values(0.0, 1.0), min_size=len(inputs), max_size=len(inputs)))
    return Network(model, tuple(inputs), tuple(targets))


def networks(
    *,
    max_inputs: int = 3,
    max_width: int = 4,
    max_layers: int = 2,
    samples: int = 4,
    activations: Sequence[str] = ("sigmoid", "tanh"),
) -> st.SearchStrategy[Network]:
    """Small MLPs with seeded random weights, their inputs (from values()) and targets
    (in [0, 1]): up to max_layers layers, the hidden ones up to max_width wide, one
    output, up to `samples` samples. `activations` from nn.ACTIVATIONS (relu has kinks:
    assert_gradients_match skips a point next to one)."""
    nin = whole_number("networks(max_inputs)", max_inputs)
    width = whole_number("networks(max_width)", max_width)
    layers = whole_number("networks(max_layers)", max_layers)
    count = whole_number("networks(samples)", samples)
    if isinstance(activations, str) or not activations:
        raise TypeError(
            f"networks(activations=...): expected a list of names, got {activations!r}."
        )
    for name in activations:
        choice("networks(activations)", name, ACTIVATIONS)
    return _network(nin, width, layers, count, tuple(activations))
