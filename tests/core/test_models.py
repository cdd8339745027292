"""Record validation at the edge: ids, names, titles, timestamps, unknown fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from gatekeeper.config import load_settings
from gatekeeper.errors import ConfigError, InvalidInput
from gatekeeper.models import Incident, describe_validation_error, new_incident_id
from gatekeeper.timeutil import _parse_any, format_timestamp, parse_due, parse_timestamp

VALID: dict[str, Any] = {
    "id": "inc_20260218_1430_abc123",
    "service": "checkout",
    "env": "prod",
    "severity": "P1",
    "title": "Checkout 5xx",
    "started_at": "2026-02-18T14:30:00Z",
    "created_at": "2026-02-18T14:31:00Z",
    "updated_at": "2026-02-18T14:31:00Z",
    "created_by": "helion",
}


def error_for(**changes: Any) -> str:
    with pytest.raises(ValidationError) as info:
        Incident.model_validate({**VALID, **changes})
    return describe_validation_error(info.value)


def test_valid_incident_round_trips_through_json() -> None:
    incident = Incident.model_validate(VALID)
    assert Incident.model_validate_json(incident.model_dump_json()) == incident
    assert incident.to_json_dict()["started_at"] == "2026-02-18T14:30:00Z"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"id": "inc_2026_abc"},
            "id: 'inc_2026_abc' is not an incident id; expected inc_YYYYMMDD_HHMM_xxxxxx",
        ),
        ({"service": "Checkout"}, "service: 'Checkout' must match"),
        ({"env": "-prod"}, "env: '-prod' must match"),
        ({"title": ""}, "title: must be 1-200 characters"),
        ({"title": "x" * 201}, "title: must be 1-200 characters"),
        ({"title": "a\nb"}, "title: must not contain control characters"),
        ({"severity": "P5"}, "severity: Input should be 'P0', 'P1', 'P2', 'P3' or 'P4'"),
        ({"started_at": "2026-02-18T14:30:00"}, "started_at: 2026-02-18T14:30:00 has no time zone"),
        ({"owner": "x"}, "owner: unknown field"),
    ],
)
def test_invalid_fields_are_named(changes: dict[str, Any], expected: str) -> None:
    assert error_for(**changes).startswith(expected)


def test_offsets_are_normalised_to_utc_with_z() -> None:
    parsed = parse_timestamp("2026-02-18T16:30:00+02:00")
    assert format_timestamp(parsed) == "2026-02-18T14:30:00Z"


def test_naive_timestamps_are_rejected_not_guessed() -> None:
    with pytest.raises(InvalidInput, match="no time zone"):
        parse_timestamp("2026-02-18 14:30")


def test_date_only_due_lasts_the_whole_utc_day() -> None:
    assert parse_due("2026-03-05") == datetime(2026, 3, 5, 23, 59, 59, 999999, tzinfo=UTC)


def test_new_incident_id_encodes_start_time() -> None:
    incident_id = new_incident_id(datetime(2026, 2, 18, 14, 30, tzinfo=UTC))
    assert incident_id.startswith("inc_20260218_1430_") and len(incident_id) == 24


def test_settings_option_beats_environment_beats_default() -> None:
    env = {"INCIDENT_JSONL_DIR": "from-env", "GATEKEEPER_AGENT": "helion"}
    settings = load_settings(env, store_dir="from-option")
    assert str(settings.store_dir) == "from-option"
    assert str(settings.artifacts_dir) == "from-option"
    assert settings.agent == "helion"
    assert settings.backend == "jsonl"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"INCIDENT_BACKEND": "mysql"}, "unknown backend 'mysql'"),
        ({"GATEKEEPER_NOW": "2026-01-01T00:00:00"}, "has no time zone"),
        ({"INCIDENT_AUTO_RETRY_S": "soon"}, "not a number of seconds"),
    ],
)
def test_bad_settings_are_configuration_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


_STAMPS = st.one_of(
    st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones()
    ).map(lambda d: d.isoformat()),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(
        lambda d: d.isoformat() + "Z"
    ),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(
        lambda d: d.isoformat(timespec="milliseconds") + "Z"
    ),
    st.text(alphabet="0123456789-:T.Z+ z", max_size=32),
    st.sampled_from(["1969-12-31T23:59:59Z", "0001-01-01T00:00:00Z", " 2026-02-23T10:00:00Z"]),
)


def _outcome(parse: Any, value: str | datetime) -> tuple[str, Any]:
    try:
        stamp = parse(value, field="value")
    except InvalidInput as exc:
        return "refused", exc.message
    return "ok", (stamp, stamp.tzinfo)


@given(
    st.one_of(
        _STAMPS,
        st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
        st.datetimes(
            min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
        ),
        st.datetimes(
            min_value=datetime(1, 1, 2),
            max_value=datetime(9999, 12, 30),
            timezones=st.timezones(),
        ),
    )
)
def test_the_fast_timestamp_path_answers_as_the_general_one(value: str | datetime) -> None:
    assert _outcome(parse_timestamp, value) == _outcome(_parse_any, value)
