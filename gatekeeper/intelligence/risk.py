"""Risk: a 0-100 score per service and environment, with every part shown.

``score = min(100, sum of parts)``; each part is ``min(cap, points of its
items)`` and lists its evidence (incident or follow-up ids) so anyone can redo
the sum. The parts, their weights and caps come from the policy's ``risk:``
section (:class:`~gatekeeper.intelligence.settings.RiskSettings`):

* ``active_incidents`` — each open or mitigated incident, by severity;
* ``recent_incidents`` — each incident started in the window, by severity,
  halving every ``half_life_days`` of age;
* ``overdue_followups`` — each overdue follow-up, by priority, times
  ``far_past_sla_factor`` once it is late by more than ``far_past_days``;
* ``missing_postmortems`` — each resolved P0/P1 (the severities weighted)
  past ``postmortem_grace_days`` without a postmortem artifact;
* ``recurrence_without_fix`` — each recurring signature whose earlier
  follow-ups were not done when it came back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gatekeeper.followups import days_overdue
from gatekeeper.gates.postmortem_required import (
    PostmortemRequiredConfig,
    is_postmortem,
    resolution_time,
)
from gatekeeper.intelligence.reading import read_window
from gatekeeper.intelligence.recurrence import group_incidents
from gatekeeper.intelligence.settings import RiskPart, RiskSettings
from gatekeeper.models import Incident
from gatekeeper.store.base import IncidentStore, ServiceRecord
from gatekeeper.timeutil import format_timestamp

_POSTMORTEM = PostmortemRequiredConfig()
PART_NAMES = (
    "active_incidents",
    "recent_incidents",
    "overdue_followups",
    "missing_postmortems",
    "recurrence_without_fix",
)


@dataclass(frozen=True)
class Part:
    name: str
    points: float
    cap: float
    evidence: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "points": self.points,
            "cap": self.cap,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class ServiceRisk:
    service: str
    env: str
    score: float
    band: str
    parts: tuple[Part, ...]

    def largest_parts(self, n: int = 3) -> list[Part]:
        ranked = sorted((p for p in self.parts if p.points > 0), key=lambda p: -p.points)
        return ranked[:n]

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "env": self.env,
            "score": self.score,
            "band": self.band,
            "parts": [p.to_json() for p in self.parts],
        }


@dataclass(frozen=True)
class RiskReport:
    generated_at: datetime
    window_days: int
    scores: tuple[ServiceRisk, ...]
    provenance: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "generated_at": format_timestamp(self.generated_at),
            "window_days": self.window_days,
            "scores": [s.to_json() for s in self.scores],
            **self.provenance,
        }


def _settings(settings_or_policy: Any) -> RiskSettings:
    """Accept the ``risk:`` section itself or a whole policy that has one."""
    if isinstance(settings_or_policy, RiskSettings):
        return settings_or_policy
    risk = getattr(settings_or_policy, "risk", None)
    if isinstance(risk, RiskSettings):
        return risk
    raise TypeError("expected RiskSettings or a Policy")


def compute_risk(
    store: IncidentStore,
    settings_or_policy_risk: Any,
    *,
    now: datetime,
    service: str | None = None,
    env: str | None = None,
) -> RiskReport:
    """The risk of every service/env with something in scope (or just the one asked for).

    Asked for one service in one environment with nothing in scope, it answers
    a zero score rather than nothing.
    """
    settings = _settings(settings_or_policy_risk)
    since = now - timedelta(days=settings.window_days)
    window = read_window(store, since, service=service, env=env)
    records = dict(window.records)
    if service is not None and env is not None:
        records.setdefault((service, env), ServiceRecord(service=service, env=env))
    scores = [score_record(r, settings, now=now) for r in records.values()]
    scores.sort(key=lambda s: (-s.score, s.service, s.env))
    return RiskReport(now, settings.window_days, tuple(scores), window.provenance())


def score_record(record: ServiceRecord, settings: RiskSettings, *, now: datetime) -> ServiceRisk:
    """The risk of one service in one environment from what the store holds about it."""
    since = now - timedelta(days=settings.window_days)
    recent = [i for i in record.incidents if since <= i.started_at <= now]
    parts = (
        _active(record.incidents, settings.active_incidents),
        _recent(recent, settings, now),
        _overdue(record, settings, now),
        _missing_postmortems(recent, record, settings, now),
        _recurrence(recent, record, settings),
    )
    score = round(min(100.0, sum((p.points for p in parts), 0.0)), 1)
    return ServiceRisk(record.service, record.env, score, settings.bands.band(score), parts)


def _part(name: str, spec: RiskPart, items: Iterable[tuple[str, float]]) -> Part:
    counted = [(ident, points) for ident, points in items if points > 0]
    total = sum((points for _ident, points in counted), 0.0)
    return Part(
        name=name,
        points=round(float(min(spec.cap, total)), 1),
        cap=spec.cap,
        evidence=tuple(ident for ident, _points in counted),
    )


def _active(incidents: Sequence[Incident], spec: RiskPart) -> Part:
    ordered = sorted((i for i in incidents if i.active), key=lambda i: (i.severity, i.id))
    return _part(
        "active_incidents", spec, ((i.id, spec.weights.get(i.severity, 0)) for i in ordered)
    )


def _recent(incidents: Sequence[Incident], settings: RiskSettings, now: datetime) -> Part:
    spec = settings.recent_incidents

    def decayed(incident: Incident) -> float:
        age_days = (now - incident.started_at).total_seconds() / 86400
        weight = spec.weights.get(incident.severity, 0)
        return float(weight * 0.5 ** (age_days / settings.half_life_days))

    ordered = sorted(incidents, key=lambda i: (i.started_at, i.id))
    return _part("recent_incidents", spec, ((i.id, decayed(i)) for i in ordered))


def _overdue(record: ServiceRecord, settings: RiskSettings, now: datetime) -> Part:
    spec = settings.overdue_followups
    items = []
    for f in sorted(record.followups, key=lambda f: (f.due, f.followup_id)):
        if not f.is_overdue(now):
            continue
        far = days_overdue(f, now) > settings.far_past_days.get(f.priority, 30)
        factor = settings.far_past_sla_factor if far else 1
        items.append((f.followup_id, spec.weights.get(f.priority, 0) * factor))
    return _part("overdue_followups", spec, items)


def _missing_postmortems(
    recent: Sequence[Incident], record: ServiceRecord, settings: RiskSettings, now: datetime
) -> Part:
    spec = settings.missing_postmortems
    grace = timedelta(days=settings.postmortem_grace_days)
    items = []
    for incident in sorted(recent, key=lambda i: (i.started_at, i.id)):
        resolved = resolution_time(incident)
        if resolved is None or resolved + grace >= now or incident.severity not in spec.weights:
            continue
        artifacts = record.artifacts.get(incident.id, [])
        if not any(is_postmortem(a, _POSTMORTEM) for a in artifacts):
            items.append((incident.id, spec.weights[incident.severity]))
    return _part("missing_postmortems", spec, items)


def _recurrence(recent: Sequence[Incident], record: ServiceRecord, settings: RiskSettings) -> Part:
    spec = settings.recurrence_without_fix
    groups = group_incidents(recent, record.followups, recurring_count=settings.recurring_count)
    unfixed = [g for g in groups if g.recurring and g.undone_followups]
    weight = spec.weights.get("group", 0)
    return _part("recurrence_without_fix", spec, ((g.incidents[-1].id, weight) for g in unfixed))


def render_text(report: RiskReport) -> str:
    """A few lines: one per service/env, its score, band and largest parts."""
    lines = [f"risk at {format_timestamp(report.generated_at)} ({report.window_days}-day window)"]
    if not report.scores:
        lines.append("  nothing in scope: no incidents in the window and none active")
    for s in report.scores:
        largest = ", ".join(f"{p.name} {p.points:g}" for p in s.largest_parts()) or "no risk"
        lines.append(f"  {s.score:5.1f} {s.band:<9} {s.service}/{s.env}: {largest}")
    return "\n".join(lines) + "\n"


def render_markdown(report: RiskReport) -> str:
    """A GitHub-flavoured table of the scores with their parts."""
    lines = [
        f"# Risk — {format_timestamp(report.generated_at)}",
        "",
        f"Window: {report.window_days} days. Score = min(100, sum of capped parts).",
        "",
    ]
    if not report.scores:
        return "\n".join([*lines, "No service has anything in scope.", ""])
    header = "| service | env | score | band | " + " | ".join(PART_NAMES) + " |"
    lines += [header, "|" + "---|" * (4 + len(PART_NAMES))]
    for s in report.scores:
        cells = " | ".join(f"{p.points:g}/{p.cap:g}" for p in s.parts)
        lines.append(f"| {s.service} | {s.env} | {s.score:g} | {s.band} | {cells} |")
    return "\n".join(lines) + "\n"
