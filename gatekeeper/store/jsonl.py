"""The JSONL backend: three append-only files in one directory (SPEC §4).

``incidents.jsonl`` holds every version of every incident (the last line for an
id wins); ``events.jsonl`` and ``artifacts.jsonl`` are append-only. Writers take
an exclusive ``flock`` on ``.lock`` in the directory, append whole lines with a
single ``write`` and ``fsync`` before returning. Readers take no lock: they read
complete lines only and skip (and report) anything they cannot parse.
"""

from __future__ import annotations

import heapq
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from gatekeeper.errors import Conflict, NotFound, StoreUnavailable
from gatekeeper.models import Artifact, Event, Incident, Record, describe_validation_error
from gatekeeper.store.base import (
    CompactResult,
    IncidentFilter,
    Problem,
    ServiceRecord,
    WriteBatch,
    latest_artifacts,
    newest_first_key,
    service_records,
)
from gatekeeper.store.fileio import append_lines, atomic_write, fsync_directory
from gatekeeper.store.locking import exclusive_lock

INCIDENTS = "incidents.jsonl"
EVENTS = "events.jsonl"
ARTIFACTS = "artifacts.jsonl"
LOCK = ".lock"

__all__ = ["JsonlIncidentStore", "append_lines", "atomic_write", "encode", "fsync_directory"]

R = TypeVar("R", bound=Record)
ProblemSink = Callable[[Problem], None]


def report_to_stderr(problem: Problem) -> None:
    print(f"warning: {problem}", file=sys.stderr, flush=True)


def encode(record: Record) -> bytes:
    """One record as one line of compact JSON (the on-disk format)."""
    text = json.dumps(record.to_json_dict(), separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8") + b"\n"


class JsonlIncidentStore:
    """Incident store in a directory of JSONL files; see the module docstring."""

    backend = "jsonl"

    def __init__(self, directory: Path | str, *, on_problem: ProblemSink | None = None) -> None:
        self.directory = Path(directory)
        self._on_problem = on_problem or report_to_stderr
        self._reported: set[tuple[str, int]] = set()

    # -- writing -----------------------------------------------------------------

    def write(self, batch: WriteBatch, *, upsert: bool = False) -> None:
        if batch.is_empty():
            return
        self._ensure_directory()
        with exclusive_lock(self.directory / LOCK):
            incidents = self._checked_incidents(batch, upsert=upsert)
            events: Sequence[Event] = batch.events
            artifacts: Sequence[Artifact] = batch.artifacts
            if upsert:
                events = self._missing(EVENTS, Event, events, lambda e: e.id)
                artifacts = self._fresh_artifacts(artifacts)
            self._append(INCIDENTS, incidents)
            self._append(EVENTS, events)
            self._append(ARTIFACTS, artifacts)

    def _checked_incidents(self, batch: WriteBatch, *, upsert: bool) -> list[Incident]:
        wanted = {i.id for i in (*batch.new_incidents, *batch.updated_incidents)}
        if not wanted:
            return []
        stored = self._latest_versions(wanted)
        out: list[Incident] = []
        for incident in batch.new_incidents:
            if incident.id in stored:
                if upsert:
                    continue
                raise Conflict("incident already exists", where=incident.id)
            out.append(incident)
        for incident in batch.updated_incidents:
            current = stored.get(incident.id)
            if current is None and not upsert:
                raise NotFound("no such incident", where=incident.id)
            if upsert and current is not None and _is_stale(incident, current):
                continue
            out.append(incident)
        return out

    def _missing(
        self, name: str, model: type[R], records: Sequence[R], key: Callable[[R], str]
    ) -> list[R]:
        if not records:
            return []
        seen = {key(r) for r in self._records(name, model)}
        return [r for r in records if key(r) not in seen]

    def _fresh_artifacts(self, artifacts: Sequence[Artifact]) -> list[Artifact]:
        """For upsert: the artifacts not already stored in this or a newer version."""
        if not artifacts:
            return []
        needles = [a.incident_id.encode() for a in artifacts]
        stored = {
            (a.incident_id, a.name): a
            for a in latest_artifacts(self._records(ARTIFACTS, Artifact, contains=needles))
        }
        fresh = []
        for artifact in artifacts:
            current = stored.get((artifact.incident_id, artifact.name))
            if current is None or not _is_stale_artifact(artifact, current):
                fresh.append(artifact)
        return fresh

    def _append(self, name: str, records: Iterable[Record]) -> None:
        append_lines(self.directory / name, b"".join(encode(r) for r in records))

    def _ensure_directory(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(
                f"cannot create store directory: {exc.strerror}", where=str(self.directory)
            ) from exc

    # -- reading -----------------------------------------------------------------

    def _lines(
        self, name: str, *, contains: Sequence[bytes] = ()
    ) -> Iterator[tuple[int, int, bytes]]:
        """Yield ``(line number, offset, line)`` of complete lines, streaming.

        ``contains`` is a byte-level prefilter: only lines holding at least one
        of these byte strings are yielded (the caller still checks the parsed
        record). A final line without a newline is a torn write: reported.
        """
        path = self.directory / name
        if not self.directory.is_dir():
            raise StoreUnavailable("store directory does not exist", where=str(self.directory))
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreUnavailable(f"cannot read: {exc.strerror}", where=str(path)) from exc
        with handle:
            offset = 0
            for lineno, line in enumerate(handle, start=1):
                start = offset
                offset += len(line)
                if not line.endswith(b"\n"):
                    self._problem(Problem(str(path), lineno, "torn write: no newline at end"))
                    return
                if contains and not any(needle in line for needle in contains):
                    continue
                yield lineno, start, line

    def _records(self, name: str, model: type[R], *, contains: Sequence[bytes] = ()) -> Iterator[R]:
        for lineno, _offset, line in self._lines(name, contains=contains):
            record = self._parse(name, lineno, line, model)
            if record is not None:
                yield record

    def _parse(self, name: str, lineno: int, line: bytes, model: type[R]) -> R | None:
        reason = None
        if not line.strip():
            return None
        try:
            # Without the newline, a torn string reads "Unterminated string", not
            # "Invalid control character".
            return model.model_validate(json.loads(line.rstrip(b"\r\n")))
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            if isinstance(exc, ValidationError):
                reason = describe_validation_error(exc)
            else:
                reason = f"not JSON: {exc}"
        self._problem(Problem(str(self.directory / name), lineno, reason))
        return None

    def _problem(self, problem: Problem) -> None:
        key = (problem.path, problem.line)
        if key not in self._reported:
            self._reported.add(key)
            self._on_problem(problem)

    def _latest_versions(
        self, ids: set[str] | None = None, *, contains: Sequence[bytes] = ()
    ) -> dict[str, Incident]:
        needles = contains or ([i.encode() for i in ids] if ids is not None else ())
        latest: dict[str, Incident] = {}
        for incident in self._records(INCIDENTS, Incident, contains=needles):
            if ids is None or incident.id in ids:
                latest[incident.id] = incident
        return latest

    def get_incident(self, incident_id: str) -> Incident:
        found = self._latest_versions({incident_id}).get(incident_id)
        if found is None:
            raise NotFound("no such incident", where=incident_id)
        return found

    def list_incidents(self, query: IncidentFilter) -> list[Incident]:
        # Remember only (sort key, offset) of the latest version of each
        # matching id, then re-read the few that survive the limit: memory stays
        # bounded by the number of ids, not by their size.
        latest: dict[str, tuple[tuple[datetime, str], int] | None] = {}
        needles = [f'"{query.service}"'.encode()] if query.service else []
        for lineno, offset, line in self._lines(INCIDENTS, contains=needles):
            incident = self._parse(INCIDENTS, lineno, line, Incident)
            if incident is not None:
                latest[incident.id] = (
                    (newest_first_key(incident), offset) if query.matches(incident) else None
                )
        candidates = [entry for entry in latest.values() if entry is not None]
        limit = query.limit if query.limit is not None else len(candidates)
        chosen = heapq.nlargest(limit, candidates)
        return [self._read_at(INCIDENTS, offset, Incident) for _key, offset in chosen]

    def _read_at(self, name: str, offset: int, model: type[R]) -> R:
        with (self.directory / name).open("rb") as handle:
            handle.seek(offset)
            return model.model_validate(json.loads(handle.readline()))

    def events(self, incident_id: str) -> list[Event]:
        found = [
            e
            for e in self._records(EVENTS, Event, contains=[incident_id.encode()])
            if e.incident_id == incident_id
        ]
        return sorted(found, key=lambda e: (e.ts, e.recorded_at, e.id))

    def artifacts(self, incident_id: str) -> list[Artifact]:
        latest: dict[str, Artifact] = {}
        for artifact in self._records(ARTIFACTS, Artifact, contains=[incident_id.encode()]):
            if artifact.incident_id == incident_id:
                latest[artifact.name] = artifact
        return sorted(latest.values(), key=lambda a: (a.created_at, a.name))

    def gate_records(
        self, env: str, services: Sequence[str], since: datetime
    ) -> dict[str, ServiceRecord]:
        wanted = set(services)
        needles = [f'"{s}"'.encode() for s in wanted]
        relevant: dict[str, Incident] = {}
        for incident in self._latest_versions(contains=needles).values():
            in_scope = incident.service in wanted and incident.env == env
            if in_scope and (incident.active or incident.started_at >= since):
                relevant[incident.id] = incident
        events: list[Event] = []
        artifacts: list[Artifact] = []
        if relevant:
            events = [
                e
                for e in self._records(EVENTS, Event, contains=[b'"followup"'])
                if e.incident_id in relevant
            ]
            ids = [i.encode() for i in relevant]
            artifacts = [
                a
                for a in self._records(ARTIFACTS, Artifact, contains=ids)
                if a.incident_id in relevant
            ]
        return service_records(env, services, list(relevant.values()), events, artifacts)

    def iter_incidents(self) -> Iterator[Incident]:
        yield from sorted(self._latest_versions().values(), key=lambda i: (i.started_at, i.id))

    def iter_events(self) -> Iterator[Event]:
        yield from self._records(EVENTS, Event)

    def iter_artifacts(self) -> Iterator[Artifact]:
        """The current version of each artifact, in the order they were last written."""
        latest: dict[tuple[str, str], Artifact] = {}
        for artifact in self._records(ARTIFACTS, Artifact):
            key = (artifact.incident_id, artifact.name)
            latest.pop(key, None)  # re-insert: order by the latest write
            latest[key] = artifact
        yield from latest.values()

    # -- maintenance -------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        files: dict[str, dict[str, int]] = {}
        for name in (INCIDENTS, EVENTS, ARTIFACTS):
            path = self.directory / name
            lines = sum(1 for _ in self._lines(name)) if self.directory.is_dir() else 0
            size = path.stat().st_size if path.exists() else 0
            files[name] = {"lines": lines, "bytes": size}
        incidents = len(self._latest_versions()) if self.directory.is_dir() else 0
        return {
            "backend": self.backend,
            "location": str(self.directory),
            "incidents": incidents,
            "events": files[EVENTS]["lines"],
            "artifacts": files[ARTIFACTS]["lines"],
            "files": files,
        }

    def verify(self) -> list[Problem]:
        """Every damaged line in the store, without printing anything."""
        found: list[Problem] = []
        checker = JsonlIncidentStore(self.directory, on_problem=found.append)
        for name, model in ((INCIDENTS, Incident), (EVENTS, Event), (ARTIFACTS, Artifact)):
            for _ in checker._records(name, model):
                pass
        return found

    def compact(self) -> CompactResult:
        """Rewrite ``incidents.jsonl`` keeping the latest version of each id.

        Lines that cannot be parsed are not dropped: they move to
        ``incidents.jsonl.rejected`` so nothing is silently lost.
        """
        self._ensure_directory()
        path = self.directory / INCIDENTS
        with exclusive_lock(self.directory / LOCK):
            rejected: list[bytes] = []
            latest: dict[str, bytes] = {}
            before = 0
            for lineno, _offset, line in self._lines(INCIDENTS):
                before += 1
                incident = self._parse(INCIDENTS, lineno, line, Incident)
                if incident is None:
                    rejected.append(line)
                    continue
                latest.pop(incident.id, None)  # keep the order of latest versions
                latest[incident.id] = line
            if rejected:
                with (self.directory / f"{INCIDENTS}.rejected").open("ab") as handle:
                    handle.writelines(rejected)
                    handle.flush()
                    os.fsync(handle.fileno())
            atomic_write(path, b"".join(latest.values()))
        return CompactResult(lines_before=before, lines_after=len(latest))

    def close(self) -> None:
        """Nothing to release: files are opened per call."""


def _is_stale(incoming: Incident, current: Incident) -> bool:
    """Upsert rule shared with Postgres: skip an older version or an identical one."""
    return current.updated_at > incoming.updated_at or current == incoming


def _is_stale_artifact(incoming: Artifact, current: Artifact) -> bool:
    return current.created_at > incoming.created_at or current == incoming
