"""Writing a file atomically: readers see the old file or the new one, never half of one.

The bytes go to a temporary file in the target's directory (os.replace is atomic
only within one file system), are flushed to disk, and the temporary file then
replaces the target in one step. If anything fails on the way, the temporary file
is removed and the target is left exactly as it was.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["write_atomically"]


def write_atomically(path: str | os.PathLike[str], data: bytes) -> Path:
    """Replace the file at `path` with `data` in one step; return the path."""
    target = Path(path)
    # Exclusive create ("x") with a random name: never clobbers another writer's
    # temporary file, and the new file gets the usual permissions (umask).
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    try:
        with open(temporary, "xb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target
