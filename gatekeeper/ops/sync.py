"""Where the registry and the cron file disagree (``jobs check-sync``, the ``registry_sync`` gate).

Each :class:`Drift` has a ``kind`` (below), the job, the cron line, and a
message that says what to do. Kinds:

``missing``           a registry job with no cron line
``disabled``          a registry job whose cron line is commented out
``unknown_job``       a cron line for a job the registry does not declare
``schedule``          the line's schedule differs from the registry's
``timezone``          the line's CRON_TZ/TZ differs from the registry's time zone
``not_runner``        a marked line whose command does not call the runner
``marker_mismatch``   the marker names one job, the runner is asked to run another
``duplicate``         more than one line activates the job
``unmarked``          a line calls the runner without a ``# gatekeeper:<id>`` marker
``dry_run``           the line runs the job with --dry-run, so it never does anything
``foreign``           a line neither marked nor calling the runner
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gatekeeper.ops.cron import CronLine
from gatekeeper.ops.registry import Registry


@dataclass(frozen=True)
class Drift:
    kind: str
    job: str | None
    line: int | None
    message: str

    def to_json_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "job": self.job, "line": self.line, "message": self.message}


def check_sync(registry: Registry, cron_path: Path, lines: list[CronLine]) -> list[Drift]:
    """Every difference between ``registry`` and the cron file's ``lines``, in file order."""
    drifts: list[Drift] = []
    seen: dict[str, int] = {}
    disabled: set[str] = set()
    for line in lines:
        job_id = line.marker or line.runner_job
        if line.disabled:
            if job_id is not None:
                disabled.add(job_id)
            continue
        drifts.extend(_line_drifts(registry, cron_path, line, job_id))
        if job_id is None or job_id not in registry.jobs:
            continue
        if job_id in seen:
            drifts.append(
                Drift(
                    "duplicate",
                    job_id,
                    line.line,
                    f"{cron_path}:{line.line}: {job_id} is already activated at line "
                    f"{seen[job_id]}; keep one line per job",
                )
            )
        else:
            seen[job_id] = line.line
    for job_id in registry.jobs:
        if job_id in seen:
            continue
        kind = "disabled" if job_id in disabled else "missing"
        what = "is commented out in" if kind == "disabled" else "has no line in"
        drifts.append(
            Drift(
                kind,
                job_id,
                None,
                f"{job_id} ({registry.path}:{registry.lines[job_id]}) {what} {cron_path}; "
                "regenerate it with `gatekeeper jobs cron`",
            )
        )
    return drifts


def _line_drifts(
    registry: Registry, cron_path: Path, line: CronLine, job_id: str | None
) -> list[Drift]:
    at = f"{cron_path}:{line.line}"
    if job_id is None:
        return [Drift("foreign", None, line.line, f"{at}: a line gatekeeper does not manage")]
    job = registry.jobs.get(job_id)
    if job is None:
        return [
            Drift("unknown_job", job_id, line.line, f"{at}: {job_id} is not in {registry.path}")
        ]
    found: list[Drift] = []

    def add(kind: str, message: str) -> None:
        found.append(Drift(kind, job_id, line.line, f"{at}: {message}"))

    if line.marker is None:
        add("unmarked", f"calls the runner for {job_id} without a # gatekeeper:{job_id} marker")
    if line.runner_job is None:
        add("not_runner", f"the line for {job_id} does not call the runner")
    elif line.marker is not None and line.runner_job != line.marker:
        add("marker_mismatch", f"marked {line.marker} but runs {line.runner_job}")
    if line.schedule != job.schedule:
        add("schedule", f"{job_id} runs at {line.schedule!r}; the registry says {job.schedule!r}")
    zone = line.timezone or "the system time zone (no CRON_TZ)"
    if line.timezone != job.timezone:
        add("timezone", f"{job_id} runs in {zone}; the registry says {job.timezone}")
    if line.dry_run:
        add("dry_run", f"{job_id} is run with --dry-run, so it never writes anything")
    return found
