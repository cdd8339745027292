"""``gatekeeper check``: the release gate (docs/policies.md)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import click

from gatekeeper.cli._app import App, now_option, pass_app
from gatekeeper.engine.check import run_check
from gatekeeper.engine.evaluate import CheckRequest
from gatekeeper.engine.provenance import store_location
from gatekeeper.engine.report import Report
from gatekeeper.errors import ConfigError
from gatekeeper.reports import FORMATS, HUMAN_FORMATS, render
from gatekeeper.reports.output import check_writable, write_report

# Writability is checked by check_writable, before any gate runs, with one message.
_FILE = click.Path(path_type=Path)


@click.command("check")
@click.option("--env", required=True, help="Environment released to (e.g. prod).")
@click.option(
    "--service", "services", multiple=True, required=True, help="Service released (repeatable)."
)
@click.option("--gate", "gates", multiple=True, help="Only this gate (repeatable).")
@click.option("--strict/--no-strict", default=None, help="Override the environment's strictness.")
@click.option("--fail-on-warn", is_flag=True, help="Exit 1 on warn as well as on block.")
@click.option(
    "-o",
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Report on stdout (-o as in conftest; files: --junit/--json/--markdown).",
)
@click.option(
    "-q", "--quiet", is_flag=True, help="Print the decision line only (text, markdown, github)."
)
@click.option(
    "--no-color",
    is_flag=True,
    help="No ANSI colour in the text report (also NO_COLOR=1; never coloured when piped).",
)
@click.option("--junit", "junit_file", type=_FILE, help="Also write a JUnit XML report here.")
@click.option("--json", "json_file", type=_FILE, help="Also write the JSON report here.")
@click.option("--markdown", "markdown_file", type=_FILE, help="Also write a Markdown summary.")
@click.option(
    "--override", "override_reason", metavar="REASON", help="Break-glass: turn block into warn."
)
@now_option
@pass_app
def command(
    app: App,
    env: str,
    services: tuple[str, ...],
    gates: tuple[str, ...],
    strict: bool | None,
    fail_on_warn: bool,
    output_format: str,
    quiet: bool,
    no_color: bool,
    junit_file: Path | None,
    json_file: Path | None,
    markdown_file: Path | None,
    override_reason: str | None,
) -> int:
    """Decide whether SERVICE may be released to ENV now.

    Exit 0 pass or warn, 1 block (or warn with --fail-on-warn), 2 usage or
    policy error, 3 a gate could not be evaluated and fails closed.

    Example: gatekeeper check --env prod --service checkout --junit gate.xml
    """
    if quiet and output_format not in HUMAN_FORMATS:
        raise ConfigError(
            f"--quiet prints the decision line of a human report; a {output_format} report "
            "is always complete",
            where="--quiet",
        )
    outputs = [
        (fmt, path)
        for fmt, path in (("junit", junit_file), ("json", json_file), ("markdown", markdown_file))
        if path is not None
    ]
    for _, path in outputs:  # before any gate runs: a bad path prints no decision
        check_writable(path)
    request = CheckRequest(
        env=env,
        services=services,
        now=app.now,
        gates=gates,
        strict=strict,
        fail_on_warn=fail_on_warn,
        override_reason=override_reason,
        agent=app.settings.agent,
        backend=app.settings.backend,
        location=store_location(
            app.settings.backend, app.settings.store_dir, app.settings.database_url
        ),
        now_from_option=app.settings.now is not None,
    )
    report = run_check(app.settings.policy, request, app.store)
    errors = []
    for fmt, path in outputs:
        try:
            write_report(path, render(report, fmt))
        except ConfigError as exc:
            click.echo(f"gatekeeper: error: {exc}", err=True)
            errors.append(str(exc))
    report = replace(report, output_errors=tuple(errors))
    color = output_format == "text" and use_color(no_color, os.environ, _stdout_is_tty())
    click.echo(render(report, output_format, color=color, quiet=quiet), nl=False, color=color)
    if markdown_file is None:
        _append_step_summary(report)
    return report.exit_code


def use_color(no_color: bool, environ: Mapping[str, str], tty: bool) -> bool:
    """Colour only on a terminal, unless ``--no-color``, ``NO_COLOR`` (any value) or a dumb TERM."""
    if no_color or environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    return tty


def _stdout_is_tty() -> bool:
    stream = sys.stdout
    try:
        return stream is not None and stream.isatty()
    except ValueError:  # a closed stream
        return False


def _append_step_summary(report: Report) -> None:
    # GitHub Actions shows this file on the run page; other CIs never set it.
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if not summary:
        return
    try:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(render(report, "markdown"))
    except OSError as exc:
        click.echo(f"warning: cannot append to GITHUB_STEP_SUMMARY: {exc.strerror}", err=True)
