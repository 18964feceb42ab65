"""IEEE 754 arithmetic where Python raises: exp, log, power, divide and reciprocal.

Python's math module raises OverflowError, ValueError or ZeroDivisionError where C
(and PyTorch float64) return inf or nan. These return what IEEE 754 says:

    exp(1000) = inf        log(0) = -inf         log(-1) = nan
    divide(1, 0) = inf     divide(0, 0) = nan    reciprocal(-0.0) = -inf
    power(0, -1) = inf     power(-8, 0.5) = nan  power(10, 400) = inf

The engine computes its ops with them, and the compiled tape replays the same
functions, so both give the same bits.
"""

from __future__ import annotations

import math

__all__ = ["exp", "log", "power", "divide", "reciprocal"]

_INF = math.inf
_NAN = math.nan


def exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:  # only for large positive x: the true value is past 1.8e308
        return _INF


def log(x: float) -> float:
    if x > 0.0:
        return math.log(x)
    if x == 0.0:
        return -_INF
    return _NAN  # negative, -inf or nan


def reciprocal(x: float) -> float:
    try:
        return 1.0 / x
    except ZeroDivisionError:
        return math.copysign(_INF, x)  # 1/+0 = inf, 1/-0 = -inf


def divide(x: float, y: float) -> float:
    try:
        return x / y
    except ZeroDivisionError:  # x/+-0: inf signed by both signs; 0/0 and nan/0: nan
        if x == 0.0 or x != x:
            return _NAN
        return math.copysign(_INF, x) * math.copysign(1.0, y)


def _is_odd_integer(y: float) -> bool:
    return y.is_integer() and y % 2.0 == 1.0


def power(x: float, y: float) -> float:
    """x ** y as C's pow (and PyTorch) give it."""
    try:
        return math.pow(x, y)
    except OverflowError:  # |x ** y| is past the float range; negative only for x < 0, odd y
        return -_INF if x < 0.0 and _is_odd_integer(y) else _INF
    except ValueError:  # zero to a negative power, or a negative base to a fractional power
        if x == 0.0:
            return math.copysign(_INF, x) if _is_odd_integer(y) else _INF
        return _NAN
