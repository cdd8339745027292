"""The alert inbox: ``alerts.jsonl`` in the store directory, or the ``alerts`` table.

``alerts add`` (and the ``alert_ingest`` tool action) validate every alert first (a
bad one rejects the batch, nothing written), then store the whole batch at once.

JSONL: one line per alert (state ``new``) appended under the store lock with one
write and one fsync; triage appends ``{"id", "state": "processed", ...}`` lines
(the last line of an id wins, field by field) after applying a plan it saved
first (``alerts.triage.intent.json``), so a killed run is finished by the next.

Postgres (backend ``postgres``, and ``auto`` while Postgres is reachable): one row
per alert; a triage batch writes its incidents and events and marks its alerts
processed in one transaction, so it lands whole or not at all. On ``auto`` with
Postgres away the inbox is unavailable: ``alerts add`` and ``alerts triage`` fail
(exit 1) and write nothing, rather than split the inbox between two places.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gatekeeper.errors import InvalidInput, StoreUnavailable
from gatekeeper.models import ServiceName, Severity, Title, UtcDatetime, describe_validation_error
from gatekeeper.ops.alerts.fingerprint import fingerprint
from gatekeeper.ops.alerts.plan import TriagePlan
from gatekeeper.store.fileio import append_lines, atomic_write, ensure_directory
from gatekeeper.store.locking import exclusive_lock
from gatekeeper.timeutil import format_timestamp, parse_timestamp

if TYPE_CHECKING:
    from gatekeeper.config import Settings
    from gatekeeper.store import IncidentStore

INBOX = "alerts.jsonl"
LOCK = ".lock"
INTENT = "alerts.triage.intent.json"


class NewAlert(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=1, max_length=100)
    service: ServiceName
    env: ServiceName
    severity: Severity
    title: Title
    fingerprint: str | None = Field(default=None, min_length=1, max_length=128)
    labels: dict[str, str] = Field(default_factory=dict)
    status: Literal["firing", "resolved"] = "firing"
    received_at: UtcDatetime | None = None


def new_alert_id() -> str:
    return f"alr_{time.time_ns():016x}{secrets.token_hex(4)}"


def parse_alerts(
    text: str, *, fields: Sequence[str], now: datetime, agent: str | None = None
) -> list[dict[str, Any]]:
    """One JSON object, or JSON Lines; every line validated (``line N: field: why``)."""
    stripped = text.strip()
    if not stripped:
        raise InvalidInput("no alerts on stdin; expected a JSON object or JSON Lines")
    lines = [stripped] if stripped.startswith("{") and "\n" not in stripped else text.splitlines()
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"line {number}: not valid JSON: {exc.msg}") from None
        if not isinstance(data, dict):
            raise InvalidInput(f"line {number}: expected a JSON object")
        out.append(alert_record(data, f"line {number}: ", fields, now, agent))
    return out


def alert_record(
    data: Mapping[str, Any],
    prefix: str,
    fields: Sequence[str],
    now: datetime,
    agent: str | None = None,
) -> dict[str, Any]:
    """One validated inbox record (state ``new``); errors start with ``prefix``."""
    try:
        alert = NewAlert.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc, prefix=prefix)) from None
    record = alert.model_dump(mode="json")
    record["received_at"] = record["received_at"] or format_timestamp(now)
    try:
        record["fingerprint"] = alert.fingerprint or fingerprint(record, fields)
    except InvalidInput as exc:
        raise InvalidInput(f"{prefix}{exc.message}", where=exc.where) from None
    stamp = format_timestamp(now)
    return {"id": new_alert_id(), "state": "new", **record, "ingested_at": stamp,
            "ingested_by": agent}  # fmt: skip


@dataclass
class InboxState:
    """The alerts to triage, in arrival order, and every alert's time by fingerprint."""

    pending: list[dict[str, Any]]
    times: dict[str, list[datetime]]


class Inbox(Protocol):
    label: str

    def add(self, records: Sequence[dict[str, Any]]) -> None: ...

    def recover(self, store: IncidentStore) -> int:
        """Finish a batch a killed run left half done; how many alerts it marked."""
        ...

    def load(self) -> InboxState: ...

    def apply(self, store: IncidentStore, plan: TriagePlan) -> None:
        """Write the plan's incidents and events and mark its alerts processed, once."""
        ...

    def folded(self) -> dict[str, dict[str, Any]]:
        """Every alert's current state, in arrival order."""
        ...


class JsonlInbox:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / INBOX
        self.intent = directory / INTENT
        self.label = str(self.path)

    def add(self, records: Sequence[dict[str, Any]]) -> None:
        ensure_directory(self.directory)
        data = b"".join(_line(r) for r in records)
        with exclusive_lock(self.directory / LOCK):
            append_lines(self.path, data)

    def mark(self, marks: Iterable[dict[str, Any]]) -> None:
        data = b"".join(_line({**m, "state": "processed"}) for m in marks)
        with exclusive_lock(self.directory / LOCK):
            append_lines(self.path, data)

    def recover(self, store: IncidentStore) -> int:
        if not self.intent.is_file():
            return 0
        plan = TriagePlan.from_json(self.intent.read_bytes())
        self._finish(store, plan)
        return len(plan.marks)

    def load(self) -> InboxState:
        alerts = self.folded()
        pending = [a for a in alerts.values() if a.get("state") == "new"]
        return InboxState(pending, times_by_fingerprint(alerts.values()))

    def apply(self, store: IncidentStore, plan: TriagePlan) -> None:
        atomic_write(self.intent, plan.to_json())
        self._finish(store, plan)

    def _finish(self, store: IncidentStore, plan: TriagePlan) -> None:
        store.write(plan.batch(), upsert=True)
        state = self.folded()
        self.mark(m for m in plan.marks if state.get(m["id"], {}).get("state") != "processed")
        self.intent.unlink(missing_ok=True)

    def folded(self) -> dict[str, dict[str, Any]]:
        """Every alert's current state, in arrival order."""
        alerts: dict[str, dict[str, Any]] = {}
        if not self.path.is_file():
            return alerts
        for raw in self.path.read_bytes().splitlines():
            try:
                record = json.loads(raw)
                alerts.setdefault(record["id"], {}).update(record)
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line of a killed writer: never acknowledged
        return alerts


def _line(record: Mapping[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def times_by_fingerprint(alerts: Iterable[Mapping[str, Any]]) -> dict[str, list[datetime]]:
    times: dict[str, list[datetime]] = defaultdict(list)
    for alert in alerts:
        if "fingerprint" in alert and "received_at" in alert:
            times[alert["fingerprint"]].append(parse_timestamp(alert["received_at"]))
    for values in times.values():
        values.sort()
    return times


def open_inbox(settings: Settings, store: IncidentStore) -> Inbox:
    """The inbox of ``settings.backend``; on auto, Postgres's or :class:`StoreUnavailable`."""
    if settings.backend == "jsonl":
        return JsonlInbox(settings.store_dir)
    from gatekeeper.ops.alerts.pg_inbox import PostgresInbox, postgres_store_of

    primary = postgres_store_of(store)
    if primary is None:
        raise StoreUnavailable(
            "postgres unavailable: on auto the alert inbox is in Postgres; nothing was done, "
            "retry when it is back",
            where="alerts",
        )
    return PostgresInbox(primary)
