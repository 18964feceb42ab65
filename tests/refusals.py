"""The one check of a refusal table: the call raises exactly this exception, with this message."""

from __future__ import annotations

from collections.abc import Callable

import pytest


def assert_refused(call: Callable[[], object], kind: type[Exception], message: str) -> None:
    """call() raises `kind` itself (not a subclass), and its message is `message`, whole."""
    with pytest.raises(Exception) as caught:
        call()
    assert type(caught.value) is kind, caught.value
    assert str(caught.value) == message
