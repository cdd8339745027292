"""/healthz, /v1/check and /openapi.json on a live server; serve's import boundary."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import httpx

from gatekeeper.tools import TOOLS
from tests.server.conftest import Served, serve
from tests.server.live import REPO
from tests.store.conftest import UNREACHABLE_URL


def test_healthz_needs_no_key_and_reports_the_store(served: Served) -> None:
    response = httpx.get(f"{served.url}/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["backend"] == "jsonl"
    assert body["degraded"] is False
    assert body["pending_replay"] == 0
    assert body["version"]
    assert response.headers["x-request-id"]


def test_healthz_is_503_when_the_store_is_unreachable(tmp_path: Path) -> None:
    running = serve(tmp_path, "--backend", "postgres", "--database-url", UNREACHABLE_URL)
    try:
        response = httpx.get(f"{running.url}/healthz", timeout=30)
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
        tool = running.call("oncall_tool", {"action": "incident_list"})
        assert tool.status_code == 503, tool.text
        assert tool.json()["error"]["code"] == "unavailable"
    finally:
        running.server.stop()


def test_healthz_in_degraded_auto_mode(tmp_path: Path) -> None:
    running = serve(tmp_path, "--backend", "auto", "--database-url", UNREACHABLE_URL)
    try:
        created = running.call(
            "oncall_tool",
            {"action": "incident_create",
             "params": {"service": "api", "env": "prod", "severity": "P2", "title": "Slow"}},
        )  # fmt: skip
        assert created.status_code == 200, created.text
        body = httpx.get(f"{running.url}/healthz", timeout=30).json()
        assert body["status"] == "degraded"
        assert body["degraded"] is True
        assert body["pending_replay"] >= 1
    finally:
        running.server.stop()


def test_check_answers_the_json_report_with_200_whatever_the_decision(served: Served) -> None:
    url = f"{served.url}/v1/check"
    headers = {"X-API-Key": served.keys["monitor"]}
    passing = httpx.get(url, params={"env": "prod", "service": "quiet"}, headers=headers)
    assert passing.status_code == 200, passing.text
    served.call(
        "oncall_tool",
        {"action": "incident_create",
         "params": {"service": "loud", "env": "prod", "severity": "P0", "title": "Down"}},
    )  # fmt: skip
    blocked = httpx.get(url, params={"env": "prod", "service": ["loud", "quiet"]}, headers=headers)
    assert blocked.status_code == 200
    report = blocked.json()
    assert report["decision"] == "block"
    assert report["exit_code"] == 1
    assert {r["service"] for r in report["results"]} == {"loud", "quiet"}
    cli = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "--store-dir", str(served.store_dir),
         "--policy", str(REPO / "policies"), "--now", report["evaluated_at"],
         "check", "--env", "prod", "--service", "loud", "--service", "quiet", "--format", "json"],
        capture_output=True, text=True,
    )  # fmt: skip
    expected = json.loads(cli.stdout)
    for key in ("decision", "exit_code", "env", "strict", "evaluated_at", "store"):
        assert report[key] == expected[key], key
    assert report["store"]["backend"] == "jsonl"
    assert report["store"]["location"] == expected["store"]["location"] != ""
    freeze_only = httpx.get(  # no gate reads the store: the report still names it
        url, params={"env": "prod", "service": "loud", "gate": "release_freeze"}, headers=headers
    ).json()
    assert freeze_only["store"]["backend"] == "jsonl"
    one_gate = httpx.get(
        url, params={"env": "prod", "service": "loud", "gate": "followup_watch"}, headers=headers
    )
    assert {r["gate"] for r in one_gate.json()["results"]} == {"followup_watch"}


def test_check_errors_are_400(served: Served) -> None:
    url = f"{served.url}/v1/check"
    headers = {"X-API-Key": served.keys["monitor"]}
    for params, field in (
        ({"service": "x"}, "env"),
        ({"env": "prod"}, "service"),
        ({"env": "Bad Env!", "service": "x"}, "must match"),
        ({"env": "prod", "service": "x", "colour": "red"}, "colour"),
        ({"env": "prod", "service": "x", "gate": "nope"}, "nope"),
    ):
        response = httpx.get(url, params=params, headers=headers)
        assert response.status_code == 400, response.text
        assert field in response.json()["error"]["message"]


def test_openapi_lists_every_action_with_its_params_schema(served: Served) -> None:
    document = httpx.get(f"{served.url}/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    for tool in TOOLS.values():
        operation = document["paths"][f"/v1/tools/{tool.name}"]["post"]
        assert operation["security"] == [{"ApiKey": []}]
        variants = operation["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
        assert {v["properties"]["action"]["enum"][0] for v in variants} == set(tool.actions)
        for variant in variants:
            action = tool.actions[variant["properties"]["action"]["enum"][0]]
            ref = variant["properties"]["params"]["$ref"].rsplit("/", 1)[1]
            schema = document["components"]["schemas"][ref]
            assert set(schema["properties"]) == set(action.params.model_fields)
            assert schema["additionalProperties"] is False


def test_check_imports_nothing_of_the_server(tmp_path: Path) -> None:
    code = (
        "import sys, io, contextlib\n"
        "from gatekeeper.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['--policy', {str(REPO / 'policies')!r}, '--store-dir', {str(tmp_path)!r},\n"
        "          'check', '--env', 'prod', '--service', 'x'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('starlette', 'uvicorn', "
        "'anyio') or m.startswith('gatekeeper.server')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert ast.literal_eval(done.stdout) == []


def test_serve_without_the_extra_says_what_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['uvicorn'] = None\n"
        "from gatekeeper.cli import main\n"
        "sys.exit(main(['serve']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert "pip install 'release-gatekeeper[server]'" in done.stderr
    assert "Traceback" not in done.stderr
