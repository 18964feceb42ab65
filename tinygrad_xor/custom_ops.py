"""Ops you define: define_op(name, rule) adds an op to the engine from its value and derivative.

    >>> import math
    >>> from tinygrad_xor import Value
    >>> sin = define_op("sin", lambda x: (math.sin(x), math.cos(x)))
    >>> x = Value(0.5, "x")
    >>> y = sin(x) * 2.0
    >>> y.backward()
    >>> x.grad == math.cos(0.5) * 2.0, y.parents[0].op
    (True, 'sin')

The rule gets floats and returns floats: (value, d value/dx) for an op of one input,
(value, d value/dx, d value/dy) for two. Its result is recorded like a built-in op's
(engine.op_result): drawn with its name, backpropagated through the local derivatives
the rule gave. What the rule returns is checked on every call, by the op itself
(rules.RuleOp), which the compiled tape calls too, so a tape replays it bit for bit.
Whether the derivative is right is what tinygrad_xor.testing checks.

To differentiate the op's gradient again (grad of grad, hessian), give its derivative
in Values too, written with ops that have derivatives of their own:

    >>> cos = define_op("cos", lambda x: (math.cos(x), -math.sin(x)), derivative=lambda x: -sin(x))
    >>> sin = define_op("sin", lambda x: (math.sin(x), math.cos(x)), derivative=lambda x: cos(x))
    >>> from tinygrad_xor.derivatives import grad
    >>> grad(grad(sin))(0.5).data == -math.sin(0.5)
    True

Without it, the first derivative works everywhere and a second raises TypeError naming
the op.
"""

from __future__ import annotations

import inspect
import keyword
from collections.abc import Callable

from tinygrad_xor.engine import Value, op_result
from tinygrad_xor.operands import to_float
from tinygrad_xor.rules import BUILT_IN, RuleOp

__all__ = ["define_op", "DefinedOp"]

# The engine's own ops by name: a defined op may not take one (drawings, the tape and
# diagnostics tell ops apart by name).
_ENGINE_OPS = tuple(op for op in BUILT_IN if op.isidentifier())
_INPUT_NAMES = ("x", "y")


class DefinedOp:
    """An op made by define_op: call it on Values or numbers to get a Value.

    `op` is what its results record as their `.op` (a str, its name, holding the rule).
    """

    __slots__ = ("op",)

    def __init__(self, op: RuleOp) -> None:
        self.op = op

    @property
    def name(self) -> str:
        return str(self.op)

    @property
    def arity(self) -> int:
        """How many inputs it takes: 1 or 2."""
        return self.op.arity

    def __call__(self, *inputs: Value | float) -> Value:
        op = self.op
        if len(inputs) != op.arity:
            raise TypeError(
                f"{op}() takes {op.arity} input{'s' if op.arity > 1 else ''} (Values or "
                f"numbers), got {len(inputs)}."
            )
        a = _operand(op, inputs, 0)
        if op.arity == 1:
            value, da = op.evaluate(a.data)
            return op_result(value, op, a, da)
        b = _operand(op, inputs, 1)
        value, da, db = op.evaluate(a.data, b.data)
        return op_result(value, op, a, da, b, db)

    def __repr__(self) -> str:
        inputs = ", ".join(_INPUT_NAMES[: self.arity])
        return f"<op {self.op}({inputs}), made by define_op>"


def _operand(op: RuleOp, inputs: tuple[Value | float, ...], k: int) -> Value:
    x = inputs[k]
    if isinstance(x, Value):
        return x
    names = ", ".join(_INPUT_NAMES[: op.arity])
    where = f"{op}({names})" + (f": {_INPUT_NAMES[k]}" if op.arity > 1 else "")
    return Value(to_float(x, where))  # a number is a constant leaf, as in 2 * x


def define_op(
    name: str,
    rule: Callable[..., object],
    *,
    derivative: Callable[..., object] | None = None,
) -> DefinedOp:
    """A new op from `rule`, which gives its value and local derivative(s) at floats.

    rule(x) -> (value, d value/dx) makes an op of one input; rule(x, y) -> (value,
    d value/dx, d value/dy) an op of two. `name` (an identifier such as "sin") is how
    its nodes are drawn and named in error messages. `derivative(x) -> d value/dx`
    (or `derivative(x, y) -> (d/dx, d/dy)`), written with Values, lets the op's
    gradient be differentiated again: grad of grad, hessian.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(
            f"define_op: name must be an identifier such as 'sin' or 'soft_plus', got "
            f"{name!r}; it names the op's nodes in drawings and messages."
        )
    if keyword.iskeyword(name):  # name(x) would not be Python: Expression.source writes it
        raise ValueError(
            f"define_op: {name!r} is a Python keyword, and the op is written as a call, "
            f"{name}(x), in generated source; give it another name, e.g. '{name}_'."
        )
    if name in _ENGINE_OPS:
        raise ValueError(
            f"define_op: {name!r} is an op of the engine already (Value.{name}); "
            f"give yours another name, e.g. 'my_{name}'."
        )
    if not callable(rule):
        raise TypeError(
            f"define_op({name!r}, rule): rule must be a function of floats, got "
            f"{type(rule).__name__}; e.g. lambda x: (math.sin(x), math.cos(x))."
        )
    arity = _arity(name, rule)
    if derivative is not None:
        if not callable(derivative):
            raise TypeError(
                f"define_op({name!r}, rule, derivative=...): derivative must be a function of "
                f"Values, got {type(derivative).__name__}; e.g. derivative=lambda x: cos(x)."
            )
        if _arity(name, derivative, "derivative") != arity:
            raise TypeError(
                f"define_op({name!r}, rule, derivative=...): the rule takes {arity} "
                f"input{'s' if arity > 1 else ''}, so derivative must take {arity} too."
            )
    return DefinedOp(RuleOp.of(name, rule, arity, derivative))


def _arity(name: str, function: Callable[..., object], what: str = "rule") -> int:
    """How many inputs a rule (or a derivative) takes, from its signature: 1 or 2."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # some builtins do not say
        raise TypeError(
            f"define_op({name!r}, {what}): cannot tell how many inputs {function!r} takes; "
            "wrap it: lambda x: ... for one input, lambda x, y: ... for two."
        ) from None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p.name for p in parameters if p.kind in positional and p.default is p.empty]
    if len(required) not in (1, 2):
        rule = what == "rule"
        returns = "(value, d/dx) or (value, d/dx, d/dy)" if rule else "d/dx or (d/dx, d/dy)"
        raise TypeError(
            f"define_op({name!r}, {what}): the {what} must take 1 {'number' if rule else 'Value'}"
            " (x) or 2 (x, y), "
            f"it takes {len(required)}: ({', '.join(required)}). It returns {returns}."
        )
    return len(required)
