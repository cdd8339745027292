"""Recurrence: the title normaliser on a table of pairs, and groups worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gatekeeper.intelligence.recurrence import find_recurrence
from gatekeeper.intelligence.signature import normalise_title, signature, title_tokens
from gatekeeper.store.base import IncidentStore
from tests.conftest import CliRun
from tests.intelligence.factories import StoreBuilder, at

NOW = at("2026-03-02T12:00:00Z")

# (first title, second title, the normalised form of the first, same signature?)
PAIRS = [
    # case and whitespace
    ("Disk  full   on primary", "disk full on PRIMARY", "disk full on primary", True),
    # numbers, with thousands separators
    (
        "Queue backlog over 5000 messages",
        "Queue backlog over 12,000 messages",
        "queue backlog over <n> messages",
        True,
    ),
    (
        "Checkout 5xx rate above 5%",
        "CHECKOUT 5XX RATE ABOVE 7%",
        "checkout <n>xx rate above <n>%",
        True,
    ),
    # hex ids, with and without 0x
    (
        "Commit 3f2a9bc failed to deploy",
        "Commit deadbeef1 failed to deploy",
        "commit <hex> failed to deploy",
        True,
    ),
    ("Job 0x1f3a crashed", "Job 0xdead42 crashed", "job <hex> crashed", True),
    # UUIDs
    (
        "Order 123e4567-e89b-12d3-a456-426614174000 stuck",
        "Order 9b2c1d3e-0f4a-4b5c-8d6e-7f8091a2b3c4 stuck",
        "order <uuid> stuck",
        True,
    ),
    # IPv4 with a port, IPv6
    (
        "Timeout connecting to 10.0.3.17:5432",
        "Timeout connecting to 192.168.1.2",
        "timeout connecting to <ip>",
        True,
    ),
    (
        "Packet loss to 2001:db8::1",
        "Packet loss to fe80::1ff:fe23:4567:890a",
        "packet loss to <ip>",
        True,
    ),
    # Kubernetes: deployment pods (replica-set hash + suffix), stateful-set ordinals
    (
        "Pod api-7d9f8b6c5d-x2k9p OOMKilled",
        "Pod api-5c4b3a2f1e-q8w7z OOMKilled",
        "pod api-<pod> oomkilled",
        True,
    ),
    ("Pod worker-0 restarting", "Pod worker-3 restarting", "pod worker-<n> restarting", True),
    # e-mails
    (
        "Mail to alice@example.com bounced",
        "Mail to bob.smith+ops@corp.example.org bounced",
        "mail to <email> bounced",
        True,
    ),
    # URLs
    (
        "GET https://api.example.com/v1/orders/42 returned 502",
        "GET http://10.1.1.1/health returned 503",
        "get <url> returned <n>",
        True,
    ),
    # quoted strings, any quotes
    (
        'Flag "new-checkout" evaluation failed',
        "Flag 'dark-mode' evaluation failed",
        "flag <str> evaluation failed",
        True,
    ),
    # durations in any unit
    (
        "Payments timeout after 30s",
        "Payments timeout after 2m",
        "payments timeout after <duration>",
        True,
    ),
    ("Latency p99 above 900ms", "Latency p99 above 1.5s", "latency p<n> above <duration>", True),
    # different problems stay apart
    ("Disk full on primary", "Disk full on replica", "disk full on primary", False),
    (
        "Checkout 5xx rate above 5%",
        "Checkout latency above 5%",
        "checkout <n>xx rate above <n>%",
        False,
    ),
    (
        "Pod api-7d9f8b6c5d-x2k9p OOMKilled",
        "Pod web-7d9f8b6c5d-x2k9p OOMKilled",
        "pod api-<pod> oomkilled",
        False,
    ),
    (
        "Timeout connecting to 10.0.3.17",
        "Refused connecting to 10.0.3.17",
        "timeout connecting to <ip>",
        False,
    ),
    (
        "Certificate expires in 3 days",
        "Certificate expired 3 days ago",
        "certificate expires in <duration>",
        False,
    ),
]


@pytest.mark.parametrize(("first", "second", "normalised", "same"), PAIRS)
def test_normalisation_table(first: str, second: str, normalised: str, same: bool) -> None:
    assert normalise_title(first) == normalised
    assert (signature("checkout", first) == signature("checkout", second)) is same


def test_the_table_covers_every_rule() -> None:
    placeholders = {"<n>", "<hex>", "<uuid>", "<ip>", "<pod>", "<email>", "<url>", "<str>"}
    placeholders.add("<duration>")
    seen = {p for _, _, normalised, _ in PAIRS for p in placeholders if p in normalised}
    assert seen == placeholders and len(PAIRS) >= 16
    assert sum(1 for *_, same in PAIRS if not same) >= 5


def test_the_service_is_part_of_the_signature() -> None:
    assert signature("checkout", "Disk full") != signature("search", "Disk full")
    assert signature("checkout", "Disk full") == "checkout: disk full"


def test_title_tokens_keep_placeholders_whole() -> None:
    assert title_tokens("Latency p99 above 900ms") == frozenset(
        {"latency", "p", "<n>", "above", "<duration>"}
    )


def recurring_store() -> StoreBuilder:
    b = StoreBuilder()
    first = b.incident("2026-02-05T10:00:00Z", suffix="rec001", title="Payments timeout after 30s")
    b.followup(first, "fu_r1", title="Raise the pool size", owner="bob", due="2026-02-10")
    b.followup(first, "fu_r2", title="Add a dashboard", owner="ana", due="2026-02-10")
    b.update_followup(first, "fu_r2", 86400, status="done")  # done before it came back
    b.incident("2026-02-12T10:00:00Z", suffix="rec002", title="Payments timeout after 2m")
    b.incident("2026-02-20T10:00:00Z", suffix="rec003", title="PAYMENTS timeout after 45s")
    b.incident("2026-02-21T10:00:00Z", suffix="pair01", title="Disk full on primary")
    b.incident("2026-02-22T10:00:00Z", suffix="pair02", title="disk full on  primary")
    b.incident("2026-02-23T10:00:00Z", suffix="single", title="Certificate expires in 3 days")
    b.incident(
        "2026-02-24T10:00:00Z", suffix="search", service="search", title="Disk full on primary"
    )
    b.incident("2026-01-01T10:00:00Z", suffix="oldone", title="Payments timeout after 1m")
    return b


def test_groups_by_hand(backend_store: IncidentStore) -> None:
    recurring_store().write_to(backend_store)
    report = find_recurrence(backend_store, now=NOW, window_days=30).to_json()
    groups = [(g["signature"], g["count"], g["recurring"]) for g in report["groups"]]
    assert groups == [
        ("checkout: payments timeout after <duration>", 3, True),
        ("checkout: disk full on primary", 2, False),
    ]
    payments = report["groups"][0]
    assert payments["incidents"] == [
        "inc_20260205_1000_rec001",
        "inc_20260212_1000_rec002",
        "inc_20260220_1000_rec003",
    ]
    # 3 of checkout's 6 incidents in the window: frequent (>= 20%).
    assert payments["share"] == 0.5 and payments["frequency"] == "frequent"
    assert [(u["followup_id"], u["came_back_in"]) for u in payments["undone_followups"]] == [
        ("fu_r1", "inc_20260212_1000_rec002")
    ]
    only = find_recurrence(backend_store, now=NOW, window_days=30, service="search").to_json()
    assert only["groups"] == []


def test_cli_json_is_the_report(run_cli: CliRun, tmp_path: Path) -> None:
    store = recurring_store().build(tmp_path / "store")
    result = run_cli(
        "--store-dir", str(tmp_path / "store"), "--policy", str(tmp_path / "none"),
        "recurrence", "--window-days", "30", "--format", "json", "--now", "2026-03-02T12:00:00Z",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == find_recurrence(store, now=NOW, window_days=30).to_json()
