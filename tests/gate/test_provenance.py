"""Every report says what decided: version, policy files with sha256, store, time."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from gatekeeper import __version__
from tests.conftest import CliRun
from tests.gate import factories
from tests.gate.conftest import CheckRun, PolicyWriter

POLICY = """\
version: 1
environments: {prod: {strict: true}}
gates:
  followup_watch: {type: followup_watch}
"""
FREEZE_ONLY = """\
version: 1
environments: {prod: {strict: true}}
gates:
  freeze:
    type: freeze_window
    windows: [{name: w, from: "2027-01-01T00:00:00Z", to: "2027-01-02T00:00:00Z"}]
"""


def test_json_provenance_names_version_policy_files_store_and_time(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    factories.write(store_dir, [factories.incident(service="search")])
    policy = write_policy(POLICY, waivers="[]\n")
    report = json.loads(check("--env", "prod", "--service", "checkout", "--format", "json").stdout)
    source = report["provenance"]
    assert source["gatekeeper_version"] == __version__
    assert source["policy_files"] == [
        {"path": str(p), "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
        for p in (policy / "gates.yml", policy / "waivers.yml")
    ]
    assert (source["now"], source["now_from_option"]) == ("2026-03-02T12:00:00Z", True)
    store = report["store"]
    assert (store["read"], store["backend"], store["location"]) == (True, "jsonl", str(store_dir))
    assert (store["degraded"], store["skipped"]) == (False, [])


def test_text_markdown_and_junit_carry_one_provenance_line_or_properties(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path, tmp_path: Path
) -> None:
    factories.write(store_dir, [factories.incident(service="search")])
    write_policy(POLICY)
    args = ["--env", "prod", "--service", "checkout"]
    text = check(*args).stdout.splitlines()
    (line,) = [x for x in text if x.startswith("provenance: ")]
    assert f"gatekeeper {__version__}" in line and "gates.yml sha256:" in line
    assert f"store jsonl {store_dir} (ok, 0 skipped)" in line
    assert line.endswith("now 2026-03-02T12:00:00Z (from --now)")
    markdown = check(*args, "--format", "markdown").stdout
    assert markdown.count("provenance: ") == 1
    junit = tmp_path / "gate.xml"
    check(*args, "--junit", str(junit))
    props = {p.get("name"): p.get("value") for p in ET.parse(junit).getroot().iter("property")}
    assert props["gatekeeper.version"] == __version__
    assert props["store.backend"] == "jsonl" and props["store.degraded"] == "false"
    assert str(props["policy.0.path"]).endswith("gates.yml")
    assert len(str(props["policy.0.sha256"])) == 64


def test_a_postgres_url_is_shown_without_its_password(
    run_cli: CliRun, write_policy: PolicyWriter
) -> None:
    policy = write_policy(FREEZE_ONLY)
    result = run_cli(
        "--policy", str(policy), "--backend", "postgres",
        "--database-url", "postgresql://gk:s3cret@db.internal:5433/incidents",
        "check", "--env", "prod", "--service", "checkout", "--format", "json",
        "--now", "2026-03-02T12:00:00Z",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "s3cret" not in result.stdout
    store = json.loads(result.stdout)["store"]
    assert store == {
        "read": False, "backend": "postgres", "location": "postgresql://gk@db.internal:5433/incidents",
        "degraded": False, "degraded_reason": None, "error": None, "skipped": [],
    }  # fmt: skip
