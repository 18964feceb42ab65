"""Small graphs the tests share: micrograd's neuron, a reused Value, the notebooks' graphs."""

from __future__ import annotations

from tinygrad_xor import MLP, Value


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


def chain_rule() -> tuple[Value, list[Value]]:
    """Notebook 2's neuron: L = (sigmoid(w*x + b) - 1)**2, after backward; and [w, b]."""
    w, x, b = Value(0.5, "w"), Value(2.0, "x"), Value(-0.5, "b")
    z = w * x + b
    z.label = "z"
    y = z.sigmoid()
    y.label = "y"
    loss = (y - 1) ** 2
    loss.label = "L"
    loss.backward()
    return loss, [w, b]


def first_hidden_neuron() -> tuple[Value, list[Value]]:
    """Notebook 3's picture: the first hidden neuron of MLP(2, [5, 1]) on (1, 0), after
    backward; and its parameters."""
    neuron = MLP(2, [5, 1], seed=0).layers[0].neurons[0]
    output = neuron([Value(1.0, "x1"), Value(0.0, "x2")])
    output.backward()
    return output, neuron.parameters()


def one_xor_prediction() -> tuple[Value, list[Value]]:
    """Notebook 3's big picture: the whole 2-5-1 network on (1, 0); and its parameters."""
    model = MLP(2, [5, 1], seed=0)
    (prediction,) = model([1.0, 0.0])
    prediction.backward()
    return prediction, model.parameters()
