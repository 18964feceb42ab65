"""tinygrad_xor: a scalar reverse-mode autograd engine that learns XOR.

Importing the package loads only the standard library; numpy, graphviz,
matplotlib and tqdm load where they are used.
"""

from tinygrad_xor.engine import Value

__all__ = ["Value"]
__version__ = "0.1.0"
