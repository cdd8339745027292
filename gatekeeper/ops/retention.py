"""Retention: remove closed incidents older than a cutoff, with their events and artifacts.

Only ``closed`` incidents whose ``closed_at`` is before the cutoff, and never one
with an open or in-progress follow-up. ``archive`` first writes them, with
their events and artifact files, as a ``store export`` bundle that ``store
import`` restores. Needs a CTO agent (docs/jobs.md).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gatekeeper.errors import Forbidden, InvalidInput
from gatekeeper.followups import fold_followups
from gatekeeper.models import Incident
from gatekeeper.rbac import Rbac
from gatekeeper.store import IncidentFilter, IncidentStore
from gatekeeper.store.bundle import FORMAT, VERSION, _content, _line, _record_line
from gatekeeper.timeutil import format_timestamp

CTO_ROLE = "agent_cto"


@dataclass
class RetentionResult:
    cutoff: datetime
    dry_run: bool
    removed: list[str] = field(default_factory=list)
    kept_open_followups: list[str] = field(default_factory=list)
    archive: str | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "cutoff": format_timestamp(self.cutoff),
            "dry_run": self.dry_run,
            "removed": self.removed,
            "kept_open_followups": self.kept_open_followups,
            "archive": self.archive,
        }


def require_cto(rbac: Rbac, agent: str | None) -> str:
    if agent is None or rbac.role_of(agent) != CTO_ROLE:
        role = rbac.role_of(agent)
        raise Forbidden(f"retention needs a CTO agent ({CTO_ROLE}); agent {agent!r} is {role}")
    return agent


def apply_retention(
    store: IncidentStore,
    *,
    days: int,
    now: datetime,
    artifacts_dir: Path,
    dry_run: bool = False,
    archive: Path | None = None,
    warn: Any = print,
) -> RetentionResult:
    if days < 1:
        raise InvalidInput("must be at least 1", where="--closed-older-than")
    cutoff = now - timedelta(days=days)
    result = RetentionResult(cutoff, dry_run, archive=str(archive) if archive else None)
    closed = store.list_incidents(IncidentFilter(status=frozenset({"closed"}), limit=None))
    chosen: list[Incident] = []
    for incident in sorted(closed, key=lambda i: i.id):
        if incident.closed_at is None or incident.closed_at >= cutoff:
            continue
        if any(f.is_open for f in fold_followups(store.events(incident.id))):
            result.kept_open_followups.append(incident.id)
            continue
        chosen.append(incident)
    result.removed = [i.id for i in chosen]
    if dry_run or not chosen:
        return result
    if archive is not None:
        _write_archive(store, chosen, archive, artifacts_dir, now, warn)
    result.removed = store.delete_incidents([i.id for i in chosen])
    for incident_id in result.removed:
        shutil.rmtree(artifacts_dir / incident_id, ignore_errors=True)
    return result


def _write_archive(
    store: IncidentStore,
    incidents: list[Incident],
    path: Path,
    artifacts_dir: Path,
    now: datetime,
    warn: Any,
) -> None:
    """The incidents, their events and artifacts (with files) as an export bundle."""
    header = {"format": FORMAT, "version": VERSION, "exported_at": format_timestamp(now),
              "source": store.backend}  # fmt: skip
    lines = [_line(header)]
    lines += [_record_line("incident", i) for i in incidents]
    for incident in incidents:
        lines += [_record_line("event", e) for e in store.events(incident.id)]
    for incident in incidents:
        for artifact in store.artifacts(incident.id):
            content = _content(artifact, artifacts_dir, warn)
            lines.append(_record_line("artifact", artifact, content=content))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as handle:
            handle.writelines(lines)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write archive: {exc.strerror}", where=str(path)) from exc
