"""Gradients of random expression trees against three oracles.

1. float64 central differences (a 5-point stencil);
2. sympy's symbolic derivative, evaluated with 30 significant digits;
3. PyTorch float64 autograd, when torch is installed.

Plus gradcheck-style invariants: zero upstream gradient gives zero gradients, and a
second backward gives exactly twice the leaf grads. The trees (tests/expression_trees.py)
use every op, with inputs kept in safe domains by construction.
"""

import math

import pytest
from expression_trees import N_INPUTS, Lib, build, inputs, op_names, trees, value_lib
from hypothesis import given, settings

from tinygrad_xor import Value

EPS = 2.0**-52


def engine_gradient(tree, xs):
    leaves = [Value(x) for x in xs]
    out = build(tree, leaves, value_lib())
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def engine_value(tree, xs):
    return build(tree, [Value(x) for x in xs], value_lib()).data


def magnitude_of_graph(tree, xs):
    """The largest |data| of any node: the scale of rounding in this tree's arithmetic."""
    from tinygrad_xor.engine import topological_order

    out = build(tree, [Value(x) for x in xs], value_lib())
    return max(abs(v.data) for v in topological_order(out))


def central_difference(tree, xs, i):
    """d f / d x_i by a 5-point stencil; returns (estimate, rounding-error bound)."""
    h = 1e-3 * max(1.0, abs(xs[i]))

    def f(shift):
        moved = list(xs)
        moved[i] = xs[i] + shift
        return engine_value(tree, moved)

    samples = [f(-2 * h), f(-h), f(h), f(2 * h)]
    estimate = (samples[0] - 8 * samples[1] + 8 * samples[2] - samples[3]) / (12 * h)
    rounding = 18 * EPS * max(abs(s) for s in samples) / (12 * h)
    return estimate, rounding


@given(trees, inputs)
def test_gradient_matches_central_differences(tree, xs):
    _, grads = engine_gradient(tree, xs)
    for i in range(N_INPUTS):
        numeric, rounding = central_difference(tree, xs, i)
        # truncation error of the stencil is O(h^4); rounding error is bounded above
        assert math.isclose(grads[i], numeric, rel_tol=1e-6, abs_tol=1e-7 + 100 * rounding), (
            f"d/dx{i}: autograd {grads[i]!r}, central difference {numeric!r}"
        )


def sympy_lib(sympy):
    return Lib(
        exp=sympy.exp,
        log=sympy.log,
        tanh=sympy.tanh,
        sigmoid=lambda u: 1 / (1 + sympy.exp(-u)),
        relu=lambda u: sympy.Piecewise((u, u > 0), (0, True)),
        const=lambda c: sympy.Float(c, 30),
    )


@given(trees, inputs)
def test_gradient_matches_sympy(tree, xs):
    sympy = pytest.importorskip("sympy")
    symbols = sympy.symbols(f"x0:{N_INPUTS}", real=True)
    expr = build(tree, symbols, sympy_lib(sympy))
    at = {s: sympy.Float(x, 30) for s, x in zip(symbols, xs, strict=True)}
    value, grads = engine_gradient(tree, xs)
    scale = max(1.0, magnitude_of_graph(tree, xs))
    exact_value = float(sympy.sympify(expr).evalf(30, subs=at))
    assert math.isclose(value, exact_value, rel_tol=1e-12, abs_tol=1e-12 * scale)
    for i, s in enumerate(symbols):
        exact = float(sympy.diff(expr, s).evalf(30, subs=at))
        assert math.isclose(grads[i], exact, rel_tol=1e-9, abs_tol=1e-12 * scale), (
            f"d/dx{i}: autograd {grads[i]!r}, sympy {exact!r}"
        )


@given(trees, inputs)
def test_gradient_matches_pytorch_float64(tree, xs):
    torch = pytest.importorskip("torch", reason="PyTorch is the third oracle when installed")
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    lib = Lib(
        exp=torch.exp,
        log=torch.log,
        tanh=torch.tanh,
        sigmoid=torch.sigmoid,
        relu=torch.relu,
        const=lambda c: torch.tensor(c, dtype=torch.float64),
    )
    out = build(tree, leaves, lib)
    if out.requires_grad:  # False when the tree is a lone constant
        out.backward()
    value, grads = engine_gradient(tree, xs)
    scale = max(1.0, magnitude_of_graph(tree, xs))
    assert math.isclose(value, out.item(), rel_tol=1e-12, abs_tol=1e-12 * scale)
    for i, leaf in enumerate(leaves):
        theirs = leaf.grad.item() if leaf.grad is not None else 0.0
        assert math.isclose(grads[i], theirs, rel_tol=1e-9, abs_tol=1e-12 * scale), (
            f"d/dx{i}: autograd {grads[i]!r}, torch {theirs!r}"
        )


@given(trees, inputs)
def test_zero_upstream_gradient_gives_zero_gradients(tree, xs):
    leaves = [Value(x) for x in xs]
    build(tree, leaves, value_lib()).backward(0.0)
    assert [leaf.grad for leaf in leaves] == [0.0] * N_INPUTS


@given(trees, inputs)
def test_repeated_backward_gives_exactly_twice(tree, xs):
    leaves = [Value(x) for x in xs]
    out = build(tree, leaves, value_lib())
    out.backward()
    once = [leaf.grad for leaf in leaves]
    out.backward()
    assert [leaf.grad for leaf in leaves] == [2 * g for g in once]


def test_the_trees_cover_every_op():
    from expression_trees import BINARY, UNARY

    seen: set[str] = set()

    @settings(max_examples=500, derandomize=True)  # deterministic: no flaky coverage
    @given(trees)
    def collect(tree):
        seen.update(op_names(tree))

    collect()
    assert set(UNARY) | set(BINARY) <= seen
