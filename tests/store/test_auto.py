"""Auto mode through real outages: a cuttable proxy, a port nobody listens on, real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gatekeeper.config import Settings
from gatekeeper.errors import ConfigError, StoreUnavailable
from gatekeeper.inputs import IncidentChanges, NewIncident
from gatekeeper.store import IncidentFilter, WriteBatch
from gatekeeper.store import pg_sql as q
from gatekeeper.store.auto import AutoIncidentStore
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.store.postgres import PostgresIncidentStore
from tests.conftest import REPO, CliRun
from tests.store.conftest import UNREACHABLE_URL
from tests.store.factories import artifact, changed, event, followup, incident
from tests.store.tcp_proxy import TcpProxy

RETRY_S = 300.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counts(conn: psycopg.Connection[Any]) -> tuple[int, int, int]:
    row = conn.execute(q.COUNTS).fetchone()
    assert row is not None
    return (row[0], row[1], row[2])


def open_auto(
    url: str, directory: Path, clock: FakeClock, warnings: list[str]
) -> AutoIncidentStore:
    return AutoIncidentStore(
        JsonlIncidentStore(directory),
        lambda: PostgresIncidentStore.open(url),
        retry_s=RETRY_S,
        clock=clock,
        warn=warnings.append,
    )


def outage_writes() -> tuple[list[WriteBatch], int]:
    """Create, update (same updated_at: --now was fixed), events and an artifact."""
    inc = incident()
    batches = [
        WriteBatch(new_incidents=(inc,), events=(event(inc, type="status_change"),)),
        WriteBatch(updated_incidents=(inc.model_copy(update={"status": "mitigated"}),)),
        WriteBatch(events=(followup(inc, "fu_1", title="Add alert", owner="ana"),)),
        WriteBatch(artifacts=(artifact(inc),), events=(event(inc, type="artifact"),)),
    ]
    return batches, len(batches)


def test_in_process_recovery_replays_outage_writes_exactly_once(
    proxy: TcpProxy, proxied_url: str, pg_conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    clock, warnings = FakeClock(), list[str]()
    proxy.cut()
    store = open_auto(proxied_url, tmp_path / "store", clock, warnings)
    batches, n = outage_writes()
    for batch in batches:
        store.write(batch)
    inc_id = batches[0].new_incidents[0].id

    assert store.get_incident(inc_id).status == "mitigated"  # read from JSONL meanwhile
    info = store.info()
    assert (info["active"], info["degraded"], info["pending_replay"]) == ("jsonl", True, n)
    assert len(warnings) == 1
    assert warnings[0].startswith("postgres unavailable (cannot connect: ")
    assert warnings[0].endswith(f"); using jsonl at {tmp_path / 'store'}")

    proxy.restore()
    clock.now += RETRY_S - 1
    store.list_incidents(IncidentFilter())
    assert store.degraded and counts(pg_conn) == (0, 0, 0)  # not retried before the interval

    clock.now += 1
    assert [i.id for i in store.list_incidents(IncidentFilter())] == [inc_id]  # from Postgres
    assert not store.degraded and store.replayed == n
    assert counts(pg_conn) == (1, 3, 1)
    assert store.get_incident(inc_id).status == "mitigated"
    assert store.info()["pending_replay"] == 0
    assert not (tmp_path / "store" / "replay.jsonl").exists()
    assert len(warnings) == 1
    store.close()


def test_a_connection_lost_mid_run_falls_back_and_warns_once(
    proxy: TcpProxy, proxied_url: str, pg_conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    clock, warnings = FakeClock(), list[str]()
    store = open_auto(proxied_url, tmp_path / "store", clock, warnings)
    first = incident()
    store.write(WriteBatch(new_incidents=(first,)))
    assert counts(pg_conn) == (1, 0, 0) and not warnings

    proxy.cut()
    second = incident()
    store.write(WriteBatch(new_incidents=(second,)))
    store.write(WriteBatch(events=(event(first),)))
    assert store.degraded and len(warnings) == 1
    assert warnings[0].startswith("postgres unavailable (")
    assert [i.id for i in store.list_incidents(IncidentFilter())] == [second.id]  # JSONL only

    proxy.restore()
    clock.now += RETRY_S
    assert {i.id for i in store.list_incidents(IncidentFilter())} == {first.id, second.id}
    assert counts(pg_conn) == (2, 1, 0)
    store.close()


def test_an_interrupted_replay_completes_on_the_next_attempt(
    proxy: TcpProxy, proxied_url: str, pg_conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    clock, warnings = FakeClock(), list[str]()
    proxy.cut()
    store = open_auto(proxied_url, tmp_path / "store", clock, warnings)
    incidents = [incident() for _ in range(4)]
    for inc in incidents:
        store.write(WriteBatch(new_incidents=(inc,), events=(event(inc),)))

    proxy.restore()
    proxy.cut_when_sent(incidents[2].id.encode())  # dies during the third replayed batch
    clock.now += RETRY_S
    store.list_incidents(IncidentFilter())
    assert proxy.cuts == 1 and store.degraded
    assert counts(pg_conn) == (2, 2, 0)  # two batches committed, the journal still whole
    assert store.info()["pending_replay"] == 4

    clock.now += RETRY_S
    store.list_incidents(IncidentFilter())
    assert not store.degraded
    assert counts(pg_conn) == (4, 4, 0)  # the first two again, idempotently
    assert store.info()["pending_replay"] == 0
    store.close()


def _gatekeeper(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("INCIDENT_", "GATEKEEPER_"))}
    clean.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "gatekeeper", *args],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def _bundle(path: Path) -> tuple[int, int]:
    inc = incident()
    later = changed(inc, status="resolved")
    lines = [
        {"format": "gatekeeper-bundle", "version": 1, "exported_at": "x", "source": "test"},
        {"type": "incident", "record": later.to_json_dict()},
        {"type": "event", "record": event(inc).to_json_dict()},
        {"type": "event", "record": event(inc).to_json_dict()},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return 1, 2


def test_a_later_process_replays_what_an_earlier_one_wrote_during_the_outage(
    migrated_pg_url: str, pg_conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    store_dir = tmp_path / "store"
    bundle = tmp_path / "bundle.jsonl"
    incidents, events = _bundle(bundle)
    common = ("--backend", "auto", "--store-dir", str(store_dir), "--agent", "sofiia")

    down = _gatekeeper(*common, "--database-url", UNREACHABLE_URL, "store", "import", str(bundle))
    assert down.returncode == 0, down.stderr
    assert down.stderr.count("\n") == 1
    assert down.stderr.startswith("warning: postgres unavailable (cannot connect: connection ")
    assert down.stderr.endswith(f"); using jsonl at {store_dir}\n")
    assert counts(pg_conn) == (0, 0, 0)

    up = _gatekeeper(*common, "store", "info", "--format", "json", DATABASE_URL=migrated_pg_url)
    assert (up.returncode, up.stderr) == (0, "")
    info = json.loads(up.stdout)
    assert (info["active"], info["degraded"], info["pending_replay"]) == ("postgres", False, 0)
    assert counts(pg_conn) == (incidents, events, 0)

    again = _gatekeeper(*common, "store", "info", DATABASE_URL=migrated_pg_url)
    assert again.returncode == 0
    assert counts(pg_conn) == (incidents, events, 0)


def test_store_info_shows_a_degraded_auto_store_and_pending_writes(
    tmp_path: Path, run_cli: CliRun
) -> None:
    store_dir = tmp_path / "store"
    bundle = tmp_path / "bundle.jsonl"
    _bundle(bundle)
    common = ("--backend", "auto", "--database-url", UNREACHABLE_URL, "--store-dir", str(store_dir))
    imported = run_cli(*common, "--agent", "sofiia", "store", "import", str(bundle))
    assert imported.exit_code == 0, imported.stderr

    result = run_cli(*common, "store", "info")

    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "backend: auto",
        "active: jsonl",
        "degraded: yes",
        f"unavailable reason: {result.stderr.split('(', 1)[1].split(');')[0]}",
    ]
    assert "pending replay: 2" in lines  # the bundle's incidents, then its events
    assert result.stderr.startswith("warning: postgres unavailable (")


def test_auto_needs_a_database_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no PostgreSQL URL given"):
        AutoIncidentStore.from_settings(Settings(backend="auto", store_dir=tmp_path))


def test_an_unmigrated_schema_is_an_error_not_an_outage(pg_url: str, tmp_path: Path) -> None:
    settings = Settings(backend="auto", database_url=pg_url, store_dir=tmp_path)
    with pytest.raises(StoreUnavailable, match="schema is at version 0"):
        AutoIncidentStore.from_settings(settings)


def test_journal_lines_that_cannot_be_parsed_are_kept_aside_not_replayed(
    migrated_pg_url: str, pg_conn: psycopg.Connection[Any], tmp_path: Path, capsys: Any
) -> None:
    store_dir = tmp_path / "store"
    clock, warnings = FakeClock(), list[str]()
    store = open_auto(UNREACHABLE_URL, store_dir, clock, warnings)
    inc = incident()
    store.write(WriteBatch(new_incidents=(inc,)))
    journal = store_dir / "replay.jsonl"
    with journal.open("ab") as handle:
        handle.write(b'{"new_incidents": [{"id": "broken"}]}\n')
    store.close()

    settings = Settings(backend="auto", database_url=migrated_pg_url, store_dir=store_dir)
    recovered = AutoIncidentStore.from_settings(settings)
    recovered.close()

    assert counts(pg_conn) == (1, 0, 0)
    assert not journal.exists()
    rejected = (store_dir / "replay.jsonl.rejected").read_bytes()
    assert rejected == b'{"new_incidents": [{"id": "broken"}]}\n'
    err = capsys.readouterr().err
    assert err.startswith(f"warning: {journal}:2: skipped corrupt record (new_incidents.0.id: ")


def test_reads_go_to_postgres_when_it_is_up(
    migrated_pg_url: str, pg_conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    clock, warnings = FakeClock(), list[str]()
    store = open_auto(migrated_pg_url, tmp_path / "store", clock, warnings)
    inc = incident(started_at=incident().started_at - timedelta(days=1))
    store.write(WriteBatch(new_incidents=(inc,)))
    assert store.get_incident(inc.id) == inc
    assert not (tmp_path / "store" / "incidents.jsonl").exists()
    assert store.info()["active"] == "postgres" and warnings == []
    store.close()


def _service(store: AutoIncidentStore, directory: Path) -> Any:
    from gatekeeper.incidents import IncidentService
    from gatekeeper.rbac import load_rbac

    return IncidentService(store, load_rbac(directory), directory, agent="helion")


def test_an_update_whose_commit_landed_but_whose_answer_was_lost_reports_the_landed_state(
    tmp_path: Path, proxied_url: str, proxy: TcpProxy, pg_conn: psycopg.Connection[Any]
) -> None:
    warnings: list[str] = []
    store = open_auto(proxied_url, tmp_path, FakeClock(), warnings)
    service = _service(store, tmp_path)
    created = service.create(
        NewIncident(service="checkout", env="prod", severity="P1", title="t"),
        now=incident().started_at,
    )
    proxy.cut_after_sent(b"COMMIT")  # the server commits; the client never hears

    updated = service.update(
        created.id,
        IncidentChanges(status="mitigated"),
        now=created.updated_at + timedelta(minutes=5),
    )

    assert proxy.cuts == 1
    assert updated.status == "mitigated"
    assert (store.degraded, warnings) == (False, [])
    row = pg_conn.execute("SELECT status FROM incidents WHERE id = %s", (created.id,)).fetchone()
    assert row == ("mitigated",)
    changes = pg_conn.execute(
        "SELECT count(*) FROM incident_events WHERE incident_id = %s AND type = 'status_change'",
        (created.id,),
    ).fetchone()
    assert changes == (2,)  # opened, mitigated: the retry added nothing twice
    store.close()


def test_a_lost_commit_followed_by_an_outage_is_unavailable_not_no_such_incident(
    tmp_path: Path, proxied_url: str, proxy: TcpProxy, pg_conn: psycopg.Connection[Any]
) -> None:
    store = open_auto(proxied_url, tmp_path, FakeClock(), [])
    service = _service(store, tmp_path)
    created = service.create(
        NewIncident(service="checkout", env="prod", severity="P1", title="t"),
        now=incident().started_at,
    )
    proxy.cut_after_sent(b"COMMIT", then_down=True)

    with pytest.raises(StoreUnavailable, match="may have committed") as caught:
        service.update(
            created.id, IncidentChanges(title="new"), now=created.updated_at + timedelta(minutes=5)
        )

    assert "\n" not in str(caught.value)
    deadline = time.monotonic() + 10  # the server may still be finishing that COMMIT
    while True:
        landed = pg_conn.execute("SELECT title FROM incidents WHERE id = %s", (created.id,))
        if landed.fetchone() == ("new",) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    row = pg_conn.execute("SELECT title FROM incidents WHERE id = %s", (created.id,)).fetchone()
    assert row == ("new",)  # it had landed
    assert not (tmp_path / "replay.jsonl").exists()  # nothing journaled that cannot apply
    proxy.restore()
    store.close()
