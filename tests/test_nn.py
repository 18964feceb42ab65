"""Module, Neuron, Layer, MLP: forward pass against NumPy, parameters, inits, state dicts."""

from __future__ import annotations

import itertools
import json
import math
import random

import numpy as np
import pytest
from refusals import Refusal, assert_refused, each_refusal

from tinygrad_xor.engine import Value, topological_order
from tinygrad_xor.nn import MLP, Layer, Neuron, state_names

XOR_INPUTS = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]

NUMPY_ACTIVATIONS = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "linear": lambda z: z,
}


def random_weights(
    rng: np.random.Generator, widths: list[int], bias: bool
) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """One (W, b) per layer, W of shape (fan_out, fan_in), as nn.Linear stores it."""
    return [
        (
            rng.normal(size=(fan_out, fan_in)),
            rng.normal(size=fan_out) if bias else None,
        )
        for fan_in, fan_out in itertools.pairwise(widths)
    ]


def state_from_weights(weights: list[tuple[np.ndarray, np.ndarray | None]]) -> dict[str, float]:
    state = {}
    for i, (w, b) in enumerate(weights):
        for j in range(w.shape[0]):
            for k in range(w.shape[1]):
                state[f"layers.{i}.neurons.{j}.weight.{k}"] = float(w[j, k])
            if b is not None:
                state[f"layers.{i}.neurons.{j}.bias"] = float(b[j])
    return state


def numpy_forward(
    x: np.ndarray,
    weights: list[tuple[np.ndarray, np.ndarray | None]],
    activation: str,
    output_activation: str,
) -> np.ndarray:
    h = x
    for i, (w, b) in enumerate(weights):
        z = h @ w.T + (b if b is not None else 0.0)
        last = i == len(weights) - 1
        h = NUMPY_ACTIVATIONS[output_activation if last else activation](z)
    return h


@pytest.mark.parametrize(
    ("sizes", "activation", "output_activation", "bias"),
    [
        ([5, 1], "sigmoid", "sigmoid", True),  # the learner's network
        ([5, 1], "sigmoid", "sigmoid", False),
        ([8, 4, 1], "tanh", "sigmoid", True),
        ([6, 3], "relu", "linear", True),
        ([3, 2], "linear", "tanh", False),
    ],
)
def test_forward_matches_numpy(
    sizes: list[int], activation: str, output_activation: str, bias: bool
) -> None:
    rng = np.random.default_rng(7)
    weights = random_weights(rng, [2, *sizes], bias)
    model = MLP(2, sizes, activation, output_activation, bias=bias, seed=1)
    model.load_state_dict(state_from_weights(weights))
    inputs = np.vstack([np.array(XOR_INPUTS), rng.normal(size=(20, 2))])
    expected = numpy_forward(inputs, weights, activation, output_activation)
    got = np.array([[y.data for y in model(list(map(float, x)))] for x in inputs])
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)


def test_learner_network_shape_and_parameter_order() -> None:
    model = MLP(2, [5, 1], seed=0)
    assert len(model.parameters()) == (2 + 1) * 5 + (5 + 1) * 1
    names = [name for name, _ in model.named_parameters()]
    assert names[:4] == [
        "layers.0.neurons.0.weight.0",
        "layers.0.neurons.0.weight.1",
        "layers.0.neurons.0.bias",
        "layers.0.neurons.1.weight.0",
    ]
    assert names[-1] == "layers.1.neurons.0.bias"
    # parameters() and named_parameters() list the same Values in the same order
    assert [p for _, p in model.named_parameters()] == model.parameters()
    assert [p.label for p in model.layers[0].neurons[2].parameters()] == [
        "w1.3.1",
        "w1.3.2",
        "b1.3",
    ]


def test_layer_always_returns_a_list() -> None:
    layer = Layer(3, 1)
    out = layer([1.0, 2.0, 3.0])
    assert isinstance(out, list) and len(out) == 1
    # the case micrograd's single-output special case breaks
    model = MLP(2, [4, 1, 1], seed=0)
    assert len(model([0.5, -0.5])) == 1


def test_a_neuron_and_a_layer_default_to_sigmoid_biases_and_torch_init() -> None:
    """Like MLP's own defaults: Neuron(3) and Layer(2, 3) are the explicit builds."""
    neuron = Neuron(3)
    explicit = Neuron(3, "sigmoid", True, init="torch", rng=random.Random(0))
    assert repr(neuron) == "Neuron(3, 'sigmoid', bias=True)"
    assert neuron.state_dict() == explicit.state_dict()
    layer = Layer(2, 3)
    explicit_layer = Layer(2, 3, "sigmoid", True, init="torch", rng=random.Random(0))
    assert repr(layer) == "Layer(2, 3, 'sigmoid', bias=True)"
    assert layer.state_dict() == explicit_layer.state_dict()
    assert len(layer.parameters()) == 3 * (2 + 1)


def test_neuron_without_bias_has_only_weights() -> None:
    neuron = Neuron(3, "linear", bias=False)
    assert neuron.b is None
    assert len(neuron.parameters()) == 3
    for w, value in zip(neuron.w, [1.0, 2.0, 3.0], strict=True):
        w.data = value
    assert neuron([1.0, 1.0, 1.0]).data == 6.0


def test_same_seed_same_weights_and_different_seed_different_weights() -> None:
    a = MLP(2, [5, 1], seed=3).state_dict()
    b = MLP(2, [5, 1], seed=3).state_dict()
    c = MLP(2, [5, 1], seed=4).state_dict()
    assert a == b
    assert a != c


def test_neuron_and_layer_without_an_rng_are_deterministic_too() -> None:
    assert [w.data for w in Neuron(3).w] == [w.data for w in Neuron(3).w]
    layer = Layer(2, 3)
    assert layer.state_dict() == Layer(2, 3).state_dict()
    first, second = (n.w[0].data for n in layer.neurons[:2])
    assert first != second  # one stream per layer: its neurons are not clones


def test_inits_draw_from_their_ranges() -> None:
    torch_init = MLP(2, [5, 1], init="torch", seed=0)
    for layer, fan_in in zip(torch_init.layers, [2, 5], strict=True):
        bound = 1.0 / math.sqrt(fan_in)
        assert all(-bound <= p.data <= bound for p in layer.parameters())
    uniform = MLP(2, [5, 1], init="uniform01", seed=0)
    assert all(0.0 <= p.data < 1.0 for p in uniform.parameters())
    xavier = MLP(2, [5, 1], init="xavier", seed=0)
    assert all(n.b is not None and n.b.data == 0.0 for n in xavier.layers[0].neurons)
    bound = math.sqrt(6.0 / (2 + 5))
    assert all(-bound <= w.data <= bound for n in xavier.layers[0].neurons for w in n.w)
    # drawn, not constant: equal weights would keep the hidden neurons identical forever
    for model in (torch_init, uniform, xavier):
        weights = [w.data for n in model.layers[0].neurons for w in n.w]
        assert len(set(weights)) == len(weights) == 10


def test_zero_grad_clears_every_parameter() -> None:
    model = MLP(2, [5, 1], seed=0)
    model([1.0, 0.0])[0].backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_state_dict_round_trip_through_json() -> None:
    source = MLP(2, [5, 1], seed=11)
    target = MLP(2, [5, 1], seed=12)
    state = json.loads(json.dumps(source.state_dict()))
    target.load_state_dict(state)
    assert target.state_dict() == source.state_dict()
    for x in XOR_INPUTS:
        assert target(x)[0].data == source(x)[0].data


NOT_FIT = "state does not fit this model: missing"
OTHER_SIZES = "Was it saved from a model with other sizes or bias setting?"


def test_load_state_dict_that_does_not_fit_changes_nothing() -> None:
    model = MLP(2, [5, 1], seed=0)
    before = model.state_dict()
    assert_refused(
        lambda: model.load_state_dict(MLP(2, [3, 1], seed=0).state_dict()),
        ValueError,
        f"{NOT_FIT} ['layers.0.neurons.3.weight.0', 'layers.0.neurons.3.weight.1', "
        "'layers.0.neurons.3.bias', 'layers.0.neurons.4.weight.0', "
        f"'layers.0.neurons.4.weight.1']..., unexpected []. {OTHER_SIZES}",
    )
    assert_refused(
        lambda: model.load_state_dict(MLP(2, [5, 1], bias=False, seed=0).state_dict()),
        ValueError,
        f"{NOT_FIT} ['layers.0.neurons.0.bias', 'layers.0.neurons.1.bias', "
        "'layers.0.neurons.2.bias', 'layers.0.neurons.3.bias', 'layers.0.neurons.4.bias']..., "
        f"unexpected []. {OTHER_SIZES}",
    )
    bad = MLP(2, [5, 1], seed=1).state_dict()  # other numbers: a partial load would show
    bad["layers.1.neurons.0.bias"] = "0.5"  # type: ignore[assignment]
    # the key of the bad value is named, so it can be found in the file
    assert_refused(
        lambda: model.load_state_dict(bad),
        TypeError,
        "state['layers.1.neurons.0.bias'] must be a number, got str '0.5'.",
    )
    assert model.state_dict() == before


ACTIVATIONS = "choose one of: sigmoid, tanh, relu, linear."

# Each bad argument of MLP and Neuron: its exception type and its whole message, which
# names the argument and says what is allowed. Neuron checks its own (a Layer makes them).
REFUSALS: list[Refusal] = [
    (
        lambda: MLP(2, [5, 1], "softmax"),
        ValueError,
        f"unknown activation 'softmax'; {ACTIVATIONS}",
    ),
    (
        lambda: MLP(2, [5, 1], output_activation="step"),
        ValueError,
        f"unknown output activation 'step'; {ACTIVATIONS}",
    ),
    (
        lambda: MLP(2, [5, 1], init="zeros"),
        ValueError,
        "unknown init 'zeros'; choose one of: torch, uniform01, xavier.",
    ),
    (lambda: MLP(2, [5, 0]), ValueError, "every layer size must be a whole number >= 1, got 0."),
    (
        lambda: MLP(0, [5, 1]),
        ValueError,
        "nin (inputs of the network) must be a whole number >= 1, got 0.",
    ),
    (
        lambda: MLP(2, [5, 1], bias="no"),  # type: ignore[arg-type]
        TypeError,
        "bias must be True or False, got str 'no'.",
    ),
    (lambda: Neuron(2, "softmax"), ValueError, f"unknown activation 'softmax'; {ACTIVATIONS}"),
    (
        lambda: Neuron(2, init="zeros"),
        ValueError,
        "unknown init 'zeros'; choose one of: torch, uniform01, xavier.",
    ),
    (
        lambda: Neuron(2, bias="no"),  # type: ignore[arg-type]
        TypeError,
        "bias must be True or False, got str 'no'.",
    ),
    # the index of the value that is not a number is named
    (
        lambda: MLP(2, [5, 1]).with_parameters([0.5] * 3 + ["x"] + [0.5] * 17),
        TypeError,
        "values[3] must be a number, got str 'x'.",
    ),
]


@each_refusal(REFUSALS)
def test_each_refusal_has_its_exception_type_and_says_its_whole_message(refusal: Refusal) -> None:
    assert_refused(*refusal)


def test_a_neuron_or_layer_of_no_inputs_or_neurons_says_which() -> None:
    with pytest.raises(ValueError) as caught:
        Neuron(0)
    assert str(caught.value) == "nin (inputs of a neuron) must be a whole number >= 1, got 0."
    with pytest.raises(ValueError) as caught:
        Layer(2, 0)
    assert str(caught.value) == "nout (neurons in a layer) must be a whole number >= 1, got 0."


def test_wrong_number_of_inputs_is_an_error() -> None:
    with pytest.raises(ValueError) as caught:
        MLP(2, [5, 1])([1.0, 2.0, 3.0])
    assert str(caught.value) == "this MLP takes 2 inputs, got 3: [1.0, 2.0, 3.0]."


def test_values_as_inputs_receive_gradients() -> None:
    model = MLP(2, [5, 1], seed=0)
    x1, x2 = Value(0.3, "x1"), Value(0.7, "x2")
    model([x1, x2])[0].backward()
    assert x1.grad != 0.0 and x2.grad != 0.0


@pytest.mark.parametrize(
    ("module", "given", "said"),
    [
        (MLP(2, [5, 1]), 0.5, "an MLP takes a list of 2 inputs (e.g. [0.0, 1.0]), got float 0.5."),
        (MLP(1, [1]), 1, "an MLP takes a list of 1 input (e.g. [0.0]), got int 1."),
        (
            Neuron(3),
            Value(1.0),
            "a Neuron takes a list of 3 inputs (e.g. [0.0, 1.0, 0.0]), "
            "got Value Value(data=1.0, grad=0.0).",
        ),
        # Past three inputs the example says there are more.
        (
            Neuron(4),
            1.0,
            "a Neuron takes a list of 4 inputs (e.g. [0.0, 1.0, 0.0, ...]), got float 1.0.",
        ),
    ],
)
def test_a_bare_number_as_input_says_to_pass_a_list(
    module: MLP | Neuron, given: object, said: str
) -> None:
    with pytest.raises(TypeError) as caught:
        module(given)  # type: ignore[arg-type]
    assert str(caught.value) == said


@pytest.mark.parametrize(
    ("nin", "sizes", "bias"),
    [(2, [5, 1], True), (2, [5, 1], False), (3, [4, 2, 1], True), (1, [1], False)],
)
def test_state_names_are_the_state_dict_keys_in_order(
    nin: int, sizes: list[int], bias: bool
) -> None:
    model = MLP(nin, sizes, bias=bias)
    assert state_names(nin, sizes, bias) == list(model.state_dict())


@pytest.mark.parametrize(
    ("nin", "sizes", "shape"), [(2, [5, 1], "2-5-1"), (3, [8, 4, 2], "3-8-4-2"), (1, [1], "1-1")]
)
def test_shape_gives_the_widths_from_input_to_output(
    nin: int, sizes: list[int], shape: str
) -> None:
    assert MLP(nin, sizes).shape == shape


def test_describe_is_one_line_naming_every_setting() -> None:
    assert MLP(2, [5, 1], seed=0).describe() == (
        "2-5-1 MLP (sigmoid hidden, sigmoid output, biases, torch init, seed 0)"
    )
    model = MLP(3, [4, 2], "relu", "linear", bias=False, init="uniform01", seed=7)
    assert model.describe() == (
        "3-4-2 MLP (relu hidden, linear output, no biases, uniform01 init, seed 7)"
    )
    # no hidden layer: no hidden activation to name
    assert MLP(2, [1], activation="tanh", seed=1).describe() == (
        "2-1 MLP (sigmoid output, biases, torch init, seed 1)"
    )
    assert MLP(2, [1], seed=None).describe().endswith("seed None)")


def test_a_numpy_integer_seed_is_the_same_seed() -> None:
    from_numpy = MLP(2, [5, 1], seed=np.int64(3))  # type: ignore[arg-type]
    plain = MLP(2, [5, 1], seed=3)
    assert from_numpy.state_dict() == plain.state_dict()
    assert from_numpy.seed == 3 and type(from_numpy.seed) is int
    json.dumps({"seed": from_numpy.seed})  # a checkpoint can store it


@pytest.mark.parametrize(
    ("seed", "error", "message"),
    [
        (-1, ValueError, "seed must be a whole number >= 0, got -1."),
        ("abc", TypeError, "seed must be a whole number >= 0, got str 'abc'."),
        (1.5, TypeError, "seed must be a whole number >= 0, got float 1.5."),
        (True, TypeError, "seed must be a whole number >= 0, got bool True."),
    ],
)
def test_a_bad_seed_is_refused_when_the_model_is_built(
    seed: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as caught:
        MLP(2, [5, 1], seed=seed)  # type: ignore[arg-type]
    assert str(caught.value) == message


@pytest.mark.parametrize("init", ["torch", "xavier", "uniform01"])
def test_inits_draw_in_the_documented_order_from_the_documented_ranges(init: str) -> None:
    """One Random(seed) stream, layer by layer, neuron by neuron, weights then bias."""
    rng = random.Random(5)
    expected: list[float] = []
    for fan_in, fan_out in [(2, 5), (5, 1)]:  # the layers of a 2-5-1 network
        for _ in range(fan_out):
            if init == "torch":  # U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the bias too
                bound = 1.0 / math.sqrt(fan_in)
                expected += [rng.uniform(-bound, bound) for _ in range(fan_in + 1)]
            elif init == "xavier":  # Glorot: sqrt(6 / (fan_in + fan_out)), bias 0 undrawn
                bound = math.sqrt(6.0 / (fan_in + fan_out))
                expected += [rng.uniform(-bound, bound) for _ in range(fan_in)] + [0.0]
            else:
                expected += [rng.random() for _ in range(fan_in + 1)]
    assert [p.data for p in MLP(2, [5, 1], init=init, seed=5).parameters()] == expected


def test_a_state_that_does_not_fit_names_the_missing_and_the_unexpected_keys() -> None:
    model = MLP(2, [5, 1], seed=0)
    before = model.state_dict()
    names = list(before)
    extra = {**before, "layers.2.neurons.0.bias": 0.0}
    for state, missing, unexpected in [
        (extra, "[]", "['layers.2.neurons.0.bias']"),
        ({n: before[n] for n in names[5:]}, str(names[:5]), "[]"),  # five: all listed
        ({n: before[n] for n in names[6:]}, str(names[:5]) + "...", "[]"),  # six: five and ...
    ]:
        with pytest.raises(ValueError) as caught:
            model.load_state_dict(state)
        assert str(caught.value) == (
            f"state does not fit this model: missing {missing}, unexpected {unexpected}. "
            "Was it saved from a model with other sizes or bias setting?"
        )
    six_extra = {**before, **{f"extra{k}": 0.0 for k in range(6)}}  # six: five and ...
    assert_refused(
        lambda: model.load_state_dict(six_extra),
        ValueError,
        f"{NOT_FIT} [], unexpected {[f'extra{k}' for k in range(5)]}.... {OTHER_SIZES}",
    )
    assert model.state_dict() == before


def test_a_module_without_bound_says_how_to_compute_with_other_parameters() -> None:
    """with_parameters on a Module with no _bound: a TypeError naming the two ways out."""
    from tinygrad_xor.nn import Module

    class Scale(Module):
        def __init__(self) -> None:
            self.k = Value(2.0)

        def parameters(self) -> list[Value]:
            return [self.k]

    with pytest.raises(TypeError) as caught:
        Scale().with_parameters([3.0])
    assert str(caught.value) == (
        "with_parameters: Scale does not say how to compute with other parameters (MLP, "
        "Layer and Neuron do); write the loss as a function of the weights yourself, or give "
        "your module a _bound(leaves) method."
    )


@pytest.mark.parametrize("sizes", [[], "21", 5])
def test_sizes_that_are_not_a_list_of_widths_are_shown_in_the_error(sizes: object) -> None:
    with pytest.raises(ValueError) as caught:
        MLP(2, sizes)  # type: ignore[arg-type]
    assert str(caught.value) == (f"sizes must be a non-empty list of layer widths, got {sizes!r}.")


@pytest.mark.parametrize("count", [20, 22])
def test_with_parameters_needs_exactly_one_value_per_parameter(count: int) -> None:
    with pytest.raises(ValueError) as caught:
        MLP(2, [5, 1]).with_parameters([0.5] * count)
    assert str(caught.value) == (
        f"with_parameters(values): this MLP has 21 parameters, got {count} values."
    )


def test_wrong_number_of_inputs_says_how_many_are_taken_and_got() -> None:
    with pytest.raises(ValueError) as caught:
        MLP(2, [5, 1])([1.0, 2.0, 3.0])
    assert str(caught.value) == "this MLP takes 2 inputs, got 3: [1.0, 2.0, 3.0]."
    with pytest.raises(ValueError) as caught:
        Neuron(3)([1.0, 2.0])
    assert str(caught.value) == "this neuron takes 3 inputs, got 2."


@pytest.mark.parametrize(
    "module",
    [
        Neuron(3, "tanh", bias=False),
        Neuron(2, "relu"),
        Layer(3, 2, "linear", bias=False),
        Layer(2, 4),
        MLP(3, [4, 2], "relu", "linear", bias=False, init="xavier"),
        MLP(2, [5, 1]),
    ],
)
def test_repr_is_the_call_that_builds_a_module_of_the_same_shape_and_settings(
    module: Neuron | Layer | MLP,
) -> None:
    """eval(repr(m)) builds the same kind of module: same sizes, activations, bias, init."""
    rebuilt = eval(repr(module), {"Neuron": Neuron, "Layer": Layer, "MLP": MLP})
    assert type(rebuilt) is type(module)
    assert list(rebuilt.state_dict()) == list(module.state_dict())  # sizes and bias
    if isinstance(module, MLP):
        assert rebuilt.describe() == module.describe()  # activations and init
    else:
        neurons = module.neurons if isinstance(module, Layer) else [module]
        again = rebuilt.neurons if isinstance(rebuilt, Layer) else [rebuilt]
        assert [n.activation for n in again] == [n.activation for n in neurons]


def test_with_parameters_computes_with_every_value_given_and_leaves_the_model_alone() -> None:
    model = MLP(2, [5, 1], seed=0)
    before = model.state_dict()
    values = [p.data + 0.5 for p in model.parameters()]
    loaded = MLP(2, [5, 1], seed=0)
    loaded.load_state_dict(dict(zip(before, values, strict=True)))
    for x in XOR_INPUTS:
        assert model.with_parameters(values)(x)[0].data == loaded(x)[0].data
    assert model.state_dict() == before


def test_a_state_or_values_of_the_wrong_kind_is_a_type_error() -> None:
    with pytest.raises(TypeError) as caught:
        MLP(2, [5, 1]).load_state_dict([0.5] * 21)  # type: ignore[arg-type]
    assert str(caught.value) == "state must be a dict of name -> float, got list."
    with pytest.raises(TypeError) as caught:
        MLP(2, [1]).with_parameters("abc")
    assert str(caught.value) == (
        "with_parameters(values): expected a list of Values or numbers, one per parameter, got str."
    )


def test_numbers_given_to_an_mlp_become_leaves_named_x1_x2() -> None:
    # The names a drawn graph and the backprop page show for the inputs.
    out = MLP(2, [2, 1], seed=0)([0.3, 0.7])[0]
    inputs = [v for v in topological_order(out) if v.is_leaf and v.data in (0.3, 0.7)]
    assert sorted((v.label, v.data) for v in inputs) == [("x1", 0.3), ("x2", 0.7)]
