"""What every gate type is: a config model, a store look-back and an ``evaluate``.

A gate type only finds things (:class:`Finding`); it never decides. Turning
findings into pass/warn/block — strictness, ``mode``, waivers, overrides — is
the engine's job (:mod:`gatekeeper.engine.decision`), so every gate type gets
the same semantics for free.

Built-in types live one per module beside this file and are listed in
:mod:`gatekeeper.gates.registry`; third-party types come through the
``gatekeeper.gates`` entry-point group.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from fnmatch import fnmatchcase
from typing import Annotated, Literal, Protocol, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict

from gatekeeper._frozen import frozen
from gatekeeper.errors import EvaluationError
from gatekeeper.store.base import ServiceRecord
from gatekeeper.timeutil import format_second

Mode = Literal["default", "warn", "block", "shadow"]
OnError = Literal["fail_closed", "warn"]
FindingLevel = Literal["warn", "block"]

# Service and environment names are lower-case (see docs/incidents.md), so a useful glob uses
# those characters plus the wildcards * ? [...] (and ! to negate a class).
_GLOB_RE = re.compile(r"^[a-z0-9._*?!\[\]-]{1,63}$")


def _check_glob(value: str) -> str:
    if not _GLOB_RE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid glob: use lower-case names with * ? and [...] only"
        )
    if value.count("[") != value.count("]") or _unbalanced(value):
        raise ValueError(f"{value!r} is not a valid glob: unbalanced [ ]")
    return value


def _unbalanced(value: str) -> bool:
    depth = 0
    for char in value:
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth not in (0, 1):
            return True
    return depth != 0


Glob = Annotated[str, AfterValidator(_check_glob)]


def describe_due(due: datetime) -> str:
    """A due time for people: a date-only due (the end of that UTC day) shows as the date."""
    if due.time() == time.max:
        return due.date().isoformat()
    return format_second(due)


class GateConfig(BaseModel):
    """Options every gate has; a gate type's own model adds its fields."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: str
    description: str = ""
    mode: Mode = "default"
    on_error: OnError = "fail_closed"
    on_corrupt: OnError = "fail_closed"
    services: tuple[Glob, ...] = ("*",)
    envs: tuple[Glob, ...] = ("*",)

    def applies_to(self, env: str, service: str) -> bool:
        """Whether this gate covers ``service`` in ``env`` (its ``services``/``envs`` globs)."""
        return any(fnmatchcase(env, p) for p in self.envs) and any(
            fnmatchcase(service, p) for p in self.services
        )


@frozen
class Finding:
    """One reason a gate objects, about an incident, a follow-up or the calendar.

    ``level="warn"`` marks a finding that may warn but never block on its own
    (e.g. a score between a warn and a block threshold).
    """

    kind: str
    message: str
    incident_id: str | None = None
    followup_id: str | None = None
    severity: str | None = None
    owner: str | None = None
    due: datetime | None = None
    level: FindingLevel = "block"


@frozen
class GateContext:
    """What a gate sees for one service in one run."""

    env: str
    service: str
    now: datetime
    record: ServiceRecord | None = None

    def store_record(self) -> ServiceRecord:
        """The service's incident record; only gates with a look-back get one."""
        if self.record is None:
            raise EvaluationError("gate needs the incident store but none was read")
        return self.record


C = TypeVar("C", bound=GateConfig)


class GateType(Protocol[C]):
    """A kind of gate. Implementations are stateless; one instance serves every run."""

    config_model: type[C]

    def lookback(self, config: C) -> timedelta | None:
        """How far back the gate reads the store, or ``None`` if it never reads it."""
        ...

    def evaluate(self, config: C, context: GateContext) -> list[Finding]:
        """The findings for ``context.service`` in ``context.env`` at ``context.now``."""
        ...
