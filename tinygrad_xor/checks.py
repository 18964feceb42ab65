"""Argument checks, one per kind, each with its message: a whole number, a choice, a real, a flag.

Every public function of the library checks its arguments with these, so the same
mistake gets the same message everywhere: TypeError for the wrong kind of thing,
ValueError for a number out of range or a name not on the list, each saying what was
received and what is allowed.

    >>> whole_number("epochs", 0)
    Traceback (most recent call last):
    ...
    ValueError: epochs must be a whole number >= 1, got 0.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

__all__ = ["whole_number", "choice", "real_number", "flag", "shown"]


def shown(value: object) -> str:
    """A value as a message shows it: a short repr; a huge int by its size."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**20:
        # repr of a 4000-digit int is slow and unreadable (past 4300 digits it raises)
        return (
            f"a whole number of about {'-' if value < 0 else ''}10**{int(math.log10(abs(value)))}"
        )
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _refusal(what: str, allowed: str, got: str) -> str:
    # Without a name (a command-line option: argparse names it) the message says "expected".
    return f"{what} must be {allowed}, got {got}." if what else f"expected {allowed}, got {got}."


def _received(value: object) -> str:
    """What a TypeError says it got: the type, then the value."""
    return f"{type(value).__name__} {shown(value)}"


def whole_number(what: str, value: object, *, at_least: int = 1, at_most: int | None = None) -> int:
    """`value` as an int: an int or NumPy integer (not a bool) from at_least to at_most."""
    allowed = (
        f"a whole number >= {at_least}"
        if at_most is None
        else f"a whole number from {at_least} to {at_most}"
    )
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(_refusal(what, allowed, _received(value)))
    number = int(value)
    if number < at_least or (at_most is not None and number > at_most):
        raise ValueError(_refusal(what, allowed, shown(number)))
    return number


def choice(what: str, value: object, allowed: Iterable[str]) -> str:
    """`value` if it is one of the names `allowed` (a dict's keys, a tuple)."""
    names = list(allowed)
    if not isinstance(value, str):
        raise TypeError(f"{what} must be one of: {', '.join(names)}; got {_received(value)}.")
    if value not in names:
        raise ValueError(f"unknown {what} {value!r}; choose one of: {', '.join(names)}.")
    return value


def real_number(
    what: str,
    value: object,
    *,
    above: float | None = None,
    at_least: float | None = None,
    below: float | None = None,
    finite: bool = True,
) -> float:
    """`value` as a float: any real number (int, float, Fraction, NumPy scalar), not a bool.

    The range is given by `above` (>), `at_least` (>=) and `below` (<); with
    finite=False, inf and nan pass too (where the range allows them).
    """
    allowed = _interval(above, at_least, below) if finite else "a number"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(_refusal(what, allowed, _received(value)))
    try:
        number = float(value)
    except OverflowError:  # an int past float's range (about 1.8e308)
        raise ValueError(
            _refusal(what, allowed, f"{shown(value)}, too large for a float")
        ) from None
    in_range = (
        (math.isfinite(number) or not finite)
        and (above is None or number > above)
        and (at_least is None or number >= at_least)
        and (below is None or number < below)
    )
    if not in_range:
        raise ValueError(_refusal(what, allowed, shown(value)))
    return number


def _interval(above: float | None, at_least: float | None, below: float | None) -> str:
    low = f"({above:g}" if above is not None else f"[{at_least:g}" if at_least is not None else ""
    if low and below is not None:
        return f"in {low}, {below:g})"
    if above is not None:
        return f"a finite number > {above:g}"
    if at_least is not None:
        return f"a finite number >= {at_least:g}"
    return "a finite number" if below is None else f"a finite number < {below:g}"


def flag(what: str, value: object) -> bool:
    """`value` if it is True or False (not 1, not "no")."""
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be True or False, got {_received(value)}.")
    return value
