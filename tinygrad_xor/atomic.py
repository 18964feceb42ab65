"""Files the library writes and reads: atomically, through symlinks, never onto a device.

Writing: `check_target(path)` refuses, before any work is done, a path that is a
directory, a device, a FIFO or a socket, or whose folder is missing (unless the writer
makes it: make_folders=True). `write_atomically` then writes the bytes to a temporary
file beside the real target (a symlink is followed, so the link survives and its target
is updated), flushes them to disk, gives them the old file's permission bits, and
replaces the target in one step: readers see the old file or the new one, never half of
one, and a failure leaves the old file as it was.

Reading: `read_limited(path, limit)` reads a regular file of at most `limit` bytes and
refuses a FIFO (which would block) or a device (/dev/zero never ends) before reading.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

__all__ = ["TargetError", "check_target", "check_folder", "write_atomically", "read_limited"]


class TargetError(ValueError):
    """A path that cannot be written (or read) as a regular file; the message says why."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def check_target(
    path: str | os.PathLike[str], *, make_folders: bool = False, example: str = "out/model.json"
) -> Path:
    """The real file `path` names (symlinks followed), once it can be replaced by a file.

    make_folders: a missing folder is fine (the writer creates it), if nothing in its
    place is a file. example: a name of the kind of file written, for the advice.
    """
    given = os.fspath(path)
    if not given or given.endswith(os.sep):
        raise TargetError(f"{given!r} is not a file name; give one, like {example}.")
    target = Path(os.path.realpath(given))
    try:
        mode = os.stat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):  # no such file, or a file on the way
        mode = None
    if mode is None:
        if target.parent.is_dir():
            return target
        _refuse_a_file_on_the_way(given, target.parent)
        if not make_folders:
            raise TargetError(
                f"{given}: the directory {Path(given).parent} does not exist; create it first."
            )
        return target
    if not stat.S_ISREG(mode):
        fix = "give a file name" if stat.S_ISDIR(mode) else "give the path of a regular file"
        raise TargetError(f"{given} is {_kind(mode)}; {fix}.")
    return target


def check_folder(path: str | os.PathLike[str]) -> Path:
    """`path` as a folder to write files into: an existing directory, or a new one's name."""
    folder = Path(os.path.realpath(os.fspath(path) or "."))
    if folder.exists() and not folder.is_dir():
        raise TargetError(f"{os.fspath(path)} is a file; give a directory.")
    _refuse_a_file_on_the_way(os.fspath(path), folder)
    return folder


def _refuse_a_file_on_the_way(given: str, folder: Path) -> None:
    """A folder still to be made: the nearest part of it that exists must be a directory."""
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise TargetError(f"cannot write {given}: {existing} is a file, not a folder.")


def write_atomically(
    path: str | os.PathLike[str], data: bytes, *, make_folders: bool = False
) -> Path:
    """Replace the file at `path` (through a symlink: its target) with `data`; return it.

    make_folders: create the missing folders of `path` first.
    """
    target = check_target(path, make_folders=make_folders)
    if make_folders:
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None  # a new file: the usual permissions (umask)
    # A short random name: never another writer's, and within the name-length limit
    # whatever the target's own name.
    temporary = target.with_name(f".tinygrad-xor-{secrets.token_hex(6)}.tmp")
    try:
        with open(temporary, "xb") as file:
            file.write(data)
            file.flush()
            if mode is not None:
                os.fchmod(file.fileno(), mode)
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:  # Ctrl-C too: no temporary file is left behind
        temporary.unlink(missing_ok=True)
        raise
    return target


def read_limited(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file at `path`, if there are at most `limit` of them."""
    # O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever.
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    # Checked before fdopen, which raises for a directory and leaves the descriptor open.
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise TargetError(f"{os.fspath(path)} is {_kind(info.st_mode)}, not a file to read.")
        if info.st_size > limit:
            raise TargetError(
                f"{os.fspath(path)} is {info.st_size} bytes, more than the {limit} a file may have."
            )
    except BaseException:
        os.close(descriptor)
        raise
    with os.fdopen(descriptor, "rb") as file:
        data = file.read(limit + 1)
    if len(data) > limit:  # it grew while being read
        raise TargetError(f"{os.fspath(path)} is more than the {limit} bytes a file may have.")
    return data
