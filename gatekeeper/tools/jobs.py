"""``jobs``: start a registered job through the tool interface (the runbook's manual run).

``{"tool": "jobs", "action": "start_task", "agent_id": "sofiia",
"params": {"task_id": "weekly_incident_digest", "inputs": {}}}`` runs the job now,
exactly as ``gatekeeper jobs run`` does (role check, lock, run log, outputs).
"""

from __future__ import annotations

from pydantic import Field

from gatekeeper.ops.place import ops_place
from gatekeeper.ops.registry import InputValue, load_registry, registry_path
from gatekeeper.ops.runner import run_job
from gatekeeper.tools.base import Params, Result, Tool, ToolContext

TOOL = Tool("jobs", "Run the scheduled jobs of the registry by hand.")


class StartTaskParams(Params):
    task_id: str = Field(min_length=1, max_length=63)
    inputs: dict[str, InputValue] = Field(default_factory=dict)
    dry_run: bool = False


@TOOL.action("start_task", StartTaskParams, writes=True)
def start_task(ctx: ToolContext, params: StartTaskParams) -> Result:
    """Run one registered job now for its latest slot; ``dry_run`` writes nothing."""
    settings = ctx.settings
    if ctx.incidents.agent is not None:
        from dataclasses import replace

        settings = replace(settings, agent=ctx.incidents.agent)
    result = run_job(
        load_registry(registry_path(None)),
        params.task_id,
        settings=settings,
        now=ctx.now,
        place=ops_place(settings, ctx.store),
        open_store=lambda: ctx.store,
        inputs={
            k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.inputs.items()
        },
        dry_run=params.dry_run,
    )
    return result.to_json_dict()
