"""The decision rules, pinned: block > error > warn > pass; nothing softens an error."""

from __future__ import annotations

from gatekeeper.engine import decision, report
from gatekeeper.engine.report import GateResult, Report
from gatekeeper.gates.followup_watch import FollowupWatchConfig
from tests.conftest import NOW
from tests.gate.decision_rules import FINDINGS, WAIVER, check_ranking, check_settle


def _report(*decisions: str) -> Report:
    results = tuple(
        GateResult(
            gate=f"g{i}",
            type="t",
            service="s",
            mode="default",
            strict=True,
            decision=d,  # type: ignore[arg-type]
            reason="r",
        )  # fmt: skip
        for i, d in enumerate(decisions)
    )
    return Report(
        env="e", env_listed=True, strict=True, strict_source="policy", services=("s",),
        evaluated_at=NOW, results=results,
    )  # fmt: skip


def test_block_outranks_error_exit_1_with_both() -> None:
    for order in (("block", "error"), ("error", "block")):
        assert (_report(*order).decision, _report(*order).exit_code) == ("block", 1)


def test_error_outranks_warn() -> None:
    assert (_report("warn", "error").decision, _report("error", "warn").exit_code) == ("error", 3)


def test_waiver_and_override_never_soften_an_error() -> None:
    problem = decision.ReadProblem("store down")
    for kwargs in ({"waiver": WAIVER}, {"override": True}, {"waiver": WAIVER, "override": True}):
        settled = decision.settle(
            FollowupWatchConfig(), FINDINGS["block-level"], env="e", strict=True,
            problem=problem, **kwargs,
        )  # fmt: skip
        assert settled.decision == "error"


def test_nothing_becomes_pass_but_shadow_mode() -> None:
    for mode in ("default", "warn", "block"):
        settled = decision.settle(
            FollowupWatchConfig(mode=mode), FINDINGS["block-level"], env="e", strict=False,
            waiver=WAIVER, override=True,
        )  # fmt: skip
        assert settled.decision != "pass"


def test_every_combination_of_the_table() -> None:
    check_settle(decision)


def test_every_ordered_mix_of_results() -> None:
    check_ranking(report)
