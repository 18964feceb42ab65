"""define_op: a learner's op in the graph like a built-in one, and its rule's mistakes named.

The op's node records the rule's value and derivatives (engine.op_result), is drawn with
its name, backpropagates like any op; the rule's wrong shapes, non-numbers and
exceptions are errors naming the op and what the rule returned. The compiled tape
replaying it bitwise is tested in test_compile.py; checking its derivative in
test_testing.py.
"""

from __future__ import annotations

import doctest
import math
import re
from collections.abc import Callable
from fractions import Fraction

import pytest
from refusals import Refusal, assert_refused, each_refusal

from tinygrad_xor import Value, custom_ops, define_op
from tinygrad_xor.custom_ops import DefinedOp
from tinygrad_xor.graph import draw_dot
from tinygrad_xor.rules import RuleOp

sin = define_op("sin", lambda x: (math.sin(x), math.cos(x)))


def hypot_rule(x: float, y: float) -> tuple[float, float, float]:
    h = math.hypot(x, y)
    return h, x / h, y / h


hypot = define_op("hypot", hypot_rule)


def test_a_unary_op_records_its_rule_value_and_derivative() -> None:
    x = Value(0.5, "x")
    y = sin(x)
    assert y.data == math.sin(0.5)
    assert y.op == "sin" and isinstance(y.op, RuleOp) and y.op.arity == 1
    assert y.parents == (x,) and y.local_grads == (math.cos(0.5),)
    (y * 3.0).backward()
    assert x.grad == math.cos(0.5) * 3.0  # backward() multiplies what the rule gave


def test_a_binary_op_records_both_derivatives_and_backpropagates_into_both() -> None:
    x, y = Value(3.0, "x"), Value(4.0, "y")
    out = hypot(x, y)
    assert (out.data, out.local_grads) == (5.0, (0.6, 0.8))
    assert hypot.arity == 2 and hypot.name == "hypot"
    out.backward()
    assert (x.grad, y.grad) == (0.6, 0.8)


def test_a_node_used_twice_accumulates_through_a_defined_op() -> None:
    x = Value(0.3)
    out = hypot(sin(x), sin(x)) + sin(x)
    out.backward()
    s, c = math.sin(0.3), math.cos(0.3)
    assert math.isclose(x.grad, 2 * (s / math.hypot(s, s)) * c + c, rel_tol=1e-15)


def test_numbers_are_constants_and_every_real_number_type_is_taken() -> None:
    out = hypot(3, Fraction(4))
    assert out.data == 5.0 and all(parent.is_leaf for parent in out.parents)
    assert sin(0.0).data == 0.0


def test_the_rule_may_return_ints_and_a_list() -> None:
    square = define_op("square", lambda x: [x * x, 2 * x])
    assert square(Value(3)).local_grads == (6.0,)
    assert type(square(Value(3)).data) is float  # converted, as the engine's ops give floats


def test_it_is_drawn_with_its_name() -> None:
    x = Value(0.5, "x")
    source = draw_dot(sin(x) * 2.0).source
    assert "v1_op [label=sin " in source  # the op's oval, as for exp or tanh


def test_repr_names_the_op_and_its_inputs() -> None:
    assert repr(sin) == "<op sin(x), made by define_op>"
    assert repr(hypot) == "<op hypot(x, y), made by define_op>"
    assert isinstance(sin, DefinedOp)


# -- the rule's mistakes -------------------------------------------------------------------


def test_a_rule_returning_one_number_is_a_type_error_naming_op_and_result() -> None:
    forgot = define_op("forgot", lambda x: math.sin(x))
    with pytest.raises(TypeError) as caught:
        forgot(Value(0.5))
    message = str(caught.value)
    assert message.startswith("forgot(0.5): the rule returned float 0.479425538604203")
    assert "it must return a tuple (value, d/dx)" in message


def test_a_rule_returning_the_wrong_count_is_a_value_error_with_what_it_returned() -> None:
    too_many = define_op("too_many", lambda x: (x, 1.0, 0.0))
    with pytest.raises(ValueError, match=r"too_many\(2\.0\): the rule returned 3 items, "):
        too_many(2.0)
    with pytest.raises(ValueError, match=r"\(2\.0, 1\.0, 0\.0\); a unary op's rule returns"):
        too_many(2.0)
    too_few = define_op("too_few", lambda x, y: (x * y, y))
    with pytest.raises(ValueError, match=r"binary op's rule returns \(value, d/dx, d/dy\)"):
        too_few(1.0, 2.0)


def test_a_rule_returning_a_non_number_says_which_part() -> None:
    as_text = define_op("as_text", lambda x: (x, str(x)))
    with pytest.raises(TypeError, match=r"its d/dx is str '1\.5', not a real number"):
        as_text(1.5)
    as_value = define_op("as_value", lambda x: (Value(x).exp(), 1.0))
    with pytest.raises(TypeError, match=r"its value is Value .*math\.sin\(x\), not a Value"):
        as_value(1.5)


def test_a_rule_that_raises_is_a_value_error_naming_the_op_and_its_cause() -> None:
    log = define_op("my_log", lambda x: (math.log(x), 1.0 / x))
    with pytest.raises(ValueError, match=r"my_log\(-1\.0\): the rule raised ValueError") as caught:
        log(-1.0)
    assert isinstance(caught.value.__cause__, ValueError)  # the rule's own, chained
    assert "tinygrad_xor.floats" in str(caught.value)  # what to use instead


# -- define_op's own arguments -------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "two words", "x+y", 3, None])
def test_the_name_must_be_an_identifier(name: object) -> None:
    pattern = (
        rf"name must be an identifier .*, got {re.escape(repr(name))}; it names the op's nodes"
    )
    with pytest.raises(ValueError, match=pattern):
        define_op(name, lambda x: (x, 1.0))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["if", "class", "lambda", "None", "True", "not"])
def test_a_python_keyword_is_refused(name: str) -> None:
    # The op is written as a call, name(x), in Expression.source: "if(x)" is no Python.
    with pytest.raises(ValueError, match=rf"'{name}' is a Python keyword.*e\.g\. '{name}_'"):
        define_op(name, lambda x: (x, 1.0))
    define_op(f"{name}_", lambda x: (x, 1.0))  # as the message suggests
    define_op("match", lambda x: (x, 1.0))  # a soft keyword: match(x) is a call


def test_the_engine_names_are_taken() -> None:
    with pytest.raises(ValueError) as caught:
        define_op("relu", lambda x: (max(x, 0.0), float(x > 0)))
    assert str(caught.value) == (
        "define_op: 'relu' is an op of the engine already (Value.relu); give yours another "
        "name, e.g. 'my_relu'."
    )


def square_rule(x: float) -> tuple[float, float]:
    return x * x, 2 * x


# (the call, the error, its whole message): what a user who called define_op wrong reads
REFUSALS: list[tuple[Callable[[], object], type[Exception], str]] = [
    (
        lambda: define_op("two words", square_rule),
        ValueError,
        "define_op: name must be an identifier such as 'sin' or 'soft_plus', got 'two words'; "
        "it names the op's nodes in drawings and messages.",
    ),
    (
        lambda: define_op("if", square_rule),
        ValueError,
        "define_op: 'if' is a Python keyword, and the op is written as a call, if(x), in "
        "generated source; give it another name, e.g. 'if_'.",
    ),
    (
        lambda: define_op("number", 3.0),  # type: ignore[arg-type]
        TypeError,
        "define_op('number', rule): rule must be a function of floats, got float; "
        "e.g. lambda x: (math.sin(x), math.cos(x)).",
    ),
    (
        lambda: define_op("square", square_rule, derivative=3),  # type: ignore[arg-type]
        TypeError,
        "define_op('square', rule, derivative=...): derivative must be a function of Values, "
        "got int; e.g. derivative=lambda x: cos(x).",
    ),
    (
        lambda: define_op("product", lambda x, y: (x * y, y, x), derivative=lambda x: x),
        TypeError,
        "define_op('product', rule, derivative=...): the rule takes 2 inputs, so derivative "
        "must take 2 too.",
    ),
    (
        lambda: define_op("square", square_rule, derivative=lambda x, y: (x, y)),
        TypeError,
        "define_op('square', rule, derivative=...): the rule takes 1 input, so derivative must "
        "take 1 too.",
    ),
    (
        lambda: define_op("builtin", max),
        TypeError,
        "define_op('builtin', rule): cannot tell how many inputs <built-in function max> takes; "
        "wrap it: lambda x: ... for one input, lambda x, y: ... for two.",
    ),
    (
        lambda: define_op("three", lambda x, y, z: (x, 1.0, 1.0, 1.0)),
        TypeError,
        "define_op('three', rule): the rule must take 1 number (x) or 2 (x, y), it takes 3: "
        "(x, y, z). It returns (value, d/dx) or (value, d/dx, d/dy).",
    ),
    (
        lambda: define_op("square", square_rule, derivative=lambda: 2.0),
        TypeError,
        "define_op('square', derivative): the derivative must take 1 Value (x) or 2 (x, y), "
        "it takes 0: (). It returns d/dx or (d/dx, d/dy).",
    ),
    (
        lambda: sin(1.0, 2.0),
        TypeError,
        "sin() takes 1 input (Values or numbers), got 2.",
    ),
    (
        lambda: hypot(Value(1.0)),
        TypeError,
        "hypot() takes 2 inputs (Values or numbers), got 1.",
    ),
    (
        lambda: hypot(1.0, "2"),  # type: ignore[arg-type]
        TypeError,
        "hypot(x, y): y: expected a Value or a real number (int or float), got str '2'. "
        "Convert the text first: Value(float(text)).",
    ),
    (
        lambda: sin("2"),  # type: ignore[arg-type]
        TypeError,
        "sin(x): expected a Value or a real number (int or float), got str '2'. "
        "Convert the text first: Value(float(text)).",
    ),
]


@each_refusal(REFUSALS)
def test_bad_arguments_are_refused_with_the_whole_message(refusal: Refusal) -> None:
    assert_refused(*refusal)


def test_defaults_and_keyword_only_parameters_do_not_count_as_inputs() -> None:
    scaled = define_op("scaled", lambda x, scale=2.0, *, k=1: (scale * x, scale))
    assert scaled.arity == 1


def test_the_module_docstring_example_runs() -> None:
    result = doctest.testmod(custom_ops)
    assert result.attempted > 0 and result.failed == 0
