"""The decision table of SPEC §8, as pure functions.

For one gate and one service, in this order:

1. findings → **block** in a strict environment, **warn** elsewhere; ``mode: warn``
   caps at warn, ``mode: block`` blocks everywhere; findings of level ``warn``
   only ever warn. No findings → **pass**.
   A store that cannot be read (or auto mode serving from its fallback) → with
   ``on_error: fail_closed`` (the default) **error** where the gate would block
   (strict env or ``mode: block``), **warn** elsewhere; with ``on_error: warn``
   (or ``mode: warn``) **warn**. Damaged records the read skipped are judged
   the same way by ``on_corrupt``. Findings read despite a problem still count:
   the gate's decision is the more severe of the two (block > error).
2. ``mode: shadow`` → the decision above is reported as ``shadow_decision`` and
   the gate's decision is **pass**.
3. an active waiver that covers the findings → their block becomes **warn**.
4. a break-glass override → their block becomes **warn**.
   Neither ever softens an error.

Nothing here turns anything into pass except shadow mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from gatekeeper.engine.report import Decision, most_severe
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


@dataclass(frozen=True)
class ReadProblem:
    """Why a gate cannot trust its read, and which option decides (on_error or on_corrupt)."""

    message: str
    rule: Literal["on_error", "on_corrupt"] = "on_error"


def findings_decision(findings: Sequence[Finding], *, strict: bool, mode: str) -> Decision:
    """Step 1 for a gate that was evaluated."""
    if not findings:
        return "pass"
    blocking = any(f.level == "block" for f in findings)
    if mode == "warn" or not blocking:
        return "warn"
    return "block" if mode == "block" or strict else "warn"


def error_decision(*, strict: bool, mode: str, on_error: str) -> Decision:
    """Step 1 for a gate that could not be evaluated (or not trust what it read)."""
    if mode == "warn" or on_error == "warn":
        return "warn"
    return "error" if strict or mode == "block" else "warn"


def settle(
    config: GateConfig,
    findings: Sequence[Finding],
    *,
    env: str,
    strict: bool,
    problem: ReadProblem | None = None,
    waiver: Waiver | None = None,
    override: bool = False,
) -> Settled:
    """Apply the whole table to one gate's outcome.

    With a ``problem`` the gate's findings (if it could read anything) still
    count: a waiver or override may soften their block, never the problem's
    error, and the result is the more severe of the two.
    """
    found = findings_decision(findings, strict=strict, mode=config.mode)
    failed: Decision = "pass"
    if problem is not None:
        failed = error_decision(
            strict=strict, mode=config.mode, on_error=getattr(config, problem.rule)
        )
    raw = most_severe((found, failed))
    why = _why(config, findings, found, failed, env=env, strict=strict, problem=problem)
    if config.mode == "shadow":
        return Settled("pass", f"{why}; shadow mode: would {raw}", shadow_decision=raw)
    if found == "block" and waiver is not None and waiver.covers(findings):
        note = f"waived to warn by {waiver.ticket} until {format_timestamp(waiver.expires_at)}"
        return Settled(most_severe(("warn", failed)), f"{why}; {note}", waiver_applied=True)
    if found == "block" and override:
        note = "overridden to warn (break-glass)"
        return Settled(most_severe(("warn", failed)), f"{why}; {note}", override_applied=True)
    return Settled(raw, why)


def _why(
    config: GateConfig,
    findings: Sequence[Finding],
    found: Decision,
    failed: Decision,
    *,
    env: str,
    strict: bool,
    problem: ReadProblem | None,
) -> str:
    parts = []
    if problem is not None:
        verb = "could not evaluate" if problem.rule == "on_error" else "cannot trust the read"
        parts.append(f"{verb}: {problem.message}; {_error_rule(config, failed, problem.rule)}")
    if findings:
        rule = _finding_rule(config, findings, found, env=env, strict=strict)
        parts.append(f"{summarize(findings)}; {rule}")
    return "; ".join(parts) or "no findings"


def _error_rule(config: GateConfig, failed: Decision, rule: str) -> str:
    if failed == "error":
        return "failing closed"
    if config.mode == "warn" or getattr(config, rule) == "warn":
        return f"{rule} warn" if getattr(config, rule) == "warn" else "mode warn"
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
