"""Every input field limit gives the same error through the CLI and the tool.

Each row is one refused value of one field of one operation, sent once as a CLI
option and once as the tool's param. Both must be refused as invalid input
naming the same field with the same words, and leave the store as it was. The
limits live once (gatekeeper/inputs.py, gatekeeper/models.py); a front that
checked on its own, or not at all, would fail its row here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.shell_completion import BashComplete

from gatekeeper.cli import cli
from tests.cli.conftest import Gatekeeper, one_error
from tests.conftest import Seeded, tree_digest

LONG_201 = "x" * 201
LONG_250 = "y" * 250

# (operation, field, bad value); the field is the tool's param and, with
# underscores as dashes, the CLI's option.
ROWS: list[tuple[str, str, str]] = [
    ("create", "title", LONG_201),
    ("create", "title", ""),
    ("create", "title", "bell\x07"),
    ("create", "service", "Check Out"),
    ("create", "env", "-prod"),
    ("create", "summary", "s" * 10_001),
    ("create", "summary", ""),
    ("create", "started_at", "2026-03-01T10:00:00"),
    ("create", "started_at", "0001-01-01T00:00:00+01:00"),
    ("create", "started_at", "9999-12-31T23:00:00-02:00"),
    ("create", "started_at", "1969-12-31T23:59:59Z"),
    ("update", "title", LONG_201),
    ("update", "title", "nul\x00inside"),
    ("update", "summary", "s" * 10_001),
    ("update", "summary", "lone \udc80 surrogate"),
    ("followup_add", "title", LONG_250),
    ("followup_add", "title", "   "),
    ("followup_add", "owner", "o" * 201),
    ("followup_add", "owner", " "),
    ("followup_add", "ticket", "T" * 201),
    ("followup_add", "ticket", ""),
    ("followup_add", "due", "2026-13-01"),
    ("followup_add", "due", "9999-12-31T23:00:00-02:00"),
    ("followup_add", "due", "1969-12-31"),
    ("followup_update", "title", LONG_250),
    ("followup_update", "owner", ""),
    ("followup_update", "ticket", "T" * 201),
    ("followup_update", "due", "0001-01-01T00:00:00+01:00"),
    ("event", "type", "Not-A-Type"),
    ("event", "message", "m" * 10_001),
    ("event", "message", "nul\x00"),
    ("event", "ts", "0001-01-01T00:00:00+01:00"),
    # choices: the CLI lists them in --help but the typed input refuses the rest
    ("create", "severity", "P9"),
    ("create", "severity", "p1"),
    ("create", "severity", ""),
    ("update", "status", "reopened"),
    ("update", "severity", "P5"),
    ("followup_add", "priority", "P4"),
    ("followup_add", "priority", "urgent"),
    ("followup_update", "status", "closed"),
    ("followup_update", "priority", "P9"),
    ("list", "status", "bogus"),
    ("list", "severity", "P9"),
    ("list", "service", "Check Out"),
    ("list", "env", "-prod"),
    # numeric bounds: the CLI parses the number, the typed input checks its range
    ("list", "limit", "0"),
    ("list", "limit", "1001"),
    ("followups", "window_days", "0"),
    ("followups", "window_days", "3651"),
    ("followups", "service", "Check Out"),
    ("followups", "env", "-prod"),
]
INT_FIELDS = frozenset({"limit", "window_days"})  # sent to the tool as JSON numbers

CLI_COMMAND = {
    "create": ["incident", "create"],
    "update": ["incident", "update", "{incident}"],
    "followup_add": ["incident", "followup", "add", "{incident}"],
    "followup_update": ["incident", "followup", "update", "{incident}", "{followup}"],
    "event": ["incident", "event", "{incident}"],
    "list": ["incident", "list"],
    "followups": ["incident", "followups"],
}
CLI_REQUIRED = {
    "create": {"service": "gateway", "env": "prod", "severity": "P2", "title": "t"},
    "update": {},
    "followup_add": {"title": "t", "owner": "o"},
    "followup_update": {},
    "event": {"type": "note", "message": "m"},
    "list": {},
    "followups": {"service": "gateway", "env": "prod"},
}
TOOL_ACTION = {
    "create": "incident_create",
    "update": "incident_update",
    "followup_add": "followup_add",
    "followup_update": "followup_update",
    "event": "incident_append_event",
    "list": "incident_list",
    "followups": "incident_followups_summary",
}


def cli_error(gk: Gatekeeper, seeded: Seeded, operation: str, field: str, value: str) -> str:
    ids = {"incident": seeded.incident_id, "followup": seeded.followup_id}
    args = [part.format(**ids) for part in CLI_COMMAND[operation]]
    options = {**CLI_REQUIRED[operation], field: value}
    for name, given in options.items():
        args += [f"--{name.replace('_', '-')}", given]
    return one_error(gk(*args, agent="helion"))


def tool_error(gk: Gatekeeper, seeded: Seeded, operation: str, field: str, value: str) -> str:
    params: dict[str, Any] = {
        **CLI_REQUIRED[operation],
        field: int(value) if field in INT_FIELDS else value,
    }
    if operation not in ("create", "list", "followups"):
        params["incident_id"] = seeded.incident_id
    if operation == "followup_update":
        params["followup_id"] = seeded.followup_id
    request = {"action": TOOL_ACTION[operation], "agent_id": "helion", "params": params}
    result = gk("tool", input=json.dumps(request))
    answer = json.loads(result.stdout)
    assert result.exit_code == 1 and answer["ok"] is False, answer
    assert answer["error"]["code"] == "invalid", answer
    message: str = answer["error"]["message"]
    return message


def field_and_words(message: str) -> tuple[str, str]:
    """``title: must be …`` / ``params.title: must be …`` / ``… (--due)`` → (field, words).

    A repeatable option's field keeps the index of the refused value (``status.0``).
    """
    option = re.fullmatch(r"(.*) \(--([a-z-]+)\)", message)
    if option:
        return option.group(2).replace("-", "_"), option.group(1)
    named = re.fullmatch(r"(?:params\.)?([a-z_]+(?:\.[0-9]+)?): (.*)", message)
    assert named, message
    return named.group(1), named.group(2)


@pytest.mark.parametrize(("operation", "field", "value"), ROWS, ids=lambda v: str(v)[:24])
def test_a_refused_value_reads_the_same_through_the_cli_and_the_tool(
    gk: Gatekeeper, seeded: Seeded, store_dir: Path, operation: str, field: str, value: str
) -> None:
    before = tree_digest(store_dir)
    through_cli = field_and_words(cli_error(gk, seeded, operation, field, value))
    through_tool = field_and_words(tool_error(gk, seeded, operation, field, value))
    assert through_cli == through_tool
    assert through_cli[0].split(".")[0] == field
    assert tree_digest(store_dir) == before


def test_the_limits_hold_exactly_at_their_bounds(gk: Gatekeeper, seeded: Seeded) -> None:
    # 200 characters is a title, 201 is not (above); both fronts store the 200.
    base = ["incident", "followup", "add", seeded.incident_id, "--owner", "o", "--format", "json"]
    added = gk(*base, "--title", "z" * 200, agent="helion")
    assert added.exit_code == 0, added
    request = {
        "action": "followup_add",
        "agent_id": "helion",
        "params": {"incident_id": seeded.incident_id, "title": "w" * 200, "owner": "o"},
    }
    answer = json.loads(gk("tool", input=json.dumps(request)).stdout)
    assert answer["ok"] is True, answer
    assert len(answer["result"]["title"]) == len(json.loads(added.stdout)["title"]) == 200


CHOICE_OPTIONS = [
    (["incident", "create"], "--severity", ["P0", "P1", "P2", "P3", "P4"]),
    (["incident", "list"], "--status", ["open", "mitigated", "resolved", "closed"]),
    (["incident", "list"], "--severity", ["P0", "P1", "P2", "P3", "P4"]),
    (["incident", "update", "ID"], "--status", ["open", "mitigated", "resolved", "closed"]),
    (["incident", "update", "ID"], "--severity", ["P0", "P1", "P2", "P3", "P4"]),
    (["incident", "followup", "add", "ID"], "--priority", ["P0", "P1", "P2", "P3"]),
    (
        ["incident", "followup", "update", "ID", "FU"],
        "--status",
        ["open", "in_progress", "done", "cancelled"],
    ),
    (["incident", "followup", "update", "ID", "FU"], "--priority", ["P0", "P1", "P2", "P3"]),
]


@pytest.mark.parametrize(("command", "option", "choices"), CHOICE_OPTIONS)
def test_choice_options_list_and_complete_their_choices(
    gk: Gatekeeper, command: list[str], option: str, choices: list[str]
) -> None:
    # Checked by the typed input, not by click, yet --help still lists the choices
    # and shell completion still offers them (filtered by what was typed).
    words = [part for part in command if not part.isupper()]
    help_text = gk(*words, "--help").stdout
    assert f"{option} [{'|'.join(choices)}]" in help_text
    completer = BashComplete(cli, {}, "gatekeeper", "_GATEKEEPER_COMPLETE")
    offered = [item.value for item in completer.get_completions([*command, option], "")]
    assert offered == choices
    prefix = choices[1][:2]
    narrowed = [item.value for item in completer.get_completions([*command, option], prefix)]
    assert narrowed == [c for c in choices if c.startswith(prefix)]
