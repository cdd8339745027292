"""The risk history: one record per slot, service and env (``hourly_risk_snapshot``).

JSONL: ``risk_history.jsonl`` in the store directory (a slot already recorded is
not appended again, so a double fire adds nothing); Postgres: ``risk_history``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gatekeeper.ops.outputs import RecordsOutput
from gatekeeper.ops.place import OpsPlace
from gatekeeper.store.fileio import append_lines, ensure_directory
from gatekeeper.timeutil import format_timestamp

RISK_HISTORY = "risk_history.jsonl"


def risk_history_output(
    place: OpsPlace, slot: datetime, scores: Sequence[dict[str, Any]]
) -> RecordsOutput:
    stamp = format_timestamp(slot)
    records = tuple({"slot": stamp, **score} for score in scores)

    def write() -> None:
        if place.kind == "postgres":
            _write_postgres(place, slot, records)
            return
        ensure_directory(place.directory)
        path = place.directory / RISK_HISTORY
        if path.is_file() and f'"slot":"{stamp}"'.encode() in path.read_bytes():
            return
        lines = b"".join(
            json.dumps(r, separators=(",", ":"), sort_keys=True).encode() + b"\n" for r in records
        )
        append_lines(path, lines)

    target = RISK_HISTORY if place.kind == "jsonl" else "table risk_history"
    where = place.directory / target if place.kind == "jsonl" else target
    return RecordsOutput(str(where), records, write)


def _write_postgres(place: OpsPlace, slot: datetime, records: Sequence[dict[str, Any]]) -> None:
    from psycopg.types.json import Jsonb

    with place.connection() as conn, place.translated("risk history", conn), conn.transaction():
        for record in records:
            conn.execute(
                "INSERT INTO risk_history (slot, service, env, score, record)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (slot, service, env)"
                " DO UPDATE SET score = excluded.score, record = excluded.record",
                (slot, record["service"], record["env"], float(record["score"]), Jsonb(record)),
            )
