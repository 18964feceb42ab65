"""Neurons, layers and the multi-layer perceptron, built from Values.

The learner's network is `MLP(2, [5, 1])`: 2 inputs, 5 hidden sigmoid units,
1 sigmoid output. Each neuron computes

    activation(w1*x1 + w2*x2 + ... + b)

with every weight and the bias a leaf Value, so `loss.backward()` fills in the
gradient of each one. The order of parameters (and of random draws when they are
initialised) is fixed: layer by layer, neuron by neuron, weights then bias.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Self

from tinygrad_xor.checks import choice, flag, real_number, whole_number
from tinygrad_xor.engine import Value

__all__ = [
    "ACTIVATIONS",
    "state_names",
    "INITS",
    "Module",
    "Neuron",
    "Layer",
    "MLP",
]


def _linear(v: Value) -> Value:
    return v


ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "sigmoid": Value.sigmoid,
    "tanh": Value.tanh,
    "relu": Value.relu,
    "linear": _linear,
}


# An initialiser draws one parameter: (rng, fan_in, fan_out, is_bias) -> float.
Initialiser = Callable[[random.Random, int, int, bool], float]


def _init_torch(rng: random.Random, fan_in: int, fan_out: int, is_bias: bool) -> float:
    # PyTorch's nn.Linear default: weights and biases from U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    bound = 1.0 / math.sqrt(fan_in)
    return rng.uniform(-bound, bound)


def _init_uniform01(rng: random.Random, fan_in: int, fan_out: int, is_bias: bool) -> float:
    # The learner's np.random.random: U(0, 1), every weight positive.
    return rng.random()


def _init_xavier(rng: random.Random, fan_in: int, fan_out: int, is_bias: bool) -> float:
    # Glorot & Bengio (2010): keeps the variance of sigmoid/tanh layers steady; biases 0.
    if is_bias:
        return 0.0
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound)


INITS: dict[str, Initialiser] = {
    "torch": _init_torch,
    "uniform01": _init_uniform01,
    "xavier": _init_xavier,
}


def _not_a_list(what: str, nin: int, xs: object) -> str:
    example = [float(i % 2) for i in range(min(nin, 3))]
    more = ", ..." if nin > 3 else ""
    return (
        f"{what} takes a list of {nin} input{'s' if nin > 1 else ''} "
        f"(e.g. {str(example)[:-1]}{more}]), "
        f"got {type(xs).__name__} {xs!r}."
    )


class Module:
    """Something with parameters: they can be listed, zeroed, saved and restored."""

    def parameters(self) -> list[Value]:
        return []

    def named_parameters(self) -> list[tuple[str, Value]]:
        return []

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self) -> dict[str, float]:
        """Every parameter as a plain float, by name (JSON-able)."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, float]) -> None:
        """Set every parameter from `state`. Checks everything first: on error nothing changes."""
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict of name -> float, got {type(state).__name__}.")
        named = self.named_parameters()
        expected = [name for name, _ in named]
        missing = [n for n in expected if n not in state]
        unexpected = [n for n in state if n not in set(expected)]
        if missing or unexpected:
            raise ValueError(
                "state does not fit this model: "
                f"missing {missing[:5]}{'...' if len(missing) > 5 else ''}, "
                f"unexpected {unexpected[:5]}{'...' if len(unexpected) > 5 else ''}. "
                "Was it saved from a model with other sizes or bias setting?"
            )
        values = [real_number(f"state[{name!r}]", state[name], finite=False) for name in expected]
        for (_, p), v in zip(named, values, strict=True):
            p.data = v

    def with_parameters(self, values: Sequence[Value | float]) -> Self:
        """A copy of this module computing with `values` as its parameters (in parameters()
        order; a number becomes a new leaf); this module is left as it was. A loss as a
        function of the weights, to differentiate twice:

        >>> from tinygrad_xor import hessian
        >>> model = MLP(2, [5, 1], seed=0)
        >>> output = lambda *w: model.with_parameters(w)([0.0, 1.0])[0]
        >>> matrix = hessian(output)(*(p.data for p in model.parameters()))
        >>> len(matrix), len(matrix[0])
        (21, 21)
        """
        if isinstance(values, (str, bytes, Value)) or not isinstance(values, Sequence):
            raise TypeError(
                f"with_parameters(values): expected a list of Values or numbers, one per "
                f"parameter, got {type(values).__name__}."
            )
        count = len(self.parameters())
        if len(values) != count:
            raise ValueError(
                f"with_parameters(values): this {type(self).__name__} has {count} parameters, "
                f"got {len(values)} values."
            )
        leaves = [
            v if isinstance(v, Value) else Value(real_number(f"values[{k}]", v, finite=False))
            for k, v in enumerate(values)
        ]
        return self._bound(iter(leaves))

    def _bound(self, leaves: Iterator[Value]) -> Self:
        """A shallow copy taking its parameters, in order, from `leaves`."""
        raise TypeError(
            f"with_parameters: {type(self).__name__} does not say how to compute with other "
            "parameters (MLP, Layer and Neuron do); write the loss as a function of the "
            "weights yourself, or give your module a _bound(leaves) method."
        )


class Neuron(Module):
    """activation(w . x + b): one weight per input and, unless bias=False, a bias."""

    def __init__(
        self,
        nin: int,
        activation: str = "sigmoid",
        bias: bool = True,
        *,
        init: str = "torch",
        rng: random.Random | None = None,
        fan_out: int = 1,
        name: str = "",
    ) -> None:
        nin = whole_number("nin (inputs of a neuron)", nin)
        bias = flag("bias", bias)
        choice("activation", activation, ACTIVATIONS)
        choice("init", init, INITS)
        rng = rng if rng is not None else random.Random(0)  # same call, same weights
        draw = INITS[init]
        self.activation = activation
        self._activate = ACTIVATIONS[activation]
        self.w = [
            Value(draw(rng, nin, fan_out, False), label=f"w{name}.{i + 1}" if name else "")
            for i in range(nin)
        ]
        self.b = Value(draw(rng, nin, fan_out, True), label=f"b{name}") if bias else None

    def __call__(self, xs: Sequence[Value | float]) -> Value:
        try:
            n_inputs = len(xs)
        except TypeError:  # a bare number: say so (a try costs nothing on the hot path)
            raise TypeError(_not_a_list("a Neuron", len(self.w), xs)) from None
        if n_inputs != len(self.w):
            raise ValueError(f"this neuron takes {len(self.w)} inputs, got {n_inputs}.")
        pairs = zip(self.w, xs, strict=True)
        w, x = next(pairs)
        total = w * x
        for w, x in pairs:  # w1*x1 + w2*x2 + ... (one pass: this is the hot path)
            total = total + w * x
        if self.b is not None:
            total = total + self.b
        return self._activate(total)

    def parameters(self) -> list[Value]:
        return self.w + ([self.b] if self.b is not None else [])

    def _bound(self, leaves: Iterator[Value]) -> Self:
        bound = copy.copy(self)
        bound.w = [next(leaves) for _ in self.w]
        bound.b = next(leaves) if self.b is not None else None
        return bound

    def named_parameters(self) -> list[tuple[str, Value]]:
        names = _neuron_names(len(self.w), self.b is not None)
        return list(zip(names, self.parameters(), strict=True))

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, {self.activation!r}, bias={self.b is not None})"


class Layer(Module):
    """nout neurons reading the same inputs. Always returns a list, even of one."""

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "sigmoid",
        bias: bool = True,
        *,
        init: str = "torch",
        rng: random.Random | None = None,
        name: str = "",
    ) -> None:
        nout = whole_number("nout (neurons in a layer)", nout)
        rng = rng if rng is not None else random.Random(0)  # same call, same weights
        self.neurons = [
            Neuron(
                nin,
                activation,
                bias,
                init=init,
                rng=rng,
                fan_out=nout,
                name=f"{name}.{j + 1}" if name else "",
            )
            for j in range(nout)
        ]

    def __call__(self, xs: Sequence[Value | float]) -> list[Value]:
        return [neuron(xs) for neuron in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for neuron in self.neurons for p in neuron.parameters()]

    def _bound(self, leaves: Iterator[Value]) -> Self:
        bound = copy.copy(self)
        bound.neurons = [neuron._bound(leaves) for neuron in self.neurons]
        return bound

    def named_parameters(self) -> list[tuple[str, Value]]:
        first = self.neurons[0]
        names = _layer_names(len(first.w), len(self.neurons), first.b is not None)
        return list(zip(names, self.parameters(), strict=True))

    def __repr__(self) -> str:
        n = self.neurons[0]
        return f"Layer({len(n.w)}, {len(self.neurons)}, {n.activation!r}, bias={n.b is not None})"


class MLP(Module):
    """Layers of neurons: MLP(2, [5, 1]) is 2 inputs -> 5 hidden -> 1 output.

    >>> model = MLP(2, [5, 1], seed=0)
    >>> [round(y.data, 6) for y in model([0.0, 1.0])]
    [0.613976]
    >>> len(model.parameters())  # (2 + 1) * 5 + (5 + 1) * 1
    21
    """

    def __init__(
        self,
        nin: int,
        sizes: Sequence[int],
        activation: str = "sigmoid",
        output_activation: str = "sigmoid",
        bias: bool = True,
        init: str = "torch",
        seed: int | None = 0,
    ) -> None:
        nin = whole_number("nin (inputs of the network)", nin)
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or not sizes:
            raise ValueError(f"sizes must be a non-empty list of layer widths, got {sizes!r}.")
        sizes = [whole_number("every layer size", n) for n in sizes]
        bias = flag("bias", bias)
        choice("activation", activation, ACTIVATIONS)
        choice("output activation", output_activation, ACTIVATIONS)
        choice("init", init, INITS)
        if seed is not None:  # None: a different network each time
            seed = whole_number("seed", seed, at_least=0)
        rng = random.Random(seed)
        widths = [nin, *sizes]
        self.nin = nin
        self.sizes = sizes
        self.activation = activation
        self.output_activation = output_activation
        self.bias = bias
        self.init = init
        self.seed = seed
        self.layers = [
            Layer(
                widths[i],
                widths[i + 1],
                activation if i < len(sizes) - 1 else output_activation,
                bias,
                init=init,
                rng=rng,
                name=str(i + 1),
            )
            for i in range(len(sizes))
        ]
        self._input_labels = [f"x{i + 1}" for i in range(nin)]

    def __call__(self, xs: Sequence[Value | float]) -> list[Value]:
        try:
            n_inputs = len(xs)
        except TypeError:  # a bare number: say so (a try costs nothing on the hot path)
            raise TypeError(_not_a_list("an MLP", self.nin, xs)) from None
        if n_inputs != self.nin:
            raise ValueError(f"this MLP takes {self.nin} inputs, got {n_inputs}: {list(xs)!r}.")
        # One leaf per input, shared by every neuron of the first layer.
        values: list[Value] = [
            x if isinstance(x, Value) else Value(x, label)
            for x, label in zip(xs, self._input_labels, strict=True)
        ]
        for layer in self.layers:
            values = layer(values)
        return values

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def _bound(self, leaves: Iterator[Value]) -> Self:
        bound = copy.copy(self)
        bound.layers = [layer._bound(leaves) for layer in self.layers]
        return bound

    def named_parameters(self) -> list[tuple[str, Value]]:
        names = state_names(self.nin, self.sizes, self.bias)
        return list(zip(names, self.parameters(), strict=True))

    @property
    def shape(self) -> str:
        """The widths from input to output: "2-5-1"."""
        return "-".join(str(width) for width in [self.nin, *self.sizes])

    def describe(self) -> str:
        """One line for people: "2-5-1 MLP (sigmoid output, biases, torch init, seed 0)"."""
        hidden = f"{self.activation} hidden, " if len(self.sizes) > 1 else ""
        bias = "biases" if self.bias else "no biases"
        return (
            f"{self.shape} MLP ({hidden}{self.output_activation} output, {bias}, "
            f"{self.init} init, seed {self.seed})"
        )

    def __repr__(self) -> str:
        return (
            f"MLP({self.nin}, {self.sizes}, activation={self.activation!r}, "
            f"output_activation={self.output_activation!r}, bias={self.bias}, init={self.init!r})"
        )


# -- parameter names: "layers.{i}.neurons.{j}.weight.{k}", spelled here and nowhere else --


def _neuron_names(nin: int, bias: bool) -> list[str]:
    return [f"weight.{k}" for k in range(nin)] + (["bias"] if bias else [])


def _layer_names(nin: int, nout: int, bias: bool) -> list[str]:
    return [f"neurons.{j}.{name}" for j in range(nout) for name in _neuron_names(nin, bias)]


def state_names(nin: int, sizes: Sequence[int], bias: bool) -> list[str]:
    """The keys of MLP(nin, sizes, bias=bias).state_dict(), in order, without building it.

    Weight k of neuron j in layer i is "layers.{i}.neurons.{j}.weight.{k}", its bias
    "layers.{i}.neurons.{j}.bias"; checkpoint, manual and torch_bridge ask here.

    >>> state_names(2, [1], bias=True)
    ['layers.0.neurons.0.weight.0', 'layers.0.neurons.0.weight.1', 'layers.0.neurons.0.bias']
    """
    widths = [nin, *sizes]
    return [
        f"layers.{i}.{name}"
        for i in range(len(sizes))
        for name in _layer_names(widths[i], widths[i + 1], bias)
    ]
