"""Correlation: the incidents most likely related to one, each with a score and its reasons.

A candidate's score (0-1) is the sum of named parts, each its policy weight
(the ``correlation:`` weights, scaled to sum to 1) times a factor in 0-1:

* ``same_service`` / ``same_env`` — 1 when equal;
* ``time_proximity`` — 1 when the two incidents overlap in time (an active
  incident lasts until ``now``), else halved every
  ``proximity_half_life_hours`` of the gap between them;
* ``title_similarity`` — the Jaccard index of the normalised titles' words
  (the recurrence normaliser, so ``after 30s`` and ``after 2m`` agree);
* ``shared_labels`` — the Jaccard index of the ``key=value`` labels, other than
  ``fingerprint``;
* ``shared_fingerprint`` — 1 when both carry the same ``fingerprint`` label
  (the alert that opened them).

Candidates are the incidents that started within ``window_days`` before the
incident started or after it ended, and those still active. Those scoring at
least ``min_score`` are listed, highest first (ties by id), at most ``limit``.
Points and scores are rounded to 4 decimals; the score is the sum of the
rounded points, so anyone can redo it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gatekeeper.errors import InvalidInput
from gatekeeper.gates.postmortem_required import resolution_time
from gatekeeper.incidents import IncidentService, check_incident_id
from gatekeeper.inputs import NewEvent
from gatekeeper.intelligence.reading import read_window
from gatekeeper.intelligence.settings import CorrelationSettings
from gatekeeper.intelligence.signature import title_tokens
from gatekeeper.intelligence.stats import human_duration
from gatekeeper.models import Event, Incident
from gatekeeper.store.base import IncidentStore
from gatekeeper.timeutil import format_timestamp

PARTS = (
    "same_service",
    "same_env",
    "time_proximity",
    "title_similarity",
    "shared_labels",
    "shared_fingerprint",
)
FINGERPRINT_LABEL = "fingerprint"
EVENT_TYPE = "correlation"
MAX_WINDOW_DAYS = 365
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Reason:
    part: str
    points: float
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"part": self.part, "points": self.points, "detail": self.detail}


@dataclass(frozen=True)
class Related:
    incident: Incident
    score: float
    reasons: tuple[Reason, ...]

    def to_json(self) -> dict[str, Any]:
        i = self.incident
        return {
            "incident_id": i.id,
            "score": self.score,
            "service": i.service,
            "env": i.env,
            "severity": i.severity,
            "status": i.status,
            "title": i.title,
            "started_at": format_timestamp(i.started_at),
            "reasons": [r.to_json() for r in self.reasons],
        }


@dataclass(frozen=True)
class CorrelationReport:
    incident: Incident
    generated_at: datetime
    window_days: int
    min_score: float
    limit: int
    weights: Mapping[str, float]
    related: tuple[Related, ...]
    provenance: Mapping[str, Any]

    def note_meta(self) -> list[dict[str, Any]]:
        """What a ``correlation`` event records: the related ids and their scores."""
        return [{"incident_id": r.incident.id, "score": r.score} for r in self.related]

    def to_json(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident.id,
            "generated_at": format_timestamp(self.generated_at),
            "window_days": self.window_days,
            "min_score": self.min_score,
            "limit": self.limit,
            "weights": dict(self.weights),
            "related": [r.to_json() for r in self.related],
            **self.provenance,
        }


def normalised_weights(settings: CorrelationSettings) -> dict[str, float]:
    """The policy's weights scaled to sum to exactly 1 (4 decimals), in :data:`PARTS` order.

    Each weight is cut to 4 decimals and the units lost go to the parts that
    lost the most (ties: the earlier part), so a candidate matching on every
    part scores 1, never 1.0002.
    """
    raw = settings.weights.model_dump()
    total = sum(raw.values())
    exact = {part: raw[part] / total * 10_000 for part in PARTS}
    units = {part: int(exact[part]) for part in PARTS}
    order = sorted(PARTS, key=lambda part: (-(exact[part] - units[part]), PARTS.index(part)))
    for part in order[: 10_000 - sum(units.values())]:
        units[part] += 1
    return {part: units[part] / 10_000 for part in PARTS}


def _end(incident: Incident, now: datetime) -> datetime:
    return now if incident.active else (resolution_time(incident) or incident.updated_at)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> tuple[float, int, int]:
    union = a | b
    shared = a & b
    return (len(shared) / len(union) if union else 0.0), len(shared), len(union)


def _labels(incident: Incident) -> frozenset[str]:
    return frozenset(f"{k}={v}" for k, v in incident.labels.items() if k != FINGERPRINT_LABEL)


def _factors(
    target: Incident, other: Incident, settings: CorrelationSettings, now: datetime
) -> dict[str, tuple[float, str]]:
    """Each part's factor (0-1) and the words that explain it."""
    out: dict[str, tuple[float, str]] = {}
    if other.service == target.service:
        out["same_service"] = (1.0, f"both {other.service}")
    if other.env == target.env:
        out["same_env"] = (1.0, f"both {other.env}")
    start, end = target.started_at, _end(target, now)
    other_start, other_end = other.started_at, _end(other, now)
    gap = max(other_start - end, start - other_end, timedelta(0)).total_seconds()
    if gap == 0:
        out["time_proximity"] = (1.0, "overlapping in time")
    else:
        half_life = settings.proximity_half_life_hours
        factor = 0.5 ** (gap / 3600 / half_life)
        side = "after" if other_start >= end else "before"
        out["time_proximity"] = (
            factor,
            f"{human_duration(gap)} {side} it (halved every {half_life:g}h)",
        )
    similarity, shared, union = _jaccard(title_tokens(target.title), title_tokens(other.title))
    if shared:
        out["title_similarity"] = (similarity, f"{shared} of {union} title words shared")
    labels, other_labels = _labels(target), _labels(other)
    label_similarity, shared, union = _jaccard(labels, other_labels)
    if shared:
        common = ", ".join(sorted(labels & other_labels))
        out["shared_labels"] = (label_similarity, f"{common} ({shared} of {union} labels)")
    fingerprint = target.labels.get(FINGERPRINT_LABEL)
    if fingerprint is not None and other.labels.get(FINGERPRINT_LABEL) == fingerprint:
        out["shared_fingerprint"] = (1.0, f"same alert fingerprint {fingerprint}")
    return out


def score_pair(
    target: Incident,
    other: Incident,
    settings: CorrelationSettings,
    *,
    now: datetime,
    weights: Mapping[str, float] | None = None,
) -> Related:
    """How related ``other`` is to ``target``: the score and the parts that make it."""
    weights = weights if weights is not None else normalised_weights(settings)
    factors = _factors(target, other, settings, now)
    reasons = []
    for part in PARTS:
        if part not in factors:
            continue
        factor, detail = factors[part]
        points = round(weights[part] * factor, 4)
        if points > 0:
            reasons.append(Reason(part, points, detail))
    score = round(sum(r.points for r in reasons), 4)
    return Related(other, score, tuple(reasons))


def correlate(
    store: IncidentStore,
    incident_id: str,
    settings: CorrelationSettings,
    *,
    now: datetime,
    window_days: int | None = None,
    limit: int | None = None,
) -> CorrelationReport:
    """The incidents related to ``incident_id``; :class:`NotFound` if there is no such one."""
    days = settings.window_days if window_days is None else window_days
    cut = settings.limit if limit is None else limit
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise InvalidInput(f"must be between 1 and {MAX_WINDOW_DAYS}", where="window_days")
    if not 1 <= cut <= MAX_LIMIT:
        raise InvalidInput(f"must be between 1 and {MAX_LIMIT}", where="limit")
    target = store.get_incident(check_incident_id(incident_id))
    window = timedelta(days=days)
    since, until = target.started_at - window, _end(target, now) + window
    read = read_window(store, since, candidates=(target,))
    weights = normalised_weights(settings)
    seen: set[str] = {target.id}
    related = []
    for other in read.incidents():
        if other.id in seen or not (other.active or other.started_at <= until):
            continue
        seen.add(other.id)
        scored = score_pair(target, other, settings, now=now, weights=weights)
        if scored.score >= settings.min_score:
            related.append(scored)
    related.sort(key=lambda r: (-r.score, r.incident.id))
    return CorrelationReport(
        incident=target,
        generated_at=now,
        window_days=days,
        min_score=settings.min_score,
        limit=cut,
        weights=weights,
        related=tuple(related[:cut]),
        provenance=read.provenance(),
    )


def note_message(report: CorrelationReport) -> str:
    if not report.related:
        return f"no related incidents within {report.window_days} days"
    listed = ", ".join(f"{r.incident.id} ({r.score:g})" for r in report.related)
    return f"related incidents: {listed}"


def append_note(
    service: IncidentService, report: CorrelationReport, *, now: datetime
) -> Event | None:
    """Record the result as a ``correlation`` event; ``None`` if the last one says the same.

    Needs an agent that may write incidents (checked before anything is written).
    Looking at the last note and appending are one step under the store's lock
    (JSONL) or transaction (Postgres): two runs at once add one event.
    """
    service.rbac.require(service.agent, "incident_write")
    note = NewEvent(
        type=EVENT_TYPE,
        message=note_message(report),
        meta={"related": report.note_meta(), "window_days": report.window_days},
    )
    return service.append_note(report.incident.id, note, same="related", now=now)


def run(
    service: IncidentService,
    incident_id: str,
    settings: CorrelationSettings,
    *,
    now: datetime,
    window_days: int | None = None,
    limit: int | None = None,
    note: bool = False,
) -> dict[str, Any]:
    """What ``gatekeeper correlate`` and the ``correlate`` action answer, note included.

    With ``note``, the agent's permission to write is checked before anything is read.
    """
    if note:
        service.rbac.require(service.agent, "incident_write")
    report = correlate(
        service.store, incident_id, settings, now=now, window_days=window_days, limit=limit
    )
    data = report.to_json()
    if note:
        event = append_note(service, report, now=now)
        data["note"] = {"appended": event is not None, "event_id": event.id if event else None}
    return data


def render_text(data: Mapping[str, Any]) -> str:
    """The answer of :func:`run` as lines: each related incident, its reasons under it."""
    related = data["related"]
    lines = [
        f"incidents related to {data['incident_id']} ({data['window_days']}-day window, "
        f"score >= {data['min_score']:g}): {len(related)}"
    ]
    for r in related:
        lines.append(
            f"  {r['score']:.4f} {r['incident_id']} {r['service']}/{r['env']} "
            f"{r['severity']} {r['status']} {r['title']!r}"
        )
        for reason in r["reasons"]:
            lines.append(f"         +{reason['points']:.4f} {reason['part']}: {reason['detail']}")
    note = data.get("note")
    if note is not None:
        done = f"recorded as event {note['event_id']}" if note["appended"] else "already noted"
        lines.append(f"correlation note: {done}")
    for problem in data.get("skipped_records", []):
        lines.append(f"warning: {problem}")
    return "\n".join(lines) + "\n"
