"""docs/api.md: every curl example runs, in order, against a live server and succeeds."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator

import pytest

from gatekeeper.tools import TOOLS
from tests.server.conftest import Served, serve
from tests.server.examples import DOC, FOLLOWUP_PLACEHOLDER, curl_examples, seed_runbook_incident


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("docs")
    store_dir = tmp / "store"
    store_dir.mkdir()
    seed_runbook_incident(store_dir)
    running = serve(tmp, store_dir=store_dir)
    yield running
    running.server.stop()


def run_example(served: Served, command: str, substitutions: dict[str, str]) -> tuple[int, str]:
    for old, new in substitutions.items():
        command = command.replace(old, new)
    script = "curl() { command curl -sS -w '\\n%{http_code}' \"$@\"; }\n" + command
    env = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "GATEKEEPER_URL": served.url,
        "GATEWAY_API_KEY": served.keys["sofiia"],
        "MONITOR_API_KEY": served.keys["monitor"],
    }
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    body, _, status = done.stdout.rpartition("\n")
    return int(status), body


def test_the_docs_have_the_runbooks_calls_first() -> None:
    examples = curl_examples()
    runbook = ("incident_create", "incident_list", "incident_followups_summary",
               "weekly_digest", "recurrence", "correlate")  # fmt: skip
    for example, action in zip(examples, runbook, strict=False):
        assert f'"{action}"' in example.command


def test_every_action_has_a_curl_example() -> None:
    documented = {(e.tool, e.action) for e in curl_examples()}
    for tool in TOOLS.values():
        for action in tool.actions:
            assert (tool.name, action) in documented, f"no curl example for {tool.name}.{action}"


def test_every_curl_example_succeeds(docs_server: Served) -> None:
    substitutions: dict[str, str] = {}
    for example in curl_examples():
        command = example.command
        status, body = run_example(docs_server, command, substitutions)
        assert status == 200, f"{command}\n-> {status} {body}"
        answer = json.loads(body)
        if "/v1/tools/" in command:
            assert answer["ok"] is True, body
            result = answer["result"]
            if isinstance(result, dict) and "followup_id" in result:
                substitutions[FOLLOWUP_PLACEHOLDER] = result["followup_id"]
    assert FOLLOWUP_PLACEHOLDER in substitutions


def test_keys_commands_are_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for command in ("keys add", "keys list", "keys revoke", "serve"):
        assert f"gatekeeper {command}" in text or f"gatekeeper --backend postgres {command}" in text


def test_the_argo_analysis_template_fails_on_block_and_error() -> None:
    import yaml

    (block,) = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    template = yaml.safe_load(block)
    assert template["kind"] == "AnalysisTemplate"
    (metric,) = template["spec"]["metrics"]
    web = metric["provider"]["web"]
    assert "/v1/check?env=" in web["url"]
    assert web["headers"][0]["key"] == "X-API-Key"
    condition = metric["successCondition"]
    # expr-lang's == and || read as Python's == and `or` here.
    python = condition.replace("||", " or ").replace("&&", " and ")
    for decision, succeeds in (("pass", True), ("warn", True), ("block", False), ("error", False)):
        result = type("Result", (), {"decision": decision})
        assert eval(python, {}, {"result": result}) is succeeds, decision
