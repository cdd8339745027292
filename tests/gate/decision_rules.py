"""The decision rules, checked against a decision module and a report module.

:func:`check_rules` is run against the real modules by ``test_decision_rules.py``
and against every mutant of them by ``test_decision_mutants.py``. The expected
values come from :func:`expected`, written out independently of the engine.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from types import ModuleType
from typing import Any

from gatekeeper.gates.base import Finding
from gatekeeper.gates.followup_watch import FollowupWatchConfig
from gatekeeper.policy.waivers import Waiver
from tests.conftest import NOW

RANK = ["pass", "warn", "error", "block"]  # the overall decision: the most severe
DECISIONS = tuple(RANK)
MODES = ("default", "warn", "block", "shadow")
FINDINGS = {
    "none": [],
    "warn-level": [Finding(kind="risk", message="m", level="warn")],
    "block-level": [Finding(kind="active_incident", message="m", incident_id="inc_x")],
    "mixed": [
        Finding(kind="risk", message="m", level="warn"),
        Finding(kind="active_incident", message="m", incident_id="inc_x"),
    ],
}
PROBLEMS = (None, "on_error", "on_corrupt")
OPTIONS = ("fail_closed", "warn")
WAIVER = Waiver(
    gate="g", service="s", env="e", reason="r", ticket="T-1", approved_by="a",
    expires_at=NOW + timedelta(days=1),
)  # fmt: skip
NARROW = WAIVER.model_copy(update={"incidents": ("inc_other",)})


def worst(*decisions: str) -> str:
    return max(decisions, key=RANK.index)


def expected(
    strict: bool, mode: str, findings: str, problem: str | None, option: str, waiver: str,
    override: bool,
) -> tuple[str, str | None]:  # fmt: skip
    """(decision, shadow_decision) by the rules as the docs state them."""
    found = "pass"
    if findings != "none":
        blocking = findings in ("block-level", "mixed")
        if mode == "warn" or not blocking:
            found = "warn"
        else:
            found = "block" if mode == "block" or strict else "warn"
    failed = "pass"
    if problem is not None:
        if mode == "warn" or option == "warn":
            failed = "warn"
        else:
            failed = "error" if strict or mode == "block" else "warn"
    if mode == "shadow":
        return "pass", worst(found, failed)
    if found == "block" and (waiver == "covering" or override):
        found = "warn"
    return worst(found, failed), None


def check_settle(decision: ModuleType) -> None:
    """Every combination of the table through ``settle``."""
    combos = itertools.product(
        (True, False), MODES, FINDINGS, PROBLEMS, OPTIONS, ("covering", "narrow", "none"),
        (True, False),
    )  # fmt: skip
    for strict, mode, findings, problem, option, waiver, override in combos:
        options: dict[str, Any] = {"mode": mode}
        if problem is not None:
            options[problem] = option
        config = FollowupWatchConfig(**options)
        settled = decision.settle(
            config, FINDINGS[findings], env="e", strict=strict,
            problem=None if problem is None else decision.ReadProblem("broken", rule=problem),
            waiver={"covering": WAIVER, "narrow": NARROW, "none": None}[waiver],
            override=override,
        )  # fmt: skip
        want, shadow = expected(strict, mode, findings, problem, option, waiver, override)
        case = (strict, mode, findings, problem, option, waiver, override)
        assert (settled.decision, settled.shadow_decision) == (want, shadow), case
        softened = mode not in ("shadow", "warn") and findings in ("block-level", "mixed")
        softened = softened and (mode == "block" or strict)
        assert settled.waiver_applied == (softened and waiver == "covering"), case
        assert settled.override_applied == (softened and override and waiver != "covering"), case


def check_ranking(report: ModuleType) -> None:
    """The run's decision and exit code from every ordered mix of results."""
    for size in range(4):
        for decisions in itertools.product(DECISIONS, repeat=size):
            results = tuple(
                report.GateResult(
                    gate=f"g{i}",
                    type="t",
                    service="s",
                    mode="default",
                    strict=True,
                    decision=d,
                    reason="r",
                )  # fmt: skip
                for i, d in enumerate(decisions)
            )
            want = worst("pass", *decisions)
            for fail_on_warn, output_error in itertools.product((False, True), repeat=2):
                run = report.Report(
                    env="e", env_listed=True, strict=True, strict_source="policy",
                    services=("s",), evaluated_at=NOW, results=results,
                    fail_on_warn=fail_on_warn,
                    output_errors=("cannot write",) if output_error else (),
                )  # fmt: skip
                assert run.decision == want, decisions
                code = {"pass": 0, "warn": 1 if fail_on_warn else 0, "error": 3, "block": 1}[want]
                if code == 0 and output_error:
                    code = 2
                assert run.exit_code == code, (decisions, fail_on_warn, output_error)
    assert report.most_severe([]) == "pass"


def check_rules(decision: ModuleType, report: ModuleType) -> None:
    check_ranking(report)
    check_settle(decision)
