"""To PyTorch and back: the same weights in a torch nn.Sequential and in our MLP.

    to_torch(MLP(2, [5, 1]))  ->  nn.Sequential(Linear(2, 5), Sigmoid(), Linear(5, 1), Sigmoid())
    from_torch(that module)   ->  MLP(2, [5, 1]) with the same weights

Neuron j of layer i holds row j of the i-th Linear's weight (`weight[j, k]` is its
weight from input k) and `bias[j]`. The road for a learner who outgrows a scalar
engine: train here, continue in PyTorch, or bring a PyTorch model back to look
inside it. torch is imported only inside these functions.
"""

from __future__ import annotations

from typing import Any

from tinygrad_xor.checks import whole_number
from tinygrad_xor.nn import MLP

__all__ = ["TORCH_INSTALL_HINT", "TORCH_MAX_SEED", "to_torch", "from_torch", "learner_torch_model"]

TORCH_INSTALL_HINT = "pip install torch==2.13.0"
# torch.manual_seed takes a seed that fits in 64 bits.
TORCH_MAX_SEED = 2**64 - 1

# Our activation name -> the torch module class name, and back.
_TORCH_ACTIVATIONS = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "ReLU", "linear": "Identity"}
_OUR_ACTIVATIONS = {torch_name: ours for ours, torch_name in _TORCH_ACTIVATIONS.items()}


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as error:
        raise ModuleNotFoundError(
            f"PyTorch is needed to convert to or from torch modules, and it is not installed: "
            f"run `{TORCH_INSTALL_HINT}` (the version this project is tested with)."
        ) from error
    return torch


def _torch_dtype(torch: Any, dtype: object) -> Any:
    if isinstance(dtype, torch.dtype):
        chosen = dtype
    elif dtype in ("float64", "float32"):
        chosen = getattr(torch, str(dtype))
    else:
        raise ValueError(
            f"dtype must be 'float64', 'float32' or a torch floating dtype, got {dtype!r}."
        )
    if not chosen.is_floating_point:
        raise ValueError(f"dtype must be a floating point type, got {chosen}.")
    return chosen


def to_torch(mlp: MLP, dtype: object = "float64") -> Any:
    """A torch nn.Sequential computing the same function as `mlp`, holding its weights.

    dtype: "float64" (default: the engine's own precision), "float32", or a torch dtype.
    """
    torch = _import_torch()
    if not isinstance(mlp, MLP):
        raise TypeError(f"to_torch expects an MLP, got {type(mlp).__name__}.")
    torch_dtype = _torch_dtype(torch, dtype)
    modules = []
    nin = mlp.nin
    for i, layer in enumerate(mlp.layers):
        nout = len(layer.neurons)
        linear = torch.nn.Linear(nin, nout, bias=mlp.bias, dtype=torch_dtype)
        weight = [[w.data for w in neuron.w] for neuron in layer.neurons]
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(weight, dtype=torch.float64))
            if mlp.bias:
                bias = [neuron.b.data if neuron.b is not None else 0.0 for neuron in layer.neurons]
                linear.bias.copy_(torch.tensor(bias, dtype=torch.float64))
        modules.append(linear)
        activation = mlp.output_activation if i == len(mlp.layers) - 1 else mlp.activation
        modules.append(getattr(torch.nn, _TORCH_ACTIVATIONS[activation])())
        nin = nout
    return torch.nn.Sequential(*modules)


def _unsupported(index: int, module: object) -> ValueError:
    supported = "Linear, " + ", ".join(_OUR_ACTIVATIONS)
    return ValueError(
        f"from_torch: module {index} is {module!r}, which an MLP cannot hold. "
        f"Supported: an nn.Sequential of {supported}, each Linear followed by at most one "
        "activation."
    )


def from_torch(module: Any) -> MLP:
    """An MLP with the weights of `module`, an nn.Sequential of Linear layers and activations.

    Every Linear must have a bias, or none; hidden layers must share one activation
    (an MLP has one for the hidden layers and one for the output). Weights are copied
    as float64 (float32 weights convert exactly).
    """
    torch = _import_torch()
    if not isinstance(module, torch.nn.Sequential):
        raise TypeError(
            f"from_torch expects a torch nn.Sequential, got {type(module).__name__}. "
            "Wrap the layers: nn.Sequential(nn.Linear(2, 5), nn.Sigmoid(), ...)."
        )
    activation_of = {getattr(torch.nn, name): ours for name, ours in _OUR_ACTIVATIONS.items()}
    linears: list[Any] = []
    activations: list[str] = []
    for index, child in enumerate(module):
        if isinstance(child, torch.nn.Linear):
            if linears and len(activations) < len(linears):
                activations.append("linear")  # two Linears in a row: no activation between
            if linears and child.in_features != linears[-1].out_features:
                raise ValueError(
                    f"from_torch: module {index} ({child!r}) takes {child.in_features} inputs "
                    f"but the layer before gives {linears[-1].out_features}."
                )
            linears.append(child)
        elif type(child) in activation_of:
            if len(activations) != len(linears) - 1:
                raise _unsupported(index, child)  # before any Linear, or a second activation
            activations.append(activation_of[type(child)])
        else:
            raise _unsupported(index, child)
    if not linears:
        raise ValueError("from_torch: the Sequential has no Linear layer.")
    if len(activations) < len(linears):
        activations.append("linear")  # ends on a Linear
    hidden_activations = set(activations[:-1])
    if len(hidden_activations) > 1:
        raise ValueError(
            f"from_torch: the hidden layers use different activations {activations[:-1]}; "
            "an MLP has one activation for all hidden layers."
        )
    with_bias = [linear.bias is not None for linear in linears]
    if len(set(with_bias)) > 1:
        raise ValueError(
            f"from_torch: some Linear layers have a bias and some do not ({with_bias}); "
            "an MLP has biases everywhere or nowhere."
        )

    mlp = MLP(
        linears[0].in_features,
        [linear.out_features for linear in linears],
        activation=activations[0] if len(activations) > 1 else "sigmoid",
        output_activation=activations[-1],
        bias=with_bias[0],
    )
    # Neuron j of layer i takes row j of the i-th Linear (see the module docstring).
    for layer, linear in zip(mlp.layers, linears, strict=True):
        weight = linear.weight.detach().to(torch.float64).tolist()
        bias = linear.bias.detach().to(torch.float64).tolist() if with_bias[0] else None
        for j, neuron in enumerate(layer.neurons):
            for w, number in zip(neuron.w, weight[j], strict=True):
                w.data = number
            if neuron.b is not None and bias is not None:
                neuron.b.data = bias[j]
    return mlp


def learner_torch_model(seed: int = 42, hidden: int = 5) -> Any:
    """The learner's PyTorch network, as their code builds it (float32, PyTorch's init).

    torch.manual_seed(seed), then nn.Sequential(Linear(2, hidden), Sigmoid(),
    Linear(hidden, 1), Sigmoid()). Note: this seeds torch's global generator, as their
    code does. `from_torch(learner_torch_model())` gives the same start as an MLP.
    """
    torch = _import_torch()
    hidden = whole_number("hidden", hidden)
    torch.manual_seed(whole_number("seed", seed, at_least=0, at_most=TORCH_MAX_SEED))
    return torch.nn.Sequential(
        torch.nn.Linear(2, hidden),
        torch.nn.Sigmoid(),
        torch.nn.Linear(hidden, 1),
        torch.nn.Sigmoid(),
    )
