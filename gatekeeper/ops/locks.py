"""The per-job lock: one run of a job at a time, across processes and hosts.

On JSONL it is a ``flock`` on ``<store dir>/.jobs/<job>.lock``; on postgres and
auto it is a session advisory lock in the database, so the same cron installed
on two hosts runs a slot once. A run that finds the lock held fails at once
(:class:`JobLocked`) naming the holder: the file lock's holder writes itself
into the lock file; the advisory lock's holder is found in ``pg_stat_activity``
by the ``application_name`` it set. Both are released by the kernel or the
server when the holding process dies, so a killed run never leaves one behind.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from gatekeeper.errors import GatekeeperError, StoreUnavailable
from gatekeeper.timeutil import format_timestamp

LOCK_DIR = ".jobs"


class JobLocked(GatekeeperError):
    """Another run of the job holds its lock."""

    code = "conflict"


def holder_label(job: str, now: datetime) -> str:
    return f"pid {os.getpid()} on {socket.gethostname()} since {format_timestamp(now)}"


@contextmanager
def file_lock(directory: Path, job: str, now: datetime) -> Iterator[None]:
    """Hold ``<directory>/.jobs/<job>.lock`` or raise :class:`JobLocked` naming the holder."""
    lock_dir = directory / LOCK_DIR
    try:
        lock_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_dir / f"{job}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreUnavailable(
            f"cannot open job lock: {exc.strerror}", where=str(lock_dir)
        ) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            raise JobLocked(f"job {job} is already running ({holder})", where=job) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"holder": holder_label(job, now)}).encode(), 0)
        yield
    finally:
        os.close(fd)


def _read_holder(fd: int) -> str:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return "holder unknown"
    return str(data.get("holder") or "holder unknown")


@contextmanager
def advisory_lock(url: str | None, job: str, now: datetime) -> Iterator[None]:
    """Hold a Postgres session advisory lock for ``job`` or raise :class:`JobLocked`."""
    from psycopg import sql

    from gatekeeper.store.pg_connection import PostgresTarget, connect, translate

    target = PostgresTarget.parse(url)
    conn = connect(target)
    name = f"gatekeeper job {job}: pid {os.getpid()} on {socket.gethostname()}"[:63]
    try:
        with translate(target, "job lock", conn):
            conn.execute(sql.SQL("SET application_name TO {}").format(sql.Literal(name)))
            key = f"gatekeeper.job:{job}"
            row = conn.execute(
                "SELECT pg_try_advisory_lock(hashtext(%s || current_schema())) AS ok", (key,)
            ).fetchone()
            if not row or not row["ok"]:
                raise JobLocked(
                    f"job {job} is already running ({_pg_holder(conn, key)})", where=job
                )
        yield
    finally:
        conn.close()  # ends the session: the server releases the lock


def _pg_holder(conn: object, key: str) -> str:
    row = conn.execute(  # type: ignore[attr-defined]
        "SELECT a.application_name AS name, a.client_addr AS addr FROM pg_locks l"
        " JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory'"
        " AND l.granted AND l.objid = (hashtext(%s || current_schema())::bigint & 4294967295)::oid"
        " AND a.pid <> pg_backend_pid() LIMIT 1",
        (key,),
    ).fetchone()
    if not row:
        return "holder unknown"
    name = str(row["name"]).split(": ", 1)[-1]
    return name if row["addr"] is None else f"{name}, client {row['addr']}"
