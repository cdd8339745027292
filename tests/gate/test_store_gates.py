"""followup_watch and postmortem_required against real JSONL stores, through the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.store.jsonl import JsonlIncidentStore
from tests.conftest import NOW
from tests.gate import factories
from tests.gate.conftest import CheckRun, PolicyWriter

POLICY = """\
version: 1
environments: {prod: {strict: true}, dev: {strict: false}}
gates:
  followup_watch: {type: followup_watch, severities: [P0, P1], window_days: 30}
  postmortem_required: {type: postmortem_required, severities: [P0, P1], grace_days: 5}
"""


def run_json(check: CheckRun, *args: str) -> tuple[int, dict[str, Any]]:
    result = check(*args, "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def findings(report: dict[str, Any], gate: str, service: str = "checkout") -> list[dict[str, Any]]:
    (result,) = [r for r in report["results"] if r["gate"] == gate and r["service"] == service]
    return list(result["findings"])


def test_active_incidents_of_listed_severities_only(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    write_policy(POLICY)
    p1 = factories.incident(severity="P1")
    factories.write(
        store_dir,
        [
            p1,
            factories.incident(severity="P2"),
            factories.incident(severity="P0", status="mitigated", service="search"),
            factories.incident(severity="P0", env="dev"),
            factories.incident(severity="P0", status="resolved"),
        ],
    )
    code, report = run_json(
        check, "--env", "prod", "--service", "checkout", "--gate", "followup_watch"
    )
    assert code == 1
    assert [
        (f["kind"], f["incident_id"], f["severity"], f["owner"])
        for f in findings(report, "followup_watch")
    ] == [("active_incident", p1.id, "P1", "alice")]


def test_overdue_followups_count_whatever_the_incident_status(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    write_policy(POLICY)
    closed = factories.incident(severity="P3", status="closed", started_at=NOW - timedelta(days=20))
    old = factories.incident(severity="P3", status="closed", started_at=NOW - timedelta(days=40))
    active_old = factories.incident(
        severity="P3", status="open", started_at=NOW - timedelta(days=90)
    )
    factories.write(
        store_dir,
        [closed, old, active_old],
        [
            factories.followup(closed, followup_id="fu_overdue1", due="2026-02-20"),
            factories.followup(closed, followup_id="fu_notdue01", due="2026-03-10"),
            factories.followup(closed, followup_id="fu_done0001", status="done"),
            factories.followup(old, followup_id="fu_outside1", due="2026-01-01"),
            factories.followup(
                active_old, followup_id="fu_activeol", due="2026-01-01", status="in_progress"
            ),
        ],
    )
    code, report = run_json(
        check, "--env", "prod", "--service", "checkout", "--gate", "followup_watch"
    )
    found = findings(report, "followup_watch")
    assert code == 1
    assert [(f["followup_id"], f["owner"], f["due"]) for f in found] == [
        ("fu_activeol", "bob", "2026-01-01T23:59:59.999999Z"),
        ("fu_overdue1", "bob", "2026-02-20T23:59:59.999999Z"),
    ]
    # Due by the end of 2026-02-20, checked 2026-03-02: the 10th day past due (days_overdue).
    assert "10 days overdue" in found[1]["message"]


def test_a_later_followup_event_closes_it(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    write_policy(POLICY)
    inc = factories.incident(severity="P3", status="resolved")
    opened = factories.followup(inc, followup_id="fu_closed01")
    done = factories.followup(
        inc, followup_id="fu_closed01", status="done", ts=NOW - timedelta(hours=1)
    )
    factories.write(store_dir, [inc], [opened, done])
    code, report = run_json(
        check, "--env", "prod", "--service", "checkout", "--gate", "followup_watch"
    )
    assert (code, findings(report, "followup_watch")) == (0, [])


def test_postmortem_required_after_grace_days(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    write_policy(POLICY)
    start = NOW - timedelta(days=10)
    missing = factories.incident(status="resolved", started_at=start)  # resolved 9 days ago
    has_one = factories.incident(status="closed", started_at=start)
    draft_only = factories.incident(status="resolved", started_at=start)
    in_grace = factories.incident(status="resolved", started_at=NOW - timedelta(days=3))
    minor = factories.incident(status="resolved", started_at=start, severity="P3")
    factories.write(
        store_dir,
        [missing, has_one, draft_only, in_grace, minor],
        artifacts=[
            factories.artifact(has_one, "postmortem-2026-02.md"),
            factories.artifact(draft_only, "postmortem_draft.md"),
        ],
    )
    code, report = run_json(check, "--env", "prod", "--service", "checkout")
    found = findings(report, "postmortem_required")
    assert code == 1
    assert [f["incident_id"] for f in found] == [missing.id, draft_only.id]
    assert found[0]["due"] == "2026-02-26T12:00:00Z"


def test_several_services_one_run(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    write_policy(POLICY)
    factories.write(store_dir, [factories.incident(service="payments")])
    code, report = run_json(
        check,
        "--env",
        "prod",
        "--service",
        "checkout",
        "--service",
        "payments",
        "--service",
        "checkout",
    )
    assert code == 1
    assert report["services"] == ["checkout", "payments"]
    assert [(r["service"], r["gate"], r["decision"]) for r in report["results"]] == [
        ("checkout", "followup_watch", "pass"),
        ("checkout", "postmortem_required", "pass"),
        ("payments", "followup_watch", "block"),
        ("payments", "postmortem_required", "pass"),
    ]


def test_gate_subset_and_unknown_gate(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    write_policy(POLICY)
    JsonlIncidentStore(store_dir).init(datetime(2026, 1, 1, tzinfo=UTC))  # an empty store
    code, report = run_json(
        check, "--env", "prod", "--service", "x", "--gate", "postmortem_required"
    )
    assert (code, [r["gate"] for r in report["results"]]) == (0, ["postmortem_required"])
    result = check("--env", "prod", "--service", "x", "--gate", "nope")
    assert result.exit_code == 2
    assert result.stderr == (
        "gatekeeper: error: unknown gate 'nope'; the policy has: followup_watch, "
        "postmortem_required (--gate)\n"
    )


def test_services_and_envs_globs_select_gates(check: CheckRun, write_policy: PolicyWriter) -> None:
    write_policy(
        "version: 1\nenvironments: {staging: {strict: true}}\ngates:\n"
        "  pay: {type: followup_watch, services: ['pay*']}\n"
        "  prod_only: {type: followup_watch, envs: [prod, 'stag?ng']}\n"
    )
    _, report = run_json(check, "--env", "staging", "--service", "payments", "--service", "web")
    assert [(r["gate"], r["service"]) for r in report["results"]] == [
        ("pay", "payments"),
        ("prod_only", "payments"),
        ("prod_only", "web"),
    ]


def test_bad_names_are_usage_errors(check: CheckRun, write_policy: PolicyWriter) -> None:
    write_policy(POLICY)
    result = check("--env", "Prod", "--service", "checkout")
    assert result.exit_code == 2
    assert "(--env)" in result.stderr


def test_unreadable_store_fails_closed_in_strict_envs(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    write_policy(POLICY.replace("grace_days: 5}", "grace_days: 5, on_error: warn}"))
    store_dir.rmdir()  # the JSONL backend reports a missing directory as unavailable
    code, report = run_json(check, "--env", "prod", "--service", "checkout")
    assert (code, report["decision"]) == (3, "error")
    by_gate = {r["gate"]: r for r in report["results"]}
    assert by_gate["followup_watch"]["decision"] == "error"
    assert "store directory does not exist" in by_gate["followup_watch"]["error"]
    assert by_gate["postmortem_required"]["decision"] == "warn"
    code, report = run_json(check, "--env", "dev", "--service", "checkout")
    assert (code, report["decision"]) == (0, "warn")
    text = check("--env", "prod", "--service", "checkout")
    assert text.stdout.startswith("gatekeeper: ERROR (exit 3)")


def test_override_records_one_event_per_incident(
    check: CheckRun, write_policy: PolicyWriter, store_dir: Path
) -> None:
    write_policy(POLICY)
    active = factories.incident()
    resolved = factories.incident(status="resolved", started_at=NOW - timedelta(days=10))
    factories.write(
        store_dir, [active, resolved], [factories.followup(active, followup_id="fu_overdue1")]
    )
    result = check(
        "--env", "prod", "--service", "checkout", "--override", "sev1 fix", agent="helion"
    )  # fmt: skip
    assert result.exit_code == 0, result
    assert "OVERRIDE by helion: sev1 fix" in result.stdout
    events = {e.incident_id: e for e in factories.events_of_type(store_dir, "gate_override")}
    assert set(events) == {active.id, resolved.id}
    assert events[active.id].meta == {
        "reason": "sev1 fix",
        "agent": "helion",
        "gates": ["followup_watch"],
        "replaced_decision": "block",
        "no_strict": False,
        "env": "prod",
        "services": ["checkout"],
    }
    assert events[resolved.id].meta["gates"] == ["postmortem_required"]
    assert events[active.id].actor == "helion"


# followup_priorities (configured) x the overdue follow-up's priority -> decision in prod
FOLLOWUP_PRIORITY_TABLE = [
    (None, "P0", "block"),
    (None, "P3", "block"),  # default: every priority counts
    ("[P0, P1]", "P0", "block"),
    ("[P0, P1]", "P1", "block"),
    ("[P0, P1]", "P2", "pass"),
    ("[P0, P1]", "P3", "pass"),
    ("[P3]", "P3", "block"),
    ("[P3]", "P0", "pass"),
]


@pytest.mark.parametrize(("configured", "priority", "decision"), FOLLOWUP_PRIORITY_TABLE)
def test_followup_priorities_choose_which_overdue_followups_count(
    check: CheckRun,
    write_policy: PolicyWriter,
    store_dir: Path,
    configured: str | None,
    priority: str,
    decision: str,
) -> None:
    option = "" if configured is None else f", followup_priorities: {configured}"
    write_policy(
        "version: 1\nenvironments: {prod: {strict: true}}\n"
        f"gates:\n  followup_watch: {{type: followup_watch{option}}}\n"
    )
    inc = factories.incident(severity="P3", status="closed", started_at=NOW - timedelta(days=5))
    overdue = factories.followup(
        inc, followup_id="fu_prio0001", due="2026-02-20", priority=priority
    )
    factories.write(store_dir, [inc], [overdue])
    code, report = run_json(check, "--env", "prod", "--service", "checkout")
    (result,) = report["results"]
    assert (result["decision"], code) == (decision, 1 if decision == "block" else 0)
    ids = [f["followup_id"] for f in result["findings"]]
    assert ids == (["fu_prio0001"] if decision == "block" else [])


@pytest.mark.parametrize("bad", ["[]", "[P4]", "P1", "[p1]"])
def test_bad_followup_priorities_name_the_field(
    check: CheckRun, write_policy: PolicyWriter, policy_dir: Path, bad: str
) -> None:
    write_policy(
        "version: 1\nenvironments: {prod: {strict: true}}\ngates:\n  followup_watch:\n"
        f"    type: followup_watch\n    followup_priorities: {bad}\n"
    )
    result = check("--env", "prod", "--service", "checkout")
    assert result.exit_code == 2
    assert (
        f"{policy_dir / 'gates.yml'}:6, gates.followup_watch.followup_priorities" in result.stderr
    )
