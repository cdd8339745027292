"""Maintenance of the JSONL store: ``info``, ``verify``, ``compact``, ``init``, ``reindex``.

Kept apart from the read and write paths of :mod:`gatekeeper.store.jsonl`.
``compact`` never drops a byte it cannot parse: damaged lines and a torn tail
go to ``incidents.jsonl.rejected``. ``verify`` checks every line with the full
model, the manifest's high-water marks, and that every event and artifact
belongs to an incident the store holds. A pending ``.batch-intent.json`` is
reported, not resolved: ``verify`` takes no lock and writes nothing.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from gatekeeper.models import Artifact, Event, Incident
from gatekeeper.store import jsonl_batch, jsonl_index, manifest
from gatekeeper.store.base import Problem
from gatekeeper.store.fileio import atomic_write
from gatekeeper.store.jsonl_reader import ARTIFACTS, EVENTS, INCIDENTS, JsonlReader
from gatekeeper.store.overrides import LOG_FILE, GateOverride
from gatekeeper.store.writes import CompactResult

if TYPE_CHECKING:
    from gatekeeper.store.jsonl import JsonlIncidentStore

Ref = TypeVar("Ref", Event, Artifact)


def count_lines(reader: JsonlReader, name: str) -> int:
    with reader.scan(name) as lines:
        return 0 if lines is None else sum(1 for _ in lines.lines())


def info(store: JsonlIncidentStore, reader: JsonlReader) -> dict[str, Any]:
    directory = store.directory
    files: dict[str, dict[str, int]] = {}
    exists = directory.is_dir()
    for name in (INCIDENTS, EVENTS, ARTIFACTS):
        size = manifest.file_size(directory / name) if exists else 0
        files[name] = {"lines": count_lines(reader, name) if exists else 0, "bytes": size}
    incidents = len(reader.latest_incidents([], lambda *_: True)) if exists else 0
    marks = manifest.read_manifest(directory) if exists else None
    return {
        "backend": store.backend,
        "location": str(directory),
        "incidents": incidents,
        "events": files[EVENTS]["lines"],
        "artifacts": files[ARTIFACTS]["lines"],
        "files": files,
        "manifest": marks is not None,
    }


def verify(directory: Path) -> list[Problem]:
    """Every damaged line, file below its high-water mark and orphan record."""
    found: list[Problem] = []
    checker = JsonlReader(directory, found.append)
    marks = manifest.read_manifest(directory) if directory.is_dir() else None
    if marks is not None:
        found.extend(manifest.shrunk_files(directory, marks))
    ids = {incident.id for incident in checker.records(INCIDENTS, Incident)}
    lines = {
        INCIDENTS: count_lines(checker, INCIDENTS),
        EVENTS: _orphans(checker, directory / EVENTS, Event, ids, found),
        ARTIFACTS: _orphans(checker, directory / ARTIFACTS, Artifact, ids, found),
    }
    if marks is not None:
        for name, mark in marks.files.items():
            if lines.get(name, 0) < mark.records:
                reason = f"truncated: {lines.get(name, 0)} lines < high-water {mark.records}"
                found.append(Problem(str(directory / name), 0, reason))
    for _entry in checker.records(LOG_FILE, GateOverride):  # the break-glass log
        pass
    found.extend(checker.unterminated)
    found.extend(pending_batch(directory))
    return found


PENDING_REASON = (
    "a batch was interrupted or is being written; readers stop where it began, "
    "and the next write (or `store reindex`) completes or undoes it"
)


def pending_batch(directory: Path) -> list[Problem]:
    """A non-empty intent, as one problem (``verify`` is read-only: it reports, never resolves)."""
    if not jsonl_batch.pending(directory):
        return []
    return [Problem(str(directory / jsonl_batch.INTENT), 0, PENDING_REASON, "pending batch")]


def _orphans(
    checker: JsonlReader, path: Path, model: type[Ref], ids: set[str], found: list[Problem]
) -> int:
    """Report records of ``path`` whose incident the store does not hold; count the lines."""
    number = 0
    with checker.scan(path.name) as lines:
        if lines is None:
            return 0
        for offset, line in lines.lines():
            number += 1
            record = checker.parse(lines, offset, line, model)
            if record is not None and record.incident_id not in ids:
                reason = f"orphan: incident {record.incident_id} is not in the store"
                found.append(Problem(str(path), number, reason))
    return number


def compact(store: JsonlIncidentStore, reader: JsonlReader) -> CompactResult:
    """Rewrite ``incidents.jsonl`` keeping the latest version of each id, under the lock.

    Lines that cannot be parsed, and a torn tail, move to ``incidents.jsonl.rejected``
    first (fsynced), so the rewrite never loses a byte.
    """
    directory = store.directory
    store._ensure_directory()
    path = directory / INCIDENTS
    with store.locked():
        jsonl_batch.settle(directory)
        rejected: list[bytes] = []
        latest: dict[str, bytes] = {}
        before = 0
        with reader.scan(INCIDENTS) as lines:
            if lines is not None:
                for offset, line in lines.lines():
                    before += 1
                    incident = reader.parse(lines, offset, line, Incident)
                    if incident is None:
                        if line.strip():
                            rejected.append(line)
                        continue
                    latest.pop(incident.id, None)  # keep the order of latest versions
                    latest[incident.id] = line  # an unterminated last line got its newline
        if rejected:
            _append_rejected(directory / f"{INCIDENTS}.rejected", rejected)
        atomic_write(path, b"".join(latest.values()))
        jsonl_index.rebuild(directory, [INCIDENTS])  # a new file: old facts are void
        if manifest.read_manifest(directory) is not None:
            _rebaseline(directory, reader)  # a legitimate rewrite: the marks start again
    return CompactResult(lines_before=before, lines_after=len(latest))


def _append_rejected(path: Path, rejected: list[bytes]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        os.write(fd, b"".join(rejected))
        os.fsync(fd)
    finally:
        os.close(fd)


def _rebaseline(directory: Path, reader: JsonlReader, created: datetime | None = None) -> None:
    previous = manifest.read_manifest(directory)
    stamp: datetime | str = ""
    if previous is not None:
        stamp = previous.created
    elif created is not None:
        stamp = created
    marks = manifest.baseline(directory, stamp, lambda name: count_lines(reader, name))
    manifest.write_manifest(directory, marks)


def init(store: JsonlIncidentStore, reader: JsonlReader, created: datetime) -> bool:
    """Mark the directory as a store; on an existing one, accept the files as they are.

    Returns whether the store was new (had no manifest).
    """
    store._ensure_directory()
    with store.locked():
        new = manifest.read_manifest(store.directory) is None
        _rebaseline(store.directory, reader, created)
    return new


def reindex(store: JsonlIncidentStore) -> None:
    """Rebuild the sidecar index from the files, under the store lock."""
    store._ensure_directory()
    with store.locked():
        jsonl_index.rebuild(store.directory)
