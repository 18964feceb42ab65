"""Small graphs the backprop stepper's tests share: micrograd's neuron and a reused Value."""

from __future__ import annotations

from tinygrad_xor import Value


def micrograd_neuron() -> tuple[Value, list[Value]]:
    """micrograd's lecture neuron: o = tanh(x1*w1 + x2*w2 + b), o = 0.7071."""
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2, b = Value(-3.0, "w1"), Value(1.0, "w2"), Value(6.8813735870195432, "b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, [x1, x2, w1, w2, b, n, o]


def reused() -> tuple[Value, Value, Value]:
    """b = a + a; c = b * b: a feeds one op twice, b feeds one op twice."""
    a = Value(3.0, "a")
    b = a + a
    b.label = "b"
    c = b * b
    c.label = "c"
    return a, b, c
