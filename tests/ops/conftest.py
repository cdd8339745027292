"""Fixtures for the ops tests: a registry file written from a template."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO

SHIPPED_REGISTRY = REPO / "ops" / "task_registry.yml"
SHIPPED_CRON = REPO / "ops" / "cron" / "jobs.cron"


@pytest.fixture
def registry_file(tmp_path: Path) -> Path:
    path = tmp_path / "task_registry.yml"
    path.write_text(SHIPPED_REGISTRY.read_text())
    return path


from tests.store.conftest import migrated_pg_url, pg_schema, pg_server, pg_url  # noqa: E402, F401
