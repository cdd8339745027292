"""The alert inbox: ``alerts.jsonl`` in the store directory.

``alerts add`` appends one line per alert (state ``new``) under the store lock,
a whole batch with one write and one fsync, after validating every line (a bad
line rejects the batch). Triage appends ``{"id", "state": "processed", ...}``
lines; the last line of an id wins, field by field.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gatekeeper.errors import InvalidInput
from gatekeeper.models import ServiceName, Severity, Title, UtcDatetime, describe_validation_error
from gatekeeper.ops.alerts.fingerprint import fingerprint
from gatekeeper.store.fileio import append_lines, ensure_directory
from gatekeeper.store.locking import exclusive_lock
from gatekeeper.timeutil import format_timestamp

INBOX = "alerts.jsonl"
LOCK = ".lock"


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


def parse_alerts(text: str, *, fields: Sequence[str], now: datetime) -> list[dict[str, Any]]:
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
        out.append(_record(data, number, fields, now))
    return out


def _record(
    data: Mapping[str, Any], number: int, fields: Sequence[str], now: datetime
) -> dict[str, Any]:
    try:
        alert = NewAlert.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc, prefix=f"line {number}: ")) from None
    record = alert.model_dump(mode="json")
    record["received_at"] = record["received_at"] or format_timestamp(now)
    try:
        record["fingerprint"] = alert.fingerprint or fingerprint(record, fields)
    except InvalidInput as exc:
        raise InvalidInput(f"line {number}: {exc.message}", where=exc.where) from None
    return {"id": new_alert_id(), "state": "new", **record, "ingested_at": format_timestamp(now)}


class JsonlInbox:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / INBOX

    def add(self, records: Iterable[dict[str, Any]]) -> None:
        ensure_directory(self.directory)
        data = b"".join(_line(r) for r in records)
        with exclusive_lock(self.directory / LOCK):
            append_lines(self.path, data)

    def mark(self, marks: Iterable[dict[str, Any]]) -> None:
        data = b"".join(_line({**m, "state": "processed"}) for m in marks)
        with exclusive_lock(self.directory / LOCK):
            append_lines(self.path, data)

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
