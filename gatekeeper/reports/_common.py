"""Wording shared by the human-facing writers (text, markdown, github)."""

from __future__ import annotations

from gatekeeper.engine.report import GateResult, Report
from gatekeeper.gates.base import Finding, describe_due
from gatekeeper.timeutil import format_second


def strictness_note(report: Report) -> str:
    if report.strict_source == "default_environment":
        strict = "strict" if report.strict else "not strict"
        return f"env {report.env} is not listed in the policy: {strict} (default_environment)"
    source = "--strict" if report.strict else "--no-strict"
    if report.strict_source == "option":
        return f"env {report.env} {'strict' if report.strict else 'not strict'} ({source})"
    return f"env {report.env} {'strict' if report.strict else 'not strict'}"


def provenance_line(report: Report) -> str:
    """One line: version, policy files (short sha256), store, skipped, time and its source."""
    parts = []
    source = report.provenance
    if source is not None:
        files = ", ".join(f"{f.path} sha256:{f.sha256[:12]}" for f in source.policy_files)
        parts += [f"gatekeeper {source.version}", f"policy {files or 'none'}"]
    store = report.store
    if store is not None:
        state = "degraded" if store.degraded else "unavailable" if store.error else "ok"
        if not store.read:
            state = "not read"
        parts.append(
            f"store {store.backend} {store.location} ({state}, {len(store.skipped)} skipped)"
        )
    when = "from --now" if source is not None and source.now_from_option else "clock"
    parts.append(f"now {format_second(report.evaluated_at)} ({when})")
    return "provenance: " + "; ".join(parts)


def partial_note(report: Report) -> str:
    """``partial: not run postmortem_required/checkout, …`` for a ``--gate`` subset."""
    skipped = ", ".join(f"{g}/{s}" for g, s in report.not_run)
    return f"PARTIAL (--gate): not run {skipped}"


def finding_line(finding: Finding) -> str:
    """A finding's message, plus its owner when the message does not name it."""
    if finding.owner and finding.owner not in finding.message:
        return f"{finding.message} (owner {finding.owner})"
    return finding.message


def needs_action(report: Report) -> list[GateResult]:
    """Results that warn or block and have something to act on."""
    return [r for r in report.results if r.decision in ("warn", "block", "error")]


def clear_actions(report: Report) -> list[str]:
    """What would clear the gate: the work to do first, then waiver and override."""
    actions: list[str] = []
    for result in needs_action(report):
        actions.extend(_work_actions(result))
    blocked = [r for r in report.results if r.decision == "block"]
    actions.extend(_waiver_hint(r, report) for r in blocked)
    if blocked:
        actions.append(_break_glass(report))
    return list(dict.fromkeys(actions))


def result_actions(result: GateResult, report: Report) -> list[str]:
    """What would clear this one result (empty for a pass): its work, then waiver and override."""
    if result.decision not in ("warn", "block", "error"):
        return []
    actions = _work_actions(result)
    if result.decision == "block":
        actions += [_waiver_hint(result, report), _break_glass(report)]
    return list(dict.fromkeys(actions))


def totals_line(report: Report) -> str:
    """``4 gates × 3 services: 1 block, 4 warn, 7 pass`` over the gate × service results.

    Errors and gates not run (``--gate``) are added when there are any; when the
    gates' ``services``/``envs`` leave some pairs out, ``(N apply)`` says how many remain.
    """
    gates = dict.fromkeys([r.gate for r in report.results] + [g for g, _ in report.not_run])
    services = len(report.services)
    head = f"{_count(len(gates), 'gate')} × {_count(services, 'service')}"
    evaluated = len(report.results) + len(report.not_run)
    if evaluated != len(gates) * services:
        head += f" ({evaluated} apply)"
    tally = {d: 0 for d in ("block", "error", "warn", "pass")}
    for result in report.results:
        tally[result.decision] += 1
    parts = [f"{n} {d}" for d, n in tally.items() if n or d != "error"]
    if report.not_run:
        parts.append(f"{len(report.not_run)} not run")
    return f"{head}: {', '.join(parts)}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _work_actions(result: GateResult) -> list[str]:
    actions = []
    if result.error is not None:
        actions.append(f"{result.gate}: make the incident store readable ({result.error})")
    actions.extend(_finding_action(result, f) for f in result.findings)
    return actions


def _break_glass(report: Report) -> str:
    services = " ".join(f"--service {s}" for s in report.services)
    return (
        "break glass: gatekeeper --agent AGENT check "
        f'--env {report.env} {services} --override "REASON" '
        "(AGENT needs gate_override; the override is recorded on the incidents)"
    )


def _finding_action(result: GateResult, finding: Finding) -> str:
    owner = f", owner {finding.owner}" if finding.owner else ""
    if finding.kind == "overdue_followup":
        due = describe_due(finding.due) if finding.due else "?"
        return f"close follow-up {finding.followup_id} on {finding.incident_id}{owner} (due {due})"
    if finding.kind == "active_incident":
        return f"resolve {finding.severity} incident {finding.incident_id} (still active)"
    if finding.kind == "missing_postmortem":
        return f"attach a postmortem (postmortem.md) to {finding.incident_id}{owner}"
    if finding.kind == "freeze_window":
        return f"wait for the freeze to lift: {finding.message}"
    return f"{result.gate}: {finding.message}"


def _waiver_hint(result: GateResult, report: Report) -> str:
    return (
        f"or waive {result.gate} for {result.service}: add to waivers.yml "
        f"{{gate: {result.gate}, service: {result.service}, env: {report.env}, reason: ..., "
        "ticket: ..., approved_by: ..., expires_at: ...}"
    )
