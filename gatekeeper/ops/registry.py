"""The job registry, ``ops/task_registry.yml``: the canonical declaration of every job.

::

    version: 1
    activation: {user: root, workdir: /opt/daarion, python: python3, agent: helion}
    jobs:
      - id: daily_risk_digest
        schedule: "0 9 * * *"          # exactly 5 cron fields (cronsim)
        timezone: UTC                  # IANA name; default UTC
        entry: gatekeeper.ops.jobs.daily_risk_digest:run
        role: [agent_cto, agent_oncall]
        inputs: {window_days: 30}      # defaults; `jobs run --input k=v` overrides
        dry_run: true
        concurrency: forbid            # forbid (default) or allow
        timeout_s: 900
        owner: sre

Every error names ``file:line`` and the field (docs/jobs.md).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from gatekeeper.errors import ConfigError, InvalidInput
from gatekeeper.gates.freeze_window import TimeZoneName
from gatekeeper.ops.schedule import check_schedule
from gatekeeper.policy._yaml import LineDict, LineList, load_yaml, validation_error

DEFAULT_REGISTRY = Path("ops/task_registry.yml")
REGISTRY_VARIABLE = "GATEKEEPER_REGISTRY"
JOB_ID_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
InputValue = str | int | float | bool


def _roles(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Schedule = Annotated[str, AfterValidator(check_schedule)]
Roles = Annotated[tuple[str, ...], BeforeValidator(_roles), Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Activation(_Model):
    """How the generated cron file and Kubernetes manifests call the runner."""

    user: str = Field(default="root", pattern=r"^[a-z_][a-z0-9_-]{0,31}$")
    workdir: str = Field(default="/opt/daarion", min_length=1)
    python: str = Field(default="python3", min_length=1)
    agent: str = Field(default="helion", min_length=1)
    image: str = Field(default="ghcr.io/example/gatekeeper:latest", min_length=1)


class JobSpec(_Model):
    id: str = Field(pattern=JOB_ID_PATTERN)
    description: str = ""
    schedule: Schedule
    timezone: TimeZoneName = "UTC"
    entry: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    role: Roles
    inputs: dict[str, InputValue] = Field(default_factory=dict)
    dry_run: bool = True
    concurrency: Literal["forbid", "allow"] = "forbid"
    timeout_s: int = Field(default=3600, ge=1, le=86400)
    owner: str = Field(min_length=1)

    def entry_function(self) -> Callable[..., Any]:
        """Import the job function ``module:function``; :class:`ConfigError` if it is not there."""
        module_name, _, function = self.entry.partition(":")
        try:
            found = getattr(importlib.import_module(module_name), function)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(
                f"entry {self.entry!r} cannot be imported: {exc}", where=self.id
            ) from exc
        if not callable(found):
            raise ConfigError(f"entry {self.entry!r} is not a function", where=self.id)
        return found  # type: ignore[no-any-return]

    def resolved_inputs(self, given: Mapping[str, str]) -> dict[str, InputValue]:
        """The declared inputs with ``given`` (``--input k=v``) applied, typed like the defaults."""
        values: dict[str, InputValue] = dict(self.inputs)
        for name, text in given.items():
            if name not in self.inputs:
                known = ", ".join(sorted(self.inputs)) or "none"
                raise InvalidInput(f"unknown input of {self.id} (known: {known})", where=name)
            values[name] = _typed(name, text, self.inputs[name])
        return values


class RegistryFile(_Model):
    version: Literal[1]
    activation: Activation = Field(default_factory=Activation)
    jobs: list[JobSpec] = Field(default_factory=list)


class Registry(BaseModel):
    """The validated registry, and where each job was declared."""

    model_config = ConfigDict(frozen=True)

    path: Path
    activation: Activation
    jobs: dict[str, JobSpec]
    lines: dict[str, int]

    def job(self, job_id: str) -> JobSpec:
        found = self.jobs.get(job_id)
        if found is None:
            known = ", ".join(self.jobs) or "none"
            raise InvalidInput(
                f"no job {job_id!r} in the registry (known: {known})", where=str(self.path)
            )
        return found


def registry_path(given: str | Path | None, environ: Mapping[str, str] | None = None) -> Path:
    """``--registry``, else ``GATEKEEPER_REGISTRY``, else ``ops/task_registry.yml``."""
    env = os.environ if environ is None else environ
    return Path(given or env.get(REGISTRY_VARIABLE) or DEFAULT_REGISTRY)


def load_registry(path: Path) -> Registry:
    """Read and validate the registry; :class:`ConfigError` naming ``file:line`` on any problem."""
    if not path.is_file():
        raise ConfigError("job registry not found", where=str(path))
    data = load_yaml(path)
    if not isinstance(data, LineDict):
        raise ConfigError("a job registry is a mapping with version and jobs", where=f"{path}:1")
    try:
        parsed = RegistryFile.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, path, data) from exc
    raw_jobs = data.get("jobs")
    lines = raw_jobs.item_lines if isinstance(raw_jobs, LineList) else [1] * len(parsed.jobs)
    jobs: dict[str, JobSpec] = {}
    where: dict[str, int] = {}
    for job, line in zip(parsed.jobs, lines, strict=True):
        if job.id in jobs:
            raise ConfigError(
                f"job {job.id!r} is already declared at line {where[job.id]}",
                where=f"{path}:{line}, jobs.id",
            )
        jobs[job.id], where[job.id] = job, line
    return Registry(path=path, activation=parsed.activation, jobs=jobs, lines=where)


def _typed(name: str, text: str, default: InputValue) -> InputValue:
    if isinstance(default, bool):
        if text.lower() in ("true", "yes", "1"):
            return True
        if text.lower() in ("false", "no", "0"):
            return False
        raise InvalidInput(f"expected true or false, got {text!r}", where=name)
    try:
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        raise InvalidInput(
            f"expected a {type(default).__name__}, got {text!r}", where=name
        ) from None
    return text


def parse_inputs(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``k=v`` strings into a mapping; :class:`InvalidInput` for one without ``=``."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InvalidInput(f"expected NAME=VALUE, got {pair!r}", where="--input")
        out[name] = value
    return out
