"""Reading the JSONL store's files: parse what a query may need, report what is damaged.

Each query names the cheapest way to find its candidate lines (see
:mod:`gatekeeper.store.jsonl_scan` for why each skip is safe); the lines it
parses are validated, and a damaged one is skipped and reported as
``path:line: skipped corrupt record (reason)``, once per reader. A line a query
skips unparsed is not reported by that query: ``store verify`` parses every
line and reports them all.
"""

from __future__ import annotations

import json
import os
from bisect import bisect_right
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from itertools import accumulate, compress, repeat
from operator import add, getitem
from pathlib import Path
from typing import TypeVar, cast

from pydantic import ValidationError

from gatekeeper.errors import StoreUnavailable
from gatekeeper.models import Artifact, Event, Incident, Record, describe_validation_error
from gatekeeper.store import jsonl_batch
from gatekeeper.store.base import Collectors, IncidentFilter, Problem
from gatekeeper.store.fileio import open_regular, refuse_symlinked
from gatekeeper.store.jsonl_scan import (
    ESCAPE,
    LineFile,
    all_shaped,
    exact_id_width,
    incident_id_guess,
    leading_value,
    prefilter,
    quoted,
    shaped,
)

R = TypeVar("R", bound=Record)
T = TypeVar("T")
ProblemSink = Callable[[Problem], None]
INCIDENTS = "incidents.jsonl"
EVENTS = "events.jsonl"
ARTIFACTS = "artifacts.jsonl"
INDEX = ".index.sqlite3"  # the sidecar index (gatekeeper.store.jsonl_index)
OVERRIDES = "gate_overrides.jsonl"  # gatekeeper.store.overrides.LOG_FILE (a test holds them equal)
TORN = "torn write: no newline at end"
UNTERMINATED = "no newline at end (the record is served; the next write adds the newline)"
MODELS: dict[str, type[Record]] = {
    INCIDENTS: Incident,
    EVENTS: Event,
    ARTIFACTS: Artifact,
}


def model_of(name: str) -> type[Record] | None:
    """The record model of the store file ``name`` (``None`` for a file of no records)."""
    if name == OVERRIDES:  # the break-glass log: its model is built only when it is read
        from gatekeeper.store.overrides import GateOverride

        return GateOverride
    return MODELS.get(name)


class JsonlReader:
    """Reads the files of one store directory, reporting damaged lines to ``on_problem``."""

    def __init__(self, directory: Path, on_problem: ProblemSink) -> None:
        self.directory = directory
        self._on_problem = on_problem
        # Every damaged line met so far, by (path, offset): told to ``on_problem`` once.
        self._reported: dict[tuple[str, int], Problem] = {}
        # The open ``collecting`` blocks: each gets every problem met inside it, once,
        # even one an earlier read of this store already reported.
        self._collectors = Collectors()
        # Valid last lines without a newline: served, and listed by ``store verify``.
        self.unterminated: list[Problem] = []
        self._unterminated_at: set[tuple[str, int]] = set()

    def collecting(self, into: list[Problem]) -> AbstractContextManager[None]:
        """Also append every problem met inside the block to ``into``.

        A damaged line already reported by an earlier read is appended too: what a
        query read through must travel with its answer, whatever was read first.
        """
        return self._collectors.block(into)

    def _met(self, key: tuple[str, int], problem: Callable[[], Problem]) -> None:
        """Report the problem at ``key`` once, and to every open collector once."""
        known = self._reported.get(key)
        if known is None:
            known = self._reported[key] = problem()
            self._on_problem(known)
        self._collectors.add([known])

    @contextmanager
    def scan(self, name: str) -> Iterator[LineFile | None]:
        """The file opened for one front-to-back read (``None`` if it does not exist yet).

        Only committed batches are read (:func:`jsonl_batch.visible_sizes`). An
        unterminated last line is judged when the read is over: a torn fragment
        is reported, a complete record noted in :attr:`unterminated`.
        """
        path = self.directory / name
        refuse_symlinked(self.directory)
        if not self.directory.is_dir():
            raise StoreUnavailable("store directory does not exist", where=str(self.directory))
        try:
            handle = os.fdopen(open_regular(path, os.O_RDONLY), "rb")
        except FileNotFoundError:
            yield None
            return
        except OSError as exc:
            raise StoreUnavailable(f"cannot read: {exc.strerror}", where=str(path)) from exc
        with handle:
            bounds = jsonl_batch.visible_sizes(self.directory)
            lines = LineFile(path, handle, None if bounds is None else bounds.get(name))
            yield lines
            if lines.tail_at is not None:
                self._judge_tail(lines, lines.tail_at, handle.fileno(), model_of(name))

    def _judge_tail(
        self, lines: LineFile, offset: int, fd: int, model: type[Record] | None
    ) -> None:
        stop = os.fstat(fd).st_size if lines.limit is None else lines.limit
        tail = os.pread(fd, max(stop - offset, 0), offset)
        record, _reason = parse_line(tail, model) if model is not None else (None, None)
        if record is None:
            self.report(lines.path, offset, TORN, lines.line_number)
        elif (str(lines.path), offset) not in self._unterminated_at:
            self._unterminated_at.add((str(lines.path), offset))
            self.unterminated.append(
                Problem(str(lines.path), lines.line_number(offset), UNTERMINATED)
            )

    def parse(self, lines: LineFile, offset: int, line: bytes, model: type[R]) -> R | None:
        """The record on ``line``; ``None`` for a blank line or a damaged one (reported)."""
        record, reason = parse_line(line, model)
        if reason is not None:
            self.report(lines.path, offset, torn_or(lines, offset, reason), lines.line_number)
        return record

    def report(
        self, path: Path, offset: int, reason: str, line_number: Callable[[int], int]
    ) -> None:
        """Report the damaged line at ``offset`` once (its number is counted only then)."""
        self._met((str(path), offset), lambda: Problem(str(path), line_number(offset), reason))

    def parsed_lines(self, name: str, model: type[R]) -> Iterator[tuple[bytes, R | None]]:
        """Every complete line with its record (``None``: blank or damaged), in file order."""
        with self.scan(name) as lines:
            if lines is not None:
                for offset, line in lines.lines():
                    yield line, self.parse(lines, offset, line, model)

    def records(self, name: str, model: type[R]) -> Iterator[R]:
        """Every record of the file, in file order."""
        return (record for _line, record in self.parsed_lines(name, model) if record is not None)

    def records_holding(self, name: str, model: type[R], needles: Sequence[bytes]) -> Iterator[R]:
        """Records whose line holds a needle (or an escape): for one id's lines.

        The caller still checks each record; the needles only skip lines.
        """
        with self.scan(name) as lines:
            if lines is not None:
                for offset, line in lines.candidates(needles):
                    if (record := self.parse(lines, offset, line, model)) is not None:
                        yield record

    def records_keyed(
        self, name: str, model: type[R], key: bytes, wanted: Collection[bytes]
    ) -> Iterator[R]:
        """Records whose line starts with ``key`` in ``wanted``, or whose key is unclear.

        One slice and one set lookup per line, so thousands of wanted ids cost
        no more than one; the caller still checks each record.
        """
        with self.scan(name) as lines:
            if lines is not None:
                for offset, line in lines.lines():
                    value = leading_value(line, key)
                    if value is not None and value not in wanted:
                        continue
                    if (record := self.parse(lines, offset, line, model)) is not None:
                        yield record

    def latest_incidents(
        self, groups: Sequence[Sequence[bytes]], keep: Callable[[Incident, int], T | None]
    ) -> dict[bytes, T]:
        """``keep(latest version, offset)`` of every incident where it is not ``None``.

        ``groups`` must be a necessary condition of ``keep``: a version whose
        line holds no needle of some group (and no escape) is one ``keep``
        rejects. Such lines are not parsed unless they may supersede a kept
        version, so last-wins stays exact: a later valid version always
        replaces an earlier one, while a damaged later line never does.

        A damaged line is reported when it may matter (:func:`damage_matters`,
        the same rule the sidecar index applies): it holds the needles (or an
        escape), or it comes after the latest version of a kept incident that
        it may belong to. Damage of the second kind is only known at the end.
        """
        found: dict[bytes, T | None] = {}
        kept: dict[bytes, int] = {}  # the ids whose latest version so far is kept: its offset
        pending: list[tuple[int, bytes | None, str]] = []
        hit = prefilter(groups)
        with self.scan(INCIDENTS) as lines:
            if lines is None:
                return {}

            def consider(offset: int, line: bytes) -> None:
                matches = hit(line)
                if not (matches or b"\\" in line):  # a backslash may be an escape
                    if not kept:
                        return  # cannot be kept, nor come after a kept version
                    guess = incident_id_guess(line)
                    if guess is not None and guess not in kept and exact_id_width(line):
                        return  # neither kept nor a version of a kept incident
                incident, reason = parse_line(line, Incident)
                if reason is not None:
                    reason = torn_or(lines, offset, reason)
                    if matches or ESCAPE in line:
                        self.report(lines.path, offset, reason, lines.line_number)
                    else:
                        pending.append((offset, leading_value(line, b'"id"'), reason))
                elif incident is not None:
                    key = incident.id.encode()
                    value = found[key] = keep(incident, offset)
                    if value is None:
                        kept.pop(key, None)
                    else:
                        kept[key] = offset

            for base, data, end in lines.blocks(split=True):
                for offset, line in _block_candidates(base, data, end, groups, kept.keys()):
                    consider(offset, line)
            for offset, damaged_id, reason in pending:
                if damage_matters(offset, damaged_id, kept):
                    self.report(lines.path, offset, reason, lines.line_number)
        return {key: value for key, value in found.items() if value is not None}


def torn_or(lines: LineFile, offset: int, reason: str) -> str:
    """``reason``, or :data:`TORN` for a damaged last line without a newline."""
    return TORN if offset == lines.tail_at else reason


_PREFIX = b'{"id":"'
# The line's start up to its id's closing quote: a line whose id is not of the usual
# width never matches a kept id this way, and is no version of anything (ids have
# one width).
_HEAD = slice(0, len(_PREFIX) + len("inc_20260101_0000_abcdef") + 1)
_HEAD_WIDTH = _HEAD.stop


def _block_candidates(
    base: int, data: bytes, end: int, groups: Sequence[Sequence[bytes]], kept: Collection[bytes]
) -> Iterator[tuple[int, bytes]]:
    """The lines of one block (``data[:end]``, at ``base``) that the per-line test must see.

    On a block without a backslash, each line holding ``"id"`` once, a line the
    per-line test of :meth:`JsonlReader.latest_incidents` would pass over (it
    fails the needles, and its id is not kept) is left out without Python
    bytecode: the needles are searched with ``bytes.find``, and each line's
    head (``{"id":"``, the id and its quote) is sliced with a C-level ``map``.
    The lines left are those holding the needles, those whose id is kept so far
    or is the id of such a line (the only ids that can be kept while the block
    is read), and those whose head is not ``{"id":"``, a whole id and its
    closing quote (other spacing, a line cut short): the per-line test judges
    those. Any other block: every line.
    """
    rows = data.split(b"\n")
    rows.pop()  # after the last newline: a partial line or nothing
    count = len(rows)
    sums = list(accumulate(map(len, rows), initial=0))
    regular = data.find(b"\\", 0, end) == -1 and data.count(b'"id"', 0, end) == count
    if not regular or not groups:
        for index, row in enumerate(rows):
            yield base + sums[index] + index, row + b"\n"
        return
    starts = list(map(add, sums, range(count + 1)))  # where each line starts (and the end)
    chosen: set[int] = set()
    for needle in groups[0]:
        found = data.find(needle, 0, end)
        while found != -1:
            index = bisect_right(starts, found) - 1
            chosen.add(index)
            found = data.find(needle, starts[index + 1], end)
    for group in groups[1:]:
        chosen = {i for i in chosen if any(needle in rows[i] for needle in group)}
    heads = cast(list[bytes], list(map(getitem, rows, repeat(_HEAD))))
    odd: set[bytes] = set()
    if not all_shaped(b"".join(heads), count, _PREFIX, _HEAD_WIDTH):
        odd = {head for head in set(heads) if not shaped(head, _PREFIX, _HEAD_WIDTH)}
    wanted = {heads[i] for i in chosen}.union(_PREFIX + key + b'"' for key in kept) | odd
    if wanted:
        for index in compress(range(count), map(wanted.__contains__, heads)):
            yield starts[index] + base, rows[index] + b"\n"


def damage_matters(offset: int, key: bytes | None, kept: Mapping[bytes, int]) -> bool:
    """Whether a damaged incident line without the query's needles may change the answer.

    It may be a newer version of a kept incident, which then might not be what
    the query found: so it matters when it comes after the latest valid version
    of the incident its ``key`` names, or, when its id cannot be read
    (``key`` is ``None``), after the latest version of any kept incident. A
    damaged line before that is superseded whatever it held.
    """
    if key is None:
        return any(offset > position for position in kept.values())
    position = kept.get(key)
    return position is not None and offset > position


def event_damage_matters(key: bytes | None, ids: Collection[bytes]) -> bool:
    """Whether an ``events.jsonl`` line with incident id ``key`` may matter to a gate of ``ids``.

    ``key`` is what :func:`~gatekeeper.store.jsonl_scan.field_value` reads
    (``None``: unclear). Only a line whose bytes name another incident is ruled
    out; a damaged line of one of ``ids``, or one whose id cannot be read, may be
    a follow-up whose ``"type"`` the damage hit, so the gate reports it.
    """
    return key is None or key in ids


def filter_groups(query: IncidentFilter) -> list[list[bytes]]:
    """What a line must hold to pass ``query``: a quoted value of each filter given."""
    groups: list[list[bytes]] = []
    for values in (query.status, query.severity):
        if values is not None:
            groups.append([quoted(v) for v in sorted(values)])
    for value in (query.service, query.env):
        if value is not None:
            groups.append([quoted(value)])
    return groups


def parse_line(line: bytes, model: type[R]) -> tuple[R | None, str | None]:
    """``(record, None)``, ``(None, reason)`` for a damaged line, ``(None, None)`` if blank."""
    try:
        # pydantic-core's own JSON parser: no intermediate dict of Python objects.
        return model.model_validate_json(line), None
    except Exception:  # any failure to decode one record means that record is corrupt
        # Rare: a damaged line. Parse it the plain way so the reason reads as it
        # always has ("not JSON: …" / "field: …"), and so any record the plain
        # way accepts is still served.
        return _parse_plainly(line, model)


def _parse_plainly(line: bytes, model: type[R]) -> tuple[R | None, str | None]:
    if not line.strip():
        return None, None
    try:
        # Without the newline, a torn string reads "Unterminated string", not
        # "Invalid control character".
        return model.model_validate(json.loads(line.rstrip(b"\r\n"))), None
    except ValidationError as exc:
        return None, describe_validation_error(exc)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None, f"not JSON: {exc}"
    except (RecursionError, MemoryError) as exc:
        return None, f"not decodable: {type(exc).__name__}"
    except Exception as exc:  # OverflowError and whatever a validator raises: still one record
        return None, f"not decodable: {type(exc).__name__}: {exc}"
