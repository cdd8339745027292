"""Third-party gate types through the ``gatekeeper.gates`` entry-point group.

A tiny distribution (a package plus a ``.dist-info`` with ``entry_points.txt``)
is written into a temporary directory that is put on ``sys.path``, which is
all ``importlib.metadata`` needs to find it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gatekeeper.gates import registry
from gatekeeper.gates.base import GateConfig
from tests.gate.conftest import CheckRun, PolicyWriter

PLUGIN = """\
from __future__ import annotations

from typing import Literal

from gatekeeper.gates.base import Finding, GateConfig


class TicketConfig(GateConfig):
    type: Literal["change_ticket"] = "change_ticket"
    ticket_required: bool = True


class ChangeTicket:
    config_model = TicketConfig

    def lookback(self, config):
        return None

    def evaluate(self, config, context):
        if not config.ticket_required:
            return []
        return [Finding(kind="change_ticket", message=f"{context.service}: no change ticket")]


GATE = ChangeTicket()
NOT_A_GATE = object()
"""

ENTRY_POINTS = """\
[gatekeeper.gates]
change_ticket = gk_testgate:GATE
broken_gate = gk_testgate:NOT_A_GATE
missing_gate = gk_testgate_missing:GATE
followup_watch = gk_testgate:GATE
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    site = tmp_path / "site"
    (site / "gk_testgate").mkdir(parents=True)
    (site / "gk_testgate" / "__init__.py").write_text(PLUGIN)
    info = site / "gk_testgate-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: gk-testgate\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(site))
    registry.plugin_gate_types.cache_clear()
    yield
    registry.plugin_gate_types.cache_clear()


POLICY = """\
version: 1
environments: {prod: {strict: true}}
gates:
  ticket:
    type: {type}
"""


def policy(gate_type: str) -> str:
    return POLICY.replace("{type}", gate_type)


def test_a_plugin_gate_type_runs(plugin: None, check: CheckRun, write_policy: PolicyWriter) -> None:
    write_policy(policy("change_ticket"))
    result = check("--env", "prod", "--service", "web", "--format", "json")
    assert result.exit_code == 1
    (gate,) = json.loads(result.stdout)["results"]
    assert (gate["type"], gate["decision"]) == ("change_ticket", "block")
    assert gate["findings"][0]["message"] == "web: no change ticket"
    assert "change_ticket" in registry.known_gate_types()


def test_plugin_options_are_validated_like_builtins(
    plugin: None, check: CheckRun, write_policy: PolicyWriter
) -> None:
    path = write_policy(policy("change_ticket") + "    ticket_requred: false\n")
    result = check("--env", "prod", "--service", "web")
    assert result.exit_code == 2
    assert f"{path / 'gates.yml'}:6, gates.ticket.ticket_requred" in result.stderr


@pytest.mark.parametrize(
    ("gate_type", "message"),
    [
        ("broken_gate", "does not provide config_model"),
        ("missing_gate", "failed to load"),
        ("no_such_type", "unknown gate type 'no_such_type'"),
    ],
)
def test_bad_plugins_are_config_errors_at_the_type_line(
    plugin: None, check: CheckRun, write_policy: PolicyWriter, gate_type: str, message: str
) -> None:
    path = write_policy(policy(gate_type))
    result = check("--env", "prod", "--service", "web")
    assert result.exit_code == 2
    assert message in result.stderr
    assert f"{path / 'gates.yml'}:5, gates.ticket.type" in result.stderr
    assert result.stderr.count("\n") == 1


def test_builtin_names_win_over_plugins(plugin: None) -> None:
    assert registry.gate_type("followup_watch") is registry.builtin_gate_type("followup_watch")


@pytest.mark.parametrize("name", sorted(registry.BUILTIN_GATE_TYPES))
def test_every_builtin_type_is_complete(name: str) -> None:
    gate = registry.builtin_gate_type(name)
    assert issubclass(gate.config_model, GateConfig)
    assert gate.config_model.model_fields["type"].default == name
    assert callable(gate.evaluate) and callable(gate.lookback)


def test_no_entry_point_scan_for_builtin_types(monkeypatch: pytest.MonkeyPatch) -> None:
    registry.plugin_gate_types.cache_clear()

    def refuse() -> None:
        raise AssertionError("entry points scanned")

    monkeypatch.setattr(registry, "plugin_gate_types", refuse)
    assert registry.gate_type("freeze_window") is not None
