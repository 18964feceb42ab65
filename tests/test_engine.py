"""The Value engine: each op against hand-computed numbers, its singular points,
bad operands, backward semantics, deep graphs, and micrograd compatibility."""

import math
import sys

import pytest
from refusals import assert_refused, each_refusal

from tinygrad_xor import Value
from tinygrad_xor.engine import op_result, topological_order

E2 = math.exp(2.0)
INF, NAN = math.inf, math.nan


def grads_of(f, *xs):
    """Value and leaf grads of f at xs, after one backward."""
    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def same(a: float, b: float) -> bool:
    """Equal as IEEE numbers: nan equals nan, and +0.0 and -0.0 differ."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def close(a: float, b: float) -> bool:
    """Like same, but finite numbers may differ by rounding (or in the subnormal range)."""
    if math.isfinite(a) and math.isfinite(b):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)
    return same(a, b)


# -- each op: value and gradient, worked out by hand --------------------------------

S2 = 1.0 / (1.0 + math.exp(-2.0))
T05 = math.tanh(0.5)

HAND_COMPUTED = [
    # name, f, inputs, value, grads
    ("add", lambda a, b: a + b, (2.0, -3.0), -1.0, [1.0, 1.0]),
    ("sub", lambda a, b: a - b, (2.0, -3.0), 5.0, [1.0, -1.0]),
    ("mul", lambda a, b: a * b, (2.0, -3.0), -6.0, [-3.0, 2.0]),
    ("div", lambda a, b: a / b, (2.0, -4.0), -0.5, [-0.25, -0.125]),  # 1/b, -a/b^2
    ("neg", lambda a: -a, (2.0,), -2.0, [-1.0]),
    ("radd", lambda a: 5 + a, (2.0,), 7.0, [1.0]),
    ("rsub", lambda a: 5 - a, (2.0,), 3.0, [-1.0]),
    ("rmul", lambda a: 5 * a, (2.0,), 10.0, [5.0]),
    ("rdiv", lambda a: 1 / a, (2.0,), 0.5, [-0.25]),  # -1/a^2
    ("pow int", lambda a: a**3, (2.0,), 8.0, [12.0]),  # 3 a^2
    ("pow neg", lambda a: a**-1, (2.0,), 0.5, [-0.25]),  # -a^-2
    ("pow half", lambda a: a**0.5, (4.0,), 2.0, [0.25]),  # 0.5 / sqrt(a)
    ("pow zero", lambda a: a**0, (4.0,), 1.0, [0.0]),
    ("pow value", lambda a, b: a**b, (2.0, 3.0), 8.0, [12.0, 8.0 * math.log(2.0)]),
    ("rpow", lambda a: 3**a, (2.0,), 9.0, [9.0 * math.log(3.0)]),
    ("exp", lambda a: a.exp(), (2.0,), E2, [E2]),
    ("log", lambda a: a.log(), (2.0,), math.log(2.0), [0.5]),
    ("tanh", lambda a: a.tanh(), (0.5,), T05, [1.0 - T05**2]),
    ("sigmoid 0", lambda a: a.sigmoid(), (0.0,), 0.5, [0.25]),
    ("sigmoid 2", lambda a: a.sigmoid(), (2.0,), S2, [S2 * (1 - S2)]),
    ("sigmoid -2", lambda a: a.sigmoid(), (-2.0,), 1 - S2, [S2 * (1 - S2)]),
    ("relu +", lambda a: a.relu(), (3.0,), 3.0, [1.0]),
    ("relu -", lambda a: a.relu(), (-2.0,), 0.0, [0.0]),
    ("relu at 0", lambda a: a.relu(), (0.0,), 0.0, [0.0]),  # relu'(0) = 0, as PyTorch
]


@pytest.mark.parametrize(
    ("f", "xs", "value", "grads"),
    [case[1:] for case in HAND_COMPUTED],
    ids=[case[0] for case in HAND_COMPUTED],
)
def test_op_value_and_gradient(f, xs, value, grads):
    got_value, got_grads = grads_of(f, *xs)
    assert got_value == pytest.approx(value, rel=1e-15)
    assert got_grads == pytest.approx(grads, rel=1e-15)


def test_chain_rule_through_a_small_expression():
    # y = (a*b + c) * tanh(a); worked by hand: dy/da = b*tanh(a) + (a*b + c)(1 - tanh^2 a)
    a, b, c = Value(0.5), Value(-2.0), Value(3.0)
    y = (a * b + c) * a.tanh()
    y.backward()
    t = math.tanh(0.5)
    assert y.data == pytest.approx(2.0 * t)
    assert a.grad == pytest.approx(-2.0 * t + 2.0 * (1 - t * t))
    assert b.grad == pytest.approx(0.5 * t)
    assert c.grad == pytest.approx(t)


def test_division_gives_the_correctly_rounded_quotient():
    # The same number as the float division a / b -- also where 1/b overflows, and
    # where a * (1/b) would round differently (3 * (1/10) = 0.30000000000000004).
    pairs = [(3.0, 10.0), (1e-300, 1e-310), (5e-324, 5e-324), (1.0, 3.0), (-7.5, 0.1)]
    for a, b in pairs:
        assert (Value(a) / b).data == a / b
        assert (a / Value(b)).data == a / b


# -- singular points: IEEE results, as PyTorch float64 gives -------------------------

SINGULAR = [
    # name, f, x, value, dvalue/dx
    ("x / 0", lambda x: x / 0, 1.0, INF, INF),
    ("-x / 0", lambda x: x / 0, -1.0, -INF, INF),
    ("0 / 0", lambda x: x / 0, 0.0, NAN, INF),
    ("1 / x at 0", lambda x: 1 / x, 0.0, INF, -INF),
    ("1 / x at -0", lambda x: 1 / x, -0.0, -INF, -INF),
    ("log 0", lambda x: x.log(), 0.0, -INF, INF),
    ("log -0", lambda x: x.log(), -0.0, -INF, -INF),
    ("log negative", lambda x: x.log(), -1.0, NAN, -1.0),
    ("log -inf", lambda x: x.log(), -INF, NAN, 0.0),  # 1/-inf = -0.0, added to a grad of +0.0
    ("0 ** -1", lambda x: x**-1, 0.0, INF, -INF),
    ("-0 ** -1", lambda x: x**-1, -0.0, -INF, -INF),
    ("0 ** -2", lambda x: x**-2, 0.0, INF, -INF),
    ("0 ** -0.5", lambda x: x**-0.5, 0.0, INF, -INF),
    ("0 ** 0.5", lambda x: x**0.5, 0.0, 0.0, INF),
    ("negative ** fractional", lambda x: x**0.5, -8.0, NAN, NAN),
    ("negative ** third", lambda x: x ** (1 / 3), -8.0, NAN, NAN),
    ("10 ** 400", lambda x: x**400, 10.0, INF, INF),
    ("-10 ** 401", lambda x: x**401, -10.0, -INF, INF),
    ("-10 ** 400", lambda x: x**400, -10.0, INF, -INF),
    ("exp 1000", lambda x: x.exp(), 1000.0, INF, INF),
    ("exp -1000", lambda x: x.exp(), -1000.0, 0.0, 0.0),
    ("sigmoid 1e308", lambda x: x.sigmoid(), 1e308, 1.0, 0.0),
    ("sigmoid -1e308", lambda x: x.sigmoid(), -1e308, 0.0, 0.0),
    ("sigmoid 710", lambda x: x.sigmoid(), 710.0, 1.0, 0.0),
    ("sigmoid -710", lambda x: x.sigmoid(), -710.0, math.exp(-710.0), math.exp(-710.0)),
    ("tanh 1e308", lambda x: x.tanh(), 1e308, 1.0, 0.0),
    ("tanh -1e308", lambda x: x.tanh(), -1e308, -1.0, 0.0),
    ("relu nan", lambda x: x.relu(), NAN, NAN, 1.0),
    ("1e308 * 10", lambda x: x * 10, 1e308, INF, 10.0),
    ("2 ** x at 2000", lambda x: 2**x, 2000.0, INF, INF),
    ("0 ** x at 2", lambda x: 0.0**x, 2.0, 0.0, 0.0),  # d/dx taken as 0 at base 0, as PyTorch
    ("x ** x at 0", lambda x: x**x, 0.0, 1.0, 0.0),
]

STRUCTURAL_ZEROS = [
    # name, f, x, value, d value / dx. The output does not depend on x there (relu below 0,
    # relu'(0) = 0 by convention, x ** 0 = 1), so an inf or nan gradient from above passes
    # as 0, as PyTorch masks it -- not as 0 * inf = nan.
    ("relu below 0, then sqrt", lambda x: x.relu() ** 0.5, -1.0, 0.0, 0.0),
    ("relu below 0, then log", lambda x: x.relu().log(), -1.0, -INF, 0.0),
    ("relu below 0, then 1 / x", lambda x: 1 / x.relu(), -1.0, INF, 0.0),
    ("relu at 0, then sqrt", lambda x: x.relu() ** 0.5, 0.0, 0.0, 0.0),
    ("relu at -0, then 1 / x", lambda x: 1 / x.relu(), -0.0, -INF, 0.0),
    ("relu below 0, nan from above", lambda x: x.relu() / x.relu(), -1.0, NAN, 0.0),
    ("x ** 0, then 1 / (. - 1)", lambda x: 1 / (x**0 - 1), 3.0, INF, 0.0),
    ("x ** -0.0, then log(. - 1)", lambda x: (x**-0.0 - 1).log(), 3.0, -INF, 0.0),
    # Zeros that are values, not structure, still give 0 * inf = nan, as in PyTorch:
    ("x ** 2 at 0, then log", lambda x: (x**2).log(), 0.0, -INF, NAN),
    ("x * 0, then log", lambda x: (x * 0.0).log(), 2.0, -INF, NAN),
]


@pytest.mark.parametrize(
    ("f", "x", "value", "grad"),
    [case[1:] for case in SINGULAR],
    ids=[case[0] for case in SINGULAR],
)
def test_singular_points_give_ieee_results(f, x, value, grad):
    got_value, (got_grad,) = grads_of(f, x)
    assert same(got_value, value), f"value {got_value!r}, expected {value!r}"
    assert same(got_grad, grad), f"grad {got_grad!r}, expected {grad!r}"


@pytest.mark.parametrize(
    ("f", "x"),
    [case[1:3] for case in SINGULAR + STRUCTURAL_ZEROS],
    ids=[case[0] for case in SINGULAR + STRUCTURAL_ZEROS],
)
def test_singular_points_and_structural_zeros_match_pytorch_float64(f, x):
    torch = pytest.importorskip("torch", reason="PyTorch is the third oracle when installed")
    ours_value, (ours_grad,) = grads_of(f, x)
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = f(t)
    out.backward()
    assert close(ours_value, out.item()), (ours_value, out.item())
    assert close(ours_grad, t.grad.item()), (ours_grad, t.grad.item())


def test_no_op_leaks_a_python_math_exception():
    extremes = [0.0, -0.0, 1.0, -1.0, 1e308, -1e308, 5e-324, INF, -INF, NAN, 709.8, -745.2]
    ops = [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a * b,
        lambda a, b: a / b,
        lambda a, b: a**b,
        lambda a, b: a**b.data,
        lambda a, b: a.data**b,
        lambda a, b: a.data / b,
        lambda a, b: a.exp() + b.log(),
        lambda a, b: a.tanh() * b.sigmoid() + a.relu(),
    ]
    for op in ops:
        for x in extremes:
            for y in extremes:
                a, b = Value(x), Value(y)
                out = op(a, b)
                out.backward()
                assert isinstance(out.data, float)
                assert isinstance(a.grad, float) and isinstance(b.grad, float)


# -- structural zeros: relu below 0 and x ** 0 pass 0, whatever comes from above -----------


@pytest.mark.parametrize(
    ("f", "x", "value", "grad"),
    [case[1:] for case in STRUCTURAL_ZEROS],
    ids=[case[0] for case in STRUCTURAL_ZEROS],
)
def test_a_structural_zero_passes_zero_even_from_inf_or_nan(f, x, value, grad):
    got_value, (got_grad,) = grads_of(f, x)
    assert same(got_value, value), f"value {got_value!r}, expected {value!r}"
    assert close(got_grad, grad), f"grad {got_grad!r}, expected {grad!r}"


def test_x_to_a_zero_exponent_passes_zero_to_x_and_the_rest_to_the_exponent():
    # d/dx x ** y at y = 0 is structurally 0; d/dy = x ** y * log x is not: -inf * log 3
    # (PyTorch gives the same three numbers).
    x, y = Value(3.0), Value(0.0)
    out = 1 / (x**y - 1)
    out.backward()
    assert (out.data, x.grad, y.grad) == (INF, 0.0, -INF)


def test_an_op_recorded_by_a_bare_name_passes_local_times_inf_as_any_op_with_a_value_zero():
    # engine.op_result takes a bare name (no rule, so no structural zero): 0 * inf is nan.
    x = Value(3.0)
    out = op_result(1.0, "bare", x, 0.0)
    out.backward(INF)
    assert math.isnan(x.grad)


# -- bad operands: TypeError saying what was received -------------------------------

# (id, the operand, how the message shows it, the hint it ends with)
EACH_ELEMENT = "A Value holds one number: make one per element, [Value(x) for x in xs]."
BAD = [
    ("a str", "1.5", "str '1.5'", "Convert the text first: Value(float(text))."),
    (
        "None",
        None,
        "NoneType None",
        "Check where the None came from: a function that returned nothing?",
    ),
    (
        "a complex",
        1j,
        "complex 1j",
        "A Value holds one real number: use x.real, or abs(x) for the magnitude.",
    ),
    ("a list", [1.0], "list [1.0]", EACH_ELEMENT),
    ("a dict", {}, "dict {}", EACH_ELEMENT),
]
BAD_IDS = [b[0] for b in BAD]
BINARY = {
    "+": lambda v, x: v + x,
    "r+": lambda v, x: x + v,
    "-": lambda v, x: v - x,
    "r-": lambda v, x: x - v,
    "*": lambda v, x: v * x,
    "r*": lambda v, x: x * v,
    "/": lambda v, x: v / x,
    "r/": lambda v, x: x / v,
    "**": lambda v, x: v**x,
}
# What each message calls the expression: the op as the user wrote it, Value on its side.
WRITTEN = {
    "+": "Value + other",
    "r+": "other + Value",
    "-": "Value - other",
    "r-": "other - Value",
    "*": "Value * other",
    "r*": "other * Value",
    "/": "Value / other",
    "r/": "other / Value",
    "**": "Value ** exponent",
}
OPERAND = "a Value or a real number (int or float)"
NUMBER = "a real number (int or float)"


@pytest.mark.parametrize("op", BINARY, ids=list(BINARY))
@pytest.mark.parametrize(("bad", "received", "hint"), [b[1:] for b in BAD], ids=BAD_IDS)
def test_bad_operand_raises_type_error_naming_the_expression_and_what_it_got(
    op, bad, received, hint
):
    assert_refused(
        lambda: BINARY[op](Value(2.0), bad),
        TypeError,
        f"{WRITTEN[op]}: expected {OPERAND}, got {received}. {hint}",
    )


@pytest.mark.parametrize(("bad", "received", "hint"), [b[1:] for b in BAD], ids=BAD_IDS)
def test_value_of_a_non_number_raises_type_error_naming_it(bad, received, hint):
    assert_refused(
        lambda: Value(bad), TypeError, f"Value(data): expected {NUMBER}, got {received}. {hint}"
    )


MICROGRAD_HINT = (
    "micrograd's Value(data, _children, _op) builds op nodes by hand; here every op is a "
    "method or operator (a * b, x.tanh()) that records its inputs itself."
)

# Each refusal of a Value, its exception type and its whole message.
REFUSALS = [
    (
        lambda: [2.0] ** Value(2.0),
        TypeError,
        f"base ** Value: expected {OPERAND}, got list [2.0]. {EACH_ELEMENT}",
    ),
    (
        lambda: Value(Value(1.0)),
        TypeError,
        f"Value(data): expected {NUMBER}, got Value Value(data=1.0, grad=0.0). "
        "Use that Value directly, or Value(v.data) for a new leaf.",
    ),
    (
        lambda: Value(1.0, 3),
        TypeError,
        "Value(label=...): expected a str, got int 3. "
        "Labels are names for drawing, e.g. Value(0.5, label='w1').",
    ),
    (
        lambda: Value(1.0).backward("1"),
        TypeError,
        f"backward(grad): expected {NUMBER}, got str '1'. Convert the text first: "
        "Value(float(text)).",
    ),
    (
        lambda: Value(1.0).backward(Value(2.0)),
        TypeError,
        f"backward(grad): expected {NUMBER}, got Value Value(data=2.0, grad=0.0). "
        "Pass its number, v.data.",
    ),
    # micrograd's hand-built nodes get a message saying how ops work here
    (
        lambda: Value(1.0, (Value(2.0),)),
        TypeError,
        "Value(data, label): the second argument is a label (a str), got tuple "
        f"(Value(data=2.0, grad=0.0),). {MICROGRAD_HINT}",
    ),
]


@each_refusal(REFUSALS)
def test_each_refusal_has_its_exception_type_and_says_its_whole_message(refusal):
    assert_refused(*refusal)


def test_integers_past_the_float_range_round_to_infinity_as_ieee():
    # float(10**400) raises OverflowError in Python; IEEE rounding gives inf.
    assert Value(10**400).data == INF and Value(-(10**400)).data == -INF
    assert (Value(1.0) + 10**400).data == INF
    assert (Value(2.0) ** 10**400).data == INF


def test_real_numbers_of_other_types_are_accepted():
    fractions = pytest.importorskip("fractions")
    v = Value(True) + fractions.Fraction(1, 2)
    assert v.data == 1.5
    numpy = pytest.importorskip("numpy")
    assert (Value(numpy.int64(2)) * numpy.float32(1.5)).data == 3.0


# -- backward semantics --------------------------------------------------------------


def test_two_backward_calls_give_exactly_twice_the_leaf_grads():
    a, b = Value(0.3), Value(-1.7)
    y = (a * b + a.tanh() * b) / (a * a + 1.0) + (a * b).sigmoid()  # leaves reached by many paths
    y.backward()
    once = (a.grad, b.grad)
    y.backward()
    assert (a.grad, b.grad) == (2 * once[0], 2 * once[1])


def test_interior_grads_do_not_compound():
    a = Value(3.0)
    h = a * a
    y = h * 2.0 + 1.0
    y.backward()
    y.backward()
    assert h.grad == 2.0  # d y / d h for this call, not 4
    assert y.grad == 1.0
    assert a.grad == 2 * 12.0


def test_reused_node():
    a = Value(3.0)
    b = a + a  # 6
    c = b * b  # 36; dc/da = 2b * 2 = 24
    c.backward()
    assert (c.data, b.grad, a.grad) == (36.0, 12.0, 24.0)


def test_shared_subexpression():
    x, w = Value(2.0), Value(-0.5)
    s = x * w  # used three times
    y = s * s + s.exp() + s  # dy/ds = 2s + e^s + 1
    y.backward()
    dy_ds = 2 * -1.0 + math.exp(-1.0) + 1.0
    assert s.grad == pytest.approx(dy_ds, rel=1e-15)
    assert x.grad == pytest.approx(dy_ds * -0.5, rel=1e-15)
    assert w.grad == pytest.approx(dy_ds * 2.0, rel=1e-15)


def test_root_grad_is_seeded_with_one_and_upstream_grad_scales():
    a = Value(2.0)
    y = a * a
    y.backward()
    assert (y.grad, a.grad) == (1.0, 4.0)
    a.grad = 0.0
    y.backward(0.5)
    assert (y.grad, a.grad) == (0.5, 2.0)


def test_zero_upstream_gradient_gives_zero_gradients():
    a, b = Value(0.7), Value(-1.1)
    y = (a * b).tanh() + (a / b).exp() + b.sigmoid().log()
    y.backward(0.0)
    assert (a.grad, b.grad) == (0.0, 0.0)


def test_backward_on_a_leaf_accumulates():
    a = Value(5.0)
    a.backward()
    a.backward()
    assert a.grad == 2.0


def test_zero_grad_clears_the_whole_graph():
    a, b = Value(1.0), Value(2.0)
    y = a * b + a
    y.backward()
    y.zero_grad()
    assert (a.grad, b.grad, y.grad) == (0.0, 0.0, 0.0)


def test_constants_are_leaves_and_do_not_disturb_gradients():
    a = Value(2.0)
    y = 3.0 * a - 1.0
    y.backward()
    assert a.grad == 3.0
    # y = (3 * a) + (-1.0): subtracting a number adds its negation, a constant leaf.
    constant = y.parents[1]
    assert constant.is_leaf and constant.data == -1.0


# -- the graph a Value remembers -------------------------------------------------------


def test_graph_introspection():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    y = a * b
    assert y.op == "*" and y.parents == (a, b) and y.local_grads == (-3.0, 2.0)
    assert a.op == "" and a.parents == () and a.local_grads == () and a.is_leaf
    t = a.tanh()
    assert t.op == "tanh" and t.parents == (a,) and not t.is_leaf
    assert (a**2).op == "**2" and (a**-0.5).op == "**-0.5"
    assert float((a ** (1 / 3)).op[2:]) == 1 / 3  # the name holds the exponent exactly
    assert y._prev == (a, b)  # the attribute micrograd's draw_dot reads


def test_repr():
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
    assert repr(Value(-1.5, "w1")) == "Value(data=-1.5, grad=0.0, label='w1')"


def test_item_is_the_number_not_its_gradient():
    v = Value(2.5)
    (v * v).backward()  # grad 5.0: item() must still say 2.5
    assert v.item() == 2.5 and type(v.item()) is float


def test_topological_order_lists_each_value_once_however_many_roots_share_it():
    x, w = Value(2.0, "x"), Value(3.0, "w")
    y = (x * w).tanh()
    z = y + x
    order = topological_order(z, y, x, z)  # y and x are in z's graph already
    assert order == topological_order(z)
    assert len(order) == len(set(order)) == 5  # x, w, x * w, tanh, +


def test_value_uses_slots_not_a_dict():
    v = Value(1.0)
    assert not hasattr(v, "__dict__")
    with pytest.raises(AttributeError):
        v.colour = "red"


# -- deep graphs: no recursion ----------------------------------------------------------


def test_a_million_op_chain_under_the_default_recursion_limit():
    assert sys.getrecursionlimit() <= 1000 + 100  # pytest leaves the default (1000) alone
    x = Value(1.0)
    y = x
    factor = 1.0 + 1e-7
    for _ in range(1_000_000):
        y = y * factor
    y.backward()
    assert x.grad == pytest.approx(factor**1_000_000, rel=1e-9)
    del y  # freeing the chain must not recurse either


# -- micrograd compatibility: its own test programs, unchanged --------------------------


def micrograd_sanity_check(Value):
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    return y.data, x.grad


def micrograd_more_ops(Value):
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    return g.data, a.grad, b.grad


@pytest.mark.parametrize("program", [micrograd_sanity_check, micrograd_more_ops])
def test_micrograd_code_runs_unchanged_and_gives_the_same_numbers(program):
    micrograd = pytest.importorskip("micrograd.engine", reason="micrograd 0.1.0 is a test extra")
    # Equal up to the order in which a leaf's contributions are summed: micrograd keeps
    # a node's inputs in a set, so even its own order varies with object addresses.
    assert program(Value) == pytest.approx(program(micrograd.Value), rel=1e-15)


def test_code_written_for_micrograds_value_draws_its_graph_unchanged():
    """micrograd's graph tracer (its trace_graph notebook, and the lecture's) reads exactly
    these attributes: _prev (iterated, recursively), _op (empty for a leaf), data, grad,
    label, and hashes each node into a set. A tracer written the same way runs here."""
    graphviz = pytest.importorskip("graphviz")

    def trace(root):
        nodes, edges = set(), set()
        pending = [root]
        while pending:
            v = pending.pop()
            if v not in nodes:
                nodes.add(v)
                for child in v._prev:
                    edges.add((child, v))
                    pending.append(child)
        return nodes, edges

    def draw(root):
        dot = graphviz.Digraph(format="svg", graph_attr={"rankdir": "LR"})
        nodes, edges = trace(root)
        for n in nodes:
            uid = str(id(n))
            dot.node(uid, label=f"{{ {n.label} | data {n.data:.4f} | grad {n.grad:.4f} }}")
            if n._op:
                dot.node(uid + n._op, label=n._op)
                dot.edge(uid + n._op, uid)
        for n1, n2 in edges:
            dot.edge(str(id(n1)), str(id(n2)) + n2._op)
        return dot

    a, b = Value(2.0, "a"), Value(-3.0, "b")
    e = a * b
    e.label = "e"
    out = (e + Value(10.0, "c")).tanh()
    out.label = "out"
    out.backward()
    nodes, edges = trace(out)
    assert {n.label for n in nodes} == {"a", "b", "c", "e", "", "out"}
    assert sorted(n._op for n in nodes) == ["", "", "", "*", "+", "tanh"]
    assert (a, e) in edges and (b, e) in edges and len(edges) == 5
    source = draw(out).source
    assert "{ out | data 0.9993 | grad 1.0000 }" in source
    assert source.count("label=tanh") == 1 and source.count("->") == 8
