"""Break-glass: who may override a block (the trail it leaves is :mod:`.audit`).

An override — ``--override REASON``, and ``--no-strict`` on an environment the
policy marks strict, which needs one — takes an agent whose role has
``gate_override``; anything else is refused as a configuration error (exit 2)
before any gate runs.
"""

from __future__ import annotations

from pathlib import Path

from gatekeeper.engine.report import Override
from gatekeeper.errors import ConfigError, Forbidden


def authorize_override(
    policy_path: Path, agent: str | None, reason: str | None, *, no_strict_env: str | None = None
) -> Override:
    """The override, if ``agent`` may override gates; :class:`ConfigError` otherwise.

    ``no_strict_env`` names the strict environment ``--no-strict`` softens: then
    the reason is required and the override records that it softened strictness.
    """
    if reason is None:
        raise ConfigError(
            f"--no-strict on strict env {no_strict_env!r} is break-glass: it needs "
            '--override "REASON" by an agent allowed to override (gate_override)',
            where="--no-strict",
        )
    if not reason.strip():
        raise ConfigError("an override needs a reason", where="--override")
    from gatekeeper.rbac import load_rbac  # the roles are read only for an override

    try:
        load_rbac(policy_path).require(agent, "gate_override")
    except Forbidden as exc:
        raise ConfigError(f"override refused: {exc.message}", where="--override") from exc
    assert agent is not None  # require() refuses a missing agent
    return Override(reason=reason.strip(), agent=agent, no_strict=no_strict_env is not None)
