"""Roles and permissions, from ``rbac.yml`` in the policy directory.

Reads need no agent. Every write needs an agent whose role grants the permission.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gatekeeper.errors import ConfigError, Forbidden
from gatekeeper.policy._yaml import (
    LineDict,
    describe_found,
    line_of,
    load_yaml,
    locate,
    validation_error,
)
from gatekeeper.policy.paths import rbac_file

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

    Without one, the built-in default roles apply.
    """
    path = rbac_file(policy_path)
    return DEFAULT_RBAC if path is None else read_rbac(path)


def read_rbac(path: Path) -> Rbac:
    """The roles of the file ``path``; :class:`ConfigError` naming ``file:line, field``."""
    data = load_yaml(path)
    if data is None:
        raise ConfigError(
            "a roles file is a mapping with roles, found an empty file", where=f"{path}:1"
        )
    if not isinstance(data, LineDict):
        raise ConfigError(
            f"a roles file is a mapping with roles, found {describe_found(data)}",
            where=f"{path}:{line_of(data)}",
        )
    try:
        rbac = Rbac.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, path, data) from exc
    _check_references(rbac, path, data)
    return rbac


def _check_references(rbac: Rbac, path: Path, data: LineDict) -> None:
    for agent, role in rbac.agents.items():
        if role not in rbac.roles:
            line = locate(data, ("agents", agent))
            raise ConfigError(
                f"agent {agent!r} has unknown role {role!r}", where=f"{path}:{line}, agents.{agent}"
            )
    if rbac.default_role not in rbac.roles:
        line = locate(data, ("default_role",)) if "default_role" in data else line_of(data)
        raise ConfigError(
            f"unknown default_role {rbac.default_role!r}", where=f"{path}:{line}, default_role"
        )
