"""The replay journal of auto mode: writes made while Postgres was away.

``<store_dir>/replay.jsonl`` holds one :class:`WriteBatch` per line, appended
under ``<store_dir>/.replay.lock`` together with the JSONL write it mirrors.
:meth:`ReplayJournal.replay` applies every entry (with ``upsert``, so applying
one twice changes nothing) and empties the journal only after all of them are
committed: a replay cut short is simply run again. Lines that cannot be parsed
are reported, never replayed, and kept in ``replay.jsonl.rejected``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from gatekeeper.errors import Conflict, GatekeeperError, InvalidInput, NotFound
from gatekeeper.models import Artifact, Event, Incident, describe_validation_error
from gatekeeper.store.base import Problem
from gatekeeper.store.fileio import append_lines, ensure_directory, fsync_directory
from gatekeeper.store.locking import exclusive_lock
from gatekeeper.store.notes import Note
from gatekeeper.store.patch import IncidentPatch
from gatekeeper.store.pg_connection import PostgresRefused, PostgresUnreachable
from gatekeeper.store.writes import WriteBatch

JOURNAL = "replay.jsonl"
JOURNAL_LOCK = ".replay.lock"
CONFLICTS = "replay.conflicts.jsonl"
ProblemSink = Callable[[Problem], None]


class JournalEntry(BaseModel):
    """One journal line: a :class:`WriteBatch` as JSON."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    new_incidents: tuple[Incident, ...] = ()
    updated_incidents: tuple[Incident, ...] = ()
    events: tuple[Event, ...] = ()
    artifacts: tuple[Artifact, ...] = ()
    patches: tuple[IncidentPatch, ...] = ()
    notes: tuple[Note, ...] = ()

    @classmethod
    def of(cls, batch: WriteBatch) -> JournalEntry:
        return cls(
            new_incidents=batch.new_incidents,
            updated_incidents=batch.updated_incidents,
            events=batch.events,
            artifacts=batch.artifacts,
            patches=batch.patches,
            notes=batch.notes,
        )

    def to_batch(self) -> WriteBatch:
        return WriteBatch(
            new_incidents=self.new_incidents,
            updated_incidents=self.updated_incidents,
            events=self.events,
            artifacts=self.artifacts,
            patches=self.patches,
            notes=self.notes,
        )

    def encode(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode("utf-8") + b"\n"


class ReplayJournal:
    """The journal file in ``directory``; see the module docstring."""

    def __init__(self, directory: Path, *, on_problem: ProblemSink | None = None) -> None:
        self.directory = directory
        self.path = directory / JOURNAL
        self._on_problem = on_problem or (lambda _problem: None)

    @contextmanager
    def locked(self) -> Iterator[None]:
        ensure_directory(self.directory)
        with exclusive_lock(self.directory / JOURNAL_LOCK):
            yield

    def record(self, batch: WriteBatch, write: Callable[[], None]) -> None:
        """Run ``write`` (the fallback write) and journal ``batch``, under the lock.

        ``write`` goes first: a batch the fallback refuses (conflict, not found)
        is never journaled.
        """
        with self.locked():
            write()
            append_lines(self.path, JournalEntry.of(batch).encode())

    def pending(self) -> int:
        """How many writes await replay (damaged lines included: they need a look)."""
        if not self.path.is_file():
            return 0
        with self.path.open("rb") as handle:
            return sum(1 for line in handle if line.strip())

    def read(self) -> tuple[list[WriteBatch], list[bytes], list[Problem]]:
        """The batches, the raw lines that cannot be parsed, and why."""
        batches: list[WriteBatch] = []
        rejected: list[bytes] = []
        problems: list[Problem] = []
        if not self.path.is_file():
            return batches, rejected, problems
        with self.path.open("rb") as handle:
            for lineno, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    batches.append(
                        JournalEntry.model_validate(json.loads(line.rstrip(b"\r\n"))).to_batch()
                    )
                except Exception as exc:  # any failure to decode one entry: that entry is bad
                    if isinstance(exc, ValidationError):
                        reason = describe_validation_error(exc)
                    elif isinstance(exc, ValueError):
                        reason = f"not JSON: {exc}"
                    else:
                        reason = f"not decodable: {type(exc).__name__}"
                    problems.append(Problem(str(self.path), lineno, reason))
                    rejected.append(line if line.endswith(b"\n") else line + b"\n")
        return batches, rejected, problems

    def replay(
        self,
        apply: Callable[[WriteBatch], None],
        current: Callable[[str], Incident | None] | None = None,
    ) -> int:
        """Apply every entry in order, then empty the journal; return how many were applied.

        Patches apply field-wise to the current row; one made from a version
        the target has moved past is applied and logged in
        ``replay.conflicts.jsonl``. An entry the target refuses (a value it
        cannot store, a missing incident, a conflict) moves to
        ``replay.jsonl.rejected`` with its reason and the rest replay. If the
        target becomes unreachable, the journal is left whole, to be replayed
        again. Concurrent replays take turns on the lock; the loser finds
        nothing left to do.
        """
        if not self.path.is_file():
            return 0
        with self.locked():
            if not self.path.is_file():  # another process replayed it meanwhile
                return 0
            batches, rejected, problems = self.read()
            conflicts: list[bytes] = []
            applied = 0
            for batch in batches:
                if current is not None:
                    conflicts.extend(_conflicts(batch, current))
                try:
                    apply(batch)
                except PostgresUnreachable:
                    raise
                except (PostgresRefused, InvalidInput, Conflict, NotFound) as exc:
                    rejected.append(_rejected_line(batch, exc))
                    continue
                applied += 1
            for problem in problems:
                self._on_problem(problem)
            if conflicts:
                append_lines(self.directory / CONFLICTS, b"".join(conflicts))
            if rejected:
                append_lines(self.rejected_path, b"".join(rejected))
            self.path.unlink(missing_ok=True)
            fsync_directory(self.directory)
        return applied

    @property
    def rejected_path(self) -> Path:
        return self.path.with_name(JOURNAL + ".rejected")

    def counts(self) -> dict[str, int]:
        """Entries quarantined and conflicts logged so far (for ``store info``)."""
        return {
            "replay_rejected": _count_lines(self.rejected_path),
            "replay_conflicts": _count_lines(self.directory / CONFLICTS),
        }

    def verify(self) -> list[Problem]:
        return self.read()[2]


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(1 for line in handle if line.strip())
    except FileNotFoundError:
        return 0


def _rejected_line(batch: WriteBatch, exc: GatekeeperError) -> bytes:
    entry = json.loads(JournalEntry.of(batch).encode())
    return json.dumps({"reason": str(exc), "entry": entry}, ensure_ascii=False).encode() + b"\n"


def _conflicts(batch: WriteBatch, current: Callable[[str], Incident | None]) -> list[bytes]:
    """A line per patch made from a version older than the target's current one."""
    lines = []
    for patch in batch.patches:
        if patch.base_updated_at is None:
            continue
        now = current(patch.incident_id)
        if now is not None and now.updated_at > patch.base_updated_at:
            record = {
                "incident_id": patch.incident_id,
                "fields": patch.named(),
                "based_on": _iso(patch.base_updated_at),
                "target_updated_at": _iso(now.updated_at),
                "applied": "field-wise: only the fields this change named",
            }
            lines.append(json.dumps(record).encode() + b"\n")
    return lines


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
