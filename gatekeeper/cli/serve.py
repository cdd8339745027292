"""``gatekeeper serve``: the tools, the gate and health over HTTP (extra ``server``)."""

from __future__ import annotations

import os

import click

from gatekeeper.cli._app import App, pass_app
from gatekeeper.config import Settings
from gatekeeper.errors import ConfigError
from gatekeeper.timeutil import format_timestamp

INSTALL_HINT = "pip install 'release-gatekeeper[server]'"


def server_environment(settings: Settings) -> dict[str, str]:
    """The settings as the variables each uvicorn worker reads them from.

    ``--agent`` is left out: over HTTP the agent is the API key's.
    """
    env = {
        "INCIDENT_BACKEND": settings.backend,
        "INCIDENT_JSONL_DIR": str(settings.store_dir),
        "INCIDENT_ARTIFACTS_DIR": str(settings.artifacts_dir),
        "INCIDENT_AUTO_RETRY_S": str(settings.auto_retry_s),
        "GATEKEEPER_POLICY": str(settings.policy),
        "GATEKEEPER_KEYS_FILE": str(settings.keys_file),
    }
    if settings.database_url:
        env["DATABASE_URL"] = settings.database_url
    if settings.now is not None:
        env["GATEKEEPER_NOW"] = format_timestamp(settings.now)
    return env


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Processes."
)
@pass_app
def command(app: App, host: str, port: int, workers: int) -> None:
    """Serve POST /v1/tools/TOOL, GET /v1/check, /healthz and /openapi.json.

    Requests need an X-API-Key made with `gatekeeper keys add AGENT` (except
    /healthz and /openapi.json). Needs the server extra.

    Example: gatekeeper --backend postgres serve --host 0.0.0.0 --port 8080 --workers 2
    """
    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError as exc:
        raise ConfigError(
            f"serve needs the server extra ({exc.name} is not installed): {INSTALL_HINT}"
        ) from None

    os.environ.pop("GATEKEEPER_AGENT", None)
    os.environ.update(server_environment(app.settings))
    uvicorn.run(
        "gatekeeper.server.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
        server_header=False,
    )
