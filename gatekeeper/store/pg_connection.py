"""Connecting to PostgreSQL, and turning psycopg errors into gatekeeper errors.

This is the one place psycopg exceptions are caught and translated (the boundary
of STYLE.md habit 4). Messages are one line, name the server (``user@host:port/db``)
and what failed, and never carry the password:

    psycopg.errors.UniqueViolation            -> Conflict
    psycopg.OperationalError (link is gone)   -> PostgresUnreachable (a StoreUnavailable)
    any other psycopg.Error                   -> StoreUnavailable
"""

from __future__ import annotations

import math
import os
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow, dict_row

from gatekeeper.errors import ConfigError, Conflict, StoreUnavailable

Connection = psycopg.Connection[DictRow]

# A CI gate should not hang on a dead host; libpq's own default is to wait forever.
DEFAULT_CONNECT_TIMEOUT_S = 5
CONNECT_TIMEOUT_ENV = "GATEKEEPER_PG_CONNECT_TIMEOUT_S"
STATEMENT_TIMEOUT_ENV = "GATEKEEPER_PG_STATEMENT_TIMEOUT_S"
GATE_STATEMENT_TIMEOUT_S = 10.0
MAINTENANCE_STATEMENT_TIMEOUT_S = 600.0
DEADLINE_GRACE_S = 2.0


@dataclass(frozen=True)
class Timeouts:
    """How long a session may take to connect, and each statement to answer.

    ``statement_s`` is the server's ``statement_timeout``; ``deadline_s`` the
    client-side limit that also catches a server (or network) that stalls
    after connecting and so never enforces its own timeout.
    """

    connect_s: float = DEFAULT_CONNECT_TIMEOUT_S
    statement_s: float = GATE_STATEMENT_TIMEOUT_S

    @classmethod
    def from_environment(
        cls, *, maintenance: bool = False, environ: Mapping[str, str] | None = None
    ) -> Timeouts:
        env = os.environ if environ is None else environ
        statement = MAINTENANCE_STATEMENT_TIMEOUT_S if maintenance else GATE_STATEMENT_TIMEOUT_S
        return cls(
            connect_s=_seconds(env, CONNECT_TIMEOUT_ENV, DEFAULT_CONNECT_TIMEOUT_S),
            statement_s=_seconds(env, STATEMENT_TIMEOUT_ENV, statement),
        )

    @property
    def deadline_s(self) -> float:
        return self.statement_s + DEADLINE_GRACE_S


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"not a number of seconds: {raw!r}", where=name) from None
    if value <= 0:
        raise ConfigError("must be a positive number of seconds", where=name)
    return value


URL_HINT = "expected e.g. postgresql://user@host:5432/dbname"


class PostgresUnreachable(StoreUnavailable):
    """The server cannot be reached, or the connection broke: auto mode falls back."""


class PostgresNoAnswer(PostgresUnreachable):
    """The server did not answer within the deadline (it, or the network, stalls)."""


class PostgresRefused(StoreUnavailable):
    """The server refused the data itself (a value it cannot store, a constraint):
    retrying the same write can never succeed, so a replay quarantines it."""


@dataclass(frozen=True)
class PostgresTarget:
    """A database URL (or libpq DSN), with what may be shown about it."""

    url: str
    host: str
    port: str
    dbname: str
    user: str
    password: str | None
    schema: str | None = None  # set with SET search_path after connecting
    url_search_path: str | None = None  # set by the URL's options; shown in messages

    @classmethod
    def parse(cls, url: str | None, *, schema: str | None = None) -> PostgresTarget:
        if not url:
            raise ConfigError(
                "no PostgreSQL URL given; set DATABASE_URL or --database-url",
                where="DATABASE_URL/--database-url",
            )
        try:
            parts = conninfo_to_dict(url)
        except psycopg.ProgrammingError:
            # The parser's message may quote the URL, password included: say less.
            raise ConfigError(
                f"not a PostgreSQL URL ({URL_HINT})", where="DATABASE_URL/--database-url"
            ) from None
        return cls(
            url=url,
            host=str(parts.get("host") or "localhost"),
            port=str(parts.get("port") or "5432"),
            dbname=str(parts.get("dbname") or parts.get("user") or "postgres"),
            user=str(parts.get("user") or ""),
            password=str(parts["password"]) if parts.get("password") else None,
            schema=schema,
            url_search_path=_search_path(str(parts.get("options") or "")),
        )

    @property
    def label(self) -> str:
        """``postgres user@host:port/db[ schema s]``, safe to print."""
        user = f"{self.user}@" if self.user else ""
        shown = self.schema or self.url_search_path
        schema = f" schema {shown}" if shown else ""
        return f"postgres {user}{self.host}:{self.port}/{self.dbname}{schema}"

    def scrub(self, text: str) -> str:
        """One line of ``text`` with the password blanked, should a driver echo it."""
        line = text.strip().splitlines()[0] if text.strip() else "unknown error"
        return line.replace(self.password, "***") if self.password else line


def _search_path(options: str) -> str | None:
    """The search_path set in libpq ``options`` (``-csearch_path=x``), for messages."""
    for option in options.split():
        if option.startswith(("-csearch_path=", "--search_path=")):
            return option.split("=", 1)[1]
    return None


def connect(target: PostgresTarget, timeouts: Timeouts | None = None) -> Connection:
    """Open an autocommit connection (transactions are explicit), search_path and
    ``statement_timeout`` set; a server that does not answer in time is unreachable."""
    timeouts = timeouts or Timeouts.from_environment()
    parts = conninfo_to_dict(target.url)
    extra: dict[str, Any] = {}
    if "connect_timeout" not in parts:
        extra["connect_timeout"] = max(2, math.ceil(timeouts.connect_s))  # libpq: whole seconds
    if "application_name" not in parts:
        extra["application_name"] = "gatekeeper"
    try:
        conn = psycopg.connect(target.url, autocommit=True, row_factory=dict_row, **extra)
    except psycopg.Error as exc:
        raise PostgresUnreachable(
            f"cannot connect: {target.scrub(str(exc))}", where=target.label
        ) from exc
    try:
        what = "setting up the session"
        with deadline(target, conn, timeouts.deadline_s, what), translate(target, what, conn):
            milliseconds = f"{round(timeouts.statement_s * 1000)}ms"
            conn.execute("SELECT set_config('statement_timeout', %s, false)", (milliseconds,))
            if target.schema:
                path = sql.SQL("SET search_path TO {}").format(sql.Identifier(target.schema))
                conn.execute(path)
    except StoreUnavailable:
        conn.close()
        raise
    return conn


@contextmanager
def snapshot(conn: Connection) -> Iterator[None]:
    """A REPEATABLE READ, READ ONLY transaction for the block, begun in one round trip.

    psycopg sends its ``BEGIN`` with the connection's ``isolation_level`` and
    ``read_only`` in it (one statement, where ``BEGIN`` and then ``SET
    TRANSACTION`` were two); both are put back once the transaction is over,
    so later transactions (the writes) start with the server's defaults again.
    A connection on which they cannot be put back is closed, so the store
    replaces it before its next use (as it does a connection that broke).
    """
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    try:
        with conn.transaction():
            yield
    finally:
        try:
            conn.isolation_level = None
            conn.read_only = None
        except psycopg.Error:
            conn.close()


@contextmanager
def deadline(target: PostgresTarget, conn: Connection, seconds: float, what: str) -> Iterator[None]:
    """Fail the block as unreachable if the server has not answered within ``seconds``.

    A server that stalls after connecting never enforces its own
    ``statement_timeout``; the client shuts the socket down instead, which
    breaks the blocked read (and the connection, which is then replaced).
    """
    fired = threading.Event()

    def expire() -> None:
        fired.set()
        with suppress(OSError, psycopg.Error):
            sock = socket.socket(fileno=os.dup(conn.pgconn.socket))
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    except StoreUnavailable as exc:
        if fired.is_set():
            raise PostgresNoAnswer(
                f"{what} failed: no answer from the server within {seconds:g} s",
                where=target.label,
            ) from exc
        raise
    finally:
        timer.cancel()


@contextmanager
def translate(target: PostgresTarget, what: str, conn: Connection | None = None) -> Iterator[None]:
    """Re-raise psycopg errors raised in the block as gatekeeper errors (see module doc)."""
    try:
        yield
    except psycopg.errors.UniqueViolation as exc:
        detail = exc.diag.message_detail or target.scrub(str(exc))
        raise Conflict(f"{what}: record already exists: {detail}", where=target.label) from exc
    except psycopg.Error as exc:
        raise describe_failure(target, what, exc, conn) from exc


def describe_failure(
    target: PostgresTarget, what: str, exc: psycopg.Error, conn: Connection | None
) -> StoreUnavailable:
    """The gatekeeper error for a psycopg error that is not a constraint violation."""
    message = f"{what} failed: {target.scrub(str(exc))}"
    broken = conn is not None and (conn.broken or conn.closed)
    if isinstance(exc, psycopg.OperationalError) and (conn is None or broken):
        return PostgresUnreachable(message, where=target.label)
    if isinstance(exc, psycopg.DataError | psycopg.IntegrityError):
        return PostgresRefused(message, where=target.label)
    if isinstance(exc, psycopg.errors.UndefinedTable):
        return StoreUnavailable(
            f"{what} failed: tables missing; run `gatekeeper store migrate`", where=target.label
        )
    return StoreUnavailable(message, where=target.label)
