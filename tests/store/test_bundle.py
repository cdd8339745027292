"""Export/import bundles: round trips across backends, validation before writing, idempotence."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.errors import InvalidInput, NotFound
from gatekeeper.models import Artifact, Incident
from gatekeeper.store import IncidentStore, WriteBatch
from gatekeeper.store.bundle import export_bundle, import_bundle
from gatekeeper.store.jsonl import JsonlIncidentStore
from gatekeeper.store.postgres import PostgresIncidentStore
from tests.conftest import NOW, CliRun
from tests.store.factories import T0, artifact, changed, event, followup, incident

BINARY = b"\xff\xfe not utf-8 \x00"


def attach(store: IncidentStore, files: Path, of: Incident, name: str, data: bytes) -> Artifact:
    record = artifact(of, name, data)
    (files / of.id).mkdir(parents=True, exist_ok=True)
    (files / of.id / name).write_bytes(data)
    store.write(WriteBatch(artifacts=(record,)))
    return record


def populate(store: IncidentStore, files: Path) -> None:
    a = incident(labels={"z": "1", "a": "2"}, summary="ünïcode ✓")
    b = incident(started_at=T0 - timedelta(days=3), service="search", severity="P0")
    store.write(WriteBatch(new_incidents=(a, b)))
    store.write(WriteBatch(updated_incidents=(changed(a, status="resolved"),)))
    store.write(WriteBatch(events=(event(a), followup(a, "fu_1", title="t", owner="o"))))
    store.write(WriteBatch(events=(event(b, meta={"nested": {"k": [1, 2]}, "b": None}),)))
    attach(store, files, a, "postmortem.md", "# PM ✓\n".encode())
    attach(store, files, a, "data.json", b'{"b": 1, "a": 2}')
    attach(store, files, b, "raw.txt", BINARY)  # not UTF-8: travels as base64
    attach(store, files, a, "postmortem.md", b"# PM v2\n")  # replaced: only v2 is exported


def export(store: IncidentStore, files: Path, path: Path) -> list[str]:
    export_bundle(store, path, artifacts_dir=files, now=NOW, warn=pytest.fail)
    return path.read_text().splitlines()


def test_jsonl_to_postgres_and_back_gives_the_same_records(
    tmp_path: Path, pg_store: PostgresIncidentStore
) -> None:
    source, files = JsonlIncidentStore(tmp_path / "src"), tmp_path / "files"
    populate(source, files)
    first = export(source, files, tmp_path / "one.jsonl")

    restored = tmp_path / "restored"
    summary = import_bundle(pg_store, tmp_path / "one.jsonl", artifacts_dir=restored)
    second = export(pg_store, restored, tmp_path / "two.jsonl")

    assert (summary.incidents, summary.events, summary.artifacts, summary.files) == (2, 3, 3, 3)
    assert (
        json.loads(first[0])["source"] == "jsonl" and json.loads(second[0])["source"] == "postgres"
    )
    assert second[1:] == first[1:]
    assert len(first) == 1 + 2 + 3 + 3
    for path in files.rglob("*.*"):
        assert (restored / path.relative_to(files)).read_bytes() == path.read_bytes()
    raw = [json.loads(line) for line in first if '"raw.txt"' in line][0]
    assert raw["content"] == {"encoding": "base64", "data": base64.b64encode(BINARY).decode()}


def test_importing_twice_changes_nothing(tmp_path: Path) -> None:
    source, files = JsonlIncidentStore(tmp_path / "src"), tmp_path / "files"
    populate(source, files)
    export(source, files, tmp_path / "b.jsonl")
    target_dir = tmp_path / "target"
    target = JsonlIncidentStore(target_dir)
    import_bundle(target, tmp_path / "b.jsonl", artifacts_dir=target_dir)
    sizes = {p.name: p.stat().st_size for p in target_dir.glob("*.jsonl")}

    import_bundle(target, tmp_path / "b.jsonl", artifacts_dir=target_dir)

    assert {p.name: p.stat().st_size for p in target_dir.glob("*.jsonl")} == sizes
    assert (
        export(target, target_dir, tmp_path / "again.jsonl")[1:]
        == ((tmp_path / "b.jsonl").read_text().splitlines()[1:])
    )


def test_an_import_never_replaces_a_newer_artifact(tmp_path: Path) -> None:
    source, files = JsonlIncidentStore(tmp_path / "src"), tmp_path / "files"
    inc = incident()
    source.write(WriteBatch(new_incidents=(inc,)))
    attach(source, files, inc, "notes.txt", b"old")
    export(source, files, tmp_path / "b.jsonl")
    target = JsonlIncidentStore(tmp_path / "target")
    target.write(WriteBatch(new_incidents=(inc,)))
    newer = artifact(inc, "notes.txt", b"newer", created_at=T0 + timedelta(days=2))
    target.write(WriteBatch(artifacts=(newer,)))
    (tmp_path / "tfiles" / inc.id).mkdir(parents=True)
    (tmp_path / "tfiles" / inc.id / "notes.txt").write_bytes(b"newer")

    summary = import_bundle(target, tmp_path / "b.jsonl", artifacts_dir=tmp_path / "tfiles")

    assert summary.files == 0
    assert target.artifacts(inc.id) == [newer]
    assert (tmp_path / "tfiles" / inc.id / "notes.txt").read_bytes() == b"newer"
    assert [p.name for p in (tmp_path / "tfiles" / inc.id).iterdir()] == ["notes.txt"]


def test_a_missing_artifact_file_is_exported_as_metadata_with_a_warning(tmp_path: Path) -> None:
    store, files = JsonlIncidentStore(tmp_path / "src"), tmp_path / "files"
    inc = incident()
    store.write(WriteBatch(new_incidents=(inc,), artifacts=(artifact(inc),)))
    warnings: list[str] = []
    summary = export_bundle(
        store, tmp_path / "b.jsonl", artifacts_dir=files, now=NOW, warn=warnings.append
    )
    assert summary.missing_files == [f"{inc.id}/postmortem.md"]
    assert warnings == [
        f"artifact file unreadable (No such file or directory); exporting metadata only: "
        f"{files / inc.id / 'postmortem.md'}"
    ]
    target = JsonlIncidentStore(tmp_path / "target")
    imported = import_bundle(target, tmp_path / "b.jsonl", artifacts_dir=tmp_path / "tfiles")
    assert (imported.artifacts, imported.files) == (1, 0)
    assert target.artifacts(inc.id) == [artifact(inc)]


def _valid_bundle(path: Path) -> tuple[list[dict[str, Any]], Incident]:
    inc = incident()
    data = b"# PM\n"
    lines: list[dict[str, Any]] = [
        {"format": "gatekeeper-bundle", "version": 1, "exported_at": "2026-03-02T12:00:00Z",
         "source": "jsonl"},
        {"type": "incident", "record": inc.to_json_dict()},
        {"type": "event", "record": event(inc).to_json_dict()},
        {"type": "artifact", "record": artifact(inc, content=data).to_json_dict(),
         "content": {"encoding": "utf-8", "data": data.decode()}},
    ]  # fmt: skip
    return lines, inc


def _write(path: Path, lines: list[Any]) -> None:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))


def _damage(lines: list[Any], case: str) -> None:
    if case == "severity":
        lines[1]["record"]["severity"] = "P9"
    elif case == "unknown type":
        lines[2]["type"] = "comment"
    elif case == "sha":
        lines[3]["content"]["data"] = "# tampered\n"
    elif case == "base64":
        lines[3]["content"] = {"encoding": "base64", "data": "***"}
    elif case == "not json":
        lines[2] = '{"type": "event", "record": '
    elif case == "unknown field":
        lines[2]["extra"] = 1


@pytest.mark.parametrize(
    ("case", "line", "message"),
    [
        ("severity", 2, "record.severity: Input should be 'P0', 'P1', 'P2', 'P3' or 'P4'"),
        (
            "unknown type",
            3,
            "type: expected one of incident, event, artifact, gate_override, got 'comment'",
        ),
        ("sha", 4, "content: 11 bytes, record says 5"),
        ("base64", 4, "content.data: not valid base64"),
        ("not json", 3, "Expecting value: line 1 column 29 (char 28)"),
        ("unknown field", 3, "extra: unknown field"),
    ],
)
def test_a_bad_record_is_named_and_nothing_is_written(
    tmp_path: Path, case: str, line: int, message: str
) -> None:
    path = tmp_path / "bundle.jsonl"
    lines, _inc = _valid_bundle(path)
    _damage(lines, case)
    _write(path, lines)
    target_dir = tmp_path / "target"
    target_dir.mkdir()

    with pytest.raises(InvalidInput) as caught:
        import_bundle(JsonlIncidentStore(target_dir), path, artifacts_dir=target_dir)

    assert str(caught.value) == f"{message} ({path}:{line})"
    assert list(target_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("first_line", "message"),
    [
        ('{"format": "something-else", "version": 1, "exported_at": "x", "source": "y"}',
         "not a gatekeeper bundle: the first line must be its header (format: Input should be "
         "'gatekeeper-bundle')"),
        ('{"format": "gatekeeper-bundle", "version": 2, "exported_at": "x", "source": "y"}',
         "unsupported bundle version 2 (this gatekeeper reads 1)"),
    ],
)  # fmt: skip
def test_a_bundle_needs_its_header(tmp_path: Path, first_line: str, message: str) -> None:
    path = tmp_path / "bundle.jsonl"
    path.write_text(first_line + "\n")
    with pytest.raises(InvalidInput) as caught:
        import_bundle(JsonlIncidentStore(tmp_path), path, artifacts_dir=tmp_path)
    assert str(caught.value) == f"{message} ({path}:1)"


def test_empty_and_missing_bundle_files(tmp_path: Path) -> None:
    store = JsonlIncidentStore(tmp_path)
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(InvalidInput, match="empty file: not a gatekeeper bundle"):
        import_bundle(store, tmp_path / "empty.jsonl", artifacts_dir=tmp_path)
    with pytest.raises(NotFound, match="no such bundle file"):
        import_bundle(store, tmp_path / "nope.jsonl", artifacts_dir=tmp_path)


def test_cli_export_then_import_into_another_store(tmp_path: Path, run_cli: CliRun) -> None:
    source, files = JsonlIncidentStore(tmp_path / "src"), tmp_path / "files"
    populate(source, files)
    bundle = tmp_path / "backup.jsonl"
    src = ("--store-dir", str(tmp_path / "src"), "--artifacts-dir", str(files))

    exported = run_cli(*src, "store", "export", str(bundle), "--now", "2026-03-02T12:00:00Z")
    assert (exported.exit_code, exported.stderr) == (0, "")
    assert exported.stdout == f"exported {bundle}: 2 incidents, 3 events, 3 artifacts (3 files)\n"
    assert json.loads(bundle.read_text().splitlines()[0])["exported_at"] == "2026-03-02T12:00:00Z"

    dst = ("--store-dir", str(tmp_path / "dst"), "--policy", str(tmp_path / "no-policy"))
    refused = run_cli(*dst, "store", "import", str(bundle))
    assert refused.exit_code == 1
    assert refused.stderr == (
        "gatekeeper: error: incident_write needs an agent (--agent or GATEKEEPER_AGENT)\n"
    )
    assert not (tmp_path / "dst").exists()

    imported = run_cli(
        *dst, "--agent", "helion", "store", "import", str(bundle), "--format", "json"
    )
    assert imported.exit_code == 0, imported.stderr
    assert json.loads(imported.stdout) == {
        "path": str(bundle), "incidents": 2, "events": 3, "artifacts": 3, "files": 3,
        "missing_files": [], "gate_overrides": 0,
    }  # fmt: skip
    copied = tmp_path / "dst" / next(files.iterdir()).name
    assert copied.is_dir()  # artifacts default to the store directory


def test_cli_import_of_a_damaged_bundle_is_one_line(tmp_path: Path, run_cli: CliRun) -> None:
    path = tmp_path / "bundle.jsonl"
    lines, _inc = _valid_bundle(path)
    _damage(lines, "severity")
    _write(path, lines)
    result = run_cli(
        "--store-dir", str(tmp_path / "dst"), "--agent", "sofiia", "store", "import", str(path)
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "gatekeeper: error: record.severity: Input should be 'P0', 'P1', 'P2', 'P3' or 'P4' "
        f"({path}:2)\n"
    )


def test_cli_export_to_a_missing_directory_leaves_no_file(tmp_path: Path, run_cli: CliRun) -> None:
    target = tmp_path / "no" / "such" / "dir" / "b.jsonl"
    result = run_cli("--store-dir", str(tmp_path), "store", "export", str(target))
    assert result.exit_code == 1
    assert result.stderr == (
        f"gatekeeper: error: cannot write bundle: No such file or directory ({target})\n"
    )
    assert not (tmp_path / "no").exists()


def test_export_from_postgres_streams_every_record(
    tmp_path: Path, pg_store: PostgresIncidentStore
) -> None:
    incidents = [incident() for _ in range(2500)]  # more than one server-side cursor page
    pg_store.write(WriteBatch(new_incidents=tuple(incidents)))
    lines = export(pg_store, tmp_path, tmp_path / "b.jsonl")
    assert len(lines) == 2501
    assert hashlib.sha256("".join(lines[1:]).encode()).hexdigest() == hashlib.sha256(
        "".join(json.dumps({"record": i.to_json_dict(), "type": "incident"}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
                for i in sorted(incidents, key=lambda i: (i.started_at, i.id))).encode()
    ).hexdigest()  # fmt: skip


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("big.txt", b"x" * (2 * 1024 * 1024 + 1), "content: "),
        ("broken.json", b"{not json", "content: "),
    ],
)
def test_import_enforces_the_artifact_limits(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    of = incident()
    record = Artifact(incident_id=of.id, name=name, kind=name.rsplit(".", 1)[1],
                      size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
                      created_at=T0, created_by="helion")  # fmt: skip
    header = {"exported_at": "2026-03-01T10:00:00Z", "format": "gatekeeper-bundle",
              "source": "jsonl", "version": 1}  # fmt: skip
    lines = [
        json.dumps(header, sort_keys=True),
        json.dumps({"type": "incident", "record": of.to_json_dict()}, sort_keys=True),
        json.dumps({"type": "artifact", "record": record.to_json_dict(),
                    "content": {"encoding": "base64",
                                "data": base64.b64encode(data).decode()}}, sort_keys=True),
    ]  # fmt: skip
    path = tmp_path / "bundle.jsonl"
    path.write_text("\n".join(lines) + "\n")
    target = JsonlIncidentStore(tmp_path / "dst")
    with pytest.raises(InvalidInput, match=reason):
        import_bundle(target, path, artifacts_dir=tmp_path / "files")
    assert not (tmp_path / "dst" / "incidents.jsonl").exists()
    assert not (tmp_path / "files").exists()
