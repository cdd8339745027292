"""The weekly digest: what happened in one ISO week, and how it compares.

Definitions (``docs/intelligence.md`` has them with the JSON schema):

* **opened**: incidents whose ``started_at`` falls in the week; **resolved**:
  incidents whose ``resolved_at`` (else ``closed_at``) falls in the week,
  among those started in the ``RESOLVED_LOOKBACK_DAYS`` before its end;
* **mtta / mttm / mttr**: over the incidents opened in the week, from the
  timeline (:mod:`gatekeeper.intelligence.timeline`); those never
  acknowledged / mitigated / resolved are counted apart, negative durations
  are listed as ``data_errors``;
* **backlog**: open follow-ups per service at the end of the week and of the
  four before; **change**: opened incidents vs last week and vs the median of
  the four weeks before it.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gatekeeper.errors import InvalidInput
from gatekeeper.followups import days_overdue
from gatekeeper.intelligence.reading import read_window
from gatekeeper.intelligence.recurrence import group_incidents
from gatekeeper.intelligence.stats import describe
from gatekeeper.intelligence.timeline import response_times
from gatekeeper.intelligence.weeks import IsoWeek
from gatekeeper.models import ACTIVE_STATUSES, SEVERITIES, FollowUp, Incident
from gatekeeper.store.base import IncidentStore, newest_first_key
from gatekeeper.store.fileio import atomic_write
from gatekeeper.timeutil import format_timestamp

RESOLVED_LOOKBACK_DAYS = 90
TREND_WEEKS = 5


@dataclass(frozen=True)
class Digest:
    data: dict[str, Any]

    @property
    def week(self) -> str:
        return str(self.data["week"])

    def to_json(self) -> dict[str, Any]:
        return self.data


def _counts(incidents: list[Incident]) -> dict[str, Any]:
    by_service: dict[str, int] = {}
    for incident in incidents:
        by_service[incident.service] = by_service.get(incident.service, 0) + 1
    return {
        "total": len(incidents),
        "by_severity": {s: sum(1 for i in incidents if i.severity == s) for s in SEVERITIES},
        "by_service": dict(sorted(by_service.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def _resolution(incident: Incident) -> datetime | None:
    return incident.resolved_at or incident.closed_at


def _durations(store: IncidentStore, opened: list[Incident]) -> dict[str, Any]:
    values: dict[str, list[float]] = {"mtta": [], "mttm": [], "mttr": []}
    missing = {"mtta": 0, "mttm": 0, "mttr": 0}
    errors: list[dict[str, Any]] = []
    timelines = store.events_of([i.id for i in opened])
    for incident in sorted(opened, key=lambda i: (i.started_at, i.id)):
        times = response_times(incident, timelines.get(incident.id, []))
        for key, moment in (
            ("mtta", times.acked_at),
            ("mttm", times.mitigated_at),
            ("mttr", times.resolved_at),
        ):
            seconds = times.seconds(moment)
            if seconds is None:
                missing[key] += 1
            elif seconds < 0:
                errors.append({"incident_id": incident.id, "metric": key, "seconds": seconds})
            else:
                values[key].append(seconds)
    out: dict[str, Any] = {}
    apart = {"mtta": "unacked", "mttm": "unmitigated", "mttr": "unresolved"}
    for key in values:
        out[key] = {**describe(values[key]).to_json(), apart[key]: missing[key]}
    out["data_errors"] = errors
    return out


def _open_at(followup: FollowUp, moment: datetime) -> bool:
    if followup.created_at >= moment:
        return False
    if followup.is_open:
        return True
    closed = followup.completed_at if followup.status == "done" else followup.updated_at
    return closed is None or closed >= moment


def _backlog(followups: list[FollowUp], services: dict[str, str], weeks: list[IsoWeek]) -> Any:
    per_service: dict[str, list[int]] = {}
    for index, week in enumerate(weeks):
        for followup in followups:
            if _open_at(followup, week.end):
                counts = per_service.setdefault(services[followup.incident_id], [0] * len(weeks))
                counts[index] += 1
    return {
        "weeks": [w.label for w in weeks],
        "total": [sum(c[i] for c in per_service.values()) for i in range(len(weeks))],
        "by_service": dict(sorted(per_service.items())),
    }


def weekly_digest(store: IncidentStore, week: IsoWeek, *, now: datetime) -> Digest:
    """The digest of ``week`` as known at ``now``."""
    weeks = [week.shifted(n - TREND_WEEKS + 1) for n in range(TREND_WEEKS)]
    trend_start = weeks[0].start
    lookback = week.end - timedelta(days=RESOLVED_LOOKBACK_DAYS)
    # One read: the window (started since well before the lookback, plus the
    # active ones) holds the latest version of every incident each view needs.
    window_start = min(trend_start - timedelta(days=RESOLVED_LOOKBACK_DAYS), lookback)
    window = read_window(store, window_start)
    known = sorted(window.incidents(), key=newest_first_key, reverse=True)
    recent = [i for i in known if trend_start <= i.started_at < week.end]
    opened = [i for i in recent if i.started_at >= week.start]
    resolved = [
        i
        for i in known
        if lookback <= i.started_at < week.end
        and (r := _resolution(i)) is not None
        and week.start <= r < week.end
    ]
    active = [i for i in known if i.status in ACTIVE_STATUSES]
    services = {i.id: i.service for i in known}
    followups = window.followups()
    opened_per_week = [sum(1 for i in recent if w.start <= i.started_at < w.end) for w in weeks]
    groups = group_incidents([i for i in recent], followups)
    with window.noticing(store):  # the week's timelines
        durations = _durations(store, opened)
    data: dict[str, Any] = {
        "week": week.label,
        "start": format_timestamp(week.start),
        "end": format_timestamp(week.end),
        "generated_at": format_timestamp(now),
        "opened": _counts(opened),
        "resolved": _counts(resolved),
        **durations,
        "active": [
            _active(i, now) for i in sorted(active, key=lambda i: (i.severity, i.started_at))
        ],
        "overdue_followups": _overdue(followups, now),
        "backlog": _backlog(followups, services, weeks),
        "recurring": [g.to_json() for g in groups if g.recurring],
        "trend": {"weeks": [w.label for w in weeks], "opened": opened_per_week},
        "change": _change(opened_per_week),
        **window.provenance(),
    }
    return Digest(data)


def _active(incident: Incident, now: datetime) -> dict[str, Any]:
    return {
        "incident_id": incident.id,
        "service": incident.service,
        "env": incident.env,
        "severity": incident.severity,
        "status": incident.status,
        "title": incident.title,
        "started_at": format_timestamp(incident.started_at),
        "age_s": (now - incident.started_at).total_seconds(),
    }


def _overdue(followups: list[FollowUp], now: datetime) -> list[dict[str, Any]]:
    late = [f for f in followups if f.is_overdue(now)]
    late.sort(key=lambda f: (f.due, f.followup_id))
    return [
        {
            "followup_id": f.followup_id,
            "incident_id": f.incident_id,
            "title": f.title,
            "owner": f.owner,
            "priority": f.priority,
            "due": format_timestamp(f.due),
            "days_overdue": days_overdue(f, now),
        }
        for f in late
    ]


def _change(opened_per_week: list[int]) -> dict[str, Any]:
    this, last = opened_per_week[-1], opened_per_week[-2]
    median = statistics.median(opened_per_week[:-1])
    return {
        "opened_vs_last_week": this - last,
        "opened_vs_median_of_4_before": this - median,
        "median_of_4_before": median,
    }


def render_markdown(digest: Digest) -> str:
    from gatekeeper.intelligence.render_digest import render

    return render(digest.to_json())


DIGEST_DIR = Path("ops/reports/incidents/weekly")


def save_digest(digest: Digest, directory: Path) -> list[Path]:
    """Write ``WEEK.json`` and ``WEEK.md`` into ``directory``, each atomically."""
    json_path = directory / f"{digest.week}.json"
    md_path = directory / f"{digest.week}.md"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        atomic_write(json_path, (json.dumps(digest.to_json(), indent=2) + "\n").encode())
        atomic_write(md_path, render_markdown(digest).encode())
    except OSError as exc:
        raise InvalidInput(
            f"cannot write the digest: {exc.strerror}", where=str(directory)
        ) from exc
    return [json_path, md_path]
