"""Follow-ups at the CLI: default due from the SLA, completion, and overdue follow-ups
of closed incidents in ``incident followups``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli.conftest import Gatekeeper, one_error
from tests.conftest import CliRun, Seeded


def ok_json(result: Any) -> Any:
    assert result.exit_code == 0, result
    return json.loads(result.stdout)


def add(gk: Gatekeeper, seeded: Seeded, *args: str) -> Any:
    base = ["incident", "followup", "add", seeded.incident_id, "--title", "Add canary"]
    return gk(*base, "--owner", "bo", *args, "--format", "json", agent="helion")


def test_add_defaults_due_from_the_sla(gk: Gatekeeper, seeded: Seeded) -> None:
    followup = ok_json(add(gk, seeded, "--priority", "P1", "--ticket", "OPS-7"))
    # --now is 2026-03-02T12:00:00Z; P1's shipped SLA is 7 days.
    assert (followup["due"], followup["priority"], followup["status"], followup["ticket"]) == (
        "2026-03-09T12:00:00Z",
        "P1",
        "open",
        "OPS-7",
    )


def test_add_with_a_due_date_and_bad_due(gk: Gatekeeper, seeded: Seeded) -> None:
    assert ok_json(add(gk, seeded, "--due", "2026-03-05"))["due"] == "2026-03-05T23:59:59.999999Z"
    message = one_error(add(gk, seeded, "--due", "2026-03-05T10:00:00"))
    assert message == (
        "2026-03-05T10:00:00 has no time zone; write it in UTC with a trailing Z "
        "(e.g. 2026-02-23T10:00:00Z) (--due)"
    )


def test_update_to_done_sets_completed_at(gk: Gatekeeper, seeded: Seeded) -> None:
    args = ["incident", "followup", "update", seeded.incident_id, seeded.followup_id]
    done = ok_json(gk(*args, "--status", "done", "--format", "json", agent="helion"))
    assert (done["status"], done["completed_at"]) == ("done", "2026-03-02T12:00:00Z")
    text = gk(*args, "--owner", "cy", "--now", "2026-03-03T08:00:00Z", agent="helion")
    assert text.exit_code == 0
    assert text.stdout.startswith(f"{seeded.followup_id}  P2  done         owner cy  ")


def test_update_errors(gk: Gatekeeper, seeded: Seeded) -> None:
    args = ["incident", "followup", "update", seeded.incident_id]
    nothing = one_error(gk(*args, seeded.followup_id, agent="helion"))
    assert nothing == (
        "nothing to update: give --status, --due, --owner, --title, --priority or --ticket"
    )
    missing = one_error(gk(*args, "fu_missing1", "--status", "done", agent="helion"))
    assert missing == f"no such follow-up ({seeded.incident_id}/fu_missing1)"


def test_overdue_after_closure_is_in_the_summary(gk: Gatekeeper, seeded: Seeded) -> None:
    ok_json(add(gk, seeded, "--due", "2026-03-03", "--priority", "P1"))
    closed = gk("incident", "update", seeded.incident_id, "--status", "closed", agent="helion")
    assert closed.exit_code == 0
    args = ["incident", "followups", "--service", "gateway", "--env", "prod"]
    summary = ok_json(gk(*args, "--now", "2026-03-06T12:00:00Z", "--format", "json"))
    # The seeded follow-up (P2, due 2026-03-09) is open but not yet late.
    assert summary["counts"] == {"active_incidents": 0, "open_followups": 2, "overdue_followups": 1}
    overdue = [(o["title"], o["owner"], o["days_overdue"]) for o in summary["overdue_followups"]]
    assert overdue == [("Add canary", "bo", 3)]  # due end of 2026-03-03: 2.5 days, rounded up


def test_summary_text(gk: Gatekeeper, seeded: Seeded) -> None:
    args = ["incident", "followups", "--service", "gateway", "--env", "prod", "--window-days", "7"]
    result = gk(*args, "--now", "2026-03-10T12:00:00Z")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "gateway/prod: follow-ups over the last 7 days (at 2026-03-10T12:00:00Z)",
        "active incidents: 1 (P0 0, P1 1, P2 0, P3 0, P4 0)",
        f"  {seeded.incident_id}  P1  open       gateway/prod              "
        "2026-02-23T10:00:00Z  Gateway 5xx rate >5%",
        "open follow-ups: 1",
        f"  {seeded.followup_id}  {seeded.incident_id}  P2  open         owner ana           "
        "due 2026-03-09T10:05:00Z  Alert on 5xx ratio",
        "overdue follow-ups: 1",
        f"  {seeded.followup_id}  {seeded.incident_id}  owner ana           "
        "2 days overdue (due 2026-03-09T10:05:00Z)  Alert on 5xx ratio",
    ]


def test_summary_bad_options(gk: Gatekeeper) -> None:
    args = ["incident", "followups", "--service", "Gate Way", "--env", "prod"]
    assert one_error(gk(*args)) == "service: 'Gate Way' must match ^[a-z0-9][a-z0-9._-]{0,62}$"
    zero = one_error(gk(*args[:3], "gateway", "--env", "prod", "--window-days", "0"))
    assert zero == "window_days: Input should be greater than or equal to 1"  # as the tool says


def test_due_default_follows_the_policy_sla(
    run_cli: CliRun, seeded: Seeded, tmp_path: Path
) -> None:
    policy = tmp_path / "policy"
    policy.mkdir()
    (policy / "gates.yml").write_text("version: 1\nfollowup_sla_days: {P1: 2}\n")
    args = ["--store-dir", str(seeded.store_dir), "--policy", str(policy), "--agent", "helion"]
    add = ["incident", "followup", "add", seeded.incident_id, "--title", "t", "--owner", "o"]
    result = run_cli(*args, *add, "--priority", "P1", "--now", "2026-03-02T12:00:00Z")
    assert result.exit_code == 0, result
    assert "due 2026-03-04T12:00:00Z" in result.stdout


def test_added_and_closed_at_the_same_now_folds_in_write_order(
    gk: Gatekeeper, seeded: Seeded
) -> None:
    # With a fixed --now every event shares ts and recorded_at; only the
    # time-ordered event ids keep "added" before "done".
    for _ in range(5):
        followup = ok_json(add(gk, seeded))
        args = ["incident", "followup", "update", seeded.incident_id, followup["followup_id"]]
        assert gk(*args, "--status", "done", agent="helion").exit_code == 0
    details = ok_json(gk("incident", "get", seeded.incident_id, "--format", "json"))
    statuses = [f["status"] for f in details["followups"] if f["owner"] == "bo"]
    assert statuses == ["done"] * 5
