"""The run log: one entry per run of a job (start, end, outcome, outputs, error line).

On JSONL it is ``job_runs.jsonl`` in the store directory, a line when a run
starts and one when it ends (the last line of a ``run_id`` wins); on Postgres
the ``job_runs`` table. ``jobs list`` shows each job's last run from here.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from gatekeeper.ops.place import OpsPlace
from gatekeeper.store.fileio import append_lines, ensure_directory
from gatekeeper.timeutil import format_timestamp, parse_timestamp

RUN_LOG = "job_runs.jsonl"
Outcome = Literal["running", "ok", "failed"]


@dataclass(frozen=True)
class RunEntry:
    run_id: str
    job: str
    slot: datetime
    started_at: datetime
    agent: str | None
    host: str
    pid: int
    outcome: Outcome = "running"
    ended_at: datetime | None = None
    outputs: tuple[str, ...] = ()
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def ended(
        self, at: datetime, outcome: Outcome, outputs: tuple[str, ...], error: str | None
    ) -> RunEntry:
        return replace(self, ended_at=at, outcome=outcome, outputs=outputs, error=error)

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "job": self.job,
            "slot": format_timestamp(self.slot),
            "started_at": format_timestamp(self.started_at),
            "ended_at": format_timestamp(self.ended_at) if self.ended_at else None,
            "outcome": self.outcome,
            "outputs": list(self.outputs),
            "error": self.error,
            "agent": self.agent,
            "host": self.host,
            "pid": self.pid,
        }

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> RunEntry:
        return cls(
            run_id=str(data["run_id"]),
            job=str(data["job"]),
            slot=parse_timestamp(data["slot"]),
            started_at=parse_timestamp(data["started_at"]),
            ended_at=parse_timestamp(data["ended_at"]) if data.get("ended_at") else None,
            outcome=data["outcome"],
            outputs=tuple(data.get("outputs") or ()),
            error=data.get("error"),
            agent=data.get("agent"),
            host=str(data.get("host", "")),
            pid=int(data.get("pid", 0)),
        )


def new_run_id(now: datetime) -> str:
    return f"run_{now.strftime('%Y%m%dT%H%M%SZ')}_{secrets.token_hex(4)}"


class RunLog:
    def __init__(self, place: OpsPlace) -> None:
        self.place = place

    def record(self, entry: RunEntry) -> None:
        """Write the entry (a start, or the same run id again once it ended)."""
        if self.place.kind == "jsonl":
            ensure_directory(self.place.directory)
            line = json.dumps(entry.to_json_dict(), separators=(",", ":")) + "\n"
            append_lines(self.place.directory / RUN_LOG, line.encode())
            return
        from psycopg.types.json import Jsonb

        with self.place.connection() as conn, self.place.translated("run log", conn):
            conn.execute(
                "INSERT INTO job_runs (run_id, job, slot, started_at, ended_at, outcome, record)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (run_id) DO UPDATE SET"
                " ended_at = excluded.ended_at, outcome = excluded.outcome,"
                " record = excluded.record",
                (entry.run_id, entry.job, entry.slot, entry.started_at, entry.ended_at,
                 entry.outcome, Jsonb(entry.to_json_dict())),
            )  # fmt: skip

    def last_runs(self) -> dict[str, RunEntry]:
        """The latest run of each job that has run."""
        latest: dict[str, RunEntry] = {}
        for entry in self._entries():
            known = latest.get(entry.job)
            if known is None or (entry.started_at, entry.run_id) >= (
                known.started_at,
                known.run_id,
            ):
                latest[entry.job] = entry
        return latest

    def _entries(self) -> list[RunEntry]:
        if self.place.kind == "postgres":
            with self.place.connection() as conn, self.place.translated("run log", conn):
                rows = conn.execute(
                    "SELECT DISTINCT ON (job) record FROM job_runs"
                    " ORDER BY job, started_at DESC, run_id DESC"
                ).fetchall()
            return [RunEntry.from_json_dict(row["record"]) for row in rows]
        path = self.place.directory / RUN_LOG
        if not path.is_file():
            return []
        by_id: dict[str, RunEntry] = {}
        for raw in path.read_bytes().splitlines():
            try:
                entry = RunEntry.from_json_dict(json.loads(raw))
            except (ValueError, KeyError, TypeError):
                continue  # a torn line of a killed run: the run shows as its start line
            by_id[entry.run_id] = entry
        return list(by_id.values())
