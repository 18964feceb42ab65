"""tinygrad_xor: a scalar reverse-mode autograd engine that learns XOR.

Importing the package loads only the standard library; numpy, graphviz,
matplotlib and tqdm load where they are used.
"""

from tinygrad_xor.custom_ops import define_op
from tinygrad_xor.data import AND, NAND, OR, XOR, Dataset
from tinygrad_xor.derivatives import grad, gradients, hessian, jvp
from tinygrad_xor.engine import Value
from tinygrad_xor.losses import bce, mse
from tinygrad_xor.nn import MLP, Layer, Module, Neuron
from tinygrad_xor.optim import SGD
from tinygrad_xor.train import History, train

__all__ = [
    "Value",
    "gradients",
    "grad",
    "hessian",
    "jvp",
    "define_op",
    "Module",
    "Neuron",
    "Layer",
    "MLP",
    "mse",
    "bce",
    "SGD",
    "Dataset",
    "XOR",
    "AND",
    "OR",
    "NAND",
    "train",
    "History",
]
__version__ = "0.1.0"
