"""The argument checks: what each accepts, and the words of each refusal."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from refusals import Refusal, assert_refused, each_refusal

from tinygrad_xor.checks import choice, flag, real_number, shown, whole_number

# -- whole_number -------------------------------------------------------------------


@pytest.mark.parametrize("value", [1, 7, 10**30, np.int64(3), np.uint8(200), np.int32(1)])
def test_whole_number_accepts_ints_and_numpy_integers_as_int(value: object) -> None:
    number = whole_number("n", value)
    assert type(number) is int
    assert number == int(value)  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("value", "received"),
    [
        (True, "bool True"),
        (False, "bool False"),
        (np.bool_(True), f"bool {np.bool_(True)!r}"),  # np.True_: not an Integral
        (1.0, "float 1.0"),
        (np.float64(2.0), f"float64 {np.float64(2.0)!r}"),
        ("3", "str '3'"),
        (None, "NoneType None"),
        (Fraction(4, 1), "Fraction Fraction(4, 1)"),
    ],
)
def test_whole_number_refuses_other_kinds_with_type_error(value: object, received: str) -> None:
    with pytest.raises(TypeError) as caught:
        whole_number("epochs", value)
    assert str(caught.value) == f"epochs must be a whole number >= 1, got {received}."


def test_whole_number_range_errors_say_the_range() -> None:
    with pytest.raises(ValueError) as caught:
        whole_number("epochs", 0)
    assert str(caught.value) == "epochs must be a whole number >= 1, got 0."
    with pytest.raises(ValueError) as caught:
        whole_number("sample", 4, at_least=0, at_most=3)
    assert str(caught.value) == "sample must be a whole number from 0 to 3, got 4."
    with pytest.raises(ValueError) as caught:
        whole_number("sample", -1, at_least=0, at_most=3)
    assert str(caught.value) == "sample must be a whole number from 0 to 3, got -1."
    # the ends are allowed
    assert whole_number("n", 0, at_least=0, at_most=3) == 0
    assert whole_number("n", 3, at_least=0, at_most=3) == 3


def test_whole_number_shows_a_huge_int_by_its_size() -> None:
    with pytest.raises(ValueError) as caught:
        whole_number("seed", -(10**5000), at_least=0)
    # repr would take 5000 digits (and raises past 4300)
    assert str(caught.value) == (
        "seed must be a whole number >= 0, got a whole number of about -10**5000."
    )


# -- choice -------------------------------------------------------------------------


def test_choice_accepts_a_name_from_dict_keys_or_a_tuple() -> None:
    assert choice("loss", "bce", {"mse": 1, "bce": 2}) == "bce"
    assert choice("rankdir", "TB", ("LR", "TB")) == "TB"
    assert choice("x", "a", iter(["a"])) == "a"  # any iterable of names, read once


def test_choice_refuses_a_non_str_with_type_error_listing_the_choices() -> None:
    with pytest.raises(TypeError) as caught:
        choice("loss", 3, {"mse": 1, "bce": 2})
    assert str(caught.value) == "loss must be one of: mse, bce; got int 3."


def test_choice_refuses_an_unknown_name_with_value_error_listing_the_choices() -> None:
    with pytest.raises(ValueError) as caught:
        choice("activation", "swish", {"sigmoid": 0, "tanh": 0, "relu": 0})
    assert str(caught.value) == "unknown activation 'swish'; choose one of: sigmoid, tanh, relu."


# -- real_number --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2, 2.0),
        (0.25, 0.25),
        (Fraction(1, 4), 0.25),
        (np.float32(0.5), 0.5),
        (np.float64(-1.5), -1.5),
        (np.int64(3), 3.0),
    ],
)
def test_real_number_accepts_every_real_type_as_float(value: object, expected: float) -> None:
    number = real_number("x", value)
    assert type(number) is float and number == expected


@pytest.mark.parametrize(
    ("value", "received"),
    [
        (True, "bool True"),
        (np.bool_(False), f"bool {np.bool_(False)!r}"),
        ("1", "str '1'"),
        (1j, "complex 1j"),
    ],
)
def test_real_number_refuses_bools_and_non_numbers_with_type_error(
    value: object, received: str
) -> None:
    with pytest.raises(TypeError) as caught:
        real_number("lr", value, above=0.0)
    assert str(caught.value) == f"lr must be a finite number > 0, got {received}."


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, np.float64("nan")])
def test_real_number_refuses_nan_and_inf_unless_finite_is_false(value: float) -> None:
    assert_refused(
        lambda: real_number("x", value), ValueError, f"x must be a finite number, got {value!r}."
    )
    number = real_number("x", value, finite=False)
    assert number == value or (math.isnan(number) and math.isnan(value))


def test_real_number_past_the_float_range_is_too_large_for_a_float() -> None:
    with pytest.raises(ValueError) as caught:
        real_number("lr", 10**400)
    assert str(caught.value) == (
        "lr must be a finite number, got a whole number of about 10**400, too large for a float."
    )


@pytest.mark.parametrize(
    ("bounds", "bad", "allowed", "good"),
    [
        ({}, math.nan, "a finite number", -1e300),
        ({"above": 0.0}, 0.0, "a finite number > 0", 1e-300),
        ({"at_least": 0.0}, -1e-300, "a finite number >= 0", 0.0),
        ({"below": 1.0}, 1.0, "a finite number < 1", -5.0),
        ({"above": 0.0, "below": 1.0}, 0.0, "in (0, 1)", 0.5),
        ({"above": 0.0, "below": 1.0}, 1.0, "in (0, 1)", 0.999),
        ({"at_least": 0.0, "below": 1.0}, 1.0, "in [0, 1)", 0.0),
        ({"at_least": 0.0, "below": 1.0}, -0.5, "in [0, 1)", 0.5),
        ({"above": 0.5}, 0.25, "a finite number > 0.5", 0.75),
    ],
)
def test_real_number_says_each_interval_in_words(
    bounds: dict[str, float], bad: float, allowed: str, good: float
) -> None:
    with pytest.raises(ValueError) as caught:
        real_number("m", bad, **bounds)
    assert str(caught.value) == f"m must be {allowed}, got {bad!r}."
    assert real_number("m", good, **bounds) == good


# -- refusals, each with its exception type and its whole message ------------------

REFUSALS: list[Refusal] = [
    # a NumPy integer is shown as the int it is
    (
        lambda: whole_number("n", np.int64(4), at_least=5),
        ValueError,
        "n must be a whole number >= 5, got 4.",
    ),
    (
        lambda: whole_number("n", 10**30, at_most=10),
        ValueError,
        "n must be a whole number from 1 to 10, got a whole number of about 10**30.",
    ),
    (
        lambda: choice("loss", None, ("mse",)),
        TypeError,
        "loss must be one of: mse; got NoneType None.",
    ),
    # names are case-sensitive
    (
        lambda: choice("dataset", "XOR", ("xor", "and")),
        ValueError,
        "unknown dataset 'XOR'; choose one of: xor, and.",
    ),
    # even where inf would be allowed: the int is refused, not rounded
    (
        lambda: real_number("w", -(10**400), finite=False),
        ValueError,
        "w must be a number, got a whole number of about -10**400, too large for a float.",
    ),
    # an interval refuses infinity even at its open end
    (
        lambda: real_number("lr", math.inf, above=0.0),
        ValueError,
        "lr must be a finite number > 0, got inf.",
    ),
]


@each_refusal(REFUSALS)
def test_each_refusal_has_its_exception_type_and_says_its_whole_message(refusal: Refusal) -> None:
    assert_refused(*refusal)


# -- flag ---------------------------------------------------------------------------


def test_flag_accepts_only_true_and_false() -> None:
    assert flag("bias", True) is True
    assert flag("bias", False) is False
    for value, received in [
        (1, "int 1"),
        (0, "int 0"),
        ("no", "str 'no'"),
        (None, "NoneType None"),
    ]:
        with pytest.raises(TypeError) as caught:
            flag("bias", value)
        assert str(caught.value) == f"bias must be True or False, got {received}."


# -- shown, and messages without a name ---------------------------------------------


def test_shown_cuts_a_long_repr_at_80_characters() -> None:
    assert shown("a" * 78) == repr("a" * 78)  # 80 characters with the quotes: whole
    long = shown("a" * 79)
    assert len(long) == 80 and long.endswith("...") and long.startswith("'aaa")
    assert shown(list(range(100))) == repr(list(range(100)))[:77] + "..."


def test_shown_gives_huge_ints_by_their_size_with_the_sign() -> None:
    assert shown(10**19) == "10000000000000000000"  # below 10**20: the digits
    assert shown(10**20) == "a whole number of about 10**20"
    assert shown(-(10**20)) == "a whole number of about -10**20"
    assert shown(-(10**400)) == "a whole number of about -10**400"


def test_without_a_name_the_message_says_expected() -> None:
    # The command line passes what="" and argparse puts the option's name in front.
    with pytest.raises(ValueError) as caught:
        whole_number("", 0)
    assert str(caught.value) == "expected a whole number >= 1, got 0."
    with pytest.raises(TypeError) as caught_type:
        whole_number("", "abc")
    assert str(caught_type.value) == "expected a whole number >= 1, got str 'abc'."
    with pytest.raises(ValueError) as caught:
        real_number("", 1.0, at_least=0.0, below=1.0)
    assert str(caught.value) == "expected in [0, 1), got 1.0."
    with pytest.raises(ValueError) as caught:
        real_number("", 10**400, above=0.0)
    assert str(caught.value) == (
        "expected a finite number > 0, got a whole number of about 10**400, too large for a float."
    )
