"""Options and helpers shared by the ops commands (``jobs``, ``alerts``, ``retention``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import click

from gatekeeper.cli._app import App
from gatekeeper.ops.place import OpsPlace, ops_place

F = TypeVar("F", bound=Callable[..., Any])


def _set_agent(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    app = ctx.find_object(App)
    if value is not None and app is not None:
        app.settings = replace(app.settings, agent=value)


def agent_option(func: F) -> F:
    """``--agent`` on the command too (it is also a global option), as the scripts pass it."""
    return click.option(
        "--agent",
        metavar="AGENT",
        expose_value=False,
        callback=_set_agent,
        help="Act as this agent (permissions, audit) [env GATEKEEPER_AGENT].",
    )(func)


def registry_option(func: F) -> F:
    return click.option(
        "--registry",
        default=None,
        metavar="FILE",
        help="The job registry [env GATEKEEPER_REGISTRY; default ops/task_registry.yml].",
    )(func)


def ops_place_of(app: App) -> OpsPlace:
    """Where the run log, inbox and history live for this invocation's backend."""
    store = app.store() if app.settings.backend == "auto" else None
    return ops_place(app.settings, store)
