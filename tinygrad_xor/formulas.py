"""Rules as text: an op's value and local derivatives, written out as Python or as a formula.

Run a rule (rules.py) on `Expr`s instead of numbers and it builds the expression it
would compute; a dialect writes that out:

    >>> from tinygrad_xor.rules import DIVIDE, TANH
    >>> (local,) = TANH.local(FORMULA.arithmetic, name("x"), name("y"))
    >>> FORMULA.render(local), SAFE.render(local)
    ('1 - y²', '1.0 - y * y')
    >>> _, by_b = DIVIDE.local(SAFE.arithmetic, name("a"), name("b"), name("q"))
    >>> FORMULA.render(by_b), SAFE.render(by_b)
    ('-(q / b)', '-_divide(q, b)')

    SAFE     Python calling the IEEE functions by name (_exp, _log, _pow, _divide,
             _reciprocal): the compiled tape's source, bit for bit the engine's numbers
             (compile.py binds those names to tinygrad_xor.floats, or to Python's faster
             math functions, with the first as the fallback).
    FORMULA  as a learner writes it, for the backprop page: 1 / b, y·log(a), 1 - y².

An Expr is written as the rule wrote it: operands in their order, brackets wherever the
tree needs them, so the source evaluates in the order the engine's floats do.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tinygrad_xor.rules import Arithmetic, RuleOp

__all__ = ["Expr", "Dialect", "name", "PRODUCT", "SAFE", "FORMULA", "statements"]

Number = float | int


class Expr:
    """A number in a rule, as text: what computes it, kept as a tree to be written out.

    kind is "name" (a variable, text in `text`), "const" (a number), an operator
    ("+", "-", "*", "/", "neg", "<", "<=", ">", ">=", "==", "and"), "where", or a
    function of the arithmetic ("exp", "log", "tanh", "power", "divide", "reciprocal").
    """

    __slots__ = ("kind", "args", "text")
    __hash__ = object.__hash__  # `==` builds an Expr; identity keys the shared subtrees

    def __init__(self, kind: str, *args: Any, text: str = "") -> None:
        self.kind = kind
        self.args = args
        self.text = text

    def __add__(self, other: Operand) -> Expr:
        return Expr("+", self, _expr(other))

    def __radd__(self, other: Operand) -> Expr:
        return Expr("+", _expr(other), self)

    def __sub__(self, other: Operand) -> Expr:
        return Expr("-", self, _expr(other))

    def __rsub__(self, other: Operand) -> Expr:
        return Expr("-", _expr(other), self)

    def __mul__(self, other: Operand) -> Expr:
        return Expr("*", self, _expr(other))

    def __rmul__(self, other: Operand) -> Expr:
        return Expr("*", _expr(other), self)

    def __truediv__(self, other: Operand) -> Expr:
        return Expr("/", self, _expr(other))

    def __rtruediv__(self, other: Operand) -> Expr:
        return Expr("/", _expr(other), self)

    def __neg__(self) -> Expr:
        return Expr("neg", self)

    def __lt__(self, other: Operand) -> Expr:
        return Expr("<", self, _expr(other))

    def __le__(self, other: Operand) -> Expr:
        return Expr("<=", self, _expr(other))

    def __gt__(self, other: Operand) -> Expr:
        return Expr(">", self, _expr(other))

    def __ge__(self, other: Operand) -> Expr:
        return Expr(">=", self, _expr(other))

    def __eq__(self, other: object) -> Expr:  # type: ignore[override]
        return Expr("==", self, _expr(other))

    def __and__(self, other: Condition) -> Condition:
        return _both(self, other)

    def __rand__(self, other: Condition) -> Condition:
        return _both(other, self)

    def __repr__(self) -> str:
        return f"Expr({SAFE.render(self)!r})"


Operand = Expr | Number
Condition = Expr | bool


def name(text: str) -> Expr:
    """A variable of the written-out rule: an input, the result, a gradient."""
    return Expr("name", text=text)


def _expr(x: object) -> Expr:
    if isinstance(x, Expr):
        return x
    if isinstance(x, (int, float)):
        return Expr("const", float(x))
    raise TypeError(f"a rule's text: expected an Expr or a number, got {type(x).__name__}.")


def _both(first: Condition, second: Condition) -> Condition:
    """first and second, a known True or False folded away (x ** c knows c)."""
    if isinstance(first, bool):
        return second if first else False
    if isinstance(second, bool):
        return first if second else False
    return Expr("and", first, second)


def _where(condition: Condition, then: Operand, otherwise: Operand) -> Operand:
    if isinstance(condition, bool):  # known when the rule is written: x ** c
        return then if condition else otherwise
    return Expr("where", condition, _expr(then), _expr(otherwise))


def _function(kind: str) -> Callable[..., Expr]:
    return lambda *args: Expr(kind, *(_expr(x) for x in args))


def _defined(op: RuleOp, inputs: tuple[Any, ...]) -> tuple[Expr, ...]:
    """An op of define_op's, as a formula: sin(x), sin'(x); ∂hypot/∂x for two inputs."""
    shown = ", ".join(FORMULA.render(x) for x in inputs)
    value = name(f"{op}({shown})")
    if op.arity == 1:
        return value, name(f"{op}'({shown})")
    return value, name(f"∂{op}/∂x"), name(f"∂{op}/∂y")


def _arithmetic() -> Arithmetic:
    return Arithmetic(
        exp=_function("exp"),
        log=_function("log"),
        tanh=_function("tanh"),
        power=_function("power"),
        divide=_function("divide"),
        reciprocal=_function("reciprocal"),
        where=_where,
        defined=_defined,
    )


# -- writing an Expr out --------------------------------------------------------------

# How tightly each kind binds (Python's order): a lower one inside a higher one is bracketed.
_BINDING = {
    "where": 0,
    "and": 2,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "==": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "neg": 7,
}
_ATOM = 9
PRODUCT = _BINDING["*"]


@dataclass(frozen=True)
class Dialect:
    """How one kind of text writes an Expr: its functions, signs and numbers."""

    functions: dict[str, tuple[str, int]]  # "exp" -> ("exp({0})", binding): see _BINDING
    signs: dict[str, str]  # operator kind -> how it is written ("*" -> " * ")
    number: Callable[[float], str]
    square: bool  # x * x written x²
    arithmetic: Arithmetic

    def render(self, expr: Operand, names: dict[Expr, str] | None = None, binding: int = 0) -> str:
        """expr as text, bracketed unless it binds at least as tightly as `binding` (6:
        a product, safe as a term of a sum); `names` writes those subtrees as variables."""
        return _bracket(self._text(_expr(expr), names or {}), binding)

    def _text(self, expr: Expr, names: dict[Expr, str]) -> tuple[str, int]:
        if expr in names:
            return names[expr], _ATOM
        kind, args = expr.kind, expr.args
        if kind == "name":
            return expr.text, _ATOM
        if kind == "const":
            text = self.number(args[0])
            return text, (7 if text.startswith("-") else _ATOM)
        if kind in self.functions:
            template, binding = self.functions[kind]
            parts = [self._text(x, names) for x in args]
            if binding == _ATOM:  # a call: its arguments need no brackets
                return template.format(*(text for text, _ in parts)), _ATOM
            # Written infix: the operand on the left may bind as tightly, one on the right
            # must bind tighter (a / (b / c)), as Python groups from the left.
            first_left = template.startswith("{0}")
            return template.format(
                *(
                    _bracket(p, binding + (0 if k == 0 and first_left else 1))
                    for k, p in enumerate(parts)
                )
            ), binding
        if kind == "neg":
            inner, binding = self._text(args[0], names)
            return "-" + (inner if binding > _BINDING["neg"] else f"({inner})"), _BINDING["neg"]
        if kind == "where":
            condition, then, otherwise = (self._text(x, names) for x in args)
            return (
                f"{_bracket(then, 1)} if {_bracket(condition, 1)} else {_bracket(otherwise, 0)}",
                0,
            )
        if self.square and kind == "*" and args[0] is args[1] and args[0].kind == "name":
            return f"{args[0].text}²", _ATOM
        left, right = (self._text(x, names) for x in args)
        binding = _BINDING[kind]
        # Left to right, as Python adds: a right operand of the same binding is bracketed.
        return f"{_bracket(left, binding)}{self.signs[kind]}{_bracket(right, binding + 1)}", binding


def _bracket(part: tuple[str, int], at_least: int) -> str:
    text, binding = part
    return text if binding >= at_least else f"({text})"


def _python_number(x: float) -> str:
    """x as Python source that evaluates to exactly x (repr round-trips every float)."""
    if math.isnan(x):
        return "_NAN"
    if math.isinf(x):
        return "_INF" if x > 0.0 else "-_INF"
    return repr(float(x))


def _formula_number(x: float) -> str:
    return f"{x:g}"


_PYTHON_SIGNS = {
    "+": " + ",
    "-": " - ",
    "*": " * ",
    "/": " / ",
    "<": " < ",
    "<=": " <= ",
    ">": " > ",
    ">=": " >= ",
    "==": " == ",
    "and": " and ",
}

# tinygrad_xor.floats' IEEE functions by name: the compiled tape's source.
SAFE = Dialect(
    functions={
        "exp": ("_exp({0})", _ATOM),
        "log": ("_log({0})", _ATOM),
        "tanh": ("tanh({0})", _ATOM),
        "power": ("_pow({0}, {1})", _ATOM),
        "divide": ("_divide({0}, {1})", _ATOM),
        "reciprocal": ("_reciprocal({0})", _ATOM),
    },
    signs=_PYTHON_SIGNS,
    number=_python_number,
    square=False,
    arithmetic=_arithmetic(),
)
FORMULA = Dialect(
    functions={
        "exp": ("exp({0})", _ATOM),
        "log": ("log({0})", _ATOM),
        "tanh": ("tanh({0})", _ATOM),
        "power": ("{0}^{1}", 8),
        "divide": ("{0} / {1}", _BINDING["/"]),
        "reciprocal": ("1 / {0}", _BINDING["/"]),
    },
    signs={**_PYTHON_SIGNS, "*": "·", "<=": " ≤ ", ">=": " ≥ ", "==": " = "},
    number=_formula_number,
    square=True,
    arithmetic=SAFE.arithmetic,
)


# -- statements: a value that needs a branch or a name of its own ---------------------


def statements(target: str, expr: Operand, dialect: Dialect, temporary: str) -> list[str]:
    """`target = expr` as lines of Python (unindented), each subtree used twice computed once.

    A `where` at the top whose branches share a subtree becomes if/else, so the shared
    part is computed in the branch that reads it, and only there (sigmoid's exp(a)).
    """
    expr = _expr(expr)
    shared = _shared(expr)
    if not shared:
        return [f"{target} = {dialect.render(expr)}"]
    if expr.kind == "where":
        condition, then, otherwise = expr.args
        return [
            f"if {dialect.render(condition)}:",
            *("    " + line for line in statements(target, then, dialect, temporary)),
            "else:",
            *("    " + line for line in statements(target, otherwise, dialect, temporary)),
        ]
    names: dict[Expr, str] = {}
    lines = []
    for k, node in enumerate(shared):
        variable = temporary if k == 0 else f"{temporary}_{k}"
        lines.append(f"{variable} = {dialect.render(node, names)}")
        names[node] = variable
    return [*lines, f"{target} = {dialect.render(expr, names)}"]


def _shared(expr: Expr) -> list[Expr]:
    """The subtrees (not names or numbers) that expr uses more than once, each after the
    shared subtrees inside it."""
    uses: dict[Expr, int] = {}
    order: list[Expr] = []  # each node after everything inside it
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    while stack:
        node, finished = stack.pop()
        if finished:
            order.append(node)
            continue
        if node.kind in ("name", "const"):
            continue
        uses[node] = uses.get(node, 0) + 1
        if uses[node] == 1:
            stack.append((node, True))
            stack.extend((x, False) for x in reversed(node.args))
    return [node for node in order if uses[node] > 1]
