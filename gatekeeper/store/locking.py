"""An exclusive inter-process lock on a file (``flock``), held for a ``with`` block."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gatekeeper.errors import StoreUnavailable


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Block until this process holds the exclusive lock on ``path``.

    ``flock`` locks belong to the open file description, so the lock is released
    when the block ends or the process dies, never left behind by a crash.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise StoreUnavailable(f"cannot open lock file: {exc.strerror}", where=str(path)) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
