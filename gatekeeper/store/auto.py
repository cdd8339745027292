"""Auto mode: Postgres first, JSONL while Postgres is away, nothing lost (see docs/store.md).

When Postgres cannot be reached (at start, or a connection breaks mid-run) the
store says so once on stderr and serves from the JSONL directory. Every write
made meanwhile goes to JSONL *and* to the replay journal
(:mod:`gatekeeper.store.journal`). Postgres is tried again ``retry_s`` seconds
later; whoever connects next (this process after the interval, or the next
process to start) replays the journal idempotently before doing anything else.

Only connection failures (:class:`PostgresUnreachable`) cause a fallback: a
conflict, a missing incident or an unmigrated schema is an error like anywhere
else. A stream (``iter_*``) that loses its connection half-way fails.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from gatekeeper.config import Settings
from gatekeeper.errors import NotFound, StoreUnavailable
from gatekeeper.models import Artifact, Event, Incident
from gatekeeper.store.base import (
    Collectors,
    GateRead,
    IncidentFilter,
    IncidentStore,
    Problem,
    ServiceRecord,
    collecting,
    incident_scopes,
)
from gatekeeper.store.journal import ReplayJournal
from gatekeeper.store.jsonl import JsonlIncidentStore, report_to_stderr
from gatekeeper.store.pg_connection import PostgresNoAnswer, PostgresTarget, PostgresUnreachable
from gatekeeper.store.writes import CompactResult, WriteBatch

T = TypeVar("T")


def warn_on_stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


class AutoIncidentStore:
    """Postgres with a journaled JSONL fallback; see the module docstring."""

    backend = "auto"

    def __init__(
        self,
        fallback: JsonlIncidentStore,
        connect: Callable[[], IncidentStore],
        *,
        retry_s: float,
        clock: Callable[[], float] = time.monotonic,
        warn: Callable[[str], None] = warn_on_stderr,
    ) -> None:
        self._fallback = fallback
        self._connect = connect
        self._journal = ReplayJournal(fallback.directory, on_problem=report_to_stderr)
        self._retry_s = retry_s
        self._clock = clock
        self._warn = warn
        self._primary: IncidentStore | None = None
        self._reason: str | None = None
        self._retry_at = clock()
        self._warned = False
        self.replayed = 0
        # Switching between backends is one step at a time, whatever the threads.
        self._lock = threading.RLock()
        self._collectors = Collectors()

    @classmethod
    def from_settings(cls, settings: Settings) -> AutoIncidentStore:
        """Try Postgres now (replaying any journal); fall back to ``settings.store_dir``."""
        from gatekeeper.store.postgres import PostgresIncidentStore

        PostgresTarget.parse(settings.database_url)  # a bad URL is a config error, not an outage
        store = cls(
            JsonlIncidentStore(settings.store_dir),
            lambda: PostgresIncidentStore.from_settings(settings),
            retry_s=settings.auto_retry_s,
        )
        store._current()
        return store

    # -- choosing the backend ----------------------------------------------------

    def _current(self) -> IncidentStore | None:
        """Postgres if it is (or, the retry interval over, again) reachable; else None."""
        with self._lock:
            if self._primary is None and self._clock() >= self._retry_at:
                self._reconnect()
            return self._primary

    def _reconnect(self) -> None:
        try:
            primary = self._connect()
        except PostgresUnreachable as exc:
            self._degrade(exc)
            return
        try:
            self.replayed += self._journal.replay(
                lambda b: primary.write(b, upsert=True), lambda i: _current_of(primary, i)
            )
        except PostgresUnreachable as exc:
            primary.close()
            self._degrade(exc)
            return
        except BaseException:
            primary.close()
            raise
        self._primary, self._reason = primary, None

    def _degrade(self, exc: PostgresUnreachable) -> None:
        with self._lock:
            if self._primary is not None:
                self._primary.close()
                self._primary = None
            self._reason = exc.message
            self._retry_at = self._clock() + self._retry_s
            if self._warned:
                return
            self._warned = True
        self._warn(
            f"postgres unavailable ({exc.message}); using jsonl at {self._fallback.directory}"
        )

    def _read(self, operation: Callable[[IncidentStore], T]) -> T:
        primary = self._current()
        if primary is not None:
            try:
                with self._collected(primary):
                    return operation(primary)
            except PostgresUnreachable as exc:
                self._degrade(exc)
        with self._collected(self._fallback):
            return operation(self._fallback)

    def collecting(self, into: list[Problem]) -> AbstractContextManager[None]:
        """See :func:`~gatekeeper.store.base.collecting`: whichever backend each read uses."""
        return self._collectors.block(into)

    @contextmanager
    def _collected(self, backend: IncidentStore) -> Iterator[None]:
        with ExitStack() as stack:
            for into in self._collectors:
                stack.enter_context(collecting(backend, into))
            yield

    @property
    def degraded(self) -> bool:
        return self._primary is None

    def reachable_primary(self) -> IncidentStore | None:
        """The Postgres store if it is reachable now (after a retry that is due), else None."""
        return self._current()

    # -- the IncidentStore contract ----------------------------------------------

    def write(self, batch: WriteBatch, *, upsert: bool = False) -> None:
        """Write to Postgres; while it is away, to JSONL and the replay journal.

        A connection lost during the write leaves it unknown whether the COMMIT
        landed, so the batch is sent once more with upsert (what landed is
        skipped, a patch re-applies field-wise: idempotent) before falling back.
        A server that does not answer at all is not tried twice: its deadline
        already passed once.
        """
        if batch.is_empty():
            return
        primary = self._current()
        lost: PostgresUnreachable | None = None
        if primary is not None:
            try:
                primary.write(batch, upsert=upsert)
                return
            except PostgresUnreachable as exc:
                lost = exc
            try:
                if isinstance(lost, PostgresNoAnswer):
                    raise lost
                primary.write(batch, upsert=True)  # on a new connection
                return
            except PostgresUnreachable as exc:
                # Committed or not, replaying the batch later is idempotent.
                self._degrade(exc)
        try:
            self._journal.record(batch, lambda: self._fallback.write(batch, upsert=upsert))
        except NotFound as exc:
            if lost is None:
                raise
            raise StoreUnavailable(
                f"postgres went away during the write ({lost.message}), which may have "
                f"committed; the jsonl fallback does not hold {exc.where}: retry once "
                "postgres is back",
                where=exc.where,
            ) from exc

    def get_incident(self, incident_id: str) -> Incident:
        return self._read(lambda store: store.get_incident(incident_id))

    def list_incidents(self, query: IncidentFilter) -> list[Incident]:
        return self._read(lambda store: store.list_incidents(query))

    def incident_scopes(self, queries: Sequence[IncidentFilter]) -> dict[str, set[str]]:
        return self._read(lambda store: incident_scopes(store, queries))

    def events(self, incident_id: str) -> list[Event]:
        return self._read(lambda store: store.events(incident_id))

    def last_event_times(self, incident_ids: Collection[str]) -> dict[str, datetime]:
        return self._read(lambda store: store.last_event_times(incident_ids))

    def events_of(self, incident_ids: Collection[str]) -> dict[str, list[Event]]:
        return self._read(lambda store: store.events_of(incident_ids))

    def artifacts(self, incident_id: str) -> list[Artifact]:
        return self._read(lambda store: store.artifacts(incident_id))

    def gate_records(
        self, env: str, services: Sequence[str], since: datetime
    ) -> dict[str, ServiceRecord]:
        return self._read(lambda store: store.gate_records(env, services, since))

    def gate_read(self, env: str, services: Sequence[str], since: datetime) -> GateRead:
        """Postgres' answer, or the fallback's marked ``degraded`` (never passed off as whole)."""
        primary = self._current()
        if primary is not None:
            try:
                with self._collected(primary):
                    read = primary.gate_read(env, services, since)
            except PostgresUnreachable as exc:
                self._degrade(exc)
            else:
                return replace(read, backend=self.backend)
        try:
            with self._collected(self._fallback):
                read = self._fallback.gate_read(env, services, since)
        except StoreUnavailable as exc:
            raise StoreUnavailable(
                f"postgres unavailable ({self._reason}) and the fallback cannot answer: "
                f"{exc.message}",
                where=exc.where,
            ) from exc
        return replace(read, backend=self.backend, degraded=True, degraded_reason=self._reason)

    def iter_incidents(self) -> Iterator[Incident]:
        return self._read(lambda store: store.iter_incidents())

    def iter_events(self) -> Iterator[Event]:
        return self._read(lambda store: store.iter_events())

    def iter_artifacts(self) -> Iterator[Artifact]:
        return self._read(lambda store: store.iter_artifacts())

    def info(self) -> dict[str, Any]:
        """The active backend's info, plus whether degraded and the writes awaiting replay."""
        details = self._read(lambda store: store.info())
        return {
            "backend": self.backend,
            "active": details.pop("backend"),
            "degraded": self.degraded,
            "unavailable_reason": self._reason,
            "pending_replay": self._journal.pending(),
            **self._journal.counts(),
            "fallback": str(self._fallback.directory),
            **details,
        }

    def verify(self) -> list[Problem]:
        return [*self._read(lambda store: store.verify()), *self._journal.verify()]

    def compact(self) -> CompactResult:
        return self._read(lambda store: store.compact())

    def close(self) -> None:
        with self._lock:
            if self._primary is not None:
                self._primary.close()
                self._primary = None

    def delete_incidents(self, incident_ids: Collection[str]) -> list[str]:
        """Postgres only: removing from the fallback would be undone by the next replay."""
        primary = self._current()
        if primary is None:
            raise StoreUnavailable(
                f"postgres unavailable ({self._reason}); retention needs it", where="auto"
            )
        return primary.delete_incidents(incident_ids)


def _current_of(store: IncidentStore, incident_id: str) -> Incident | None:
    try:
        return store.get_incident(incident_id)
    except NotFound:
        return None
