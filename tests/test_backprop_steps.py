"""Tests for backprop_steps.py: the recorded steps are backward()'s, and say so in words.

The recorder watches backward()'s own loop, so its final grads are backward()'s exactly (the
same floats), on hand-made graphs, on the XOR sample graph, on random expression trees and
where a flat edge meets an infinite gradient; and the Values it read are left as they were.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
from example_graphs import micrograd_neuron, reused
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_xor import formulas
from tinygrad_xor.backprop_steps import BackwardStep, Contribution, Walkthrough, record_steps
from tinygrad_xor.data import XOR
from tinygrad_xor.engine import Value, topological_order
from tinygrad_xor.nn import MLP
from tinygrad_xor.testing import Expression, expressions, values
from tinygrad_xor.train import sample_loss

TIMES = "\u00d7"  # the multiplication sign the arithmetic lines show


def state(values: list[Value]) -> list[tuple[float, float]]:
    return [(v.data, v.grad) for v in values]


def grads_by_backward(root: Value) -> list[float]:
    """backward()'s grads, on the graph of root, in topological order."""
    order = topological_order(root)
    for node in order:
        node.grad = 0.0
    root.backward()
    return [node.grad for node in order]


# -- the numbers are backward()'s --------------------------------------------------------------


def test_the_forward_pass_is_the_topological_order_and_the_backward_pass_its_reverse() -> None:
    o, _ = micrograd_neuron()
    walk = record_steps(o)
    assert isinstance(walk, Walkthrough)
    assert list(walk.values) == topological_order(o)
    assert [step.node for step in walk.backward] == list(reversed(range(len(walk.values))))
    assert walk.backward[0].grad == 1.0  # the root's seed


@pytest.mark.parametrize("graph", ["neuron", "reused", "xor sample", "xor batch"])
def test_the_final_grads_are_backwards_to_the_last_bit(graph: str) -> None:
    if graph == "neuron":
        root = micrograd_neuron()[0]
    elif graph == "reused":
        root = reused()[2]
    else:
        model = MLP(2, [5, 1], seed=0)
        root = sample_loss(model, XOR, "mse", [0] if graph == "xor sample" else None)
    walk = record_steps(root)
    assert list(walk.grads) == grads_by_backward(root)
    # each backward step holds the grad its Value has when backward() passes it on
    assert [s.grad for s in walk.backward] == [walk.grads[s.node] for s in walk.backward]


@given(expressions(3), st.tuples(values(), values(), values()))
def test_on_random_expressions_the_grads_are_backwards(
    f: Expression, xs: tuple[float, ...]
) -> None:
    leaves = [Value(x, f"x{i}") for i, x in enumerate(xs)]
    root = f(*leaves)
    walk = record_steps(root)
    expected = grads_by_backward(root)
    assert all(
        got == want or (math.isnan(got) and math.isnan(want))
        for got, want in zip(walk.grads, expected, strict=True)
    )


def test_a_value_used_twice_adds_both_shares_in_order() -> None:
    *_, c = reused()
    walk = record_steps(c)
    assert [v.label for v in walk.values] == ["a", "b", "c"]
    root_step, b_step, a_step = walk.backward
    assert root_step.contributions == (
        Contribution(input=1, local=6.0, upstream=1.0, share=6.0, before=0.0, after=6.0),
        Contribution(input=1, local=6.0, upstream=1.0, share=6.0, before=6.0, after=12.0),
    )
    assert [(x.before, x.after) for x in b_step.contributions] == [(0.0, 12.0), (12.0, 24.0)]
    assert a_step == BackwardStep(node=0, grad=24.0, contributions=())  # a leaf passes nothing
    assert walk.grads == (24.0, 12.0, 1.0)


def test_the_recording_is_read_only() -> None:
    """A walkthrough is what backward() did: none of its parts can be changed afterwards."""
    walk = record_steps(reused()[2])
    step = walk.backward[0]
    for record, field in [(walk, "grads"), (step, "grad"), (step.contributions[0], "share")]:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, field, 0.0)
    assert hash(step) == hash(BackwardStep(step.node, step.grad, step.contributions))


# Flat edges under an infinite gradient: backward() passes 0 (as PyTorch), where
# local * upstream would be 0 * inf = nan. The page must show what backward() did.
FLAT_UNDER_INF = {
    "relu": lambda x: (x.relu() * 1e200) * 1e200,
    "power 0": lambda x: x**0 * 1e200 * 1e200 + x,
}


@pytest.mark.parametrize("build", FLAT_UNDER_INF.values(), ids=FLAT_UNDER_INF.keys())
def test_a_flat_edge_under_an_infinite_gradient_is_shown_as_backward_passes_it(build) -> None:
    x = Value(-1.0, "x")
    y = build(x)
    walk = record_steps(y)
    y.backward()
    assert walk.grads[walk.values.index(x)] == x.grad
    assert not math.isnan(x.grad)
    assert list(walk.grads) == [v.grad for v in walk.values]
    described = record_steps(y).describe()
    shown = [line for step in described["steps"] for line in step["lines"]]
    shown += [step["caption"] for step in described["steps"]]
    shown += [node["grad"] for node in described["nodes"]]
    assert not [text for text in shown if "nan" in text]


# -- the Values are left alone ---------------------------------------------------------------


def test_data_and_grad_are_untouched_before_and_after_backward() -> None:
    o, values = micrograd_neuron()
    before = state(values)
    assert all(grad == 0.0 for _, grad in before)
    record_steps(o)
    assert state(values) == before  # backward() has not run: still no grads
    o.backward()
    o.backward()  # leaves accumulate: their grads are now twice the single pass's
    after_backward = state(values)
    walk = record_steps(o)
    assert state(values) == after_backward
    # one pass from zero, as a first backward() gives: half of x1's grad after two
    assert walk.grads[-1] == 1.0 and 2 * walk.grads[0] == values[0].grad


# -- the words -------------------------------------------------------------------------------


def test_describe_gives_a_start_then_one_forward_and_one_backward_step_per_value() -> None:
    o, _ = micrograd_neuron()
    described = record_steps(o).describe()
    steps = described["steps"]
    assert len(steps) == 1 + 10 + 10
    assert steps[0]["node"] is None and steps[0]["shows"] == []
    assert steps[0]["lines"] == ["press → (or next) to compute the Values, inputs first"]
    assert steps[0]["caption"] == (
        "start: nothing computed yet; 10 forward and 10 backward steps to go"
    )
    assert steps[1]["caption"] == "forward 1 of 10: x1 = 2 is given"
    assert steps[10]["caption"] == "forward 10 of 10: tanh gives o = 0.7071"
    assert steps[10]["lines"] == ["o = tanh(n) = tanh(0.8814) = 0.7071"]
    assert steps[11]["caption"] == "backward 1 of 10: tanh passes 0.5 to n"
    assert steps[11]["lines"] == [
        "o.grad = 1: the derivative of o with respect to itself",
        f"n.grad += 0.5 (local: 1 - o²) {TIMES} 1 (o.grad) → 0.5",
    ]
    assert steps[11]["shows"] == [[9, "grad", "1"], [8, "grad", "0.5"]]
    last = steps[-1]
    assert last["caption"] == "backward 10 of 10: x1 is a leaf: its grad, -1.5, is complete"
    # every node, with its final numbers to 4 significant digits, and its inputs
    nodes = described["nodes"]
    assert nodes[-1] == {"name": "o", "data": "0.7071", "grad": "1", "inputs": [8]}
    assert [n["name"] for n in nodes[:3]] == ["x1", "w1", "#8"]  # unlabelled: #n, show_order's


def test_the_arithmetic_shows_the_accumulation_when_a_value_feeds_an_op_twice() -> None:
    _, _, c = reused()
    steps = record_steps(c).describe()["steps"]
    a_gets = steps[5]
    assert a_gets["caption"] == "backward 2 of 3: + passes 12 to a, twice"
    assert a_gets["lines"] == [
        f"a.grad += 1 (local: 1) {TIMES} 12 (b.grad) → 12",
        f"a.grad += 1 (local: 1) {TIMES} 12 (b.grad) → 12 + 12 = 24",
    ]
    assert a_gets["shows"] == [[0, "grad", "12"], [0, "grad", "24"]]


def test_a_value_feeding_both_inputs_of_an_op_with_two_shares_names_each() -> None:
    x = Value(2.0, "x")
    y = x**x  # d/d base = x * x ** (x - 1) = 4, d/d exponent = x ** x * log x = 2.773
    y.label = "y"
    captions = [step["caption"] for step in record_steps(y).describe()["steps"]]
    assert "backward 1 of 2: ** passes 4 to x and 2.773 to x" in captions


def test_the_arithmetic_shows_the_accumulation_across_two_ops() -> None:
    a = Value(3.0, "a")
    f = a * a + a  # a feeds * twice, then + once: 3 + 3 + 1 = 7
    f.label = "f"
    lines = [line for step in record_steps(f).describe()["steps"] for line in step["lines"]]
    assert f"a.grad += 1 (local: 1) {TIMES} 1 (f.grad) → 1" in lines
    assert f"a.grad += 3 (local: a) {TIMES} 1 (#2.grad) → 1 + 3 = 4" in lines
    assert f"a.grad += 3 (local: a) {TIMES} 1 (#2.grad) → 4 + 3 = 7" in lines


def test_negative_numbers_are_bracketed_in_the_arithmetic() -> None:
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    p = a * b
    p.label = "p"
    lines = [line for step in record_steps(p).describe()["steps"] for line in step["lines"]]
    assert f"p = a * b = 2 {TIMES} (-3) = -6" in lines
    # A negative share added to a grad: a * a + a at a = -3 passes -3 to a twice after 1.
    a = Value(-3.0, "a")
    f = a * a + a
    f.label = "f"
    lines = [line for step in record_steps(f).describe()["steps"] for line in step["lines"]]
    assert f"a.grad += -3 (local: a) {TIMES} 1 (#2.grad) → 1 + (-3) = -2" in lines
    assert f"a.grad += -3 (local: a) {TIMES} 1 (#2.grad) → -2 + (-3) = -5" in lines


def test_a_lone_leaf_is_the_root_and_its_own_whole_walk() -> None:
    steps = record_steps(Value(2.0, "a")).describe()["steps"]
    assert [step["caption"] for step in steps] == [
        "start: nothing computed yet; 1 forward and 1 backward steps to go",
        "forward 1 of 1: a = 2 is given",
        "backward 1 of 1: a is the root: its grad, 1, is complete",
    ]
    assert steps[-1]["lines"] == [
        "a.grad = 1: the derivative of a with respect to itself",
        "a has no inputs: nothing to pass on",
    ]


def test_digits_follow_the_svgs_format() -> None:
    x = Value(1.0 / 3.0, "x")
    y = x * 1e-7
    words = record_steps(y).describe(digits=4)
    assert words["nodes"][0]["data"] == "0.3333"
    assert words["nodes"][-1]["data"] == "3.333e-08"
    assert record_steps(y).describe(digits=2)["nodes"][0]["data"] == "0.33"


def test_something_else_than_a_value_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError) as caught:
        record_steps(1.5)  # type: ignore[arg-type]
    assert str(caught.value) == (
        "record_steps(root): expected a Value, got float. Pass the Value whose graph you want "
        "to step through, e.g. record_steps(loss)."
    )


def test_a_defined_op_is_written_as_a_call_and_a_power_by_its_exponent() -> None:
    import math

    from tinygrad_xor import define_op

    hyp = define_op("hyp", lambda x, y: (math.hypot(x, y), x / math.hypot(x, y), y / 5.0))
    a, b = Value(3.0, "a"), Value(4.0, "b")
    steps = record_steps(hyp(a, b) ** 2).describe(digits=4)["steps"]
    lines = [line for step in steps for line in step["lines"]]
    assert "#2 = hyp(a, b) = hyp(3, 4) = 5" in lines
    assert "#2.grad += 10 (local: 2·#2^1) \u00d7 1 (#1.grad) → 10" in lines


def test_relu_s_local_derivative_is_written_with_its_boundary() -> None:
    x = Value(-1.0, "x")
    y = x.relu()
    y.label = "y"
    lines = [line for step in record_steps(y).describe()["steps"] for line in step["lines"]]
    assert "x.grad += 0 (local: 0 if x ≤ 0 else 1) \u00d7 1 (y.grad) → 0" in lines


def test_a_power_s_exponent_is_written_in_full_and_a_negative_one_bracketed() -> None:
    # d(x ** c)/dx = c·x^(c - 1), the exponent as the number it is (not rounded like data).
    for exponent, local in [(-2.0, "-2·x^(-3)"), (1.23456, "1.23456·x^0.23456")]:
        x = Value(2.0, "x")
        y = x**exponent
        y.label = "y"
        lines = [line for step in record_steps(y).describe()["steps"] for line in step["lines"]]
        assert any(f"(local: {local})" in line for line in lines), lines
    assert f"y = x**{exponent:g} = 2**{exponent:g} = {2.0**exponent:.4g}" in lines


def test_formulas_bracket_a_negation_of_a_negative() -> None:
    x = formulas.name("x")
    assert formulas.FORMULA.render(formulas.Expr("neg", -x)) == "-(-x)"
    assert formulas.FORMULA.render(-formulas.Expr("const", -2.0)) == "-(-2)"


def test_a_choice_inside_a_choice_is_bracketed_where_python_would_read_it_otherwise() -> None:
    a, b, c = (formulas.name(letter) for letter in "abc")
    where = formulas.SAFE.arithmetic.where
    first = where(a > b, where(b > c, a, b), c)  # a choice as what the first choice gives
    last = where(a > b, c, where(b > c, a, b))  # a choice as the otherwise: no brackets
    assert formulas.SAFE.render(first) == "(a if b > c else b) if a > b else c"
    assert formulas.SAFE.render(last) == "c if a > b else a if b > c else b"
    # Python reads the text as the tree: at a = 1, b = 2, c = 0 (a < b), `first` gives c
    assert eval(formulas.SAFE.render(first), {"a": 1, "b": 2, "c": 0}) == 0


def test_formulas_bracket_a_quotient_and_a_power_only_where_the_order_needs_it() -> None:
    a, b, c = (formulas.name(letter) for letter in "abc")
    m, write = formulas.FORMULA.arithmetic, formulas.FORMULA.render
    assert write(m.divide(m.divide(a, b), c)) == "a / b / c"  # from the left, as Python
    assert write(m.divide(a, m.divide(b, c))) == "a / (b / c)"
    assert write(-m.power(a, b)) == "-a^b"
    assert write(a * -b) == "a·-b" and formulas.SAFE.render(a / -b) == "a / -b"


def test_a_dialect_cannot_be_changed_and_an_expr_shows_itself_as_python() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        formulas.FORMULA.square = False  # type: ignore[misc]
    assert repr(formulas.name("a") * 2.0) == "Expr('a * 2.0')"


def test_formulas_write_a_name_times_itself_as_a_square_and_nothing_else() -> None:
    x, e = formulas.name("x"), formulas.Expr("exp", formulas.name("a"))
    assert formulas.FORMULA.render(x * x) == "x²"
    assert formulas.FORMULA.render(e * e) == "exp(a)·exp(a)"
    assert formulas.FORMULA.render(x * formulas.name("x")) == "x·x"  # two names, one text
    assert formulas.SAFE.render(x * x) == "x * x"


def test_a_formula_built_with_something_else_than_an_expr_or_a_number_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="a rule's text: expected an Expr or a number, got str"):
        formulas.name("x") + "y"  # type: ignore[operator]


def test_statements_name_each_shared_subtree_once_the_first_by_the_name_given() -> None:
    e, u = formulas.Expr("exp", formulas.name("a")), formulas.Expr("log", formulas.name("b"))
    assert formulas.statements("y", e * e + u * u, formulas.SAFE, "t") == [
        "t = _exp(a)",
        "t_1 = _log(b)",
        "y = t * t + t_1 * t_1",
    ]
    # under a minus too: the shared part is computed once, not written out again
    assert formulas.statements("y", -e * e, formulas.SAFE, "t") == ["t = _exp(a)", "y = -t * t"]


# -- every op's words: y = op(inputs), then z = y * c with c = 2, so y's grad (2) is no 1 ------


def _sine(x: float) -> tuple[float, float]:
    return math.sin(x), math.cos(x)


def _hypot(x: float, y: float) -> tuple[float, float, float]:
    return math.hypot(x, y), x / math.hypot(x, y), y / math.hypot(x, y)


def _bare(a: Value) -> Value:
    """An op with a bare name, as engine.op_result records it: no rule, so no formula."""
    from tinygrad_xor.engine import op_result

    return op_result(2.0 * a.data, "twice", a, 2.0)


# op: (inputs, y from them, y's forward line, y's value, what y passes, y's backward lines).
# The numbers by hand: with upstream 2, each share is twice the local derivative.
OP_WORDS: dict[str, tuple[dict[str, float], object, str, str, str, list[str]]] = {
    "+": (
        {"a": 2.0, "b": -3.0},
        lambda a, b: a + b,
        "y = a + b = 2 + (-3) = -1",
        "-1",
        "2 to a and 2 to b",
        [
            f"a.grad += 1 (local: 1) {TIMES} 2 (y.grad) → 2",
            f"b.grad += 1 (local: 1) {TIMES} 2 (y.grad) → 2",
        ],
    ),
    "*": (
        {"a": 2.0, "b": -3.0},
        lambda a, b: a * b,
        f"y = a * b = 2 {TIMES} (-3) = -6",
        "-6",
        "-6 to a and 4 to b",
        [
            f"a.grad += -3 (local: b) {TIMES} 2 (y.grad) → -6",
            f"b.grad += 2 (local: a) {TIMES} 2 (y.grad) → 4",
        ],
    ),
    "/": (  # d(a / b)/db = -a / b² = -y / b = -0.75
        {"a": 3.0, "b": 2.0},
        lambda a, b: a / b,
        "y = a / b = 3 / 2 = 1.5",
        "1.5",
        "1 to a and -1.5 to b",
        [
            f"a.grad += 0.5 (local: 1 / b) {TIMES} 2 (y.grad) → 1",
            f"b.grad += -0.75 (local: -(y / b)) {TIMES} 2 (y.grad) → -1.5",
        ],
    ),
    "**": (  # d(a ** b)/da = b·a^(b - 1) = 12, d/db = y·log(a) = 8 log 2 = 5.545
        {"a": 2.0, "b": 3.0},
        lambda a, b: a**b,
        "y = a ** b = 2 ** 3 = 8",
        "8",
        "24 to a and 11.09 to b",
        [
            f"a.grad += 12 (local: 0 if b = 0 else b·a^(b - 1)) {TIMES} 2 (y.grad) → 24",
            f"b.grad += 5.545 (local: 0 if a = 0 and b ≥ 0 else y·log(a)) {TIMES} 2 (y.grad)"
            " → 11.09",
        ],
    ),
    "**2": (  # d(x²)/dx = 2x = -6 at x = -3
        {"x": -3.0},
        lambda x: x**2,
        "y = x**2 = (-3)**2 = 9",
        "9",
        "-12 to x",
        [f"x.grad += -6 (local: 2·x^1) {TIMES} 2 (y.grad) → -12"],
    ),
    "**0": (  # x ** 0 is flat: its derivative is 0 everywhere, written as the 0 it is
        {"x": 3.0},
        lambda x: x**0,
        "y = x**0 = 3**0 = 1",
        "1",
        "0 to x",
        [f"x.grad += 0 (local: 0) {TIMES} 2 (y.grad) → 0"],
    ),
    "exp": (  # e = 2.718, 2e = 5.437
        {"x": 1.0},
        lambda x: x.exp(),
        "y = exp(x) = exp(1) = 2.718",
        "2.718",
        "5.437 to x",
        [f"x.grad += 2.718 (local: y) {TIMES} 2 (y.grad) → 5.437"],
    ),
    "log": (
        {"x": 2.0},
        lambda x: x.log(),
        "y = log(x) = log(2) = 0.6931",
        "0.6931",
        "1 to x",
        [f"x.grad += 0.5 (local: 1 / x) {TIMES} 2 (y.grad) → 1"],
    ),
    "tanh": (  # tanh(0.5) = 0.46212, 1 - 0.46212² = 0.78645
        {"x": 0.5},
        lambda x: x.tanh(),
        "y = tanh(x) = tanh(0.5) = 0.4621",
        "0.4621",
        "1.573 to x",
        [f"x.grad += 0.7864 (local: 1 - y²) {TIMES} 2 (y.grad) → 1.573"],
    ),
    "sigmoid": (
        {"x": 0.0},
        lambda x: x.sigmoid(),
        "y = sigmoid(x) = sigmoid(0) = 0.5",
        "0.5",
        "0.5 to x",
        [f"x.grad += 0.25 (local: y·(1 - y)) {TIMES} 2 (y.grad) → 0.5"],
    ),
    "relu": (
        {"x": 2.0},
        lambda x: x.relu(),
        "y = relu(x) = relu(2) = 2",
        "2",
        "2 to x",
        [f"x.grad += 1 (local: 0 if x ≤ 0 else 1) {TIMES} 2 (y.grad) → 2"],
    ),
    "sin": (  # a define_op op: sin(0.5) = 0.47943, cos(0.5) = 0.87758
        {"x": 0.5},
        lambda x: __import__("tinygrad_xor").define_op("sin", _sine)(x),
        "y = sin(x) = sin(0.5) = 0.4794",
        "0.4794",
        "1.755 to x",
        [f"x.grad += 0.8776 (local: sin'(x)) {TIMES} 2 (y.grad) → 1.755"],
    ),
    "hyp": (  # hypot(3, 4) = 5, by x: 3 / 5, by y: 4 / 5
        {"a": 3.0, "b": 4.0},
        lambda a, b: __import__("tinygrad_xor").define_op("hyp", _hypot)(a, b),
        "y = hyp(a, b) = hyp(3, 4) = 5",
        "5",
        "1.2 to a and 1.6 to b",
        [
            f"a.grad += 0.6 (local: ∂hyp/∂x) {TIMES} 2 (y.grad) → 1.2",
            f"b.grad += 0.8 (local: ∂hyp/∂y) {TIMES} 2 (y.grad) → 1.6",
        ],
    ),
    "twice": (
        {"a": 2.5},
        _bare,
        "y = twice(a) = twice(2.5) = 5",
        "5",
        "4 to a",
        [f"a.grad += 2 (local) {TIMES} 2 (y.grad) → 4"],
    ),
}


@pytest.mark.parametrize("op", OP_WORDS.keys())
def test_every_ops_forward_and_backward_steps_say_what_it_computes_and_passes(op: str) -> None:
    numbers, build, forward_line, result, passes, backward_lines = OP_WORDS[op]
    inputs = [Value(x, name) for name, x in numbers.items()]
    y = build(*inputs)  # type: ignore[operator]
    y.label = "y"
    z = y * Value(2.0, "c")
    z.label = "z"
    walk = record_steps(z)
    steps = walk.describe()["steps"]
    count = len(walk.values)
    assert count == len(inputs) + 3
    at = walk.values.index(y)
    forward = steps[1 + at]
    assert forward["caption"] == f"forward {at + 1} of {count}: {op} gives y = {result}"
    assert forward["lines"] == [forward_line]
    assert forward["shows"] == [[at, "data", result]] and forward["node"] == at
    k, back = next((k, s) for k, s in enumerate(steps[1 + count :], 1) if s["node"] == at)
    assert back["caption"] == f"backward {k} of {count}: {op} passes {passes}"
    assert back["lines"] == backward_lines
    shares = [line.rsplit(" → ", 1)[1] for line in backward_lines]
    assert back["shows"] == [
        [walk.values.index(x), "grad", share] for x, share in zip(inputs, shares, strict=True)
    ]
    # each input, used once, ends with its share: its forward and backward step say so
    captions = [step["caption"] for step in steps]
    for x, share in zip(inputs, shares, strict=True):
        i = walk.values.index(x)
        assert steps[1 + i]["lines"] == [f"{x.label}.data = {x.data:g}"]
        assert f"forward {i + 1} of {count}: {x.label} = {x.data:g} is given" in captions
        k = count - i  # backward() visits the Values in reverse topological order
        assert f"backward {k} of {count}: {x.label} is a leaf: its grad, {share}, is complete" in (
            captions
        )
