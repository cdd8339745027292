"""``postmortem_required``: serious incidents resolved a while ago with no postmortem.

A finding for every ``resolved`` or ``closed`` incident of a listed severity
whose resolution (``resolved_at``, else ``closed_at``) is more than
``grace_days`` old, that started within ``window_days``, and that has no
artifact whose name matches one of ``artifacts`` (default ``postmortem*.md``)
and none of ``exclude_artifacts`` (default ``*draft*``: the generated
``postmortem_draft.md`` is a starting point, not a postmortem).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Literal

from pydantic import Field

from gatekeeper.gates.base import Finding, GateConfig, GateContext
from gatekeeper.models import Artifact, Incident, Severity
from gatekeeper.timeutil import format_second


class PostmortemRequiredConfig(GateConfig):
    type: Literal["postmortem_required"] = "postmortem_required"
    severities: tuple[Severity, ...] = ("P0", "P1")
    grace_days: int = Field(default=5, ge=0, le=365)
    window_days: int = Field(default=90, ge=1, le=3650)
    artifacts: tuple[str, ...] = Field(default=("postmortem*.md",), min_length=1)
    exclude_artifacts: tuple[str, ...] = ("*draft*",)


class PostmortemRequired:
    config_model = PostmortemRequiredConfig

    def lookback(self, config: PostmortemRequiredConfig) -> timedelta:
        return timedelta(days=config.window_days)

    def evaluate(self, config: PostmortemRequiredConfig, context: GateContext) -> list[Finding]:
        record = context.store_record()
        since = context.now - timedelta(days=config.window_days)
        findings: list[Finding] = []
        for incident in sorted(record.incidents, key=lambda i: (i.started_at, i.id)):
            resolved = resolution_time(incident)
            if (
                resolved is None
                or incident.severity not in config.severities
                or incident.started_at < since
            ):
                continue
            due = resolved + timedelta(days=config.grace_days)
            has_postmortem = any(
                is_postmortem(a, config) for a in record.artifacts.get(incident.id, [])
            )
            if due < context.now and not has_postmortem:
                findings.append(missing_postmortem_finding(incident, due))
        return findings


def resolution_time(incident: Incident) -> datetime | None:
    """When a resolved or closed incident was resolved; ``None`` while it is active."""
    if incident.active:
        return None
    return incident.resolved_at or incident.closed_at or incident.updated_at


def is_postmortem(artifact: Artifact, config: PostmortemRequiredConfig) -> bool:
    """Whether the artifact's name counts as a postmortem under ``config``."""
    name = artifact.name.lower()
    return any(fnmatchcase(name, p.lower()) for p in config.artifacts) and not any(
        fnmatchcase(name, p.lower()) for p in config.exclude_artifacts
    )


def missing_postmortem_finding(incident: Incident, due: datetime) -> Finding:
    return Finding(
        kind="missing_postmortem",
        incident_id=incident.id,
        severity=incident.severity,
        owner=incident.labels.get("owner"),
        due=due,
        message=(
            f"{incident.severity} incident {incident.id} ({incident.status}) has no postmortem; "
            f"it was due {format_second(due)}: {incident.title}"
        ),
    )


GATE_TYPE = PostmortemRequired()
