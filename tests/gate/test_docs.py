"""Every example in docs/policies.md runs: policies load, waivers validate, commands
work, the decision table matches the engine, the JSON keys match real reports and
the CI recipes are valid."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from gatekeeper.engine.decision import settle
from gatekeeper.gates.base import Finding
from gatekeeper.gates.followup_watch import FollowupWatchConfig
from gatekeeper.policy import Waiver, load_policy, load_waivers
from gatekeeper.reports.json import report_to_dict
from tests.conftest import NOW, CliRun
from tests.gate.conftest import REPO
from tests.gate.test_golden import _report
from tests.pipeline.test_action import actionlint

DOC = REPO / "docs" / "policies.md"
FENCE = re.compile(r"^```(\S+)(?: (\S+))?\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(kind: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    return [body for lang, tag, body in FENCE.findall(text) if f"{lang} {tag}".strip() == kind]


def test_the_doc_has_examples_of_every_kind() -> None:
    for kind in ("yaml policy", "yaml waivers", "console", "json report", "yaml github-workflow"):
        assert blocks(kind), kind


@pytest.mark.parametrize("text", blocks("yaml policy"))
def test_policy_examples_load(tmp_path: Path, text: str) -> None:
    (tmp_path / "gates.yml").write_text(text)
    assert load_policy(tmp_path).gates


@pytest.mark.parametrize("text", blocks("yaml waivers"))
def test_waiver_examples_validate(tmp_path: Path, text: str) -> None:
    shutil.copy(REPO / "policies" / "gates.yml", tmp_path / "gates.yml")
    (tmp_path / "waivers.yml").write_text(text)
    policy = load_policy(tmp_path)
    assert all(w.is_active(NOW) for w in load_waivers(tmp_path, policy, NOW))


def _commands() -> list[str]:
    lines = [line for body in blocks("console") for line in body.splitlines()]
    return [line.removeprefix("$ ") for line in lines if line.startswith("$ gatekeeper")]


@pytest.mark.parametrize("command", _commands())
def test_commands_run(
    run_cli: CliRun, command: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Commands run from a copy of the repository's demo data, so an override
    # example records its event there and not in examples/.
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    monkeypatch.chdir(tmp_path)
    args = shlex.split(command)[1:]
    result = run_cli(*args)
    assert result.exit_code in (0, 1), result.stderr
    assert "Traceback" not in result.stderr


def _table_rows() -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("<!-- decision-table -->")[1].split("<!-- /decision-table -->")[0]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in table.strip().splitlines()[2:]
    ]
    assert len(rows) >= 10
    return rows


def _expand(cell: str, options: dict[str, Any]) -> list[Any]:
    if cell == "any":
        return list(options.values())
    if cell == "none or expired":
        return [options["none"], options["expired"]]
    return [options[cell]]


@pytest.mark.parametrize("row", _table_rows(), ids=lambda row: "/".join(row[:5]))
def test_decision_table_in_the_doc_matches_the_engine(row: list[str]) -> None:
    env, mode, findings, waiver, override, decision, exit_code = row
    found = [Finding(kind="active_incident", message="m", incident_id="inc_20260301_0000_abc123")]
    expired = Waiver(
        gate="g", service="s", env="e", reason="r", ticket="T", approved_by="a",
        expires_at=NOW - timedelta(days=1),
    )  # fmt: skip
    active = expired.model_copy(update={"expires_at": NOW + timedelta(days=1)})
    for strict in _expand(env, {"strict": True, "lenient": False}):
        for mode_ in _expand(mode, {m: m for m in ("default", "warn", "block", "shadow")}):
            for findings_ in _expand(findings, {"yes": found, "none": []}):
                for waiver_ in _expand(
                    waiver, {"active": active, "expired": expired, "none": None}
                ):
                    for override_ in _expand(override, {"yes": True, "no": False}):
                        config = FollowupWatchConfig(mode=mode_)
                        # the engine only hands a waiver over while it is active
                        live = waiver_ if waiver_ is not None and waiver_.is_active(NOW) else None
                        settled = settle(
                            config, findings_, env="e", strict=strict, waiver=live,
                            override=override_,
                        )  # fmt: skip
                        assert settled.decision == decision
                        assert int(exit_code) == (1 if decision == "block" else 0)


def _keys(data: dict[str, Any]) -> dict[str, set[str]]:
    result = data["results"][0]
    return {
        "top": set(data),
        "result": set(result),
        "finding": set(result["findings"][0]),
    }


def test_json_example_has_exactly_the_keys_of_a_real_report(tmp_path: Path) -> None:
    (example,) = blocks("json report")
    real = report_to_dict(_report("prod_block", tmp_path))
    assert _keys(json.loads(example)) == _keys(real)
    documented = DOC.read_text(encoding="utf-8")
    for key in _keys(real)["top"] | _keys(real)["result"] | _keys(real)["finding"]:
        spellings = (f"`{key}`", f".{key}`", f".{key}[]`", f"`{key}[]")
        assert any(s in documented for s in spellings), key


@pytest.mark.parametrize("text", blocks("yaml github-workflow"))
def test_github_recipe_passes_actionlint(tmp_path: Path, text: str) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    shutil.copy(REPO / "action.yml", tmp_path / "action.yml")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "deploy.yml").write_text(text)
    result = actionlint(tmp_path)
    assert (result.returncode, result.stdout) == (0, ""), result.stdout


@pytest.mark.parametrize("text", blocks("yaml gitlab-ci"))
def test_gitlab_recipe_publishes_junit(text: str) -> None:
    (job,) = yaml.safe_load(text).values()
    assert job["artifacts"]["reports"]["junit"] == "gatekeeper-junit.xml"
    (command,) = [line for line in job["script"] if line.startswith("gatekeeper ")]
    assert "--junit gatekeeper-junit.xml" in command


@pytest.mark.parametrize("text", blocks("groovy jenkins"))
def test_jenkins_recipe_publishes_junit(text: str) -> None:
    assert "junit 'gatekeeper-junit.xml'" in text
    assert "gatekeeper check" in text and "--junit gatekeeper-junit.xml" in text


@pytest.mark.parametrize("kind", ["yaml gitlab-ci", "groovy jenkins"])
def test_recipe_commands_parse(
    run_cli: CliRun, kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the recipes write their reports to the working directory
    text = "\n".join(blocks(kind))
    (line,) = [x for x in text.splitlines() if "gatekeeper " in x and "check" in x]
    command = re.search(r"gatekeeper [^'\n]*", line)
    assert command is not None
    args = shlex.split(command.group(0))[1:]
    args = [a for a in args if a not in ("--backend", "postgres")]
    assert run_cli("--store-dir", str(tmp_path), "store", "init").exit_code == 0
    result = run_cli("--store-dir", str(tmp_path), "--policy", str(REPO / "policies"), *args)
    assert result.exit_code in (0, 1), result.stderr
