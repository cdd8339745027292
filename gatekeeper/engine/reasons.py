"""The one-line reason of a gate's decision: what was found and which rule decided."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gatekeeper.gates.base import Finding, GateConfig

if TYPE_CHECKING:
    from gatekeeper.engine.decision import ReadProblem
    from gatekeeper.engine.report import Decision


def explain(
    config: GateConfig,
    findings: Sequence[Finding],
    found: Decision,
    failed: Decision,
    *,
    env: str,
    strict: bool,
    problem: ReadProblem | None,
) -> str:
    """``<problem>; <rule>; <findings summary>; <rule>``, or ``no findings``."""
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
