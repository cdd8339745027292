"""The HTTP gateway as a client sees it: status codes, error bodies, request ids."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gatekeeper.errors import (
    ConfigError,
    Conflict,
    Forbidden,
    GatekeeperError,
    InvalidInput,
    NotFound,
    StoreUnavailable,
)
from gatekeeper.server.errors import STATUS, status_of
from tests.server.conftest import Served, serve
from tests.server.live import LiveServer

CREATE = {
    "tool": "oncall_tool",
    "action": "incident_create",
    "agent_id": "sofiia",
    "params": {
        "service": "gateway",
        "severity": "P1",
        "title": "Gateway 5xx rate >5%",
        "env": "prod",
        "started_at": "2026-02-23T10:00:00Z",
    },
}


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["ok"] is False
    assert body["error"]["code"] == code
    assert body["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return body


def test_create_then_get_answers_like_the_tool_command(served: Served) -> None:
    created = served.call("oncall_tool", CREATE)
    assert created.status_code == 200, created.text
    incident = created.json()["result"]
    assert incident["created_by"] == "sofiia"
    got = served.call(
        "oncall_tool",
        {"action": "incident_get", "params": {"incident_id": incident["id"]}},
        agent="monitor",
    )
    assert got.status_code == 200
    envelope = {"tool": "oncall_tool", "action": "incident_get"}
    envelope["params"] = {"incident_id": incident["id"]}  # type: ignore[assignment]
    cli = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "--store-dir", str(served.store_dir), "tool"],
        input=json.dumps(envelope).encode(),
        capture_output=True,
        check=True,
    )
    assert got.json() == json.loads(cli.stdout)
    assert re.fullmatch(r"[0-9a-f]{16}", got.headers["x-request-id"])


def test_the_agent_defaults_to_the_keys_agent(served: Served) -> None:
    body = {key: value for key, value in CREATE.items() if key not in ("agent_id", "tool")}
    created = served.call("oncall_tool", body, agent="helion")
    assert created.status_code == 200, created.text
    assert created.json()["result"]["created_by"] == "helion"


def test_no_key_and_unknown_key_are_401(served: Served) -> None:
    assert_error(served.call("oncall_tool", CREATE, agent=None), 401, "unauthorized")
    bad = {"X-API-Key": "gk_000000000000_" + "0" * 40}
    assert_error(served.call("oncall_tool", CREATE, agent=None, headers=bad), 401, "unauthorized")
    wrong_secret = served.keys["sofiia"][:-1] + ("0" if served.keys["sofiia"][-1] != "0" else "1")
    headers = {"X-API-Key": wrong_secret}
    assert_error(
        served.call("oncall_tool", CREATE, agent=None, headers=headers), 401, "unauthorized"
    )
    check = httpx.get(f"{served.url}/v1/check", params={"env": "prod", "service": "gateway"})
    assert_error(check, 401, "unauthorized")


def test_impersonation_is_refused_and_changes_nothing(served: Served) -> None:
    before = served.call("oncall_tool", {"action": "incident_list", "params": {"limit": 1000}})
    body = dict(CREATE, agent_id="sofiia")
    answer = assert_error(served.call("oncall_tool", body, agent="monitor"), 403, "forbidden")
    assert "agent_id" in str(answer["error"])
    after = served.call("oncall_tool", {"action": "incident_list", "params": {"limit": 1000}})
    assert after.json()["result"]["count"] == before.json()["result"]["count"]


def test_invalid_requests_are_400_naming_the_field(served: Served) -> None:
    bad_severity = {**CREATE, "params": {**CREATE["params"], "severity": "P9"}}  # type: ignore[dict-item]
    answer = assert_error(served.call("oncall_tool", bad_severity), 400, "invalid")
    assert "params.severity" in str(answer["error"])
    answer = assert_error(served.call("oncall_tool", {"action": "nope"}), 400, "invalid")
    assert "action" in str(answer["error"])
    answer = assert_error(served.call("oncall_tool", {**CREATE, "tool": "other"}), 400, "invalid")
    assert "tool" in str(answer["error"])
    raw = httpx.post(
        f"{served.url}/v1/tools/oncall_tool",
        content=b"{not json",
        headers={"X-API-Key": served.keys["sofiia"], "Content-Type": "application/json"},
    )
    assert "not valid JSON" in str(assert_error(raw, 400, "invalid")["error"])
    answer = assert_error(served.call("oncall_tool", [1, 2]), 400, "invalid")


def test_unknown_tool_incident_and_route_are_404(served: Served) -> None:
    assert_error(served.call("no_such_tool", {"action": "x"}), 404, "not_found")
    missing = {"action": "incident_get", "params": {"incident_id": "inc_20260101_0000_zzzzzz"}}
    assert_error(served.call("oncall_tool", missing), 404, "not_found")
    assert_error(httpx.get(f"{served.url}/v2/nothing"), 404, "not_found")


def test_wrong_method_is_405_with_a_json_body(served: Served) -> None:
    response = httpx.get(f"{served.url}/v1/tools/oncall_tool")
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["allow"]


@pytest.mark.parametrize(
    ("error", "status"),
    [(InvalidInput, 400), (Forbidden, 403), (NotFound, 404), (Conflict, 409),
     (StoreUnavailable, 503), (ConfigError, 400), (GatekeeperError, 500)],
)  # fmt: skip
def test_every_error_code_has_its_status(error: type[GatekeeperError], status: int) -> None:
    # Incident ids are random, so a conflict cannot be provoked over HTTP; the
    # mapping is what decides its status.
    assert status_of(error.code) == status


def test_every_error_class_is_mapped() -> None:
    classes: list[type[GatekeeperError]] = [GatekeeperError, *GatekeeperError.__subclasses__()]
    assert all(cls.code in STATUS for cls in classes)


def test_a_declared_body_over_4_mib_is_413(served: Served) -> None:
    big = json.dumps({"action": "incident_list", "params": {}, "pad": "x" * (4 * 1024 * 1024)})
    response = httpx.post(
        f"{served.url}/v1/tools/oncall_tool",
        content=big.encode(),
        headers={"X-API-Key": served.keys["sofiia"], "Content-Type": "application/json"},
        timeout=30,
    )
    assert_error(response, 413, "too_large")


def test_a_streamed_body_over_4_mib_is_413(served: Served) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"action": "incident_list", "pad": "'
        for _ in range(5 * 16):
            yield b"x" * 65536
        yield b'"}'

    try:
        response = httpx.post(
            f"{served.url}/v1/tools/oncall_tool",
            content=chunks(),
            headers={"X-API-Key": served.keys["sofiia"], "Content-Type": "application/json"},
            timeout=30,
        )
    except httpx.WriteError:  # pragma: no cover - the server may close before the end
        pytest.fail("the server closed the connection without a 413 answer")
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "too_large")


def test_a_body_just_under_the_limit_is_read(served: Served) -> None:
    body = {"action": "incident_list", "params": {"limit": 1}}
    text = json.dumps(body)
    padded = text[:-1] + " " * (4 * 1024 * 1024 - len(text)) + "}"
    response = httpx.post(
        f"{served.url}/v1/tools/oncall_tool",
        content=padded.encode(),
        headers={"X-API-Key": served.keys["sofiia"], "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("media_type", ["text/plain", "multipart/form-data", "application/xml"])
def test_a_body_that_is_not_json_is_415(served: Served, media_type: str) -> None:
    response = httpx.post(
        f"{served.url}/v1/tools/oncall_tool",
        content=b'{"action": "incident_list"}',
        headers={"X-API-Key": served.keys["sofiia"], "Content-Type": media_type},
    )
    assert_error(response, 415, "unsupported_media_type")


def test_curls_default_form_type_is_read_as_json(served: Served) -> None:
    response = httpx.post(
        f"{served.url}/v1/tools/oncall_tool",
        content=b'{"action": "incident_list", "status": "open"}',
        headers={
            "X-API-Key": served.keys["monitor"],
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status_code == 200, response.text


def test_every_error_is_one_log_line_with_the_request_id(served: Served) -> None:
    response = served.call("oncall_tool", {"action": "nope"})
    request_id = response.headers["x-request-id"]
    lines = [line for line in served.server.logs().splitlines() if request_id in line]
    assert len(lines) == 1
    assert " 400 invalid: " in lines[0]
    assert "Traceback" not in served.server.logs()


def test_a_damaged_keys_file_is_a_500_without_details_or_traceback(tmp_path: Path) -> None:
    running = serve(tmp_path)
    try:
        running.keys_file.write_text("{ not json")
        response = running.call("oncall_tool", {"action": "incident_list"})
        body = assert_error(response, 500, "internal")
        assert str(running.keys_file) not in response.text
        assert "see the server log" in str(body["error"])
        (line,) = [
            x for x in running.server.logs().splitlines() if response.headers["x-request-id"] in x
        ]
        assert "keys file is unreadable or damaged" in line
        assert "Traceback" not in running.server.logs()
    finally:
        running.server.stop()


def test_the_server_warns_when_there_is_no_keys_file(tmp_path: Path) -> None:
    running = serve(tmp_path)
    try:
        running.keys_file.unlink()
        assert running.call("oncall_tool", {"action": "incident_list"}).status_code == 401
    finally:
        running.server.stop()
    args = ["--store-dir", str(tmp_path / "store"), "--keys-file", str(tmp_path / "none.json")]
    server = LiveServer(args, log=tmp_path / "nokeys.log").start()
    server.stop()
    assert "no keys file" in server.logs()
