"""``gatekeeper tool``: answer one tool envelope read from stdin or a file (docs/tool-api.md)."""

from __future__ import annotations

from typing import BinaryIO

import click

from gatekeeper.cli._app import App, echo_json, now_option, pass_app
from gatekeeper.errors import GatekeeperError
from gatekeeper.tools import failure, handle


@click.command("tool")
@click.option(
    "--request",
    "request",
    type=click.File("rb"),
    default="-",
    metavar="FILE",
    help="Read the envelope from FILE [default: stdin].",
)
@now_option
@pass_app
def command(app: App, request: BinaryIO) -> int:
    """Answer one JSON tool envelope with a JSON answer on stdout.

    The agent is the envelope's agent_id; --agent (or GATEKEEPER_AGENT) stands in
    when the envelope has none.
    Exit status 0 when the answer is ok, 1 otherwise; errors are in the answer,
    never a traceback.

    Example: echo '{"tool": "oncall_tool", "action": "incident_list", "params":
    {"status": "open"}}' | gatekeeper tool
    """
    raw = request.read()
    try:
        store = app.store()
    except GatekeeperError as exc:
        answer = failure(exc)
    else:
        answer = handle(
            raw, store=store, settings=app.settings, now=app.now, agent=app.settings.agent
        )
    echo_json(answer)
    return 0 if answer["ok"] else 1
