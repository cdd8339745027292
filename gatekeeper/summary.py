"""The follow-up summary of one service in one environment (docs/tool-api.md).

It answers "what is still open here?": active incidents by severity, the open
follow-ups, and the overdue ones with their owner and how late they are. The
scope is the gate's: incidents started within ``window_days`` plus every active
incident whatever its age, and the follow-ups of those incidents whatever the
incident's own status (closing an incident does not excuse its follow-ups).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gatekeeper.errors import InvalidInput
from gatekeeper.followups import days_overdue
from gatekeeper.inputs import SUMMARY_MAX_DAYS, SUMMARY_WINDOW_DAYS
from gatekeeper.models import NAME_RE, SEVERITIES, FollowUp, Incident
from gatekeeper.store import IncidentStore
from gatekeeper.timeutil import format_timestamp

DEFAULT_WINDOW_DAYS = SUMMARY_WINDOW_DAYS
MAX_WINDOW_DAYS = SUMMARY_MAX_DAYS


@dataclass(frozen=True)
class OverdueFollowup:
    """An overdue follow-up and how many days late it is (:func:`days_overdue`)."""

    followup: FollowUp
    days_overdue: int

    def to_json_dict(self) -> dict[str, Any]:
        return {**self.followup.to_json_dict(), "days_overdue": self.days_overdue}


@dataclass(frozen=True)
class FollowupSummary:
    """What is still open for ``service`` in ``env`` at ``evaluated_at``."""

    service: str
    env: str
    window_days: int
    since: datetime
    evaluated_at: datetime
    active_incidents: list[Incident]
    open_followups: list[FollowUp]
    overdue_followups: list[OverdueFollowup]

    @property
    def active_by_severity(self) -> dict[str, int]:
        """Every severity, P0 first, with its count of active incidents (zeros included)."""
        return {
            severity: sum(1 for i in self.active_incidents if i.severity == severity)
            for severity in SEVERITIES
        }

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "env": self.env,
            "window_days": self.window_days,
            "since": format_timestamp(self.since),
            "evaluated_at": format_timestamp(self.evaluated_at),
            "counts": {
                "active_incidents": len(self.active_incidents),
                "open_followups": len(self.open_followups),
                "overdue_followups": len(self.overdue_followups),
            },
            "active_incidents_by_severity": self.active_by_severity,
            "active_incidents": [i.to_json_dict() for i in self.active_incidents],
            "open_followups": [f.to_json_dict() for f in self.open_followups],
            "overdue_followups": [o.to_json_dict() for o in self.overdue_followups],
        }


def followup_summary(
    store: IncidentStore,
    *,
    service: str,
    env: str,
    now: datetime,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> FollowupSummary:
    """Summarise ``service`` in ``env`` over the ``window_days`` before ``now``.

    ``open_followups`` holds every follow-up still ``open`` or ``in_progress``
    (overdue ones included), soonest due first; ``overdue_followups`` the late
    ones, latest first.
    """
    _check_scope(service, env, window_days)
    since = now - timedelta(days=window_days)
    record = store.gate_records(env, [service], since)[service]
    active = sorted(
        (i for i in record.incidents if i.active),
        key=lambda i: (i.severity, -i.started_at.timestamp(), i.id),
    )
    still_open = sorted(
        (f for f in record.followups if f.is_open), key=lambda f: (f.due, f.followup_id)
    )
    overdue = [OverdueFollowup(f, days_overdue(f, now)) for f in still_open if f.is_overdue(now)]
    overdue.sort(key=lambda o: (-o.days_overdue, o.followup.due, o.followup.followup_id))
    return FollowupSummary(
        service=service,
        env=env,
        window_days=window_days,
        since=since,
        evaluated_at=now,
        active_incidents=active,
        open_followups=still_open,
        overdue_followups=overdue,
    )


def _check_scope(service: str, env: str, window_days: int) -> None:
    for field, value in (("service", service), ("env", env)):
        if not NAME_RE.fullmatch(value):
            raise InvalidInput(f"{value!r} must match {NAME_RE.pattern}", where=field)
    if not 1 <= window_days <= MAX_WINDOW_DAYS:
        raise InvalidInput(f"must be between 1 and {MAX_WINDOW_DAYS}", where="window_days")
