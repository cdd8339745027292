"""A rebuildable sidecar index of the JSONL store: ``.index.sqlite3`` in the store directory.

The JSONL files stay the source of truth; the index only says where to look.
For the bytes of ``incidents.jsonl`` and ``events.jsonl`` it has read, it holds
what a full read computes: the offset of the latest valid version of every
incident with the fields queries filter on, the offset of every ``followup``
event, and the damaged lines (so queries still report them).

**Writers keep it current.** Under the store lock a writer checks that the
index describes each file exactly as it is (device, inode, size, modification
time), appends, then indexes the bytes it appended, in one SQLite transaction.
A file that changed any other way (edited by hand, written by another tool, a
writer that died between its append and its index update, a copied directory)
no longer matches, and the next write re-reads that file from the start.

**Readers trust it only when it matches.** Inside one SQLite read transaction
they compare the recorded state with ``fstat`` of the very descriptors they
then read from; any difference and they scan the files instead. Every line the
index points to is parsed and checked again; a surprise there also means "scan".
So a stale index is never used: it only ever costs speed.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gatekeeper._frozen import frozen
from gatekeeper.models import Event, Incident
from gatekeeper.store import jsonl_reader
from gatekeeper.store.jsonl_reader import EVENTS, INCIDENTS, parse_line
from gatekeeper.store.jsonl_scan import LineFile, field_value, leading_value

INDEX = jsonl_reader.INDEX
INDEXED = (INCIDENTS, EVENTS)
# Bump when what is recorded, or what makes a line valid, changes: an index of
# another version is rebuilt by the next write and ignored until then.
VERSION = 3
_ROWS_PER_INSERT = 5000
_UNREADABLE = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
_FIRST_READ = 8192  # most records are far shorter
_MAX_READ = 16 << 20

_SCHEMA = """
CREATE TABLE files (
    name TEXT PRIMARY KEY, dev INT, ino INT, size INT, mtime_ns INT, boot TEXT
);
CREATE TABLE incidents (
    id TEXT PRIMARY KEY, pos INT NOT NULL, service TEXT NOT NULL, env TEXT NOT NULL,
    severity TEXT NOT NULL, status TEXT NOT NULL, started_us INT NOT NULL
) WITHOUT ROWID;
CREATE INDEX incidents_scope ON incidents (service, env);
CREATE INDEX incidents_started ON incidents (started_us DESC, id DESC);
CREATE TABLE followups (incident_id TEXT NOT NULL, pos INT NOT NULL);
CREATE INDEX followups_incident ON followups (incident_id);
CREATE TABLE damaged (name TEXT NOT NULL, pos INT NOT NULL, line INT NOT NULL, key TEXT);
"""


class IndexMismatch(Exception):
    """A line the index points to is not what it says: the caller scans instead."""


@functools.cache
def boot_id() -> str:
    """This boot of the machine (Linux), or ``""`` where that cannot be known."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


@frozen
class FileState:
    """What must not have changed for the index to describe a file.

    ``boot`` is the machine's boot the state was seen in. The index is written
    without ``fsync`` when the boot is known (a process that dies leaves SQLite's
    journal to roll back; only a machine that stops can lose writes), so an
    index from an earlier boot is never trusted: the next write rebuilds it.
    """

    dev: int
    ino: int
    size: int
    mtime_ns: int
    boot: str

    @classmethod
    def of(cls, st: os.stat_result) -> FileState:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, boot_id())


def _missing() -> FileState:
    return FileState(0, 0, -1, 0, boot_id())


def _state(path: Path) -> FileState:
    try:
        return FileState.of(os.stat(path))
    except FileNotFoundError:
        return _missing()


def _recorded(con: sqlite3.Connection, name: str) -> FileState | None:
    row = con.execute(
        "SELECT dev, ino, size, mtime_ns, boot FROM files WHERE name = ?", (name,)
    ).fetchone()
    return FileState(*row) if row else None


def micros(moment: datetime) -> int:
    """Microseconds since the epoch: an exact, sortable integer for an aware datetime."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# -- writing (under the store lock) ----------------------------------------------


@contextmanager
def updating(directory: Path) -> Iterator[None]:
    """Around a writer's appends: afterwards, index what they (or anyone) added.

    The store lock must be held. Failing to update the index never fails the
    write: an index left behind no longer matches the files, so it is not used.
    """
    con = _open_for_writing(directory)
    if con is None:
        yield
        return
    with closing(con):  # closing rolls back whatever was not committed
        try:
            con.execute("BEGIN IMMEDIATE")
            before = {name: _state(directory / name) for name in INDEXED}
            current = {name: _recorded(con, name) == before[name] for name in INDEXED}
        except (sqlite3.Error, OSError):
            yield
            return
        yield  # the appends
        try:
            for name in INDEXED:
                untouched = _state(directory / name) == before[name]
                if not (current[name] and untouched):
                    _refresh(con, directory / name, extend=current[name])
            con.execute("COMMIT")
        except Exception:  # the records are written: never fail the write
            pass  # the recorded states are older than the files now, so never used


def rebuild(directory: Path, names: Sequence[str] = INDEXED) -> None:
    """Forget what the index knows of ``names`` and read them again (store lock held)."""
    con = _open_for_writing(directory)
    if con is None:
        return
    with closing(con):
        try:
            con.execute("BEGIN IMMEDIATE")
            for name in names:
                _refresh(con, directory / name, extend=False)
            con.execute("COMMIT")
        except Exception:  # compaction is done: never fail it
            pass


def _open_for_writing(directory: Path) -> sqlite3.Connection | None:
    """The index, created or reset to this version's schema; ``None`` if unusable."""
    path = directory / INDEX
    for attempt in range(2):
        con = None
        try:
            con = sqlite3.connect(path, timeout=10, isolation_level=None)
            # Durable enough without fsync when an index from another boot is ignored.
            con.execute(f"PRAGMA synchronous = {'OFF' if boot_id() else 'FULL'}")
            if con.execute("PRAGMA user_version").fetchone()[0] != VERSION:
                _reset(con)
            return con
        except sqlite3.Error as exc:
            if con is not None:
                con.close()
            if attempt or exc.sqlite_errorcode not in _UNREADABLE:
                return None  # locked, read-only, …: leave it; it no longer matches
            path.unlink(missing_ok=True)  # not a database, or damaged: start from nothing
    return None


def _reset(con: sqlite3.Connection) -> None:
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    drops = "".join(f'DROP TABLE "{table}";' for table in tables)
    con.executescript(
        f"BEGIN IMMEDIATE; {drops} {_SCHEMA}; PRAGMA user_version = {VERSION}; COMMIT;"
    )


def _refresh(con: sqlite3.Connection, path: Path, *, extend: bool) -> None:
    """Index ``path`` from where the index stopped (``extend``) or from the start."""
    recorded = _recorded(con, path.name) if extend else None
    start = max(recorded.size, 0) if recorded is not None else 0
    if recorded is None:
        _forget(con, path.name)
    con.execute("DELETE FROM files WHERE name = ?", (path.name,))
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        _record(con, path.name, _missing())
        return
    with handle:
        before = FileState.of(os.fstat(handle.fileno()))
        lines = LineFile(path, handle)
        if path.name == INCIDENTS:
            _index_incidents(con, lines, start)
        else:
            _index_events(con, lines, start)
        after = FileState.of(os.fstat(handle.fileno()))
        # Only a file that held still while it was read, and ends in a whole
        # line, is described; otherwise it stays undescribed until next time.
        if before == after and lines.end == after.size:
            _record(con, path.name, after)


def _forget(con: sqlite3.Connection, name: str) -> None:
    con.execute("DELETE FROM damaged WHERE name = ?", (name,))
    con.execute(f"DELETE FROM {'incidents' if name == INCIDENTS else 'followups'}")


def _record(con: sqlite3.Connection, name: str, state: FileState) -> None:
    con.execute(
        "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?)",
        (name, state.dev, state.ino, state.size, state.mtime_ns, state.boot),
    )


def _index_incidents(con: sqlite3.Connection, lines: LineFile, start: int) -> None:
    """Record every line from ``start``: in file order, so the last valid version wins."""
    rows: list[tuple[Any, ...]] = []
    for offset, line in lines.lines(start):
        incident, reason = parse_line(line, Incident)
        if incident is not None:
            rows.append(
                (incident.id, offset, incident.service, incident.env, incident.severity)
                + (incident.status, micros(incident.started_at))
            )
        elif reason is not None:
            key = leading_value(line, b'"id"')
            _damaged(con, lines, offset, key)
        if len(rows) >= _ROWS_PER_INSERT:
            _insert_incidents(con, rows)
    _insert_incidents(con, rows)


def _insert_incidents(con: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    con.executemany("INSERT OR REPLACE INTO incidents VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    rows.clear()


def _index_events(con: sqlite3.Connection, lines: LineFile, start: int) -> None:
    """Record the ``followup`` events from ``start``, and every damaged line with its id.

    Every line is parsed: a gate reports a damaged event of its incidents
    whatever type it had, as its scan does (``event_damage_matters``).
    """
    rows: list[tuple[str, int]] = []
    for offset, line in lines.lines(start):
        event, reason = parse_line(line, Event)
        if event is not None and event.type == "followup":
            rows.append((event.incident_id, offset))
        elif reason is not None:
            _damaged(con, lines, offset, field_value(line, b'"incident_id"'))
    con.executemany("INSERT INTO followups VALUES (?, ?)", rows)


def _damaged(con: sqlite3.Connection, lines: LineFile, offset: int, key: bytes | None) -> None:
    number = lines.line_number(offset)
    text = key.decode() if key is not None else None
    con.execute("INSERT INTO damaged VALUES (?, ?, ?, ?)", (lines.path.name, offset, number, text))


# -- reading ---------------------------------------------------------------------


class Snapshot:
    """The index and the files it describes, opened together and known to match."""

    def __init__(self, con: sqlite3.Connection, fds: dict[str, int], directory: Path) -> None:
        self._con = con
        self._fds = fds
        self.directory = directory

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._con.execute(sql, params).fetchall()

    def line(self, name: str, offset: int) -> bytes:
        """The whole line starting at ``offset`` (newline included).

        Linear in the line's length: each chunk is searched once and chunks
        double in size, so a 24 MiB line is a handful of reads, not thousands
        of ever longer copies and searches.
        """
        fd, chunks, read, size = self._fds[name], [], 0, _FIRST_READ
        while True:
            chunk = os.pread(fd, size, offset + read)
            if not chunk:
                raise IndexMismatch(f"{name}: no whole line at {offset}")
            cut = chunk.find(b"\n")
            if cut != -1:
                chunks.append(chunk[: cut + 1])
                return b"".join(chunks)
            chunks.append(chunk)
            read += len(chunk)
            size = min(size * 2, _MAX_READ)

    def damaged(self, name: str) -> list[tuple[int, int, str | None]]:
        """``(offset, line number, key)`` of the damaged lines the index knows in ``name``."""
        return [
            (pos, line, key)
            for pos, line, key in self.rows(
                "SELECT pos, line, key FROM damaged WHERE name = ? ORDER BY pos", (name,)
            )
        ]


@contextmanager
def snapshot(directory: Path) -> Iterator[Snapshot | None]:
    """The index if it describes the files exactly as they are now, else ``None``."""
    path = directory / INDEX
    if not path.is_file():
        yield None
        return
    with ExitStack() as stack:
        try:
            uri = path.resolve().as_uri() + "?mode=ro"
            con = sqlite3.connect(uri, uri=True, timeout=1, isolation_level=None)
            stack.callback(con.close)
            con.execute("BEGIN")  # one read transaction: a writer cannot commit meanwhile
            fds = _matching_files(con, directory, stack)
        except (sqlite3.Error, OSError):
            fds = None
        yield Snapshot(con, fds, directory) if fds is not None else None


def _matching_files(
    con: sqlite3.Connection, directory: Path, stack: ExitStack
) -> dict[str, int] | None:
    if con.execute("PRAGMA user_version").fetchone()[0] != VERSION:
        return None
    fds: dict[str, int] = {}
    for name in INDEXED:
        try:
            fd = os.open(directory / name, os.O_RDONLY)
        except FileNotFoundError:
            if _recorded(con, name) != _missing():
                return None
            continue
        stack.callback(os.close, fd)
        if _recorded(con, name) != FileState.of(os.fstat(fd)):
            return None
        fds[name] = fd
    return fds
