"""docs/incidents.md: the walkthrough runs in order and the errors read as shown."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.conftest import REPO, CliRun

DOC = (REPO / "docs" / "incidents.md").read_text(encoding="utf-8")
WALKTHROUGH = re.search(r"```sh\n(.*?)```", DOC, flags=re.S).group(1)  # type: ignore[union-attr]
ERRORS = re.search(r"```text\n(.*?)```", DOC, flags=re.S).group(1).splitlines()  # type: ignore[union-attr]


def test_walkthrough_runs_in_order(
    run_cli: CliRun, store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "postmortem.md").write_text("# Checkout 5xx\n", encoding="utf-8")
    ids: dict[str, str] = {}
    for line in WALKTHROUGH.strip().splitlines():
        args = shlex.split(line)[1:]
        args = [ids.get(a, a) for a in args]
        if "--now" not in args:
            args = ["--now", "2026-03-02T12:00:00Z", *args]
        result = run_cli("--policy", str(REPO / "policies"), "--store-dir", str(store_dir), *args)
        assert result.exit_code == 0, (line, result.stderr)
        if "INCIDENT_ID" not in ids and (found := re.search(r"inc_\w{20}", result.stdout)):
            ids["INCIDENT_ID"] = found.group(0)
        if "followup add" in line:
            ids["FOLLOWUP_ID"] = re.search(r"fu_[a-z0-9]+", result.stdout).group(0)  # type: ignore[union-attr]
        if "--stale-days" in line:
            assert ids["INCIDENT_ID"] in result.stdout
    final = run_cli("--store-dir", str(store_dir), "incident", "get", ids["INCIDENT_ID"])
    assert "postmortem.md" in final.stdout and "PAY-1423" in final.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--agent", "monitor", "incident", "update", "{id}", "--status", "closed"], ERRORS[0]),
        (
            [
                "--agent",
                "helion",
                "incident",
                "create",
                "--service",
                "a",
                "--env",
                "prod",
                "--severity",
                "P1",
                "--title",
                "t",
                "--started-at",
                "2026-03-02 09:00",
            ],
            ERRORS[1],
        ),
        (
            ["--agent", "helion", "incident", "artifact", "{id}", "x.md", "--name", "../notes.md"],
            ERRORS[2],
        ),
    ],
)
def test_documented_errors_are_what_users_see(
    run_cli: CliRun,
    store_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    expected: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.md").write_text("x", encoding="utf-8")
    created = run_cli(
        "--store-dir",
        str(store_dir),
        "--agent",
        "helion",
        "incident",
        "create",
        "--service",
        "a",
        "--env",
        "prod",
        "--severity",
        "P2",
        "--title",
        "t",
        "--format",
        "json",
    )
    incident_id = re.search(r"inc_\w{20}", created.stdout).group(0)  # type: ignore[union-attr]
    before = sorted((p.name, p.stat().st_size) for p in store_dir.rglob("*"))
    result = run_cli("--store-dir", str(store_dir), *[a.format(id=incident_id) for a in args])
    assert result.exit_code == 1
    assert result.stderr == expected + "\n"
    assert sorted((p.name, p.stat().st_size) for p in store_dir.rglob("*")) == before
