"""What every command shares: settings, the lazily opened store, output helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from gatekeeper.config import Settings
from gatekeeper.errors import ConfigError, InvalidInput
from gatekeeper.store import IncidentStore, open_store
from gatekeeper.timeutil import parse_timestamp

if TYPE_CHECKING:
    from gatekeeper.incidents import IncidentService

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class App:
    """Per-invocation state, kept on ``click.Context.obj``."""

    settings: Settings
    _store: IncidentStore | None = field(default=None, repr=False)

    @property
    def now(self) -> datetime:
        return self.settings.current_time()

    def store(self) -> IncidentStore:
        if self._store is None:
            self._store = open_store(self.settings)
        return self._store

    def incidents(self) -> IncidentService:
        """The permission-checked incident service, acting for ``--agent``."""
        from gatekeeper.incidents import incident_service

        return incident_service(self.store(), self.settings, agent=self.settings.agent)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


pass_app = click.make_pass_decorator(App)


def _set_now(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is None:
        return
    app = ctx.find_object(App)
    if app is None:  # pragma: no cover - the group always creates it
        return
    try:
        app.settings = replace(app.settings, now=parse_timestamp(value, field="--now"))
    except InvalidInput as exc:
        raise ConfigError(exc.message, where="--now") from None


def now_option(func: F) -> F:
    """``--now`` on a command (it is also a global option): the evaluation time."""
    return click.option(
        "--now",
        metavar="TIMESTAMP",
        expose_value=False,
        callback=_set_now,
        help="Evaluate at this UTC time (ISO-8601), for reproducible runs.",
    )(func)


def format_option(*choices: str, default: str = "text") -> Callable[[F], F]:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help="Output format.",
    )


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False))
