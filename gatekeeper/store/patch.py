"""Incident updates as patches: the fields a change names, applied to the latest version.

``incident update`` never writes a whole version computed from what it read:
it sends an :class:`IncidentPatch`, and each backend applies it under its
writer's lock (JSONL: the latest version re-read inside the lock; Postgres:
``SELECT … FOR UPDATE`` in the write transaction). Two concurrent updates of
different fields therefore compose, and a reopen racing a title edit is never
undone. ``if_updated_at`` turns a patch into a compare-and-set: the store
refuses it with :class:`~gatekeeper.errors.Conflict` when the incident moved on.

:func:`apply_patch` owns the status timestamps (``resolved_at`` set on the way
to resolved/closed and kept, ``closed_at`` likewise, both cleared on reopening),
so they follow the status the incident really had under the lock, and
:func:`status_events` derives the ``status_change`` event from that status
(none when the incident already had the requested status).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gatekeeper.errors import Conflict, InvalidInput
from gatekeeper.models import Event, Incident, UtcDatetime, describe_validation_error

PATCHABLE_FIELDS = ("status", "severity", "title", "summary")


class IncidentPatch(BaseModel):
    """A change to one incident: the named fields to set and the labels to set or remove.

    ``updated_at`` is when the change was made; ``status_event_id`` names the
    ``status_change`` event written if the patch changes the status (a fixed id
    keeps a replayed patch idempotent). ``base_updated_at`` records which
    version the change was made from (replay uses it to log conflicts);
    ``if_updated_at``, when given, must equal the stored ``updated_at``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    incident_id: str
    set_fields: dict[str, Any] = Field(default_factory=dict, alias="fields")
    labels_set: dict[str, str] = Field(default_factory=dict)
    labels_remove: tuple[str, ...] = ()
    replace_labels: bool = False
    updated_at: UtcDatetime
    actor: str
    status_event_id: str | None = None
    base_updated_at: UtcDatetime | None = None
    if_updated_at: UtcDatetime | None = None

    def named(self) -> list[str]:
        """The fields this patch changes (for conflict reports)."""
        touched = sorted(self.set_fields)
        if self.labels_set or self.labels_remove or self.replace_labels:
            touched.append("labels")
        return touched


def make_patch(**values: Any) -> IncidentPatch:
    """An :class:`IncidentPatch` from loose input; a bad value is ``invalid`` naming the field."""
    unknown = sorted(set(values.get("fields", {})) - set(PATCHABLE_FIELDS))
    if unknown:
        raise InvalidInput(
            f"unknown field; expected one of {', '.join(PATCHABLE_FIELDS)}", where=unknown[0]
        )
    try:
        return IncidentPatch.model_validate(values)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None


def apply_patch(current: Incident, patch: IncidentPatch) -> Incident:
    """The new version of ``current`` with ``patch`` applied (validated like any incident)."""
    if patch.if_updated_at is not None and current.updated_at != patch.if_updated_at:
        raise Conflict(
            f"incident changed since {_iso(patch.if_updated_at)} "
            f"(now at {_iso(current.updated_at)})",
            where=current.id,
        )
    merged = current.model_dump()
    merged.update(patch.set_fields)
    labels = {} if patch.replace_labels else dict(current.labels)
    labels.update(patch.labels_set)
    for key in patch.labels_remove:
        labels.pop(key, None)
    merged["labels"] = labels
    merged["updated_at"] = max(current.updated_at, patch.updated_at)
    status = merged["status"]
    if status != current.status:
        merged.update(status_timestamps(current, str(status), patch.updated_at))
    try:
        return Incident.model_validate(merged)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc), where=current.id) from None


def status_timestamps(current: Incident, status: str, now: datetime) -> dict[str, Any]:
    """Set ``resolved_at``/``closed_at`` on the way forward, clear them on reopening."""
    stamps: dict[str, Any] = {}
    if status in ("resolved", "closed"):
        stamps["resolved_at"] = current.resolved_at or now
    else:
        stamps["resolved_at"] = None
    stamps["closed_at"] = (current.closed_at or now) if status == "closed" else None
    return stamps


def status_events(current: Incident, updated: Incident, patch: IncidentPatch) -> tuple[Event, ...]:
    """The ``status_change`` event of applying ``patch`` to ``current`` (if it changed it)."""
    if updated.status == current.status or patch.status_event_id is None:
        return ()
    event = Event(
        id=patch.status_event_id,
        incident_id=current.id,
        ts=patch.updated_at,
        recorded_at=patch.updated_at,
        type="status_change",
        message=f"status {current.status} -> {updated.status}",
        meta={"from": current.status, "to": updated.status},
        actor=patch.actor,
    )
    return (event,)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
