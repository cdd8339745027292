"""``gatekeeper jobs``: the job registry, its cron activation, and running one job."""

from __future__ import annotations

from pathlib import Path

import click

from gatekeeper.cli._app import App, echo_json, format_option, now_option, pass_app
from gatekeeper.cli._ops import agent_option, ops_place_of, registry_option
from gatekeeper.errors import GatekeeperError
from gatekeeper.ops.cron import parse_cron_file, render_cron, render_kubernetes
from gatekeeper.ops.registry import load_registry, parse_inputs, registry_path
from gatekeeper.ops.runlog import RunLog
from gatekeeper.ops.sync import check_sync
from gatekeeper.timeutil import format_timestamp

DEFAULT_CRON = Path("ops/cron/jobs.cron")


@click.group("jobs")
def command() -> None:
    """The scheduled jobs: list, run, generate the cron file, check it is in sync.

    Example: gatekeeper jobs list
    """


@command.command("list")
@registry_option
@now_option
@format_option("text", "json")
@pass_app
def list_jobs(app: App, registry: str | None, output_format: str) -> None:
    """List the registry's jobs with their schedule, role, owner and last run.

    Example: gatekeeper jobs list --registry ops/task_registry.yml --format json
    """
    loaded = load_registry(registry_path(registry))
    last = RunLog(ops_place_of(app)).last_runs()
    rows = []
    for job in loaded.jobs.values():
        run = last.get(job.id)
        rows.append(
            {
                "id": job.id,
                "schedule": job.schedule,
                "timezone": job.timezone,
                "role": list(job.role),
                "owner": job.owner,
                "dry_run": job.dry_run,
                "concurrency": job.concurrency,
                "timeout_s": job.timeout_s,
                "last_run": format_timestamp(run.started_at) if run else None,
                "last_outcome": run.outcome if run else None,
                "last_error": run.error if run else None,
            }
        )
    if output_format == "json":
        echo_json({"registry": str(loaded.path), "jobs": rows})
        return
    for row in rows:
        last_run = f"{row['last_run']} {row['last_outcome']}" if row["last_run"] else "never run"
        click.echo(
            f"{row['id']:<34} {row['schedule']:<14} {row['timezone']:<8} "
            f"owner {row['owner']:<10} last run: {last_run}"
        )


@command.command("run")
@click.argument("job")
@registry_option
@click.option("--dry-run", is_flag=True, help="Print what the job would write; write nothing.")
@click.option("--input", "inputs", multiple=True, metavar="NAME=VALUE", help="Override an input.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write reports and the backlog file to DIR instead of their ops/ directories.",
)
@agent_option
@now_option
@format_option("text", "json")
@pass_app
def run(
    app: App,
    job: str,
    registry: str | None,
    dry_run: bool,
    inputs: tuple[str, ...],
    out: Path | None,
    output_format: str,
) -> None:
    """Run one registered job now, for its latest scheduled slot at or before --now.

    The agent's role must be one the registry gives the job. A second run of a
    job while one holds its lock exits 1 naming the holder. --dry-run takes no
    lock and writes nothing, not even the run log.

    Example: gatekeeper jobs run daily_risk_digest --agent helion --dry-run
    """
    from gatekeeper.ops.runner import run_job

    result = run_job(
        load_registry(registry_path(registry)),
        job,
        settings=app.settings,
        now=app.now,
        place=ops_place_of(app),
        open_store=app.store,
        inputs=parse_inputs(inputs),
        dry_run=dry_run,
        out=out,
    )
    if output_format == "json":
        echo_json(result.to_json_dict())
        return
    verb = "would write" if dry_run else "wrote"
    head = "dry run of" if dry_run else "ran"
    click.echo(f"{head} {result.job} for slot {format_timestamp(result.slot)}")
    for output in result.outputs:
        click.echo(f"  {verb} {output.describe()}")


@command.command("cron")
@registry_option
@click.option(
    "--target",
    type=click.Choice(["cron", "kubernetes"]),
    default="cron",
    show_default=True,
    help="cron: an /etc/cron.d file; kubernetes: CronJob manifests.",
)
@format_option("text", "json")
@pass_app
def cron(app: App, registry: str | None, target: str, output_format: str) -> None:
    """Print the cron file (or Kubernetes CronJobs) generated from the registry.

    Example: gatekeeper jobs cron > ops/cron/jobs.cron
    """
    loaded = load_registry(registry_path(registry))
    text = render_kubernetes(loaded) if target == "kubernetes" else render_cron(loaded)
    if output_format == "json":
        echo_json({"registry": str(loaded.path), "target": target, "content": text})
    else:
        click.echo(text, nl=False)


@command.command("check-sync")
@registry_option
@click.option(
    "--cron",
    "cron_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_CRON,
    show_default=True,
    help="The cron file to compare with the registry.",
)
@format_option("text", "json")
@pass_app
def check_sync_command(app: App, registry: str | None, cron_file: Path, output_format: str) -> None:
    """List every difference between the registry and the cron file; exit 1 on drift.

    Exit 2 when either file is invalid (the error names file:line).

    Example: gatekeeper jobs check-sync --registry ops/task_registry.yml --cron ops/cron/jobs.cron
    """
    loaded = load_registry(registry_path(registry))
    drifts = check_sync(loaded, cron_file, parse_cron_file(cron_file))
    if output_format == "json":
        echo_json(
            {
                "registry": str(loaded.path),
                "cron": str(cron_file),
                "in_sync": not drifts,
                "drift": [d.to_json_dict() for d in drifts],
            }
        )
    elif not drifts:
        click.echo(f"in sync: {len(loaded.jobs)} jobs in {loaded.path} and {cron_file}")
    else:
        for drift in drifts:
            click.echo(f"{drift.kind}: {drift.message}")
    if drifts:
        count = len(drifts)
        raise GatekeeperError(
            f"{count} difference{'s' * (count != 1)} between {loaded.path} and {cron_file}"
        )
