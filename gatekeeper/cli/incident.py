"""``gatekeeper incident``: create, read and update incidents."""

from __future__ import annotations

import click


@click.group("incident")
def command() -> None:
    """Create, read and update incidents, events, artifacts and follow-ups.

    Example: gatekeeper incident list --service checkout --status open
    """
