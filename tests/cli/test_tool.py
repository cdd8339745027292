"""``gatekeeper tool``: one envelope in, one JSON answer out, exit 0 only when ok."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.cli.conftest import Gatekeeper, one_error
from tests.conftest import REPO, CliResult, Seeded, tree_digest


def answer_of(result: CliResult) -> dict[str, Any]:
    assert result.stderr == ""
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def test_envelope_on_stdin(gk: Gatekeeper, seeded: Seeded) -> None:
    request = {"tool": "oncall_tool", "action": "incident_list", "params": {"status": "open"}}
    result = gk("tool", input=json.dumps(request))
    assert result.exit_code == 0
    answer = answer_of(result)
    assert answer["ok"] is True
    assert answer["result"]["count"] == 1


def test_envelope_from_a_file_writes_as_its_agent(
    gk: Gatekeeper, seeded: Seeded, tmp_path: Path
) -> None:
    request = tmp_path / "request.json"
    params = {"incident_id": seeded.incident_id, "type": "ack", "message": "on it"}
    envelope = {"tool": "oncall_tool", "action": "incident_append_event", "agent_id": "sofiia"}
    request.write_text(json.dumps({**envelope, "params": params}))
    # --agent is not the tool's agent: the envelope's agent_id is.
    result = gk("tool", "--request", str(request), agent="monitor")
    assert result.exit_code == 0
    assert answer_of(result)["result"]["actor"] == "sofiia"


def test_failed_answers_exit_1_without_stderr(gk: Gatekeeper, seeded: Seeded) -> None:
    before = tree_digest(seeded.store_dir)
    request = {
        "tool": "oncall_tool",
        "action": "incident_update",
        "agent_id": "monitor",
        "params": {"incident_id": seeded.incident_id, "status": "closed"},
    }
    result = gk("tool", input=json.dumps(request))
    assert result.exit_code == 1
    assert answer_of(result) == {
        "ok": False,
        "error": {
            "code": "forbidden",
            "message": "agent 'monitor' (role agent_monitor) may not incident_write: "
            "set agent_id in the envelope to an agent whose role has it",
        },
    }
    assert tree_digest(seeded.store_dir) == before


def test_malformed_json_on_stdin_is_invalid(gk: Gatekeeper) -> None:
    result = gk("tool", input='{"tool": "oncall_tool", "action": ')
    assert result.exit_code == 1
    assert answer_of(result) == {
        "ok": False,
        "error": {
            "code": "invalid",
            "message": "request: not valid JSON: Expecting value at line 1 column 35",
        },
    }


def test_missing_request_file_is_a_usage_error(gk: Gatekeeper, tmp_path: Path) -> None:
    message = one_error(gk("tool", "--request", str(tmp_path / "nope.json")), 2)
    assert message.startswith("Invalid value for '--request'")


def test_real_process_prints_no_traceback(store_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEKEEPER_", "INCIDENT_"))}
    env["INCIDENT_JSONL_DIR"] = str(store_dir)
    for request, code in (
        ("{broken", "invalid"),
        ('{"tool": "oncall_tool", "action": "incident_list", "params": {"limit": "x"}}', "invalid"),
        (
            '{"tool": "oncall_tool", "action": "incident_get", "params": {"incident_id": 1}}',
            "invalid",
        ),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "gatekeeper", "tool"],
            input=request,
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            timeout=60,
            check=False,
        )
        assert (done.returncode, done.stderr) == (1, "")
        assert json.loads(done.stdout)["error"]["code"] == code
