"""``gatekeeper policy``: validate and show gate policies."""

from __future__ import annotations

import json
from collections.abc import Sized
from pathlib import Path

import click

from gatekeeper.cli._app import App, now_option, pass_app


@click.group("policy")
def command() -> None:
    """Validate and show the gate policy (gates.yml, waivers.yml).

    Example: gatekeeper policy validate policies/
    """


@command.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@now_option
@pass_app
def validate(app: App, path: Path | None) -> None:
    """Check a policy file or directory (and its waivers); exit 2 naming file:line if invalid.

    Example: gatekeeper policy validate policies/gates.yml
    """
    from gatekeeper.policy import load_policy, load_waivers

    target = path if path is not None else app.settings.policy
    policy = load_policy(target)
    waivers = load_waivers(target, policy, app.now)
    files = ", ".join(str(p) for p in policy.sources)
    click.echo(
        f"policy ok: {_count(policy.gates, 'gate')}, "
        f"{_count(policy.environments, 'environment')}, {_count(waivers, 'waiver')} ({files})"
    )


@command.command("show")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["yaml", "json"]),
    default="yaml",
    show_default=True,
    help="Output format.",
)
@pass_app
def show(app: App, output_format: str) -> None:
    """Print the effective policy: every file merged, every default filled in.

    Example: gatekeeper --policy policies policy show --format json
    """
    from gatekeeper.policy import load_policy

    data = load_policy(app.settings.policy).to_dict()
    if output_format == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        import yaml

        click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), nl=False)


def _count(items: Sized, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"
