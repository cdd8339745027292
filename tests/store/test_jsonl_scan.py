"""``LineFile.keyed``: the lines it leaves out are exactly lines whose key is clearly unwanted."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekeeper.store import jsonl_scan
from gatekeeper.store.jsonl_scan import LineFile, field_value

KEY = b'"incident_id"'
IDS = [b"inc_20260101_0000_aaaaaa", b"inc_20260101_0000_bbbbbb", b"x", b"inc_1"]
SHAPES = [
    b'{"id":"e1","incident_id":"%s","type":"note"}',
    b'{"id":"e1", "incident_id": "%s"}',  # other spacing: key unclear
    b'{"incident_id":"%s","meta":{"incident_id":"other"}}',  # nested key twice
    b'{"id":"e\\u0031","incident_id":"%s"}',  # a backslash
    b'{"id":"e1","incident_id":"%s"',  # cut
    b'{"id":"e1","incident_id":"%s',  # cut inside the value: no closing quote
    b'{"id":"e1","incident_id":"',  # cut right after the key
    b"",  # blank
    b"not json at all %s",
    b'{"incident_id":"%s_longer"}',
    # The key also elsewhere, in another form: which one is the record's is unclear.
    b'{"id":"e1","meta":{"incident_id":"other"},"incident_id": "%s"}',
    b'{"id":"e1","incident_id":"other","meta":{"incident_id":1},"x":"%s"}',
    b'{"id":"e1","incident_id":5,"meta":{"incident_id":"%s"}}',
    b'{"id":"e1","incident_id": "%s","meta":{"incident_id":"other"}}',
]


def _read(path: Path, wanted: set[bytes]) -> list[tuple[int, bytes]]:
    with path.open("rb") as handle:
        return list(LineFile(path, handle).keyed(KEY, wanted))


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.tuples(st.sampled_from(SHAPES), st.sampled_from(IDS)), max_size=30),
    wanted=st.sets(st.sampled_from(IDS)),
    block=st.sampled_from([16, 64, 4 << 20]),
)
def test_keyed_leaves_out_only_lines_naming_an_unwanted_value(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[bytes, bytes]],
    wanted: set[bytes],
    block: int,
) -> None:
    lines = [(shape % value if b"%s" in shape else shape) + b"\n" for shape, value in rows]
    path = tmp_path_factory.mktemp("scan") / "events.jsonl"
    path.write_bytes(b"".join(lines))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonl_scan, "SPLIT_BLOCK", block)  # lines cut across blocks too
        got = _read(path, wanted)
    offsets = [sum(map(len, lines[:i])) for i in range(len(lines))]
    expected = [
        (offset, line)
        for offset, line in zip(offsets, lines, strict=True)
        if (value := field_value(line, KEY)) is None or value in wanted
    ]
    # Every line that may hold a wanted value is yielded, in file order, at its offset;
    # the others only when the cheap test cannot rule them out.
    assert [row for row in got if row in expected] == expected
    assert all(row in zip(offsets, lines, strict=True) for row in got)
    assert got == sorted(got)


def test_keyed_skips_compact_lines_of_other_values(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [SHAPES[0] % value + b"\n" for value in IDS[:2] * 3]
    path.write_bytes(b"".join(lines))
    got = _read(path, {IDS[1]})
    assert [line for _offset, line in got] == [lines[1], lines[3], lines[5]]
    assert [offset for offset, _line in got] == [sum(map(len, lines[:i])) for i in (1, 3, 5)]


@pytest.mark.parametrize(
    "odd",
    [
        # The slice where the block's other lines hold their 24-character id ends
        # in a quote, but holds two values: this line's is "x".
        b'{"id":"e1","incident_id":"x","a":"ffffffffffffffff","type":"note"}',
        # The slice holds the marker's quotes and one more, not at its end.
        b'{"id":"e1","incident_id":"x"' + b" " * 23 + b',"type":"note"}',
    ],
    ids=["value then another string", "value then spaces"],
)
def test_keyed_reads_a_line_shaped_like_its_neighbours_only_as_wide(
    tmp_path: Path, odd: bytes
) -> None:
    """A block of compact lines is judged by one slice per line; a line whose slice has
    the neighbours' width but not their shape names a value of another width."""
    path = tmp_path / "events.jsonl"
    regular = SHAPES[0] % IDS[0] + b"\n"
    path.write_bytes(regular + odd + b"\n" + regular)
    assert [line for _offset, line in _read(path, {b"x"})] == [odd + b"\n"]
