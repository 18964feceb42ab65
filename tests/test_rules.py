"""Each op's one statement (rules.py) against everything that runs it.

The engine keeps its inline float formulas (measured faster than calling the rule), so a
test proves that both forms agree, for every op, bit for bit: value and local derivatives,
at special numbers (0, -0, inf, nan, subnormals, the edges of exp's range) and at random
ones. The compiled tape writes the same rule out as Python; both of its function sets
(Python's math, and the IEEE twin) must give the engine's bits too.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import subprocess
import sys
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_xor import formulas
from tinygrad_xor.compile import trace
from tinygrad_xor.engine import Value
from tinygrad_xor.formulas import FORMULA, SAFE
from tinygrad_xor.rules import BUILT_IN, EXP, FLOATS, PowerOp, Rule, RuleOp

INF, NAN = math.inf, math.nan
SPECIAL = [
    0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, 1e-300, -1e-300, 5e-324, -5e-324,
    2.2250738585072014e-308, 1e300, -1e300, 709.0, 709.8, 710.0, -745.0, -746.0, 1e-8,
    INF, -INF, NAN,
]  # fmt: skip
EXPONENTS = [0.0, 1.0, 2.0, 3.0, -1.0, -2.0, 0.5, -0.5, 1.0 / 3.0, 2.5, 1e-3]


def same(x: float, y: float) -> bool:
    """Bitwise equal as floats go: the same number with the same sign of zero, or both nan."""
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return x == y and math.copysign(1.0, x) == math.copysign(1.0, y)


def applied(rule: Rule) -> Callable[..., Value]:
    """The engine's method that records `rule` (x ** c: the exponent is the op's own)."""
    method = getattr(Value, rule.method)
    if isinstance(rule, PowerOp):
        return lambda a: method(a, rule.exponent)
    return method


ALL_RULES = [*BUILT_IN, *(PowerOp.of(c) for c in EXPONENTS)]


def check_agrees(rule: Rule, inputs: tuple[float, ...]) -> None:
    leaves = [Value(x) for x in inputs]
    node = applied(rule)(*leaves)
    assert node.op is rule or (isinstance(rule, PowerOp) and node.op == rule)
    value, local = rule.floats(*inputs)
    where = f"{rule}{inputs}"
    assert same(node.data, value), f"{where}: engine value {node.data!r}, rule {value!r}"
    for k, (engine, stated) in enumerate(zip(node.local_grads, local, strict=True)):
        assert same(engine, stated), f"{where}: d/d input {k}: engine {engine!r}, rule {stated!r}"


@pytest.mark.parametrize("rule", ALL_RULES, ids=repr)
def test_every_op_records_what_its_rule_states_at_special_numbers(rule: Rule) -> None:
    for inputs in itertools.product(SPECIAL, repeat=rule.arity):
        check_agrees(rule, inputs)


floats_anywhere = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)


@pytest.mark.parametrize("rule", ALL_RULES, ids=repr)
@given(data=st.data())
def test_every_op_records_what_its_rule_states_at_random_numbers(
    rule: Rule, data: st.DataObject
) -> None:
    inputs = tuple(data.draw(floats_anywhere) for _ in range(rule.arity))
    check_agrees(rule, inputs)


def test_the_built_in_ops_are_the_engine_s_methods_each_once() -> None:
    assert len({rule.method for rule in BUILT_IN}) == len(BUILT_IN)
    for rule in BUILT_IN:
        assert callable(getattr(Value, rule.method)), rule


# -- the compiled tape: the same rule, written out ----------------------------------------


@pytest.mark.parametrize("rule", ALL_RULES, ids=repr)
def test_the_tape_and_its_ieee_twin_replay_every_op_bit_for_bit(rule: Rule) -> None:
    leaves = [Value(0.5, "a"), Value(2.0, "b")][: rule.arity]
    tape = trace(lambda: applied(rule)(*leaves) * 1.0, parameters=leaves)
    fast = tape.function
    ieee = fast.__globals__["_ieee"]
    for inputs in itertools.product(SPECIAL, repeat=rule.arity):
        fresh = [Value(x) for x in inputs]
        loss = applied(rule)(*fresh) * 1.0
        loss.backward()
        want = [loss.data, *(leaf.grad for leaf in fresh)]
        for run in (fast, ieee, tape.replay):
            got_loss, grads, _ = run(list(inputs), [])
            got = [got_loss, *grads]
            assert all(map(same, want, got)), f"{rule}{inputs}: engine {want}, tape {got}"


def test_the_tape_reads_the_rule_never_the_name() -> None:
    # An op named "tanh" whose rule is exp's: the tape must compute exp.
    liar = Rule.of("tanh", "exp", EXP.value, EXP.local)
    x = Value(1.0, "x")

    def exp_named_tanh() -> Value:
        y = x.exp()
        y.op = liar
        return y

    assert "tanh(x)" in trace(lambda: x.tanh(), [x]).source  # tanh's own form, written first
    tape = trace(exp_named_tanh, [x])
    result = tape.replay([2.0])
    assert result.loss == math.exp(2.0) and result.grads == [math.exp(2.0)]
    assert "_exp(x)" in tape.source


def test_a_written_out_rule_keeps_the_brackets_python_needs_and_no_others() -> None:
    a, b, c = (formulas.name(letter) for letter in "abc")
    for expr, python in [
        (a - (b - c), "a - (b - c)"),
        ((a - b) - c, "a - b - c"),
        (a / (b / c), "a / (b / c)"),
        ((a / b) / c, "a / b / c"),
        (a * (b + c), "a * (b + c)"),
        (-(a - b), "-(a - b)"),
    ]:
        assert SAFE.render(expr) == python
        assert FORMULA.render(expr) == python.replace(" * ", "·")


def test_a_written_out_condition_brackets_as_python_compares_and_no_more() -> None:
    a, b, c = (formulas.name(letter) for letter in "abc")
    where = SAFE.arithmetic.where
    for expr, python in [
        (a + b < c - a, "a + b < c - a"),
        (a - b <= b + c, "a - b <= b + c"),
        (a * b > c + a, "a * b > c + a"),
        (a + c >= b - a, "a + c >= b - a"),
        (a / b == c - b, "a / b == c - b"),
        ((a < b) & (b <= c), "a < b and b <= c"),
        (where((a > b) & (b >= c), a - b, c + a), "a - b if a > b and b >= c else c + a"),
    ]:
        assert SAFE.render(expr) == python


def test_a_condition_known_when_the_rule_is_written_folds_away() -> None:
    a = formulas.name("a")
    for condition in (True & (a >= 0.0), (a >= 0.0) & True):
        assert SAFE.render(SAFE.arithmetic.where(condition, 0.0, a)) == "0.0 if a >= 0.0 else a"
    assert (False & (a >= 0.0)) is False and ((a >= 0.0) & False) is False


# -- PowerOp: the op of x ** c ------------------------------------------------------


def test_the_op_of_a_power_reads_like_the_exponent_and_holds_it() -> None:
    y = Value(3.0) ** 2
    assert y.op == "**2" and isinstance(y.op, str) and isinstance(y.op, PowerOp)
    assert y.op.exponent == 2.0
    assert PowerOp.of(-0.5) == "**-0.5" and PowerOp.of(0.1) == "**0.1"


def test_an_exponent_the_short_form_would_round_is_named_exactly() -> None:
    third = 1.0 / 3.0
    op = PowerOp.of(third)
    assert op == "**0.3333333333333333"  # f"{c:g}" would say 0.333333
    assert op.exponent == third
    assert PowerOp.of(123456789.0) == "**123456789.0"  # f"{c:g}" would say 1.23457e+08
    assert PowerOp.of(123456789.0).exponent == 123456789.0


def test_equal_exponents_share_one_op() -> None:
    assert (Value(3.0) ** 2).op is (Value(5.0) ** 2.0).op is PowerOp.of(2.0)
    assert PowerOp.of(0.5) is not PowerOp.of(2.0)


def test_a_negative_zero_exponent_is_the_op_of_zero_even_when_it_comes_first() -> None:
    # -0.0 == 0.0: one exponent, so one op (one cache entry), read "**0", not "**-0". A new
    # interpreter, so that -0.0 is the first zero exponent and makes the op.
    program = (
        "from tinygrad_xor import Value; a = Value(3.0) ** -0.0; b = Value(3.0) ** 0; "
        "print(a.op, b.op, a.op is b.op, a.op.exponent)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    ).stdout
    assert shown == "**0 **0 True 0.0\n"


# -- RuleOp: the op of define_op, and what its messages say ------------------------------


def test_a_failing_rule_s_message_shows_the_call_and_the_rule_s_own_error() -> None:
    def rule(x: float, y: float) -> tuple[float, float, float]:
        raise ZeroDivisionError("the rule's own words")

    op = RuleOp.of("broken", rule, 2)
    with pytest.raises(ValueError) as caught:
        op.evaluate(1.5, -2.0)
    # the advice names every IEEE helper a rule can use instead of raising
    assert str(caught.value) == (
        "broken(1.5, -2.0): the rule raised ZeroDivisionError: the rule's own words. A rule "
        "returns IEEE results (inf, nan) where Python raises: tinygrad_xor.floats' exp, log, "
        "power, divide and reciprocal do."
    )


@pytest.mark.parametrize(
    ("arity", "returned", "error", "message"),
    [
        (1, 0.5, TypeError, "op(1.5): the rule returned float 0.5; it must return a tuple "
         "(value, d/dx)."),
        (2, [1.0, 2.0], ValueError, "op(1.5, -2.0): the rule returned 2 items, [1.0, 2.0]; "
         "a binary op's rule returns (value, d/dx, d/dy)."),
        (1, (1.0, 2.0, 3.0), ValueError, "op(1.5): the rule returned 3 items, (1.0, 2.0, 3.0); "
         "a unary op's rule returns (value, d/dx)."),
        (2, (1.0, 2.0, "3"), TypeError, "op(1.5, -2.0): the rule returned (1.0, 2.0, '3'); its "
         "d/dy is str '3', not a real number. The rule gets floats and returns floats "
         "(math.sin(x), not a Value)."),
    ],
)  # fmt: skip
def test_a_rule_s_wrong_result_is_refused_with_the_call_what_it_returned_and_the_shape(
    arity: int, returned: object, error: type[Exception], message: str
) -> None:
    """Each refusal names the call, what the rule returned, and the shape its arity needs."""
    op = RuleOp.of("op", lambda *xs: returned, arity)
    with pytest.raises(error) as caught:
        op.evaluate(*(1.5, -2.0)[:arity])
    assert type(caught.value) is error and str(caught.value) == message


@pytest.mark.parametrize("returned", [(3, 0), (True, False), [3.0, 0.0], (3.0, 0)])
def test_a_rule_s_numbers_of_any_real_type_come_back_as_a_tuple_of_floats(
    returned: object,
) -> None:
    # the fast path is for floats only; anything else is converted, never passed on
    given = RuleOp.of("op", lambda x: returned, 1).evaluate(1.5)
    assert type(given) is tuple and [type(x) for x in given] == [float, float]
    assert given == (float(returned[0]), float(returned[1]))  # type: ignore[index]


def test_floats_is_the_arithmetic_of_the_engine_s_helpers() -> None:
    assert FLOATS.exp(1000.0) == INF and FLOATS.log(0.0) == -INF
    assert FLOATS.where(True, 1.0, 2.0) == 1.0 and FLOATS.where(False, 1.0, 2.0) == 2.0


def test_an_arithmetic_is_shared_so_no_reader_can_change_it() -> None:
    # Every op's floats and every tape read FLOATS: it is frozen, as each Arithmetic is.
    with pytest.raises(dataclasses.FrozenInstanceError):
        FLOATS.exp = math.exp  # type: ignore[misc]
    assert FLOATS.exp(1000.0) == INF
