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
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from gatekeeper.models import Artifact, Event, Incident, describe_validation_error
from gatekeeper.store.base import Problem, WriteBatch
from gatekeeper.store.fileio import append_lines, ensure_directory, fsync_directory
from gatekeeper.store.locking import exclusive_lock
from gatekeeper.store.patch import IncidentPatch

JOURNAL = "replay.jsonl"
JOURNAL_LOCK = ".replay.lock"
ProblemSink = Callable[[Problem], None]


class JournalEntry(BaseModel):
    """One journal line: a :class:`WriteBatch` as JSON."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    new_incidents: tuple[Incident, ...] = ()
    updated_incidents: tuple[Incident, ...] = ()
    events: tuple[Event, ...] = ()
    artifacts: tuple[Artifact, ...] = ()
    patches: tuple[IncidentPatch, ...] = ()

    @classmethod
    def of(cls, batch: WriteBatch) -> JournalEntry:
        return cls(
            new_incidents=batch.new_incidents,
            updated_incidents=batch.updated_incidents,
            events=batch.events,
            artifacts=batch.artifacts,
            patches=batch.patches,
        )

    def to_batch(self) -> WriteBatch:
        return WriteBatch(
            new_incidents=self.new_incidents,
            updated_incidents=self.updated_incidents,
            events=self.events,
            artifacts=self.artifacts,
            patches=self.patches,
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
                except ValueError as exc:
                    reason = (
                        describe_validation_error(exc)
                        if isinstance(exc, ValidationError)
                        else f"not JSON: {exc}"
                    )
                    problems.append(Problem(str(self.path), lineno, reason))
                    rejected.append(line if line.endswith(b"\n") else line + b"\n")
        return batches, rejected, problems

    def replay(self, apply: Callable[[WriteBatch], None]) -> int:
        """Apply every entry in order, then empty the journal; return how many were applied.

        If ``apply`` raises, the journal is left whole, to be replayed again.
        """
        if not self.path.is_file():
            return 0
        with self.locked():
            batches, rejected, problems = self.read()
            for batch in batches:
                apply(batch)
            for problem in problems:
                self._on_problem(problem)
            if rejected:
                append_lines(self.path.with_name(JOURNAL + ".rejected"), b"".join(rejected))
            self.path.unlink()
            fsync_directory(self.directory)
        return len(batches)

    def verify(self) -> list[Problem]:
        return self.read()[2]
