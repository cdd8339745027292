"""Waivers (``waivers.yml`` beside the policy): a time-boxed "yes, we know".

``{version: 1, waivers: [...]}``, each waiver ``{gate, service, env, reason,
ticket, approved_by, approved_at?, expires_at, incidents?}``; a bare list of
waivers (the first format) is still read the same way. An *active* waiver
(approved, not expired) turns its gate's block into warn for that service and
environment — never into pass. With ``incidents`` it only covers findings about
those incidents. ``expires_at`` may
be a date (the waiver lasts through that UTC day) or a timestamp; it may lie at
most the policy's ``max_waiver_days`` after ``approved_at`` (or after now when
there is none), otherwise the file is a configuration error.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from gatekeeper.errors import ConfigError, InvalidInput
from gatekeeper.gates.base import Finding
from gatekeeper.models import IncidentId, ServiceName
from gatekeeper.policy._yaml import (
    LineDict,
    LineList,
    describe_found,
    line_of,
    load_yaml,
    validation_error,
)
from gatekeeper.policy.models import Policy
from gatekeeper.timeutil import format_timestamp, parse_due, parse_timestamp

WAIVER_FILES = ("waivers.yml", "waivers.yaml")


def _expiry(value: Any) -> datetime:
    if isinstance(value, str | date):  # a datetime is a date too
        try:
            return parse_due(value, field="expires_at")
        except InvalidInput as exc:
            raise ValueError(exc.message.removeprefix("expires_at: ")) from None
    raise ValueError("expected a date or an ISO-8601 timestamp")


def _approval(value: Any) -> datetime:
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=UTC)
    if isinstance(value, str | datetime):
        try:
            if isinstance(value, str) and len(value.strip()) == 10:
                return datetime.combine(date.fromisoformat(value.strip()), time(), tzinfo=UTC)
            return parse_timestamp(value, field="approved_at")
        except (InvalidInput, ValueError) as exc:
            raise ValueError(str(exc).removeprefix("approved_at: ")) from None
    raise ValueError("expected a date or an ISO-8601 timestamp")


class Waiver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    gate: str = Field(min_length=1)
    service: ServiceName
    env: ServiceName
    reason: str = Field(min_length=1)
    ticket: str = Field(min_length=1)
    approved_by: str = Field(min_length=1)
    approved_at: Annotated[datetime, BeforeValidator(_approval)] | None = None
    expires_at: Annotated[datetime, BeforeValidator(_expiry)]
    incidents: tuple[IncidentId, ...] | None = None

    def matches(self, gate: str, service: str, env: str) -> bool:
        return (self.gate, self.service, self.env) == (gate, service, env)

    def is_active(self, now: datetime) -> bool:
        started = self.approved_at is None or self.approved_at <= now
        return started and now < self.expires_at

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at <= now

    def covers(self, findings: Iterable[Finding]) -> bool:
        """Whether every finding is one this waiver may excuse."""
        if self.incidents is None:
            return True
        return all(f.incident_id in self.incidents for f in findings)

    def to_dict(self) -> dict[str, Any]:
        """Plain data with UTC ``Z`` timestamps, for reports."""
        return {
            "gate": self.gate,
            "service": self.service,
            "env": self.env,
            "reason": self.reason,
            "ticket": self.ticket,
            "approved_by": self.approved_by,
            "approved_at": format_timestamp(self.approved_at) if self.approved_at else None,
            "expires_at": format_timestamp(self.expires_at),
            "incidents": list(self.incidents) if self.incidents is not None else None,
        }


class WaiversFile(BaseModel):
    """The top level of a versioned waivers file; each waiver is validated afterwards."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    waivers: list[Any] | None = None


def waivers_file(policy_path: Path) -> Path | None:
    """``waivers.yml`` in the policy directory (a file policy's own directory), if any."""
    directory = policy_path if policy_path.is_dir() else policy_path.parent
    for name in WAIVER_FILES:
        if (directory / name).is_file():
            return directory / name
    return None


def load_waivers(policy_path: Path | str, policy: Policy, now: datetime) -> tuple[Waiver, ...]:
    """Every waiver beside the policy, validated against it; ``()`` without a file."""
    path = waivers_file(Path(policy_path))
    if path is None:
        return ()
    return read_waivers(path, policy, now)


def read_waivers(path: Path, policy: Policy, now: datetime) -> tuple[Waiver, ...]:
    """The waivers of the file ``path``: ``{version: 1, waivers: [...]}`` or a bare list."""
    data = load_yaml(path)
    if data is None:
        return ()
    items = _waiver_list(path, data)
    return tuple(_waiver(path, items, index, policy, now) for index in range(len(items)))


_SHAPE = "a waivers file is version: 1 with the list of waivers under waivers:"


def _waiver_list(path: Path, data: Any) -> LineList:
    if isinstance(data, LineList):  # the first format: a bare list
        return data
    if not isinstance(data, LineDict):
        raise ConfigError(
            f"{_SHAPE}, found {describe_found(data)}", where=f"{path}:{line_of(data)}"
        )
    if "version" not in data:  # most likely one waiver without its "- "
        raise ConfigError(f"{_SHAPE}, found no version", where=f"{path}:{line_of(data)}, version")
    try:
        WaiversFile.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, path, data) from exc
    items = data.get("waivers")
    if items is None:
        return LineList()
    assert isinstance(items, LineList)  # WaiversFile checked it is a list
    return items


def _waiver(path: Path, data: LineList, index: int, policy: Policy, now: datetime) -> Waiver:
    try:
        waiver = Waiver.model_validate(data[index])
    except ValidationError as exc:
        raise validation_error(exc, path, data, at=(index,), label=f"waivers[{index}].") from exc
    line, field = data.item_lines[index], f"waivers[{index}]"
    if waiver.gate not in policy.gates:
        raise ConfigError(f"unknown gate {waiver.gate!r}", where=f"{path}:{line}, {field}.gate")
    start = waiver.approved_at or now
    if waiver.approved_at is not None and waiver.expires_at <= waiver.approved_at:
        raise ConfigError("expires before it is approved", where=f"{path}:{line}, {field}")
    if waiver.expires_at - start > timedelta(days=policy.max_waiver_days):
        since = "approved_at" if waiver.approved_at else "now"
        raise ConfigError(
            f"waiver lasts longer than max_waiver_days ({policy.max_waiver_days}) after {since}",
            where=f"{path}:{line}, {field}.expires_at",
        )
    return waiver
