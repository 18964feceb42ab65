"""What the engine accepts as a number (operands.py), and IEEE arithmetic without exceptions
(floats.py): conversions, the hint each wrong type gets, labels."""

from __future__ import annotations

import decimal
import math
from fractions import Fraction

import numpy as np
import pytest

from tinygrad_xor import floats
from tinygrad_xor.engine import Value
from tinygrad_xor.operands import leaf_data, leaf_label, seed_grad, to_float

INF, NAN = math.inf, math.nan

# -- to_float -----------------------------------------------------------------------


def test_to_float_passes_a_float_through_unchanged() -> None:
    x = 1.25
    assert to_float(x, "here") is x
    negative_zero = to_float(-0.0, "here")
    assert negative_zero == 0.0 and math.copysign(1.0, negative_zero) == -1.0
    assert math.isnan(to_float(NAN, "here"))
    assert to_float(-INF, "here") == -INF


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (3, 3.0),
        (True, 1.0),
        (10**400, INF),
        (-(10**400), -INF),
        (2**1024 - 1, INF),  # rounds up past the largest float
        (Fraction(1, 3), 1.0 / 3.0),
        (np.float32(0.1), float(np.float32(0.1))),
        (np.int64(-7), -7.0),
        (np.float64(2.5), 2.5),
    ],
)
def test_to_float_converts_every_real_number_to_a_float(number: object, expected: float) -> None:
    result = to_float(number, "here")
    assert type(result) is float
    assert result == expected


EACH_ELEMENT = "A Value holds one number: make one per element, [Value(x) for x in xs]."
HINTS = [
    ("a str", "1.5", "str '1.5'", "Convert the text first: Value(float(text))."),
    (
        "a complex",
        1j,
        "complex 1j",
        "A Value holds one real number: use x.real, or abs(x) for the magnitude.",
    ),
    ("a list", [1.0], "list [1.0]", EACH_ELEMENT),
    ("a tuple", (1.0, 2.0), "tuple (1.0, 2.0)", EACH_ELEMENT),
    ("a NumPy array", np.array([1.0, 2.0]), "ndarray array([1., 2.])", EACH_ELEMENT),
    (
        "None",
        None,
        "NoneType None",
        "Check where the None came from: a function that returned nothing?",
    ),
    (
        "a Decimal",
        decimal.Decimal("1.5"),
        "Decimal Decimal('1.5')",
        "Pass a Value, an int or a float.",
    ),
]


@pytest.mark.parametrize(
    ("bad", "received", "hint"), [h[1:] for h in HINTS], ids=[h[0] for h in HINTS]
)
def test_each_kind_of_non_number_gets_its_own_hint(bad: object, received: str, hint: str) -> None:
    with pytest.raises(TypeError) as caught:
        to_float(bad, "Value + other")
    assert str(caught.value) == (  # its own hint, and only that
        f"Value + other: expected a Value or a real number (int or float), got {received}. {hint}"
    )


def test_an_object_of_another_type_is_told_what_to_pass() -> None:
    with pytest.raises(TypeError, match=r"got object <object object.*Pass a Value, an int or a"):
        Value(1.0) * object()  # type: ignore[operator]


def test_a_long_repr_is_cut_in_the_message() -> None:
    with pytest.raises(TypeError) as caught:
        to_float("x" * 200, "here")
    message = str(caught.value)
    assert "'" + "x" * 76 + "..." in message and "x" * 77 not in message  # checks.shown: 80


def test_the_expected_text_can_be_given() -> None:
    with pytest.raises(TypeError) as caught:
        to_float("1", "w", "a number of my own")
    assert str(caught.value) == (
        "w: expected a number of my own, got str '1'. Convert the text first: Value(float(text))."
    )


# -- leaf_data and seed_grad: a Value where a number belongs ------------------------


def test_leaf_data_takes_a_number_and_tells_a_value_to_be_used_directly() -> None:
    assert leaf_data(2, False) == 2.0 and type(leaf_data(2, False)) is float
    with pytest.raises(TypeError) as caught:
        Value(Value(1.0))  # type: ignore[arg-type]
    assert str(caught.value) == (
        "Value(data): expected a real number (int or float), got Value "
        "Value(data=1.0, grad=0.0). Use that Value directly, or Value(v.data) for a new leaf."
    )
    with pytest.raises(TypeError, match=r"^Value\(data\): expected a real number .* got str"):
        leaf_data("1", False)


def test_seed_grad_takes_a_number_and_tells_a_value_to_pass_its_number() -> None:
    assert seed_grad(np.float32(0.5), False) == 0.5
    with pytest.raises(TypeError) as caught:
        Value(1.0).backward(Value(2.0))  # type: ignore[arg-type]
    assert str(caught.value) == (
        "backward(grad): expected a real number (int or float), got Value "
        "Value(data=2.0, grad=0.0). Pass its number, v.data."
    )
    with pytest.raises(TypeError, match=r"^backward\(grad\): .* got str '1'\. Convert the text"):
        seed_grad("1", False)


# -- leaf_label: a str, and micrograd's hand-built nodes ----------------------------

MICROGRAD_HINT = (
    "micrograd's Value(data, _children, _op) builds op nodes by hand; here every op is a "
    "method or operator (a * b, x.tanh()) that records its inputs itself."
)


def test_a_label_is_a_str() -> None:
    assert leaf_label("w1", ()) == "w1"
    assert Value(0.5, "w1").label == "w1" and Value(0.5).label == ""
    with pytest.raises(TypeError) as caught:
        Value(1.0, ["w"])  # type: ignore[arg-type]
    assert str(caught.value) == (
        "Value(label=...): expected a str, got list ['w']. "
        "Labels are names for drawing, e.g. Value(0.5, label='w1')."
    )


def test_micrograds_children_as_the_second_argument_get_the_micrograd_hint() -> None:
    a, b = Value(2.0), Value(3.0)
    with pytest.raises(TypeError) as caught:
        Value(5.0, (a, b))  # type: ignore[arg-type]
    assert str(caught.value) == (
        "Value(data, label): the second argument is a label (a str), got "
        f"tuple (Value(data=2.0, grad=0.0), Value(data=3.0, grad=0.0)). {MICROGRAD_HINT}"
    )


def test_micrograds_three_positional_arguments_get_the_micrograd_hint() -> None:
    a, b = Value(2.0), Value(3.0)
    with pytest.raises(TypeError) as caught:
        Value(5.0, (a, b), "+")  # type: ignore[call-arg, arg-type]
    assert str(caught.value).endswith(MICROGRAD_HINT)
    # a str label followed by an op: still micrograd's form
    with pytest.raises(TypeError) as caught:
        Value(5.0, "c", "+")  # type: ignore[call-arg]
    assert str(caught.value).endswith(MICROGRAD_HINT)
    with pytest.raises(TypeError, match="micrograd's Value"):
        leaf_label("c", ("+",))


# -- floats: IEEE 754 results where Python's math raises ----------------------------

with np.errstate(all="ignore"):
    IEEE_CASES = [
        ("exp", floats.exp, (1000.0,), np.exp(1000.0)),
        ("exp -1000", floats.exp, (-1000.0,), np.exp(-1000.0)),
        ("log 0", floats.log, (0.0,), np.log(0.0)),
        ("log -0", floats.log, (-0.0,), np.log(-0.0)),
        ("log -1", floats.log, (-1.0,), np.log(-1.0)),
        ("log -inf", floats.log, (-INF,), np.log(-INF)),
        ("log nan", floats.log, (NAN,), np.log(NAN)),
        ("log inf", floats.log, (INF,), np.log(INF)),
        ("1 / 0", floats.divide, (1.0, 0.0), np.divide(1.0, 0.0)),
        ("-1 / 0", floats.divide, (-1.0, 0.0), np.divide(-1.0, 0.0)),
        ("1 / -0", floats.divide, (1.0, -0.0), np.divide(1.0, -0.0)),
        ("-1 / -0", floats.divide, (-1.0, -0.0), np.divide(-1.0, -0.0)),
        ("0 / 0", floats.divide, (0.0, 0.0), np.divide(0.0, 0.0)),
        ("nan / 0", floats.divide, (NAN, 0.0), np.divide(NAN, 0.0)),
        ("inf / 0", floats.divide, (INF, 0.0), np.divide(INF, 0.0)),
        ("1 / 3", floats.divide, (1.0, 3.0), np.divide(1.0, 3.0)),
        ("reciprocal 0", floats.reciprocal, (0.0,), np.reciprocal(0.0)),
        ("reciprocal -0", floats.reciprocal, (-0.0,), np.reciprocal(-0.0)),
        ("0 ** -1", floats.power, (0.0, -1.0), np.power(0.0, -1.0)),
        ("-0 ** -1", floats.power, (-0.0, -1.0), np.power(-0.0, -1.0)),
        ("-0 ** -2", floats.power, (-0.0, -2.0), np.power(-0.0, -2.0)),
        ("-0 ** -0.5", floats.power, (-0.0, -0.5), np.power(-0.0, -0.5)),
        ("-8 ** 0.5", floats.power, (-8.0, 0.5), np.power(-8.0, 0.5)),
        ("10 ** 400", floats.power, (10.0, 400.0), np.power(10.0, 400.0)),
        ("-10 ** 401", floats.power, (-10.0, 401.0), np.power(-10.0, 401.0)),
        ("-10 ** 400", floats.power, (-10.0, 400.0), np.power(-10.0, 400.0)),
        ("2 ** 0.5", floats.power, (2.0, 0.5), np.power(2.0, 0.5)),
    ]


@pytest.mark.parametrize(
    ("function", "arguments", "expected"),
    [case[1:] for case in IEEE_CASES],
    ids=[case[0] for case in IEEE_CASES],
)
def test_floats_give_what_numpy_float64_gives(
    function: object, arguments: tuple[float, ...], expected: np.float64
) -> None:
    result = function(*arguments)  # type: ignore[operator]
    assert type(result) is float
    want = float(expected)
    if math.isnan(want):
        assert math.isnan(result)
    else:
        assert result == want and math.copysign(1.0, result) == math.copysign(1.0, want)
