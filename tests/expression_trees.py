"""Random expression trees over every op of the engine, for property-based tests.

A tree is nested tuples: ("x", i) is input i, ("c", value) a constant, and
(op, child, ...) an op. Every op is applied so that its input is in a safe domain
*by construction* -- log(u*u + 1), a / (b*b + 1), relu(u*u + 0.5) -- so a tree is
smooth (no kinks, no singularities) wherever its inputs are, and can be checked
against central differences and symbolic derivatives with no `assume`.

`build(tree, leaves, lib)` evaluates a tree with any backend whose numbers support
+ - * / ** (Value, torch tensors, sympy expressions); `lib` supplies the functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

N_INPUTS = 3
UNARY = ["neg", "exp", "log", "tanh", "sigmoid", "relu+", "relu-", "powr", "rpow", "rdiv", "rsub"]
UNARY += ["powi"]
BINARY = ["add", "sub", "mul", "div", "powv"]
INT_EXPONENTS = [1, 2, 3]
REAL_EXPONENTS = [-2.0, -1.0, -0.5, 0.5, 1.5]
BASES = [0.5, 2.0, 3.0]


@dataclass(frozen=True)
class Lib:
    """The functions a backend needs; arithmetic comes from the numbers' own operators."""

    exp: Callable[[Any], Any]
    log: Callable[[Any], Any]
    tanh: Callable[[Any], Any]
    sigmoid: Callable[[Any], Any]
    relu: Callable[[Any], Any]
    const: Callable[[float], Any]


def build(tree: tuple, leaves: Sequence[Any], lib: Lib) -> Any:
    kind = tree[0]
    if kind == "x":
        return leaves[tree[1]]
    if kind == "c":
        return lib.const(tree[1])
    if kind in BINARY:
        a, b = build(tree[1], leaves, lib), build(tree[2], leaves, lib)
        if kind == "add":
            return a + b
        if kind == "sub":
            return a - b
        if kind == "mul":
            return a * b
        if kind == "div":
            return a / (b * b + 1)
        return (a * a + 1) ** lib.tanh(b)  # powv: a Value exponent, base >= 1
    if kind in ("powi", "powr", "rpow", "rdiv", "rsub"):
        number, child = tree[1], build(tree[2], leaves, lib)
        if kind == "powi":
            return child**number
        if kind == "powr":
            return (child * child + 1) ** number
        if kind == "rpow":
            return number ** lib.tanh(child)
        if kind == "rdiv":
            return number / (child * child + 1)
        return number - child
    u = build(tree[1], leaves, lib)
    if kind == "neg":
        return -u
    if kind == "exp":
        return lib.exp(lib.tanh(u) * 2)  # bounded, so nested exps stay finite
    if kind == "log":
        return lib.log(u * u + 1)
    if kind == "tanh":
        return lib.tanh(u)
    if kind == "sigmoid":
        return lib.sigmoid(u)
    if kind == "relu+":
        return lib.relu(u * u + 0.5)  # always on the sloped side
    if kind == "relu-":
        return lib.relu(-(u * u) - 0.5)  # always on the flat side
    raise ValueError(f"unknown node {kind!r}")


def _extend(children: st.SearchStrategy[tuple]) -> st.SearchStrategy[tuple]:
    numbers = {
        "powi": st.sampled_from(INT_EXPONENTS),
        "powr": st.sampled_from(REAL_EXPONENTS),
        "rpow": st.sampled_from(BASES),
        "rdiv": st.sampled_from([1.0, -2.5]),
        "rsub": st.sampled_from([1.0, -0.5]),
    }
    with_number = [st.tuples(st.just(op), n, children) for op, n in numbers.items()]
    plain_unary = [op for op in UNARY if op not in numbers]
    return st.one_of(
        st.tuples(st.sampled_from(BINARY), children, children),
        st.tuples(st.sampled_from(plain_unary), children),
        *with_number,
    )


small = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False, allow_infinity=False)
variable = st.tuples(st.just("x"), st.integers(0, N_INPUTS - 1))
leaf = st.one_of(variable, st.tuples(st.just("c"), small))
_subtrees = st.recursive(leaf, _extend, max_leaves=12)
# hypothesis favours small trees; joining two at the root gives deeper ones too
trees = st.one_of(_subtrees, st.tuples(st.sampled_from(BINARY), _subtrees, _subtrees))
inputs = st.lists(small, min_size=N_INPUTS, max_size=N_INPUTS)


def value_lib() -> Lib:
    from tinygrad_xor import Value

    return Lib(
        exp=Value.exp,
        log=Value.log,
        tanh=Value.tanh,
        sigmoid=Value.sigmoid,
        relu=Value.relu,
        const=Value,
    )


def op_names(tree: tuple) -> set[str]:
    """The node kinds a tree uses (for checking that the strategy covers every op)."""
    if tree[0] in ("x", "c"):
        return {tree[0]}
    names = {tree[0]}
    for child in tree[1:]:
        if isinstance(child, tuple):
            names |= op_names(child)
    return names
