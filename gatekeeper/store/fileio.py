"""Durable file writes shared by the JSONL backend, the replay journal and bundles."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from gatekeeper.errors import StoreUnavailable


def ensure_directory(directory: Path) -> None:
    """Create the store directory (and its parents) if it is not there yet.

    A store directory that is a symlink is refused: writes must not land
    wherever a planted link points.
    """
    refuse_symlinked(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailable(
            f"cannot create store directory: {exc.strerror}", where=str(directory)
        ) from exc


def refuse_symlinked(directory: Path) -> None:
    if directory.is_symlink():
        raise StoreUnavailable(
            "store directory is a symlink; point --store-dir at the real directory",
            where=str(directory),
        )


def open_regular(path: Path, flags: int, mode: int = 0o644) -> int:
    """``os.open`` that never follows a symlink and refuses anything but a regular file.

    ``O_NONBLOCK`` keeps a FIFO planted in place of a store file from blocking
    the open; it is refused before a byte is read.
    """
    fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise StoreUnavailable("not a regular file; refusing to use it", where=str(path))
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def remove_stray_temp_files(directory: Path) -> None:
    """Remove temp files a killed writer left (the caller holds the store lock)."""
    for stray in directory.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            if stray.is_file() and not stray.is_symlink() or stray.is_symlink():
                stray.unlink()


def append_lines(path: Path, payload: bytes) -> None:
    """Append whole lines to ``path`` with one ``write`` loop, then fsync.

    The caller holds the lock. If the file ends in a torn line (a writer died
    mid-write), a newline is written first so the fragment stays a line of its
    own (reported, skipped) instead of swallowing the first new record.
    """
    if not payload:
        return
    try:
        fd = open_regular(path, os.O_RDWR | os.O_APPEND | os.O_CREAT)
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


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data``: temp file in the same directory, fsync, rename.

    ``durable=False`` skips both fsyncs: for files whose loss in a crash is
    harmless (the manifest: an older mark is a laxer one, never a false alarm).
    """
    tmp: Path | None = None
    try:
        # mkstemp: O_CREAT|O_EXCL with an unpredictable name, so a planted link is never followed.
        import tempfile  # writes only: keeps tempfile and shutil off the read path

        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        tmp = Path(name)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
        if durable:
            fsync_directory(path.parent)
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise StoreUnavailable(f"cannot write: {exc.strerror}", where=str(path)) from exc


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
