"""Artifact names and contents are checked before anything touches the disk."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gatekeeper.artifacts import MAX_ARTIFACT_BYTES, prepare_artifact, staged_artifact_file
from gatekeeper.errors import InvalidInput

INCIDENT = "inc_20260301_0900_abc123"
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def prepare(name: str, content: bytes):  # type: ignore[no-untyped-def]
    return prepare_artifact(INCIDENT, name, content, created_at=NOW, created_by="helion")


def test_exactly_two_mebibytes_is_accepted_and_one_more_byte_is_not() -> None:
    assert prepare("big.txt", b"x" * MAX_ARTIFACT_BYTES).size_bytes == 2_097_152
    with pytest.raises(InvalidInput, match="2097153 bytes; the limit is 2097152"):
        prepare("big.txt", b"x" * (MAX_ARTIFACT_BYTES + 1))


@pytest.mark.parametrize(
    "name",
    ["../x.md", "/etc/passwd.md", "a/b.md", ".hidden.md", "x.exe", "x.md.sh", "x..md", "", "x"],
)
def test_names_that_could_escape_or_mislead_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="invalid artifact name"):
        prepare(name, b"ok")


def test_contents_are_checked_by_kind() -> None:
    with pytest.raises(InvalidInput, match="not valid JSON"):
        prepare("x.json", b"{nope")
    with pytest.raises(InvalidInput, match="not UTF-8"):
        prepare("x.md", b"\xff\xfe")
    assert prepare("x.json", b'{"ok": true}').kind == "json"


def test_staged_file_appears_only_when_the_block_succeeds(tmp_path: Path) -> None:
    artifact = prepare("notes.md", b"new")
    target = tmp_path / INCIDENT / "notes.md"
    target.parent.mkdir()
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), staged_artifact_file(tmp_path, artifact, b"new"):
        raise RuntimeError("metadata write failed")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in target.parent.iterdir()) == ["notes.md"]
    with staged_artifact_file(tmp_path, artifact, b"new"):
        pass
    assert target.read_bytes() == b"new"
