"""The JSONL backend: three append-only files in one directory (see docs/store.md).

``incidents.jsonl`` holds every version of every incident (the last line for an
id wins); ``events.jsonl`` and ``artifacts.jsonl`` are append-only. Writers take
an exclusive ``flock`` on ``.lock`` in the directory, append whole lines with a
single ``write`` and ``fsync`` before returning. Readers take no lock: they read
complete lines only and skip (and report) anything they cannot parse.

Reads are fast on big stores two ways (docs/performance.md): writers keep a
sidecar index current (:mod:`~gatekeeper.store.jsonl_index`), which readers use
only when it describes the files exactly as they are; otherwise readers scan,
skipping with byte-level prefilters the lines a query cannot match
(:mod:`~gatekeeper.store.jsonl_scan`, :mod:`~gatekeeper.store.jsonl_reader`).
"""

from __future__ import annotations

import heapq
import json
import sys
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from gatekeeper.errors import Conflict, NotFound
from gatekeeper.models import Artifact, Event, Incident, Record
from gatekeeper.store import jsonl_batch, manifest
from gatekeeper.store.base import (
    GateRead,
    IncidentFilter,
    Problem,
    ServiceRecord,
    last_of_type,
    latest_artifacts,
    listed_scopes,
    newest_first_key,
    service_records,
)
from gatekeeper.store.fileio import (
    append_lines,
    atomic_write,
    ensure_directory,
    fsync_directory,
    remove_stray_temp_files,
)
from gatekeeper.store.jsonl_reader import (
    ARTIFACTS,
    EVENTS,
    INCIDENTS,
    INDEX,
    JsonlReader,
    ProblemSink,
    event_damage_matters,
    filter_groups,
)
from gatekeeper.store.jsonl_scan import field_value, quoted
from gatekeeper.store.locking import exclusive_lock

if TYPE_CHECKING:  # writes and maintenance only: imported when used, never by `check`
    from gatekeeper.store.notes import Note
    from gatekeeper.store.patch import IncidentPatch
    from gatekeeper.store.writes import CompactResult, WriteBatch

LOCK = ".lock"

__all__ = ["JsonlIncidentStore", "append_lines", "atomic_write", "encode", "fsync_directory"]

R = TypeVar("R", bound=Record)
T = TypeVar("T")


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
        self._reader = JsonlReader(self.directory, on_problem or report_to_stderr)

    # -- writing -----------------------------------------------------------------

    def write(self, batch: WriteBatch, *, upsert: bool = False) -> None:
        if batch.is_empty():
            return
        self._ensure_directory()
        with self.locked():
            incidents = self._checked_incidents(batch, upsert=upsert)
            events: Sequence[Event] = batch.events
            artifacts: Sequence[Artifact] = batch.artifacts
            if upsert:
                events = self._missing_events(events)
                artifacts = self._fresh_artifacts(artifacts)
            if batch.patches:
                patched, status_changes = self._patched(batch.patches, incidents, upsert=upsert)
                incidents = [*incidents, *patched]
                events = [*events, *status_changes]
            if batch.notes:
                events = [*events, *self._new_notes(batch.notes, incidents)]
            # Incidents last: a reader racing the writer sees an incident only
            # once its events are there (a killed writer's batch is hidden whole).
            payloads = {
                EVENTS: _encoded(events),
                ARTIFACTS: _encoded(artifacts),
                INCIDENTS: _encoded(incidents),
            }
            from gatekeeper.store import jsonl_index

            with jsonl_index.updating(self.directory):
                jsonl_batch.append_batch(self.directory, payloads, batch.files)
            appended = {INCIDENTS: len(incidents), EVENTS: len(events), ARTIFACTS: len(artifacts)}
            manifest.after_append(self.directory, appended, batch_time(batch), self._count_lines)

    def _checked_incidents(self, batch: WriteBatch, *, upsert: bool) -> list[Incident]:
        wanted = {i.id for i in (*batch.new_incidents, *batch.updated_incidents)}
        if not wanted:
            return []
        stored = self._versions(wanted)
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

    def _patched(
        self, patches: Sequence[IncidentPatch], written: Sequence[Incident], *, upsert: bool
    ) -> tuple[list[Incident], list[Event]]:
        """``patches`` applied to the latest versions, read now, under the lock."""
        from gatekeeper.store.patch import apply_patch, status_events

        latest = self._versions({p.incident_id for p in patches})
        latest.update({i.id: i for i in written})
        versions: list[Incident] = []
        events: list[Event] = []
        for patch in patches:
            current = latest.get(patch.incident_id)
            if current is None:  # even on replay: a patch needs its incident
                raise NotFound("no such incident", where=patch.incident_id)
            updated = apply_patch(current, patch)
            events.extend(status_events(current, updated, patch))
            versions.append(updated)
            latest[updated.id] = updated
        return versions, events

    def _new_notes(self, notes: Sequence[Note], written: Sequence[Incident]) -> list[Event]:
        """The events of ``notes`` that say something new, looked up now, under the lock."""
        ids = {n.event.incident_id for n in notes}
        known = {i.id for i in written} | set(self._versions(ids - {i.id for i in written}))
        timelines = {i: self.events(i) for i in sorted(ids)}
        out: list[Event] = []
        for note in notes:
            incident_id = note.event.incident_id
            if incident_id not in known:
                raise NotFound("no such incident", where=incident_id)
            if note.is_new(last_of_type(timelines[incident_id], note.event.type)):
                out.append(note.event)
                timelines[incident_id].append(note.event)
        return out

    def _missing_events(self, events: Sequence[Event]) -> list[Event]:
        """For upsert: the events whose id is not stored yet."""
        if not events:
            return []
        wanted = {e.id.encode() for e in events}
        seen = {e.id for e in self._reader.records_keyed(EVENTS, Event, b'"id"', wanted)}
        return [e for e in events if e.id not in seen]

    def _fresh_artifacts(self, artifacts: Sequence[Artifact]) -> list[Artifact]:
        """For upsert: the artifacts not already stored in this or a newer version."""
        if not artifacts:
            return []
        ids = {a.incident_id.encode() for a in artifacts}
        found = self._reader.records_keyed(ARTIFACTS, Artifact, b'"incident_id"', ids)
        stored = {(a.incident_id, a.name): a for a in latest_artifacts(found)}
        fresh = []
        for artifact in artifacts:
            current = stored.get((artifact.incident_id, artifact.name))
            if current is None or not _is_stale_artifact(artifact, current):
                fresh.append(artifact)
        return fresh

    @contextmanager
    def locked(self) -> Iterator[None]:
        """The writers' lock, after finishing or undoing what a killed writer left."""
        with exclusive_lock(self.directory / LOCK):
            jsonl_batch.recover(self.directory)
            remove_stray_temp_files(self.directory)
            yield

    def _ensure_directory(self) -> None:
        ensure_directory(self.directory)

    # -- reading -----------------------------------------------------------------

    def _versions(self, ids: Collection[str]) -> dict[str, Incident]:
        """The latest version of each of ``ids``: one slice per line, however many ids."""
        latest: dict[str, Incident] = {}
        ids = set(ids)
        wanted = {i.encode() for i in ids}
        for incident in self._reader.records_keyed(INCIDENTS, Incident, b'"id"', wanted):
            if incident.id in ids:
                latest[incident.id] = incident
        return latest

    def get_incident(self, incident_id: str) -> Incident:
        found: Incident | None = self._indexed("incident", incident_id)
        if found is None:
            for incident in self._reader.records_holding(
                INCIDENTS, Incident, [quoted(incident_id)]
            ):
                if incident.id == incident_id:
                    found = incident
        if found is None:
            raise NotFound("no such incident", where=incident_id)
        return found

    def _indexed(self, query: str, *args: Any) -> Any:
        """``jsonl_indexed.<query>`` answered through the sidecar index; ``None`` when it
        cannot be trusted.

        The index modules (and sqlite3) are imported only when there is an index:
        a fresh checkout (a CI run) never has one, and reads by the scan.
        """
        if not (self.directory / INDEX).is_file():
            return None
        if jsonl_batch.pending(self.directory):
            return None  # a batch is in flight or was cut short: scan what is committed
        from gatekeeper.store import jsonl_index, jsonl_indexed

        with jsonl_index.snapshot(self.directory) as snap:
            if snap is not None:
                try:
                    return getattr(jsonl_indexed, query)(snap, self._reader, *args)
                except jsonl_index.IndexMismatch:
                    pass
        return None

    def list_incidents(self, query: IncidentFilter) -> list[Incident]:
        indexed: list[Incident] | None = self._indexed("listed_incidents", query)
        if indexed is not None:
            return indexed

        # Keep only (sort key, offset) of the latest version of each matching
        # id, then re-read the few that survive the limit: memory stays bounded
        # by the number of ids, not by their size.
        def keep(incident: Incident, offset: int) -> tuple[tuple[datetime, str], int] | None:
            return (newest_first_key(incident), offset) if query.matches(incident) else None

        found = self._reader.latest_incidents(filter_groups(query), keep)
        limit = query.limit if query.limit is not None else len(found)
        chosen = heapq.nlargest(limit, found.values())
        return [self._read_at(INCIDENTS, offset, Incident) for _key, offset in chosen]

    def incident_scopes(self, queries: Sequence[IncidentFilter]) -> dict[str, set[str]]:
        """See :func:`~gatekeeper.store.base.incident_scopes`: from the index when it is
        current (no incident line is read), else from :meth:`list_incidents`."""
        indexed: dict[str, set[str]] | None = self._indexed("listed_scopes", queries)
        if indexed is not None:
            return indexed
        return listed_scopes(self, queries)

    def _read_at(self, name: str, offset: int, model: type[R]) -> R:
        with (self.directory / name).open("rb") as handle:
            handle.seek(offset)
            return model.model_validate_json(handle.readline())

    def events(self, incident_id: str) -> list[Event]:
        found = [
            e
            for e in self._reader.records_holding(EVENTS, Event, [quoted(incident_id)])
            if e.incident_id == incident_id
        ]
        return sorted(found, key=lambda e: (e.ts, e.recorded_at, e.id))

    def last_event_times(self, incident_ids: Collection[str]) -> dict[str, datetime]:
        """One pass over ``events.jsonl``: a slice and a set lookup per line, then parse."""
        incident_ids = set(incident_ids)
        wanted = {incident_id.encode() for incident_id in incident_ids}
        latest: dict[str, datetime] = {}
        with self._reader.scan(EVENTS) as lines:
            if lines is None:
                return latest
            for offset, line in lines.lines():
                incident_id = field_value(line, b'"incident_id"')
                if incident_id is not None and incident_id not in wanted:
                    continue
                event = self._reader.parse(lines, offset, line, Event)
                if event is not None and event.incident_id in incident_ids:
                    known = latest.get(event.incident_id)
                    latest[event.incident_id] = event.ts if known is None else max(known, event.ts)
        return latest

    def events_of(self, incident_ids: Collection[str]) -> dict[str, list[Event]]:
        """One pass over ``events.jsonl``, reading only the lines that may be theirs.

        :meth:`~gatekeeper.store.jsonl_scan.LineFile.keyed` leaves out, a block at
        a time, only lines whose ``incident_id`` is plainly another one: the
        same lines the check below would skip one by one.
        """
        ids = set(incident_ids)  # a list's ``in`` made this pass quadratic
        wanted = {incident_id.encode() for incident_id in ids}
        found: dict[str, list[Event]] = {}
        with self._reader.scan(EVENTS) as lines:
            if lines is None:
                return found
            for offset, line in lines.keyed(b'"incident_id"', wanted):
                incident_id = field_value(line, b'"incident_id"')
                if incident_id is not None and incident_id not in wanted:
                    continue
                event = self._reader.parse(lines, offset, line, Event)
                if event is not None and event.incident_id in ids:
                    found.setdefault(event.incident_id, []).append(event)
        for events in found.values():
            events.sort(key=lambda e: (e.ts, e.recorded_at, e.id))
        return found

    def artifacts(self, incident_id: str) -> list[Artifact]:
        latest: dict[str, Artifact] = {}
        needles = [quoted(incident_id)]
        for artifact in self._reader.records_holding(ARTIFACTS, Artifact, needles):
            if artifact.incident_id == incident_id:
                latest[artifact.name] = artifact
        return sorted(latest.values(), key=lambda a: (a.created_at, a.name))

    def gate_records(
        self, env: str, services: Sequence[str], since: datetime
    ) -> dict[str, ServiceRecord]:
        wanted = set(services)
        read: tuple[dict[str, Incident], list[Event]] | None = self._indexed(
            "gate_read", env, wanted, since
        )
        relevant, events = read if read is not None else self._scanned_gate(env, wanted, since)
        artifacts = self._artifacts_of(relevant.keys()) if relevant else []
        return service_records(env, services, list(relevant.values()), events, artifacts)

    def collecting(self, into: list[Problem]) -> AbstractContextManager[None]:
        """See :func:`~gatekeeper.store.base.collecting`."""
        return self._reader.collecting(into)

    def gate_read(self, env: str, services: Sequence[str], since: datetime) -> GateRead:
        """:meth:`gate_records` plus every damaged record and every file below its high-water.

        A directory that is not a store (no manifest, no records) is unavailable.
        """
        marks = manifest.require_store(self.directory)
        skipped: list[Problem] = (
            [] if marks is None else manifest.shrunk_files(self.directory, marks)
        )
        with self._reader.collecting(skipped):
            records = self.gate_records(env, services, since)
        return GateRead(
            records, backend=self.backend, location=str(self.directory), skipped=tuple(skipped)
        )

    def _scanned_gate(
        self, env: str, services: set[str], since: datetime
    ) -> tuple[dict[str, Incident], list[Event]]:
        """The gate's incidents and follow-up events, read by scanning the files."""

        def keep(incident: Incident, _offset: int) -> Incident | None:
            in_scope = incident.service in services and incident.env == env
            recent = incident.active or incident.started_at >= since
            return incident if in_scope and recent else None

        groups = [[quoted(s) for s in services], [quoted(env)]]
        found = self._reader.latest_incidents(groups, keep)
        events = list(self._followups_of(found.keys())) if found else []
        return {incident.id: incident for incident in found.values()}, events

    def _artifacts_of(self, ids: Collection[str]) -> list[Artifact]:
        """Every artifact record of ``ids`` (old versions too): one slice per line."""
        ids = set(ids)
        wanted = {incident_id.encode() for incident_id in ids}
        found = self._reader.records_keyed(ARTIFACTS, Artifact, b'"incident_id"', wanted)
        return [a for a in found if a.incident_id in ids]

    def _followups_of(self, ids: Collection[bytes]) -> Iterator[Event]:
        """The ``followup`` events of ``ids``, reading only the lines that may be theirs.

        Every line that may belong to one of ``ids`` is parsed, whatever its
        type: a damaged one is reported (:func:`event_damage_matters`), since
        the damage may have hit its ``"type":"followup"``.
        """
        with self._reader.scan(EVENTS) as lines:
            if lines is None:
                return
            for offset, line in lines.keyed(b'"incident_id"', ids):
                if not event_damage_matters(field_value(line, b'"incident_id"'), ids):
                    continue
                event = self._reader.parse(lines, offset, line, Event)
                if event is None or event.type != "followup":
                    continue
                if event.incident_id.encode() in ids:
                    yield event

    def iter_incidents(self) -> Iterator[Incident]:
        latest = self._reader.latest_incidents([], lambda incident, _offset: incident)
        yield from sorted(latest.values(), key=lambda i: (i.started_at, i.id))

    def iter_events(self) -> Iterator[Event]:
        yield from self._reader.records(EVENTS, Event)

    def iter_artifacts(self) -> Iterator[Artifact]:
        """The current version of each artifact, in the order they were last written."""
        latest: dict[tuple[str, str], Artifact] = {}
        for artifact in self._reader.records(ARTIFACTS, Artifact):
            key = (artifact.incident_id, artifact.name)
            latest.pop(key, None)  # re-insert: order by the latest write
            latest[key] = artifact
        yield from latest.values()

    # -- maintenance (gatekeeper.store.jsonl_maintenance) ------------------------

    def info(self) -> dict[str, Any]:
        from gatekeeper.store import jsonl_maintenance

        return jsonl_maintenance.info(self, self._reader)

    def _count_lines(self, name: str) -> int:
        from gatekeeper.store import jsonl_maintenance

        return jsonl_maintenance.count_lines(self._reader, name)

    def verify(self) -> list[Problem]:
        """Every damaged line, shrunk file and orphan record, without printing anything."""
        from gatekeeper.store import jsonl_maintenance

        return jsonl_maintenance.verify(self.directory)

    def compact(self) -> CompactResult:
        """Keep the latest version of each incident; unparsable bytes go to ``.rejected``."""
        from gatekeeper.store import jsonl_maintenance

        return jsonl_maintenance.compact(self, self._reader)

    def init(self, created: datetime) -> bool:
        """Mark the directory as a store (``store init``); ``True`` if it was not one yet."""
        from gatekeeper.store import jsonl_maintenance

        return jsonl_maintenance.init(self, self._reader, created)

    def reindex(self) -> None:
        """Rebuild the sidecar index from the files, under the store lock.

        Writes keep the index current; this is for a store last changed by hand
        or by another tool, so the next write does not pay for the rebuild.
        """
        from gatekeeper.store import jsonl_maintenance

        jsonl_maintenance.reindex(self)

    def close(self) -> None:
        """Nothing to release: files are opened per call."""

    def delete_incidents(self, incident_ids: Collection[str]) -> list[str]:
        """Rewrite the three files without these incidents, under the lock (like compact).

        Events and artifacts go first and the incident line last, so a crash part-way
        leaves the incident in place and a rerun finishes the removal.
        """
        wanted = set(incident_ids)
        if not wanted or not self.directory.is_dir():
            return []
        with self.locked():
            jsonl_batch.settle(self.directory)
            present = set(self._versions(wanted))
            for name, key in (
                (EVENTS, "incident_id"),
                (ARTIFACTS, "incident_id"),
                (INCIDENTS, "id"),
            ):
                self._rewrite_without(name, key, present)
            from gatekeeper.store import jsonl_index

            jsonl_index.rebuild(self.directory)
        return sorted(present)

    def _rewrite_without(self, name: str, key: str, ids: set[str]) -> None:
        path = self.directory / name
        if not ids or not path.is_file():
            return
        kept = []
        for line in path.read_bytes().splitlines(keepends=True):
            try:
                value = json.loads(line).get(key)
            except (ValueError, AttributeError):
                value = None  # damaged lines are kept, never silently dropped
            if value not in ids:
                kept.append(line if line.endswith(b"\n") else line + b"\n")
        atomic_write(path, b"".join(kept))


def _encoded(records: Iterable[Record]) -> bytes:
    return b"".join(encode(r) for r in records)


def batch_time(batch: WriteBatch) -> datetime:
    """When the caller made ``batch`` (its earliest timestamp): the store's creation time."""
    moments = [
        *(i.updated_at for i in (*batch.new_incidents, *batch.updated_incidents)),
        *(e.recorded_at for e in batch.events),
        *(a.created_at for a in batch.artifacts),
        *(p.updated_at for p in batch.patches),
        *(n.event.recorded_at for n in batch.notes),
    ]
    return min(moments)


def _is_stale(incoming: Incident, current: Incident) -> bool:
    """Upsert rule shared with Postgres: skip an older version or an identical one."""
    return current.updated_at > incoming.updated_at or current == incoming


def _is_stale_artifact(incoming: Artifact, current: Artifact) -> bool:
    return current.created_at > incoming.created_at or current == incoming
