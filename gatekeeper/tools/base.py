"""What every tool is made of: typed actions, their parameter models, a context.

A tool is a named set of actions. Each action declares a pydantic model for its
``params`` (unknown fields forbidden, no type coercion) and a function that gets
the validated params and a :class:`ToolContext`. Adding a tool means one new
module building a :class:`Tool` and one line in :data:`gatekeeper.tools.TOOLS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from gatekeeper.config import Settings
from gatekeeper.errors import Forbidden
from gatekeeper.incidents import IncidentService
from gatekeeper.rbac import Permission, Rbac
from gatekeeper.store import IncidentStore


class Params(BaseModel):
    """Base of every action's params: strict types, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


P = TypeVar("P", bound=Params)
Result = dict[str, Any]
Handler = Callable[["ToolContext", P], Result]


@dataclass(frozen=True)
class ToolContext:
    """What an action may use: the store, the agent's incident service, settings, the time."""

    store: IncidentStore
    incidents: IncidentService
    settings: Settings
    now: datetime


@dataclass(frozen=True)
class Action(Generic[P]):
    """One action of a tool; ``writes`` marks actions that need write permission.

    ``writes_when`` marks a read that writes when its params ask it to (a
    correlation note, a saved draft): such a call is checked and run as a write.
    """

    name: str
    params: type[P]
    run: Handler[P]
    writes: bool
    summary: str
    writes_when: Callable[[P], bool] | None = None

    def writes_for(self, params: P) -> bool:
        """Whether a call with ``params`` writes to the store."""
        return self.writes or (self.writes_when is not None and self.writes_when(params))


@dataclass
class Tool:
    """A named set of actions, filled in with the :meth:`action` decorator."""

    name: str
    description: str
    actions: dict[str, Action[Any]] = field(default_factory=dict)

    def action(
        self,
        name: str,
        params: type[P],
        *,
        writes: bool,
        writes_when: Callable[[P], bool] | None = None,
    ) -> Callable[[Handler[P]], Handler[P]]:
        """Register the decorated function as action ``name`` taking ``params``."""

        def register(run: Handler[P]) -> Handler[P]:
            summary = (run.__doc__ or "").strip().splitlines()[0] if run.__doc__ else ""
            self.actions[name] = Action(name, params, run, writes, summary, writes_when)
            return run

        return register


_SET_AGENT_ID = "set agent_id in the envelope to an agent whose role has it"


def require_permission(rbac: Rbac, agent: str | None, permission: Permission, label: str) -> None:
    """:class:`Forbidden` unless ``agent`` may ``permission``, saying to set ``agent_id``.

    A tool caller names its agent in the envelope, never with ``--agent``, so the
    message says so (the CLI's own wording would point at the wrong place).
    """
    if agent is None:
        raise Forbidden(f"{label} needs {permission}: {_SET_AGENT_ID}")
    if not rbac.allows(agent, permission):
        raise Forbidden(
            f"agent {agent!r} (role {rbac.role_of(agent)}) may not {permission}: {_SET_AGENT_ID}"
        )
