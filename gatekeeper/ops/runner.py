"""Running one registered job: role check, slot, lock, run log, timeout, outputs.

``jobs run`` and ``ops/scripts/run_governance_job.py`` both call
:func:`run_job`. A ``--dry-run`` takes no lock, writes no run-log entry and
applies no output: the job only describes what it would write.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

from gatekeeper.config import Settings
from gatekeeper.errors import Forbidden, GatekeeperError, InvalidInput
from gatekeeper.ops.locks import advisory_lock, file_lock
from gatekeeper.ops.outputs import Output
from gatekeeper.ops.place import OpsPlace
from gatekeeper.ops.registry import InputValue, JobSpec, Registry
from gatekeeper.ops.runlog import RunEntry, RunLog, new_run_id
from gatekeeper.ops.schedule import latest_slot
from gatekeeper.rbac import load_rbac
from gatekeeper.store import IncidentStore
from gatekeeper.timeutil import format_timestamp


class JobFailed(GatekeeperError):
    """The job ran and failed (its error line is in the run log)."""


@dataclass(frozen=True)
class JobContext:
    """What a job function gets: the slot it runs for, its inputs, where to read and write."""

    job: JobSpec
    settings: Settings
    now: datetime
    slot: datetime
    inputs: Mapping[str, InputValue]
    place: OpsPlace
    out: Path | None
    agent: str
    open_store: Callable[[], IncidentStore]

    def report_dir(self, default: str) -> Path:
        """``--out DIR`` when given, else ``default`` under the working directory."""
        return self.out if self.out is not None else Path(default)


@dataclass(frozen=True)
class RunResult:
    job: str
    slot: datetime
    dry_run: bool
    outputs: Sequence[Output]
    run_id: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "slot": format_timestamp(self.slot),
            "dry_run": self.dry_run,
            "run_id": self.run_id,
            "outcome": "dry_run" if self.dry_run else "ok",
            "outputs": [o.to_json_dict() for o in self.outputs],
        }


JobFunction = Callable[[JobContext], list[Output]]


def check_role(job: JobSpec, settings: Settings, agent: str | None) -> str:
    """The agent, if its role may run ``job``; :class:`Forbidden` otherwise."""
    if agent is None:
        raise Forbidden(f"running {job.id} needs an agent (--agent or GATEKEEPER_AGENT)")
    role = load_rbac(settings.policy).role_of(agent)
    if role not in job.role:
        raise Forbidden(
            f"agent {agent!r} (role {role}) may not run {job.id}; it needs {', '.join(job.role)}"
        )
    return agent


def run_job(
    registry: Registry,
    job_id: str,
    *,
    settings: Settings,
    now: datetime,
    place: OpsPlace,
    open_store: Callable[[], IncidentStore],
    inputs: Mapping[str, str] | None = None,
    dry_run: bool = False,
    out: Path | None = None,
) -> RunResult:
    """Run ``job_id`` for its latest slot at or before ``now`` (see the module docstring)."""
    job = registry.job(job_id)
    agent = check_role(job, settings, settings.agent)
    if dry_run and not job.dry_run:
        raise InvalidInput(f"{job.id} does not support --dry-run", where="--dry-run")
    function: JobFunction = job.entry_function()
    context = JobContext(
        job=job,
        settings=settings,
        now=now,
        slot=latest_slot(job.schedule, job.timezone, now),
        inputs=job.resolved_inputs(inputs or {}),
        place=place,
        out=out,
        agent=agent,
        open_store=open_store,
    )
    if dry_run:
        return RunResult(job.id, context.slot, True, function(context))
    with _job_lock(job, place, settings, now):
        return _logged_run(job, function, context)


def _job_lock(
    job: JobSpec, place: OpsPlace, settings: Settings, now: datetime
) -> AbstractContextManager[None]:
    if job.concurrency == "allow":
        return nullcontext()
    if place.kind == "postgres":
        return advisory_lock(settings.database_url, job.id, now)
    return file_lock(place.directory, job.id, now)


def _logged_run(job: JobSpec, function: JobFunction, context: JobContext) -> RunResult:
    log = RunLog(context.place)
    entry = RunEntry(
        run_id=new_run_id(context.now),
        job=job.id,
        slot=context.slot,
        started_at=context.now,
        agent=context.agent,
        host=socket.gethostname(),
        pid=os.getpid(),
    )
    log.record(entry)
    try:
        with _timeout(job.timeout_s, job.id):
            outputs = function(context)
            for output in outputs:
                output.apply()
    except BaseException as exc:
        log.record(entry.ended(context.now, "failed", (), _error_line(exc)))
        raise
    log.record(entry.ended(context.now, "ok", tuple(o.target for o in outputs), None))
    return RunResult(job.id, context.slot, False, outputs, run_id=entry.run_id)


def _error_line(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, GatekeeperError) else f"{type(exc).__name__}: {exc}"
    return (text.splitlines() or [type(exc).__name__])[0]


@contextmanager
def _timeout(seconds: int, job_id: str) -> Iterator[None]:
    """Fail the run after ``timeout_s`` (only in the main thread, where signals work)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise JobFailed(f"job {job_id} timed out after {seconds} s", where=job_id)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
