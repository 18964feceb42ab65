"""The compiled tape replays exactly what the eager engine computes.

Random graphs (hypothesis: DAGs with shared nodes over every op, at any float
including inf, nan and -0.0) and MLPs: the replayed loss, outputs and parameter
gradients are bitwise those of `loss = fn(); loss.backward()`. A function that
branches on numbers is caught by check(); the generated source is plain Python.
"""

from __future__ import annotations

import ast
import json
import math
import struct
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st
from refusals import Refusal, assert_refused, each_refusal

from tinygrad_xor import define_op, engine, floats
from tinygrad_xor.cli import main
from tinygrad_xor.compile import CompileError, GraphChangedError, Tape, trace
from tinygrad_xor.data import XOR
from tinygrad_xor.engine import Value
from tinygrad_xor.losses import get_loss, mse
from tinygrad_xor.nn import MLP
from tinygrad_xor.optim import SGD
from tinygrad_xor.train import autograd_step, compiled_step, train


def bits(x: float) -> int:
    """The float's bit pattern, with every nan as one pattern (nan payloads are not compared)."""
    return -1 if math.isnan(x) else struct.unpack("<q", struct.pack("<d", x))[0]


def assert_same(engine_value: float, compiled_value: float, what: str) -> None:
    assert bits(engine_value) == bits(compiled_value), (
        f"{what}: engine {engine_value!r}, compiled {compiled_value!r}"
    )


# -- random graphs ---------------------------------------------------------------------

N_PARAMETERS, N_INPUTS = 3, 2
EXPONENTS = [2.0, 3.0, 1.0, 0.0, -1.0, -2.0, 0.5, -0.5, 2.5]
UNARY = ["neg", "exp", "log", "tanh", "sigmoid", "relu"]
BINARY = ["add", "sub", "mul", "div", "vpow"]
WITH_NUMBER = ["pow", "radd", "rsub", "rmul", "rdiv", "rpow", "addc", "mulc"]

special = st.sampled_from(
    [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, math.inf, -math.inf, math.nan, 710.0, -710.0, 1e308, 5e-324]
)
moderate = st.floats(-3.0, 3.0)
# Mostly moderate numbers, where every derivative matters; sometimes the edges of IEEE.
numbers_ = st.one_of(moderate, moderate, moderate, special, st.floats())
# Which earlier node an op uses, counted back from the newest: mostly a recent one
# (deep chains), sometimes any (shared nodes, a DAG rather than a tree).
back = st.one_of(st.integers(0, 2), st.integers(0, 10**6))
# One step of a graph: (kind, first node, second node or a number).
step = st.one_of(
    st.tuples(st.sampled_from(UNARY), back, st.just(0.0)),
    st.tuples(st.sampled_from(BINARY), back, back),
    st.tuples(st.sampled_from(WITH_NUMBER), back, numbers_),
    st.tuples(st.just("pow"), back, st.sampled_from(EXPONENTS)),
)
Recipe = list[tuple[str, int, object]]


def atan_rule(x: float) -> tuple[float, float]:
    return math.atan(x), floats.reciprocal(1.0 + x * x)  # total: inf, nan and -0.0 included


def hypot_rule(x: float, y: float) -> tuple[float, float, float]:
    h = math.hypot(x, y)
    return h, floats.divide(x, h), floats.divide(y, h)


# Ops a learner defines: the tape calls their rules, through the engine's own checked call.
DEFINED = {"atan": define_op("atan", atan_rule), "hypot": define_op("hypot", hypot_rule)}


def apply(kind: str, a: Value, b: Value, c: float) -> Value:
    """One op of the engine: a unary op of a, a binary op of a and b, or one with number c."""
    if kind in DEFINED:
        op = DEFINED[kind]
        return op(a) if op.arity == 1 else op(a, b)
    unary: dict[str, Callable[[Value], Value]] = {
        "neg": Value.__neg__,
        "exp": Value.exp,
        "log": Value.log,
        "tanh": Value.tanh,
        "sigmoid": Value.sigmoid,
        "relu": Value.relu,
    }
    if kind in unary:
        return unary[kind](a)
    binary: dict[str, Callable[[Value, Value], Value]] = {
        "add": Value.__add__,
        "sub": Value.__sub__,
        "mul": Value.__mul__,
        "div": Value.__truediv__,
        "vpow": Value.__pow__,
    }
    if kind in binary:
        return binary[kind](a, b)
    with_number: dict[str, Callable[[Value, float], Value]] = {
        "pow": Value.__pow__,
        "radd": Value.__radd__,
        "rsub": Value.__rsub__,
        "rmul": Value.__rmul__,
        "rdiv": Value.__rtruediv__,
        "rpow": Value.__rpow__,
        "addc": Value.__add__,
        "mulc": Value.__mul__,
    }
    return with_number[kind](a, c)


def build(recipe: Recipe, leaves: Sequence[Value], constant: float) -> tuple[Value, list[Value]]:
    """The graph a recipe describes: (the last node, every node), from the given leaves."""
    # The leaves last, so that the first ops (which mostly take recent nodes) use them.
    nodes: list[Value] = [Value(constant), *reversed(leaves)]
    for kind, i, other in recipe:
        a = nodes[-1 - i % len(nodes)]
        b = nodes[-1 - other % len(nodes)] if isinstance(other, int) else a
        c = float(other) if isinstance(other, float) else 0.0
        nodes.append(apply(kind, a, b, c))
    return nodes[-1], nodes


def eager(
    recipe: Recipe, constant: float, parameter_values: list[float], input_values: list[float]
) -> tuple[float, list[float], list[float]]:
    parameters = [Value(v) for v in parameter_values]
    inputs = [Value(v) for v in input_values]
    root, nodes = build(recipe, [*parameters, *inputs], constant)
    root.backward()
    return root.data, [p.grad for p in parameters], [n.data for n in nodes[-3:]]


def check_replay_equals_eager(
    recipe: Recipe, constant: float, traced_at: list[float], replayed_at: list[float]
) -> None:
    parameters = [Value(v, f"w{i}") for i, v in enumerate(traced_at[:N_PARAMETERS])]
    inputs = [Value(v, f"x{j}") for j, v in enumerate(traced_at[N_PARAMETERS:])]

    def fn() -> tuple[Value, list[Value]]:
        root, nodes = build(recipe, [*parameters, *inputs], constant)
        return root, nodes[-3:]

    tape = trace(fn, parameters, inputs)
    for at in (traced_at, replayed_at):
        params, ins = at[:N_PARAMETERS], at[N_PARAMETERS:]
        loss, grads, outputs = eager(recipe, constant, params, ins)
        replay = tape.replay(params, ins)
        assert_same(loss, replay.loss, "loss")
        for i, (want, got) in enumerate(zip(grads, replay.grads, strict=True)):
            assert_same(want, got, f"d loss / d w{i}")
        for k, (want, got) in enumerate(zip(outputs, replay.outputs, strict=True)):
            assert_same(want, got, f"output {k}")


N_LEAVES = N_PARAMETERS + N_INPUTS
recipes = st.lists(step, min_size=1, max_size=25)


@given(
    recipe=recipes,
    constant=moderate,
    traced_at=st.lists(moderate, min_size=N_LEAVES, max_size=N_LEAVES),
    replayed_at=st.lists(moderate, min_size=N_LEAVES, max_size=N_LEAVES),
)
def test_replay_equals_eager_bitwise_on_random_graphs(
    recipe: Recipe, constant: float, traced_at: list[float], replayed_at: list[float]
) -> None:
    check_replay_equals_eager(recipe, constant, traced_at, replayed_at)


@given(
    recipe=recipes,
    constant=numbers_,
    traced_at=st.lists(numbers_, min_size=N_LEAVES, max_size=N_LEAVES),
    replayed_at=st.lists(numbers_, min_size=N_LEAVES, max_size=N_LEAVES),
)
def test_replay_equals_eager_bitwise_at_ieee_edges(
    recipe: Recipe, constant: float, traced_at: list[float], replayed_at: list[float]
) -> None:
    # inf, nan, -0.0, overflow, 0 ** negative ...: the same nan, inf or signed zero as eager.
    check_replay_equals_eager(recipe, constant, traced_at, replayed_at)


EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, math.inf, -math.inf, math.nan, 710.0, -710.0, 1e308]


@pytest.mark.parametrize("kind", UNARY + BINARY + WITH_NUMBER)
def test_every_op_at_every_edge_pair(kind: str) -> None:
    # Exhaustive where hypothesis is unlikely to land: exact zeros of both signs (relu'(0),
    # 0 ** y, log 0), infinities, nan, and the overflow points of exp and pow.
    for x in EDGES:
        for y in EDGES:
            other: object = y if kind in WITH_NUMBER else 1
            recipe: Recipe = [(kind, 0, other)]
            check_replay_equals_eager(recipe, 0.0, [x, y, 0.0, 0.0, 0.0], [y, x, 0.0, 0.0, 0.0])


@pytest.mark.parametrize("exponent", EXPONENTS)
def test_number_powers_at_every_edge_with_every_upstream_gradient(exponent: float) -> None:
    # (x ** c) * w: the gradient arriving at the power is w, so 0 * inf = nan shows up too.
    recipe: Recipe = [("pow", 0, exponent), ("mul", 0, 2)]
    for x in EDGES:
        for w in EDGES:
            check_replay_equals_eager(recipe, 0.0, [x, w, 0.0, 0.0, 0.0], [w, x, 0.0, 0.0, 0.0])


# The same random graphs with the defined ops among the engine's, at any float.
step_with_defined_ops = st.one_of(
    step,
    st.tuples(st.just("atan"), back, st.just(0.0)),
    st.tuples(st.just("hypot"), back, back),
)


@given(
    recipe=st.lists(step_with_defined_ops, min_size=1, max_size=25),
    constant=numbers_,
    traced_at=st.lists(numbers_, min_size=N_LEAVES, max_size=N_LEAVES),
    replayed_at=st.lists(numbers_, min_size=N_LEAVES, max_size=N_LEAVES),
)
def test_replay_equals_eager_bitwise_with_defined_ops(
    recipe: Recipe, constant: float, traced_at: list[float], replayed_at: list[float]
) -> None:
    check_replay_equals_eager(recipe, constant, traced_at, replayed_at)


def test_a_defined_op_replays_by_calling_its_rule() -> None:
    w, x = Value(0.5, "w"), Value(2.0, "x")
    calls: list[float] = []

    def counted(v: float) -> tuple[float, float]:
        calls.append(v)
        return atan_rule(v)

    atan = define_op("atan", counted)
    tape = trace(lambda: DEFINED["hypot"](atan(w * x), w), [w], [x])
    assert "v3, da3 = _op0(v2)  # atan, by its rule" in tape.source
    assert "v4, da4, db4 = _op1(v3, w)  # hypot, by its rule" in tape.source
    calls.clear()
    replay = tape.replay([0.25], [3.0])
    assert calls == [0.75]  # once per replay, at the replayed number
    w.data, x.data = 0.25, 3.0
    eager = DEFINED["hypot"](atan(w * x), w)
    eager.backward()
    assert_same(eager.data, replay.loss, "loss")
    assert_same(w.grad, replay.grads[0], "d loss / d w")


def test_two_defined_ops_of_one_name_are_two_rules_and_a_switch_is_a_graph_change() -> None:
    first = define_op("f", lambda v: (2.0 * v, 2.0))
    second = define_op("f", lambda v: (3.0 * v, 3.0))
    w = Value(1.0, "w")
    tape = trace(lambda: first(w) + second(w), [w])
    assert tape.replay([2.0]) == (10.0, [5.0], [])
    use_second = False
    switching = trace(lambda: (second if use_second else first)(w), [w], check_every=1)
    use_second = True
    with pytest.raises(GraphChangedError, match=r"node 1 was f\(node 0\) \(the define_op at"):
        switching.replay([1.0])


def test_a_rule_that_fails_at_replay_names_the_op() -> None:
    root = define_op("root", lambda v: (math.sqrt(v), 0.5 / math.sqrt(v)))
    w = Value(4.0, "w")
    tape = trace(lambda: root(w), [w])
    with pytest.raises(ValueError, match=r"root\(-1\.0\): the rule raised ValueError"):
        tape.replay([-1.0])


def test_the_random_graphs_cover_every_op_of_the_engine() -> None:
    # Every op name the engine can produce, made once by the recipe kinds above.
    parameters = [Value(0.7), Value(-1.3), Value(2.0)]
    recipe: Recipe = [(kind, 0, 1) for kind in UNARY + BINARY] + [
        (kind, 0, 2.0) for kind in WITH_NUMBER
    ]
    _, nodes = build(recipe, parameters, 0.5)
    made = {n.op for node in nodes for n in engine.topological_order(node)}
    engine_ops = {"+", "*", "/", "**", "**2", "exp", "log", "tanh", "sigmoid", "relu"}
    assert engine_ops <= made
    public = {name for name in vars(Value) if not name.startswith("_")}
    unary_methods = {"exp", "log", "tanh", "sigmoid", "relu"}
    # If the engine grows an op, this fails: add it to the recipes and to compile.py.
    assert public - {
        "op",
        "parents",
        "local_grads",
        "is_leaf",
        "backward",
        "zero_grad",
        "item",
    } == (unary_methods | {"data", "grad", "label"})


# -- MLPs ----------------------------------------------------------------------------------


def xor_loss(model: MLP) -> Callable[[], tuple[Value, list[Value]]]:
    def fn() -> tuple[Value, list[Value]]:
        outputs = [model(list(x))[0] for x in XOR.inputs]
        return mse(outputs, list(XOR.targets)), outputs

    return fn


@pytest.mark.parametrize(
    ("sizes", "activation"), [([5, 1], "sigmoid"), ([4, 3, 1], "tanh"), ([6, 1], "relu")]
)
def test_replay_equals_eager_on_an_mlp_at_new_weights(sizes: list[int], activation: str) -> None:
    model = MLP(2, sizes, activation=activation, seed=1)
    tape = trace(xor_loss(model), model.parameters())
    other = MLP(2, sizes, activation=activation, seed=2)  # new weights: relu signs change too
    model.load_state_dict(other.state_dict())
    model.zero_grad()
    loss, outputs = xor_loss(model)()
    loss.backward()
    replay = tape.replay([p.data for p in model.parameters()])
    assert_same(loss.data, replay.loss, "loss")
    for p, g in zip(model.parameters(), replay.grads, strict=True):
        assert_same(p.grad, g, p.label)
    for out, got in zip(outputs, replay.outputs, strict=True):
        assert_same(out.data, got, "prediction")


def test_training_with_the_compiled_step_equals_eager_training() -> None:
    histories = []
    for make_step in (None, compiled_step):
        model = MLP(2, [5, 1], seed=0)
        optimizer = SGD(model.parameters(), lr=0.3)
        if make_step is None:
            history = train(model, XOR, optimizer, epochs=300)
        else:
            history = train(model, XOR, optimizer, epochs=300, make_step=make_step)
        histories.append((history, model.state_dict()))
    (eager_history, eager_state), (compiled_history, compiled_state) = histories
    assert [bits(x) for x in eager_history.losses] == [bits(x) for x in compiled_history.losses]
    assert eager_state == compiled_state


def test_train_compile_on_the_command_line_prints_what_train_prints(
    capsys: pytest.CaptureFixture[str],
) -> None:
    outputs = []
    for extra in ([], ["--compile"]):
        assert main(["train", "--json", "--quiet", "--epochs", "300", *extra]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1]


def test_bce_clamp_changes_the_graph_and_the_compiled_step_follows_it() -> None:
    model = MLP(2, [5, 1], seed=0)
    loss_fn = get_loss("bce")
    checked = compiled_step(model, XOR, loss_fn, check_every=1, retrace=True)
    unchecked = compiled_step(model, XOR, loss_fn, check_every=1, retrace=False)
    # Every prediction becomes exactly 1.0, so bce floors log(1 - p) = log 0 at -100: a
    # constant where the traced graph had a log.
    output_bias = model.layers[1].neurons[0].b
    assert output_bias is not None
    output_bias.data = 40.0
    model.zero_grad()
    eager = autograd_step(model, XOR, loss_fn)()
    eager_grads = [p.grad for p in model.parameters()]
    model.zero_grad()
    compiled = checked()
    assert_same(eager.loss, compiled.loss, "bce loss")
    for p, want in zip(model.parameters(), eager_grads, strict=True):
        assert_same(want, p.grad, p.label)
    with pytest.raises(GraphChangedError, match=r"now the constant -100\.0"):
        unchecked()


def test_forward_backward_accumulates_into_grad_as_backward_does() -> None:
    w = Value(0.3, "w")
    tape = trace(lambda: (w * w).sigmoid(), [w])
    w.grad = 0.25  # left over from an earlier call: both add to it
    tape.forward_backward()
    compiled = w.grad
    w.grad = 0.25
    (w * w).sigmoid().backward()
    assert_same(w.grad, compiled, "w.grad")


def test_a_parameter_used_thousands_of_times_compiles_and_sums_in_eager_order() -> None:
    # Its gradient is a sum of 3000 terms: one expression would be too deep for Python's
    # compiler, so the tape splits it over lines, keeping the order of the additions.
    x, w = Value(0.5, "x"), Value(1.5, "w")

    def chain() -> Value:
        y = x
        for _ in range(3000):
            y = (y * w).tanh()
        return y

    tape = trace(chain, [w], [x])
    assert "grad_w = grad_w + " in tape.source
    x.data, w.data = 0.25, 0.9
    y = chain()
    y.backward()
    replay = tape.replay([0.9], [0.25])
    assert_same(y.data, replay.loss, "y")
    assert_same(w.grad, replay.grads[0], "dy/dw")


# -- graphs that change --------------------------------------------------------------------


def test_relu_changing_side_is_not_a_graph_change() -> None:
    x = Value(1.0, "x")
    tape = trace(lambda: (x * 3.0).relu() * x, [x], check_every=1)
    for at in (2.0, -2.0, 0.0, -0.0, math.nan):
        want = Value(at)
        y = (want * 3.0).relu() * want
        y.backward()
        replay = tape.replay([at])
        assert_same(y.data, replay.loss, f"relu at {at}")
        assert_same(want.grad, replay.grads[0], f"relu slope at {at}")


def branching(x: Value) -> Value:
    # Python control flow on a number: the tape records only the branch taken.
    return x * 2.0 if x.data > 0 else x.exp()


def test_a_branch_on_data_is_caught_by_check() -> None:
    x = Value(1.0, "x")
    tape = trace(lambda: branching(x), [x])
    tape.check([3.0])  # same branch: fine
    with pytest.raises(GraphChangedError) as e:
        tape.check([-1.0])
    assert x.data == 1.0  # check restores the leaves
    # the message names the tape, the first node that differs, and gives both ways out
    assert str(e.value) == (
        "the graph of loss_and_grads changed since it was traced: node 1 was the constant 2.0, "
        "now exp(node 0). fn branches on numbers (e.g. `if x.data > 0`), so one tape cannot "
        "replay it: trace again, or use trace(..., retrace=True) with check_every=1."
    )


def test_check_restores_the_inputs_numbers_too() -> None:
    w, x = Value(2.0, "w"), Value(0.5, "x")
    tape = trace(lambda: w * branching(x), [w], [x])
    tape.check([3.0], [4.0])  # same branch
    with pytest.raises(GraphChangedError):
        tape.check([3.0], [-4.0])
    assert (w.data, x.data) == (2.0, 0.5)


def test_a_refused_check_moves_no_leaf() -> None:
    # The parameters are refused or accepted together with the inputs, before either moves.
    w, x = Value(2.0, "w"), Value(0.5, "x")
    tape = trace(lambda: w * branching(x), [w], [x])
    with pytest.raises(ValueError) as caught:
        tape.check([5.0], [1.0, 2.0])
    assert str(caught.value) == (
        "check(input_values): expected 1 number (one per traced leaf, in the order given to "
        "trace), got 2."
    )
    assert (w.data, x.data) == (2.0, 0.5)


def test_check_every_replay_raises_instead_of_replaying_the_wrong_branch() -> None:
    x = Value(1.0, "x")
    tape = trace(lambda: branching(x), [x], check_every=1)
    assert tape.replay([5.0]).loss == 10.0
    with pytest.raises(GraphChangedError):
        tape.replay([-1.0])


def test_retrace_follows_the_new_branch() -> None:
    x = Value(1.0, "x")
    tape = trace(lambda: branching(x), [x], check_every=1, retrace=True)
    replay = tape.replay([-1.0])
    assert_same(math.exp(-1.0), replay.loss, "exp branch")
    assert_same(math.exp(-1.0), replay.grads[0], "its slope")
    assert "_exp(x)" in tape.source


def test_a_constant_made_from_data_is_caught_by_check() -> None:
    x = Value(2.0, "x")
    tape = trace(lambda: x * Value(x.data), [x])  # Value(x.data) is frozen at 2.0
    with pytest.raises(GraphChangedError, match=r"the constant 2\.0, now the constant 5\.0"):
        tape.check([5.0])


def what_changed(tape: Tape, parameter_values: list[float]) -> str:
    """What GraphChangedError says changed, between the tape's name and the ways out."""
    with pytest.raises(GraphChangedError) as e:
        tape.check(parameter_values)
    head = f"the graph of {tape.name} changed since it was traced: "
    tail = ". fn branches on numbers (e.g. `if x.data > 0`), so one tape cannot replay it: "
    message = str(e.value)
    assert message.startswith(head) and tail in message, message
    return message[len(head) : message.index(tail)]


def test_a_changed_leaf_says_which_parameter_input_or_constant_it_is_now() -> None:
    # Nodes are numbered in topological order: an op's first input's graph first.
    w, v, x, y = Value(1.0, "w"), Value(2.0, "v"), Value(3.0, "x"), Value(4.0, "y")
    swapped = trace(lambda: w * v if w.data > 0 else v * w, [w, v])
    assert what_changed(swapped, [-1.0, 2.0]) == "node 0 was parameter 0, now parameter 1"
    inputs = trace(lambda: w * (x * y if w.data > 0 else y * x), [w], [x, y])
    assert what_changed(inputs, [-1.0]) == "node 1 was input 0, now input 1"
    unlisted = Value(0.375, "u")  # a leaf not given to trace: a constant
    leaf = trace(lambda: w.exp() if w.data > 0 else unlisted.exp(), [w])
    assert what_changed(leaf, [-1.0]) == "node 0 was parameter 0, now the constant 0.375"


def test_a_changed_op_is_written_with_the_nodes_it_reads() -> None:
    w, x = Value(1.0, "w"), Value(3.0, "x")
    binary = trace(lambda: w * x if w.data > 0 else w + x, [w], [x])
    assert what_changed(binary, [-1.0]) == "node 2 was node 0 * node 1, now node 0 + node 1"
    unary = trace(lambda: w.tanh() if w.data > 0 else w.relu(), [w])
    assert what_changed(unary, [-1.0]) == "node 1 was tanh(node 0), now relu(node 0)"


def test_two_defined_ops_of_one_name_are_told_apart_by_where_each_lives() -> None:
    first = define_op("f", lambda v: (2.0 * v, 2.0))
    second = define_op("f", lambda v: (3.0 * v, 3.0))
    w = Value(1.0, "w")
    tape = trace(lambda: (first if w.data > 0 else second)(w), [w])
    assert what_changed(tape, [-1.0]) == (
        f"node 1 was f(node 0) (the define_op at {id(first.op):#x}), "
        f"now f(node 0) (the define_op at {id(second.op):#x})"
    )


def test_a_graph_that_grows_or_shrinks_is_told_by_its_number_of_nodes() -> None:
    # The same first nodes and one more (or one fewer): the counts are the tape's own.
    w = Value(1.0, "w")
    longer = trace(lambda: w.exp() if w.data > 0 else w.exp().exp(), [w])
    assert longer.node_count == 2
    assert what_changed(longer, [-1.0]) == "the graph had 2 nodes, now 3"
    shorter = trace(lambda: w.exp().exp().exp() if w.data > 0 else w.exp(), [w])
    assert shorter.node_count == 4
    assert what_changed(shorter, [-1.0]) == "the graph had 4 nodes, now 2"


def test_outputs_that_move_are_told_by_the_nodes_they_were_at() -> None:
    # The same nodes (w, then exp(w), the loss); only which of them come back changes.
    w = Value(1.0, "w")

    def fn() -> tuple[Value, list[Value]]:
        loss = w.exp()
        return loss, [w, loss] if w.data > 0 else [loss]

    assert what_changed(trace(fn, [w]), [-1.0]) == "the outputs were at nodes [0, 1], now at [1]"


def test_a_rule_that_changes_the_sign_of_a_zero_is_caught_when_traced() -> None:
    # The engine got 0.0; the tape, calling the rule again, gets -0.0: not the same float.
    calls = iter(range(10))
    flips = define_op("flips", lambda x: (0.0 if next(calls) == 0 else -0.0, 1.0))
    x = Value(2.0, "x")
    with pytest.raises(CompileError, match=r"result 0: engine 0\.0, compiled -0\.0"):
        trace(lambda: flips(x), [x])


# -- the generated source ------------------------------------------------------------------


def test_generated_source_is_indented_as_python_is_written_four_spaces_a_level() -> None:
    x = Value(0.5, "x")
    source = trace(lambda: x.sigmoid(), [x]).source  # sigmoid's value: an if/else
    lines = source.splitlines()
    depth = [len(line) - len(line.lstrip(" ")) for line in lines]
    assert all(d % 4 == 0 for d in depth)
    k = next(i for i, line in enumerate(lines) if line.strip() == "else:")
    assert depth[k + 1] == depth[k] + 4
    assert lines[k - 2].strip() == "if x >= 0.0:"  # the engine's own test: 1 / (1 + e^-x) at 0


def test_generated_source_is_printable_python_with_one_function() -> None:
    model = MLP(2, [5, 1], seed=0)
    tape = trace(xor_loss(model), model.parameters(), name="xor_loss")
    tree = ast.parse(tape.source)
    assert [type(node) for node in tree.body] == [ast.FunctionDef]
    assert tree.body[0].name == "xor_loss"  # type: ignore[attr-defined]
    assert not any(isinstance(node, (ast.Import, ast.ImportFrom)) for node in ast.walk(tree))
    assert "(\n        w1_1_1, w1_1_2, b1_1," in tape.source  # parameters named by their labels
    assert max(len(line) for line in tape.source.splitlines()) <= 100
    namespace: dict[str, object] = {}
    exec(compile(tape.source, "<test>", "exec"), namespace)  # defines it, runs nothing
    assert callable(namespace["xor_loss"])


def test_the_docstring_example_is_what_trace_prints() -> None:
    # tape.source is for a learner to read: every line of it, comments included, is pinned.
    w, x = Value(0.5, "w"), Value(2.0, "x")
    tape = trace(lambda: (w * x).tanh(), parameters=[w], inputs=[x])
    assert tape.source == (
        "def loss_and_grads(parameters, inputs):\n"
        "    # Generated by tinygrad_xor.compile.trace from a graph of 4 Values:\n"
        "    # 1 parameters, 1 inputs, 0 constants (written in as numbers), 2 ops.\n"
        "    # Returns the loss, d loss / d parameter for each parameter, and the outputs.\n"
        "    (w,) = parameters\n"
        "    (x,) = inputs\n"
        "    try:\n"
        "        # -- forward: each op as the engine computes it --\n"
        "        v2 = w * x\n"
        "        v3 = tanh(v2)\n"
        "        # -- backward: d loss / d node, from the loss back to the parameters --\n"
        "        # (a + passes its gradient on unchanged: a node used once, by a +, shares its"
        " name)\n"
        "        g3 = 1.0\n"
        "        g2 = (1.0 - v3 * v3) * g3\n"
        "        grad_w = 0.0 + x * g2\n"
        "        return v3, [grad_w], []\n"
        "    except _RAISED:  # Python's math raised where IEEE gives inf or nan: run the IEEE"
        " twin\n"
        "        return _ieee(parameters, inputs)\n"
    )


WIDTH = 96  # the tape's line width: what fits stays on one line, the rest wraps


def test_a_statement_that_fits_the_width_stays_on_one_line_and_one_that_does_not_wraps() -> None:
    for length in range(60, 82):  # across both statements' edge, 96 columns, exactly
        w = Value(0.5, "w" * length)
        tape = trace(lambda w=w: w.tanh(), [w])
        lines = tape.source.splitlines()
        name = "w" * length
        for one_line in (f"    ({name},) = parameters", f"        return v1, [grad_{name}], []"):
            assert (one_line in lines) == (len(one_line) <= WIDTH), (length, one_line)


def test_a_long_list_wraps_each_row_as_full_as_the_width_allows() -> None:
    # Four names fill a row to exactly 96 columns: 8 + 20 + 20 + 20 + 21 + 3 * 2 + 1.
    labels = ["a" * 20, "b" * 20, "c" * 20, "d" * 21, "e" * 20]
    leaves = [Value(1.0, label) for label in labels]
    tape = trace(lambda: sum(leaves, Value(0.0)), leaves)
    lines = tape.source.splitlines()
    start = lines.index("    (")
    rows = lines[start + 1 : lines.index("    ) = parameters")]
    assert rows == ["        " + ", ".join(labels[:4]) + ",", "        " + labels[4] + ","]
    assert len(rows[0]) == WIDTH


def test_a_gradient_of_many_terms_is_summed_32_terms_to_a_line() -> None:
    w = Value(0.5, "w")
    tape = trace(lambda: sum((w * float(k) for k in range(100)), Value(0.0)), [w])
    sums = [line.strip() for line in tape.source.splitlines() if "grad_w = " in line]
    terms = [line.split(" = ")[1].split(" + ") for line in sums]
    # 0.0 and the 100 uses of w: 32 + 32 + 32 + 5, each line after the first adding to it
    assert [len(t) for t in terms] == [32, 33, 33, 6]
    assert terms[0][0] == "0.0" and all(t[0] == "grad_w" for t in terms[1:])


def test_the_header_counts_the_graph_and_constants_fold_into_numbers() -> None:
    w, x = Value(0.5, "w"), Value(2.0, "x")
    header = trace(lambda: (w * x).tanh(), [w], [x]).source.splitlines()[1:3]
    assert header == [
        "    # Generated by tinygrad_xor.compile.trace from a graph of 4 Values:",
        "    # 1 parameters, 1 inputs, 0 constants (written in as numbers), 2 ops.",
    ]
    # exp(2.0) is computed from a constant alone: a constant itself, written as its number.
    tape = trace(lambda: w * Value(2.0).exp(), [w])
    assert tape.source.splitlines()[2] == (
        "    # 1 parameters, 0 inputs, 2 constants (written in as numbers), 1 ops."
    )
    assert (
        f"v3 = w * {math.exp(2.0)!r}" in tape.source and "_exp" not in tape.source.split("try:")[1]
    )


def test_a_parameter_only_an_output_uses_has_no_gradient_variable_and_gets_0() -> None:
    # d loss / d v is 0 when the loss does not read v, however the outputs use it.
    w, v = Value(0.5, "w"), Value(2.0, "v")
    tape = trace(lambda: (w.tanh(), [v.exp()]), [w, v])
    assert "grad_v" not in tape.source
    assert tape.source.splitlines()[-3].endswith(", [grad_w, 0.0], [v3]")
    assert tape.replay([0.5, 1.0]).grads[1] == 0.0


def test_x_to_the_0_writes_no_term_for_x_not_a_term_of_0() -> None:
    # d/dx x ** 0 is 0 at every x (flat): nothing passes, so the source adds nothing.
    w = Value(3.0, "w")
    alone = trace(lambda: (w**0).exp(), [w]).source.splitlines()
    assert "        grad_w = 0.0" in alone
    beside = trace(lambda: w**0 + w, [w]).source.splitlines()
    assert "        grad_w = 0.0 + g2" in beside  # w's one term: the + that uses it


def test_the_repr_counts_nodes_once_and_the_lines_of_source() -> None:
    # Two outputs share w + 1.0, which the loss does not use: counted once.
    w = Value(0.5, "w")

    def fn() -> tuple[Value, list[Value]]:
        shared = w + 1.0
        return w * 2.0, [shared * 2.0, shared * 3.0]

    tape = trace(fn, [w])
    # w, 2.0, w * 2.0; then 1.0, w + 1.0, 2.0, (w + 1.0) * 2.0, 3.0, (w + 1.0) * 3.0
    assert tape.node_count == 9
    assert repr(tape) == (
        f"Tape(loss_and_grads: 9 nodes, 1 parameters, 0 inputs, "
        f"{len(tape.source.splitlines())} lines of source)"
    )
    assert tape.replay([1.5]).outputs == [5.0, 7.5]


def test_a_temporary_is_named_after_its_node_as_t_and_the_node_s_number() -> None:
    # sigmoid below 0 computes exp(w) once, into t<k> for its node v<k>: a reserved name.
    w = Value(-0.5, "w")
    lines = [line.strip() for line in trace(lambda: w.sigmoid(), [w]).source.splitlines()]
    assert lines[lines.index("else:") + 1 :][:2] == ["t1 = _exp(w)", "v1 = t1 / (1.0 + t1)"]


def test_a_parameter_that_is_the_loss_has_gradient_1() -> None:
    w = Value(2.0, "w")
    assert trace(lambda: w, [w]).replay([3.0]) == (3.0, [1.0], [])


def test_labels_the_generated_code_uses_itself_get_plain_names() -> None:
    labels = ["tanh", "v1", "g2", "t3", "da4", "db5", "_op6", "grad_x", "parameters", "inputs"]
    labels += ["grads", "outputs", "class", "w", "w", "1w", ""]  # a keyword, a twin, no name
    leaves = [Value(0.1 * (k + 1), label) for k, label in enumerate(labels)]
    tape = trace(lambda: sum((leaf.tanh() for leaf in leaves), Value(0.0)), leaves)
    unpacked = tape.source.split(") = parameters")[0].split("(")[-1]
    names = [name.strip() for name in unpacked.replace("\n", " ").split(",") if name.strip()]
    assert names == [f"p{k}" for k in range(13)] + ["w", "p14", "p15", "p16"]
    replay = tape.replay([0.2 * (k + 1) for k in range(len(labels))])
    assert replay.grads == [1.0 - math.tanh(0.2 * (k + 1)) ** 2 for k in range(len(labels))]


def test_a_changed_leaf_is_named_by_its_role_and_position() -> None:
    w, x = Value(1.0, "w"), Value(2.0, "x")
    tape = trace(lambda: w * x if w.data > 0 else x * w, [w], [x])
    with pytest.raises(GraphChangedError, match=r"node 0 was parameter 0, now input 0\. "):
        tape.check([-1.0])


def test_a_rule_that_changes_only_for_the_ieee_twin_is_caught_when_traced() -> None:
    # Calls: the engine's, the tape's, then its IEEE twin's: each must give the same bits.
    calls = iter(range(10))
    late = define_op("late", lambda x: (0.0 if next(calls) < 2 else -0.0, 1.0))
    x = Value(2.0, "x")
    with pytest.raises(CompileError, match=r"result 0: engine 0\.0, compiled -0\.0"):
        trace(lambda: late(x), [x])


def test_a_rule_that_gives_nan_only_once_is_caught_when_traced() -> None:
    # nan is the same as nan, but not as a number: the engine's nan, then the tape's 1.0.
    calls = iter(range(10))
    once = define_op("once", lambda x: (math.nan if next(calls) == 0 else 1.0, 1.0))
    x = Value(2.0, "x")
    with pytest.raises(CompileError) as caught:
        trace(lambda: once(x), [x])
    assert str(caught.value) == (
        "the generated code disagrees with the engine at the traced numbers (result 0: engine "
        "nan, compiled 1.0). An engine op's inline formula and its rule (rules.py) disagree; or "
        "a rule of define_op gave other numbers for the same inputs (it must depend on them "
        "alone)."
    )


# -- bad input -----------------------------------------------------------------------------


W, X = Value(1.0, "w"), Value(2.0, "x")
TAPE = trace(lambda: W * X, [W], [X])
EXPECTED_LEAF_COUNT = "expected 1 number (one per traced leaf, in the order given to trace)"
# (the call, the error, its whole message): what a user who got trace's arguments wrong reads
REFUSALS: list[tuple[Callable[[], object], type[Exception], str]] = [
    (
        lambda: trace(lambda: W * 2.0, [W * 2.0]),
        ValueError,
        "trace: parameters[0] (Value(data=2.0, grad=0.0)) is the result of an op ('*'), not a "
        "leaf; list the Values you made yourself (weights, data), not computed ones.",
    ),
    (
        lambda: trace(lambda: W * 2.0, [W], [W]),
        ValueError,
        "trace: Value(data=1.0, grad=0.0, label='w') is listed twice; list each leaf once, as a "
        "parameter or as an input.",
    ),
    (
        lambda: trace(lambda: W * 2.0, W),  # type: ignore[arg-type]
        TypeError,
        "trace(parameters=...): expected a list of Values, got Value. "
        "Pass e.g. parameters=model.parameters().",
    ),
    (
        lambda: trace(lambda: W * 2.0, [W], {X}),  # type: ignore[arg-type]
        TypeError,
        "trace(inputs=...): expected a list of Values, got set. "
        "Pass e.g. inputs=model.parameters().",
    ),
    (
        lambda: trace(lambda: W * 2.0, [W, 2.0]),  # type: ignore[list-item]
        TypeError,
        "trace: parameters[1] must be a Value, got float.",
    ),
    (
        lambda: trace(lambda: 3.0, [W]),  # type: ignore[arg-type, return-value]
        TypeError,
        "trace: fn must return the loss Value, or (loss, [other Values]) for outputs you also "
        "want back; it returned float 3.0.",
    ),
    (
        lambda: trace(lambda: (W * 2.0, [W], [W]), [W]),  # type: ignore[arg-type, return-value]
        TypeError,
        "trace: fn must return the loss Value, or (loss, [other Values]) for outputs you also "
        "want back; it returned tuple (Value(data=2.0, grad=0.0), [Value(data=1.0, grad=0.0, "
        "label.",  # the result's repr, cut at 60 characters
    ),
    (
        lambda: trace(lambda: W * 2.0, [W], name="not a name"),
        ValueError,
        "trace: name must be a Python identifier, got 'not a name'.",
    ),
    (
        lambda: trace(lambda: W * 2.0, [W], name="_exp"),
        ValueError,
        "trace: name '_exp' is used inside the generated code; pick another.",
    ),
    (
        lambda: trace(3, [W]),  # type: ignore[arg-type]
        TypeError,
        "trace: fn must be a function of no arguments, got int.",
    ),
    (
        lambda: trace(lambda: W * 2.0, [W], check_every=-1),
        ValueError,
        "trace: check_every (0: never) must be a whole number >= 0, got -1.",
    ),
    (
        lambda: TAPE.replay([1.0, 2.0], [1.0]),
        ValueError,
        f"replay(parameter_values): {EXPECTED_LEAF_COUNT}, got 2.",
    ),
    (
        lambda: TAPE.replay([1.0], [1.0, 2.0]),
        ValueError,
        f"replay(input_values): {EXPECTED_LEAF_COUNT}, got 2.",
    ),
    (
        lambda: TAPE.check([1.0], [1.0, 2.0]),
        ValueError,
        f"check(input_values): {EXPECTED_LEAF_COUNT}, got 2.",
    ),
    (
        lambda: TAPE.replay("1.0"),  # type: ignore[arg-type]
        TypeError,
        "replay(parameter_values): expected a list of numbers, got str.",
    ),
    (
        lambda: trace(lambda: W * X, [W, X]).replay([1.0]),
        ValueError,
        "replay(parameter_values): expected 2 numbers (one per traced leaf, in the order given "
        "to trace), got 1.",
    ),
]


@each_refusal(REFUSALS)
def test_bad_arguments_are_refused_with_the_whole_message(refusal: Refusal) -> None:
    assert_refused(*refusal)


def test_bad_declarations_are_rejected_with_what_was_received() -> None:
    w = Value(1.0, "w")
    for not_a_list in ("w", {w}, 3):  # a string is a sequence; a set has no order
        with pytest.raises(TypeError, match=r"trace\(parameters=...\): expected a list of V"):
            trace(lambda: w * 2.0, not_a_list)  # type: ignore[arg-type]
    tape = trace(lambda: w * 2.0, [w])
    with pytest.raises(
        TypeError, match=r"replay\(parameter_values\)\[0\]: expected a number, got str"
    ):
        tape.replay(["1.0"])  # type: ignore[list-item]


def test_more_bad_declarations_say_which_argument_and_what_it_must_be() -> None:
    w = Value(1.0, "w")
    with pytest.raises(TypeError, match="must return the loss Value, or \\(loss, "):
        trace(lambda: [w * 2.0, [w]], [w])  # type: ignore[arg-type, return-value]
    for name in ("_exp", "_ieee", "_RAISED", "_INF", "tanh", "grads"):
        with pytest.raises(
            ValueError, match=f"name '{name}' is used inside the generated code; pick another"
        ):
            trace(lambda: w * 2.0, [w], name=name)


def test_any_exponent_replays_exactly_from_the_op_not_its_name() -> None:
    w = Value(1.7, "w")
    tape = trace(lambda: w ** (1.0 / 3.0), [w])  # named "**0.3333333333333333"
    assert_same(floats.power(2.5, 1.0 / 3.0), tape.replay([2.5]).loss, "cube root")
    third = 1.0 / 3.0

    def rounded_name() -> Value:  # a hand-built node named like a power, with no exponent
        return engine.op_result(floats.power(w.data, third), "**0.333333", w, 0.0)

    # The tape reads the exponent from the op (PowerOp.exponent), never from its name.
    with pytest.raises(CompileError, match=r"cannot compile the op '\*\*0\.333333'"):
        trace(rounded_name, [w])
    tape = trace(lambda: w ** Value(third), [w])
    assert_same(floats.power(2.5, third), tape.replay([2.5]).loss, "cube root, Value exponent")


def test_an_op_the_tape_does_not_know_is_refused_by_name() -> None:
    w = Value(1.0, "w")
    # the advice: which ops the tape knows, and how to make one it does
    with pytest.raises(CompileError) as refused:
        trace(lambda: engine.op_result(1.5, "cosh", w, 1.2), [w])
    # a refusal of the input, as every other: caught by `except ValueError` (docs/api.md)
    assert isinstance(refused.value, ValueError)
    assert str(refused.value) == (
        "cannot compile the op 'cosh': it has no rule. The tape knows the engine's ops and the "
        "ops made by tinygrad_xor.define_op: make it with define_op."
    )
    assert issubclass(GraphChangedError, RuntimeError)  # the graph changed while running


def test_compiled_bce_training_equals_eager_even_when_the_floor_engages() -> None:
    # No options: compiled_step itself knows that bce's graph can change.
    histories = []
    for make_step in (autograd_step, compiled_step):
        model = MLP(2, [5, 1], seed=0)
        optimizer = SGD(model.parameters(), lr=200.0)
        history = train(model, XOR, optimizer, epochs=10, loss="bce", make_step=make_step)
        histories.append((history.losses, model.state_dict()))
    (eager_losses, eager_state), (compiled_losses, compiled_state) = histories
    # Traced at the starting weights, where no log is floored; lr 200 then saturates the
    # output, and two samples' log p fall past -100: the graph is no longer the traced one
    # (replayed unchecked, the tape's log gives inf: measured).
    assert eager_losses[0] < 1.0 and eager_losses[-1] == 50.0
    assert [bits(x) for x in eager_losses] == [bits(x) for x in compiled_losses]
    assert eager_state == compiled_state


def test_the_source_says_what_it_was_made_from_and_labels_its_sections() -> None:
    """The generated code reads as the module docstring shows it: a header, forward, backward."""
    w, x = Value(0.5, "w"), Value(2.0, "x")
    source = trace(lambda: (w * x).tanh(), [w], [x]).source
    # w, x, w * x and its tanh: 4 Values, 2 of them ops
    assert "# Generated by tinygrad_xor.compile.trace from a graph of 4 Values:\n" in source
    assert "# 1 parameters, 1 inputs, 0 constants (written in as numbers), 2 ops.\n" in source
    forward = source.index("# -- forward: each op as the engine computes it --\n")
    backward = source.index(
        "# -- backward: d loss / d node, from the loss back to the parameters --"
    )
    assert forward < backward
    assert (
        "# (a + passes its gradient on unchanged: a node used once, by a +, shares its name)"
        in source
    )
    # a traceback through the generated code names the tape it came from
    named = trace(lambda: (w * x).tanh(), [w], [x], name="step")
    assert named.function.__code__.co_filename == "<tinygrad_xor.compile: step>"


def test_nan_and_infinite_constants_are_written_as_the_names_that_hold_them() -> None:
    # repr gives nan, inf and -inf, which are not Python names: the source must say _NAN etc.
    w = Value(0.5, "w")
    for constant, written in ((math.nan, "_NAN"), (math.inf, "_INF"), (-math.inf, "-_INF")):
        tape = trace(lambda c=constant: w + Value(c), [w])
        assert f"    v2 = w + {written}\n" in tape.source
        replayed = tape.replay([0.25]).loss
        assert_same((Value(0.25) + Value(constant)).data, replayed, f"w + {written}")
