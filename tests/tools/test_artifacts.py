"""Artifacts through ``incident_attach_artifact``: limits, names, contents; a refusal
writes nothing (no file, no metadata line, no event)."""

from __future__ import annotations

import json

import pytest

from gatekeeper.store.jsonl import JsonlIncidentStore
from tests.conftest import Seeded, tree_digest
from tests.tools.conftest import Call, envelope, error

LIMIT = 2_097_152


def attach(call: Call, seeded: Seeded, name: str, content: str) -> dict[str, object]:
    return call(
        envelope(
            "incident_attach_artifact",
            "helion",
            incident_id=seeded.incident_id,
            name=name,
            content=content,
        )
    )


@pytest.mark.parametrize("content", ["a" * LIMIT, "é" * (LIMIT // 2)])
def test_exactly_two_mebibytes_is_accepted(call: Call, seeded: Seeded, content: str) -> None:
    answer = attach(call, seeded, "big.txt", content)
    assert answer["ok"] is True, answer
    path = seeded.store_dir / seeded.incident_id / "big.txt"
    assert path.stat().st_size == LIMIT
    store = JsonlIncidentStore(seeded.store_dir)
    assert [a.size_bytes for a in store.artifacts(seeded.incident_id)] == [LIMIT]
    assert store.events(seeded.incident_id)[-1].meta["name"] == "big.txt"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("big.txt", "a" * (LIMIT + 1), "artifact is 2097153 bytes; the limit is 2097152 (2 MiB)"),
        ("big.txt", "é" * (LIMIT // 2) + "a", "artifact is 2097153 bytes; the limit is"),
        ("../x.md", "x", "invalid artifact name '../x.md'"),
        ("/tmp/x.md", "x", "invalid artifact name '/tmp/x.md'"),
        ("a/b.md", "x", "invalid artifact name 'a/b.md'"),
        (".x.md", "x", "invalid artifact name '.x.md'"),
        ("a..md", "x", "invalid artifact name 'a..md'"),
        ("x.exe", "x", "invalid artifact name 'x.exe'"),
        ("x.MD", "x", "invalid artifact name 'x.MD'"),
        ("x.md.sh", "x", "invalid artifact name 'x.md.sh'"),
        ("", "x", "invalid artifact name ''"),
        ("data.json", "{not json", "artifact is not valid JSON: Expecting property name"),
    ],
)
def test_refused_artifacts_write_nothing(
    call: Call, seeded: Seeded, name: str, content: str, message: str
) -> None:
    before = tree_digest(seeded.store_dir)
    code, text = error(attach(call, seeded, name, content))
    assert code == "invalid"
    assert text.startswith(message)
    assert tree_digest(seeded.store_dir) == before


def test_json_artifact_must_parse_and_is_stored_verbatim(call: Call, seeded: Seeded) -> None:
    content = json.dumps({"impact": "checkout down", "minutes": 12})
    assert attach(call, seeded, "impact.json", content)["ok"] is True
    stored = (seeded.store_dir / seeded.incident_id / "impact.json").read_text()
    assert stored == content


def test_content_must_be_text(call: Call, seeded: Seeded) -> None:
    answer = call(
        envelope(
            "incident_attach_artifact",
            "helion",
            incident_id=seeded.incident_id,
            name="x.md",
            content=["not", "text"],
        )
    )
    assert error(answer) == ("invalid", "params.content: Input should be a valid string")
