"""The compiled tape: trace a function of Values once, replay it as straight-line Python.

The eager engine builds a new graph of Value objects on every call and walks it to
backpropagate. For a fixed computation -- a model's loss over a fixed dataset -- the
graph is the same every time; only the numbers in it change. `trace` builds the graph
once and writes it out as one Python function, a line per op, forward then backward,
that a learner can print and read (like a jit, shown):

    >>> from tinygrad_xor import Value
    >>> w, x = Value(0.5, "w"), Value(2.0, "x")
    >>> tape = trace(lambda: (w * x).tanh(), parameters=[w], inputs=[x])
    >>> print(tape.source)  # doctest: +ELLIPSIS
    def loss_and_grads(parameters, inputs):
        ...
        (w,) = parameters
        (x,) = inputs
        try:
            # -- forward: each op as the engine computes it --
            v2 = w * x
            v3 = tanh(v2)
            # -- backward: d loss / d node, from the loss back to the parameters --
            # (a + passes its gradient on unchanged: a node used once, by a +, shares its name)
            g3 = 1.0
            g2 = (1.0 - v3 * v3) * g3
            grad_w = 0.0 + x * g2
            return v3, [grad_w], []
        except _RAISED:  # Python's math raised where IEEE gives inf or nan: run the IEEE twin
            return _ieee(parameters, inputs)
    <BLANKLINE>
    >>> tape.replay([0.25], [2.0]).loss == (Value(0.25) * Value(2.0)).tanh().data
    True

Generating Python source and running it with compile() and exec() is the point of this
module, and this is the one place in the package that uses exec. The source is made
only of node numbers, names derived from labels (checked to be plain identifiers), each
op's rule written out as Python (rules.py, formulas.py), float literals and calls to the
rules of ops made by define_op; it runs with no builtins.

What each leaf of the traced graph is -- the caller says so, explicitly:

    parameters  leaves you list; new values at each replay; their gradients come back
    inputs      leaves you list; new values at each replay; no gradient (data, targets)
    constants   every other leaf (a number the engine wrapped, a leaf fn made itself), and
                every node computed from constants alone: written into the source as
                literals, frozen at their traced values

Same numbers as eager: each op is written from its one rule (rules.py), the statement the
engine's inline formulas are tested against bit for bit; an op made by define_op calls its
rule through the engine's own checked call, RuleOp.evaluate; and each gradient is summed in
the order `backward()` sums it, so the loss, the extra outputs and every parameter's
gradient are bitwise those of `loss = fn(); loss.backward()` (interior gradients may differ
in the sign of a zero, which cannot change any of those). `trace` checks this once, at the
traced values.

One code, two sets of functions. The source calls _exp, _log, _pow, _divide and
_reciprocal. The function you call runs them as Python's own C functions (math.exp, ...,
operator.truediv), which raise where IEEE 754 gives inf or nan (exp(1000), log(0), 1/0);
if one raises, the same code runs again as its twin `_ieee`, with tinygrad_xor.floats'
IEEE versions. Where they do not raise, the two agree bit for bit.

Graphs that change. An op whose formula depends on where its input lies (relu's slope,
sigmoid's two forms, pow at 0) is not a change: its generated line makes the same
decision as the engine, at every replay. What a tape cannot see is Python control flow
in fn that reads numbers -- `if x.data > 0: ...`, a clamp that swaps a Value for a
constant -- so a replay follows the branch fn took when it was traced. `check()` re-runs
fn eagerly and compares its graph with the traced one (ops, inputs, constants), raising
GraphChangedError at the first difference; `check_every=k` does that at every k-th
replay, and `retrace=True` rebuilds the tape instead of raising.
"""

from __future__ import annotations

import functools
import keyword
import math
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, TypeAlias

from tinygrad_xor import floats, formulas
from tinygrad_xor.checks import whole_number
from tinygrad_xor.engine import Value, chain_rule, topological_order
from tinygrad_xor.formulas import PRODUCT, SAFE, Expr, statements
from tinygrad_xor.operands import to_float
from tinygrad_xor.rules import Rule, RuleOp

__all__ = [
    "CompileError",
    "GraphChangedError",
    "Replay",
    "Tape",
    "trace",
]

# What a traced function returns: the loss, or the loss and other Values of its graph
# whose numbers you also want back (a model's predictions, say).
Traced: TypeAlias = "Value | tuple[Value, Sequence[Value]]"
TracedFunction: TypeAlias = Callable[[], Traced]
# The generated function: (parameter values, input values) -> (loss, grads, outputs).
CompiledFunction: TypeAlias = Callable[
    [Sequence[float], Sequence[float]], tuple[float, list[float], list[float]]
]


class CompileError(ValueError):
    """The graph cannot be compiled faithfully (an unknown op, an exponent the op name hides).

    An op made by define_op is known: the tape calls its rule, as the engine does.
    """


class GraphChangedError(RuntimeError):
    """fn, re-run at new values, built a different graph from the one the tape was traced from."""


class Replay(NamedTuple):
    """One run of a tape: the loss, d loss / d p per parameter, and the extra outputs' values."""

    loss: float
    grads: list[float]
    outputs: list[float]


# The names the generated code may use, and nothing else (no builtins). The function you
# call gets Python's C functions, fast, raising where IEEE gives inf or nan; its twin
# `_ieee` gets the engine's IEEE helpers, so every number matches the eager op's.
_COMMON: dict[str, object] = {"tanh": math.tanh, "_INF": math.inf, "_NAN": math.nan}
_FAST: dict[str, object] = {
    **_COMMON,
    "_exp": math.exp,
    "_log": math.log,
    "_pow": math.pow,
    "_reciprocal": functools.partial(operator.truediv, 1.0),
    "_divide": operator.truediv,
    "_RAISED": (ArithmeticError, ValueError),  # OverflowError, ZeroDivisionError, domain
}
_IEEE: dict[str, object] = {
    **_COMMON,
    "_exp": floats.exp,
    "_log": floats.log,
    "_pow": floats.power,
    "_reciprocal": floats.reciprocal,
    "_divide": floats.divide,
    "_RAISED": (),  # nothing to fall back to: an error here is the rule's own
}
_NAMESPACE_NAMES = frozenset({*_FAST, *_IEEE, "_ieee"})
_LINE_WIDTH = 96


# -- the traced graph ---------------------------------------------------------------


def _graph_order(root: Value, outputs: Sequence[Value]) -> list[Value]:
    """The loss's graph in topological order, then whatever else the outputs need."""
    order = topological_order(root)
    listed = set(order)
    for out in outputs:
        if out not in listed:
            for node in topological_order(out):
                if node not in listed:
                    listed.add(node)
                    order.append(node)
    return order


def _signature(
    order: list[Value],
    outputs: Sequence[Value],
    parameter_index: dict[Value, int],
    input_index: dict[Value, int],
) -> list[tuple[object, ...]]:
    """What must stay the same for a tape to stay right: each node's op, inputs, constant."""
    position = {node: k for k, node in enumerate(order)}
    rows: list[tuple[object, ...]] = []
    for node in order:
        if node.is_leaf:
            if node in parameter_index:
                rows.append(("parameter", parameter_index[node]))
            elif node in input_index:
                rows.append(("input", input_index[node]))
            else:
                rows.append(("constant", float(node.data).hex()))
        else:
            inputs = [position[parent] for parent in node.parents]
            row = (node.op, inputs[0], inputs[1] if len(inputs) > 1 else -1)
            # Two ops made by define_op may share a name: the rule itself tells them apart.
            rows.append((*row, id(node.op)) if isinstance(node.op, RuleOp) else row)
    rows.append(("outputs", *(position[out] for out in outputs)))
    return rows


class _Trace:
    """The graph fn built, in topological order, with each node's role.

    A node is a parameter, an input, a constant (a leaf you did not list, or an op on
    constants only), or an op. `needs_grad` marks the nodes a parameter affects: only
    their gradients are computed.
    """

    def __init__(
        self,
        root: Value,
        outputs: list[Value],
        parameter_index: dict[Value, int],
        input_index: dict[Value, int],
        parameter_values: list[float],
        input_values: list[float],
    ) -> None:
        self.root = root
        self.outputs = outputs  # any Values of fn's graph, whose numbers replay returns
        self.parameter_index = parameter_index
        self.input_index = input_index
        self.parameter_values = parameter_values
        self.input_values = input_values
        self.order = _graph_order(root, outputs)
        self.loss_graph = set(topological_order(root))
        self.position = {node: k for k, node in enumerate(self.order)}
        self.constant: set[Value] = set()
        self.needs_grad: set[Value] = set()
        for node in self.order:
            if node.is_leaf:
                if node in parameter_index and node in self.loss_graph:
                    self.needs_grad.add(node)
                elif node not in parameter_index and node not in input_index:
                    self.constant.add(node)
                continue
            parents = node.parents
            if self.constant.issuperset(parents):
                self.constant.add(node)
            if node in self.loss_graph and not self.needs_grad.isdisjoint(parents):
                self.needs_grad.add(node)

    def signature(self) -> list[tuple[object, ...]]:
        return _signature(self.order, self.outputs, self.parameter_index, self.input_index)


def _describe(row: tuple[object, ...]) -> str:
    kind = row[0]
    if kind in ("parameter", "input"):
        return f"{kind} {row[1]}"
    if kind == "constant":
        return f"the constant {float.fromhex(str(row[1]))!r}"
    shown = f"{kind}(node {row[1]})" if row[2] == -1 else f"node {row[1]} {kind} node {row[2]}"
    if len(row) == 4:  # an op made by define_op: its name may be another's too
        shown += f" (the define_op at {row[3]:#x})"
    return shown


def _first_difference(old: list[tuple[object, ...]], new: list[tuple[object, ...]]) -> str:
    """Where two signatures first differ: a node, the number of nodes, or the outputs."""
    *old_nodes, old_outputs = old  # each signature ends with its ("outputs", ...) row
    *new_nodes, new_outputs = new
    for k, (was, now) in enumerate(zip(old_nodes, new_nodes, strict=False)):
        if was != now:
            return f"node {k} was {_describe(was)}, now {_describe(now)}"
    if len(old_nodes) != len(new_nodes):
        return f"the graph had {len(old_nodes)} nodes, now {len(new_nodes)}"
    return f"the outputs were at nodes {list(old_outputs[1:])}, now at {list(new_outputs[1:])}"


# -- writing the source ---------------------------------------------------------------

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# Names the generator uses itself: node values v<k>, their gradients g<k>, grad_<leaf>,
# a value's temporaries t<k>, the local derivatives da<k> / db<k> and rules _op<i> of ops
# made by define_op, and the fallbacks p<i> / in<j> for leaves without a usable label.
_RESERVED = re.compile(
    r"(v|g|p|in|da|db|t|_op)[0-9]+(_[0-9]+)?|grad_.*|parameters|inputs|grads|outputs|tanh"
)


def _leaf_names(leaves: Sequence[Value], fallback: str, taken: set[str]) -> list[str]:
    """A readable variable per leaf: its label as an identifier ("w1.3.2" -> w1_3_2), if unique."""
    names = []
    for i, leaf in enumerate(leaves):
        name = re.sub(r"[^A-Za-z0-9_]", "_", leaf.label)
        usable = (
            _IDENTIFIER.fullmatch(name)
            and not _RESERVED.fullmatch(name)
            and not keyword.iskeyword(name)
            and name not in taken
        )
        if not usable:
            name = f"{fallback}{i}"
        taken.add(name)
        names.append(name)
    return names


def _literal(x: float) -> str:
    """x as Python source that evaluates to exactly x."""
    return SAFE.render(float(x))


def _same(x: float, y: float) -> bool:
    """Bitwise equal as floats go: the same number with the same sign of zero, or both nan."""
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return x == y and math.copysign(1.0, x) == math.copysign(1.0, y)


def _bracketed(opening: str, items: Sequence[str], closing: str, indent: str) -> list[str]:
    """`opening item, item, ... closing` as indented source, over several lines if long."""
    joined = ", ".join(items) + ("," if len(items) == 1 and opening.endswith("(") else "")
    one_line = f"{indent}{opening}{joined}{closing}"
    if len(one_line) <= _LINE_WIDTH:
        return [one_line]
    lines = [f"{indent}{opening}"]
    row: list[str] = []
    inner = indent + "    "
    for item in items:
        if row and len(inner + ", ".join([*row, item]) + ",") > _LINE_WIDTH:
            lines.append(inner + ", ".join(row) + ",")
            row = []
        row.append(item)
    lines.append(inner + ", ".join(row) + ",")
    lines.append(f"{indent}{closing}")
    return lines


def _generate(
    traced: _Trace,
    parameter_names: list[str],
    input_names: list[str],
    function_name: str,
) -> tuple[str, dict[str, object]]:
    """The Python source of `function_name(parameters, inputs) -> (loss, grads, outputs)`,
    and the rules it calls (ops made by define_op), by the names it calls them."""
    order = traced.order
    position = traced.position
    value: dict[Value, str] = {}
    grad: dict[Value, str] = {}
    for p, i in traced.parameter_index.items():
        value[p], grad[p] = parameter_names[i], f"grad_{parameter_names[i]}"
    for x, j in traced.input_index.items():
        value[x] = input_names[j]
    for node in order:
        if node in traced.constant:
            value[node] = _literal(node.data)
        elif not node.is_leaf:
            value[node] = f"v{position[node]}"
            grad[node] = f"g{position[node]}"

    ops = [n for n in order if not n.is_leaf and n not in traced.constant]
    rules: dict[int, str] = {}  # id(op) -> _op<i>: two ops may share a name, not a rule
    namespace: dict[str, object] = {}
    for node in ops:
        op = node.op
        if isinstance(op, RuleOp) and id(op) not in rules:
            rules[id(op)] = f"_op{len(rules)}"
            namespace[rules[id(op)]] = op.evaluate  # the engine's own call, checks included
    constants = sum(1 for n in order if n in traced.constant)
    body = "        "
    lines = [
        f"def {function_name}(parameters, inputs):",
        f"    # Generated by tinygrad_xor.compile.trace from a graph of {len(order)} Values:",
        f"    # {len(parameter_names)} parameters, {len(input_names)} inputs, "
        f"{constants} constants (written in as numbers), {len(ops)} ops.",
        "    # Returns the loss, d loss / d parameter for each parameter, and the outputs.",
    ]
    if parameter_names:
        lines += _bracketed("(", parameter_names, ") = parameters", "    ")
    if input_names:
        lines += _bracketed("(", input_names, ") = inputs", "    ")

    lines.append("    try:")
    lines.append(f"{body}# -- forward: each op as the engine computes it --")
    for node in ops:
        lines += [body + line for line in _forward_lines(node, value, rules)]

    lines.append(f"{body}# -- backward: d loss / d node, from the loss back to the parameters --")
    lines.append(
        f"{body}# (a + passes its gradient on unchanged: a node used once, by a +, shares its name)"
    )
    # contributions[n]: the terms (local derivative) * (gradient of an op using n), in
    # the order backward() adds them: ops last-to-first, an op's first input first.
    contributions: dict[Value, list[str]] = {n: [] for n in traced.needs_grad}
    for node in reversed(ops):
        if node not in traced.needs_grad:
            continue
        summands = contributions[node]
        if node is traced.root:
            lines.append(f"{body}{grad[node]} = 1.0")
        elif len(summands) == 1 and summands[0].isidentifier():
            # Used once, by a +: its gradient is that op's, unchanged; reuse the name.
            grad[node] = summands[0]
        else:  # (no summands: every use is flat here, as x ** 0)
            lines += _sum_lines(grad[node], summands or ["0.0"], body)
        for parent, term in zip(
            node.parents, _gradient_terms(node, value, grad[node]), strict=True
        ):
            if parent in traced.needs_grad and term is not None:
                contributions[parent].append(term)
    for p in traced.parameter_index:
        if p not in traced.needs_grad:
            continue
        # A leaf's grad starts at 0.0 and is added to, term by term, as backward() does.
        summands = ["1.0"] if p is traced.root else contributions[p]
        lines += _sum_lines(grad[p], ["0.0", *summands], body)
    # A parameter the loss does not use has no gradient variable: it gets 0.0.
    grads = [grad[p] if p in traced.needs_grad else "0.0" for p in traced.parameter_index]
    outputs = [value[out] for out in traced.outputs]
    loss = value[traced.root]
    short = f"{body}return {loss}, [{', '.join(grads)}], [{', '.join(outputs)}]"
    if len(short) <= _LINE_WIDTH:
        lines.append(short)
    else:
        lines += _bracketed("grads = [", grads, "]", body)
        lines += _bracketed("outputs = [", outputs, "]", body)
        lines.append(f"{body}return {loss}, grads, outputs")
    lines.append(
        "    except _RAISED:  # Python's math raised where IEEE gives inf or nan: run the IEEE twin"
    )
    lines.append("        return _ieee(parameters, inputs)")
    return "\n".join(lines) + "\n", namespace


_TERMS_PER_LINE = 32


def _sum_lines(target: str, summands: list[str], indent: str) -> list[str]:
    """target = s1 + s2 + ..., added left to right, at most 32 terms to a line.

    A node used 10 000 times would otherwise be one expression 10 000 operators deep,
    past what Python's compiler can nest; `g = g + ...` keeps the order of the sum.
    """
    lines = [f"{indent}{target} = {' + '.join(summands[:_TERMS_PER_LINE])}"]
    for start in range(_TERMS_PER_LINE, len(summands), _TERMS_PER_LINE):
        chunk = summands[start : start + _TERMS_PER_LINE]
        lines.append(f"{indent}{target} = {' + '.join([target, *chunk])}")
    return lines


def _local_names(out: str) -> tuple[str, str]:
    """Where an op made by define_op keeps its local derivatives: v<k> -> da<k>, db<k>."""
    return f"da{out[1:]}", f"db{out[1:]}"


def _rule(node: Value) -> Rule:
    op = node.op
    if not isinstance(op, Rule):  # a bare name given to engine.op_result
        raise CompileError(
            f"cannot compile the op {op!r}: it has no rule. The tape knows the engine's ops "
            "and the ops made by tinygrad_xor.define_op: make it with define_op."
        )
    return op


def _forward_lines(node: Value, value: dict[Value, str], rules: dict[int, str]) -> list[str]:
    """The line(s) computing an op node's number, from the op's rule (as the engine does)."""
    op = _rule(node)
    out = value[node]
    inputs = list(map(value.__getitem__, node.parents))
    if isinstance(op, RuleOp):  # one call of its rule gives the value and local derivatives
        targets = ", ".join([out, *_local_names(out)[: op.arity]])
        return [f"{targets} = {rules[id(op)]}({', '.join(inputs)})  # {op}, by its rule"]
    lines = _source_form(op)[0]
    if len(lines) == 1:
        return [lines[0].format(*inputs, out)]
    temporary = "t" + out[1:]
    return [line.format(*inputs, out, temporary) for line in lines]


def _gradient_terms(node: Value, value: dict[Value, str], g: str) -> list[str | None]:
    """For each input: (local derivative) * g as source, as backward() computes it, or
    None where nothing passes (a flat op's zero: relu below 0, x ** 0, at any g)."""
    op = _rule(node)
    out = value[node]
    if isinstance(op, RuleOp):  # the derivatives its rule returned, as backward() uses them
        return [f"{local} * {g}" for local in _local_names(out)[: op.arity]]
    inputs = list(map(value.__getitem__, node.parents))
    terms = _source_form(op)[1]
    return [None if term is None else term.format(*inputs, out, g) for term in terms]


_SourceForm: TypeAlias = tuple[tuple[str, ...], tuple[str | None, ...]]
# id(rule) -> (the rule, its form): by identity, as two rules may share a name; the rule is
# kept, so its id is not reused while its form is here.
_SOURCE_FORMS: dict[int, tuple[Rule, _SourceForm]] = {}


def _source_form(op: Rule) -> _SourceForm:
    """A built-in op's forward lines and gradient terms with fields for its names: {0}, {1}
    its inputs, then its result, then a temporary's name (forward) or the gradient.

    Written from the rule once: writing a rule out is most of trace()'s time, and its
    uses differ only in their names.
    """
    known = _SOURCE_FORMS.get(id(op))
    if known is not None and known[0] is op:
        return known[1]
    inputs = [f"{{{k}}}" for k in range(op.arity)]
    out, last = f"{{{op.arity}}}", f"{{{op.arity + 1}}}"
    value = op.value(SAFE.arithmetic, *map(formulas.name, inputs))
    form = tuple(statements(out, value, SAFE, last)), tuple(_written_terms(op, inputs, out, last))
    if len(_SOURCE_FORMS) < 256:  # powers are many; past that, each is written as needed
        _SOURCE_FORMS[id(op)] = (op, form)
    return form


def _written_terms(op: Rule, inputs: list[str], out: str, g: str) -> list[str | None]:
    """For each input of a built-in op: (local derivative) * g as source, or None."""
    names = [formulas.name(x) for x in inputs]
    locals_ = op.local(SAFE.arithmetic, *names, formulas.name(out))
    zeros = op.zero(*names)
    gradient = formulas.name(g)
    terms: list[str | None] = []
    for k, (local, zero) in enumerate(zip(locals_, zeros, strict=True)):
        # A local derivative of exactly 1.0 (a +, relu's slope) passes g itself: 1.0 * g is g.
        product = gradient if _is_one(local) else local * gradient
        flat = op.flat and k == 0
        if zero is False:
            term: Expr | float | None = product
        elif zero is True:
            term = None if flat else 0.0 * gradient
        elif flat:  # passes 0.0 whatever g is, as backward() does when g is inf or nan
            term = SAFE.arithmetic.where(zero, 0.0, product)
        else:
            term = SAFE.arithmetic.where(zero, 0.0, local) * gradient
        terms.append(None if term is None else SAFE.render(term, binding=PRODUCT))
    return terms


def _is_one(x: object) -> bool:
    return isinstance(x, float) and x == 1.0


def _build_function(source: str, function_name: str, rules: dict[str, object]) -> CompiledFunction:
    """The generated function, and its IEEE twin (`_ieee`) from the same code object."""
    code = compile(source, f"<tinygrad_xor.compile: {function_name}>", "exec")
    ieee: dict[str, Any] = {"__builtins__": {}, **_IEEE, **rules}
    exec(code, ieee)  # the generated source, built above from the graph alone
    fast: dict[str, Any] = {"__builtins__": {}, **_FAST, **rules, "_ieee": ieee[function_name]}
    exec(code, fast)
    function: CompiledFunction = fast[function_name]
    return function


# -- checking arguments ---------------------------------------------------------------


def _declared_leaves(leaves: object, what: str) -> tuple[Value, ...]:
    if isinstance(leaves, (str, bytes, Value)) or not isinstance(leaves, Sequence):
        raise TypeError(
            f"trace({what}=...): expected a list of Values, got {type(leaves).__name__}. "
            f"Pass e.g. {what}=model.parameters()."
        )
    for i, leaf in enumerate(leaves):
        if not isinstance(leaf, Value):
            raise TypeError(f"trace: {what}[{i}] must be a Value, got {type(leaf).__name__}.")
        if not leaf.is_leaf:
            raise ValueError(
                f"trace: {what}[{i}] ({leaf!r}) is the result of an op ({leaf.op!r}), not a "
                "leaf; list the Values you made yourself (weights, data), not computed ones."
            )
    return tuple(leaves)


def _numbers(values: object, expected: int, what: str) -> list[float]:
    """values as a list of floats, checked: the right count, each a real number."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{what}: expected a list of numbers, got {type(values).__name__}.")
    given: list[object] = list(values)
    if len(given) != expected:
        raise ValueError(
            f"{what}: expected {expected} number{'' if expected == 1 else 's'} (one per traced "
            f"leaf, in the order given to trace), got {len(given)}."
        )
    # Each replay passes every weight: the plain float needs no conversion (the common case).
    return [
        v if type(v) is float else to_float(v, f"{what}[{i}]", "a number")
        for i, v in enumerate(given)
    ]


def _call(fn: TracedFunction) -> tuple[Value, list[Value]]:
    result = fn()
    if isinstance(result, Value):
        return result, []
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], Value):
        outputs = list(result[1])
        if all(isinstance(out, Value) for out in outputs):
            return result[0], outputs
    raise TypeError(
        "trace: fn must return the loss Value, or (loss, [other Values]) for outputs you "
        f"also want back; it returned {type(result).__name__} {result!r:.60}."
    )


# -- the tape ---------------------------------------------------------------------------


class Tape:
    """A traced function, compiled: replay it at new numbers for the loss and gradients.

    Build one with `trace`. `replay(parameter_values, input_values)` is the checked
    entry point; `function` is the generated function itself, unchecked, for hot loops.
    """

    def __init__(
        self,
        fn: TracedFunction,
        parameters: tuple[Value, ...],
        inputs: tuple[Value, ...],
        name: str,
        check_every: int,
        retrace: bool,
    ) -> None:
        self.fn = fn
        self.parameters = parameters
        self.inputs = inputs
        self.name = name
        self.check_every = check_every
        self.retrace = retrace
        self.replays = 0
        taken: set[str] = set()
        self._parameter_names = _leaf_names(parameters, "p", taken)
        self._input_names = _leaf_names(inputs, "in", taken)
        self._parameter_index = {p: i for i, p in enumerate(parameters)}
        self._input_index = {x: j for j, x in enumerate(inputs)}
        root, outputs = _call(fn)
        self._load(self._traced(root, outputs))

    def _traced(self, root: Value, outputs: list[Value]) -> _Trace:
        """The graph fn just built, from the leaves' numbers as they are now."""
        return _Trace(
            root,
            outputs,
            self._parameter_index,
            self._input_index,
            [float(p.data) for p in self.parameters],
            [float(x.data) for x in self.inputs],
        )

    def _load(self, traced: _Trace) -> None:
        source, rules = _generate(traced, self._parameter_names, self._input_names, self.name)
        function = _build_function(source, self.name, rules)
        _verify(function, traced)
        self.source = source
        self.function = function
        self.node_count = len(traced.order)
        self._signature = traced.signature()

    # -- running ------------------------------------------------------------------

    def replay(
        self, parameter_values: Sequence[float], input_values: Sequence[float] = ()
    ) -> Replay:
        """The loss, gradients and outputs at these numbers (in the order given to trace)."""
        params = _numbers(parameter_values, len(self.parameters), "replay(parameter_values)")
        inputs = _numbers(input_values, len(self.inputs), "replay(input_values)")
        self.replays += 1
        if self.check_every and self.replays % self.check_every == 0:
            self.check(params, inputs)
        loss, grads, outputs = self.function(params, inputs)
        return Replay(loss, grads, outputs)

    def forward_backward(self) -> Replay:
        """As `loss = fn(); loss.backward()`, at the leaves' current numbers.

        Adds each parameter's gradient to its .grad (leaves accumulate, as in eager)
        and returns the Replay. Values inside fn's graph are not created or touched.
        """
        params = [p.data for p in self.parameters]
        inputs = [x.data for x in self.inputs]
        result = self.replay(params, inputs)
        for p, g in zip(self.parameters, result.grads, strict=True):
            p.grad += g
        return result

    # -- graphs that change ---------------------------------------------------------

    def check(
        self,
        parameter_values: Sequence[float] | None = None,
        input_values: Sequence[float] | None = None,
    ) -> None:
        """Re-run fn eagerly (at these numbers, or the leaves' own) and compare its graph.

        Raises GraphChangedError naming the first node that differs -- or, if the tape
        was traced with retrace=True, compiles the new graph and carries on with it.
        The leaves' numbers are restored afterwards.
        """
        leaves = [*self.parameters, *self.inputs]
        saved = [leaf.data for leaf in leaves]
        # Both lists are refused before any leaf moves: a refusal changes nothing.
        numbers = [
            (group, _numbers(given, len(group), f"check({what})"))
            for group, given, what in (
                (self.parameters, parameter_values, "parameter_values"),
                (self.inputs, input_values, "input_values"),
            )
            if given is not None
        ]
        for group, values in numbers:
            for leaf, v in zip(group, values, strict=True):
                leaf.data = v
        try:
            root, outputs = _call(self.fn)
            signature = _signature(
                _graph_order(root, outputs), outputs, self._parameter_index, self._input_index
            )
            if signature == self._signature:
                return
            if self.retrace:
                self._load(self._traced(root, outputs))
                return
        finally:
            for leaf, v in zip(leaves, saved, strict=True):
                leaf.data = v
        raise GraphChangedError(
            f"the graph of {self.name} changed since it was traced: "
            f"{_first_difference(self._signature, signature)}. fn branches on numbers "
            "(e.g. `if x.data > 0`), so one tape cannot replay it: trace again, or use "
            "trace(..., retrace=True) with check_every=1."
        )

    def __repr__(self) -> str:
        return (
            f"Tape({self.name}: {self.node_count} nodes, {len(self.parameters)} parameters, "
            f"{len(self.inputs)} inputs, {self.source.count(chr(10))} lines of source)"
        )


def _verify(function: CompiledFunction, traced: _Trace) -> None:
    """Run the new function, and its IEEE twin, at the traced numbers: both must give what
    the engine gave (backward()'s own sums, every .grad left as it was)."""
    grads = chain_rule(traced.root)
    expected_grads = [grads.get(p, 0.0) for p in traced.parameter_index]
    expected = [traced.root.data, *expected_grads, *(out.data for out in traced.outputs)]
    for which in (function, function.__globals__["_ieee"]):
        loss, got_grads, outputs = which(traced.parameter_values, traced.input_values)
        got = [loss, *got_grads, *outputs]
        for k, (want, have) in enumerate(zip(expected, got, strict=True)):
            if not _same(want, have):
                raise CompileError(
                    f"the generated code disagrees with the engine at the traced numbers "
                    f"(result {k}: engine {want!r}, compiled {have!r}). An engine op's inline "
                    "formula and its rule (rules.py) disagree; or a rule of define_op gave "
                    "other numbers for the same inputs (it must depend on them alone)."
                )


def trace(
    fn: TracedFunction,
    parameters: Sequence[Value],
    inputs: Sequence[Value] = (),
    *,
    name: str = "loss_and_grads",
    check_every: int = 0,
    retrace: bool = False,
) -> Tape:
    """Call fn() once, record its graph, and compile it into a Tape.

    fn takes no arguments and builds its result from the leaves you list (and any
    constants): it returns the loss, or (loss, [other Values]) to get those Values'
    numbers back too. `parameters` are the leaves to differentiate; `inputs` are leaves
    whose numbers change between replays without a gradient. Every other leaf is a
    constant, frozen at its traced number. `check_every=k` re-runs fn eagerly at every
    k-th replay to catch a graph that changed (0: never); see the module docstring.
    """
    if not callable(fn):
        raise TypeError(f"trace: fn must be a function of no arguments, got {type(fn).__name__}.")
    declared_parameters = _declared_leaves(parameters, "parameters")
    declared_inputs = _declared_leaves(inputs, "inputs")
    seen: set[Value] = set()
    for leaf in (*declared_parameters, *declared_inputs):
        if leaf in seen:
            raise ValueError(
                f"trace: {leaf!r} is listed twice; list each leaf once, as a parameter or "
                "as an input."
            )
        seen.add(leaf)
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"trace: name must be a Python identifier, got {name!r}.")
    if name in _NAMESPACE_NAMES or _RESERVED.fullmatch(name):
        raise ValueError(f"trace: name {name!r} is used inside the generated code; pick another.")
    check_every = whole_number("trace: check_every (0: never)", check_every, at_least=0)
    return Tape(fn, declared_parameters, declared_inputs, name, check_every, bool(retrace))
