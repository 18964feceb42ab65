"""tinygrad_xor.testing itself: its strategies, what assert_gradients_match says, its machine.

The property tests of the engine that use the toolkit are in test_engine_properties.py.
Here: a wrong derivative is caught and named (an op of define_op, an engine op, the
chain rule), kinks and singularities are skipped and said to be, the oracles agree on
correct ops, the state machine catches a backward() that compounds, the strategies
make what they promise, and the module says how to install hypothesis when it is not.
"""

from __future__ import annotations

import dataclasses
import doctest
import math
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test
from refusals import Refusal, assert_refused, each_refusal

from tinygrad_xor import MLP, Value, define_op, engine, testing
from tinygrad_xor.engine import op_result, topological_order
from tinygrad_xor.floats import divide
from tinygrad_xor.rules import EXP, FLOATS, POWER, TANH, PowerOp, Rule
from tinygrad_xor.testing import (
    BUILTIN_OPS,
    Expression,
    GradientMachine,
    GradientReport,
    Network,
    assert_gradients_match,
    expressions,
    networks,
    values,
)
from tinygrad_xor.testing.op_checks import check_op
from tinygrad_xor.testing.oracles import sympy_arithmetic
from tinygrad_xor.torch_bridge import TORCH_INSTALL_HINT

sin = define_op("sin", lambda x: (math.sin(x), math.cos(x)))
wrong_sin = define_op("sin", lambda x: (math.sin(x), -math.cos(x)))  # the planted bug

# One number of a message: measured by central differences, or drawn by hypothesis.
_NUMBER = r"-?(?:\d+(?:\.\d*)?(?:e[-+]\d+)?|inf|nan)"
BLAMED = "ops whose local derivative disagrees with their own central difference:"


def assert_reads(message: str, *lines: str) -> None:
    """message is `lines`, whole; each # in them stands for one number, any digits."""
    expected = "\n".join(lines)
    pattern = _NUMBER.join(re.escape(part) for part in expected.split("#"))
    assert re.fullmatch(pattern, message), f"{message!r}\nis not\n{expected!r}"


def failure(call: Callable[[], object]) -> str:
    """The whole message of the AssertionError that call() raises."""
    with pytest.raises(AssertionError) as caught:
        call()
    return str(caught.value)


# -- a wrong derivative is caught and named ------------------------------------------------


def test_the_tolerance_scales_with_the_larger_of_the_two_sizes() -> None:
    # autograd 1.8 against a slope of 1: 0.8 apart, within half of 1.8 but not of 1.
    # (The op is wrong all the same: its own check, at its own tolerance, names it.)
    steep = define_op("steep", lambda x: (x, 1.8))
    named = (
        "  steep, made by define_op, at x = 0.5: it records d/dx = 1.8, its own central "
        "difference is 1.0 (relative error 0.444)"
    )
    # f is define_op's op itself, whose signature does not say: its argument is x0.
    assert failure(lambda: assert_gradients_match(steep, 0.5, rel=0.5, abs=0.0)) == "\n".join(
        ["gradients of f match central differences at x0=0.5, but an op is wrong:", BLAMED, named]
    )
    assert failure(lambda: assert_gradients_match(steep, 0.5, rel=0.4, abs=0.0)) == "\n".join(
        [
            "gradients of f do not match central differences at x0=0.5:",
            "  d f/d x0: autograd 1.8, central difference 1.0, relative error 0.444 (allowed: "
            "rel 0.4, abs 0)",
            BLAMED,
            named,
        ]
    )
    # The same rule where sympy or torch is the oracle (they agree with a defined op's rule,
    # so the comparison itself is held here).
    close = testing.gradients._close
    assert close(1.8, 1.0, 0.5, 0.0) and close(1.0, 1.8, 0.5, 0.0)
    assert not close(1.8, 1.0, 0.4, 0.0)
    # "|autograd - oracle| <= abs + rel * max of their sizes": the bound itself is within.
    assert close(1.5, 1.0, 0.0, 0.5) and close(2.0, 1.0, 0.5, 0.0)


def test_a_wrong_defined_op_is_named_with_the_argument_and_both_numbers() -> None:
    def f(x: Value, y: Value) -> Value:
        return wrong_sin(x * y) + y

    assert_reads(
        failure(lambda: assert_gradients_match(f, (0.5, 2.0))),
        "gradients of f do not match central differences at x=0.5, y=2.0:",
        f"  d f/d x: autograd {-2.0 * math.cos(1.0)!r}, central difference #, relative error 2 "
        "(allowed: rel 1e-06, abs 1e-07)",
        # y's path goes through sin too
        "  d f/d y: autograd #, central difference #, relative error 0.425 (allowed: rel 1e-06, "
        "abs 1e-07)",
        BLAMED,
        f"  sin, made by define_op, at x = 1.0: it records d/dx = {-math.cos(1.0)!r}, its own "
        "central difference is # (relative error 2)",
    )


def test_a_wrong_defined_op_is_named_even_where_its_error_does_not_reach_f() -> None:
    # Times 0: f's gradient is right, but the op is still wrong, and said to be.
    assert_reads(
        failure(lambda: assert_gradients_match(lambda x: wrong_sin(x) * 0.0 + x, 0.3)),
        "gradients of f match central differences at x=0.3, but an op is wrong:",
        BLAMED,
        f"  sin, made by define_op, at x = 0.3: it records d/dx = {-math.cos(0.3)!r}, its own "
        "central difference is # (relative error 2)",
    )


def test_an_engine_op_with_a_broken_derivative_is_named() -> None:
    def broken_tanh(v: Value) -> Value:  # the engine's tanh, recording 1 - t, not 1 - t*t
        t = math.tanh(v.data)
        return op_result(t, TANH, v, 1.0 - t)

    assert_reads(
        failure(lambda: assert_gradients_match(lambda x: broken_tanh(x * 0.5) + x, 1.4)),
        "gradients of f do not match central differences at x=1.4:",
        "  d f/d x: autograd #, central difference #, relative error 0.0908 (allowed: rel 1e-06, "
        "abs 1e-07)",
        BLAMED,
        f"  tanh at x = 0.7: it records d/dx = {1.0 - math.tanh(0.7)!r}, its own central "
        "difference is # (relative error 0.377)",
    )


def test_when_every_op_is_right_the_chain_rule_is_the_suspect() -> None:
    # Value(x.data) cuts the graph: autograd sees x * 1.5 (slope 1.5) where f is x * x
    # (slope 3, which central differences of a square measure exactly).
    with pytest.raises(AssertionError) as raised:
        assert_gradients_match(lambda x: x * Value(x.data), 1.5)
    assert str(raised.value).splitlines() == [
        "gradients of f do not match central differences at x=1.5:",
        "  d f/d x: autograd 1.5, central difference 3.0, relative error 0.5 "
        "(allowed: rel 1e-06, abs 1e-07)",
        "every op on the way agrees with its own central difference: suspect the chain rule "
        "itself (backward()), or f reading numbers (x.data) or branching on them.",
    ]


def test_f_is_called_with_values_named_as_its_arguments() -> None:
    """A graph f draws, or an error it raises, names x and y as f calls them."""
    labels = []

    def f(x: Value, y: Value) -> Value:
        labels.append((x.label, y.label))
        return x * y

    assert_gradients_match(f, (1.0, 2.0))
    assert labels[0] == ("x", "y")
    labels.clear()
    assert_gradients_match(f, (1.0, 2.0), order=2)  # the second derivatives' first call too
    assert labels[0] == ("x", "y")


@pytest.mark.parametrize(
    ("against", "what"), [("sympy", "the value of tanh at 0.4"), ("torch", "f itself")]
)
def test_an_op_computing_the_wrong_value_is_said_to_be_wrong_in_its_value(
    against: str, what: str
) -> None:
    """tanh's number + 0.5, its derivative right: the oracle sees f's value itself is off."""
    pytest.importorskip(against)
    t = math.tanh(0.4)

    def f(x: Value) -> Value:
        return op_result(math.tanh(x.data) + 0.5, TANH, x, 1.0 - t * t)

    with pytest.raises(AssertionError) as caught:
        assert_gradients_match(f, 0.4, against=against)
    assert str(caught.value).splitlines() == [
        f"gradients of f do not match {against} at x=0.4:",
        f"  {what}: autograd {t + 0.5!r}, {against} {t!r}, relative error "
        f"{0.5 / (t + 0.5):.3g} (allowed: rel 1e-09, abs 1e-12)",
        f"f's own value differs from {against}'s: an op computes a different number than its "
        "name says (its value, not its derivative).",
    ]


def test_a_smooth_f_through_an_ops_own_kink_is_skipped_saying_which_op_and_why() -> None:
    """relu(x) - relu(-x) is x (slope 1), but autograd takes relu'(0) = 0 at both kinks."""
    report = assert_gradients_match(lambda x: x.relu() - (-x).relu(), 0.0)
    assert report.compared == 0
    assert report.skipped == [
        "at x=0.0: d f/d x: autograd 0.0, central difference 1.0, relative error 1 (allowed: "
        "rel 1e-06, abs 1e-07); but relu at x = 0.0, on a kink or singularity of its own (slopes "
        "0 from the left, 1 from the right at every step from 0.000977 to 2.78e-17: a kink)"
    ]


def test_a_correct_defined_op_passes_at_many_points_and_counts_them() -> None:
    points = [(x / 7.0,) for x in range(-20, 21)]
    report = assert_gradients_match(lambda x: sin(x * x) * x, *points)
    assert (report.points, report.compared, report.skipped) == (41, 41, [])
    assert str(report) == "41 gradients compared at 41 points"


def test_the_report_counts_gradients_and_points_apart_and_says_each_skip() -> None:
    """Two arguments at two points; relu's kink at x*y = 0 skips d f/d x there."""
    report = assert_gradients_match(lambda x, y: (x * y).relu(), (0.5, 2.0), (0.0, 1.0))
    skip = (
        "at x=0.0, y=1.0, d f/d x: slopes 0 from the left, 1 from the right at every step from "
        "0.000977 to 2.78e-17: a kink"
    )
    assert report.skipped == [skip]
    assert str(report) == f"3 gradients compared at 2 points\nskipped: {skip}"


@settings(max_examples=50, database=None)
@given(expressions(2, ops=[sin, "*", "+", "exp"]), values(), values())
def test_sin_in_random_expressions_passes(f: Expression, x: float, y: float) -> None:
    assert_gradients_match(f, (x, y))


def test_hypothesis_finds_and_shrinks_the_planted_bug() -> None:
    @settings(max_examples=200, database=None, derandomize=True)
    @given(expressions(2, ops=[wrong_sin, "*", "+", "exp"]), values(), values())
    def sin_is_right(f: Expression, x: float, y: float) -> None:
        assert_gradients_match(f, (x, y))

    with pytest.raises(AssertionError) as caught:
        sin_is_right()
    shrunk = "\n".join(getattr(caught.value, "__notes__", []))
    found = re.search(r"f=Expression\(x0, x1: v2 = sin\((x[01])\); return v2\)", shrunk)
    assert found is not None, shrunk  # one op: sin of an input
    assert_reads(
        str(caught.value),
        "gradients of f do not match central differences at x0=#, x1=#:",
        f"  d f/d {found[1]}: autograd #, central difference #, relative error 2 (allowed: "
        "rel 1e-06, abs 1e-07)",
        BLAMED,
        "  sin, made by define_op, at x = #: it records d/dx = #, its own central difference "
        "is # (relative error 2)",
    )


# -- kinks and singularities ---------------------------------------------------------------


def test_a_kink_at_the_point_is_skipped_and_said_to_be() -> None:
    report = assert_gradients_match(lambda x: x.relu() * 3.0, 0.0, 1.0)
    assert (report.points, report.compared) == (2, 1)
    assert report.skipped == [
        "at x=0.0, d f/d x: slopes 0 from the left, 3 from the right at every step from "
        "0.000977 to 2.78e-17: a kink"
    ]


def test_a_kink_next_to_the_point_is_never_a_false_alarm() -> None:
    compared = 0
    for i in range(-300, 301):
        corner = 0.7 + i * 1e-5  # from 0.003 left of the point to 0.003 right of it
        for size in (3.0, 1e-5):

            def by_relu(x: Value, corner: float = corner, size: float = size) -> Value:
                return (x - corner).relu() * size + x * x

            def by_branching(x: Value, corner: float = corner, size: float = size) -> Value:
                # f's own kink, no op to blame: small ones are measured with it, not skipped
                return x * x + ((x - corner) * size if x.data > corner else x * 0.0)

            for f in (by_relu, by_branching):
                compared += assert_gradients_match(f, 0.7).compared
    assert compared > 1000  # far enough away, or small enough, they are still compared


def test_a_singularity_at_the_point_is_skipped_and_one_nearby_is_stepped_around() -> None:
    # log at 1e-5: the first step (0.001) reaches past 0; a smaller one measures it.
    report = assert_gradients_match(lambda x: x.log(), 1e-5, 0.5, 0.0, 1e-300)
    assert (report.points, report.compared) == (4, 2)
    assert report.skipped == [
        "at x=0.0, d f/d x: f is -inf at the point",
        "at x=1e-300, d f/d x: f is inf or nan within 0.00195: a singularity; below that, f is "
        "inf or nan within 5.55e-17: a singularity",
    ]
    root = define_op("root", lambda x: (math.sqrt(x), divide(0.5, math.sqrt(x))))
    report = assert_gradients_match(lambda x: root(x), 1e-4, 1e-300)  # raises left of 0
    assert report.compared == 1

    def raised(x: float) -> str:  # what the rule raised, in the words of this Python's math
        with pytest.raises(ValueError) as caught:
            math.sqrt(x)
        return (
            f"root({x!r}): the rule raised ValueError: {caught.value}. A rule returns IEEE "
            "results (inf, nan) where Python raises: tinygrad_xor.floats' exp, log, power, "
            "divide and reciprocal do."
        )

    assert report.skipped == [
        f"at x=1e-300, d f/d x: f cannot be evaluated within 0.00195: {raised(-(2.0**-9))}; "
        f"below that, f cannot be evaluated within 5.55e-17: {raised(-(2.0**-54))}"
    ]


def test_hypothesis_counts_the_skips_as_events(monkeypatch: pytest.MonkeyPatch) -> None:
    # hypothesis's statistics show this event; outside a test of hypothesis, nothing is said.
    said: list[str] = []
    monkeypatch.setattr(testing.gradients, "event", said.append)

    @settings(max_examples=5, database=None)
    @given(st.just(0.0))
    def at_the_kink(x: float) -> None:
        assert assert_gradients_match(lambda v: v.relu(), x).skipped

    at_the_kink()
    assert set(said) == {"assert_gradients_match skipped a point: a kink or a singularity"}
    said.clear()
    assert assert_gradients_match(lambda v: v.relu(), 0.0).skipped and said == []


# -- the other oracles ---------------------------------------------------------------------


def test_sympy_and_torch_agree_and_a_mismatch_names_the_op() -> None:
    def f(x: Value, y: Value) -> Value:
        return (x * y).tanh() + (x * x + 1).log() * y.sigmoid() - x**2.5 + 2**y

    assert assert_gradients_match(f, (1.5, -0.5), against="sympy").compared == 2
    torch = pytest.importorskip("torch")
    assert torch is not None
    assert assert_gradients_match(f, (1.5, -0.5), (0.25, 2.0), against="torch").compared == 4
    # torch cannot look inside a rule: it uses the derivative the rule gives, so f's
    # gradient matches; the op's own check names it all the same.
    assert_reads(
        failure(lambda: assert_gradients_match(lambda x: wrong_sin(x) * 2, 0.5, against="torch")),
        "gradients of f match torch at x=0.5, but an op is wrong:",
        BLAMED,
        f"  sin, made by define_op, at x = 0.5: it records d/dx = {-math.cos(0.5)!r}, its own "
        "central difference is # (relative error 2)",
    )


def test_sympy_and_torch_see_a_wrong_engine_op() -> None:
    def broken_exp(v: Value) -> Value:
        return op_result(math.exp(v.data), EXP, v, 2.0 * math.exp(v.data))  # the engine's, broken

    twice = 2.0 * math.exp(0.5)
    assert_reads(
        failure(lambda: assert_gradients_match(lambda x: broken_exp(x), 0.5, against="sympy")),
        "gradients of f do not match sympy at x=0.5:",
        f"  d f/d x: autograd {twice!r}, sympy #, relative error 0.5 (allowed: rel 1e-09, "
        "abs 1.65e-12)",
        BLAMED,
        f"  exp at x = 0.5: it records d/dx = {twice!r}, its own central difference is # "
        "(relative error 0.5)",
    )


def test_an_oracle_mismatch_names_the_argument_it_is_by() -> None:
    def broken_exp(v: Value) -> Value:
        return op_result(math.exp(v.data), EXP, v, 2.0 * math.exp(v.data))

    twice = 2.0 * math.exp(0.5)
    # d f/d y = exp(x) is right: only d f/d x is listed as a mismatch.
    assert_reads(
        failure(
            lambda: assert_gradients_match(
                lambda x, y: broken_exp(x) * y, (0.5, 2.0), against="sympy"
            )
        ),
        "gradients of f do not match sympy at x=0.5, y=2.0:",
        f"  d f/d x: autograd {twice * 2.0!r}, sympy #, relative error 0.5 (allowed: rel 1e-09, "
        "abs 3.3e-12)",
        BLAMED,
        f"  exp at x = 0.5: it records d/dx = {twice!r}, its own central difference is # "
        "(relative error 0.5)",
    )


def cosh(v: Value) -> Value:
    """An op with a bare name (engine.op_result): no rule, so no oracle can rebuild it."""
    return engine.op_result(math.cosh(v.data), "cosh", v, math.sinh(v.data))


def test_central_differences_need_no_rule_to_rebuild_an_op() -> None:
    assert assert_gradients_match(cosh, 0.5).compared == 1


# -- arguments -----------------------------------------------------------------------------


_SHADOW = define_op("v1", lambda x: (x, 1.0))
_EXAMPLE = "e.g. ops=[sin, '*', '+'] (names from BUILTIN_OPS, ops from define_op)."
_POINT = "assert_gradients_match: point"
_ONE_TUPLE = "A point is one tuple of f's arguments"
_ORDER = "assert_gradients_match(order) (1 or 2)"
_UNKNOWN_SIN = (
    f"expressions(ops=...): unknown op 'sin'; the built-in ones are {', '.join(BUILTIN_OPS)}, "
    "and any op made by define_op."
)
NOT_REBUILT = (
    "the op 'cosh' (made with engine.op_result) cannot be rebuilt by another library; make it "
    "with define_op, or check against='central'."
)
THREE_INPUTS = (
    "Expression(x0, x1, x2: return x2) takes 3 inputs, got 1; to check it, give "
    "assert_gradients_match one tuple of 3 numbers per point."
)
NO_FORM = "internal: sin (define_op) has no form in another library's arithmetic."


def _x_times_y(x: Value, y: Value) -> Value:
    return x * y


# Every refusal of the toolkit for a bad argument: exception type and whole message.
REFUSALS: list[Refusal] = [
    (
        lambda: assert_gradients_match(sin, 0.5, against="numpy"),
        ValueError,
        "unknown assert_gradients_match(against) 'numpy'; choose one of: central, sympy, torch.",
    ),
    (
        lambda: assert_gradients_match(sin, 0.5, against=3),  # type: ignore[arg-type]
        TypeError,
        "assert_gradients_match(against) must be one of: central, sympy, torch; got int 3.",
    ),
    (
        lambda: assert_gradients_match(sin),
        TypeError,
        "assert_gradients_match(f, *points): give at least one point, e.g. (0.5, -1.0).",
    ),
    (
        lambda: assert_gradients_match(0.5, 1.0),  # type: ignore[arg-type]
        TypeError,
        "assert_gradients_match(f, *points): f must be a function of Values that returns a "
        "Value, got float 0.5.",
    ),
    (
        lambda: assert_gradients_match(_x_times_y, (1.0, "2")),
        TypeError,
        f"{_POINT} 0, argument 1 must be a finite number, got str '2'.",
    ),
    (
        lambda: assert_gradients_match(lambda x: x, True),
        TypeError,
        f"{_POINT} 0 must be a finite number, got bool True.",
    ),
    (
        lambda: assert_gradients_match(lambda x: x, 1.0, "2"),
        TypeError,
        f"{_POINT} 1 must be a tuple of f's arguments, or a number for f of one, got str '2'.",
    ),
    (
        lambda: assert_gradients_match(lambda x, y=1.0: x * y, (1.0, 2.0, 3.0)),
        TypeError,
        "assert_gradients_match: f takes 1 to 2 arguments (x, y), but point 0 gives 3 numbers, "
        f"(1.0, 2.0, 3.0). {_ONE_TUPLE}, (x); give one tuple per point.",
    ),
    (
        lambda: assert_gradients_match(lambda x=1.0: x, (1.0, 2.0)),
        TypeError,
        "assert_gradients_match: f takes 0 to 1 arguments (x), but point 0 gives 2 numbers, "
        f"(1.0, 2.0). {_ONE_TUPLE}, (...); give one tuple per point.",
    ),
    (
        lambda: assert_gradients_match(_x_times_y, 0.5, 1.0),
        TypeError,
        "assert_gradients_match: f takes 2 arguments (x, y), but point 0 gives 1 number, 0.5. "
        f"{_ONE_TUPLE}: assert_gradients_match(f, (0.5, 1.0)) checks f there; two separate "
        "numbers are two points.",
    ),
    (  # whole numbers, shown as the floats the check takes them as
        lambda: assert_gradients_match(_x_times_y, 1, 2),
        TypeError,
        "assert_gradients_match: f takes 2 arguments (x, y), but point 0 gives 1 number, 1.0. "
        f"{_ONE_TUPLE}: assert_gradients_match(f, (1.0, 2.0)) checks f there; two separate "
        "numbers are two points.",
    ),
    (
        lambda: assert_gradients_match(_x_times_y, (0.5,), 1.0),
        TypeError,
        "assert_gradients_match: f takes 2 arguments (x, y), but point 0 gives 1 number, 0.5. "
        f"{_ONE_TUPLE}, (x, y); give one tuple per point.",
    ),
    (
        lambda: assert_gradients_match(lambda x: x, (0.5,), (0.5, 1.0)),
        TypeError,
        "assert_gradients_match: f takes 1 argument (x), but point 1 gives 2 numbers, (0.5, 1.0). "
        f"{_ONE_TUPLE}, (x); give one tuple per point.",
    ),
    (
        lambda: assert_gradients_match(Expression(3, []), 0.5),  # its signature is *inputs
        TypeError,
        THREE_INPUTS,
    ),
    (
        lambda: assert_gradients_match(lambda x: 0.5, 1.0),  # type: ignore[arg-type, return-value]
        TypeError,
        "assert_gradients_match: f must return a Value (the number to differentiate), it "
        "returned float 0.5. Build the result from the Values f is given and return it.",
    ),
    (
        lambda: assert_gradients_match(sin, 0.5, rel=-1),
        ValueError,
        "assert_gradients_match(rel) must be a finite number >= 0, got -1.",
    ),
    (
        lambda: assert_gradients_match(sin, 0.5, rel="0.1"),  # type: ignore[arg-type]
        TypeError,
        "assert_gradients_match(rel) must be a finite number >= 0, got str '0.1'.",
    ),
    (
        lambda: assert_gradients_match(sin, 0.5, abs=-2),
        ValueError,
        "assert_gradients_match(abs) must be a finite number >= 0, got -2.",
    ),
    (
        lambda: assert_gradients_match(lambda x: x * x, 0.5, order=3),
        ValueError,
        f"{_ORDER} must be a whole number from 1 to 2, got 3.",
    ),
    (
        lambda: assert_gradients_match(lambda x: x * x, 0.5, order=2.0),  # type: ignore[arg-type]
        TypeError,
        f"{_ORDER} must be a whole number from 1 to 2, got float 2.0.",
    ),
    (
        lambda: assert_gradients_match(lambda x: sin(x) * x, 0.5, order=2),
        TypeError,
        "the op 'sin' (made by define_op) gives its derivative as a float, so a gradient through "
        "it cannot be differentiated again. Give its derivative in Values too: define_op('sin', "
        "rule, derivative=lambda x: ...), written with ops that have derivatives of their own "
        "(Value's ops, or ops of define_op given one). For a first derivative only, "
        "gradients(y, xs) and backward() work as they are.",
    ),
    (
        lambda: assert_gradients_match(cosh, 0.5, against="sympy"),
        ValueError,
        NOT_REBUILT,
    ),
    (
        # sympy_arithmetic is public (docs/api.md): a define_op rule has no form in it.
        lambda: sin(Value(0.5)).op.value(sympy_arithmetic(), 0.5),  # type: ignore[attr-defined]
        ValueError,
        NO_FORM,
    ),
    (
        lambda: values("-1"),  # type: ignore[arg-type]
        TypeError,
        "values(min_value) must be a finite number, got str '-1'.",
    ),
    (
        lambda: values(-math.inf),
        ValueError,
        "values(min_value) must be a finite number, got -inf.",
    ),
    (
        lambda: values(0.0, "1"),  # type: ignore[arg-type]
        TypeError,
        "values(max_value) must be a finite number >= 0, got str '1'.",
    ),
    (
        lambda: values(0.0, math.nan),
        ValueError,
        "values(max_value) must be a finite number >= 0, got nan.",
    ),
    (
        lambda: values(1.0, 0.0),  # said when the strategy is made, not at the first draw
        ValueError,
        "values(max_value) must be a finite number >= 1, got 0.0.",
    ),
    (
        lambda: expressions(2.0),  # type: ignore[arg-type]
        TypeError,
        "expressions(n_inputs) must be a whole number >= 1, got float 2.0.",
    ),
    (
        lambda: expressions(2, ops=[_SHADOW]),
        ValueError,
        "expressions(ops=...): Expression.source has a name 'v1' of its own (the function f, "
        "Value, the variables x0, v1, ...), so an op named 'v1' would be read as that; define "
        "it under another name, e.g. 'v1_op'.",
    ),
    (
        lambda: expressions(2, ops=[]),
        TypeError,
        f"expressions(ops=...): expected a non-empty list of ops, got []; {_EXAMPLE}",
    ),
    (
        lambda: expressions(2, ops="exp"),
        TypeError,
        f"expressions(ops=...): expected a non-empty list of ops, got 'exp'; {_EXAMPLE}",
    ),
    (
        lambda: expressions(2, ops=sin),  # type: ignore[arg-type]
        TypeError,
        "expressions(ops=...): expected a non-empty list of ops, got <op sin(x), made by "
        f"define_op>; {_EXAMPLE}",
    ),
    (
        lambda: expressions(2, ops=["sin"]),
        ValueError,
        _UNKNOWN_SIN,
    ),
    (
        lambda: expressions(2, ops=[math.sin]),  # type: ignore[list-item]
        TypeError,
        "expressions(ops=...): <built-in function sin> is neither a name from BUILTIN_OPS nor "
        "an op made by define_op.",
    ),
    (
        lambda: GradientMachine.with_ops(["sin", "+"]),  # at once, not at the first example
        ValueError,
        _UNKNOWN_SIN,
    ),
    (
        lambda: GradientMachine.with_ops([]),
        TypeError,
        f"expressions(ops=...): expected a non-empty list of ops, got []; {_EXAMPLE}",
    ),
    (
        lambda: networks(activations="tanh"),
        TypeError,
        "networks(activations=...): expected a list of names, got 'tanh'.",
    ),
    (
        lambda: networks(activations=[]),
        TypeError,
        "networks(activations=...): expected a list of names, got [].",
    ),
    (
        lambda: networks(activations=["nope"]),
        ValueError,
        "unknown networks(activations) 'nope'; choose one of: sigmoid, tanh, relu, linear.",
    ),
    (
        lambda: networks(activations=[3]),  # type: ignore[list-item]
        TypeError,
        "networks(activations) must be one of: sigmoid, tanh, relu, linear; got int 3.",
    ),
    (
        lambda: networks(max_width=1.5),  # type: ignore[arg-type]
        TypeError,
        "networks(max_width) must be a whole number >= 1, got float 1.5.",
    ),
    (
        lambda: Expression(3, [])(0.5),
        TypeError,
        THREE_INPUTS,
    ),
]


@each_refusal(REFUSALS)
def test_each_refusal_has_its_exception_type_and_whole_message(refusal: Refusal) -> None:
    assert_refused(*refusal)


def test_torch_refuses_an_op_it_cannot_rebuild() -> None:
    pytest.importorskip("torch")
    from tinygrad_xor.testing.oracles import torch_arithmetic

    assert_refused(
        lambda: assert_gradients_match(cosh, 0.5, against="torch"), ValueError, NOT_REBUILT
    )
    rule: Any = sin(Value(0.5)).op  # the RuleOp of define_op's sin
    assert_refused(lambda: rule.value(torch_arithmetic(), 0.5), ValueError, NO_FORM)


def test_tolerances_are_the_callers_to_choose() -> None:
    slightly = define_op("slightly", lambda x: (math.sin(x), math.cos(x) * (1 + 1e-4)))
    cos = repr(math.cos(0.5) * (1 + 1e-4))
    assert_reads(
        failure(lambda: assert_gradients_match(lambda x: slightly(x) * 1.0, 0.5)),
        "gradients of f do not match central differences at x=0.5:",
        f"  d f/d x: autograd {cos}, central difference #, relative error 0.0001 (allowed: "
        "rel 1e-06, abs 1e-07)",
        BLAMED,
        f"  slightly, made by define_op, at x = 0.5: it records d/dx = {cos}, its own central "
        "difference is # (relative error 0.0001)",
    )
    # Looser than the error: f's gradient passes; the op's own check keeps its default.
    with pytest.raises(AssertionError) as caught:
        assert_gradients_match(lambda x: slightly(x) * 1.0, 0.5, rel=1e-3)
    lines = str(caught.value).splitlines()
    assert lines[:2] == [
        "gradients of f match central differences at x=0.5, but an op is wrong:",
        BLAMED,
    ]
    pattern = rf"  slightly, made by define_op, at x = 0\.5: it records d/dx = {re.escape(cos)}, "
    assert re.fullmatch(
        pattern + r"its own central difference is 0\.87758\d* \(relative error 0\.0001\)", lines[2]
    )
    assert len(lines) == 3


# -- the state machine ---------------------------------------------------------------------

# Enough runs to find a planted bug; no shrinking (slow, and the failure is all we need).
# The whole message the machine gives when a grad is not the forward-mode reference: the
# Value (a leaf x<k>, or a node of an op) and both numbers, whichever hypothesis found.
REFERENCE_DISAGREES = (
    rf"Value\(data={_NUMBER}, grad={_NUMBER}(, label='x\d+')?\) \(op '[^']*'\): "
    rf"grad {_NUMBER}, the reference says {_NUMBER} \(forward mode, independent of backward\(\)\)"
)
MACHINE_HUNT = settings(
    max_examples=200, database=None, deadline=None, phases=[Phase.generate], derandomize=True
)


def test_the_machine_catches_a_backward_whose_interior_grads_compound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def micrograd_backward(self: Value, grad: float = 1.0) -> None:
        """micrograd's: no reset of the graph's grads, so a second call compounds."""
        order = topological_order(self)
        self.grad = grad
        for node in reversed(order):
            for parent, local in zip(node.parents, node.local_grads, strict=True):
                parent.grad += local * node.grad

    monkeypatch.setattr(Value, "backward", micrograd_backward)
    said = failure(lambda: run_state_machine_as_test(GradientMachine, settings=MACHINE_HUNT))
    assert re.fullmatch(REFERENCE_DISAGREES, said), said


def test_the_machine_catches_a_leaf_that_forgets_its_earlier_grad(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = Value.backward

    def forgetful(self: Value, grad: float = 1.0) -> None:
        self.zero_grad()
        original(self, grad)

    monkeypatch.setattr(Value, "backward", forgetful)
    said = failure(lambda: run_state_machine_as_test(GradientMachine, settings=MACHINE_HUNT))
    assert re.fullmatch(REFERENCE_DISAGREES, said), said


# -- the strategies ------------------------------------------------------------------------


@given(expressions(2, max_depth=2, max_ops=6), values(), values())
def test_an_expression_is_what_its_source_says(f: Expression, x: float, y: float) -> None:
    namespace: dict[str, object] = {"Value": Value}
    exec(f.source, namespace)  # the printed expression, run: the same numbers
    built = namespace["f"](Value(x), Value(y))  # type: ignore[operator]
    assert built.data == f(Value(x), Value(y)).data or (math.isnan(built.data))
    assert repr(f).startswith("Expression(x0, x1: ") and "return v" in repr(f)
    body = [line.strip() for line in f.source.splitlines()[1:]]  # the source, on one line
    assert repr(f) == f"Expression(x0, x1: {'; '.join(body)})"


@settings(max_examples=200)
@given(expressions(3, max_depth=2))
def test_max_depth_bounds_every_path(f: Expression) -> None:
    depth = [0] * 3
    for step in f.steps:
        depth.append(1 + max((depth[i] for i in step.inputs), default=-1))
    assert max(depth) <= 2


@given(values(), values(-0.5, 0.5))
def test_values_stay_in_their_range(x: float, y: float) -> None:
    assert -2.0 <= x <= 2.0 and -0.5 <= y <= 0.5


@given(st.data())
def test_the_source_of_an_expression_with_defined_ops_compiles_and_runs(data: Any) -> None:
    # Keywords are refused by define_op; Expression.source's own names by expressions().
    ops = [sin, define_op("if_", lambda x: (x * 2.0, 2.0)), "*", "+"]
    f = data.draw(expressions(2, ops=ops, max_ops=5))
    namespace: dict[str, object] = {"Value": Value, "sin": sin, "if_": ops[1]}
    exec(compile(f.source, "<expression>", "exec"), namespace)
    built = namespace["f"](Value(0.5), Value(-1.5))  # type: ignore[operator]
    assert built.data == f(Value(0.5), Value(-1.5)).data


@pytest.mark.parametrize("name", ["f", "Value", "x0", "v12"])
def test_an_op_named_like_the_sources_own_names_is_refused(name: str) -> None:
    clash = define_op(name, lambda x: (x, 1.0))
    assert_refused(
        lambda: expressions(2, ops=[clash, "+"]),
        ValueError,
        f"expressions(ops=...): Expression.source has a name {name!r} of its own (the function "
        f"f, Value, the variables x0, v1, ...), so an op named {name!r} would be read as that; "
        f"define it under another name, e.g. '{name}_op'.",
    )
    expressions(2, ops=[define_op(f"{name}_op", lambda x: (x, 1.0)), "+"])  # as it suggests


@pytest.mark.parametrize("n", [1, 2, 3])
def test_the_integer_powers_drawn_are_x_to_the_1_2_and_3(n: int) -> None:
    once = settings(database=None, derandomize=True, max_examples=1000, deadline=None)
    powers = expressions(1, ops=["**n"], max_ops=1)
    drawn = find(powers, lambda e: f" ** {n}\n" in e.source, settings=once)
    assert drawn(Value(1.5)).data == 1.5**n


def test_builtin_ops_name_the_engines_ops_and_those_that_take_a_number() -> None:
    assert {"+", "log", "relu+", "c**"} <= set(BUILTIN_OPS)


def test_values_takes_a_range_of_one_number() -> None:
    assert find(values(0.25, 0.25), lambda x: True) == 0.25


@settings(max_examples=60, database=None)
@given(networks(max_inputs=2, max_width=3, max_layers=2, samples=3))
def test_networks_stay_within_their_bounds(network: Network) -> None:
    # Every bound networks() takes: inputs, width of the hidden layers, layers, samples.
    sizes = [len(layer.neurons) for layer in network.model.layers]
    assert 1 <= len(sizes) <= 2 and sizes[-1] == 1 and max(sizes[:-1], default=1) <= 3
    assert 1 <= len(network.inputs[0]) <= 2 and 1 <= len(network.inputs) <= 3


def test_networks_reach_max_layers() -> None:
    # max_layers counts the output layer too: 3 means two hidden layers at most.
    once = settings(database=None, derandomize=True, max_examples=300, phases=[Phase.generate])
    small = networks(max_inputs=1, max_width=1, max_layers=3, samples=1)
    deep = find(small, lambda n: len(n.model.layers) == 3, settings=once)
    assert len(deep.model.layers) == 3


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda k: networks(max_inputs=k), "networks(max_inputs)"),
        (lambda k: networks(max_width=k), "networks(max_width)"),
        (lambda k: networks(max_layers=k), "networks(max_layers)"),
        (lambda k: networks(samples=k), "networks(samples)"),
        (lambda k: expressions(k), "expressions(n_inputs)"),
        (lambda k: expressions(1, max_depth=k), "expressions(max_depth)"),
        (lambda k: expressions(1, max_ops=k), "expressions(max_ops)"),
    ],
)
def test_each_strategy_size_takes_1_and_refuses_0(make: Callable[[int], object], name: str) -> None:
    make(1)  # the smallest: one input, one op, one layer, one sample
    with pytest.raises(ValueError) as caught:
        make(0)
    assert str(caught.value) == f"{name} must be a whole number >= 1, got 0."


def test_a_networks_loss_wants_all_its_weights_as_one_point_and_its_repr_shows_the_data() -> None:
    model = MLP(1, [1], seed=0)  # one neuron of one input: 2 weights
    network = Network(model, ((1.0,),), (0.5,))
    for weights in ([Value(1.0)], [Value(1.0)] * 3):  # one too few, one too many
        with pytest.raises(TypeError) as caught:
            network.loss(*weights)
        assert str(caught.value) == (
            f"Network.loss takes 2 weights, got {len(weights)}; to check it, give "
            "assert_gradients_match the tuple network.weights as one point."
        )
    assert repr(network) == f"Network({model!r}, inputs=((1.0,),), targets=(0.5,))"


@settings(max_examples=20)
@given(networks())
def test_a_network_loss_uses_the_given_weights_and_leaves_the_model_alone(
    network: Network,
) -> None:
    model = network.model
    before = [p for p in model.parameters()]
    weights = [Value(w) for w in network.weights]
    loss = network.loss(*weights)
    assert [p for p in model.parameters()] == before  # put back
    loss.backward()
    assert any(w.grad != 0.0 for w in weights)  # the loss was built from these
    assert all(p.grad == 0.0 for p in model.parameters())
    assert isinstance(assert_gradients_match(network.loss, network.weights), GradientReport)


def test_two_reports_are_equal_only_when_they_counted_and_skipped_the_same() -> None:
    report = assert_gradients_match(lambda x: x.relu(), 0.0, 1.0)
    kink = report.skipped
    assert report == GradientReport(points=2, compared=1, skipped=list(kink))
    for other in (GradientReport(3, 1, kink), GradientReport(2, 2, kink), GradientReport(2, 1)):
        assert report != other


def test_importing_without_hypothesis_says_how_to_install_it() -> None:
    code = (
        "import sys\n"
        "sys.modules['hypothesis'] = None\n"  # as if not installed
        "try:\n"
        "    import tinygrad_xor.testing\n"
        "except ModuleNotFoundError as error:\n"
        "    print(error.name)\n"  # the module that is missing, as Python's own error says
        "    raise\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1 and result.stdout == "hypothesis\n"
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        "ModuleNotFoundError: tinygrad_xor.testing needs hypothesis, which comes with the "
        "testing extra: pip install tinygrad_xor[testing]"
    )


def test_the_ten_lines_of_the_module_docstring_run() -> None:
    result = doctest.testmod(testing)
    assert result.attempted > 0 and result.failed == 0


# Every op the engine records, x ** c (a PowerOp) as "**c": see engine.py's table.
ENGINE_OPS = {"+", "*", "/", "**", "**c", "exp", "log", "tanh", "sigmoid", "relu"}


def engine_ops_in(roots: list[Value]) -> set[str]:
    ops = {node.op for root in roots for node in topological_order(root) if node.op}
    return {"**c" if isinstance(op, PowerOp) else op for op in ops}


def test_both_expression_generators_make_every_op_of_the_engine() -> None:
    # The toolkit's expressions (kept off singular points, for gradient checks) and make
    # fuzz's (aimed at them, judged by mpmath per op; random.Random, ~25 us a case where a
    # hypothesis draw costs ~3 ms) keep separate tables; neither may miss an op.
    import fuzz_torch

    # Each name's op (test_engine_properties.py checks that expressions() draws each name).
    from tinygrad_xor.testing.strategies import _BY_NAME

    leaves = [Value(0.3), Value(0.7)]
    ours = [op.apply((*op.numbers, 2.0)[0], *leaves[: op.arity]) for op in _BY_NAME.values()]
    assert engine_ops_in(ours) == ENGINE_OPS
    theirs = [fuzz_torch._apply(fuzz_torch.Step(op, 0, 1, c=2.0), leaves) for op in fuzz_torch.OPS]
    assert engine_ops_in(theirs) == ENGINE_OPS


# -- at the edges (issue 18): no false alarm, no silent pass, nothing changed ---------------


def _ieee(rule: Callable[[float], tuple[float, float]]) -> Callable[[float], tuple[float, float]]:
    """The rule, returning nan where math raises (at inf), as IEEE arithmetic does."""
    return lambda x: rule(x) if math.isfinite(x) else (math.nan, math.nan)


cos = define_op("cos", _ieee(lambda x: (math.cos(x), -math.sin(x))))
ieee_sin = define_op("sin", _ieee(lambda x: (math.sin(x), math.cos(x))))
softplus = define_op(
    "softplus",  # log(1 + e^x) and its derivative, the sigmoid, written not to overflow
    lambda x: (max(x, 0.0) + math.log1p(math.exp(-abs(x))), 0.5 + 0.5 * math.tanh(x / 2)),
)


def test_where_the_first_step_is_wider_than_f_turns_it_is_made_smaller() -> None:
    # At x = 250, cos(x*x) turns every 0.013 and the first step is 0.25: it was blamed.
    points = [(250.0 + k / 7,) for k in range(10)]
    assert assert_gradients_match(lambda x: cos(x * x), *points).compared == 10
    assert assert_gradients_match(lambda x: cos(x * 1e4) * x, 3.0).compared == 1


@settings(max_examples=60, database=None, deadline=None)
@given(st.floats(-1e300, 1e300, allow_nan=False), st.sampled_from([cos, ieee_sin, softplus]))
def test_a_correct_op_is_never_blamed_at_any_size(x: float, op: Any) -> None:
    # Alone at 1e8 or 1e9, cos was blamed: the step (1e-3 |x|) spans many turns. Where f's
    # slope cannot be measured (f's own rounding, with x = 1e9 in its graph, is too coarse
    # for the step cos needs) the point is skipped, and the report says so.
    for f in (lambda x: op(x), lambda x: op(x * x) + x, lambda x: op(op(x) * 3.0)):
        report = assert_gradients_match(f, x)
        assert report.compared + len(report.skipped) == 1


@pytest.mark.parametrize(
    ("shape", "x"),
    [
        ("cos(cos(x) * 3)", 8386666484.0),  # each found by hypothesis, each once blamed
        ("cos(cos(x) * 3)", 6503569681.0),
        ("cos(cos(x) * 3)", 11062788334993.0),
        ("cos(x) * cos(x/2 + 1)", 42167816545598.0),
        ("cos(x)", 9.525142885270605e233),
    ],
)
def test_a_step_on_a_multiple_of_the_period_does_not_fake_a_slope(shape: str, x: float) -> None:
    # At these steps the samples of f line up as a smooth curve with almost no slope.
    f = {
        "cos(cos(x) * 3)": lambda v: cos(cos(v) * 3.0),
        "cos(x) * cos(x/2 + 1)": lambda v: cos(v) * cos(v * 0.5 + 1.0),
        "cos(x)": lambda v: cos(v),
    }[shape]
    report = assert_gradients_match(f, x)
    assert report.compared + len(report.skipped) == 1


def test_a_point_too_large_to_measure_is_skipped_and_said_to_be() -> None:
    # At 1e9 the step shrinks to cos's scale and measures it; at 1e17 neighbouring floats
    # are 16 apart, and cos turns between them: nothing can measure its slope there.
    assert assert_gradients_match(lambda x: cos(x), 1e9).compared == 1
    (why,) = assert_gradients_match(lambda x: cos(x), 1e17).skipped
    assert_reads(
        why,
        "at x=1e+17, d f/d x: the slope does not settle at every step from # to # (at the last, "
        "# at step #, # at #, # from the left, # from the right): f turns faster than the step, "
        "or has a kink or a singularity within #",
    )
    # At 3e15 neighbouring floats are 0.5 apart: one float away, cos changes by 0.1, where
    # the slope measured at the wide steps says 4e-6. That is said, not compared.
    (why,) = assert_gradients_match(lambda x: cos(x), 3e15).skipped
    assert_reads(
        why,
        "at x=3000000000000000.0, d f/d x: one float from x, f changes by -0.1 where a slope of "
        "# says #: f varies faster than the step; below it, the slope does not settle at every "
        "step from # to # (at the last, # at step #, # at #, # from the left, # from the right): "
        "f turns faster than the step, or has a kink or a singularity within #",
    )
    # x*x rounds to 1e10, and cos(x*x) moves by |sin(1e10)| = 0.488 of that rounding.
    (why,) = assert_gradients_match(lambda x: cos(x * x), 1e5).skipped
    assert_reads(
        why,
        "at x=100000.0, d f/d x: f's rounding (at the scale of 4.88e+09) swamps a slope of # at "
        "step #; below that, f's rounding (at the scale of 4.88e+09) swamps a slope of # at "
        "step #",
    )


def test_sympy_at_a_singular_point_skips_with_its_reason() -> None:
    pytest.importorskip("sympy")
    (why,) = assert_gradients_match(lambda x: x.log(), 0.0, against="sympy").skipped
    assert why == "at x=0.0, d f/d x: f is -inf at the point"
    (why,) = assert_gradients_match(lambda x: x**0.5, 0.0, against="sympy").skipped
    assert why == "at x=0.0, d f/d x: sympy: d/dx of **0.5 at 0.0 divides by zero: a singularity"
    report = assert_gradients_match(lambda x, y: x**0.5 * y + y, (0.0, 2.0), against="sympy")
    assert report.compared == 1  # y's gradient is defined; x's is skipped
    assert report.skipped == [
        "at x=0.0, y=2.0, d f/d x: sympy: d/dx of **0.5 at 0.0 divides by zero: a singularity"
    ]
    # 1/0 is inf in the engine (IEEE) and has no number in sympy: a singularity, skipped,
    # even where f itself is finite (tanh(inf) = 1), never "an op computes a different number"
    (why,) = assert_gradients_match(lambda x: (1.0 / x).tanh(), 0.0, against="sympy").skipped
    assert why == "at x=0.0, d f/d x: sympy: / at 1.0, 0.0 divides by zero: a singularity"
    (why,) = assert_gradients_match(lambda x: (x**-1.0).tanh(), 0.0, against="sympy").skipped
    assert why == "at x=0.0, d f/d x: sympy: **-1 at 0.0 divides by zero: a singularity"
    (why,) = assert_gradients_match(lambda x: x**0.5, -1.0, against="sympy").skipped
    assert why == "at x=-1.0, d f/d x: f is nan at the point"
    (why,) = assert_gradients_match(lambda x: x ** x.tanh(), -0.5, against="sympy").skipped
    assert why == "at x=-0.5, d f/d x: f is nan at the point"  # a negative base, a fraction


def test_sympy_takes_the_engine_s_zero_by_convention_derivatives() -> None:
    # relu'(0) = 0 and d/dx x**2 + relu(x) at 0: sympy's own relu has no derivative at 0.
    pytest.importorskip("sympy")
    for f, point in [(lambda x: x.relu(), 0.0), (lambda x: x**2 + (x * 3.0).relu(), 0.0)]:
        report = assert_gradients_match(f, point, against="sympy")
        assert (report.compared, report.skipped) == (1, [])
    # A conventional zero is a number, not a reason: a skip after it names the op that broke.
    (why,) = assert_gradients_match(lambda x: x.relu() ** 0.5, 0.0, against="sympy").skipped
    assert why == "at x=0.0, d f/d x: sympy: d/dx of **0.5 at 0.0 divides by zero: a singularity"


def _chain(levels: int) -> Callable[[Value], Value]:
    def f(v: Value) -> Value:
        for _ in range(levels):
            v = (v * v + v).tanh()  # v used twice: 2**levels paths as a tree
        return v

    return f


def test_sympy_computes_each_node_once(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sympy")
    from tinygrad_xor.testing import oracles

    evaluated: list[Value] = []
    original = oracles._evaluate

    def counted(node: Value, inputs: list[Any]) -> Any:
        evaluated.append(node)
        return original(node, inputs)

    monkeypatch.setattr(oracles, "_evaluate", counted)
    # 60 levels, 2**60 paths: as a tree this never ends; node by node it is 180 ops.
    report = assert_gradients_match(_chain(60), 0.3, against="sympy")
    assert report.compared == 1
    assert len(evaluated) == len(set(evaluated)) == 180


def test_sympy_checks_a_network_loss_by_its_graph() -> None:
    pytest.importorskip("sympy")
    model = MLP(3, [4, 4, 1], seed=0)  # 41 weights: its loss did not finish in 100 s
    inputs = ((0.5, -1.0, 2.0), (1.5, 0.25, -0.5), (0.0, 1.0, 1.0))
    network = Network(model, inputs, (1.0, 0.0, 0.5))
    report = assert_gradients_match(network.loss, network.weights, against="sympy")
    assert report.compared == 41


def test_torch_where_a_derivative_is_inf() -> None:
    pytest.importorskip("torch")
    root = define_op("root", lambda x: (math.sqrt(x), divide(0.5, math.sqrt(x))))
    # d root/dx is inf at 0: torch said "f itself: autograd 0.0, torch nan".
    report = assert_gradients_match(lambda x, y: root(x) * y + y, (0.0, 2.0), against="torch")
    assert (report.compared, report.skipped) == (2, [])
    report = assert_gradients_match(lambda x: root(x * x), 0.0, against="torch")
    assert report.compared + len(report.skipped) == 1
    assert assert_gradients_match(lambda x: x**0.5, 0.0, against="torch").compared == 1


def test_a_wrong_d_dy_of_a_binary_op_is_named_with_both_inputs() -> None:
    """d(x*y)/dy is x = 2, the rule says x + 1 = 3: off by 1 of 3."""
    wrong = define_op("mul_", lambda x, y: (x * y, y, x + 1))
    with pytest.raises(AssertionError) as caught:
        assert_gradients_match(lambda x, y: wrong(x, y) * 1.0, (2.0, 3.0))
    assert str(caught.value).splitlines() == [
        "gradients of f do not match central differences at x=2.0, y=3.0:",
        "  d f/d y: autograd 3.0, central difference 2.0, relative error 0.333 "
        "(allowed: rel 1e-06, abs 1e-07)",
        "ops whose local derivative disagrees with their own central difference:",
        "  mul_, made by define_op, at xy = (2.0, 3.0): it records d/dy = 3.0, its own central "
        "difference is 2.0 (relative error 0.333)",
    ]


def test_an_op_slightly_off_is_named_before_backward_is_blamed() -> None:
    slightly = define_op("sin", lambda x: (math.sin(x), math.cos(x) * 1.000001))
    with pytest.raises(AssertionError) as caught:
        assert_gradients_match(lambda x: slightly(slightly(x)), 0.0)
    # sin(sin(x))' at 0 is 1; the op says 1.000001 twice: 1.000002000001, off by 2e-6.
    expected = [
        r"gradients of f do not match central differences at x=0\.0:",
        r"  d f/d x: autograd 1\.000002000001, central difference 0\.99999999999\d*, relative "
        r"error 2e-06 \(allowed: rel 1e-06, abs 1e-07\)",
        r"no op on the way is off by more than its own tolerance \(rel 1e-06\), but this one "
        r"disagrees with its own central difference most, by more than the measurement can "
        r"explain:",
        r"  sin, made by define_op, at x = 0\.0: it records d/dx = 1\.000001, its own central "
        r"difference is 0\.99999999999\d* \(relative error 1e-06\)",
    ]
    lines = str(caught.value).splitlines()
    assert len(lines) == len(expected)
    for line, pattern in zip(lines, expected, strict=True):
        assert re.fullmatch(pattern, line), line


def test_of_two_wrong_ops_the_larger_disagreement_comes_first() -> None:
    off_a_little = define_op("little", lambda x: (math.sin(x), math.cos(x) * 1.01))
    off_a_lot = define_op("lot", lambda x: (math.exp(x), math.exp(x) * 3.0))
    assert_reads(
        failure(lambda: assert_gradients_match(lambda x: off_a_little(x) + off_a_lot(x), 0.5)),
        "gradients of f do not match central differences at x=0.5:",
        "  d f/d x: autograd #, central difference #, relative error 0.567 (allowed: rel 1e-06, "
        "abs 1e-07)",
        BLAMED,
        "  lot, made by define_op, at x = 0.5: it records d/dx = #, its own central difference "
        "is # (relative error 0.667)",
        "  little, made by define_op, at x = 0.5: it records d/dx = #, its own central "
        "difference is # (relative error 0.0099)",
    )


@pytest.mark.parametrize("against", ["central", "sympy", "torch"])
def test_a_check_leaves_every_grad_as_it_was(against: str) -> None:
    pytest.importorskip({"central": "math", "sympy": "sympy", "torch": "torch"}[against])
    # A model in the middle of training: w and the node it shares have their grads.
    w, b = Value(0.5, "w"), Value(-1.5, "b")
    shared = w * b
    (shared.tanh() + w).backward()
    before = [w.grad, b.grad, shared.grad]
    assert all(g != 0.0 for g in before)
    for _ in range(3):  # w.grad went 0 -> 0.5 -> 3.5
        assert_gradients_match(lambda x: x * w + (shared * x).tanh(), 3.0, against=against)
    assert [w.grad, b.grad, shared.grad] == before


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("against", ["central", "sympy", "torch"])
def test_a_point_that_is_not_finite_is_refused(bad: float, against: str) -> None:
    assert_refused(
        lambda: assert_gradients_match(lambda x, y: x * y, (1.0, bad), against=against),
        ValueError,
        f"{_POINT} 0, argument 1 must be a finite number, got {bad}.",
    )
    assert_refused(
        lambda: assert_gradients_match(lambda x: x * 2, 1.0, bad, against=against),
        ValueError,
        f"{_POINT} 1 must be a finite number, got {bad}.",
    )


def test_the_machine_catches_a_wrong_rule() -> None:
    # The reference calls the rule again, so it agrees with a wrong one; each op made is
    # also checked against its own slope, and that is where a wrong rule shows.
    machine = GradientMachine.with_ops([wrong_sin, "*", "+"])
    assert_reads(
        failure(lambda: run_state_machine_as_test(machine, settings=MACHINE_HUNT)),
        "an op's local derivative disagrees with its own central difference: sin, made by "
        "define_op, at x = #: it records d/dx = #, its own central difference is # (relative "
        "error 2)",
    )


def test_the_machine_allows_a_subnormal_its_last_unit() -> None:
    # Forward and reverse mode round a subnormal absolutely: here they differ by 5e-324,
    # one unit of the smallest float, which no relative tolerance allows.
    machine = GradientMachine()
    x = Value(1e-310, "x")
    out = (x * x + 1) ** 0.5  # the "**c" op of expressions()
    machine.known.update(dict.fromkeys(topological_order(out)))
    machine.backward(out, 1.0)
    assert x.grad - 1e-310 == 5e-324  # the reference says 1e-310: one unit off
    machine.every_grad_is_the_reference()


# -- the kink and skip logic, pinned (issue 18's mutations) ----------------------------------


def test_a_kink_of_3e_4_at_the_point_is_skipped_one_of_3e_5_is_compared() -> None:
    report = assert_gradients_match(lambda x: x + x.relu() * 3e-4, 0.0)
    assert (report.compared, report.skipped) == (
        0,
        [
            "at x=0.0, d f/d x: slopes 1 from the left, 1.0003 from the right at every step from "
            "0.000977 to 2.78e-17: a kink"
        ],
    )
    report = assert_gradients_match(lambda x: x + x.relu() * 3e-5, 0.0)
    assert (report.compared, report.skipped) == (1, [])


def test_an_excuse_for_one_argument_excuses_no_other() -> None:
    # x: relu on its own kink inside a smooth f (excused). y: f reads y.data, so autograd
    # misses a term: a real mismatch, and no op on y's path is on a kink.
    def f(x: Value, y: Value) -> Value:
        return x.relu() - (-x).relu() + y * Value(y.data)

    assert failure(lambda: assert_gradients_match(f, (0.0, 1.5))).splitlines() == [
        "gradients of f do not match central differences at x=0.0, y=1.5:",
        "  d f/d x: autograd 0.0, central difference 1.0, relative error 1 (allowed: rel 1e-06, "
        "abs 1e-07)",
        "  d f/d y: autograd 1.5, central difference 3.0, relative error 0.5 (allowed: rel 1e-06, "
        "abs 1e-07)",
        "every op on the way agrees with its own central difference: suspect the chain rule "
        "itself (backward()), or f reading numbers (x.data) or branching on them.",
    ]


def test_an_excused_mismatch_is_not_counted_as_compared() -> None:
    report = assert_gradients_match(lambda x, y: x.relu() - (-x).relu() + y * y, (0.0, 1.5))
    assert (report.points, report.compared) == (1, 1)
    assert report.skipped == [
        "at x=0.0, y=1.5: d f/d x: autograd 0.0, central difference 1.0, relative error 1 "
        "(allowed: rel 1e-06, abs 1e-07); but relu at x = 0.0, on a kink or singularity of its "
        "own (slopes 0 from the left, 1 from the right at every step from 0.000977 to 2.78e-17: "
        "a kink)"
    ]
    report = assert_gradients_match(lambda x: x.relu() - (-x).relu(), 0.0, 1.0, -2.0)
    assert (report.points, report.compared, len(report.skipped)) == (3, 2, 1)


def test_of_ops_slightly_off_the_one_that_disagrees_most_is_named() -> None:
    # Each within its own tolerance (rel 1e-6); f checked tighter, so f's gradient fails
    # and the suspect named is the op off by 9e-7, not the one off by 3e-7.
    little = define_op("little", lambda x: (math.sin(x), math.cos(x) * (1 + 3e-7)))
    more = define_op("more", lambda x: (math.exp(x), math.exp(x) * (1 + 9e-7)))
    assert_reads(
        failure(
            lambda: assert_gradients_match(lambda x: little(x) + more(x), 0.5, rel=1e-8, abs=0.0)
        ),
        "gradients of f do not match central differences at x=0.5:",
        "  d f/d x: autograd #, central difference #, relative error 6.92e-07 (allowed: "
        "rel 1e-08, abs 0)",
        "no op on the way is off by more than its own tolerance (rel 1e-06), but this one "
        "disagrees with its own central difference most, by more than the measurement can "
        "explain:",
        "  more, made by define_op, at x = 0.5: it records d/dx = #, its own central difference "
        "is # (relative error 9e-07)",
    )


def test_a_two_input_op_is_named_with_its_inputs_in_order() -> None:
    wrong_hypot = define_op(
        "hypot", lambda x, y: (math.hypot(x, y), x / math.hypot(x, y), -y / math.hypot(x, y))
    )
    assert_reads(
        failure(lambda: assert_gradients_match(lambda x, y: wrong_hypot(x, y), (0.5, 2.0))),
        "gradients of f do not match central differences at x=0.5, y=2.0:",
        "  d f/d y: autograd #, central difference #, relative error 2 (allowed: rel 1e-06, "
        "abs 1e-07)",
        BLAMED,
        "  hypot, made by define_op, at xy = (0.5, 2.0): it records d/dy = #, its own central "
        "difference is # (relative error 2)",
    )


def test_a_wrong_d_dy_of_a_power_of_zero_is_named_not_excused() -> None:
    # 0 ** y is 0 for y > 0: d/dy is 0 there (measurable), so a power recording 1 is wrong.
    def broken_power(a: Value, b: Value) -> Value:
        return op_result(a.data**b.data, POWER, a, b.data * a.data ** (b.data - 1), b, 1.0)

    assert failure(lambda: assert_gradients_match(broken_power, (0.0, 2.0))).splitlines() == [
        "gradients of f do not match central differences at a=0.0, b=2.0:",
        "  d f/d b: autograd 1.0, central difference 0.0, relative error 1 (allowed: rel 1e-06, "
        "abs 1e-07)",
        BLAMED,
        "  ** at xy = (0.0, 2.0): it records d/dy = 1.0, its own central difference is 0.0 "
        "(relative error 1)",
    ]


def test_sympy_names_the_first_op_whose_value_is_wrong() -> None:
    pytest.importorskip("sympy")

    def wrong_exp(v: Value) -> Value:  # the engine's exp, its value off by 10%
        return op_result(1.1 * math.exp(v.data), EXP, v, 1.1 * math.exp(v.data))

    once = 1.1 * math.exp(0.5)
    assert_reads(
        failure(
            lambda: assert_gradients_match(lambda x: wrong_exp(wrong_exp(x)), 0.5, against="sympy")
        ),
        "gradients of f do not match sympy at x=0.5:",
        f"  the value of exp at 0.5: autograd {once!r}, sympy #, relative error 0.0909 (allowed: "
        "rel 1e-09, abs 6.75e-12)",
        "  d f/d x: autograd #, sympy #, relative error 0.174 (allowed: rel 1e-09, abs 6.75e-12)",
        BLAMED,
        f"  exp at x = 0.5: it records d/dx = {once!r}, its own central difference is # "
        "(relative error 0.0909)",
        f"  exp at x = {once!r}: it records d/dx = #, its own central difference is # "
        "(relative error 0.0909)",
    )


def test_sympy_takes_every_bit_of_the_engine_s_numbers() -> None:
    # (1 + 2**-50) ** 2**50 is e; a base rounded to fewer digits than a float has gives 1.
    pytest.importorskip("sympy")
    report = assert_gradients_match(lambda x: x ** float(2**50), 1 + 2**-50, against="sympy")
    assert (report.compared, report.skipped) == (1, [])


def test_sympy_says_why_a_derivative_has_no_real_value() -> None:
    pytest.importorskip("sympy")
    # (-2) ** y: d/dy = (-2) ** y * log(-2), complex; d/dx is real and compared.
    report = assert_gradients_match(lambda x, y: x**y, (-2.0, 2.0), against="sympy")
    assert report.compared == 1
    # mpmath's own digits of 4 log(-2) = 4 log 2 + 4 pi i, at 30 digits
    complex_ = "(2.77258872223978123766892848583 + 12.5663706143591729538505735331j)"
    not_real = f"d f/d y: sympy: d/dy of ** at -2.0, 2.0 is not a real number ({complex_})"
    assert report.skipped == [f"at x=-2.0, y=2.0, {not_real}"]
    # Two ops in a row with no real derivative (sqrt at 0, then a negative base): each
    # argument's reason is the first op on its own way, where it started.
    report = assert_gradients_match(lambda x, y: (x**0.5 - 2.0) ** y, (0.0, 2.0), against="sympy")
    for_x, for_y = report.skipped
    assert for_x == (
        "at x=0.0, y=2.0, d f/d x: sympy: d/dx of **0.5 at 0.0 divides by zero: a singularity"
    )
    assert for_y == f"at x=0.0, y=2.0, {not_real}"


def test_sympy_carries_a_rules_own_numbers_at_30_digits() -> None:
    sympy = pytest.importorskip("sympy")
    import mpmath

    # 2 ** 0.1, the 0.1 being the float's exact binary value: right to 30 digits, not 16.
    power = sympy_arithmetic().power(sympy.Integer(2), 0.1)
    with mpmath.workdps(40):
        exact = mpmath.mpf(2) ** mpmath.mpf(0.1)
        assert abs(mpmath.mpf(sympy.N(power, 35)) - exact) < 1e-29


def test_sympy_keeps_each_inputs_own_zero_convention() -> None:
    pytest.importorskip("sympy")
    # d/dy of 0 ** y is 0 by the op's convention (as in PyTorch), so it is compared; d/dx
    # has none, and sympy's y * x**y / x divides by zero there.
    report = assert_gradients_match(lambda x, y: x**y, (0.0, 2.0), against="sympy")
    assert report.compared == 1
    assert report.skipped == [
        "at x=0.0, y=2.0, d f/d x: sympy: d/dx of ** at 0.0, 2.0 divides by zero: a singularity"
    ]


@settings(max_examples=50)
@given(networks(max_layers=1))
def test_network_targets_are_in_0_1(network: Network) -> None:
    assert all(0.0 <= t <= 1.0 for t in network.targets)
    assert len(network.targets) == len(network.inputs) >= 1


# -- second derivatives: order=2 -----------------------------------------------------------

FIRST_DERIVATIVES_WRONG = "the first derivatives of f, as graphs to differentiate again, are wrong"
cosine: Any = None
sine = define_op("sine", lambda x: (math.sin(x), math.cos(x)), derivative=lambda x: cosine(x))
cosine = define_op("cosine", lambda x: (math.cos(x), -math.sin(x)), derivative=lambda x: -sine(x))


@settings(max_examples=30, database=None, deadline=None)
@given(
    f=expressions(2, ops=[sine, cosine, "*", "+", "exp", "tanh", "/"]),
    x=values(),
    y=values(),
    against=st.sampled_from(["central", "sympy", "torch"]),
)
def test_order_two_passes_correct_second_derivatives(
    f: Expression, x: float, y: float, against: str
) -> None:
    if against == "torch":
        pytest.importorskip("torch")
    report = assert_gradients_match(f, (x, y), order=2, against=against)
    assert report.compared + len(report.skipped) == 6  # d f/d x, d f/d y, and four more


def test_order_two_counts_the_second_derivatives_it_compared() -> None:
    report = assert_gradients_match(lambda x, y: (x * y).tanh() * x.exp(), (0.3, 0.7), order=2)
    assert (report.points, report.compared, report.skipped) == (1, 6, [])


def test_order_two_names_a_derivative_in_values_that_contradicts_its_rule() -> None:
    backwards = define_op(
        "backwards", lambda x: (math.sin(x), math.cos(x)), derivative=lambda x: -cosine(x)
    )
    assert assert_gradients_match(lambda x: backwards(x * x), 0.5).compared == 1  # order 1
    with pytest.raises(AssertionError) as caught:
        assert_gradients_match(lambda x: backwards(x * x), 0.5, order=2)
    assert str(caught.value).splitlines() == [
        f"{FIRST_DERIVATIVES_WRONG} at x=0.5:",
        # d f/d x = (the op's derivative at 0.25) * 2x, and 2x = 1 at x = 0.5
        f"  d f/d x: as a graph {-math.cos(0.25)!r}, by backward() {math.cos(0.25)!r}",
        f"  backwards, made by define_op, at 0.25: its derivative= gives d/dx = "
        f"{-math.cos(0.25)!r}, its rule {math.cos(0.25)!r}: one of the two is wrong.",
    ]


def test_order_two_names_a_derivative_in_values_off_by_more_than_rounding() -> None:
    # 3e-9 relative is no rounding error of one cos: a typo'd constant, and it is named.
    slightly = define_op(
        "slightly",
        lambda x: (math.sin(x), math.cos(x)),
        derivative=lambda x: cosine(x) * 1.000000003,
    )
    assert_reads(
        failure(lambda: assert_gradients_match(lambda x: slightly(x * x), 0.5, order=2)),
        f"{FIRST_DERIVATIVES_WRONG} at x=0.5:",
        "  d f/d x: as a graph #, by backward() #",
        "  slightly, made by define_op, at 0.25: its derivative= gives d/dx = #, its rule "
        f"{math.cos(0.25)!r}: one of the two is wrong.",
    )


def test_order_two_names_a_derivative_in_values_that_cuts_its_graph() -> None:
    cut = define_op(
        "cut", lambda x: (math.sin(x), math.cos(x)), derivative=lambda x: Value(math.cos(x.data))
    )
    with pytest.raises(AssertionError) as caught:
        assert_gradients_match(lambda x: cut(x * x), 0.5, order=2)
    title, line = str(caught.value).splitlines()
    assert title == FIRST_DERIVATIVES_WRONG + " at x=0.5:"
    said = re.fullmatch(
        r"  cut, made by define_op, at 0\.25: the graph of its derivative= \(d/dx\) has slope "
        r"0\.0 in x, but its values change at (\S+): written so it cannot be differentiated "
        r"\(reading \.data, or making a new Value, cuts the graph\)\.",
        line,
    )
    assert said is not None, line
    assert float(said[1]) == pytest.approx(-math.sin(0.25), rel=1e-9)  # d cos(x) / dx


def test_order_two_catches_a_wrong_second_derivative_of_an_engine_op() -> None:
    # The engine's tanh, its derivative as a graph wrong: 1 - t, where backward() has 1 - t*t.
    wrong = Rule.of(
        "tanh",
        "tanh",
        TANH.value,
        lambda m, a, out: (1.0 - out * out if m is FLOATS else 1.0 - out,),
    )

    def f(x: Value) -> Value:
        t = math.tanh(x.data)
        return op_result(t, wrong, x, 1.0 - t * t) * x

    assert assert_gradients_match(f, 0.4).compared == 1  # first derivatives are right
    t = math.tanh(0.4)
    # d f/d x = tanh'(x) x + tanh(x): as a graph with 1 - t where backward() has 1 - t*t
    assert_reads(
        failure(lambda: assert_gradients_match(f, 0.4, order=2)),
        f"{FIRST_DERIVATIVES_WRONG} at x=0.4:",
        f"  d f/d x: as a graph #, by backward() {(1.0 - t * t) * 0.4 + t!r}",
    )


def test_order_two_catches_an_engine_op_whose_derivative_graph_is_cut() -> None:
    # Its derivative as a graph has the right number but is a constant: d2 would be 0.
    def cut_local(m: Any, a: Any, out: Any) -> tuple[Any, ...]:
        local = 1.0 - out * out
        return (local if m is FLOATS else Value(local.data),)

    cut = Rule.of("tanh", "tanh", TANH.value, cut_local)

    def f(x: Value) -> Value:
        t = math.tanh(x.data)
        return op_result(t, cut, x, 1.0 - t * t)

    # The second derivative is named as what it is: d/d x of d f/d x.
    assert_reads(
        failure(lambda: assert_gradients_match(f, 0.4, order=2)),
        "gradients of d f/d x do not match central differences at x=0.4:",
        "  d/d x (d f/d x): autograd 0.0, central difference #, relative error 1 (allowed: "
        "rel 1e-06, abs 1e-07)",
        "every op on the way agrees with its own central difference: suspect the chain rule "
        "itself (backward()), or f reading numbers (x.data) or branching on them.",
    )


# -- the fifth sample's survivors and the automatic run's ------------------------------------


def test_an_op_is_measured_at_its_own_tolerance() -> None:
    # check_op measures as it judges, at rel 1e-6 and abs 1e-7 (OP_REL, OP_ABS). An op
    # lifted to 1000 rounds by about 4e-7 at the first step: more than abs 1e-7 allows,
    # so its slope of 0.001 is swamped. Lifted to 100 (4e-8), it is measured.
    for lift, measured in ((1000.0, False), (100.0, True)):
        lifted = define_op("lifted", lambda x, c=lift: (c + 0.001 * x, 0.001))
        check = check_op(lifted(Value(0.5)), 0)
        assert check is not None and check.slope.measured is measured, check.slope
        if not measured:
            assert check.slope.why_not == (
                "f's rounding (at the scale of 1e+03) swamps a slope of 0.001 at step 0.000977; "
                "below that, f's rounding (at the scale of 1e+03) swamps a slope of 10.7 at step "
                "1.78e-15"
            )


def test_a_negative_bases_d_dy_is_not_measured_and_no_step_is_taken() -> None:
    node = Value(-2.0) ** Value(2.0)
    check = check_op(node, 1)
    assert check is not None and not check.slope.measured and not check.wrong
    assert check.slope.why_not == "x ** y of a negative x: d/dy = x**y * log(x) has no real value"
    assert (check.slope.step, check.slope.error) == (0.0, math.inf)


@pytest.mark.parametrize("against", ["sympy", "torch"])
def test_an_oracle_without_a_number_is_said_to_have_none(
    against: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An oracle whose f is inf (or whose gradient is nan) with no reason of its own: the
    # skip says what the oracle said, so the report never gives an empty reason.
    from tinygrad_xor.testing import gradients
    from tinygrad_xor.testing.oracles import Answer

    inf_f = Answer(math.inf, (1.0,), "", ("",))
    monkeypatch.setattr(gradients, f"by_{against}", lambda root, leaves: inf_f)
    (why,) = assert_gradients_match(lambda x: x * 2.0, 0.5, against=against).skipped
    assert why == f"at x=0.5, d f/d x: {against} says f is inf at the point"
    with_reason = Answer(math.nan, (1.0,), "its own reason", ("",))
    monkeypatch.setattr(gradients, f"by_{against}", lambda root, leaves: with_reason)
    (why,) = assert_gradients_match(lambda x: x * 2.0, 0.5, against=against).skipped
    assert why == "at x=0.5, d f/d x: its own reason"
    nan_gradient = Answer(1.0, (math.nan,), "", ("",))
    monkeypatch.setattr(gradients, f"by_{against}", lambda root, leaves: nan_gradient)
    report = assert_gradients_match(lambda x: x * 2.0, 0.5, against=against)
    assert report.skipped == [f"at x=0.5, d f/d x: {against} has no number for it (nan)"]


def test_the_machine_calls_backward_with_the_default_seed_zero_and_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # "backward() on any node, with any upstream gradient": 1 (backward()'s own), 0, a
    # negative one and one of another size all come up.
    seeds: set[float] = set()
    original = Value.backward

    def recorded(self: Value, grad: float = 1.0) -> None:
        seeds.add(grad)
        original(self, grad)

    monkeypatch.setattr(Value, "backward", recorded)
    run_state_machine_as_test(GradientMachine, settings=settings(MACHINE_HUNT, max_examples=40))
    assert {1.0, 0.0} <= seeds
    assert any(s < 0 for s in seeds) and any(abs(s) not in (0.0, 1.0) for s in seeds)


def test_the_machine_allows_forward_and_reverse_mode_a_few_ulps_apart() -> None:
    # x * 0.1 + x * 0.3 + x * x at 0.1: backward() sums 0.1 + 0.3 + 0.2 in one order, the
    # forward-mode reference in another; they are one ulp apart, as float64 allows.
    machine = GradientMachine()
    x = Value(0.1, "x")
    out = x * 0.1 + x * 0.3 + x * x
    machine.known.update(dict.fromkeys(topological_order(out)))
    machine.backward(out, 1.0)
    assert x.grad != machine.expected[x][0]
    assert abs(x.grad - machine.expected[x][0]) == math.ulp(0.6)
    machine.every_grad_is_the_reference()


def test_the_machines_tolerance_is_8_ulps_of_the_scale_per_node_known() -> None:
    # One node known, its reference 0.0 at scale 1: 8 * 2**-52 (plus 5e-324) is allowed,
    # to the last bit; twice that is not.
    machine = GradientMachine()
    x = Value(0.5, "x")
    machine.known[x] = None
    machine.expected[x] = (0.0, 1.0)
    x.grad = 8 * (2.0**-52 + math.ulp(0.0))
    machine.every_grad_is_the_reference()
    x.grad *= 2
    assert failure(machine.every_grad_is_the_reference) == (
        f"{x!r} (op ''): grad {x.grad!r}, the reference says 0.0 (forward mode, independent of "
        "backward())"
    )


@settings(max_examples=1, database=None)
@given(st.data())
def test_the_machine_keeps_no_node_past_a_million(data: Any) -> None:
    # Products of products would overflow: a graph with a node past 1e6 is not kept.
    machine = GradientMachine.with_ops(["*"])()
    a, b, c = Value(1100.0), Value(1000.0), Value(999.0)
    machine.known.update(dict.fromkeys([a, b, c]))
    kept = machine.apply_op(c, b, data)  # 999,000
    assert isinstance(kept, Value) and kept.data == 999000.0 and kept in machine.known
    not_kept = machine.apply_op(a, b, data)  # 1,100,000
    assert not isinstance(not_kept, Value) and len(machine.known) == 4


def test_what_the_toolkit_hands_back_cannot_be_changed() -> None:
    from tinygrad_xor.testing.oracles import Answer

    check = check_op(Value(0.5).exp(), 0)
    network = Network(MLP(1, [1], seed=0), ((1.0,),), (0.5,))
    for record, field in ((check, "recorded"), (network, "targets"), (Answer(1.0, ()), "value")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, field, None)


@pytest.mark.parametrize("against", ["sympy", "torch"])
def test_the_oracles_default_tolerance_is_rel_1e_9_and_abs_1e_12_times_m(against: str) -> None:
    # The module docstring: rel 1e-9, abs 1e-12 * M, M the largest number an op makes
    # (at least 1). exp(-1) is 0.37 (M = 1); times 500 it is 184 (M = 184).
    pytest.importorskip(against)

    def broken_exp(v: Value) -> Value:
        return op_result(math.exp(v.data), EXP, v, 2.0 * math.exp(v.data))

    for scale, abs_ in ((1.0, "1e-12"), (500.0, f"{1e-12 * 500 * math.exp(-1.0):.3g}")):
        with pytest.raises(AssertionError) as caught:
            assert_gradients_match(lambda x, s=scale: broken_exp(x) * s, -1.0, against=against)
        assert_reads(
            str(caught.value),
            f"gradients of f do not match {against} at x=-1.0:",
            f"  d f/d x: autograd #, {against} #, relative error 0.5 (allowed: rel 1e-09, "
            f"abs {abs_})",
            BLAMED,
            "  exp at x = -1.0: it records d/dx = #, its own central difference is # (relative "
            "error 0.5)",
        )


@pytest.mark.parametrize("missing", ["sympy", "torch"])
def test_an_oracle_that_is_not_installed_says_how_to_install_it(
    missing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # as if not installed
    needs = {"sympy": "sympy", "torch": "PyTorch"}[missing]
    hint = {"sympy": "pip install sympy", "torch": TORCH_INSTALL_HINT}[missing]
    assert_refused(
        lambda: assert_gradients_match(lambda x: x * 2.0, 0.5, against=missing),
        ModuleNotFoundError,
        f"against='{missing}' needs {needs}, which is not installed: {hint}",
    )
    with pytest.raises(ModuleNotFoundError) as caught:
        assert_gradients_match(lambda x: x * 2.0, 0.5, against=missing)
    assert isinstance(caught.value.__cause__, ImportError)  # the import's own error, kept


def test_an_op_without_a_rule_is_not_checked_on_its_own() -> None:
    # op_result with a bare name: check_op cannot redo it (None), and path_checks leaves
    # it out; the machine refuses it, and says to make it with define_op.
    x = Value(0.5)
    node = op_result(math.cosh(0.5), "cosh", x, math.sinh(0.5))
    assert check_op(node, 0) is None
    root = node * 2.0
    assert [(c.node, c.k) for c in testing.op_checks.path_checks(root, x)] == [(root, 0)]
    machine = GradientMachine()
    machine.known.update(dict.fromkeys(topological_order(node)))
    assert_refused(
        lambda: machine.backward(node, 1.0),
        ValueError,
        "GradientMachine: the op 'cosh' has no rule; make it with define_op.",
    )


@settings(max_examples=1, database=None)
@given(st.data())
def test_the_machine_drops_an_op_that_raised_outside_its_domain(data: Any) -> None:
    root = define_op("root", lambda x: (math.sqrt(x), 0.5 / math.sqrt(x)))
    machine = GradientMachine.with_ops([root])()
    a = Value(-1.0)
    machine.known[a] = None
    dropped = machine.apply_op(a, a, data)  # math.sqrt(-1.0) raises: not a failure
    assert not isinstance(dropped, Value) and list(machine.known) == [a]


def test_the_machine_allows_units_of_the_smallest_float_not_of_one() -> None:
    # A backward() that leaves a speck of 1e-20 where the reference says 0 is caught: the
    # absolute allowance is a few units of 5e-324 (what a subnormal rounds by), no more.
    machine = GradientMachine()
    x = Value(0.5, "x")
    out = x * 2.0
    machine.known.update(dict.fromkeys(topological_order(out)))
    machine.backward(out, 0.0)
    machine.every_grad_is_the_reference()
    x.grad = 1e-20
    assert failure(machine.every_grad_is_the_reference) == (
        "Value(data=0.5, grad=1e-20, label='x') (op ''): grad 1e-20, the reference says 0.0 "
        "(forward mode, independent of backward())"
    )


@settings(max_examples=60, database=None)
@given(networks())
def test_networks_defaults_are_the_documented_bounds(network: Network) -> None:
    # docs/api.md: networks(*, max_inputs=3, max_width=4, max_layers=2, samples=4, ...).
    sizes = [len(layer.neurons) for layer in network.model.layers]
    assert len(sizes) <= 2 and max(sizes[:-1], default=1) <= 4
    assert len(network.inputs[0]) <= 3 and len(network.inputs) <= 4


def test_each_rules_own_derivative_in_the_oracles_arithmetic_is_their_calculus() -> None:
    # sympy_arithmetic() and torch_arithmetic() are the rules' arithmetic in full (public,
    # docs/api.md): a rule's own local derivatives written in them (reciprocal, divide,
    # ...) give what sympy's calculus and torch's autograd give for the rule's value.
    sympy = pytest.importorskip("sympy")
    from tinygrad_xor.rules import BUILT_IN
    from tinygrad_xor.testing.oracles import sympy_arithmetic, torch_arithmetic

    point = (0.7, 1.3)
    for rule in [*BUILT_IN, PowerOp.of(3.0)]:
        symbols = sympy.symbols("u w", positive=True)[: rule.arity]
        out = rule.value(sympy_arithmetic(), *symbols)
        local = rule.local(sympy_arithmetic(), *symbols, out)
        at = dict(zip(symbols, point, strict=False))
        for k, s in enumerate(symbols):
            want = float(sympy.diff(out, s).subs(at))
            assert float(sympy.sympify(local[k]).subs(at)) == pytest.approx(want), (rule, k)
        torch = pytest.importorskip("torch")
        xs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point[: rule.arity]]
        value = rule.value(torch_arithmetic(), *xs)
        grads = torch.autograd.grad(value, xs)
        local = rule.local(torch_arithmetic(), *xs, value)
        for k in range(rule.arity):
            assert float(torch.as_tensor(local[k]).detach()) == pytest.approx(float(grads[k])), (
                rule,
                k,
            )
