"""`policy validate`: every file kind of a policy directory, one file by its name, and errors
that name `file:line` and the field in the author's words (never an internal class name)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from gatekeeper.errors import ConfigError
from gatekeeper.policy import load_policy, load_waivers
from gatekeeper.rbac import DEFAULT_RBAC, load_rbac
from gatekeeper.timeutil import parse_timestamp
from tests.conftest import CliRun
from tests.gate.conftest import REPO

NOW = "2026-01-06T00:00:00Z"
# Names of our classes, and the YAML helpers', that must never reach a message.
INTERNAL_NAMES = (
    "LineList",
    "LineDict",
    "Waiver",
    "WaiversFile",
    "PolicyFile",
    "Rbac",
    "Role",
    "instance of",
)


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    """A copy of the shipped policies/ directory to break."""
    return Path(shutil.copytree(REPO / "policies", tmp_path / "policies"))


def _write(path: Path, text: str) -> None:
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_the_shipped_directory_is_valid_with_every_file_kind(
    run_cli: CliRun, shipped: Path
) -> None:
    result = run_cli("policy", "validate", str(shipped), "--now", NOW)
    assert result.exit_code == 0, result
    assert result.stdout.startswith("policy ok: 3 gates, 3 environments, 1 waiver, 5 roles (")
    for name in ("gates.yml", "waivers.yml", "rbac.yml"):
        assert str(shipped / name) in result.stdout


# (rbac.yml, line, text in the message, field)
BROKEN_RBAC = [
    ("roles:\n  a: {permissions: [fly]}\n", 2, "'incident_write'", "roles.a.permissions.0"),
    ("roles: {a: {}}\nagents:\n  bob: nobody\n", 3, "unknown role 'nobody'", "agents.bob"),
    ("roles: {a: {}}\ndefault_role: b\n", 2, "unknown default_role 'b'", "default_role"),
    ("roles: {a: {}}\ncolour: blue\n", 2, "unknown field", "colour"),
    ("version: 1\nagents: {}\n", 1, "Field required", "roles"),
    ("roles:\n  a: 3\n", 2, "expected a mapping, found a number", "roles.a"),
    ("roles: [a, b]\n", 1, "expected a mapping, found a list", "roles"),
    ("- a\n", 1, "a roles file is a mapping", ""),
    ("", 1, "found an empty file", ""),
    ("roles: {a: {}}\nroles: {b: {}}\n", 2, "duplicate key", ""),
]


@pytest.mark.parametrize(("text", "line", "message", "field"), BROKEN_RBAC)
def test_a_directory_with_a_broken_rbac_exits_2_naming_its_line(
    run_cli: CliRun, shipped: Path, text: str, line: int, message: str, field: str
) -> None:
    _write(shipped / "rbac.yml", text)
    for path in (shipped, shipped / "rbac.yml"):
        result = run_cli("policy", "validate", str(path), "--now", NOW)
        assert result.exit_code == 2, result
        assert result.stdout == ""
        assert f"{shipped / 'rbac.yml'}:{line}" in result.stderr
        assert message in result.stderr
        assert field in result.stderr
        assert result.stderr.count("\n") == 1
        assert not [name for name in INTERNAL_NAMES if name in result.stderr]


def test_the_default_policy_directory_is_validated_with_its_roles(
    run_cli: CliRun, shipped: Path
) -> None:
    _write(shipped / "rbac.yml", "roles: {a: {}}\nagents:\n  bob: nobody\n")
    result = run_cli("--policy", str(shipped), "policy", "validate", "--now", NOW)
    assert result.exit_code == 2
    assert f"{shipped / 'rbac.yml'}:3, agents.bob" in result.stderr


def test_commands_that_use_roles_report_the_same_line(run_cli: CliRun, shipped: Path) -> None:
    _write(shipped / "rbac.yml", "roles: {a: {}}\nagents:\n  bob: nobody\n")
    result = run_cli("--policy", str(shipped), "--agent", "bob", "incident", "list")
    assert result.exit_code == 2
    assert f"{shipped / 'rbac.yml'}:3, agents.bob" in result.stderr


def test_rbac_yml_alone_is_validated_as_roles(run_cli: CliRun, shipped: Path) -> None:
    result = run_cli("policy", "validate", str(shipped / "rbac.yml"))
    assert result.exit_code == 0, result
    assert result.stdout == f"roles ok: 5 roles, 4 agents ({shipped / 'rbac.yml'})\n"


def test_rbac_yaml_is_read_like_rbac_yml(shipped: Path) -> None:
    (shipped / "rbac.yml").rename(shipped / "rbac.yaml")
    _write(shipped / "rbac.yaml", "roles: {boss: {permissions: [incident_write]}}\n")
    with pytest.raises(ConfigError, match="rbac.yaml:1, default_role"):
        load_rbac(shipped)  # read, not skipped for the built-in roles
    _write(shipped / "rbac.yaml", "default_role: boss\nroles: {boss: {}}\n")
    rbac = load_rbac(shipped)
    assert rbac != DEFAULT_RBAC and list(rbac.roles) == ["boss"]


def test_waivers_yml_alone_is_validated_as_waivers(run_cli: CliRun, shipped: Path) -> None:
    result = run_cli("policy", "validate", str(shipped / "waivers.yml"), "--now", NOW)
    assert result.exit_code == 0, result
    assert result.stdout == f"waivers ok: 1 waiver ({shipped / 'waivers.yml'})\n"


WAIVER = """\
  - gate: followup_watch
    service: checkout
    env: prod
    reason: known
    ticket: OPS-2
    approved_by: sofiia
    approved_at: 2026-01-05T00:00:00Z
    expires_at: 2026-01-10
"""

# (waivers.yml, line, text in the message, field)
BROKEN_WAIVERS = [
    ("version: 2\nwaivers: []\n", 1, "Input should be 1, got 2", "version"),
    ("version: 1\nwaivers: {a: 1}\n", 2, "expected a list, found a mapping", "waivers"),
    ("version: 1\nwaiver: []\n", 2, "unknown field", "waiver"),
    ("version: 1\nwaivers:\n  - 1\n", 3, "expected a mapping, found a number", "waivers[0]"),
    ("version: 1\nwaivers:\n" + WAIVER.replace("prod", "Prod"), 5, "must match", "env"),
    ("version: 1\nwaivers:\n" + WAIVER.replace("gate: f", "gate: x"), 3, "unknown gate", "gate"),
    ("gate: followup_watch\n", 1, "list of waivers under waivers:", "version"),
    ("just text\n", 1, "found a string", ""),
    ("- 1\n", 1, "expected a mapping, found a number", "waivers[0]"),
]


@pytest.mark.parametrize(("text", "line", "message", "field"), BROKEN_WAIVERS)
def test_a_broken_waivers_file_names_its_line_in_plain_words(
    run_cli: CliRun, shipped: Path, text: str, line: int, message: str, field: str
) -> None:
    _write(shipped / "waivers.yml", text)
    for path in (shipped, shipped / "waivers.yml", shipped / "gates.yml"):
        result = run_cli("policy", "validate", str(path), "--now", NOW)
        assert result.exit_code == 2, result
        assert f"{shipped / 'waivers.yml'}:{line}" in result.stderr
        assert message in result.stderr and field in result.stderr
        assert not [name for name in INTERNAL_NAMES if name in result.stderr]


@pytest.mark.parametrize(
    ("text", "line"), [("[1]\n", 1), ("version: 1\ngates: [a]\n", 2), ("7\n", 1)]
)
def test_a_gate_file_of_the_wrong_shape_says_what_it_found(
    run_cli: CliRun, shipped: Path, text: str, line: int
) -> None:
    _write(shipped / "gates.yml", text)
    result = run_cli("policy", "validate", str(shipped), "--now", NOW)
    assert result.exit_code == 2
    assert f"{shipped / 'gates.yml'}:{line}" in result.stderr
    assert "found a" in result.stderr
    assert not [name for name in INTERNAL_NAMES if name in result.stderr]


def test_the_versioned_and_the_bare_waivers_file_read_alike(shipped: Path) -> None:
    policy = load_policy(shipped)
    at = parse_timestamp(NOW, field="now")
    _write(shipped / "waivers.yml", "version: 1\nwaivers:\n" + WAIVER)
    versioned = load_waivers(shipped, policy, at)
    _write(shipped / "waivers.yml", textwrap.dedent(WAIVER))
    bare = load_waivers(shipped, policy, at)
    assert versioned == bare and len(bare) == 1 and bare[0].ticket == "OPS-2"
    _write(shipped / "waivers.yml", "version: 1\n")
    assert load_waivers(shipped, policy, at) == ()
