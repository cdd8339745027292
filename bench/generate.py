"""Generate a realistic, deterministic incident store for benchmarks.

    python -m bench.generate --incidents 10000 --out bench/data/10k
    python -m bench.generate --incidents 10000 --out bench/data/10k --database-url postgresql://…

N incidents across 200 services and 3 environments, severities skewed towards
P2–P3, ~10 events per incident, follow-ups on ~30% of incidents (a share of
them overdue at ``REFERENCE_NOW``), a postmortem on most resolved P0/P1s. An
incident that was resolved has two versions, as the CLI would write them: the
first when it opened, the last when it was resolved, so readers must apply
"the last version wins". Records go through the project's own write path
(validated models, ``IncidentStore.write``), in batches of ``BATCH`` incidents.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gatekeeper.models import Artifact, Event, Incident
from gatekeeper.store import IncidentStore, WriteBatch
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.store.jsonl_index import snapshot
from gatekeeper.timeutil import format_timestamp

REFERENCE_NOW = datetime(2026, 6, 1, tzinfo=UTC)
SERVICES = [f"svc-{n:03d}" for n in range(200)]
ENVS = ["dev", "staging", "prod"]
SEVERITY_WEIGHTS = {"P0": 2, "P1": 8, "P2": 35, "P3": 40, "P4": 15}
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
TITLES = [
    "5xx rate above {n}%",
    "Latency p99 above {n}00ms",
    "Queue backlog over {n}k messages",
    "Disk {n}% full on primary",
    "Certificate expires in {n} days",
    "Error budget burn rate x{n}",
]
BATCH = 500


class Generator:
    """Deterministic records from a seed; ``incidents()`` yields one batch per incident."""

    def __init__(self, seed: int, now: datetime = REFERENCE_NOW, span_days: int = 365) -> None:
        self.rnd = random.Random(seed)
        self.now = now
        self.span = timedelta(days=span_days)
        self.event_counter = 0

    def _suffix(self, length: int) -> str:
        return "".join(self.rnd.choice(ALPHABET) for _ in range(length))

    def _event(
        self,
        incident: Incident,
        ts: datetime,
        type: str,
        message: str,
        meta: dict[str, Any] | None = None,
    ) -> Event:
        self.event_counter += 1
        return Event(
            id=f"evt_{self.event_counter:016x}",
            incident_id=incident.id,
            ts=ts,
            recorded_at=ts,
            type=type,
            message=message,
            meta=meta or {},
            actor="helion",
        )

    def incident(self) -> tuple[Incident, Incident, list[Event], list[Artifact]]:
        """The first and the last version of one incident, its timeline, its artifacts."""
        rnd = self.rnd
        started = self.now - self.span * rnd.random() ** 1.3
        severity = rnd.choices(list(SEVERITY_WEIGHTS), weights=list(SEVERITY_WEIGHTS.values()))[0]
        age = self.now - started
        active = rnd.random() < (0.5 if age < timedelta(days=3) else 0.02)
        resolved_at = None if active else started + timedelta(minutes=rnd.randint(10, 600))
        status = rnd.choice(["open", "mitigated"]) if active else rnd.choice(["resolved", "closed"])
        last = Incident(
            id=f"inc_{started:%Y%m%d_%H%M}_{self._suffix(6)}",
            service=rnd.choice(SERVICES),
            env=rnd.choices(ENVS, weights=[2, 3, 5])[0],
            severity=severity,
            status=status,
            title=rnd.choice(TITLES).format(n=rnd.randint(2, 9)),
            started_at=started,
            created_at=started,
            updated_at=resolved_at or started,
            resolved_at=resolved_at,
            closed_at=resolved_at if status == "closed" else None,
            created_by="helion",
            labels={"team": f"team-{rnd.randint(1, 40)}"},
        )
        first = last.model_copy(
            update={"status": "open", "updated_at": started, "resolved_at": None, "closed_at": None}
        )
        return first, last, self._timeline(last), self._artifacts(last)

    def _artifacts(self, incident: Incident) -> list[Artifact]:
        """Postmortem metadata (no file) for most resolved P0/P1s: what the gate looks for."""
        resolved = incident.resolved_at
        if resolved is None or incident.severity not in ("P0", "P1") or self.rnd.random() > 0.8:
            return []
        content = f"# Postmortem {incident.id}\n".encode()
        return [
            Artifact(
                incident_id=incident.id,
                name="postmortem.md",
                kind="md",
                size_bytes=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                created_at=resolved + timedelta(days=self.rnd.randint(1, 7)),
                created_by="helion",
            )
        ]

    def _timeline(self, incident: Incident) -> list[Event]:
        rnd, t = self.rnd, incident.started_at
        events = [self._event(incident, t, "status_change", "incident opened", {"to": "open"})]
        for _ in range(rnd.randint(5, 9)):
            t += timedelta(minutes=rnd.randint(1, 30))
            kind = rnd.choice(["note", "note", "ack", "alert", "escalation"])
            events.append(self._event(incident, t, kind, f"{kind} at {format_timestamp(t)}"))
        if incident.resolved_at is not None:
            events.append(
                self._event(
                    incident,
                    incident.resolved_at,
                    "status_change",
                    f"status open -> {incident.status}",
                    {"from": "open", "to": incident.status},
                )
            )
        if rnd.random() < 0.3:
            events.extend(self._followups(incident, t))
        return events

    def _followups(self, incident: Incident, t: datetime) -> Iterator[Event]:
        rnd = self.rnd
        for n in range(rnd.randint(1, 3)):
            followup_id = f"fu_{self._suffix(8)}"
            due = t + timedelta(days=rnd.randint(3, 30))
            yield self._event(
                incident,
                t,
                "followup",
                "follow-up added",
                {
                    "followup_id": followup_id,
                    "title": f"Action item {n + 1}",
                    "owner": f"owner-{rnd.randint(1, 60)}",
                    "priority": rnd.choice(["P1", "P2", "P3"]),
                    "status": "open",
                    "due": format_timestamp(due),
                },
            )
            final = rnd.choices(["done", "open", "in_progress"], weights=[60, 25, 15])[0]
            if final != "open":
                when = min(self.now, t + timedelta(days=rnd.randint(1, 20)))
                yield self._event(
                    incident,
                    when,
                    "followup",
                    "follow-up updated",
                    {"followup_id": followup_id, "status": final},
                )


def generate(store: IncidentStore, count: int, seed: int = 7, span_days: int = 365) -> None:
    """Write ``count`` incidents started over ``span_days`` into ``store``, in batches.

    Each batch is two writes: the first versions with the events and
    artifacts, then the later versions of the incidents that were resolved.
    """
    gen = Generator(seed, span_days=span_days)
    for start in range(0, count, BATCH):
        firsts, lasts, events, artifacts = [], [], [], []
        for _ in range(min(BATCH, count - start)):
            first, last, timeline, attached = gen.incident()
            firsts.append(first)
            if last != first:
                lasts.append(last)
            events.extend(timeline)
            artifacts.extend(attached)
        store.write(
            WriteBatch(
                new_incidents=tuple(firsts), events=tuple(events), artifacts=tuple(artifacts)
            )
        )
        store.write(WriteBatch(updated_incidents=tuple(lasts)))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--incidents", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="JSONL store directory")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--span-days", type=int, default=365, help="the history the incidents start over"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep a store already there (re-indexed if stale)"
    )
    parser.add_argument("--database-url", help="also load into this PostgreSQL database")
    parser.add_argument("--schema", default="bench", help="the schema to load into")
    return parser


def ensure_indexed(directory: Path) -> None:
    """Rebuild the sidecar index if it does not describe the files (untimed preparation)."""
    with snapshot(directory) as index:
        current = index is not None
    if not current:
        JsonlIncidentStore(directory).reindex()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if (args.out / "incidents.jsonl").exists():
        if not args.reuse:
            print(f"error: {args.out} already holds a store (see --reuse)", file=sys.stderr)
            return 1
        ensure_indexed(args.out)
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        generate(JsonlIncidentStore(args.out), args.incidents, args.seed, args.span_days)
    if args.database_url:
        from bench.pg import ensure_loaded

        ensure_loaded(args.out, args.database_url, args.schema)
    return 0


if __name__ == "__main__":
    sys.exit(main())
