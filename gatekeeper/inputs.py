"""Typed inputs, one per write operation: what the CLI and the tool both hand the service.

:class:`~gatekeeper.incidents.IncidentService` takes these objects, never loose
mappings; the CLI builds them from its options and the tool's action params
*are* them (plus the ids the action names), so a field's limits, its allowed
values and the wording of its error exist once, here and in
:mod:`gatekeeper.models`.

The value classes every text input shares (:data:`~gatekeeper.models.Text`):
no NUL, no lone surrogate. ``meta`` is any JSON object up to
:data:`MAX_DEPTH` deep, with integers within 64 bits and finite numbers.
:func:`load_json` is the one JSON decoder for input (the tool's requests,
``--meta-json``): nesting too deep or an integer too long is a one-line error.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from gatekeeper.errors import InvalidInput
from gatekeeper.models import (
    EVENT_TYPE_RE,
    FollowupPriority,
    FollowupStatus,
    IncidentStatus,
    ServiceName,
    Severity,
    Title,
    UtcDatetime,
    check_text,
    describe_validation_error,
    validation_problem,
)
from gatekeeper.store.base import IncidentFilter
from gatekeeper.timeutil import parse_due

MAX_DEPTH = 32
"""How deep ``meta`` may nest (an object or array inside another counts one level)."""
MAX_INT = 2**63 - 1
"""Integers in ``meta`` fit in a signed 64-bit integer."""
_MAX_INT_DIGITS = 30  # longer integer literals are refused while decoding, before int()


def _due(value: Any) -> datetime:
    if not isinstance(value, str | date):
        raise ValueError("expected a date (YYYY-MM-DD) or an ISO-8601 timestamp string")
    try:
        return parse_due(value, field="value")
    except InvalidInput as exc:
        raise ValueError(exc.message.removeprefix("value: ")) from None


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


class _TooLong:
    """An integer literal too long to be a value; refused by whichever field receives it."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _parse_int(text: str) -> int | _TooLong:
    digits = len(text.lstrip("-"))
    return _TooLong(digits) if digits > _MAX_INT_DIGITS else int(text)


def load_json(text: str, *, field: str) -> Any:
    """Decode JSON input; bad JSON, nesting too deep for Python, a huge integer: one line."""
    try:
        return json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{field}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise InvalidInput(f"{field}: nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:  # e.g. a float literal Python cannot hold
        raise InvalidInput(f"{field}: not valid JSON: {exc}") from None


def _check_json(value: Any, path: str, depth: int) -> None:
    """Refuse what no backend can store faithfully; ``path`` says where, inside the field."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, str):
        _text_at(path, value)
    elif isinstance(value, int):
        if not -MAX_INT - 1 <= value <= MAX_INT:
            raise ValueError(f"integer out of range (at most 64 bits) at {path}")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"must be a finite number at {path}")
    elif isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            raise ValueError(f"nested more than {MAX_DEPTH} levels deep at {path}")
        if isinstance(value, dict):
            for key, item in value.items():
                _text_at(f"{path}.{key}", key)
                _check_json(item, f"{path}.{key}", depth + 1)
        else:
            for index, item in enumerate(value):
                _check_json(item, f"{path}[{index}]", depth + 1)
    elif isinstance(value, _TooLong):
        raise ValueError(f"integer out of range ({value.digits} digits) at {path}")
    else:
        raise ValueError(f"not a JSON value at {path}")


def _text_at(path: str, value: Any) -> None:
    if not isinstance(value, str):
        raise ValueError(f"keys must be strings at {path}")
    try:
        check_text(value)
    except ValueError as exc:
        raise ValueError(f"{exc} at {path}") from None


def _check_meta(value: dict[str, Any]) -> dict[str, Any]:
    for key, item in value.items():
        _text_at(key, key)
        _check_json(item, key, 1)
    return value


def _length(low: int, high: int) -> AfterValidator:
    """A length check worded like the title's: ``must be 1-200 characters``."""

    def check(value: str) -> str:
        if not low <= len(value) <= high:
            if low == 0:
                raise ValueError(f"must be at most {high} characters")
            raise ValueError(f"must be {low}-{high} characters")
        return value

    return AfterValidator(check)


Due = Annotated[datetime, BeforeValidator(_due)]
Summary = Annotated[str, _length(1, 10_000), AfterValidator(check_text)]
Message = Annotated[str, _length(0, 10_000), AfterValidator(check_text)]
Owner = Annotated[str, _length(1, 200), AfterValidator(check_text), AfterValidator(_not_blank)]
Ticket = Annotated[str, _length(1, 200), AfterValidator(check_text)]
LabelKey = Annotated[str, _length(1, 100), AfterValidator(check_text), AfterValidator(_not_blank)]
LabelValue = Annotated[str, _length(0, 1000), AfterValidator(check_text)]
Labels = Annotated[dict[LabelKey, LabelValue], Field(max_length=100)]
Meta = Annotated[dict[str, Any], AfterValidator(_check_meta)]
FollowupTitle = Annotated[Title, AfterValidator(_not_blank)]


def _refuse_null(value: Any) -> Any:
    """On an optional field: leaving it out is fine, an explicit null is not."""
    if value is None:
        raise ValueError("must not be null")
    return value


class Input(BaseModel):
    """Base of every input: unknown fields refused, no coercion, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    def given(self) -> dict[str, Any]:
        """The fields the caller set, as values (``None`` where they set null)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class NewIncident(Input):
    service: ServiceName
    env: ServiceName
    severity: Severity
    title: Title
    started_at: UtcDatetime | None = None
    summary: Summary | None = None
    labels: Labels = Field(default_factory=dict)


class IncidentChanges(Input):
    """What ``incident update`` changes; ``labels`` merge (null removes a key) unless
    ``replace_labels`` says they replace all labels."""

    status: IncidentStatus | None = None
    severity: Severity | None = None
    title: Title | None = None
    summary: Summary | None = None
    labels: Annotated[dict[LabelKey, LabelValue | None], Field(max_length=100)] | None = None
    replace_labels: bool = False

    _not_null = field_validator("status", "severity", "title")(_refuse_null)

    @model_validator(mode="after")
    def _something_given(self) -> IncidentChanges:
        if not self.model_fields_set - {"replace_labels"} and not self.replace_labels:
            raise ValueError("nothing to update")
        return self

    def fields(self) -> dict[str, Any]:
        """The incident fields to set (labels apart)."""
        return {k: v for k, v in self.given().items() if k not in ("labels", "replace_labels")}

    def labels_set(self) -> dict[str, str]:
        return {k: v for k, v in (self.labels or {}).items() if v is not None}

    def labels_remove(self) -> tuple[str, ...]:
        return tuple(sorted(k for k, v in (self.labels or {}).items() if v is None))


class NewFollowup(Input):
    title: FollowupTitle
    owner: Owner
    due: Due | None = None
    priority: FollowupPriority = "P2"
    status: FollowupStatus = "open"
    ticket: Ticket | None = None

    _not_null = field_validator("due")(_refuse_null)


class FollowupChanges(Input):
    title: FollowupTitle | None = None
    owner: Owner | None = None
    due: Due | None = None
    priority: FollowupPriority | None = None
    status: FollowupStatus | None = None
    ticket: Ticket | None = None

    _not_null = field_validator("title", "owner", "due", "priority", "status")(_refuse_null)

    @model_validator(mode="after")
    def _something_given(self) -> FollowupChanges:
        if not self.model_fields_set:
            raise ValueError("nothing to update")
        return self


def _as_list(value: Any) -> Any:
    # One value for a repeatable filter ("status": "open") is a list of one.
    return [value] if isinstance(value, str) else value


class IncidentQuery(Input):
    """Which incidents ``incident list`` shows: every given filter must match."""

    status: Annotated[list[IncidentStatus], BeforeValidator(_as_list)] | None = None
    service: ServiceName | None = None
    env: ServiceName | None = None
    severity: Annotated[list[Severity], BeforeValidator(_as_list)] | None = None
    since: UtcDatetime | None = None
    until: UtcDatetime | None = None
    limit: int = Field(default=20, ge=1, le=1000)

    def to_filter(self) -> IncidentFilter:
        """The store's filter for this query."""
        return IncidentFilter(
            status=frozenset(self.status) if self.status else None,
            service=self.service,
            env=self.env,
            severity=frozenset(self.severity) if self.severity else None,
            since=self.since,
            until=self.until,
            limit=self.limit,
        )


SUMMARY_WINDOW_DAYS = 30  # how far back the follow-up summary looks, by default
SUMMARY_MAX_DAYS = 3650


class SummaryQuery(Input):
    """Which follow-ups ``incident followups`` summarises: one service in one environment."""

    service: ServiceName
    env: ServiceName
    window_days: int = Field(default=SUMMARY_WINDOW_DAYS, ge=1, le=SUMMARY_MAX_DAYS)


class NewEvent(Input):
    type: str = Field(pattern=EVENT_TYPE_RE.pattern)
    message: Message = ""
    meta: Meta = Field(default_factory=dict)
    ts: UtcDatetime | None = None


InputT = TypeVar("InputT", bound=Input)


def parse_input(
    model: type[InputT], data: Mapping[str, Any], *, prefix: str = "", where: str | None = None
) -> InputT:
    """``model`` from ``data``; a refusal is one :class:`InvalidInput` line naming the field.

    By default the field leads the message (``title: must be 1-200 characters``, as
    the tool's ``params.title: ...``); with ``where`` it is the error's ``where``
    instead, under that prefix (``Field required (meta.owner)``).
    """
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        if where is None:
            raise InvalidInput(describe_validation_error(exc, prefix=prefix)) from None
        loc, message = validation_problem(exc)
        raise InvalidInput(message, where=f"{where}{loc}" if loc else where.rstrip(".")) from None
