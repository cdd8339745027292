"""The decision table of docs/policies.md, as pure functions.

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

Nothing here turns anything into pass except shadow mode. The wording of the
reasons lives in :mod:`.reasons`; this module holds only the rules, and
``tests/gate/test_decision_mutants.py`` checks that every comparison, ordering
and table entry in it is pinned by a test.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from gatekeeper._frozen import frozen
from gatekeeper.engine.reasons import explain
from gatekeeper.engine.report import Decision, most_severe
from gatekeeper.gates.base import Finding, GateConfig
from gatekeeper.policy.waivers import Waiver
from gatekeeper.timeutil import format_second


@frozen
class Settled:
    decision: Decision
    reason: str
    shadow_decision: Decision | None = None
    waiver_applied: bool = False
    override_applied: bool = False


@frozen
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
    why = explain(config, findings, found, failed, env=env, strict=strict, problem=problem)
    if config.mode == "shadow":
        return Settled("pass", f"{why}; shadow mode: would {raw}", shadow_decision=raw)
    if found == "block" and waiver is not None and waiver.covers(findings):
        note = f"waived to warn by {waiver.ticket} until {format_second(waiver.expires_at)}"
        return Settled(most_severe(("warn", failed)), f"{why}; {note}", waiver_applied=True)
    if found == "block" and override:
        note = "overridden to warn (break-glass)"
        return Settled(most_severe(("warn", failed)), f"{why}; {note}", override_applied=True)
    return Settled(raw, why)
