"""``incident_intelligence_tool``: digest, correlation, recurrence, risk, postmortem drafts.

Reads need no agent; ``weekly_digest`` with ``save_artifacts`` writes the
digest files and needs a CTO or on-call agent (``digest_write``), like
``gatekeeper digest weekly --save``. ``correlate`` with ``append_note`` and
``postmortem_draft`` with ``save`` write to the incident, so they run as writes
(an agent that may write incidents), like ``--append-note`` and ``--save``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from gatekeeper.intelligence import correlate as correlate_module
from gatekeeper.intelligence import postmortem as postmortem_module
from gatekeeper.intelligence.digest import DIGEST_DIR, save_digest, weekly_digest
from gatekeeper.intelligence.policy_settings import correlation_settings, risk_settings
from gatekeeper.intelligence.recurrence import DEFAULT_WINDOW_DAYS, find_recurrence
from gatekeeper.intelligence.risk import compute_risk
from gatekeeper.intelligence.weeks import last_complete_week, parse_week
from gatekeeper.models import IncidentId, ServiceName
from gatekeeper.tools.base import Params, Result, Tool, ToolContext, require_permission

TOOL = Tool(
    "incident_intelligence_tool",
    "Weekly digest, correlation, recurrence, risk and postmortem drafts of the incident record.",
)


class DigestParams(Params):
    week: str | None = None
    save_artifacts: bool = False


@TOOL.action("weekly_digest", DigestParams, writes=False)
def digest(ctx: ToolContext, params: DigestParams) -> Result:
    """The weekly digest (default: the last complete week); optionally saved."""
    if params.save_artifacts:
        label = f"{TOOL.name}.weekly_digest"
        require_permission(ctx.incidents.rbac, ctx.incidents.agent, "digest_write", label)
    week = parse_week(params.week) if params.week else last_complete_week(ctx.now)
    result = weekly_digest(ctx.store, week, now=ctx.now)
    data = result.to_json()
    if params.save_artifacts:
        paths = save_digest(result, Path(DIGEST_DIR))
        return {**data, "saved": [str(p) for p in paths]}
    return data


class RecurrenceParams(Params):
    window_days: int = Field(default=DEFAULT_WINDOW_DAYS, ge=1, le=3650)
    service: ServiceName | None = None


@TOOL.action("recurrence", RecurrenceParams, writes=False)
def recurrence(ctx: ToolContext, params: RecurrenceParams) -> Result:
    """Incidents grouped by signature over ``window_days``."""
    return find_recurrence(
        ctx.store, now=ctx.now, window_days=params.window_days, service=params.service
    ).to_json()


class RiskParams(Params):
    service: ServiceName | None = None
    env: ServiceName | None = None


@TOOL.action("risk", RiskParams, writes=False)
def risk(ctx: ToolContext, params: RiskParams) -> Result:
    """Risk 0-100 per service and environment, with its parts."""
    settings = risk_settings(ctx.settings.policy)
    return compute_risk(
        ctx.store, settings, now=ctx.now, service=params.service, env=params.env
    ).to_json()


class CorrelateParams(Params):
    incident_id: IncidentId
    append_note: bool = False
    window_days: int | None = Field(default=None, ge=1, le=correlate_module.MAX_WINDOW_DAYS)
    limit: int | None = Field(default=None, ge=1, le=correlate_module.MAX_LIMIT)


@TOOL.action("correlate", CorrelateParams, writes=False, writes_when=lambda p: p.append_note)
def correlate(ctx: ToolContext, params: CorrelateParams) -> Result:
    """Related incidents with a score and its reasons; optionally noted on the incident."""
    return correlate_module.run(
        ctx.incidents,
        params.incident_id,
        correlation_settings(ctx.settings.policy),
        now=ctx.now,
        window_days=params.window_days,
        limit=params.limit,
        note=params.append_note,
    )


class PostmortemParams(Params):
    incident_id: IncidentId
    save: bool = False


@TOOL.action("postmortem_draft", PostmortemParams, writes=False, writes_when=lambda p: p.save)
def postmortem_draft(ctx: ToolContext, params: PostmortemParams) -> Result:
    """A Markdown postmortem draft; ``save`` attaches it as ``postmortem_draft.md``."""
    return postmortem_module.run(
        ctx.incidents,
        params.incident_id,
        correlation_settings(ctx.settings.policy),
        now=ctx.now,
        save=params.save,
    )
