"""SGD: stochastic gradient descent, with PyTorch's momentum.

Without momentum, each parameter takes a step down its gradient:

    p = p - lr * grad

With momentum, each parameter keeps a velocity, exactly as torch.optim.SGD
(dampening 0, no Nesterov): the first step starts it at the gradient, later
steps blend in the new gradient:

    velocity = grad                          (first step)
    velocity = momentum * velocity + grad    (every later step)
    p = p - lr * velocity
"""

from __future__ import annotations

from collections.abc import Iterable

from tinygrad_xor.checks import real_number
from tinygrad_xor.engine import Value

__all__ = ["SGD"]


def _with_article(name: str) -> str:
    # "an MLP", "an int", "a Value": an acronym's first letter is read as its name.
    vowel_sound = name[:1] in "AEIOUaeiou" or (name.isupper() and name[:1] in "FHLMNRSX")
    return f"{'an' if vowel_sound else 'a'} {name}"


class SGD:
    """Gradient descent over a fixed list of parameters (leaf Values).

    >>> from tinygrad_xor.engine import Value
    >>> w = Value(1.0)
    >>> w.grad = 0.5
    >>> SGD([w], lr=0.1).step()
    >>> w.data  # 1.0 - 0.1 * 0.5
    0.95
    """

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0) -> None:
        try:
            self.params = list(params)
        except TypeError:  # not iterable: most often the model itself
            name = type(params).__name__
            raise TypeError(
                f"SGD takes model.parameters(), got {_with_article(name)}: "
                "write SGD(model.parameters(), lr=...)."
            ) from None
        for p in self.params:
            if not isinstance(p, Value):
                raise TypeError(
                    f"SGD: params must be Values (e.g. model.parameters()), "
                    f"got {type(p).__name__} {p!r}."
                )
        self.lr = real_number("SGD: lr", lr, above=0.0)
        # momentum >= 1 never forgets a gradient: the velocity grows without bound.
        self.momentum = real_number("SGD: momentum", momentum, at_least=0.0, below=1.0)
        # One velocity per parameter, None until the first step (as PyTorch's momentum_buffer).
        self.velocities: list[float] | None = None

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0 (leaves accumulate across backward calls)."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Move every parameter one step against its gradient."""
        lr = self.lr
        if self.momentum == 0.0:
            for p in self.params:
                p.data -= lr * p.grad
            return
        if self.velocities is None:
            self.velocities = [p.grad for p in self.params]
        else:
            momentum = self.momentum
            self.velocities = [
                momentum * v + p.grad for v, p in zip(self.velocities, self.params, strict=True)
            ]
        for p, v in zip(self.params, self.velocities, strict=True):
            p.data -= lr * v

    def __repr__(self) -> str:
        return f"SGD({len(self.params)} params, lr={self.lr}, momentum={self.momentum})"
