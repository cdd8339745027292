"""Reading policy files into a :class:`Policy`, with every error at ``file:line``.

The policy path is a file, or a directory whose ``*.yml``/``*.yaml`` files (all
but ``rbac.yml`` and ``waivers.yml``) are read in name order and merged: gate
and environment names must be unique across files, and the policy-wide
settings (``max_waiver_days``, ``followup_sla_days``, ``default_environment``,
``risk``, ``correlation``) may be set in one file only.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from gatekeeper.errors import ConfigError
from gatekeeper.followups import DEFAULT_SLA_DAYS
from gatekeeper.gates.base import GateConfig
from gatekeeper.gates.registry import gate_type
from gatekeeper.models import NAME_RE
from gatekeeper.policy._yaml import LineDict, describe_found, line_of, load_yaml, validation_error
from gatekeeper.policy.models import (
    DEFAULT_MAX_WAIVER_DAYS,
    Environment,
    Policy,
    policy_file_model,
)

if TYPE_CHECKING:
    from gatekeeper.intelligence.settings import RiskSettings

NOT_GATE_FILES = frozenset({"rbac.yml", "rbac.yaml", "waivers.yml", "waivers.yaml"})
GATE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
_SETTINGS = ("max_waiver_days", "followup_sla_days", "default_environment", "risk", "correlation")


def policy_files(path: Path) -> list[Path]:
    """The gate files that ``path`` (a file or a directory) stands for."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ConfigError("policy not found", where=str(path))
    files = sorted(
        p
        for p in path.iterdir()
        if p.suffix in (".yml", ".yaml") and p.name not in NOT_GATE_FILES and p.is_file()
    )
    if not files:
        raise ConfigError("no policy files (*.yml) in the policy directory", where=str(path))
    return files


def load_policy(path: Path | str) -> Policy:
    """Load, validate and merge the policy at ``path``; :class:`ConfigError` on any problem."""
    merged = _Merger()
    for file in policy_files(Path(path)):
        merged.add(file, load_yaml(file))
    return merged.policy()


class _Merger:
    """Accumulates files; remembers where each name was defined to report clashes."""

    def __init__(self) -> None:
        self.sources: list[Path] = []
        self.environments: dict[str, Environment] = {}
        self.gates: dict[str, GateConfig] = {}
        self.locations: dict[str, str] = {}
        self.settings: dict[str, tuple[Any, str]] = {}

    def add(self, path: Path, data: Any) -> None:
        if not isinstance(data, LineDict):
            found = "an empty file" if data is None else describe_found(data)
            raise ConfigError(
                f"a policy file is a mapping, found {found}", where=f"{path}:{line_of(data)}"
            )
        try:
            top = policy_file_model(data).model_validate(data)
        except ValidationError as exc:
            raise validation_error(exc, path, data) from exc
        self.sources.append(path)
        for name in _SETTINGS:
            value = getattr(top, name, None)  # the intelligence sections: only if the file has one
            if value is not None:
                self._setting(path, data, name, value)
        for env, config in top.environments.items():
            self._environment(path, data["environments"], env, config)
        for name in top.gates:
            self._gate(path, data["gates"], name)

    def _setting(self, path: Path, data: LineDict, name: str, value: Any) -> None:
        where = f"{path}:{data.key_lines[name]}"
        if name in self.settings:
            raise ConfigError(
                f"{name} is already set in {self.settings[name][1]}", where=f"{where}, {name}"
            )
        self.settings[name] = (value, where)

    def _environment(self, path: Path, section: LineDict, env: str, config: Environment) -> None:
        where = f"{path}:{section.key_lines[env]}"
        if not NAME_RE.fullmatch(env):
            raise ConfigError(
                f"environment name must match {NAME_RE.pattern}", where=f"{where}, environments"
            )
        if env in self.environments:
            raise ConfigError(
                f"environment {env!r} is defined twice", where=f"{where}, environments.{env}"
            )
        self.environments[env] = config

    def _gate(self, path: Path, section: LineDict, name: str) -> None:
        raw = section[name]
        where = f"{path}:{section.key_lines[name]}"
        if not GATE_NAME_RE.fullmatch(str(name)):
            raise ConfigError(f"gate name must match {GATE_NAME_RE.pattern}", where=where)
        if name in self.gates:
            raise ConfigError(
                f"gate {name!r} is already defined at {self.locations[name]}",
                where=f"{where}, gates.{name}",
            )
        self.gates[name] = _gate_config(path, name, raw, section.key_lines[name])
        self.locations[name] = where

    def policy(self) -> Policy:
        sla = self.settings.get("followup_sla_days", ({}, ""))[0]
        max_days = self.settings.get("max_waiver_days", (DEFAULT_MAX_WAIVER_DAYS, ""))[0]
        risk = self.settings.get("risk", (None, ""))[0]
        return Policy(
            environments=self.environments,
            gates={name: _with_policy_risk(g, risk) for name, g in self.gates.items()},
            max_waiver_days=max_days,
            followup_sla_days={**DEFAULT_SLA_DAYS, **sla},
            risk_section=risk,
            correlation_section=self.settings.get("correlation", (None, ""))[0],
            sources=tuple(self.sources),
            locations=self.locations,
            default_environment=self.settings.get("default_environment", (None, ""))[0],
        )


def _with_policy_risk(config: GateConfig, risk: RiskSettings | None) -> GateConfig:
    # A gate cannot see the policy, so a gate with a `risk` field of its own
    # (risk_threshold) gets the policy's `risk:` section (or its defaults) unless it sets one.
    if "risk" in type(config).model_fields and getattr(config, "risk", None) is None:
        if risk is None:
            from gatekeeper.intelligence.settings import DEFAULT_RISK

            risk = DEFAULT_RISK
        return config.model_copy(update={"risk": risk})
    return config


def _gate_config(path: Path, name: str, raw: LineDict, line: int) -> GateConfig:
    type_name = raw.get("type")
    if not isinstance(type_name, str):
        raise ConfigError("every gate needs a type", where=f"{path}:{line}, gates.{name}.type")
    try:
        model = gate_type(type_name).config_model
    except ConfigError as exc:
        line = raw.key_lines["type"]
        raise ConfigError(exc.message, where=f"{path}:{line}, gates.{name}.type") from exc
    try:
        config: GateConfig = model.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(exc, path, raw, label=f"gates.{name}.") from exc
    return config
