"""Atomic batches on the JSONL store: an intent file, rolled forward or back.

A batch (an incident, its events, an artifact's metadata and bytes) spans
several files. Before appending, the writer (holding the store lock) records
its *intent* in ``.batch-intent.json``: for every file it will append to, the
size before (``from``), the size after (``to``) and the sha256 of the bytes in
between, and the artifact files it will publish, and fsyncs it. The file stays
in place between batches, empty: writing an intent is one write and one fsync,
no directory entry to create. An intent cut short by a crash does not parse,
and means nothing was appended yet (appends start only after the fsync). Then
the writer stages the artifact bytes, appends and fsyncs every file, renames
the artifacts into place and empties the intent: that is the commit.

While an intent is there, the batch is *complete* if every file holds exactly
the promised bytes between ``from`` and ``to``; otherwise it is not committed.
A complete batch needs nothing more, which is why emptying the intent after a
commit needs no fsync: an intent that comes back after a power cut is complete
and rolls forward as a no-op. Emptying it after a roll-back is fsynced.

- **Readers** honour it: while a batch is not complete they read each file up
  to ``from`` (:func:`visible_sizes`). So a reader never sees part of a batch,
  whether its writer is still running or was killed.
- **The next writer** (every holder of the store lock, :func:`recover`) rolls a
  complete batch forward (publishes what was not yet published) and an
  incomplete one back (truncates each file to ``from``, removes the staged
  artifact files), then empties the intent.
- **A writer that fails** (a full disk, a refused artifact folder) rolls back
  at once: a refused write writes nothing.

A batch of one record in one file needs no intent: it is one ``write`` of one
line, and a line cut short is a torn tail that readers never serve.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatekeeper._frozen import frozen
from gatekeeper.errors import StoreUnavailable
from gatekeeper.store.fileio import fsync_directory, open_regular

if TYPE_CHECKING:  # artifact files are handled only by writes and by a pending batch
    from gatekeeper.artifacts import ArtifactFile

INTENT = ".batch-intent.json"


@frozen
class Span:
    """What a batch appends to one file: bytes ``[start, end)`` with this sha256."""

    start: int
    end: int
    sha256: str


@frozen
class Intent:
    spans: dict[str, Span]
    files: tuple[ArtifactFile, ...]

    def to_json(self) -> bytes:
        data: dict[str, Any] = {
            "files": {
                name: {"from": s.start, "to": s.end, "sha256": s.sha256}
                for name, s in sorted(self.spans.items())
            },
            "artifacts": [
                {"folder": str(f.folder), "name": f.name, "tmp": f.tmp} for f in self.files
            ],
        }
        return json.dumps(data, indent=2).encode() + b"\n"


def read_intent(directory: Path) -> Intent | None:
    """The pending batch's intent; ``None`` if there is none (or it is unreadable)."""
    try:
        fd = open_regular(directory / INTENT, os.O_RDONLY)
    except (OSError, StoreUnavailable):
        return None
    with os.fdopen(fd, "rb") as handle:
        raw = handle.read()
    if not raw:
        return None
    from gatekeeper.artifacts import ArtifactFile

    try:
        data = json.loads(raw)
        spans = {
            str(name): Span(int(s["from"]), int(s["to"]), str(s["sha256"]))
            for name, s in data["files"].items()
        }
        files = tuple(
            ArtifactFile(Path(a["folder"]), str(a["name"]), b"", str(a["tmp"]))
            for a in data["artifacts"]
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None  # cut short before its fsync: nothing was appended yet
    return Intent(spans, files)


def _write_intent(directory: Path, intent: Intent) -> None:
    path = directory / INTENT
    created = not os.path.lexists(path)
    data = intent.to_json()
    try:
        fd = open_regular(path, os.O_RDWR | os.O_CREAT)
        try:
            os.ftruncate(fd, 0)
            view = memoryview(data)
            while view:
                view = view[os.pwrite(fd, view, len(data) - len(view)) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_directory(directory)
    except OSError as exc:
        raise StoreUnavailable(f"cannot write: {exc.strerror}", where=str(path)) from exc


def _clear_intent(directory: Path, *, durable: bool) -> None:
    path = directory / INTENT
    try:
        fd = open_regular(path, os.O_RDWR)
    except FileNotFoundError:
        return
    except OSError as exc:  # a link or a FIFO planted in its place
        raise StoreUnavailable(f"cannot use: {exc.strerror}", where=str(path)) from exc
    try:
        os.ftruncate(fd, 0)
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def settle(directory: Path) -> None:
    """Make an emptied intent durable: before a rewrite that moves bytes (compact, retention)."""
    if os.path.lexists(directory / INTENT):
        _clear_intent(directory, durable=True)


def _complete(directory: Path, intent: Intent) -> bool:
    """Whether every file holds exactly the bytes the batch promised."""
    for name, span in intent.spans.items():
        try:
            fd = open_regular(directory / name, os.O_RDONLY)
        except (OSError, StoreUnavailable):
            return False
        try:
            if os.fstat(fd).st_size < span.end:
                return False
            data = os.pread(fd, span.end - span.start, span.start)
        finally:
            os.close(fd)
        if hashlib.sha256(data).hexdigest() != span.sha256:
            return False
    return True


def visible_sizes(directory: Path) -> dict[str, int] | None:
    """How much of each file a reader may see; ``None``: all of it (nothing uncommitted)."""
    intent = read_intent(directory)
    if intent is None or _complete(directory, intent):
        return None
    return {name: span.start for name, span in intent.spans.items()}


def pending(directory: Path) -> bool:
    """Whether an intent is there: a batch in flight, or one whose writer died."""
    try:
        return os.lstat(directory / INTENT).st_size > 0
    except FileNotFoundError:
        return False


def recover(directory: Path) -> None:
    """Finish or undo a batch whose writer died (the caller holds the store lock)."""
    if not pending(directory):
        return
    intent = read_intent(directory)
    if intent is not None:
        from gatekeeper.artifacts import discard_files, publish_files

        if _complete(directory, intent):
            publish_files(intent.files)
        else:
            _roll_back(directory, intent.spans)
            discard_files(intent.files)
    _clear_intent(directory, durable=True)


def _roll_back(directory: Path, spans: Mapping[str, Span]) -> None:
    for name, span in spans.items():
        try:
            fd = open_regular(directory / name, os.O_RDWR)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise StoreUnavailable(f"cannot roll back: {exc.strerror}", where=name) from exc
        try:
            if os.fstat(fd).st_size > span.start:
                os.ftruncate(fd, span.start)
                os.fsync(fd)
        finally:
            os.close(fd)


def append_batch(
    directory: Path, payloads: Mapping[str, bytes], files: Sequence[ArtifactFile] = ()
) -> None:
    """Append ``payloads`` (whole lines per file) and publish ``files``, all or nothing.

    The caller holds the store lock and has run :func:`recover`.
    """
    payloads = {name: data for name, data in payloads.items() if data}
    if not payloads and not files:
        return
    from gatekeeper.artifacts import check_folder, discard_files, publish_files
    from gatekeeper.artifacts import stage_files as stage_artifact_files

    for file in files:
        check_folder(file.folder)  # refused before anything is written
    fds: dict[str, int] = {}
    try:
        spans: dict[str, Span] = {}
        for name, payload in payloads.items():
            path = directory / name
            try:
                fd = fds[name] = open_regular(path, os.O_RDWR | os.O_APPEND | os.O_CREAT)
            except OSError as exc:
                raise StoreUnavailable(
                    f"cannot open for writing: {exc.strerror}", where=str(path)
                ) from exc
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                # A last line without newline stays a line of its own.
                payload = b"\n" + payload
            spans[name] = Span(size, size + len(payload), hashlib.sha256(payload).hexdigest())
            payloads = {**payloads, name: payload}
        intent = Intent(spans, tuple(files))
        only = next(iter(payloads.values())) if len(payloads) == 1 and not files else None
        recorded = only is None or only.lstrip(b"\n").count(b"\n") != 1  # more than one line
        if recorded:
            _write_intent(directory, intent)
        try:
            stage_artifact_files(files)
            for name, payload in payloads.items():
                _write_all(fds[name], payload, directory / name)
            publish_files(files)
        except BaseException:
            _roll_back(directory, spans)
            discard_files(files)
            if recorded:
                _clear_intent(directory, durable=True)
            raise
        if recorded:
            _clear_intent(directory, durable=False)  # the commit (see the module docstring)
    finally:
        for fd in fds.values():
            os.close(fd)


def _write_all(fd: int, payload: bytes, path: Path) -> None:
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except OSError as exc:
        raise StoreUnavailable(f"write failed: {exc.strerror}", where=str(path)) from exc
