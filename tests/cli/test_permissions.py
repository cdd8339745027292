"""Roles at the CLI: every writing command is refused for read-only and missing
agents with one line and exit 1, leaving the store byte-for-byte unchanged."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from gatekeeper.cli.incident import command as incident_group
from gatekeeper.store.jsonl import JsonlIncidentStore
from tests.cli.conftest import Gatekeeper, one_error
from tests.conftest import REPO, CliRun, Seeded, tree_digest

READ_COMMANDS = {"get", "list", "followups"}


def write_commands(seeded: Seeded, tmp_path: Path) -> dict[str, list[str]]:
    notes = tmp_path / "notes.md"
    notes.write_text("# notes\n")
    incident = seeded.incident_id
    return {
        "create": ["--service", "gateway", "--env", "prod", "--severity", "P2", "--title", "t"],
        "update": [incident, "--status", "mitigated"],
        "event": [incident, "--type", "note", "--message", "looking"],
        "artifact": [incident, str(notes)],
        "followup add": [incident, "--title", "Add a canary", "--owner", "ana"],
        "followup update": [incident, seeded.followup_id, "--status", "done"],
    }


WRITE_COMMANDS = ["create", "update", "event", "artifact", "followup add", "followup update"]
REFUSED = {
    "monitor": "agent 'monitor' (role agent_monitor) may not incident_write",
    "aistalk": "agent 'aistalk' (role agent_interface) may not incident_write",
    "stranger": "agent 'stranger' (role agent_default) may not incident_write",
    None: "incident_write needs an agent (--agent or GATEKEEPER_AGENT)",
}


def leaf_commands(group: click.Group, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for name, sub in group.commands.items():
        if isinstance(sub, click.Group):
            names |= leaf_commands(sub, f"{prefix}{name} ")
        else:
            names.add(f"{prefix}{name}")
    return names


def test_every_incident_command_is_classified() -> None:
    assert leaf_commands(incident_group) == READ_COMMANDS | set(WRITE_COMMANDS)


@pytest.mark.parametrize("agent", list(REFUSED))
@pytest.mark.parametrize("name", WRITE_COMMANDS)
def test_writes_are_refused_and_change_nothing(
    gk: Gatekeeper, seeded: Seeded, tmp_path: Path, name: str, agent: str | None
) -> None:
    args = write_commands(seeded, tmp_path)[name]
    before = tree_digest(seeded.store_dir)
    result = gk("incident", *name.split(), *args, agent=agent)
    assert one_error(result) == REFUSED[agent]
    assert tree_digest(seeded.store_dir) == before


@pytest.mark.parametrize("agent", ["sofiia", "helion"])
@pytest.mark.parametrize("name", WRITE_COMMANDS)
def test_writes_are_allowed_and_record_the_agent(
    gk: Gatekeeper, seeded: Seeded, tmp_path: Path, name: str, agent: str
) -> None:
    args = write_commands(seeded, tmp_path)[name]
    store = JsonlIncidentStore(seeded.store_dir)
    before = {e.id for e in store.iter_events()}
    result = gk("incident", *name.split(), *args, "--format", "json", agent=agent)
    assert result.exit_code == 0, result
    new_events = [e for e in store.iter_events() if e.id not in before]
    assert new_events and {e.actor for e in new_events} == {agent}
    if name in ("create", "artifact"):
        assert f'"created_by": "{agent}"' in result.stdout


def test_agent_from_the_environment(run_cli: CliRun, seeded: Seeded) -> None:
    env = {"GATEKEEPER_AGENT": "monitor", "INCIDENT_JSONL_DIR": str(seeded.store_dir)}
    args = ["--policy", str(REPO / "policies"), "incident", "update", seeded.incident_id]
    result = run_cli(*args, "--status", "closed", env=env)
    assert one_error(result) == REFUSED["monitor"]
