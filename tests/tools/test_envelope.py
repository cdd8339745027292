"""The envelope: every malformed request is ``invalid`` and names its culprit."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pytest

from gatekeeper.tools import TOOLS
from tests.conftest import Seeded
from tests.tools.conftest import Call, envelope, error

CREATE = {"service": "gateway", "env": "prod", "severity": "P1", "title": "Gateway 5xx"}


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (
            {"tool": "nope", "action": "x"},
            "tool: unknown tool 'nope' "
            "(expected one of: incident_intelligence_tool, jobs, oncall_tool)",
        ),
        (
            {"tool": "oncall_tool", "action": "incident_delete"},
            "action: unknown action 'incident_delete' of oncall_tool (expected one of: "
            "alert_ingest, followup_add, followup_update, incident_append_event, "
            "incident_attach_artifact, "
            "incident_create, incident_followups_summary, incident_get, incident_list, "
            "incident_update)",
        ),
        ({"tool": "oncall_tool"}, "action: Field required"),
        (
            {"tool": "oncall_tool", "action": "incident_list", "colour": 1},
            "params.colour: unknown field",
        ),
        ({"tool": 5, "action": "incident_list"}, "tool: Input should be a valid string"),
        (
            {"tool": "oncall_tool", "action": "incident_list", "agent_id": 7},
            "agent_id: Input should be a valid string",
        ),
        (
            {"tool": "oncall_tool", "action": "incident_list", "params": []},
            "params: Input should be a valid dictionary",
        ),
    ],
)
def test_bad_envelopes_are_invalid(call: Call, request_: dict[str, Any], message: str) -> None:
    assert error(call(request_)) == ("invalid", message)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({**CREATE, "colour": "red"}, "params.colour: unknown field"),
        (
            {**CREATE, "severity": "P9"},
            "params.severity: Input should be 'P0', 'P1', 'P2', 'P3' or 'P4'",
        ),
        ({**CREATE, "title": 42}, "params.title: Input should be a valid string"),
        ({**CREATE, "labels": {"team": 1}}, "params.labels.team: Input should be a valid string"),
        ({k: v for k, v in CREATE.items() if k != "title"}, "params.title: Field required"),
        ({**CREATE, "service": "Gate Way"}, "params.service: 'Gate Way' must match"),
        ({**CREATE, "title": ""}, "params.title: must be 1-200 characters"),
    ],
)
def test_bad_params_are_invalid_and_named(call: Call, params: dict[str, Any], message: str) -> None:
    code, text = error(call(envelope("incident_create", "sofiia", **params)))
    assert code == "invalid"
    assert text.startswith(message)


def test_limit_given_as_a_string_is_a_wrong_type(call: Call) -> None:
    answer = call(envelope("incident_list", limit="5"))
    assert error(answer) == ("invalid", "params.limit: Input should be a valid integer")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "request: not valid JSON: Expecting property name enclosed in double quotes"),
        (b'{"tool": "oncall_tool",', "request: not valid JSON: Expecting property name"),
        (b"\xff\xfe", "request: not UTF-8 (byte 0)"),
        ("", "request: empty; expected a JSON object"),
        ("[1, 2]", "request: expected a JSON object, got an array"),
        ('"text"', "request: expected a JSON object, got a string"),
    ],
)
def test_malformed_requests_are_invalid(call: Call, raw: str | bytes, message: str) -> None:
    code, text = error(call(raw))
    assert code == "invalid"
    assert text.startswith(message)


def test_raw_json_requests_are_answered(call: Call) -> None:
    answer = call(b'{"tool": "oncall_tool", "action": "incident_list", "params": {}}')
    assert answer == {"ok": True, "result": {"incidents": [], "count": 0}}


def test_unexpected_exception_is_internal_without_detail(
    call: Call,
    seeded: Seeded,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    def boom(*_args: Any) -> dict[str, Any]:
        raise RuntimeError("secret detail /etc/passwd")

    actions = TOOLS["oncall_tool"].actions
    monkeypatch.setitem(
        actions, "incident_get", dataclasses.replace(actions["incident_get"], run=boom)
    )
    with caplog.at_level(logging.ERROR, logger="gatekeeper.tools"):
        answer = call(envelope("incident_get", incident_id=seeded.incident_id))
    assert answer == {
        "ok": False,
        "error": {"code": "internal", "message": "internal error in oncall_tool.incident_get"},
    }
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    assert caplog.messages == ["internal error in oncall_tool.incident_get: RuntimeError"]


def test_every_action_has_a_summary_and_a_strict_params_model() -> None:
    for tool in TOOLS.values():
        for action in tool.actions.values():
            assert action.summary, action.name
            assert action.params.model_config.get("extra") == "forbid"
            assert action.params.model_config.get("strict") is True
