"""The break-glass log (``gate_overrides``) as records: read, verified, exported, imported.

:mod:`gatekeeper.engine.audit` appends an entry for every softened gate run that
named no incident: a line of ``gate_overrides.jsonl`` in the JSONL store's
directory, a row of the ``gate_overrides`` table in PostgreSQL (the whole entry
in its ``entry`` column). This module gives that log the same care as the
incident records: ``store verify`` checks every entry with :class:`GateOverride`,
``store export`` writes them to the bundle and ``store import`` loads them with
upsert by ``id``. In auto mode the log is the one of the backend serving the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, LiteralString

from pydantic import Field

from gatekeeper.errors import StoreUnavailable
from gatekeeper.models import Record, UtcDatetime
from gatekeeper.store.base import IncidentStore, Problem

LOG_FILE = "gate_overrides.jsonl"
TABLE = "gate_overrides"
ProblemSink = Callable[[Problem], None]
_SELECT: LiteralString = "SELECT id, entry FROM gate_overrides ORDER BY seq"
_INSERT: LiteralString = (
    "INSERT INTO gate_overrides (id, ts, env, services, agent, reason, no_strict, gates, entry)"
    " VALUES (%(id)s, %(ts)s, %(env)s, %(services)s, %(agent)s, %(reason)s, %(no_strict)s,"
    " %(gates)s, %(entry)s) ON CONFLICT (id) DO NOTHING"
)


class GateOverride(Record):
    """One break-glass entry: a gate run softened with nothing to note it on."""

    id: str = Field(pattern=r"^gov_[a-z0-9]{16,32}$")
    ts: UtcDatetime
    env: str = Field(min_length=1)
    services: list[str]
    agent: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    no_strict: bool
    gates: list[str]
    decision: str


def _backend(store: IncidentStore) -> Any:
    """The JSONL or Postgres store behind ``store`` (auto: the one serving now)."""
    from gatekeeper.store.auto import AutoIncidentStore
    from gatekeeper.store.jsonl import JsonlIncidentStore
    from gatekeeper.store.postgres import PostgresIncidentStore

    target: Any = store
    if isinstance(store, AutoIncidentStore):
        target = store._current() or store._fallback  # noqa: SLF001 - the live backend
    if isinstance(target, JsonlIncidentStore | PostgresIncidentStore):
        return target
    raise StoreUnavailable(f"the {store.backend} backend keeps no gate_overrides log", where=TABLE)


def iter_overrides(store: IncidentStore, on_problem: ProblemSink) -> Iterator[GateOverride]:
    """Every valid entry, in the order written; a damaged one goes to ``on_problem``."""
    target = _backend(store)
    if target.backend == "jsonl":
        yield from _jsonl_entries(target, on_problem)
    else:
        yield from _postgres_entries(target, on_problem)


def verify_overrides(store: IncidentStore) -> list[Problem]:
    found: list[Problem] = []
    for _entry in iter_overrides(store, found.append):
        pass
    return found


def _jsonl_entries(store: Any, on_problem: ProblemSink) -> Iterator[GateOverride]:
    from gatekeeper.store.jsonl_reader import JsonlReader

    reader = JsonlReader(store.directory, on_problem)
    if not store.directory.is_dir():
        return
    yield from reader.records(LOG_FILE, GateOverride)


def _postgres_entries(store: Any, on_problem: ProblemSink) -> Iterator[GateOverride]:
    from gatekeeper.store.postgres import decode_row

    with store._translate("read gate_overrides", maintenance=True):  # noqa: SLF001
        rows = store._conn.execute(_SELECT).fetchall()  # noqa: SLF001
    for row in rows:
        entry = decode_row(GateOverride, row["entry"], f"{TABLE}[{row['id']}]", on_problem)
        if entry is not None:
            yield entry


def write_overrides(store: IncidentStore, entries: Sequence[GateOverride]) -> int:
    """Add the entries whose ``id`` the log does not hold yet; returns how many were added."""
    if not entries:
        return 0
    target = _backend(store)
    if target.backend == "jsonl":
        return _write_jsonl(target, entries)
    return _write_postgres(target, entries)


def _encode(entry: GateOverride) -> bytes:
    text = json.dumps(entry.to_json_dict(), ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"


def _write_jsonl(store: Any, entries: Sequence[GateOverride]) -> int:
    from gatekeeper.store.fileio import append_lines, ensure_directory

    ensure_directory(store.directory)
    with store.locked():
        held = {e.id for e in _jsonl_entries(store, lambda _problem: None)}
        fresh = _unique(e for e in entries if e.id not in held)
        append_lines(store.directory / LOG_FILE, b"".join(_encode(e) for e in fresh))
    return len(fresh)


def _write_postgres(store: Any, entries: Sequence[GateOverride]) -> int:
    from psycopg.types.json import Jsonb

    rows = []
    for entry in _unique(entries):
        data = entry.to_json_dict()
        rows.append({**data, "ts": entry.ts, "entry": Jsonb(data)})
    added = 0
    with (
        store._translate("write gate_overrides"),  # noqa: SLF001
        store._conn.transaction(),  # noqa: SLF001
        store._conn.cursor() as cur,  # noqa: SLF001
    ):
        for row in rows:
            cur.execute(_INSERT, row)
            added += cur.rowcount
    return added


def _unique(entries: Any) -> list[GateOverride]:
    seen: dict[str, GateOverride] = {}
    for entry in entries:
        seen.setdefault(entry.id, entry)
    return list(seen.values())
