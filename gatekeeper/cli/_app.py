"""What every command shares: settings, the lazily opened store, output helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from gatekeeper.config import Settings, load_settings
from gatekeeper.store import IncidentStore, open_store

if TYPE_CHECKING:
    from gatekeeper.incidents import IncidentService

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class App:
    """Per-invocation state, kept on ``click.Context.obj``."""

    settings: Settings
    options: dict[str, str | None] = field(default_factory=dict)  # the global options given
    _store: IncidentStore | None = field(default=None, repr=False)

    def set_option(self, name: str, value: str) -> None:
        """A global option given after the command: it wins over the same one before it."""
        self.options[name] = value
        self.settings = load_settings(None, **self.options)

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


GLOBAL_PREFIX = "global_"  # the parameter name of a global option after the command


def global_option_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """Record a global option that follows the command (``check --store-dir X``)."""
    app = ctx.find_object(App)
    if value is None or app is None or param.name is None:
        return
    app.set_option(param.name.removeprefix(GLOBAL_PREFIX), value)


def now_option(func: F) -> F:
    """``--now`` on a command (it is also a global option): the evaluation time."""
    return click.option(
        "--now",
        metavar="TIMESTAMP",
        expose_value=False,
        callback=global_option_callback,
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
