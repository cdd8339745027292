"""How the analyses read the store: a bounded window, through the gate's one-pass read.

Every analysis reads incidents that started within a window (plus the active
ones where it says so), their folded follow-ups and their artifacts, one
:meth:`~gatekeeper.store.base.IncidentStore.gate_read` per environment. What
the read could not trust (skipped lines, a degraded fallback) travels with the
answer, so a report never passes off a partial read as a whole one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gatekeeper.errors import ConfigError
from gatekeeper.models import ACTIVE_STATUSES, NAME_RE, Artifact, FollowUp, Incident
from gatekeeper.store.base import (
    IncidentFilter,
    IncidentStore,
    Problem,
    ServiceRecord,
    collecting,
    incident_scopes,
)


@dataclass
class Window:
    """What one bounded read returned, grouped by (service, env)."""

    records: dict[tuple[str, str], ServiceRecord] = field(default_factory=dict)
    skipped: list[Problem] = field(default_factory=list)
    degraded: bool = False

    def incidents(self) -> list[Incident]:
        return [i for r in self.records.values() for i in r.incidents]

    def followups(self) -> list[FollowUp]:
        return [f for r in self.records.values() for f in r.followups]

    def artifacts(self) -> dict[str, list[Artifact]]:
        return {k: v for r in self.records.values() for k, v in r.artifacts.items()}

    def provenance(self) -> dict[str, Any]:
        unique = dict.fromkeys(str(p) for p in self.skipped)
        return {"degraded": self.degraded, "skipped_records": list(unique)}

    @contextmanager
    def noticing(self, store: IncidentStore) -> Iterator[None]:
        """Count what reads of ``store`` inside the block skip as skipped by this window.

        For an analysis that reads more than the window (a timeline, say): what
        those reads could not see travels with the answer too.
        """
        noticed: list[Problem] = []
        try:
            with collecting(store, noticed):
                yield
        finally:
            self.skipped.extend(noticed)


def read_window(
    store: IncidentStore,
    since: datetime,
    *,
    service: str | None = None,
    env: str | None = None,
    with_active: bool = True,
    candidates: Iterable[Incident] = (),
) -> Window:
    """Incidents started at/after ``since`` (and active ones) with follow-ups and artifacts.

    ``candidates`` adds scopes (service, env) to read beyond those found in the window.
    """
    _check_filter("service", service)
    _check_filter("env", env)
    queries = [IncidentFilter(since=since, service=service, env=env, limit=None)]
    if with_active:
        queries.append(IncidentFilter(status=ACTIVE_STATUSES, service=service, env=env, limit=None))
    window = Window()
    # Everything the reads skip is the window's, even a damaged line that only the
    # look for scopes met (its scope may then be unknown, so no gate_read sees it).
    with window.noticing(store):
        # Only where to read: the backends answer it without decoding the incidents.
        scopes = incident_scopes(store, queries)
        for incident in candidates:
            scopes.setdefault(incident.env, set()).add(incident.service)
        for scope_env in sorted(scopes):
            read = store.gate_read(scope_env, sorted(scopes[scope_env]), since)
            window.skipped.extend(read.skipped)
            window.degraded = window.degraded or read.degraded
            for name, record in read.records.items():
                if not with_active:
                    record = _started_since(record, since)
                if record.incidents:
                    window.records[(name, scope_env)] = record
    return window


def _check_filter(where: str, value: str | None) -> None:
    """A name no record can hold is a mistake to say, not an empty answer to give."""
    if value is not None and not NAME_RE.fullmatch(value):
        raise ConfigError(f"{value!r} is not a name (must match {NAME_RE.pattern})", where=where)


def _started_since(record: ServiceRecord, since: datetime) -> ServiceRecord:
    kept = [i for i in record.incidents if i.started_at >= since]
    ids = {i.id for i in kept}
    return ServiceRecord(
        service=record.service,
        env=record.env,
        incidents=kept,
        followups=[f for f in record.followups if f.incident_id in ids],
        artifacts={k: v for k, v in record.artifacts.items() if k in ids},
    )
