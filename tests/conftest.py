"""Fixtures shared by every test module."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from gatekeeper.cli import main
from gatekeeper.store.jsonl import JsonlIncidentStore

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


CliRun = Callable[..., CliResult]


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch) -> CliRun:
    """Run ``gatekeeper ARGS`` in-process through :func:`main` (the real exit-code path).

    Environment variables that configure gatekeeper are cleared first so the
    developer's shell cannot leak into a test.
    """
    for name in (
        "INCIDENT_BACKEND",
        "DATABASE_URL",
        "INCIDENT_JSONL_DIR",
        "INCIDENT_ARTIFACTS_DIR",
        "GATEKEEPER_POLICY",
        "GATEKEEPER_AGENT",
        "GATEKEEPER_NOW",
        "GITHUB_STEP_SUMMARY",
    ):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> CliResult:
        runner = CliRunner()
        with runner.isolation(input=input, env=env) as (out, err, _):
            code = main(list(args))
            return CliResult(code, out.getvalue().decode(), err.getvalue().decode())

    return run


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    path.mkdir()
    return path


@pytest.fixture
def jsonl_store(store_dir: Path) -> JsonlIncidentStore:
    return JsonlIncidentStore(store_dir)


def args_list(*parts: str | Sequence[str]) -> list[str]:
    out: list[str] = []
    for part in parts:
        out.extend([part] if isinstance(part, str) else part)
    return out


# ---------------------------------------------------------------------------
# Incident tools and CLI (tests/tools/, tests/cli/): a seeded store and a way
# to prove a refused write changed nothing.
# ---------------------------------------------------------------------------

SEEDED_AT = datetime(2026, 2, 23, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Seeded:
    """A store with one open P1 ``gateway``/``prod`` incident and one follow-up."""

    store_dir: Path
    incident_id: str
    followup_id: str


@pytest.fixture
def seeded(store_dir: Path) -> Seeded:
    from gatekeeper.incidents import IncidentService
    from gatekeeper.inputs import NewFollowup, NewIncident
    from gatekeeper.rbac import DEFAULT_RBAC

    service = IncidentService(
        store=JsonlIncidentStore(store_dir),
        rbac=DEFAULT_RBAC,
        artifacts_dir=store_dir,
        agent="helion",
    )
    incident = service.create(
        NewIncident(service="gateway", env="prod", severity="P1", title="Gateway 5xx rate >5%"),
        now=SEEDED_AT,
    )
    # Five minutes later, so the timeline's order does not hang on random event ids.
    followup = service.add_followup(
        incident.id,
        NewFollowup(title="Alert on 5xx ratio", owner="ana"),
        now=SEEDED_AT + timedelta(minutes=5),
    )
    return Seeded(store_dir, incident.id, followup.followup_id)


def tree_digest(root: Path) -> dict[str, str]:
    """Every file (sha256 of its bytes) and directory under ``root``, by relative path."""
    import hashlib

    return {
        str(path.relative_to(root)): (
            hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "<dir>"
        )
        for path in sorted(root.rglob("*"))
    }
