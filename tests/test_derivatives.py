"""Derivatives of derivatives and forward mode (derivatives.py), against references.

- DeZero's Newton's method on x^4 - 2x^2 from 2, and its double backprop z = (dy/dx)^3 + y;
- sympy: tanh's derivatives to order 4, and every op's second derivatives;
- PyTorch float64: Hessians of random expressions and of the learner's 2-5-1 XOR loss in
  its 21 weights (torch.autograd.functional.hessian), and jvp (torch.func.jvp);
- forward against reverse mode on generated expressions;
- what gradients() must leave alone (.grad), and what it must never do (keep cycles).
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from refusals import Refusal, assert_refused, each_refusal

from tinygrad_xor import MLP, XOR, Value, define_op, grad, gradients, hessian, jvp, mse
from tinygrad_xor.derivatives import VALUES
from tinygrad_xor.engine import op_result, push_tangents, topological_order
from tinygrad_xor.rules import BUILT_IN, Arithmetic, PowerOp, Rule, RuleOp
from tinygrad_xor.testing import expressions, values
from tinygrad_xor.testing.oracles import sympy_arithmetic, torch_arithmetic


def close(ours: float, theirs: float, rel: float = 1e-12) -> bool:
    """Equal to `rel` of the larger magnitude (at least 1): float64 sums in another order."""
    return abs(ours - theirs) <= rel * max(1.0, abs(theirs))


# -- DeZero's numbers ---------------------------------------------------------------------

# DeZero (Saito, "Deep Learning from Scratch 3"), step 33: Newton's method with the second
# derivative from double backprop, x <- x - f'(x) / f''(x), printed to the last digit.
DEZERO_NEWTON = [
    2.0, 1.4545454545454546, 1.1510467893775467, 1.0253259289766978, 1.0009084519430513,
    1.0000012353089454, 1.000000000002289, 1.0, 1.0, 1.0,
]  # fmt: skip


def test_newtons_method_reproduces_dezero() -> None:
    def f(x: Value) -> Value:
        return x**4 - 2 * x**2

    x, steps = 2.0, [2.0]
    for _ in range(9):
        x = x - grad(f)(x).data / grad(grad(f))(x).data
        steps.append(x)
    assert all(close(ours, dezero) for ours, dezero in zip(steps, DEZERO_NEWTON, strict=True))


def test_double_backprop_gives_dezero_s_100() -> None:
    x = Value(2.0, "x")
    y = x**2
    (dy_dx,) = gradients(y, [x], create_graph=True)
    z = dy_dx**3 + y
    z.backward()
    assert x.grad == 100.0  # dz/dx = 3 (2x)^2 * 2 + 2x = 96 + 4


# -- sympy ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sympy() -> ModuleType:
    return pytest.importorskip("sympy")


def test_tanh_derivatives_to_order_four_match_sympy(sympy: ModuleType) -> None:
    s = sympy.Symbol("s")
    derivative: Callable[[Value], Value] = lambda x: x.tanh()  # noqa: E731
    for order in range(1, 5):
        derivative = grad(derivative)
        exact = sympy.diff(sympy.tanh(s), s, order)
        for x in (-2.0, -0.3, 0.0, 0.5, 1.7):
            want = float(exact.subs(s, sympy.Float(x, 30)).evalf(30))
            assert close(derivative(x).data, want, 1e-13), (order, x)


POINTS = {1: [(0.3,), (-0.7,), (1.9,)], 2: [(0.3, 1.25), (1.7, -0.4), (2.5, 3.0)]}


@pytest.mark.parametrize("rule", [*BUILT_IN, PowerOp.of(3.0), PowerOp.of(-0.5)], ids=repr)
def test_every_op_s_second_derivatives_match_sympy(sympy: ModuleType, rule: Rule) -> None:
    symbols = sympy.symbols("a b")[: rule.arity]
    exact = rule.value(sympy_arithmetic(), *symbols)
    method = getattr(Value, rule.method)
    apply = (lambda a: method(a, rule.exponent)) if isinstance(rule, PowerOp) else method
    for point in POINTS[rule.arity]:
        if rule == "log" or (isinstance(rule, PowerOp) and rule.exponent == -0.5):
            point = tuple(abs(x) for x in point)
        ours = hessian(apply)(*point)
        at = {s: sympy.Float(x, 30) for s, x in zip(symbols, point, strict=True)}
        for i, si in enumerate(symbols):
            for j, sj in enumerate(symbols):
                want = float(sympy.diff(exact, si, sj).subs(at).evalf(30))
                assert close(ours[i][j], want, 1e-13), (rule, point, i, j, ours[i][j], want)


# -- PyTorch --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def torch() -> ModuleType:
    return pytest.importorskip("torch", reason="PyTorch is the reference: torch==2.13.0")


def rebuilt(root: Value, leaves: list[Value], arithmetic: Arithmetic, given: list[Any]) -> Any:
    """root's graph again, each op by its rule in `arithmetic`, with `given` for the leaves."""
    made: dict[Value, Any] = dict(zip(leaves, given, strict=True))
    constant = given[0] * 0.0 if given else 0.0  # a tensor zero, for the other leaves
    for node in topological_order(root):
        if node in made:
            continue
        if node.is_leaf:
            made[node] = constant + node.data
        else:
            made[node] = node.op.value(arithmetic, *(made[p] for p in node.parents))
    return made[root]


def torch_hessian(
    torch: ModuleType, f: Callable[..., Value], point: list[float]
) -> list[list[float]]:
    leaves = [Value(x) for x in point]
    root = f(*leaves)
    arithmetic = torch_arithmetic()

    def as_torch(w: Any) -> Any:
        return rebuilt(root, leaves, arithmetic, [w[k] for k in range(len(point))])

    matrix = torch.autograd.functional.hessian(as_torch, torch.tensor(point, dtype=torch.float64))
    return matrix.tolist()


@settings(deadline=None)
@given(expression=expressions(3), point=st.tuples(values(), values(), values()))
def test_hessians_of_random_expressions_match_torch(
    torch: ModuleType, expression: Any, point: tuple[float, float, float]
) -> None:
    ours = hessian(expression)(*point)
    theirs = torch_hessian(torch, expression, list(point))
    for i in range(3):
        for j in range(3):
            assert close(ours[i][j], theirs[i][j]), (i, j, ours[i][j], theirs[i][j])


def xor_loss(model: MLP) -> Callable[..., Value]:
    """The learner's loss as a function of the 21 weights of their 2-5-1 network."""

    def loss(*weights: Value) -> Value:
        net = model.with_parameters(weights)
        return mse([net(x)[0] for x in XOR.inputs], list(XOR.targets))

    return loss


def torch_xor_loss(torch: ModuleType) -> Callable[[Any], Any]:
    """The same network in PyTorch, from a vector of the 21 weights in our order."""
    inputs = torch.tensor([list(x) for x in XOR.inputs], dtype=torch.float64)
    targets = torch.tensor(list(XOR.targets), dtype=torch.float64)

    def loss(w: Any) -> Any:
        hidden_w, hidden_b = w[:15].reshape(5, 3)[:, :2], w[:15].reshape(5, 3)[:, 2]
        out_w, out_b = w[15:20], w[20]
        hidden = torch.sigmoid(inputs @ hidden_w.T + hidden_b)
        out = torch.sigmoid(hidden @ out_w + out_b)
        return ((out - targets) ** 2).mean()

    return loss


@pytest.mark.parametrize("seed", [0, 3, 42])
def test_the_hessian_of_the_xor_loss_matches_torch(torch: ModuleType, seed: int) -> None:
    model = MLP(2, [5, 1], seed=seed)
    weights = [p.data for p in model.parameters()]
    ours = hessian(xor_loss(model))(*weights)
    theirs = torch.autograd.functional.hessian(
        torch_xor_loss(torch), torch.tensor(weights, dtype=torch.float64)
    )
    assert len(ours) == 21 and all(len(row) == 21 for row in ours)
    for i in range(21):
        for j in range(21):
            assert close(ours[i][j], theirs[i][j].item()), (i, j)
    assert all(
        ours[i][j] == ours[j][i] or close(ours[i][j], ours[j][i])
        for i in range(21)
        for j in range(i)
    )


def test_jvp_of_the_xor_loss_matches_torch_func_jvp(torch: ModuleType) -> None:
    model = MLP(2, [5, 1], seed=3)
    weights = [p.data for p in model.parameters()]
    direction = [math.sin(k + 1.0) for k in range(21)]
    value, slope = jvp(xor_loss(model), weights, direction)
    want_value, want_slope = torch.func.jvp(
        torch_xor_loss(torch),
        (torch.tensor(weights, dtype=torch.float64),),
        (torch.tensor(direction, dtype=torch.float64),),
    )
    assert close(value.data, want_value.item()) and close(slope.data, want_slope.item())


@settings(deadline=None)
@given(
    expression=expressions(3),
    point=st.tuples(values(), values(), values()),
    direction=st.tuples(values(), values(), values()),
)
def test_jvp_of_random_expressions_matches_torch_func_jvp(
    torch: ModuleType, expression: Any, point: tuple[float, ...], direction: tuple[float, ...]
) -> None:
    value, slope = jvp(expression, point, direction)
    leaves = [Value(x) for x in point]
    root = expression(*leaves)
    arithmetic = torch_arithmetic()
    want_value, want_slope = torch.func.jvp(
        lambda w: rebuilt(root, leaves, arithmetic, [w[0], w[1], w[2]]),
        (torch.tensor(point, dtype=torch.float64),),
        (torch.tensor(direction, dtype=torch.float64),),
    )
    assert close(value.data, want_value.item()) and close(slope.data, want_slope.item(), 1e-11)


# -- forward and reverse mode agree -------------------------------------------------------


@given(expression=expressions(3), point=st.tuples(values(), values(), values()))
def test_forward_and_reverse_mode_agree_on_generated_expressions(
    expression: Any, point: tuple[float, float, float]
) -> None:
    leaves = [Value(x) for x in point]
    reverse = [g.data for g in gradients(expression(*leaves), leaves)]
    for k in range(3):
        basis = [1.0 if i == k else 0.0 for i in range(3)]
        _, forward = jvp(expression, point, basis)
        assert close(forward.data, reverse[k], 1e-11), (k, forward.data, reverse[k])


def test_jvp_of_many_outputs_gives_one_tangent_each() -> None:
    outputs, slopes = jvp(lambda x, y: [x * y, x + y, x.exp()], (2.0, 3.0), (1.0, 0.0))
    assert [v.data for v in outputs] == [6.0, 5.0, math.exp(2.0)]
    assert [s.data for s in slopes] == [3.0, 1.0, math.exp(2.0)]
    assert type(outputs) is tuple and type(slopes) is tuple  # as the docstring says, both


def test_a_tangent_as_a_graph_holds_the_chain_rule_and_nothing_more() -> None:
    # d(x*x) along 1.0 is x*1 + x*1: two products and their sum, no 0.0 added to start it.
    x = Value(0.5, "x")
    _, tangent = jvp(lambda u: u * u, (x,), (1.0,))
    graph = [(node.op, node.data) for node in topological_order(tangent)]
    assert graph == [("", 0.5), ("", 1.0), ("*", 0.5), ("*", 0.5), ("+", 1.0)]


def test_jvp_inside_grad_is_differentiated_too() -> None:
    # d/dx [d/dt f(x + t)] at t = 0 is f''(x): forward mode inside reverse mode.
    def slope_of_cube(x: Value) -> Value:
        return jvp(lambda u: u * u * u, (x,), (1.0,))[1]

    assert slope_of_cube(Value(2.0)).data == 12.0
    assert grad(slope_of_cube)(2.0).data == 12.0  # d/dx 3x^2 = 6x


def test_jvp_of_one_value_passed_twice_moves_it_by_the_sum_of_its_tangents() -> None:
    # f sees one variable x, so it moves by both: d/dt (3 + 2t)(3 + 2t) = 12 at t = 0.
    x = Value(3.0, "x")
    assert jvp(lambda a, b: a * b, (x, x), (1.0, 0.0))[1].data == 6.0
    assert jvp(lambda a, b: a * b, (x, x), (1.0, 1.0))[1].data == 12.0
    assert jvp(lambda a, b: a * b, (x, x), (Value(1.0), 1.0))[1].data == 12.0  # as Values


def test_a_flat_edge_passes_no_nan_in_forward_mode_either() -> None:
    # relu below 0 with an infinite tangent: 0, as backward() passes 0 under an inf grad.
    _, slope = jvp(lambda x: (x * math.inf).relu() + x, (-1.0,), (1.0,))
    assert slope.data == 1.0


def test_forward_mode_shares_a_tangent_passed_on_unchanged_and_never_changes_one() -> None:
    x, y = Value(2.0, "x"), Value(3.0, "y")
    u = x + 2.0  # d u / d x = 1: u's tangent is x's own
    v = u + y  # moved by x and by y: a new tangent, x's left as it was
    swept = push_tangents(topological_order(v), {x: {0: 1.0}, y: {1: 1.0}})
    assert swept[u] is swept[x]
    assert swept[x] == {0: 1.0} and swept[y] == {1: 1.0}
    assert swept[v] == {0: 1.0, 1: 1.0}


# -- grad and gradients: the contract ------------------------------------------------------


def test_gradients_leave_every_grad_as_it_was() -> None:
    x, w = Value(2.0, "x"), Value(-3.0, "w")
    x.grad, w.grad = 0.5, 7.0
    y = (x * w).tanh() * x
    y.grad = 11.0
    for create_graph in (False, True):
        dx, dw = gradients(y, [x, w], create_graph=create_graph)
        assert (x.grad, w.grad, y.grad) == (0.5, 7.0, 11.0)
        y.backward()  # what backward() gives, from a clean start
        fresh = [Value(2.0), Value(-3.0)]
        z = (fresh[0] * fresh[1]).tanh() * fresh[0]
        z.backward()
        assert (dx.data, dw.data) == (fresh[0].grad, fresh[1].grad)
        x.grad, w.grad, y.grad = 0.5, 7.0, 11.0


def test_grad_of_a_value_the_output_does_not_depend_on_is_zero() -> None:
    x, y = Value(1.0), Value(2.0)
    assert [g.data for g in gradients(x * 3.0, [y, x])] == [0.0, 3.0]
    assert [g.data for g in gradients(x * 3.0, [y, x], create_graph=True)] == [0.0, 3.0]


def test_an_unrelated_value_s_gradient_and_an_untouched_hessian_entry_are_plus_zero() -> None:
    # backward() leaves such a .grad at 0.0, and torch gives 0.0: never -0.0.
    x, y = Value(1.0), Value(2.0)
    for create_graph in (False, True):
        (dy,) = gradients(x * 3.0, [y], create_graph=create_graph)
        assert str(dy.data) == "0.0"
    # d2 (x x + y): 2 at (x, x); nothing moves d/dx by y, nor d/dy (= 1) by anything.
    assert str(hessian(lambda x, y: x * x + y)(1.0, 2.0)) == "[[2.0, 0.0], [0.0, 0.0]]"


def test_the_exponent_s_edge_of_a_power_at_base_zero_is_backward_s_with_create_graph() -> None:
    # d (a ** b) / db is 0 at a = 0, b >= 0; only the base's edge is flat, so 0 * inf is
    # nan on the exponent's edge, as backward() computes it.
    for upstream in (3.0, math.inf):
        a, b = Value(0.0), Value(2.0)
        y = (a**b) * upstream
        (reference,) = gradients(y, [b])
        (with_graph,) = gradients(y, [b], create_graph=True)
        assert str(with_graph.data) == str(reference.data) == ("nan" if upstream > 3 else "0.0")


@pytest.mark.parametrize("tangent", [1.0, -1.0, math.inf, -math.inf, math.nan])
@pytest.mark.parametrize("flat", [lambda x: x.relu(), lambda x: x**0], ids=["relu", "pow0"])
def test_forward_mode_on_values_passes_plus_zero_through_a_flat_edge_as_on_floats(
    flat: Callable[[Value], Value], tangent: float
) -> None:
    # +0.0, not 0 * tangent (-0.0 for a negative one, nan for inf), as PyTorch's jvp gives.
    _, on_floats = jvp(flat, (-1.0,), (tangent,))
    _, on_values = jvp(flat, (Value(-1.0),), (tangent,))  # the sweep on Values
    assert str(on_floats.data) == str(on_values.data) == "0.0"


def test_mixed_partials_by_argnum() -> None:
    f = lambda x, y: x * x * y.exp()  # noqa: E731
    d_dx_dy = grad(grad(f, argnum=0), argnum=1)
    d_dy_dx = grad(grad(f, argnum=1), argnum=0)
    assert close(d_dx_dy(1.5, 0.5).data, 3.0 * math.exp(0.5))
    assert close(d_dy_dx(1.5, 0.5).data, 3.0 * math.exp(0.5))


def test_the_classic_perturbation_confusion_is_not_confused() -> None:
    # d/dx [x * (d/dy (x * y))] = d/dx [x * x] = 2x: the inner derivative keeps x live.
    assert grad(lambda x: x * grad(lambda y: x * y)(2.0))(1.0).data == 2.0


def test_a_graph_made_with_create_graph_is_an_ordinary_graph(tmp_path: Any) -> None:
    from tinygrad_xor.backprop_steps import record_steps
    from tinygrad_xor.compile import trace
    from tinygrad_xor.graph import draw_dot, to_html
    from tinygrad_xor.testing import assert_gradients_match

    x = Value(0.5, "x")
    slope = grad(lambda v: v.tanh())(x)  # 1 - tanh(x)^2, as a graph over x
    assert close(slope.data, 1.0 - math.tanh(0.5) ** 2)
    walk = record_steps(slope)
    assert close(walk.grads[walk.values.index(x)], -2 * math.tanh(0.5) * (1 - math.tanh(0.5) ** 2))
    tape = trace(lambda: grad(lambda v: v.tanh())(x), parameters=[x])
    assert close(tape.replay([0.5]).grads[0], walk.grads[walk.values.index(x)])
    assert_gradients_match(grad(lambda v: v.tanh()), (0.5,))
    source = draw_dot(slope).source
    assert source.count("tanh") == 1 and "x" in source
    page = to_html(slope, tmp_path / "slope.html")
    assert "tanh" in page and (tmp_path / "slope.html").read_text(encoding="utf-8") == page


# -- ops of define_op ---------------------------------------------------------------------


def test_an_op_of_define_op_with_a_derivative_in_values_differentiates_to_any_order() -> None:
    cos: Any = None
    sin = define_op("sin", lambda x: (math.sin(x), math.cos(x)), derivative=lambda x: cos(x))
    cos = define_op("cos", lambda x: (math.cos(x), -math.sin(x)), derivative=lambda x: -sin(x))
    third = grad(grad(grad(sin)))
    assert close(third(0.7).data, -math.cos(0.7))
    h = hessian(lambda x, y: sin(x) * cos(y))(0.3, 1.1)
    want = [
        [-math.sin(0.3) * math.cos(1.1), -math.cos(0.3) * math.sin(1.1)],
        [-math.cos(0.3) * math.sin(1.1), -math.sin(0.3) * math.cos(1.1)],
    ]
    assert all(close(h[i][j], want[i][j]) for i in range(2) for j in range(2))


def test_an_op_of_define_op_without_one_names_itself_when_differentiated_twice() -> None:
    softplus = define_op(
        "softplus", lambda x: (math.log1p(math.exp(x)), 1.0 / (1.0 + math.exp(-x)))
    )
    x = Value(0.0)
    (first,) = gradients(softplus(x), [x])
    assert first.data == 0.5  # first order works everywhere
    said = _no_derivative_in_values("softplus", "x")
    assert_refused(lambda: grad(softplus)(0.0), TypeError, said)  # grad() keeps the graph
    assert_refused(lambda: grad(grad(softplus))(0.0), TypeError, said)
    assert_refused(lambda: hessian(lambda x: softplus(x))(0.0), TypeError, said)
    assert isinstance(softplus.op, RuleOp) and softplus.op.derivative is None


# -- bad input ----------------------------------------------------------------------------


def test_an_op_recorded_by_a_bare_name_is_named_when_a_graph_of_its_gradient_is_asked() -> None:
    # engine.op_result with a bare name records no rule: backward() works, grad of grad not.
    x = Value(2.0)
    y = op_result(4.0, "square", x, 4.0)
    assert gradients(y, [x])[0].data == 4.0
    assert_refused(
        lambda: gradients(y, [x], create_graph=True),
        TypeError,
        "cannot differentiate through the op 'square' on Values: it has no rule (it was "
        "recorded by engine.op_result with a bare name). Make it with define_op.",
    )


def test_the_arithmetic_of_values_branches_only_on_a_bool() -> None:
    assert VALUES.where(True, 1.0, 2.0) == 1.0 and VALUES.where(False, 1.0, 2.0) == 2.0
    # a condition that is a Value is refused: REFUSALS


def _text_refused(where: str, text: str) -> str:
    """The message for a str given where a number goes (numbers.to_float's wording)."""
    return (
        f"{where}: expected a Value or a real number (int or float), got str {text!r}. "
        "Convert the text first: Value(float(text))."
    )


def _no_derivative_in_values(name: str, arguments: str) -> str:
    return (
        f"the op {name!r} (made by define_op) gives its derivative as a float, so a gradient "
        f"through it cannot be differentiated again. Give its derivative in Values too: "
        f"define_op({name!r}, rule, derivative=lambda {arguments}: ...), written with ops that "
        "have derivatives of their own (Value's ops, or ops of define_op given one). For a first "
        "derivative only, gradients(y, xs) and backward() work as they are."
    )


_FLOAT_ONLY = define_op("flat", lambda x: (x, 1.0))
_FLOAT_ONLY_2 = define_op("flat2", lambda x, y: (x * y, y, x))
_RETURNS_TEXT = define_op("text", lambda x: (x, 1.0), derivative=lambda x: "a")
_RETURNS_ONE = define_op("one", lambda x, y: (x * y, y, x), derivative=lambda x, y: x)
_RETURNS_THREE = define_op("three", lambda x, y: (x * y, y, x), derivative=lambda x, y: (y, x, x))
_RETURNS_A_PAIR_SHORT = define_op("short", lambda x, y: (x * y, y, x), derivative=lambda x, y: (y,))


def _constant(*args: Value) -> Value:
    return Value(1.0)


# Each refusal, its exception type and its whole message, as the code's docs describe it:
# what was called (grad(<lambda>), jvp(f, primals, tangents)...), which argument, counted
# from 0, and what was received.
REFUSALS: list[tuple[Callable[[], object], type[Exception], str]] = [
    (lambda: grad(3.0), TypeError, "grad(f): f must be a function of Values, got float."),
    (lambda: hessian(3.0), TypeError, "hessian(f): f must be a function of Values, got float."),
    (
        lambda: jvp(3.0, (1.0,), (1.0,)),
        TypeError,
        "jvp(f, ...): f must be a function of Values, got float.",
    ),
    (
        lambda: grad(lambda v: v, argnum=-1),
        ValueError,
        "grad(f, argnum) must be a whole number >= 0, got -1.",
    ),
    # one past the last argument
    (
        lambda: grad(lambda v: v, argnum=1)(1.0),
        TypeError,
        "grad(<lambda>): argnum=1, but it was called with 1 argument; argnum counts from 0.",
    ),
    (
        lambda: grad(lambda v: v, argnum=2)(1.0),
        TypeError,
        "grad(<lambda>): argnum=2, but it was called with 1 argument; argnum counts from 0.",
    ),
    (
        lambda: grad(_constant, argnum=3)(),
        TypeError,
        "grad(_constant): argnum=3, but it was called with 0 arguments; argnum counts from 0.",
    ),
    (
        lambda: grad(lambda *v: Value(1.0), argnum=3)(1.0, 2.0),
        TypeError,
        "grad(<lambda>): argnum=3, but it was called with 2 arguments; argnum counts from 0.",
    ),
    (
        lambda: grad(lambda v: v)("one"),
        TypeError,
        _text_refused("grad(<lambda>): argument 0", "one"),
    ),
    (
        lambda: grad(lambda v, w: v)(1.0, "x"),
        TypeError,
        _text_refused("grad(<lambda>): argument 1", "x"),
    ),
    (
        lambda: hessian(lambda v, w: v * w)(1.0, "2"),
        TypeError,
        _text_refused("hessian(<lambda>): argument 1", "2"),
    ),
    (
        lambda: jvp(lambda v: v, (1.0,), ("t",)),
        TypeError,
        _text_refused("jvp(<lambda>): tangent 0", "t"),
    ),
    (
        lambda: jvp(lambda v, w: v, (1.0, 2.0), (1.0, "t")),
        TypeError,
        _text_refused("jvp(<lambda>): tangent 1", "t"),
    ),
    (
        lambda: jvp(lambda v, w: v, (1.0, "p"), (1.0, 1.0)),
        TypeError,
        _text_refused("jvp(<lambda>): argument 1", "p"),
    ),
    (
        lambda: jvp(lambda v: v, (1.0,), (1.0, 2.0)),
        ValueError,
        "jvp(f, primals, tangents): 1 primals but 2 tangents; give one tangent per primal.",
    ),
    (
        lambda: jvp(lambda v: v, 1.0, (1.0,)),
        TypeError,
        "jvp(f, primals, tangents): primals must be a tuple, one entry per argument of f, "
        "got float 1.0; e.g. jvp(f, (x,), (1.0,)).",
    ),
    (
        lambda: jvp(lambda v: v, "1", (1.0,)),
        TypeError,
        "jvp(f, primals, tangents): primals must be a tuple, one entry per argument of f, "
        "got str '1'; e.g. jvp(f, (x,), (1.0,)).",
    ),
    (
        lambda: jvp(lambda v: v, (1.0,), "1"),
        TypeError,
        "jvp(f, primals, tangents): tangents must be a tuple, one entry per argument of f, "
        "got str '1'; e.g. jvp(f, (x,), (1.0,)).",
    ),
    (
        lambda: jvp(lambda v: [], (1.0,), (1.0,)),
        TypeError,
        "jvp(<lambda>): f must return a Value or a list of Values, got list [].",
    ),
    (
        lambda: grad(lambda v: 3.0)(1.0),
        TypeError,
        "grad(<lambda>): f must return a Value (one number), got float 3.0.",
    ),
    (
        lambda: gradients(2.0, [Value(1.0)]),
        TypeError,
        "gradients(y, xs): y must be a Value, got float 2.0.",
    ),
    (
        lambda: gradients(Value(1.0), Value(1.0)),
        TypeError,
        "gradients(y, xs): xs must be a list of Values, got Value; for one, pass [x].",
    ),
    (
        lambda: gradients(Value(1.0), [Value(1.0), 2.0]),
        TypeError,
        "gradients(y, xs): xs[1] must be a Value, got 2.0.",
    ),
    (
        lambda: VALUES.where(Value(1.0), 1.0, 2.0),
        TypeError,
        "where: a condition on Values must be a bool, got Value(data=1.0, grad=0.0).",
    ),
    (lambda: grad(_FLOAT_ONLY)(0.0), TypeError, _no_derivative_in_values("flat", "x")),
    (
        lambda: grad(lambda x: _FLOAT_ONLY_2(x, x))(2.0),
        TypeError,
        _no_derivative_in_values("flat2", "x, y"),
    ),
    (
        lambda: grad(_RETURNS_TEXT)(2.0),
        TypeError,
        "text's derivative returned 'a'; it must return d/dx (a Value).",
    ),
    (
        lambda: grad(lambda x: _RETURNS_ONE(x, x))(2.0),
        TypeError,
        "one's derivative returned Value(data=2.0, grad=0.0); it must return (d/dx, d/dy), Values.",
    ),
    # one where two are due, in a tuple: as wrong as three
    (
        lambda: grad(lambda x: _RETURNS_A_PAIR_SHORT(x, x))(2.0),
        TypeError,
        "short's derivative returned (Value(data=2.0, grad=0.0),); it must return (d/dx, d/dy), "
        "Values.",
    ),
    # three where two are due: shown by its first 80 characters
    (
        lambda: grad(lambda x: _RETURNS_THREE(x, x))(2.0),
        TypeError,
        "three's derivative returned (Value(data=2.0, grad=0.0), Value(data=2.0, grad=0.0), "
        "Value(data=2.0, grad=0...; it must return (d/dx, d/dy), Values.",
    ),
]


@each_refusal(REFUSALS)
def test_each_refusal_has_its_exception_type_and_says_its_whole_message(refusal: Refusal) -> None:
    assert_refused(*refusal)


def test_the_package_exports_every_derivative_function() -> None:
    import tinygrad_xor

    assert {"gradients", "grad", "hessian", "jvp"} <= set(tinygrad_xor.__all__)


# -- memory -------------------------------------------------------------------------------


def test_second_order_work_leaves_no_reference_cycles() -> None:
    """Only our code runs between two collections: whatever the second finds is ours."""
    model = MLP(2, [5, 1], seed=0)
    weights = [p.data for p in model.parameters()]
    gc.collect()
    gc.disable()
    flags = gc.get_debug()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(5):
            hessian(xor_loss(model))(*weights)
            grad(grad(lambda v: v.tanh() * v))(0.3)
            jvp(xor_loss(model), weights, [1.0] * 21)
            gradients(xor_loss(model)(*weights), model.parameters(), create_graph=True)
        gc.collect()
        found = sorted({type(o).__name__ for o in gc.garbage})
    finally:
        gc.garbage.clear()
        gc.set_debug(flags)
        gc.enable()
    assert found == []
