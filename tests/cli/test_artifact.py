"""``gatekeeper incident artifact``: the 2 MiB limit, safe names, valid JSON; a refusal
leaves no file, no metadata line and no event."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.store.jsonl import JsonlIncidentStore
from tests.cli.conftest import Gatekeeper, one_error
from tests.conftest import CliResult, Seeded, tree_digest

LIMIT = 2_097_152
BAD_NAME = (
    "expected a plain file name like postmortem.md (letters, digits, . _ -; "
    "no path separators or '..'; ending in .md, .json or .txt) (name)"
)
BAD_JSON = "artifact is not valid JSON: Expecting property name enclosed in double quotes"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    path = tmp_path / "files"
    path.mkdir()
    return path


def attach(gk: Gatekeeper, seeded: Seeded, file: Path, *args: str) -> CliResult:
    return gk("incident", "artifact", seeded.incident_id, str(file), *args, agent="helion")


def test_exactly_two_mebibytes_is_accepted(gk: Gatekeeper, seeded: Seeded, files: Path) -> None:
    big = files / "big.txt"
    big.write_bytes(b"a" * LIMIT)
    result = gk("incident", "artifact", seeded.incident_id, str(big), agent="helion")
    assert result.exit_code == 0, result
    assert result.stdout.startswith("big.txt  2097152 bytes  sha256 ")
    assert (seeded.store_dir / seeded.incident_id / "big.txt").read_bytes() == big.read_bytes()
    (artifact,) = JsonlIncidentStore(seeded.store_dir).artifacts(seeded.incident_id)
    assert (artifact.size_bytes, artifact.created_by, artifact.kind) == (LIMIT, "helion", "txt")


def test_name_option_renames(gk: Gatekeeper, seeded: Seeded, files: Path) -> None:
    draft = files / "draft"
    draft.write_text("# PM\n")
    args = ["incident", "artifact", seeded.incident_id, str(draft), "--name", "postmortem.md"]
    assert gk(*args, agent="helion").exit_code == 0
    assert (seeded.store_dir / seeded.incident_id / "postmortem.md").read_text() == "# PM\n"


@pytest.mark.parametrize(
    ("file_name", "content", "name", "message"),
    [
        (
            "big.txt",
            b"a" * (LIMIT + 1),
            None,
            "artifact is 2097153 bytes; the limit is 2097152 (2 MiB) (big.txt)",
        ),
        ("x.md", b"x", "../x.md", f"invalid artifact name '../x.md': {BAD_NAME}"),
        ("x.md", b"x", "/etc/x.md", f"invalid artifact name '/etc/x.md': {BAD_NAME}"),
        ("x.md", b"x", "a/b.md", f"invalid artifact name 'a/b.md': {BAD_NAME}"),
        (".x.md", b"x", None, f"invalid artifact name '.x.md': {BAD_NAME}"),
        ("x.html", b"x", None, f"invalid artifact name 'x.html': {BAD_NAME}"),
        (
            "x.json",
            b"{nope",
            None,
            f"{BAD_JSON} at line 1 (x.json)",
        ),
        ("x.txt", b"\xff\xfe", None, "artifact is not UTF-8 text (byte 0) (x.txt)"),
    ],
)
def test_refusals_write_nothing(
    gk: Gatekeeper,
    seeded: Seeded,
    files: Path,
    file_name: str,
    content: bytes,
    name: str | None,
    message: str,
) -> None:
    source = files / file_name
    source.write_bytes(content)
    before = tree_digest(seeded.store_dir)
    args = ["--name", name] if name is not None else []
    assert one_error(attach(gk, seeded, source, *args)) == message
    assert tree_digest(seeded.store_dir) == before


def test_missing_file_and_incident(gk: Gatekeeper, seeded: Seeded, files: Path) -> None:
    missing = files / "missing.md"
    assert one_error(attach(gk, seeded, missing)) == f"no such file ({missing})"
    present = files / "notes.md"
    present.write_text("x")
    args = ["incident", "artifact", "inc_20260101_0000_zzzzzz", str(present)]
    assert one_error(gk(*args, agent="helion")) == "no such incident (inc_20260101_0000_zzzzzz)"
