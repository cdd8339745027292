"""``gatekeeper keys``: the API keys ``gatekeeper serve`` accepts (hashes only on disk)."""

from __future__ import annotations

import click

from gatekeeper.cli._app import App, echo_json, format_option, now_option, pass_app
from gatekeeper.server.keys import KeyStore


@click.group("keys")
def command() -> None:
    """Make, list and revoke API keys for the HTTP server.

    Example: gatekeeper keys add helion --expires 90
    """


@command.command("add")
@click.argument("agent")
@click.option("--expires", "expires_days", type=int, metavar="DAYS", help="Expire after DAYS.")
@now_option
@pass_app
def add(app: App, agent: str, expires_days: int | None) -> None:
    """Make a key for AGENT and print it once (it is not stored, only its hash).

    An agent may have two live keys, so a key can be rotated without downtime.

    Example: gatekeeper keys add sofiia --expires 90
    """
    new = KeyStore(app.settings.keys_file).add(agent, now=app.now, expires_days=expires_days)
    click.echo(new.token)
    expires = new.record.expires_at or "never"
    click.echo(
        f"key {new.record.key_id} for {agent} (expires {expires}); store it now, "
        "it is not shown again",
        err=True,
    )


@command.command("list")
@format_option("text", "json")
@now_option
@pass_app
def list_keys(app: App, output_format: str) -> None:
    """List the keys: id, agent, created, expires, last used, revoked (never a secret).

    Example: gatekeeper keys list --format json
    """
    keys = [k.public(app.now) for k in KeyStore(app.settings.keys_file).records()]
    if output_format == "json":
        echo_json({"keys": keys})
        return
    if not keys:
        click.echo("no keys")
    for key in keys:
        state = "revoked" if key["revoked"] else "live" if key["live"] else "expired"
        click.echo(
            f"{key['key_id']}  {key['agent']}  {state}  created {key['created_at']}  "
            f"expires {key['expires_at'] or 'never'}  last used {key['last_used_at'] or 'never'}"
        )


@command.command("revoke")
@click.argument("key_id")
@now_option
@pass_app
def revoke(app: App, key_id: str) -> None:
    """Revoke KEY_ID; running servers refuse it from their next request.

    Example: gatekeeper keys revoke 3f9a1c0b7d2e
    """
    record = KeyStore(app.settings.keys_file).revoke(key_id, now=app.now)
    click.echo(f"revoked {record.key_id} ({record.agent}) at {record.revoked_at}")
