"""The incident record: incidents, timeline events, follow-ups and artifacts (docs/incidents.md).

Records are validated with pydantic as they enter (``extra="forbid"``); inside the
package code works with these typed, frozen objects.
"""

from __future__ import annotations

import re
import secrets
import string
import time
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    model_validator,
)

from gatekeeper.errors import InvalidInput
from gatekeeper.timeutil import format_timestamp, parse_due, parse_timestamp

Severity = Literal["P0", "P1", "P2", "P3", "P4"]
FollowupPriority = Literal["P0", "P1", "P2", "P3"]
IncidentStatus = Literal["open", "mitigated", "resolved", "closed"]
FollowupStatus = Literal["open", "in_progress", "done", "cancelled"]
ArtifactKind = Literal["md", "json", "txt"]

SEVERITIES: tuple[Severity, ...] = get_args(Severity)
INCIDENT_STATUSES: tuple[IncidentStatus, ...] = get_args(IncidentStatus)
FOLLOWUP_PRIORITIES: tuple[FollowupPriority, ...] = get_args(FollowupPriority)
FOLLOWUP_STATUSES: tuple[FollowupStatus, ...] = get_args(FollowupStatus)
ACTIVE_STATUSES: frozenset[str] = frozenset({"open", "mitigated"})
OPEN_FOLLOWUP_STATUSES: frozenset[str] = frozenset({"open", "in_progress"})

INCIDENT_ID_RE = re.compile(r"^inc_[0-9]{8}_[0-9]{4}_[a-z0-9]{6}$")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
ARTIFACT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.(md|json|txt)$")
EVENT_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_ID_ALPHABET = string.ascii_lowercase + string.digits


def _utc(value: Any) -> datetime:
    if not isinstance(value, str | datetime):
        raise ValueError("expected an ISO-8601 timestamp string")
    try:
        return parse_timestamp(value, field="value")
    except InvalidInput as exc:
        # pydantic only collects ValueError; keep the helpful text.
        raise ValueError(exc.message.removeprefix("value: ")) from None


def validation_problem(exc: ValidationError) -> tuple[str, str]:
    """The first offending field of ``exc`` (``""`` for the whole record) and what is wrong."""
    first = exc.errors()[0]
    loc = ".".join(_printable(str(part)) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    more = len(exc.errors()) - 1
    return loc, message + (f" (and {more} more)" if more else "")


def _printable(part: str) -> str:
    # A dict key in the location may be the bad text itself (NUL, a lone surrogate):
    # escape it, so the one-line error can always be printed and sent as JSON.
    return part if _encodable(part) else ascii(part)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return text.isprintable()


def describe_validation_error(exc: ValidationError, *, prefix: str = "") -> str:
    """One line naming the first offending field: ``params.severity: Input should be ...``.

    A check of the whole record names no field: ``nothing to update (params)``.
    """
    loc, message = validation_problem(exc)
    if not loc:
        return f"{message} ({prefix.rstrip('.')})" if prefix else f"(record): {message}"
    return f"{prefix}{loc}: {message}"


def _check_incident_id(value: str) -> str:
    if not INCIDENT_ID_RE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an incident id; expected inc_YYYYMMDD_HHMM_xxxxxx "
            "(e.g. inc_20260218_1430_abc123)"
        )
    return value


def _check_name(value: str) -> str:
    if not NAME_RE.fullmatch(value):
        raise ValueError(f"{value!r} must match {NAME_RE.pattern}")
    return value


def check_text(value: str) -> str:
    """Refuse what no backend stores faithfully: NUL (PostgreSQL text) and lone
    surrogates (not encodable as UTF-8, so not a JSON Lines record either)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must not contain lone surrogates (not valid Unicode text)") from None
    return value


def _check_title(value: str) -> str:
    if not 1 <= len(value) <= 200:
        raise ValueError("must be 1-200 characters")
    check_text(value)
    if _CONTROL_RE.search(value):
        raise ValueError("must not contain control characters")
    return value


UtcDatetime = Annotated[
    datetime,
    BeforeValidator(_utc),
    PlainSerializer(format_timestamp, return_type=str, when_used="json"),
]
Text = Annotated[str, AfterValidator(check_text)]
"""A text value of any record: no NUL, no lone surrogate."""
IncidentId = Annotated[str, AfterValidator(_check_incident_id)]
ServiceName = Annotated[str, AfterValidator(_check_name)]
Title = Annotated[str, AfterValidator(_check_title)]


class Record(BaseModel):
    """Base for stored records: strict about unknown fields, immutable once built."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Incident(Record):
    id: IncidentId
    service: ServiceName
    env: ServiceName
    severity: Severity
    status: IncidentStatus = "open"
    title: Title
    summary: Text | None = None
    labels: dict[Text, Text] = Field(default_factory=dict)
    started_at: UtcDatetime
    created_at: UtcDatetime
    updated_at: UtcDatetime
    resolved_at: UtcDatetime | None = None
    closed_at: UtcDatetime | None = None
    created_by: str

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class Event(Record):
    id: str = Field(pattern=r"^evt_[a-z0-9]{16,32}$")
    incident_id: IncidentId
    ts: UtcDatetime
    recorded_at: UtcDatetime
    type: str = Field(pattern=EVENT_TYPE_RE.pattern)
    message: Text = ""
    meta: dict[str, Any] = Field(default_factory=dict)
    actor: str

    @model_validator(mode="after")
    def _followup_due(self) -> Event:
        # A follow-up's due is a date or a timestamp; anything else (5, null, a list)
        # is refused here, so a reader reports such a stored event as corrupt.
        if self.type == "followup" and "due" in self.meta:
            due = self.meta["due"]
            if not isinstance(due, str):
                raise ValueError("meta.due: expected a date (YYYY-MM-DD) or a timestamp string")
            try:
                parse_due(due, field="meta.due")
            except InvalidInput as exc:
                raise ValueError(exc.message) from None
        return self


class Artifact(Record):
    incident_id: IncidentId
    name: str = Field(pattern=ARTIFACT_NAME_RE.pattern)
    kind: ArtifactKind
    size_bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    created_at: UtcDatetime
    created_by: str


class FollowUp(Record):
    """A follow-up as folded from its ``followup`` events (see :mod:`gatekeeper.followups`)."""

    followup_id: str
    incident_id: str
    title: str
    owner: str
    due: UtcDatetime
    priority: FollowupPriority
    status: FollowupStatus
    ticket: str | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    completed_at: UtcDatetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_FOLLOWUP_STATUSES

    def is_overdue(self, now: datetime) -> bool:
        """Open or in progress and past due, whatever the incident's own status."""
        return self.is_open and self.due < now


def random_suffix(length: int = 6) -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def new_incident_id(started_at: datetime) -> str:
    return f"inc_{started_at.strftime('%Y%m%d_%H%M')}_{random_suffix()}"


_last_event_clock = 0


def new_event_id() -> str:
    """A time-ordered id (like a ULID): wall-clock nanoseconds, then random bits.

    The fold and the timeline break ties of equal ``ts``/``recorded_at`` by id, and
    with a fixed ``--now`` every write shares those; a time-ordered id keeps such
    events (a follow-up added, then closed) in the order they were written. The
    clock here only orders ids; it is never used as "now".
    """
    global _last_event_clock
    _last_event_clock = max(time.time_ns(), _last_event_clock + 1)
    return f"evt_{_last_event_clock:016x}{secrets.token_hex(4)}"


FOLLOWUP_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
"""A follow-up id: ours are ``fu_`` + 8 characters; an agent may bring its own."""


def new_followup_id() -> str:
    return f"fu_{random_suffix(8)}"
