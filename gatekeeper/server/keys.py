"""API keys for ``gatekeeper serve``: ``gk_<key id>_<secret>``, stored as hashes only.

A key is shown once, when it is made. The keys file keeps, per key, its id, the
SHA-256 of its secret, the agent it acts for, when it was created, when it
expires, when it was last used and whether it was revoked; never the secret.
The file is created mode 0600 and always replaced atomically (temp file, fsync,
rename) under an exclusive lock, so concurrent ``keys`` commands and server
workers never lose each other's changes.

A request's key is found by its id, then its secret is compared with
:func:`hmac.compare_digest` on the hashes, so the comparison takes the same time
whatever the secret. This module imports nothing of the HTTP server, so the
``keys`` commands work without the ``server`` extra.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gatekeeper.errors import ConfigError, Conflict, InvalidInput, NotFound
from gatekeeper.timeutil import format_timestamp, parse_timestamp

PREFIX = "gk"
MAX_LIVE_KEYS_PER_AGENT = 2  # the old and the new key, while rotating
KEY_ID_RE = re.compile(r"^[0-9a-f]{12}$")
KEY_RE = re.compile(r"^gk_([0-9a-f]{12})_([0-9a-f]{40})$")
AGENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
# last_used_at is written at most this often per key, so a busy key does not
# rewrite the file on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class ApiKey:
    """One key's record in the keys file (no secret, only its SHA-256)."""

    key_id: str
    sha256: str
    agent: str
    created_at: str
    expires_at: str | None = None
    last_used_at: str | None = None
    revoked_at: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def live(self, now: datetime) -> bool:
        """Not revoked and not expired at ``now``."""
        if self.revoked:
            return False
        return self.expires_at is None or parse_timestamp(self.expires_at, field="x") > now

    def public(self, now: datetime) -> dict[str, Any]:
        """What ``keys list`` shows: everything but the hash."""
        data = asdict(self)
        del data["sha256"]
        data["revoked"] = self.revoked
        data["live"] = self.live(now)
        return data


@dataclass(frozen=True)
class NewKey:
    record: ApiKey
    token: str  # gk_<key id>_<secret>: shown once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


class KeyStore:
    """The keys file at ``path``; reloaded when it changes on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._keys: dict[str, ApiKey] = {}
        self._stamp: tuple[int, int, int] | None = None

    # -- reading -----------------------------------------------------------------------

    def records(self) -> list[ApiKey]:
        self._refresh()
        return sorted(self._keys.values(), key=lambda k: (k.agent, k.created_at, k.key_id))

    def authenticate(self, token: str | None, now: datetime) -> ApiKey | None:
        """The live key ``token`` is, or None (unknown, malformed, revoked, expired)."""
        if not token:
            return None
        match = KEY_RE.match(token.strip())
        if match is None:
            return None
        self._refresh()
        record = self._keys.get(match.group(1))
        # Compare hashes even for an unknown id, so timing does not tell ids apart.
        expected = record.sha256 if record is not None else "0" * 64
        if not hmac.compare_digest(expected, _hash(match.group(2))) or record is None:
            return None
        if not record.live(now):
            return None
        self._touch(record, now)
        return record

    def _refresh(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._keys, self._stamp = {}, None
            return
        except OSError as exc:
            raise ConfigError(
                f"cannot read keys file: {exc.strerror}", where=str(self.path)
            ) from exc
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if stamp != self._stamp:
            self._keys = self._load()
            self._stamp = stamp

    def _load(self) -> dict[str, ApiKey]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            records = [ApiKey(**item) for item in data["keys"]]
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise ConfigError(
                f"keys file is unreadable or damaged: {exc}", where=str(self.path)
            ) from exc
        return {record.key_id: record for record in records}

    # -- writing -----------------------------------------------------------------------

    def add(self, agent: str, *, now: datetime, expires_days: int | None = None) -> NewKey:
        """Make a key for ``agent``; refused when the agent has two live keys already."""
        if not AGENT_RE.match(agent):
            raise InvalidInput(f"agent: {agent!r} must match {AGENT_RE.pattern}")
        if expires_days is not None and expires_days < 1:
            raise InvalidInput("--expires: must be at least 1 day")
        with self._locked() as keys:
            live = [k for k in keys.values() if k.agent == agent and k.live(now)]
            if len(live) >= MAX_LIVE_KEYS_PER_AGENT:
                ids = ", ".join(k.key_id for k in live)
                raise Conflict(
                    f"agent {agent!r} has {len(live)} live keys already ({ids}); "
                    "revoke one first (gatekeeper keys revoke KEY_ID)"
                )
            key_id = secrets.token_hex(6)
            while key_id in keys:  # pragma: no cover - 48 random bits
                key_id = secrets.token_hex(6)
            secret = secrets.token_hex(20)  # 160 random bits
            expires = None if expires_days is None else now + timedelta(days=expires_days)
            record = ApiKey(
                key_id=key_id,
                sha256=_hash(secret),
                agent=agent,
                created_at=format_timestamp(now),
                expires_at=None if expires is None else format_timestamp(expires),
            )
            keys[key_id] = record
        return NewKey(record, f"{PREFIX}_{key_id}_{secret}")

    def revoke(self, key_id: str, *, now: datetime) -> ApiKey:
        """Mark the key revoked; it stops working at once (servers re-read the file)."""
        if not KEY_ID_RE.match(key_id):
            raise InvalidInput(f"key id: {key_id!r} is not a key id (12 hex digits)")
        with self._locked() as keys:
            record = keys.get(key_id)
            if record is None:
                raise NotFound(f"no key {key_id!r}", where=str(self.path))
            if not record.revoked:
                record = replace(record, revoked_at=format_timestamp(now))
                keys[key_id] = record
        return record

    def _touch(self, record: ApiKey, now: datetime) -> None:
        last = record.last_used_at
        if last is not None and now - parse_timestamp(last, field="x") < LAST_USED_RESOLUTION:
            return
        stamp = format_timestamp(now)
        try:
            with self._locked() as keys:
                current = keys.get(record.key_id)
                if current is not None:
                    keys[record.key_id] = replace(current, last_used_at=stamp)
        except (ConfigError, OSError):
            # Recording last use is best effort: a read-only keys file must not
            # turn every authenticated request into an error.
            self._keys[record.key_id] = replace(record, last_used_at=stamp)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, ApiKey]]:
        """The keys, under an exclusive lock; written back atomically on success."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(f".{self.path.name}.lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            keys = self._load()
            yield keys
            self._write(keys)
        finally:
            os.close(fd)
        self._refresh()

    def _write(self, keys: dict[str, ApiKey]) -> None:
        records = sorted(keys.values(), key=lambda k: (k.agent, k.created_at, k.key_id))
        payload = {"version": 1, "keys": [asdict(record) for record in records]}
        data = (json.dumps(payload, indent=2) + "\n").encode("utf-8")
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), 0o600)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ConfigError(
                f"cannot write keys file: {exc.strerror}", where=str(self.path)
            ) from exc
