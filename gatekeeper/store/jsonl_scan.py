"""Byte-level reading of one JSONL file: whole lines, candidate lines, cheap field slices.

The JSONL store's queries use these to skip lines *before* parsing them, which
is what keeps a gate on a million-line store fast. Every skip rests on a
necessary condition: a line is skipped only when its bytes prove it cannot be
what the query wants. The proofs rely on what JSON allows in a string: a value
made of letters, digits and ``._-`` (service and environment names, statuses,
severities, record ids, ``followup``) appears in a line either as its literal
quoted bytes (``"svc-042"``) or through a ``\\u`` escape. So a line that holds
neither the quoted needle nor ``\\u`` cannot hold that value anywhere, and a
line holding ``\\u`` is never skipped. Field slices (``{"id":"…"``) are only
trusted on compactly written lines where the key occurs exactly once; anything
else returns ``None`` and the caller parses the line.

Line numbers (for ``path:line`` reports) are counted lazily, only for the rare
line that is reported, by counting newlines in the same open file.
"""

from __future__ import annotations

import os
from bisect import bisect_right
from collections.abc import Callable, Collection, Iterator, Sequence
from itertools import accumulate, compress, repeat
from operator import add, getitem
from pathlib import Path
from typing import BinaryIO, cast

ESCAPE = b"\\u"
# Big enough that the search loop runs in C for most of the file, small enough
# that peak memory stays a few MB whatever the file size.
BLOCK = 4 << 20
# For the passes that split a block into lines (a second copy of it, plus a few
# lists of one entry per line): smaller, so that peak memory stays low.
SPLIT_BLOCK = 1 << 20


class LineFile:
    """An open JSONL file being read once, front to back, up to ``limit`` bytes if given.

    A final line without a newline (a writer died mid-write, or someone edited
    the file by hand) is yielded with a newline added, and ``tail_at`` is set
    to its offset before it is yielded: the caller decides whether it is a
    complete record (served) or a torn fragment (reported). ``limit`` hides an
    uncommitted batch (:mod:`gatekeeper.store.jsonl_batch`): bytes past it are
    never read.
    """

    def __init__(self, path: Path, handle: BinaryIO, limit: int | None = None) -> None:
        self.path = path
        self._handle = handle
        self.limit = limit
        self.tail_at: int | None = None
        self.end = 0  # where the whole (newline-terminated) lines read so far end
        self._counted = (0, 1)  # (offset, number of the line starting there)

    def lines(self, start: int = 0) -> Iterator[tuple[int, bytes]]:
        """Every line from ``start`` on as ``(offset, line)``, newline included."""
        self._handle.seek(start)
        offset = self.end = start
        for line in self._handle:
            if self.limit is not None and offset + len(line) > self.limit:
                line = line[: max(self.limit - offset, 0)]
                if not line:
                    return
            if not line.endswith(b"\n"):
                self.tail_at = offset
                yield offset, line + b"\n"
                return
            yield offset, line
            offset += len(line)
            self.end = offset

    def blocks(self, start: int = 0, *, split: bool = False) -> Iterator[tuple[int, bytes, int]]:
        """``(offset, data, end)``: ``data[:end]`` is whole lines starting at ``offset``.

        ``split``: the caller splits each block into lines, so blocks are smaller.
        Bytes after ``end`` (the start of a line the block cut) are read again
        with the next block, so a block is never copied to join it with the
        last one's rest; a line longer than a block is gathered piece by piece
        and joined once. An unterminated final line comes last, as a block of
        its own with a newline added.
        """
        size = SPLIT_BLOCK if split else BLOCK
        self._handle.seek(start)
        offset = self.end = start
        pieces: list[bytes] = []  # a line longer than a block, so far
        gathered = 0
        while block := self._handle.read(self._block_size(offset + gathered, size)):
            cut = block.rfind(b"\n") + 1
            if not cut:  # no line ends in this block: keep gathering the long one
                pieces.append(block)
                gathered += len(block)
                continue
            data = b"".join((*pieces, block)) if pieces else block  # once per long line
            end = gathered + cut
            pieces, gathered = [], 0
            yield offset, data, end
            offset += end
            self.end = offset
            if end != len(data):
                self._handle.seek(offset)
        if pieces:
            rest = b"".join(pieces)
            self.tail_at = offset
            yield offset, rest + b"\n", len(rest) + 1

    def _block_size(self, position: int, size: int = 0) -> int:
        size = size or BLOCK
        return size if self.limit is None else max(min(size, self.limit - position), 0)

    def candidates(self, needles: Sequence[bytes], start: int = 0) -> Iterator[tuple[int, bytes]]:
        """Lines from ``start`` on holding any of ``needles`` or a ``\\u`` escape, in file order.

        The search jumps from match to match with ``bytes.find``, so lines
        without a match cost nothing in Python.
        """
        for base, data, end in self.blocks(start):
            found = _line_starts(data, end, needles) | _escaped_line_starts(data, end)
            for first in sorted(found):
                stop = data.index(b"\n", first, end) + 1
                yield base + first, data[first:stop]

    def keyed(
        self, key: bytes, wanted: Collection[bytes], start: int = 0
    ) -> Iterator[tuple[int, bytes]]:
        """Lines from ``start`` on whose compact ``key`` value may be in ``wanted``, in file order.

        A line is left out only when it holds ``key`` exactly once, as
        ``key:"``, no backslash, and a value that closes before the line ends
        and is not a wanted one: then :func:`field_value` gives a value that is
        not wanted. Every other line (a blank or damaged one, other spacing, a
        nested or duplicate key, a possible escape) is yielded. The work is done
        a block at a time in C (``split``, ``count``, ``map``), so lines left
        out cost no Python bytecode.
        """
        closed = {value + b'"' for value in wanted}
        widths = sorted({len(value) for value in closed})
        for base, data, end in self.blocks(start, split=True):
            rows = data.split(b"\n")
            rows.pop()  # after the last newline (at ``end``): the start of a cut line, or nothing
            spans = _regular_spans(data, end, rows, key, closed)
            if spans is None:
                spans = _irregular_spans(data, end, rows, key, closed, widths)
            for first, stop in spans:
                yield base + first, data[first:stop]

    def line_number(self, offset: int) -> int:
        """The 1-based number of the line that starts at ``offset``."""
        counted, number = self._counted
        if offset < counted:
            counted, number = 0, 1
        fd = self._handle.fileno()
        while counted < offset:
            data = os.pread(fd, min(BLOCK, offset - counted), counted)
            if not data:
                break
            number += data.count(b"\n")
            counted += len(data)
        self._counted = (offset, number)
        return number


def _regular_spans(
    data: bytes, end: int, rows: list[bytes], key: bytes, closed: Collection[bytes]
) -> list[tuple[int, int]] | None:
    """``(start, stop)`` of the lines ``rows`` of ``data[:end]`` that :meth:`LineFile.keyed` yields.

    ``None`` unless the block is regular: no backslash, and every line holds
    ``key:"`` at the offset where the first line holds it, followed by a value
    of one width and its closing quote, and ``key`` occurs once in each line
    (one count over the block), so none holds it in another form too. The
    shape is checked on all the lines' slices at once (one join, a few strided
    slices and counts), so a line costs two slices in C and no bytecode; only
    the lines whose slice names a wanted value are returned.
    """
    marker = key + b':"'
    count = len(rows)
    at = rows[0].find(marker) if rows else -1
    if at == -1 or data.find(b"\\", 0, end) != -1:
        return None
    first = at + len(marker)
    width = rows[0].find(b'"', first) + 1 - first  # the first line's value and its quote
    if width <= 1:
        return None
    span = len(marker) + width
    heads = cast(list[bytes], list(map(getitem, rows, repeat(slice(at, at + span)))))
    if not all_shaped(b"".join(heads), count, marker, span) or data.count(key, 0, end) != count:
        return None
    wanted = {marker + value for value in closed if len(value) == width}
    if not wanted or wanted.isdisjoint(heads):
        return []
    sums = list(accumulate(map(len, rows), initial=0))
    chosen = compress(range(count), map(wanted.__contains__, heads))
    return [(sums[i] + i, sums[i + 1] + i + 1) for i in chosen]


def shaped(head: bytes, prefix: bytes, width: int) -> bool:
    """Whether ``head`` is ``width`` bytes: ``prefix``, a value without a quote, then ``"``."""
    return (
        len(head) == width and head.startswith(prefix) and head.find(b'"', len(prefix)) == width - 1
    )


def all_shaped(joined: bytes, count: int, prefix: bytes, width: int) -> bool:
    """:func:`shaped` of each of the ``count`` heads that ``joined`` holds, checked at once.

    In C, whatever ``count``: the length, one count of quotes (the prefix's and
    the closing one in each head, so no value holds one), one strided slice for
    the closing quotes and one per byte of the prefix.
    """
    return (
        len(joined) == count * width
        and joined.count(b'"') == count * (prefix.count(b'"') + 1)
        and joined[width - 1 :: width] == b'"' * count
        and all(joined[i::width] == bytes([byte]) * count for i, byte in enumerate(prefix))
    )


def _irregular_spans(
    data: bytes,
    end: int,
    rows: list[bytes],
    key: bytes,
    closed: Collection[bytes],
    widths: Sequence[int],
) -> list[tuple[int, int]]:
    """What :func:`_regular_spans` gives, for any block: one test per line, still in C."""
    marker = key + b':"'
    count = len(rows)
    sums = list(accumulate(map(len, rows), initial=0))
    found = list(map(bytes.find, rows, repeat(marker)))
    # Unclear: no ``key:"``, or ``key`` more than once in any form, or a backslash.
    chosen = set(compress(range(count), map((-1).__eq__, found)))
    chosen.update(compress(range(count), map((1).__ne__, map(bytes.count, rows, repeat(key)))))
    if data.find(b"\\", 0, end) != -1:
        chosen.update(_rows_holding(data, end, b"\\", sums))
    starts = list(map(add, found, repeat(len(marker))))
    # A value with no closing quote is unclear (a line cut inside it).
    ends = list(map(bytes.find, rows, repeat(b'"'), starts))
    chosen.update(compress(range(count), map((-1).__eq__, ends)))
    for width in widths:
        values = map(getitem, rows, map(slice, starts, map(add, starts, repeat(width))))
        chosen.update(compress(range(count), map(closed.__contains__, values)))
    return [(sums[i] + i, sums[i + 1] + i + 1) for i in sorted(chosen)]


def _rows_holding(data: bytes, end: int, needle: bytes, sums: Sequence[int]) -> set[int]:
    """Indices of the lines holding ``needle``; ``sums[i] + i`` is where line ``i`` starts."""
    starts = [total + index for index, total in enumerate(sums)]
    rows: set[int] = set()
    found = data.find(needle, 0, end)
    while found != -1:
        rows.add(bisect_right(starts, found) - 1)
        found = data.find(needle, found + 1, end)
    return rows


def _escaped_line_starts(data: bytes, end: int) -> set[int]:
    """Offsets of the lines holding ``\\u``: the search for a backslash runs at memchr speed."""
    starts: set[int] = set()
    found = data.find(b"\\", 0, end)
    while found != -1:
        if data.startswith(ESCAPE, found):
            starts.add(data.rfind(b"\n", 0, found) + 1)
        found = data.find(b"\\", found + 2, end)
    return starts


def _line_starts(data: bytes, end: int, needles: Sequence[bytes]) -> set[int]:
    """Offsets in ``data`` of the lines (before ``end``) that hold any needle."""
    starts: set[int] = set()
    for needle in needles:
        found = data.find(needle, 0, end)
        while found != -1:
            starts.add(data.rfind(b"\n", 0, found) + 1)
            found = data.find(needle, data.index(b"\n", found, end) + 1, end)
    return starts


def leading_value(line: bytes, key: bytes) -> bytes | None:
    """The string value of ``key`` if the line starts with it, written compactly.

    ``{"id":"inc_1",…`` gives ``b"inc_1"`` for ``key=b'"id"'``. ``None`` when
    unsure: other spacing or key order, a second occurrence of the key in any
    form (a duplicate or a nested one), or any backslash in the line.
    """
    prefix = b"{" + key + b':"'
    if not line.startswith(prefix):
        return None
    return _checked_value(line, key, len(prefix))


def field_value(line: bytes, key: bytes) -> bytes | None:
    """The string value of ``key`` anywhere in a compact line, or ``None`` when unsure."""
    found = line.find(key + b':"')
    if found == -1:
        return None
    return _checked_value(line, key, found + len(key) + 2)


def _checked_value(line: bytes, key: bytes, start: int) -> bytes | None:
    end = line.find(b'"', start)
    # A backslash anywhere (memchr: cheap) may be an escape hiding the key; the
    # key twice (before or after, in any form) leaves unclear which is the record's.
    if end == -1 or b"\\" in line or line.count(key) != 1:
        return None
    return line[start:end]


def may_match(line: bytes, groups: Sequence[Sequence[bytes]]) -> bool:
    """The prefilter for one line: a needle of every group, or an escape that might hide one.

    ``[[b'"svc-a"', b'"svc-b"'], [b'"prod"']]`` reads "svc-a or svc-b, and prod".
    No groups: every line may match.
    """
    return all(any(needle in line for needle in group) for group in groups) or ESCAPE in line


def prefilter(groups: Sequence[Sequence[bytes]]) -> Callable[[bytes], bool]:
    """The needles half of :func:`may_match`, specialised for one or two needles.

    It runs once per line of the incidents file when the index cannot be used,
    so the escape half is left to the caller: a search for a backslash (which
    any escape needs) costs a third of a search for ``\\u``.
    """
    if not groups:
        return lambda _line: True
    if any(len(group) != 1 for group in groups) or len(groups) > 2:
        return lambda line: all(any(needle in line for needle in group) for group in groups)
    first, second = groups[0][0], groups[-1][0]
    return lambda line: first in line and second in line


_INCIDENT_PREFIX = b'{"id":"'
_INCIDENT_ID_END = len(_INCIDENT_PREFIX) + len("inc_20260101_0000_abcdef")


def incident_id_guess(line: bytes) -> bytes | None:
    """The id of an incident line without a backslash, or ``None`` when unsure.

    Incident ids are 24 characters (``inc_YYYYMMDD_HHMM_xxxxxx``), so on a
    compact line the id is a fixed slice. The slice is wrong only for a line
    whose record is invalid (an id of another length), which is never a
    version of anything; ``None`` for other spacing or a second ``"id"`` key.
    The caller checks for backslashes (possible escapes) first.
    """
    if not line.startswith(_INCIDENT_PREFIX) or line.find(b'"id"', _INCIDENT_ID_END) != -1:
        return None
    return line[len(_INCIDENT_PREFIX) : _INCIDENT_ID_END]


def exact_id_width(line: bytes) -> bool:
    """Whether the guessed id is the whole ``"id"`` value (the quote closes right after it)."""
    return line[_INCIDENT_ID_END : _INCIDENT_ID_END + 1] == b'"'


def quoted(value: str) -> bytes:
    """``value`` as it appears in a line when written without escapes: ``"value"``."""
    return b'"' + value.encode() + b'"'
