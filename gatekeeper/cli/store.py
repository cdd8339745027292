"""``gatekeeper store``: inspect and maintain the incident store."""

from __future__ import annotations

import click


@click.group("store")
def command() -> None:
    """Inspect and maintain the incident store.

    Example: gatekeeper store verify
    """
