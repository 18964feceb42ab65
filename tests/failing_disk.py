"""A full disk, for tests: every write to a file in one folder stores half its data, then fails.

`fill_disk(monkeypatch, folder)` replaces `open` (builtins.open and io.open, which
pathlib uses) so that a file opened for writing inside `folder` takes half of what
each write gives it and then raises OSError(ENOSPC), as a full disk does. Files
elsewhere (matplotlib's font cache, the Graphviz renderer's files) open as usual.

A writer that is not atomic leaves the half-written file in place of the old one;
an atomic writer leaves the old file as it was and no temporary file behind.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
from pathlib import Path
from typing import IO, Any

import pytest

__all__ = ["fill_disk"]


class _HalfWrittenFile:
    """Wraps an open file: each write stores the first half of its data, then fails."""

    def __init__(self, file: IO[Any]) -> None:
        self._file = file

    def write(self, data: Any) -> int:
        self._file.write(data[: len(data) // 2])
        self._file.flush()
        raise OSError(errno.ENOSPC, "No space left on device (simulated by the test)")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)

    def __enter__(self) -> _HalfWrittenFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._file.close()


def fill_disk(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """From now until the test ends, writing a file inside `folder` fails half-way."""
    real_open = builtins.open
    full = Path(folder).resolve()

    def open_on_a_full_disk(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        opened = real_open(file, mode, *args, **kwargs)
        writing = any(flag in mode for flag in "wxa+")
        named = isinstance(file, (str, os.PathLike))  # not a file descriptor
        if writing and named and Path(file).resolve().parent == full:
            return _HalfWrittenFile(opened)
        return opened

    monkeypatch.setattr(builtins, "open", open_on_a_full_disk)
    monkeypatch.setattr(io, "open", open_on_a_full_disk)
