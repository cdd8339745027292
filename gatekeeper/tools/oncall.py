"""``oncall_tool``: incidents, timelines, artifacts and follow-ups for agents (docs/tool-api.md).

Every action is a thin front over :class:`~gatekeeper.incidents.IncidentService`
(which checks permissions) or :func:`~gatekeeper.summary.followup_summary`, so an
agent and a person at the CLI get the same behaviour.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import Field

from gatekeeper.errors import InvalidInput
from gatekeeper.inputs import (
    FollowupChanges,
    IncidentChanges,
    IncidentQuery,
    Input,
    NewEvent,
    NewFollowup,
    NewIncident,
    SummaryQuery,
    parse_input,
)
from gatekeeper.models import (
    IncidentId,
)
from gatekeeper.summary import followup_summary
from gatekeeper.tools.base import Params, Result, Tool, ToolContext

TOOL = Tool("oncall_tool", "Incidents, their timelines, artifacts and follow-ups.")


InputT = TypeVar("InputT", bound=Input)
Name = Annotated[str, Field(min_length=1, max_length=200)]


def _input(model: type[InputT], params: Params, *ids: str) -> InputT:
    """The operation's typed input: the action's params less the ids naming the target.

    Each action's params model *is* its input model plus those ids, so limits and
    wording are the CLI's; this second pass only drops the ids (and says "nothing
    to update" when nothing else was given).
    """
    given = params.model_dump(exclude_unset=True, exclude=set(ids))
    return parse_input(model, given, prefix="params.")


# -- incidents -------------------------------------------------------------------------


class CreateParams(NewIncident, Params):
    pass


@TOOL.action("incident_create", CreateParams, writes=True)
def incident_create(ctx: ToolContext, params: CreateParams) -> Result:
    """Open an incident; ``started_at`` defaults to now."""
    incident = ctx.incidents.create(_input(NewIncident, params), now=ctx.now)
    return incident.to_json_dict()


class GetParams(Params):
    incident_id: IncidentId


@TOOL.action("incident_get", GetParams, writes=False)
def incident_get(ctx: ToolContext, params: GetParams) -> Result:
    """One incident with its events, folded follow-ups and artifacts."""
    return ctx.incidents.get(params.incident_id).to_json_dict()


class ListParams(IncidentQuery, Params):
    pass


@TOOL.action("incident_list", ListParams, writes=False)
def incident_list(ctx: ToolContext, params: ListParams) -> Result:
    """Incidents matching every given filter, newest ``started_at`` first."""
    query = params.to_filter()
    incidents = ctx.incidents.list_incidents(query)
    return {"incidents": [i.to_json_dict() for i in incidents], "count": len(incidents)}


class UpdateParams(IncidentChanges, Params):
    incident_id: IncidentId


@TOOL.action("incident_update", UpdateParams, writes=True)
def incident_update(ctx: ToolContext, params: UpdateParams) -> Result:
    """Change the fields given; labels merge (null removes one) unless ``replace_labels``."""
    changes = _input(IncidentChanges, params, "incident_id")
    return ctx.incidents.update(params.incident_id, changes, now=ctx.now).to_json_dict()


class AppendEventParams(NewEvent, Params):
    incident_id: IncidentId


@TOOL.action("incident_append_event", AppendEventParams, writes=True)
def incident_append_event(ctx: ToolContext, params: AppendEventParams) -> Result:
    """Append a timeline event; ``ts`` (when it happened) defaults to now."""
    new = _input(NewEvent, params, "incident_id")
    event = ctx.incidents.append_event(params.incident_id, new, now=ctx.now)
    return event.to_json_dict()


class AttachArtifactParams(Params):
    incident_id: IncidentId
    name: str
    content: str


@TOOL.action("incident_attach_artifact", AttachArtifactParams, writes=True)
def incident_attach_artifact(ctx: ToolContext, params: AttachArtifactParams) -> Result:
    """Store ``content`` (text, at most 2 MiB as UTF-8) as an artifact of the incident."""
    content = params.content.encode("utf-8")
    artifact = ctx.incidents.attach_artifact(params.incident_id, params.name, content, now=ctx.now)
    return artifact.to_json_dict()


# -- follow-ups ------------------------------------------------------------------------


class FollowupsSummaryParams(SummaryQuery, Params):
    pass


@TOOL.action("incident_followups_summary", FollowupsSummaryParams, writes=False)
def incident_followups_summary(ctx: ToolContext, params: FollowupsSummaryParams) -> Result:
    """Active incidents by severity, open and overdue follow-ups of a service in an env."""
    summary = followup_summary(
        ctx.store,
        service=params.service,
        env=params.env,
        window_days=params.window_days,
        now=ctx.now,
    )
    return summary.to_json_dict()


class FollowupAddParams(NewFollowup, Params):
    incident_id: IncidentId


@TOOL.action("followup_add", FollowupAddParams, writes=True)
def followup_add(ctx: ToolContext, params: FollowupAddParams) -> Result:
    """Add a follow-up; ``due`` defaults to now plus the policy's SLA days for its priority."""
    new = _input(NewFollowup, params, "incident_id")
    return ctx.incidents.add_followup(params.incident_id, new, now=ctx.now).to_json_dict()


class FollowupUpdateParams(FollowupChanges, Params):
    incident_id: IncidentId
    followup_id: Name


@TOOL.action("followup_update", FollowupUpdateParams, writes=True)
def followup_update(ctx: ToolContext, params: FollowupUpdateParams) -> Result:
    """Change the fields given; status ``done`` stamps ``completed_at``."""
    changes = _input(FollowupChanges, params, "incident_id", "followup_id")
    followup = ctx.incidents.update_followup(
        params.incident_id, params.followup_id, changes, now=ctx.now
    )
    return followup.to_json_dict()


# -- alerts ----------------------------------------------------------------------------


class AlertIngestParams(Params):
    alerts: list[Any] = Field(min_length=1, max_length=10_000)
    dry_run: bool = False


@TOOL.action("alert_ingest", AlertIngestParams, writes=True)
def alert_ingest(ctx: ToolContext, params: AlertIngestParams) -> Result:
    """Put alerts in the inbox (all or nothing); ``alerts triage`` turns them into incidents."""
    from gatekeeper.ops.alerts.inbox import alert_record, open_inbox
    from gatekeeper.ops.alerts.policy import load_triage_policy

    agent = ctx.incidents.rbac.require(ctx.incidents.agent, "incident_write")
    fields = load_triage_policy(ctx.settings.policy).fingerprint_fields
    records = []
    for index, item in enumerate(params.alerts):
        if not isinstance(item, dict):
            raise InvalidInput(f"alerts[{index}]: expected a JSON object")
        records.append(alert_record(item, f"alerts[{index}]: ", fields, ctx.now, agent))
    if not params.dry_run:
        open_inbox(ctx.settings, ctx.store).add(records)
    return {
        "dry_run": params.dry_run,
        "added": len(records),
        "alerts": [{"id": r["id"], "fingerprint": r["fingerprint"]} for r in records],
    }
