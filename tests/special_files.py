"""Files that are not regular files, made inside a test's tmp_path, and a deadline.

`fifo`, `device` and `unix_socket` make a named pipe, a character device node (the
null device's numbers, 1:3) and a bound Unix socket at a path the test gives, always
inside its tmp_path; `device` skips the test where making device nodes is not
allowed. `deadline(seconds)` turns a call that would block forever (opening a FIFO
with no writer) into a failing test: SIGALRM interrupts it in the main thread.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["fifo", "device", "unix_socket", "deadline"]


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def device(path: Path, kind: int = stat.S_IFCHR) -> Path:
    """A device node at `path` (never under /dev): a character device (/dev/null's numbers),
    or with kind=stat.S_IFBLK a block device (a loop device's); or skip the test."""
    numbers = os.makedev(1, 3) if kind == stat.S_IFCHR else os.makedev(7, 0)
    try:
        os.mknod(path, kind | 0o600, numbers)
    except PermissionError:
        pytest.skip("making a device node needs CAP_MKNOD")
    return path


@contextmanager
def unix_socket(path: Path) -> Iterator[Path]:
    """A Unix socket bound at `path` while the block runs (bound by its short relative name)."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    cwd = os.getcwd()
    os.chdir(path.parent)  # a socket's path is limited to about 100 bytes
    try:
        server.bind(path.name)
    finally:
        os.chdir(cwd)
    try:
        yield path
    finally:
        server.close()


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail (TimeoutError) if the block is still running after `seconds`."""

    def too_late(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s: it blocked")

    previous = signal.signal(signal.SIGALRM, too_late)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
