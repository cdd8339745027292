"""``weekly_backlog_generate``: one backlog item per overdue follow-up and per recurring
signature without an open follow-up.

Items have a stable ``id`` (from the follow-up, or the signature) and a ``status``.
The backlog is ``ops/backlog/items.jsonl`` (or ``--out DIR``) on JSONL and the
``backlog_items`` table on Postgres; every change appends a version (the last per
id wins). A rerun adds nothing for items still open, appends a ``closed`` version
of items whose cause is gone, and an ``open`` one for a cause that came back.
Input ``recurrence`` (default true) can switch the recurring-signature part off.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatekeeper.intelligence.recurrence import RecurrenceGroup, find_recurrence
from gatekeeper.ops.jobs._followups import all_followups
from gatekeeper.ops.outputs import Output, RecordsOutput
from gatekeeper.ops.place import OpsPlace
from gatekeeper.ops.runner import JobContext
from gatekeeper.store.fileio import append_lines, ensure_directory
from gatekeeper.timeutil import format_timestamp

if TYPE_CHECKING:
    from gatekeeper.store import IncidentStore

ITEMS = "items.jsonl"


def item_id(*parts: str) -> str:
    return "bl_" + hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def run(ctx: JobContext) -> list[Output]:
    store = ctx.open_store()
    followups, incidents = all_followups(store)
    current: dict[str, dict[str, Any]] = {}
    for f in followups:
        incident = incidents.get(f.incident_id)
        if incident is None or not f.is_overdue(ctx.now):
            continue
        key = item_id("followup", f.incident_id, f.followup_id)
        current[key] = {
            "id": key, "kind": "overdue_followup", "title": f.title, "service": incident.service,
            "env": incident.env, "owner": f.owner, "priority": f.priority,
            "due": format_timestamp(f.due), "incident_id": f.incident_id,
            "followup_id": f.followup_id,
        }  # fmt: skip
    if ctx.inputs.get("recurrence", True):
        open_by_incident = {f.incident_id for f in followups if f.is_open}
        for group in _recurring_groups(ctx, store):
            ids = [i.id for i in group.incidents]
            if any(i in open_by_incident for i in ids):
                continue  # someone is on it: an open follow-up of one of the incidents
            key = item_id("recurrence", group.signature)
            current[key] = {
                "id": key, "kind": "recurring_signature", "title": group.signature,
                "service": group.service, "count": group.count, "incidents": ids,
                "last_seen": format_timestamp(group.incidents[-1].started_at),
            }  # fmt: skip
    backlog = Backlog(ctx.place, ctx.report_dir("ops/backlog") / ITEMS)
    return [backlog.output(_changes(backlog.latest(), current, ctx))]


def _recurring_groups(ctx: JobContext, store: IncidentStore) -> list[RecurrenceGroup]:
    window = int(ctx.inputs.get("window_days", 28))
    report = find_recurrence(store, now=ctx.now, window_days=window)
    return [g for g in report.groups if g.recurring]


def _changes(
    latest: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]], ctx: JobContext
) -> list[dict[str, Any]]:
    stamp = format_timestamp(ctx.now)
    changes = []
    for key, item in current.items():
        known = latest.get(key)
        if known is None or known["status"] != "open":
            changes.append({**item, "status": "open", "recorded_at": stamp})
    for key, known in latest.items():
        if known["status"] == "open" and key not in current:
            changes.append({**known, "status": "closed", "recorded_at": stamp,
                            "closed_reason": "cause gone"})  # fmt: skip
    return changes


class Backlog:
    def __init__(self, place: OpsPlace, path: Path) -> None:
        self.place = place
        self.path = path

    def latest(self) -> dict[str, dict[str, Any]]:
        if self.place.kind == "postgres":
            with self.place.connection() as conn, self.place.translated("backlog", conn):
                rows = conn.execute(
                    "SELECT DISTINCT ON (id) record FROM backlog_items ORDER BY id, seq DESC"
                ).fetchall()
            return {row["record"]["id"]: row["record"] for row in rows}
        latest: dict[str, dict[str, Any]] = {}
        if self.path.is_file():
            for raw in self.path.read_bytes().splitlines():
                try:
                    record = json.loads(raw)
                    latest[record["id"]] = record
                except (ValueError, KeyError, TypeError):
                    continue
        return latest

    def output(self, changes: list[dict[str, Any]]) -> RecordsOutput:
        def write() -> None:
            if self.place.kind == "postgres":
                from psycopg.types.json import Jsonb

                place = self.place
                with (
                    place.connection() as conn,
                    place.translated("backlog", conn),
                    conn.transaction(),
                ):
                    for c in changes:
                        conn.execute(
                            "INSERT INTO backlog_items (id, status, recorded_at, record)"
                            " VALUES (%s, %s, %s, %s)",
                            (c["id"], c["status"], c["recorded_at"], Jsonb(c)),
                        )
                return
            ensure_directory(self.path.parent)
            data = b"".join(json.dumps(c, sort_keys=True).encode() + b"\n" for c in changes)
            append_lines(self.path, data)

        target = str(self.path) if self.place.kind == "jsonl" else "table backlog_items"
        return RecordsOutput(target, tuple(changes), write)
