"""The exceptions gatekeeper raises on purpose.

Every expected failure is a :class:`GatekeeperError`. The tree is short::

    GatekeeperError            an operation failed                      exit 1
    ├── ConfigError            bad option, unreadable or invalid policy exit 2
    ├── InvalidInput           a value from the user or a file is wrong exit 1
    ├── NotFound               no such incident / follow-up / file      exit 1
    ├── Forbidden              the agent's role does not allow it       exit 1
    ├── Conflict               the record already exists / changed      exit 1
    ├── StoreUnavailable       the backend cannot be reached or read    exit 1
    └── EvaluationError        a gate could not be evaluated, fail closed exit 3

Third-party errors (psycopg, yaml, OSError) are translated where they are
caught, with ``raise ... from exc``. The CLI turns any of these into one line
on stderr, ``gatekeeper: error: <message> (<where>)``, and the exit code above;
the tool interface turns them into ``{"ok": false, "error": {"code": ...}}``.
"""

from __future__ import annotations

from typing import ClassVar


class GatekeeperError(Exception):
    """Root of every error gatekeeper raises on purpose."""

    code: ClassVar[str] = "internal"
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        if self.where:
            return f"{self.message} ({self.where})"
        return self.message


class ConfigError(GatekeeperError):
    """A usage or configuration error: bad option, invalid policy file."""

    code = "invalid"
    exit_code = 2


class InvalidInput(GatekeeperError):
    """A value supplied by the user, a request or a data file is not acceptable."""

    code = "invalid"


class NotFound(GatekeeperError):
    """The named incident, follow-up or file does not exist."""

    code = "not_found"


class Forbidden(GatekeeperError):
    """The acting agent's role does not permit the operation."""

    code = "forbidden"


class Conflict(GatekeeperError):
    """The record exists already, or changed underneath the caller."""

    code = "conflict"


class StoreUnavailable(GatekeeperError):
    """The incident store cannot be reached or read."""

    code = "unavailable"


class EvaluationError(GatekeeperError):
    """A gate could not be evaluated and the policy says to fail closed."""

    code = "unavailable"
    exit_code = 3
