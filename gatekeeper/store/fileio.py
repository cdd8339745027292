"""Durable file writes shared by the JSONL backend, the replay journal and bundles."""

from __future__ import annotations

import os
from pathlib import Path

from gatekeeper.errors import StoreUnavailable


def ensure_directory(directory: Path) -> None:
    """Create the store directory (and its parents) if it is not there yet."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailable(
            f"cannot create store directory: {exc.strerror}", where=str(directory)
        ) from exc


def append_lines(path: Path, payload: bytes) -> None:
    """Append whole lines to ``path`` with one ``write`` loop, then fsync.

    The caller holds the lock. If the file ends in a torn line (a writer died
    mid-write), a newline is written first so the fragment stays a line of its
    own (reported, skipped) instead of swallowing the first new record.
    """
    if not payload:
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreUnavailable(f"cannot open for writing: {exc.strerror}", where=str(path)) from exc
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            payload = b"\n" + payload
        view = memoryview(payload)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except OSError as exc:
        raise StoreUnavailable(f"write failed: {exc.strerror}", where=str(path)) from exc
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: temp file in the same directory, fsync, rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        fsync_directory(path.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreUnavailable(f"cannot write: {exc.strerror}", where=str(path)) from exc


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
