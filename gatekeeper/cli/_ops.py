"""Options and helpers shared by the ops commands (``jobs``, ``alerts``, ``retention``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from gatekeeper.cli._app import App, global_option_callback
from gatekeeper.ops.place import OpsPlace, ops_place

F = TypeVar("F", bound=Callable[..., Any])


def agent_option(func: F) -> F:
    """``--agent`` on the command too (it is also a global option), as the scripts pass it."""
    return click.option(
        "--agent",
        metavar="AGENT",
        expose_value=False,
        callback=global_option_callback,
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
