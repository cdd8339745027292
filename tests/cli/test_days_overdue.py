"""One rule for "N days overdue": the gate, the summary, the digest and the tool agree.

Every started day past due counts (``gatekeeper.followups.days_overdue``): due
yesterday 23:00 and checked today 01:00 is 1 day overdue; a date-only due is the
calendar days since that day.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gatekeeper.followups import days_overdue
from gatekeeper.models import FollowUp
from tests.cli.conftest import Gatekeeper
from tests.conftest import Seeded

# (due as given, --now, days overdue)
CASES = [
    ("2026-03-01T23:00:00Z", "2026-03-02T01:00:00Z", 1),  # two hours late: 1 day, not 0
    ("2026-03-01T23:00:00Z", "2026-03-02T23:00:00Z", 1),  # exactly one day late
    ("2026-03-01T23:00:00Z", "2026-03-02T23:00:01Z", 2),  # into the second day
    ("2026-02-25", "2026-03-02T12:00:00Z", 5),  # due by the end of Feb 25: Feb 26 … Mar 2
    ("2026-02-25", "2026-02-26T00:00:00Z", 1),
]


def json_of(result: Any) -> Any:
    assert result.exit_code in (0, 1), result
    return json.loads(result.stdout)


@pytest.mark.parametrize(("due", "now", "days"), CASES)
def test_gate_summary_digest_and_tool_agree(
    gk: Gatekeeper, seeded: Seeded, due: str, now: str, days: int
) -> None:
    added = gk(
        "incident", "followup", "add", seeded.incident_id, "--title", "late", "--owner", "ana",
        "--due", due, "--format", "json", "--now", "2026-02-24T00:00:00Z", agent="helion",
    )  # fmt: skip
    followup_id = json_of(added)["followup_id"]

    gate = json_of(
        gk("--now", now, "check", "--env", "prod", "--service", "gateway", "--gate",
           "followup_watch", "--format", "json")
    )  # fmt: skip
    (finding,) = [
        f for r in gate["results"] for f in r["findings"] if f.get("followup_id") == followup_id
    ]
    match = re.search(r", (\d+) days? overdue$", finding["message"])
    assert match, finding["message"]
    gate_days = int(match.group(1))

    summary = json_of(
        gk("--now", now, "incident", "followups", "--service", "gateway", "--env", "prod",
           "--format", "json")
    )  # fmt: skip
    (in_summary,) = [o for o in summary["overdue_followups"] if o["followup_id"] == followup_id]

    request = {"action": "incident_followups_summary", "service": "gateway", "env": "prod"}
    tool = json_of(gk("--now", now, "tool", input=json.dumps(request)))["result"]
    (in_tool,) = [o for o in tool["overdue_followups"] if o["followup_id"] == followup_id]

    digest = json_of(gk("--now", now, "digest", "weekly", "--week", "2026-W09", "--format", "json"))
    (in_digest,) = [o for o in digest["overdue_followups"] if o["followup_id"] == followup_id]

    assert (gate_days, in_summary["days_overdue"], in_tool["days_overdue"],
            in_digest["days_overdue"]) == (days, days, days, days)  # fmt: skip


def test_days_overdue_is_zero_unless_overdue() -> None:
    at = datetime(2026, 3, 2, 12, tzinfo=UTC)
    followup = FollowUp(
        followup_id="fu_1", incident_id="inc_20260301_0900_abc123", title="t", owner="o",
        due=at, priority="P2", status="open", created_at=at, updated_at=at,
    )  # fmt: skip
    assert days_overdue(followup, at) == 0
    assert days_overdue(followup, at - timedelta(days=3)) == 0
    assert days_overdue(followup, at + timedelta(microseconds=1)) == 1
    done = followup.model_copy(update={"status": "done"})
    assert days_overdue(done, at + timedelta(days=9)) == 0
