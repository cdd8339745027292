"""The incident service: every read and write the CLI and the tool interface make.

It checks permissions (see README.md, Roles) before touching the store, records the acting
agent on what it writes, and turns requests into validated records. The CLI and
``oncall_tool`` are thin fronts over this class, so both behave the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from gatekeeper.artifacts import ArtifactFile, check_folder, prepare_artifact
from gatekeeper.config import Settings
from gatekeeper.errors import InvalidInput, NotFound
from gatekeeper.followups import DEFAULT_SLA_DAYS, default_due, fold_followups, policy_sla_days
from gatekeeper.inputs import (
    FollowupChanges,
    IncidentChanges,
    NewEvent,
    NewFollowup,
    NewIncident,
    parse_input,
)
from gatekeeper.models import (
    ACTIVE_STATUSES,
    FOLLOWUP_ID_RE,
    INCIDENT_ID_RE,
    Artifact,
    Event,
    FollowUp,
    Incident,
    describe_validation_error,
    new_event_id,
    new_followup_id,
    new_incident_id,
)
from gatekeeper.rbac import Rbac, load_rbac
from gatekeeper.store import IncidentFilter, IncidentStore, WriteBatch
from gatekeeper.store.notes import Note
from gatekeeper.store.patch import apply_patch, make_patch
from gatekeeper.timeutil import format_timestamp

M = TypeVar("M", Incident, Event)


@dataclass(frozen=True)
class IncidentDetails:
    """An incident with its timeline, folded follow-ups and artifacts."""

    incident: Incident
    events: list[Event]
    followups: list[FollowUp]
    artifacts: list[Artifact]

    def to_json_dict(self) -> dict[str, Any]:
        return {
            **self.incident.to_json_dict(),
            "events": [e.to_json_dict() for e in self.events],
            "followups": [f.to_json_dict() for f in self.followups],
            "artifacts": [a.to_json_dict() for a in self.artifacts],
        }


@dataclass
class IncidentService:
    """Permission-checked operations on one store, acting for one agent."""

    store: IncidentStore
    rbac: Rbac
    artifacts_dir: Path
    agent: str | None = None
    # Called only when a follow-up is added without a due date, so a policy
    # problem cannot get in the way of the other incident operations.
    sla_days: Callable[[], Mapping[str, int]] = lambda: DEFAULT_SLA_DAYS

    # -- reads -------------------------------------------------------------------

    def get(self, incident_id: str) -> IncidentDetails:
        incident = self._incident(incident_id)
        events = self.store.events(incident_id)
        return IncidentDetails(
            incident=incident,
            events=events,
            followups=fold_followups(events),
            artifacts=self.store.artifacts(incident_id),
        )

    def list_incidents(self, query: IncidentFilter) -> list[Incident]:
        if query.limit is not None and not 1 <= query.limit <= 1000:
            raise InvalidInput("limit must be between 1 and 1000", where="limit")
        return self.store.list_incidents(query)

    def stale(self, query: IncidentFilter, *, stale_days: int, now: datetime) -> list[Incident]:
        """Active incidents whose last event is older than ``stale_days`` (the daily review)."""
        if stale_days < 1:
            raise InvalidInput("must be at least 1", where="stale_days")
        cutoff = now - timedelta(days=stale_days)
        active = IncidentFilter(
            status=frozenset(ACTIVE_STATUSES) & (query.status or frozenset(ACTIVE_STATUSES)),
            service=query.service,
            env=query.env,
            severity=query.severity,
            since=query.since,
            until=query.until,
            limit=None,
        )
        candidates = self.store.list_incidents(active)
        last_events = self.store.last_event_times([i.id for i in candidates])
        stale = [
            i for i in candidates if max(i.updated_at, last_events.get(i.id, i.updated_at)) < cutoff
        ]
        return stale[: query.limit] if query.limit is not None else stale

    # -- writes ------------------------------------------------------------------

    def create(self, new: NewIncident, *, now: datetime) -> Incident:
        """Open an incident from a validated :class:`NewIncident`."""
        actor = self.rbac.require(self.agent, "incident_write")
        started = new.started_at or now
        fields = {
            **new.model_dump(exclude_none=True),
            "status": "open",
            "id": new_incident_id(started),
            "started_at": started,
            "created_at": now,
            "updated_at": now,
            "created_by": actor,
        }
        incident = _validated(Incident, fields)
        event = self._event(
            incident.id,
            "status_change",
            "incident opened",
            now,
            ts=started,
            meta={"from": None, "to": "open"},
        )
        self.store.write(WriteBatch(new_incidents=(incident,), events=(event,)))
        return incident

    def update(self, incident_id: str, changes: IncidentChanges, *, now: datetime) -> Incident:
        """Change status, severity, title, summary or labels; status changes are events.

        Sent as a patch of the named fields, applied by the store to the latest
        version under its lock, so concurrent updates compose. Labels merge: the
        keys given are set, a null value removes its key, and ``replace_labels``
        makes the labels given replace all of them.
        """
        actor = self.rbac.require(self.agent, "incident_write")
        current = self._incident(incident_id)
        fields = changes.fields()
        patch = make_patch(
            incident_id=incident_id,
            fields=fields,
            labels_set=changes.labels_set(),
            labels_remove=() if changes.replace_labels else changes.labels_remove(),
            replace_labels=changes.replace_labels,
            updated_at=now,
            actor=actor,
            status_event_id=new_event_id() if "status" in fields else None,
            base_updated_at=current.updated_at,
        )
        apply_patch(current, patch)  # refused here, before anything is written
        self.store.write(WriteBatch(patches=(patch,)))
        return self.store.get_incident(incident_id)

    def append_event(self, incident_id: str, new: NewEvent, *, now: datetime) -> Event:
        """Append a timeline event; a ``followup`` event adds or changes a follow-up."""
        self.rbac.require(self.agent, "incident_write")
        when = new.ts or now
        if new.type == "followup":
            return self._followup_event(incident_id, dict(new.meta), new.message, now, when)
        self._incident(incident_id)
        event = self._event(incident_id, new.type, new.message, now, ts=when, meta=dict(new.meta))
        self.store.write(WriteBatch(events=(event,)))
        return event

    def append_note(
        self, incident_id: str, new: NewEvent, *, same: str, now: datetime
    ) -> Event | None:
        """Append an event unless the incident's last one of its type has the same
        ``meta[same]``: one step under the store's lock or transaction (see
        :class:`~gatekeeper.store.notes.Note`). ``None`` when it was already there."""
        self.rbac.require(self.agent, "incident_write")
        self._incident(incident_id)
        when = new.ts or now
        event = self._event(incident_id, new.type, new.message, now, ts=when, meta=dict(new.meta))
        self.store.write(WriteBatch(notes=(Note(event=event, same=same),)))
        landed = any(e.id == event.id for e in self.store.events(incident_id))
        return event if landed else None

    def attach_artifact(
        self, incident_id: str, name: str, content: bytes, *, now: datetime
    ) -> Artifact:
        """Validate, stage the file, record metadata and an event, then publish the file."""
        actor = self.rbac.require(self.agent, "incident_write")
        _check_incident_id(incident_id)
        artifact = prepare_artifact(incident_id, name, content, created_at=now, created_by=actor)
        self._incident(incident_id)
        event = self._event(
            incident_id,
            "artifact",
            f"attached {name}",
            now,
            meta={"name": name, "sha256": artifact.sha256, "size_bytes": artifact.size_bytes},
        )
        file = ArtifactFile.of(self.artifacts_dir, artifact, content)
        check_folder(file.folder)  # refused before anything is written
        self.store.write(WriteBatch(artifacts=(artifact,), events=(event,), files=(file,)))
        return artifact

    def add_followup(self, incident_id: str, new: NewFollowup, *, now: datetime) -> FollowUp:
        """Record a follow-up; ``due`` defaults to now + the SLA days of its priority."""
        self.rbac.require(self.agent, "incident_write")
        meta = self._new_followup_meta(new, now)
        followup_id = new_followup_id()
        return self._write_followup(incident_id, followup_id, meta, now, "follow-up added")[1]

    def update_followup(
        self, incident_id: str, followup_id: str, changes: FollowupChanges, *, now: datetime
    ) -> FollowUp:
        self.rbac.require(self.agent, "incident_write")
        meta = _followup_meta(changes)
        existing = {f.followup_id for f in self.get(incident_id).followups}
        if followup_id not in existing:
            raise NotFound("no such follow-up", where=f"{incident_id}/{followup_id}")
        return self._write_followup(incident_id, followup_id, meta, now, "follow-up updated")[1]

    def _followup_event(
        self, incident_id: str, meta: dict[str, Any], message: str, now: datetime, when: datetime
    ) -> Event:
        """A ``followup`` event appended directly: a new follow-up or a change to one.

        ``meta.followup_id`` names it; an id the incident does not have yet is a new
        follow-up (validated like ``followup add``, with the SLA default due date),
        an existing one a change (validated like ``followup update``).
        """
        followup_id = meta.pop("followup_id", None)
        if not isinstance(followup_id, str) or not FOLLOWUP_ID_RE.fullmatch(followup_id):
            raise InvalidInput(
                "required: a follow-up id (letters, digits, _ . -; up to 64)",
                where="meta.followup_id",
            )
        existing = {f.followup_id for f in self.get(incident_id).followups}
        if followup_id in existing:
            fields = _followup_meta(parse_input(FollowupChanges, meta, where="meta."))
            text = message or "follow-up updated"
        else:
            fields = self._new_followup_meta(parse_input(NewFollowup, meta, where="meta."), now)
            text = message or "follow-up added"
        return self._write_followup(incident_id, followup_id, fields, now, text, ts=when)[0]

    def _new_followup_meta(self, new: NewFollowup, now: datetime) -> dict[str, Any]:
        meta = _followup_meta(new)
        if new.due is None:
            meta["due"] = format_timestamp(default_due(now, new.priority, self.sla_days()))
        return meta

    def _write_followup(
        self,
        incident_id: str,
        followup_id: str,
        meta: dict[str, Any],
        now: datetime,
        message: str,
        *,
        ts: datetime | None = None,
    ) -> tuple[Event, FollowUp]:
        self._incident(incident_id)
        event = self._event(
            incident_id, "followup", message, now, ts=ts, meta={"followup_id": followup_id, **meta}
        )
        self.store.write(WriteBatch(events=(event,)))
        folded = fold_followups(self.store.events(incident_id))
        return event, next(f for f in folded if f.followup_id == followup_id)

    def _incident(self, incident_id: str) -> Incident:
        return self.store.get_incident(_check_incident_id(incident_id))

    def _event(
        self,
        incident_id: str,
        type: str,
        message: str,
        now: datetime,
        *,
        ts: datetime | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Event:
        return _validated(
            Event,
            {
                "id": new_event_id(),
                "incident_id": incident_id,
                "ts": ts or now,
                "recorded_at": now,
                "type": type,
                "message": message,
                "meta": meta or {},
                "actor": self.agent,
            },
        )


def incident_service(
    store: IncidentStore, settings: Settings, *, agent: str | None
) -> IncidentService:
    """The service as the CLI and the tool interface use it: roles and SLA from the policy."""
    return IncidentService(
        store=store,
        rbac=load_rbac(settings.policy),
        artifacts_dir=settings.artifacts_dir,
        agent=agent,
        sla_days=lambda: policy_sla_days(settings.policy),
    )


def _validated(model: type[M], data: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None


def _check_incident_id(incident_id: str) -> str:
    # The store would only say "no such incident"; a malformed id deserves the format.
    if not INCIDENT_ID_RE.fullmatch(incident_id):
        raise InvalidInput(
            f"{incident_id!r} is not an incident id; expected inc_YYYYMMDD_HHMM_xxxxxx "
            "(e.g. inc_20260218_1430_abc123)",
            where="incident_id",
        )
    return incident_id


check_incident_id = _check_incident_id  # public: the intelligence commands check ids alike


def _followup_meta(followup: NewFollowup | FollowupChanges) -> dict[str, Any]:
    """The ``meta`` of a ``followup`` event: the fields given (defaults of a new one
    included), ``due`` as a UTC timestamp."""
    given = followup.model_dump() if isinstance(followup, NewFollowup) else followup.given()
    meta = {k: v for k, v in given.items() if v is not None or k == "ticket"}
    if isinstance(followup, NewFollowup) and meta.get("ticket") is None:
        meta.pop("ticket", None)
    if meta.get("due") is not None:
        meta["due"] = format_timestamp(meta["due"])
    return meta
