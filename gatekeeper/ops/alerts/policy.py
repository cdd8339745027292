"""The policy's ``triage:`` section: fingerprint fields, escalation thresholds, the ceiling."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gatekeeper.models import Severity
from gatekeeper.ops.alerts.fingerprint import DEFAULT_FIELDS


class TriagePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fingerprint_fields: tuple[str, ...] = Field(default=DEFAULT_FIELDS, min_length=1)
    repeat_threshold: int = Field(default=5, ge=2, le=10_000)
    repeat_window_minutes: int = Field(default=60, ge=1, le=10_080)
    page_severities: tuple[Severity, ...] = ("P0", "P1")
    severity_ceiling: Severity = "P1"


def load_triage_policy(path: Path) -> TriagePolicy:
    """The ``triage:`` section of the policy files (the defaults when there is none)."""
    from gatekeeper.policy import policy_files
    from gatekeeper.policy._yaml import LineDict, load_yaml, validation_error

    if not path.exists():
        return TriagePolicy()
    for file in policy_files(path):
        data = load_yaml(file)
        if isinstance(data, LineDict) and "triage" in data:
            try:
                return TriagePolicy.model_validate(data["triage"] or {})
            except ValidationError as exc:
                raise validation_error(exc, file, data, at=("triage",), label="triage.") from exc
    return TriagePolicy()
