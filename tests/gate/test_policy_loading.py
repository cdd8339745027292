"""Policy files: what loads, what the defaults are, and every way to get it wrong."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from gatekeeper.errors import ConfigError
from gatekeeper.policy import load_policy
from tests.conftest import CliRun
from tests.gate.conftest import REPO, PolicyWriter

GOOD = """\
version: 1
environments:
  prod: {strict: true}
gates:
  followup_watch: {type: followup_watch}
"""


def test_shipped_policy_loads_with_defaults() -> None:
    policy = load_policy(REPO / "policies")
    assert list(policy.gates) == ["followup_watch", "postmortem_required", "release_freeze"]
    assert policy.is_strict("prod") and not policy.is_strict("dev")
    assert not policy.is_strict("unlisted")
    assert policy.max_waiver_days == 14
    assert policy.followup_sla_days == {"P0": 3, "P1": 7, "P2": 14, "P3": 30}
    assert policy.gates["release_freeze"].mode == "warn"


def test_sla_days_are_merged_over_the_defaults(write_policy: PolicyWriter) -> None:
    path = write_policy(GOOD + "followup_sla_days: {P0: 1}\nmax_waiver_days: 7\n")
    policy = load_policy(path)
    assert policy.followup_sla_days == {"P0": 1, "P1": 7, "P2": 14, "P3": 30}
    assert policy.max_waiver_days == 7


def test_directory_merges_files_and_skips_rbac_and_waivers(
    write_policy: PolicyWriter, policy_dir: Path
) -> None:
    write_policy(GOOD, name="a.yml")
    write_policy("version: 1\ngates:\n  pm: {type: postmortem_required}\n", name="b.yaml")
    (policy_dir / "rbac.yml").write_text("not: [a, policy\n")
    (policy_dir / "waivers.yml").write_text("[]\n")
    policy = load_policy(policy_dir)
    assert list(policy.gates) == ["followup_watch", "pm"]
    assert policy.locations["pm"] == f"{policy_dir / 'b.yaml'}:3"


def test_clock_times_are_not_base_60_numbers(write_policy: PolicyWriter) -> None:
    path = write_policy(
        GOOD
        + "  f:\n    type: freeze_window\n"
        + "    windows: [{name: w, weekly: {days: [fri], from: 16:00, to: 23:30}}]\n"
    )
    window = load_policy(path).gates["f"].windows[0]  # type: ignore[attr-defined]
    assert (window.weekly.start, window.weekly.end) == ("16:00", "23:30")


def test_policy_show_fills_in_defaults(run_cli: CliRun, write_policy: PolicyWriter) -> None:
    path = write_policy(GOOD)
    shown = run_cli("--policy", str(path), "policy", "show", "--format", "json")
    assert shown.exit_code == 0
    gate = json.loads(shown.stdout)["gates"]["followup_watch"]
    assert gate == {
        "type": "followup_watch",
        "description": "",
        "mode": "default",
        "on_error": "fail_closed",
        "on_corrupt": "fail_closed",
        "services": ["*"],
        "envs": ["*"],
        "severities": ["P0", "P1"],
        "window_days": 30,
        "followup_priorities": ["P0", "P1", "P2", "P3"],
    }
    as_yaml = run_cli("--policy", str(path), "policy", "show")
    assert yaml.safe_load(as_yaml.stdout)["gates"]["followup_watch"] == gate


def test_shown_policy_loads_back_to_the_same_policy(run_cli: CliRun, tmp_path: Path) -> None:
    shown = run_cli("--policy", str(REPO / "policies"), "policy", "show")
    data = yaml.safe_load(shown.stdout)
    del data["sources"]
    (tmp_path / "gates.yml").write_text(yaml.safe_dump(data))
    again = load_policy(tmp_path / "gates.yml")
    assert again.gates == load_policy(REPO / "policies").gates


def test_validate_reports_counts(run_cli: CliRun) -> None:
    result = run_cli("policy", "validate", str(REPO / "policies"), "--now", "2026-03-01T00:00:00Z")
    assert result.exit_code == 0
    assert result.stdout.startswith("policy ok: 3 gates, 3 environments, 1 waiver, 5 roles (")


# (name, gates.yml, waivers.yml or None, line, text in the message)
MALFORMED = [
    ("unknown top-level key", GOOD + "colour: blue\n", None, 6, "unknown field"),
    ("missing version", "gates: {}\n", None, 1, "Field required ("),
    ("wrong version", "version: 2\n", None, 1, "Input should be 1, got 2"),
    ("unknown gate key", GOOD + "  g: {type: followup_watch, colour: 1}\n", None, 6, "colour"),
    ("unknown gate type", GOOD + "  g:\n    type: teleport\n", None, 7, "unknown gate type"),
    ("gate without type", GOOD + "  g:\n    mode: warn\n", None, 6, "needs a type"),
    ("bad mode", GOOD + "  g:\n    type: followup_watch\n    mode: loud\n", None, 8, "mode"),
    (
        "wrong type",
        GOOD + "  g:\n    type: followup_watch\n    window_days: soon\n",
        None,
        8,
        "window_days",
    ),
    (
        "bad service glob",
        GOOD + "  g: {type: followup_watch, services: ['[ab']}\n",
        None,
        6,
        "glob",
    ),
    ("bad env glob", GOOD + "  g:\n    type: followup_watch\n    envs: [Prod]\n", None, 8, "glob"),
    (
        "bad severity",
        GOOD + "  g:\n    type: followup_watch\n    severities: [P9]\n",
        None,
        8,
        "P9",
    ),
    (
        "unknown time zone",
        GOOD + "  f:\n    type: freeze_window\n    timezone: Mars/Olympus\n"
        "    windows: [{name: w, weekly: {days: [sat]}}]\n",
        None,
        8,
        "time zone",
    ),
    (
        "bad clock time",
        GOOD + "  f:\n    type: freeze_window\n    windows:\n"
        "      - {name: w, weekly: {days: [fri], from: '25:00'}}\n",
        None,
        9,
        "time of day",
    ),
    (
        "bad weekday",
        GOOD + "  f:\n    type: freeze_window\n    windows:\n      - name: w\n"
        "        weekly: {days: [caturday]}\n",
        None,
        10,
        "days",
    ),
    (
        "naive absolute window",
        GOOD + "  f:\n    type: freeze_window\n    windows:\n"
        "      - {name: w, from: '2026-12-24T00:00:00', to: '2027-01-02T00:00:00Z'}\n",
        None,
        9,
        "no time zone",
    ),
    (
        "window with both forms",
        GOOD + "  f:\n    type: freeze_window\n    windows:\n      - name: w\n"
        "        weekly: {days: [sat]}\n        from: 2026-12-24T00:00:00Z\n",
        None,
        9,
        "either weekly or from/to",
    ),
    ("duplicate gate key", GOOD + "  followup_watch: {type: followup_watch}\n", None, 6, "dup"),
    ("duplicate env", "version: 1\nenvironments:\n  prod: {}\n  prod: {}\n", None, 4, "dup"),
    ("env not a mapping", "version: 1\nenvironments:\n  prod: strict\n", None, 3, "prod"),
    (
        "strict not a bool",
        "version: 1\nenvironments:\n  prod: {strict: maybe}\n",
        None,
        3,
        "strict",
    ),
    ("bad YAML", "version: 1\ngates: [unclosed\n", None, 3, "invalid YAML"),
    ("not a mapping", "- version: 1\n", None, 1, "a policy file is a mapping"),
    ("empty file", "", None, 1, "empty file"),
    ("bad gate name", GOOD + "  Bad Name: {type: followup_watch}\n", None, 6, "gate name"),
    ("sla priority", GOOD + "followup_sla_days: {P7: 3}\n", None, 6, "followup_sla_days"),
    (
        "waiver too long",
        GOOD,
        "- {gate: followup_watch, service: checkout, env: prod, reason: r, ticket: T-1,\n"
        "   approved_by: sofiia, approved_at: 2026-03-01T00:00:00Z,\n"
        "   expires_at: 2026-04-01T00:00:00Z}\n",
        1,
        "max_waiver_days",
    ),
    (
        "waiver without approval too long from now",
        GOOD,
        "- gate: followup_watch\n  service: checkout\n  env: prod\n  reason: r\n  ticket: T\n"
        "  approved_by: s\n  expires_at: 2026-05-01\n",
        1,
        "after now",
    ),
    (
        "waiver unknown gate",
        GOOD,
        "- {gate: nope, service: checkout, env: prod, reason: r, ticket: T, approved_by: s,\n"
        "   expires_at: 2026-03-03}\n",
        1,
        "unknown gate 'nope'",
    ),
    (
        "waiver unknown key",
        GOOD,
        "- gate: followup_watch\n  service: checkout\n  env: prod\n  reason: r\n  ticket: T\n"
        "  approved_by: s\n  expires_at: 2026-03-03\n  colour: red\n",
        8,
        "unknown field",
    ),
    ("waivers not a list", GOOD, "gate: followup_watch\n", 1, "list of waivers"),
]


@pytest.mark.parametrize(
    ("gates", "waivers", "line", "text"),
    [pytest.param(g, w, n, t, id=name) for name, g, w, n, t in MALFORMED],
)
def test_malformed_policy_exits_2_naming_file_and_line(
    run_cli: CliRun,
    write_policy: PolicyWriter,
    store_dir: Path,
    gates: str,
    waivers: str | None,
    line: int,
    text: str,
) -> None:
    policy = write_policy(gates, waivers)
    bad_file = "waivers.yml" if waivers is not None else "gates.yml"
    for args in (["check", "--env", "prod", "--service", "checkout"], ["policy", "validate"]):
        result = run_cli(
            "--policy", str(policy), "--store-dir", str(store_dir), *args,
            "--now", "2026-03-02T12:00:00Z",
        )  # fmt: skip
        assert result.exit_code == 2, result
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith("gatekeeper: error: ")
        assert f"{policy / bad_file}:{line}" in result.stderr
        assert text in result.stderr


def test_there_are_at_least_fifteen_malformed_cases() -> None:
    assert len(MALFORMED) >= 15


def test_gate_names_must_be_unique_across_files(
    write_policy: PolicyWriter, policy_dir: Path
) -> None:
    write_policy(GOOD, name="a.yml")
    write_policy(
        "version: 1\ngates:\n  followup_watch: {type: postmortem_required}\n", name="b.yml"
    )
    with pytest.raises(ConfigError) as caught:
        load_policy(policy_dir)
    message = str(caught.value)
    assert f"{policy_dir / 'b.yml'}:3" in message
    assert f"already defined at {policy_dir / 'a.yml'}:5" in message


def test_settings_may_be_set_in_one_file_only(write_policy: PolicyWriter, policy_dir: Path) -> None:
    write_policy(GOOD + "max_waiver_days: 3\n", name="a.yml")
    write_policy("version: 1\nmax_waiver_days: 5\n", name="b.yml")
    with pytest.raises(ConfigError, match=re.escape("already set in")):
        load_policy(policy_dir)


@pytest.mark.parametrize(
    ("path", "message"),
    [("missing", "policy not found"), ("empty-dir", "no policy files")],
)
def test_missing_policy_is_a_config_error(tmp_path: Path, path: str, message: str) -> None:
    (tmp_path / "empty-dir").mkdir()
    with pytest.raises(ConfigError, match=message):
        load_policy(tmp_path / path)


def test_policy_file_with_waivers_beside_it(write_policy: PolicyWriter, run_cli: CliRun) -> None:
    path = write_policy(GOOD, textwrap.dedent("[]\n"))
    result = run_cli("policy", "validate", str(path / "gates.yml"))
    assert result.exit_code == 0
    assert "0 waivers" in result.stdout
