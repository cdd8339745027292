"""The decision table of SPEC §8, as pure functions.

For one gate and one service, in this order:

1. findings → **block** in a strict environment, **warn** elsewhere; ``mode: warn``
   caps at warn, ``mode: block`` blocks everywhere; findings of level ``warn``
   only ever warn. No findings → **pass**.
   A store that cannot be read → with ``on_error: fail_closed`` (the default)
   **error** where the gate would block (strict env or ``mode: block``), **warn**
   elsewhere; with ``on_error: warn`` (or ``mode: warn``) **warn**.
2. ``mode: shadow`` → the decision above is reported as ``shadow_decision`` and
   the gate's decision is **pass**.
3. an active waiver that covers the findings → block becomes **warn**.
4. a break-glass override → block becomes **warn**.

Nothing here turns anything into pass except shadow mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gatekeeper.engine.report import Decision
from gatekeeper.gates.base import Finding, GateConfig
from gatekeeper.policy.waivers import Waiver
from gatekeeper.timeutil import format_timestamp


@dataclass(frozen=True)
class Settled:
    decision: Decision
    reason: str
    shadow_decision: Decision | None = None
    waiver_applied: bool = False
    override_applied: bool = False


def findings_decision(findings: Sequence[Finding], *, strict: bool, mode: str) -> Decision:
    """Step 1 for a gate that was evaluated."""
    if not findings:
        return "pass"
    blocking = any(f.level == "block" for f in findings)
    if mode == "warn" or not blocking:
        return "warn"
    return "block" if mode == "block" or strict else "warn"


def error_decision(*, strict: bool, mode: str, on_error: str) -> Decision:
    """Step 1 for a gate that could not be evaluated."""
    if mode == "warn" or on_error == "warn":
        return "warn"
    return "error" if strict or mode == "block" else "warn"


def settle(
    config: GateConfig,
    findings: Sequence[Finding],
    *,
    env: str,
    strict: bool,
    error: str | None = None,
    waiver: Waiver | None = None,
    override: bool = False,
) -> Settled:
    """Apply the whole table to one gate's outcome."""
    if error is not None:
        raw = error_decision(strict=strict, mode=config.mode, on_error=config.on_error)
    else:
        raw = findings_decision(findings, strict=strict, mode=config.mode)
    why = _why(config, findings, raw, env=env, strict=strict, error=error)
    if config.mode == "shadow":
        return Settled("pass", f"{why}; shadow mode: would {raw}", shadow_decision=raw)
    if raw == "block" and waiver is not None and waiver.covers(findings):
        note = f"waived to warn by {waiver.ticket} until {format_timestamp(waiver.expires_at)}"
        return Settled("warn", f"{why}; {note}", waiver_applied=True)
    if raw == "block" and override:
        return Settled("warn", f"{why}; overridden to warn (break-glass)", override_applied=True)
    return Settled(raw, why)


def _why(
    config: GateConfig,
    findings: Sequence[Finding],
    raw: Decision,
    *,
    env: str,
    strict: bool,
    error: str | None,
) -> str:
    if error is not None:
        return f"could not evaluate: {error}; {_error_rule(config, raw)}"
    if not findings:
        return "no findings"
    return f"{summarize(findings)}; {_finding_rule(config, findings, raw, env=env, strict=strict)}"


def _error_rule(config: GateConfig, raw: Decision) -> str:
    if raw == "error":
        return "failing closed"
    if config.mode == "warn" or config.on_error == "warn":
        return "on_error warn" if config.on_error == "warn" else "mode warn"
    return "failing closed only in strict environments: warn"


def _finding_rule(
    config: GateConfig, findings: Sequence[Finding], raw: Decision, *, env: str, strict: bool
) -> str:
    if config.mode in ("warn", "block"):
        return f"mode {config.mode}"
    if raw == "warn" and all(f.level == "warn" for f in findings):
        return "warn-level findings"
    return f"env {env} is strict" if strict else f"env {env} is not strict"


def summarize(findings: Sequence[Finding]) -> str:
    """``3 findings: 1 active_incident, 2 overdue_followup``."""
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.kind] = counts.get(finding.kind, 0) + 1
    parts = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    plural = "s" if len(findings) != 1 else ""
    return f"{len(findings)} finding{plural}: {parts}"
