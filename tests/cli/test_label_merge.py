"""Labels merge on update: set keys, remove keys, or replace them all on request.

``incident update --label k=v`` sets, ``--label k=`` removes, ``--replace-labels``
replaces; the tool's ``labels`` (null removes) and ``replace_labels`` likewise.
Updates are patches applied under the store's lock, so concurrent label edits
from many writers compose instead of undoing each other.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from gatekeeper.incidents import IncidentService
from gatekeeper.inputs import IncidentChanges, NewIncident
from gatekeeper.rbac import DEFAULT_RBAC
from gatekeeper.store import IncidentStore
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.store.postgres import PostgresIncidentStore
from tests.cli.conftest import Gatekeeper, one_error
from tests.conftest import NOW, Seeded
from tests.store.conftest import migrated_pg_url, pg_schema, pg_server, pg_url  # noqa: F401


def labels_after(gk: Gatekeeper, seeded: Seeded, *args: str) -> dict[str, str]:
    result = gk("incident", "update", seeded.incident_id, *args, "--format", "json", agent="helion")
    assert result.exit_code == 0, result
    labels: dict[str, str] = json.loads(result.stdout)["labels"]
    return labels


def tool_labels(gk: Gatekeeper, seeded: Seeded, **params: Any) -> dict[str, str]:
    request = {
        "action": "incident_update",
        "agent_id": "helion",
        "params": {"incident_id": seeded.incident_id, **params},
    }
    answer = json.loads(gk("tool", input=json.dumps(request)).stdout)
    assert answer["ok"] is True, answer
    labels: dict[str, str] = answer["result"]["labels"]
    return labels


def test_cli_labels_merge_remove_and_replace(gk: Gatekeeper, seeded: Seeded) -> None:
    assert labels_after(gk, seeded, "--label", "owner=bob") == {"owner": "bob"}
    # The bug this closes: setting team used to drop owner.
    assert labels_after(gk, seeded, "--label", "team=payments") == {
        "owner": "bob",
        "team": "payments",
    }
    assert labels_after(gk, seeded, "--label", "owner=", "--label", "tier=1") == {
        "team": "payments",
        "tier": "1",
    }
    assert labels_after(gk, seeded, "--label", "absent=") == {"team": "payments", "tier": "1"}
    assert labels_after(gk, seeded, "--replace-labels", "--label", "only=this") == {"only": "this"}
    assert labels_after(gk, seeded, "--replace-labels") == {}


def test_tool_labels_merge_null_removes_and_replace_labels(gk: Gatekeeper, seeded: Seeded) -> None:
    assert tool_labels(gk, seeded, labels={"owner": "bob"}) == {"owner": "bob"}
    assert tool_labels(gk, seeded, labels={"team": "payments"}) == {
        "owner": "bob",
        "team": "payments",
    }
    assert tool_labels(gk, seeded, labels={"owner": None}) == {"team": "payments"}
    assert tool_labels(gk, seeded, labels={"x": "1"}, replace_labels=True) == {"x": "1"}
    assert tool_labels(gk, seeded, labels={}, replace_labels=True) == {}
    # A status change alone leaves labels alone.
    tool_labels(gk, seeded, labels={"keep": "me"})
    assert tool_labels(gk, seeded, status="mitigated") == {"keep": "me"}


def test_cli_and_tool_refuse_the_same_bad_label(gk: Gatekeeper, seeded: Seeded) -> None:
    long_key = "k" * 101
    cli = one_error(gk("incident", "update", seeded.incident_id, "--label", f"{long_key}=v",
                       agent="helion"))  # fmt: skip
    request = {
        "action": "incident_update",
        "agent_id": "helion",
        "params": {"incident_id": seeded.incident_id, "labels": {long_key: "v"}},
    }
    answer = json.loads(gk("tool", input=json.dumps(request)).stdout)
    assert answer["error"]["message"] == f"params.{cli}"
    assert cli.startswith(f"labels.{long_key}.[key]: must be 1-100 characters")


def edit_labels_concurrently(stores: list[IncidentStore], artifacts: Path) -> dict[str, str]:
    first = IncidentService(store=stores[0], rbac=DEFAULT_RBAC, artifacts_dir=artifacts,
                            agent="helion")  # fmt: skip
    created = first.create(
        NewIncident(service="api", env="prod", severity="P2", title="t", labels={"gone": "x"}),
        now=NOW,
    )
    barrier = threading.Barrier(len(stores))
    failures: list[BaseException] = []

    def edit(index: int, store: IncidentStore) -> None:
        service = IncidentService(store=store, rbac=DEFAULT_RBAC, artifacts_dir=artifacts,
                                  agent="helion")  # fmt: skip
        labels: dict[str, str | None] = {f"k{index}": str(index)}
        if index == 0:
            labels["gone"] = None
        try:
            barrier.wait()
            service.update(created.id, IncidentChanges(labels=labels), now=NOW)
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=edit, args=(i, s)) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    return first.store.get_incident(created.id).labels


def test_concurrent_label_edits_compose_on_jsonl(store_dir: Path) -> None:
    stores: list[IncidentStore] = [JsonlIncidentStore(store_dir) for _ in range(6)]
    labels = edit_labels_concurrently(stores, store_dir)
    assert labels == {f"k{i}": str(i) for i in range(6)}


def test_concurrent_label_edits_compose_on_postgres(
    migrated_pg_url: str,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    stores: list[IncidentStore] = [PostgresIncidentStore.open(migrated_pg_url) for _ in range(6)]
    try:
        labels = edit_labels_concurrently(stores, tmp_path)
    finally:
        for store in stores:
            store.close()
    assert labels == {f"k{i}": str(i) for i in range(6)}
