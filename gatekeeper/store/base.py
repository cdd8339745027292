"""The incident store contract that every backend implements (see docs/store.md).

Backends live one per module beside this file (``jsonl``, ``postgres``, ``auto``)
and are opened through :func:`gatekeeper.store.open_store`. The same behavioural
test suite (``tests/store/test_contract.py``) runs against each of them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from gatekeeper._frozen import frozen
from gatekeeper.followups import fold_followups
from gatekeeper.models import Artifact, Event, FollowUp, Incident

if TYPE_CHECKING:  # writes only: `check` never builds these
    from gatekeeper.store.writes import CompactResult, WriteBatch


@frozen
class IncidentFilter:
    """Filters for :meth:`IncidentStore.list_incidents`; ``None`` means any.

    ``since``/``until`` bound ``started_at`` (inclusive/exclusive). Results are
    newest first by ``started_at``, then by id, and cut at ``limit``.
    """

    status: frozenset[str] | None = None
    service: str | None = None
    env: str | None = None
    severity: frozenset[str] | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = 20

    def matches(self, incident: Incident) -> bool:
        return (
            (self.status is None or incident.status in self.status)
            and (self.service is None or incident.service == self.service)
            and (self.env is None or incident.env == self.env)
            and (self.severity is None or incident.severity in self.severity)
            and (self.since is None or incident.started_at >= self.since)
            and (self.until is None or incident.started_at < self.until)
        )


def newest_first_key(incident: Incident) -> tuple[datetime, str]:
    return (incident.started_at, incident.id)


def last_of_type(events: Iterable[Event], type: str) -> Event | None:
    """The last event of ``type``, in timeline order (``ts``, ``recorded_at``, ``id``)."""
    of_type = [e for e in events if e.type == type]
    return max(of_type, key=lambda e: (e.ts, e.recorded_at, e.id)) if of_type else None


def listed_scopes(store: IncidentStore, queries: Sequence[IncidentFilter]) -> dict[str, set[str]]:
    """The (env -> services) of the incidents ``store.list_incidents`` answers to each query."""
    scopes: dict[str, set[str]] = {}
    for query in queries:
        for incident in store.list_incidents(query):
            scopes.setdefault(incident.env, set()).add(incident.service)
    return scopes


def incident_scopes(store: IncidentStore, queries: Sequence[IncidentFilter]) -> dict[str, set[str]]:
    """Which (env -> services) have incidents matching any of ``queries`` (no limit).

    A backend that can answer without decoding every incident (an index, SQL)
    does so through its own ``incident_scopes``; any other store lists them.
    """
    own = getattr(store, "incident_scopes", None)
    if own is not None:
        found: dict[str, set[str]] = own(queries)
        return found
    return listed_scopes(store, queries)


class Collectors:
    """A store's open :func:`collecting` blocks: each list gets what is met inside it, once."""

    def __init__(self) -> None:
        self._open: list[tuple[list[Problem], set[Problem]]] = []

    def __iter__(self) -> Iterator[list[Problem]]:
        return iter([into for into, _seen in self._open])

    @contextmanager
    def block(self, into: list[Problem]) -> Iterator[None]:
        entry: tuple[list[Problem], set[Problem]] = (into, set())
        self._open.append(entry)
        try:
            yield
        finally:  # by identity: two empty lists are equal
            self._open = [e for e in self._open if e is not entry]

    def add(self, problems: Iterable[Problem]) -> None:
        found = list(problems)
        for into, seen in self._open:
            for problem in found:
                if problem not in seen:
                    seen.add(problem)
                    into.append(problem)


@contextmanager
def collecting(store: IncidentStore, into: list[Problem]) -> Iterator[None]:
    """Append to ``into`` every damaged record ``store``'s reads meet inside the block.

    Every read reports a damaged record (to stderr, once); inside this block it is
    also collected, even if an earlier read reported it already, so an answer
    built from several reads can say what it could not see. A store without its
    own ``collecting`` collects nothing.
    """
    own = getattr(store, "collecting", None)
    if own is None:
        yield
        return
    with own(into):
        yield


@frozen
class ServiceRecord:
    """What the gate reads about one service in one environment.

    ``incidents`` holds the service's incidents in ``env`` that are active or
    started at/after ``since``; ``followups`` their folded follow-ups (whatever
    the incident's status); ``artifacts`` their artifacts by incident id.
    """

    service: str
    env: str
    incidents: list[Incident] = field(default_factory=list)
    followups: list[FollowUp] = field(default_factory=list)
    artifacts: dict[str, list[Artifact]] = field(default_factory=dict)


def latest_artifacts(artifacts: Iterable[Artifact]) -> list[Artifact]:
    """The current metadata of each artifact: the last record per (incident, name).

    Attaching under an existing name replaces the file, so only the last
    record describes bytes that still exist. Ordered by creation time, then name.
    """
    latest: dict[tuple[str, str], Artifact] = {}
    for artifact in artifacts:
        latest[(artifact.incident_id, artifact.name)] = artifact
    return sorted(latest.values(), key=lambda a: (a.created_at, a.name))


def service_records(
    env: str,
    services: Sequence[str],
    incidents: Sequence[Incident],
    events: Iterable[Event],
    artifacts: Iterable[Artifact],
) -> dict[str, ServiceRecord]:
    """Group what a backend read for ``gate_records`` into one record per service.

    ``incidents`` must already be the relevant ones; ``events`` may hold any
    type (only follow-ups are folded); ``artifacts`` may hold old versions.
    """
    wanted = set(services)
    of_service: dict[str, list[Incident]] = {service: [] for service in wanted}
    service_of: dict[str, str] = {}
    for incident in incidents:
        if incident.service in wanted:
            of_service[incident.service].append(incident)
            service_of[incident.id] = incident.service
    # One pass over each list, grouped by service in their own order.
    artifacts_of: dict[str, dict[str, list[Artifact]]] = {service: {} for service in wanted}
    for artifact in latest_artifacts(artifacts):
        if (owner := service_of.get(artifact.incident_id)) is not None:
            artifacts_of[owner].setdefault(artifact.incident_id, []).append(artifact)
    followups_of: dict[str, list[FollowUp]] = {service: [] for service in wanted}
    for followup in fold_followups(events):
        if (owner := service_of.get(followup.incident_id)) is not None:
            followups_of[owner].append(followup)
    out: dict[str, ServiceRecord] = {}
    for service in services:
        out[service] = ServiceRecord(
            service=service,
            env=env,
            incidents=sorted(of_service[service], key=newest_first_key, reverse=True),
            followups=followups_of[service],
            artifacts=artifacts_of[service],
        )
    return out


@frozen
class Problem:
    """A damaged record found while reading: reported, skipped, never fatal."""

    path: str
    line: int
    reason: str
    what: str = "skipped corrupt record"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what} ({self.reason})"


@frozen
class GateRead:
    """The gate's one read of the store, with what it needs to know to trust it.

    ``records`` has one :class:`ServiceRecord` per requested service. ``skipped``
    lists every damaged record the read could not rule out as irrelevant;
    ``degraded`` says the answer came from a fallback that may not hold
    everything (auto mode while PostgreSQL is unreachable). ``location`` never
    carries a password.
    """

    records: dict[str, ServiceRecord]
    backend: str
    location: str
    skipped: tuple[Problem, ...] = ()
    degraded: bool = False
    degraded_reason: str | None = None


class IncidentStore(Protocol):
    """A place incidents, events and artifact metadata are kept."""

    backend: str

    def write(self, batch: WriteBatch, *, upsert: bool = False) -> None:
        """Write every record of ``batch`` atomically.

        With ``upsert`` (import and journal replay) records that exist already
        are skipped by id instead of raising, so replaying a batch is idempotent.
        """
        ...

    def get_incident(self, incident_id: str) -> Incident:
        """The latest version of an incident; :class:`NotFound` if there is none."""
        ...

    def list_incidents(self, query: IncidentFilter) -> list[Incident]: ...

    def events(self, incident_id: str) -> list[Event]:
        """The incident's timeline in time order (``ts``, ``recorded_at``, id)."""
        ...

    def artifacts(self, incident_id: str) -> list[Artifact]: ...

    def last_event_times(self, incident_ids: Collection[str]) -> dict[str, datetime]:
        """The latest event ``ts`` of each incident that has events, read in one pass."""
        ...

    def events_of(self, incident_ids: Collection[str]) -> dict[str, list[Event]]:
        """The timelines of these incidents (those with events), each in time order, one pass."""
        ...

    def gate_records(
        self, env: str, services: Sequence[str], since: datetime
    ) -> dict[str, ServiceRecord]:
        """One :class:`ServiceRecord` per requested service, read in one pass."""
        ...

    def gate_read(self, env: str, services: Sequence[str], since: datetime) -> GateRead:
        """:meth:`gate_records` with the skipped records and the degraded flag."""
        ...

    def iter_incidents(self) -> Iterator[Incident]: ...

    def iter_events(self) -> Iterator[Event]: ...

    def iter_artifacts(self) -> Iterator[Artifact]: ...

    def info(self) -> dict[str, Any]:
        """Backend name, location, record counts (and for auto: pending replays)."""
        ...

    def verify(self) -> list[Problem]: ...

    def compact(self) -> CompactResult: ...

    def close(self) -> None: ...

    def delete_incidents(self, incident_ids: Collection[str]) -> list[str]:
        """Remove these incidents with their events and artifact metadata (retention).

        Each incident goes whole or not at all; returns the ids that were removed.
        """
        ...
