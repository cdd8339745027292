"""``gatekeeper policy``: validate and show gate policies."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gatekeeper.cli._app import App, now_option, pass_app


@click.group("policy")
def command() -> None:
    """Validate and show the gate policy (gates.yml, waivers.yml, rbac.yml).

    Example: gatekeeper policy validate policies/
    """


@command.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@now_option
@pass_app
def validate(app: App, path: Path | None) -> None:
    """Check a policy directory or one file; exit 2 naming file:line and the field if invalid.

    A directory is checked as --policy reads it: every gate file, waivers.yml and
    rbac.yml. A single file is checked by its name: rbac.yml as roles,
    waivers.yml as waivers, any other as gates (with the waivers and roles
    beside it).

    Example: gatekeeper policy validate policies/
    """
    from gatekeeper.policy import validate_path

    target = path if path is not None else app.settings.policy
    result = validate_path(target, app.now)
    if result.kind == "policy":
        from gatekeeper.ops.alerts.policy import load_triage_policy

        load_triage_policy(target)
    counts = ", ".join(_count(n, noun) for noun, n in result.counts)
    files = ", ".join(str(p) for p in result.files)
    click.echo(f"{result.kind} ok: {counts} ({files})")


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


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
