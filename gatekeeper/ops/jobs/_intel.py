"""The intelligence library, imported when a job runs; its absence fails the job in one line."""

from __future__ import annotations

import importlib
import json
from types import ModuleType
from typing import Any

from gatekeeper.config import Settings
from gatekeeper.ops.runner import JobFailed


def intelligence(name: str, *functions: str) -> ModuleType:
    """``gatekeeper.intelligence.<name>``, with ``functions``; :class:`JobFailed` if missing."""
    module_name = f"gatekeeper.intelligence.{name}"
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise JobFailed(
            f"the intelligence library is not available: {exc}", where=module_name
        ) from None
    missing = [f for f in functions if not callable(getattr(module, f, None))]
    if missing:
        raise JobFailed(f"the intelligence library has no {', '.join(missing)}", where=module_name)
    return module


def policy_risk(settings: Settings) -> Any:
    """The policy's ``risk:`` section (its defaults when there is no policy)."""
    from gatekeeper.policy import load_policy

    if settings.policy.exists():
        return getattr(load_policy(settings.policy), "risk", None)
    return getattr(intelligence("settings"), "DEFAULT_RISK", None)


def to_json_bytes(report: Any) -> bytes:
    data = report.to_json() if hasattr(report, "to_json") else report
    if isinstance(data, str):
        return data.encode("utf-8")
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def to_markdown(module: ModuleType, report: Any) -> bytes:
    method = getattr(report, "render_markdown", None)
    text = method() if callable(method) else module.render_markdown(report)
    return str(text).encode("utf-8")
