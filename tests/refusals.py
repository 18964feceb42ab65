"""The one check of a refusal table: the call raises exactly this exception, with this message."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

# (the call, the exception it must raise, its whole message)
Refusal = tuple[Callable[[], object], type[Exception], str]


def each_refusal(table: Sequence[Refusal]) -> pytest.MarkDecorator:
    """Parametrize a test over `table`, one case per refusal, named by its message."""
    return pytest.mark.parametrize("refusal", table, ids=[message[:40] for *_, message in table])


def assert_refused(call: Callable[[], object], kind: type[Exception], message: str) -> None:
    """call() raises `kind` itself (not a subclass), and its message is `message`, whole."""
    with pytest.raises(Exception) as caught:
        call()
    assert type(caught.value) is kind, caught.value
    assert str(caught.value) == message
