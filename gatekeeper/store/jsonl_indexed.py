"""The JSONL store's queries answered through its sidecar index (:mod:`jsonl_index`).

Each function takes a :class:`Snapshot` (the index and the files, known to
match), reads the lines the index points to, parses and checks every one, and
reports the damaged lines the same query would report when scanning. Anything
unexpected raises :class:`IndexMismatch`; the store then scans the files.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from gatekeeper.models import ACTIVE_STATUSES, Event, Incident, Record
from gatekeeper.store.base import IncidentFilter
from gatekeeper.store.jsonl_index import IndexMismatch, Snapshot, micros
from gatekeeper.store.jsonl_reader import (
    EVENTS,
    INCIDENTS,
    JsonlReader,
    damage_matters,
    event_damage_matters,
    filter_groups,
    parse_line,
)
from gatekeeper.store.jsonl_scan import may_match, quoted

R = TypeVar("R", bound=Record)
Groups = Sequence[Sequence[bytes]]
_CHUNK = 500  # ids per IN (...) list: far below SQLite's limit on parameters


def gate_incidents(
    snap: Snapshot, reader: JsonlReader, env: str, services: Collection[str], since: datetime
) -> dict[str, Incident]:
    """The latest versions of ``services``' incidents in ``env``, active or started since."""
    marks = ", ".join("?" * len(services))
    active = ", ".join(f"'{s}'" for s in sorted(ACTIVE_STATUSES))
    rows = snap.rows(
        f"SELECT id, pos FROM incidents WHERE env = ? AND service IN ({marks})"
        f" AND (status IN ({active}) OR started_us >= ?)",
        [env, *services, micros(since)],
    )
    found = {incident.id: incident for incident in _incidents_at(snap, rows)}
    positions = {incident_id: pos for incident_id, pos in rows}
    for incident in found.values():
        in_scope = incident.service in services and incident.env == env
        if not (in_scope and (incident.active or incident.started_at >= since)):
            raise IndexMismatch(f"{incident.id}: not what the index says")
    groups = [[quoted(s) for s in services], [quoted(env)]]
    _report_damaged_incidents(snap, reader, groups, positions)
    return found


def gate_read(
    snap: Snapshot, reader: JsonlReader, env: str, services: Collection[str], since: datetime
) -> tuple[dict[str, Incident], list[Event]]:
    """What ``gate_records`` reads from incidents and events (artifacts are scanned)."""
    relevant = gate_incidents(snap, reader, env, services, since)
    return relevant, followups(snap, reader, relevant) if relevant else []


def listed_incidents(snap: Snapshot, reader: JsonlReader, query: IncidentFilter) -> list[Incident]:
    """``list_incidents``: filtered, newest first, cut at the limit, all in SQL."""
    clauses, params = _filter_sql(query)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    limit = " LIMIT ?" if query.limit is not None else ""
    statement = f"SELECT id, pos FROM incidents{where} ORDER BY started_us DESC, id DESC{limit}"
    rows = snap.rows(statement, [*params, query.limit] if limit else params)
    found = list(_incidents_at(snap, rows))
    if not all(query.matches(incident) for incident in found):
        raise IndexMismatch("a listed incident does not match the filter")
    _report_damaged_incidents(snap, reader, filter_groups(query), dict(rows))
    return found


def listed_scopes(
    snap: Snapshot, reader: JsonlReader, queries: Sequence[IncidentFilter]
) -> dict[str, set[str]]:
    """The (env -> services) of what ``list_incidents`` answers to each of ``queries``
    (no limit), from the index alone: no line is read; damaged lines reported as it does."""
    scopes: dict[str, set[str]] = {}
    for query in queries:
        clauses, params = _filter_sql(query)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = snap.rows(f"SELECT id, pos, env, service FROM incidents{where}", params)
        for _id, _pos, env, service in rows:
            scopes.setdefault(env, set()).add(service)
        positions = {incident_id: pos for incident_id, pos, _env, _service in rows}
        _report_damaged_incidents(snap, reader, filter_groups(query), positions)
    return scopes


def incident(snap: Snapshot, reader: JsonlReader, incident_id: str) -> Incident | None:
    """The latest version of one incident, or ``None``."""
    rows = snap.rows("SELECT id, pos FROM incidents WHERE id = ?", [incident_id])
    found = {i.id: i for i in _incidents_at(snap, rows)}
    _report_damaged_incidents(snap, reader, [[quoted(incident_id)]], dict(rows))
    return found.get(incident_id)


def followups(snap: Snapshot, reader: JsonlReader, ids: Collection[str]) -> list[Event]:
    """The ``followup`` events of the incidents ``ids``."""
    ids = set(ids)
    wanted = sorted(ids)
    events: list[Event] = []
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = snap.rows(f"SELECT pos FROM followups WHERE incident_id IN ({marks})", chunk)
        for (pos,) in rows:
            event = _record_at(snap, EVENTS, pos, Event)
            if event.incident_id not in ids or event.type != "followup":
                raise IndexMismatch(f"{EVENTS}:{pos}: not a follow-up of a wanted incident")
            events.append(event)
    encoded = {incident_id.encode() for incident_id in ids}
    for pos, line, key in snap.damaged(EVENTS):
        if event_damage_matters(key.encode() if key is not None else None, encoded):
            _report(snap, reader, EVENTS, pos, line, Event)
    return events


def _incidents_at(snap: Snapshot, rows: Sequence[tuple[Any, ...]]) -> Iterator[Incident]:
    for incident_id, pos in rows:
        found = _record_at(snap, INCIDENTS, pos, Incident)
        if found.id != incident_id:
            raise IndexMismatch(f"{INCIDENTS}:{pos}: holds {found.id}, not {incident_id}")
        yield found


def _record_at(snap: Snapshot, name: str, pos: int, model: type[R]) -> R:
    record, _reason = parse_line(snap.line(name, pos), model)
    if record is None:
        raise IndexMismatch(f"{name}:{pos}: no valid record where the index points")
    return record


def _report_damaged_incidents(
    snap: Snapshot, reader: JsonlReader, groups: Groups, positions: dict[str, int]
) -> None:
    """Report what a scan would: damaged lines that hold the query's values, or that may
    be a newer version of a found incident (``positions``: id -> offset of its version)."""
    kept = {incident_id.encode(): pos for incident_id, pos in positions.items()}
    for pos, line, key in snap.damaged(INCIDENTS):
        text = snap.line(INCIDENTS, pos)
        raw = key.encode() if key is not None else None
        if may_match(text, groups) or damage_matters(pos, raw, kept):
            _report(snap, reader, INCIDENTS, pos, line, Incident)


def _report(
    snap: Snapshot, reader: JsonlReader, name: str, pos: int, line: int, model: type[Record]
) -> None:
    _record, reason = parse_line(snap.line(name, pos), model)
    if reason is None:
        raise IndexMismatch(f"{name}:{pos}: the index says damaged, the line is not")
    # The line number was counted when the line was indexed.
    reader.report(snap.directory / name, pos, reason, lambda _offset: line)


def _filter_sql(query: IncidentFilter) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for column, values in (("status", query.status), ("severity", query.severity)):
        if values is not None:
            clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(sorted(values))
    for column, value in (("service", query.service), ("env", query.env)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    for clause, moment in (("started_us >= ?", query.since), ("started_us < ?", query.until)):
        if moment is not None:
            clauses.append(clause)
            params.append(micros(moment))
    return clauses, params
