"""Gate types by name: the built-in ones, then the ``gatekeeper.gates`` entry points.

Built-in types are listed by module path and imported on first use, so a run
only pays for the gate types its policy uses. Adding a type is one module
beside this file and one line in :data:`BUILTIN_GATE_TYPES`.

A third-party package registers a type in its packaging metadata::

    [project.entry-points."gatekeeper.gates"]
    my_gate = "my_package.gates:MY_GATE"

where ``MY_GATE`` satisfies :class:`~gatekeeper.gates.base.GateType` (an object
or a module with ``config_model``, ``lookback`` and ``evaluate``). A built-in
name always wins over an entry point of the same name. Entry points are only
scanned for a type that is not built in, which keeps ordinary runs fast.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from gatekeeper.errors import ConfigError
from gatekeeper.gates.base import GateConfig, GateType

ENTRY_POINT_GROUP = "gatekeeper.gates"

BUILTIN_GATE_TYPES: dict[str, str] = {
    "followup_watch": "gatekeeper.gates.followup_watch",
    "postmortem_required": "gatekeeper.gates.postmortem_required",
    "freeze_window": "gatekeeper.gates.freeze_window",
    "risk_threshold": "gatekeeper.gates.risk_threshold",
    "registry_sync": "gatekeeper.gates.registry_sync",
}


def builtin_gate_type(name: str) -> GateType[Any]:
    """Import the built-in gate type ``name`` (a ``KeyError`` if there is none)."""
    module = importlib.import_module(BUILTIN_GATE_TYPES[name])
    gate_type: GateType[Any] = module.GATE_TYPE
    return gate_type


@cache
def plugin_gate_types() -> dict[str, Any]:
    """Entry points of the ``gatekeeper.gates`` group, by name (not yet loaded)."""
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def gate_type(name: str) -> GateType[Any]:
    """The gate type called ``name``; :class:`ConfigError` if nothing provides it."""
    if name in BUILTIN_GATE_TYPES:
        return builtin_gate_type(name)
    entry_point = plugin_gate_types().get(name)
    if entry_point is None:
        raise ConfigError(f"unknown gate type {name!r}; known: {', '.join(known_gate_types())}")
    try:
        loaded = entry_point.load()
    except Exception as exc:  # any import failure of third-party code is a config problem
        raise ConfigError(
            f"gate type {name!r} from entry point {entry_point.value!r} failed to load: {exc}"
        ) from exc
    return _checked(name, loaded)


def known_gate_types() -> list[str]:
    """Every gate type name available: built-in first, then plug-ins, each sorted."""
    plugins = sorted(n for n in plugin_gate_types() if n not in BUILTIN_GATE_TYPES)
    return sorted(BUILTIN_GATE_TYPES) + plugins


def _checked(name: str, candidate: Any) -> GateType[Any]:
    model = getattr(candidate, "config_model", None)
    has_methods = callable(getattr(candidate, "evaluate", None)) and callable(
        getattr(candidate, "lookback", None)
    )
    if not (isinstance(model, type) and issubclass(model, GateConfig) and has_methods):
        raise ConfigError(
            f"gate type {name!r} does not provide config_model (a GateConfig), "
            "lookback() and evaluate()"
        )
    gate: GateType[Any] = candidate
    return gate
