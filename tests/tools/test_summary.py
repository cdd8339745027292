"""gatekeeper.summary: the scope of the window, overdue arithmetic and ordering."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.errors import InvalidInput
from gatekeeper.followups import days_overdue
from gatekeeper.incidents import IncidentService
from gatekeeper.inputs import FollowupChanges, IncidentChanges, NewFollowup, NewIncident
from gatekeeper.rbac import DEFAULT_RBAC
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.summary import followup_summary
from gatekeeper.timeutil import parse_due
from tests.conftest import NOW


@pytest.fixture
def service(store_dir: Path) -> IncidentService:
    store = JsonlIncidentStore(store_dir)
    return IncidentService(store=store, rbac=DEFAULT_RBAC, artifacts_dir=store_dir, agent="helion")


def open_incident(incidents: IncidentService, days_ago: int, **fields: Any) -> str:
    params = {"service": "api", "env": "prod", "severity": "P2", "title": "t", **fields}
    started = NOW - timedelta(days=days_ago)
    return incidents.create(NewIncident(**params, started_at=started), now=started).id


def summarise(service: IncidentService, **kwargs: Any) -> Any:
    return followup_summary(service.store, service="api", env="prod", now=NOW, **kwargs)


def test_window_scope(service: IncidentService) -> None:
    old_active = open_incident(service, 90, severity="P1")
    old_closed = open_incident(service, 90)
    recent_closed = open_incident(service, 3)
    open_incident(service, 1, env="staging")
    open_incident(service, 1, service="web")
    for incident_id in (old_closed, recent_closed):
        service.add_followup(
            incident_id, NewFollowup(title="f", owner="o", due=parse_due("2026-03-01")), now=NOW
        )
        service.update(incident_id, IncidentChanges(status="closed"), now=NOW)
    summary = summarise(service, window_days=30)
    assert [i.id for i in summary.active_incidents] == [old_active]
    assert [o.followup.incident_id for o in summary.overdue_followups] == [recent_closed]
    assert summary.active_by_severity == {"P0": 0, "P1": 1, "P2": 0, "P3": 0, "P4": 0}


def test_ordering_and_done_followups(service: IncidentService) -> None:
    p2 = open_incident(service, 2, severity="P2")
    p0 = open_incident(service, 1, severity="P0")
    late = service.add_followup(
        p2, NewFollowup(title="late", owner="a", due=parse_due("2026-02-20")), now=NOW
    )
    later = service.add_followup(
        p2, NewFollowup(title="later", owner="b", due=parse_due("2026-02-27")), now=NOW
    )
    done = service.add_followup(
        p0, NewFollowup(title="done", owner="c", due=parse_due("2026-02-01")), now=NOW
    )
    service.update_followup(p0, done.followup_id, FollowupChanges(status="done"), now=NOW)
    upcoming = service.add_followup(p0, NewFollowup(title="soon", owner="d"), now=NOW)
    summary = summarise(service)
    assert [i.id for i in summary.active_incidents] == [p0, p2]
    assert [f.followup_id for f in summary.open_followups] == [
        late.followup_id,
        later.followup_id,
        upcoming.followup_id,
    ]
    assert [(o.followup.owner, o.days_overdue) for o in summary.overdue_followups] == [
        ("a", 10),  # due by the end of 2026-02-20: 9.5 days late, rounded up
        ("b", 3),
    ]
    assert summary.to_json_dict()["overdue_followups"][0]["days_overdue"] == 10


def test_days_overdue_rounds_up(service: IncidentService) -> None:
    incident = open_incident(service, 1)
    followup = service.add_followup(incident, NewFollowup(title="f", owner="o"), now=NOW)
    assert days_overdue(followup, followup.due) == 0
    assert days_overdue(followup, followup.due + timedelta(seconds=1)) == 1
    assert days_overdue(followup, followup.due + timedelta(days=1)) == 1
    assert days_overdue(followup, followup.due - timedelta(days=3)) == 0


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"service": "API", "env": "prod"}, "service"),
        ({"service": "api", "env": ""}, "env"),
        ({"service": "api", "env": "prod", "window_days": 0}, "window_days"),
    ],
)
def test_bad_scope_is_invalid(service: IncidentService, kwargs: Any, where: str) -> None:
    with pytest.raises(InvalidInput) as info:
        followup_summary(service.store, now=NOW, **kwargs)
    assert info.value.where == where
