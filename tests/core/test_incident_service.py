"""The incident service: what a write records, and what a refused write leaves behind."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from gatekeeper.errors import Forbidden, InvalidInput, NotFound
from gatekeeper.incidents import IncidentService
from gatekeeper.inputs import FollowupChanges, IncidentChanges, NewEvent, NewFollowup, NewIncident
from gatekeeper.rbac import DEFAULT_RBAC
from gatekeeper.store import IncidentFilter
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.timeutil import parse_due
from tests.conftest import NOW

CREATE = NewIncident(service="checkout", env="prod", severity="P1", title="5xx on pay")


def service(store_dir: Path, agent: str | None = "helion") -> IncidentService:
    return IncidentService(
        store=JsonlIncidentStore(store_dir),
        rbac=DEFAULT_RBAC,
        artifacts_dir=store_dir,
        agent=agent,
    )


def test_create_records_agent_and_an_opening_status_event(store_dir: Path) -> None:
    incident = service(store_dir).create(CREATE, now=NOW)
    details = service(store_dir).get(incident.id)
    assert details.incident.created_by == "helion"
    assert [(e.type, e.actor, e.meta) for e in details.events] == [
        ("status_change", "helion", {"from": None, "to": "open"})
    ]


def test_create_refuses_unknown_and_server_owned_fields() -> None:
    from gatekeeper.inputs import parse_input

    with pytest.raises(InvalidInput, match="created_by: unknown field"):
        parse_input(NewIncident, {**CREATE.model_dump(), "created_by": "mallory"})


def test_status_changes_are_events_and_stamp_resolution(store_dir: Path) -> None:
    svc = service(store_dir)
    incident = svc.create(CREATE, now=NOW)
    later = NOW + timedelta(hours=2)
    resolved = svc.update(incident.id, IncidentChanges(status="resolved"), now=later)
    assert resolved.resolved_at == later and resolved.closed_at is None
    reopened = svc.update(
        incident.id, IncidentChanges(status="open"), now=later + timedelta(hours=1)
    )
    assert reopened.resolved_at is None
    changes = [e.meta for e in svc.get(incident.id).events if e.type == "status_change"]
    assert changes[1:] == [{"from": "open", "to": "resolved"}, {"from": "resolved", "to": "open"}]


def test_followup_due_defaults_from_policy_sla(store_dir: Path) -> None:
    svc = service(store_dir)
    svc.sla_days = lambda: {"P0": 1, "P1": 5, "P2": 14, "P3": 30}
    incident = svc.create(CREATE, now=NOW)
    fu = svc.add_followup(
        incident.id, NewFollowup(title="Add alert", owner="ana", priority="P1"), now=NOW
    )
    assert fu.due == NOW + timedelta(days=5)
    done = svc.update_followup(
        incident.id, fu.followup_id, FollowupChanges(status="done"), now=NOW + timedelta(days=1)
    )
    assert done.completed_at == NOW + timedelta(days=1)


def test_followups_stay_overdue_after_the_incident_closes(store_dir: Path) -> None:
    svc = service(store_dir)
    incident = svc.create(CREATE, now=NOW)
    svc.add_followup(
        incident.id, NewFollowup(title="Fix", owner="ana", due=parse_due("2026-03-03")), now=NOW
    )
    svc.update(incident.id, IncidentChanges(status="closed"), now=NOW)
    (fu,) = svc.get(incident.id).followups
    assert fu.is_overdue(NOW + timedelta(days=2))


def test_unknown_followup_and_incident_are_not_found(store_dir: Path) -> None:
    svc = service(store_dir)
    incident = svc.create(CREATE, now=NOW)
    with pytest.raises(NotFound):
        svc.update_followup(incident.id, "fu_missing", FollowupChanges(status="done"), now=NOW)
    with pytest.raises(NotFound):
        svc.update("inc_20260101_0000_zzzzzz", IncidentChanges(status="closed"), now=NOW)


def test_refused_writes_change_nothing(store_dir: Path) -> None:
    incident = service(store_dir).create(CREATE, now=NOW)
    before = {p.name: p.read_bytes() for p in store_dir.iterdir() if p.is_file()}
    for agent in ("monitor", "aistalk", "stranger", None):
        with pytest.raises(Forbidden):
            service(store_dir, agent).update(incident.id, IncidentChanges(status="closed"), now=NOW)
        with pytest.raises(Forbidden):
            service(store_dir, agent).attach_artifact(incident.id, "x.md", b"x", now=NOW)
    after = {p.name: p.read_bytes() for p in store_dir.iterdir() if p.is_file()}
    assert after == before
    assert not (store_dir / incident.id).exists()


def test_artifact_metadata_and_file_land_together(store_dir: Path) -> None:
    svc = service(store_dir)
    incident = svc.create(CREATE, now=NOW)
    svc.attach_artifact(incident.id, "postmortem.md", b"# PM\n", now=NOW)
    assert (store_dir / incident.id / "postmortem.md").read_bytes() == b"# PM\n"
    assert [a.name for a in svc.get(incident.id).artifacts] == ["postmortem.md"]


def test_list_limit_bounds(store_dir: Path) -> None:
    for limit in (0, 1001):
        with pytest.raises(InvalidInput, match="limit"):
            service(store_dir).list_incidents(IncidentFilter(limit=limit))


def test_stale_lists_active_incidents_without_recent_events(store_dir: Path) -> None:
    svc = service(store_dir)
    quiet = svc.create(CREATE, now=NOW)
    busy = svc.create(CREATE.model_copy(update={"title": "busy"}), now=NOW)
    svc.append_event(
        busy.id, NewEvent(type="note", message="still on it"), now=NOW + timedelta(days=3)
    )
    stale = svc.stale(IncidentFilter(), stale_days=2, now=NOW + timedelta(days=3))
    assert [i.id for i in stale] == [quiet.id]
