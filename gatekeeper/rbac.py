"""Roles and permissions (SPEC §5), from ``rbac.yml`` in the policy directory.

Reads need no agent. Every write needs an agent whose role grants the permission.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gatekeeper.errors import ConfigError, Forbidden
from gatekeeper.models import describe_validation_error

Permission = Literal["incident_read", "incident_write", "gate_override", "digest_write"]
DEFAULT_ROLE = "agent_default"


class Role(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    description: str = ""
    permissions: frozenset[Permission] = frozenset()


class Rbac(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: Literal[1] = 1
    roles: dict[str, Role]
    agents: dict[str, str] = Field(default_factory=dict)
    default_role: str = DEFAULT_ROLE

    def role_of(self, agent: str | None) -> str:
        if agent is None:
            return "anonymous"
        return self.agents.get(agent, self.default_role)

    def allows(self, agent: str | None, permission: Permission) -> bool:
        if permission == "incident_read":
            return True
        if agent is None:
            return False
        role = self.roles.get(self.role_of(agent))
        return role is not None and permission in role.permissions

    def require(self, agent: str | None, permission: Permission) -> str:
        """Return ``agent`` if it may do ``permission``; raise :class:`Forbidden` otherwise."""
        if agent is None:
            raise Forbidden(f"{permission} needs an agent (--agent or GATEKEEPER_AGENT)")
        if not self.allows(agent, permission):
            raise Forbidden(f"agent {agent!r} (role {self.role_of(agent)}) may not {permission}")
        return agent


_FULL: frozenset[Permission] = frozenset(
    {"incident_read", "incident_write", "gate_override", "digest_write"}
)
_READ: frozenset[Permission] = frozenset({"incident_read"})

DEFAULT_RBAC = Rbac(
    roles={
        "agent_cto": Role(description="full CRUD, gate override, weekly digest", permissions=_FULL),
        "agent_oncall": Role(
            description="full CRUD, gate override, weekly digest", permissions=_FULL
        ),
        "agent_monitor": Role(description="read only", permissions=_READ),
        "agent_interface": Role(description="read only", permissions=_READ),
        "agent_default": Role(description="read only", permissions=_READ),
    },
    agents={
        "sofiia": "agent_cto",
        "helion": "agent_oncall",
        "monitor": "agent_monitor",
        "aistalk": "agent_interface",
    },
)


def load_rbac(policy_path: Path) -> Rbac:
    """``rbac.yml`` beside the policy (a directory, or a single file's directory).

    Without one, the built-in default of SPEC §5 applies.
    """
    directory = policy_path if policy_path.is_dir() else policy_path.parent
    path = directory / "rbac.yml"
    if not path.is_file():
        return DEFAULT_RBAC
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read roles: {exc}", where=str(path)) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"invalid YAML: {getattr(exc, 'problem', exc)}", where=where) from exc
    try:
        rbac = Rbac.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc), where=str(path)) from exc
    _check_references(rbac, path)
    return rbac


def _check_references(rbac: Rbac, path: Path) -> None:
    unknown: Mapping[str, str] = {a: r for a, r in rbac.agents.items() if r not in rbac.roles}
    for agent, role in unknown.items():
        raise ConfigError(f"agent {agent!r} has unknown role {role!r}", where=f"{path}: agents")
    if rbac.default_role not in rbac.roles:
        raise ConfigError(f"unknown default_role {rbac.default_role!r}", where=str(path))
