"""The gate engine: run a policy's gates and decide (see docs/policies.md).

:func:`run_check` is what the CLI calls; :func:`evaluate` runs already loaded
gates; :mod:`.decision` holds the decision table; :mod:`.report` the result.
"""

from __future__ import annotations

from gatekeeper.engine.check import run_check
from gatekeeper.engine.evaluate import CheckRequest, evaluate
from gatekeeper.engine.report import Decision, GateResult, Override, Report

__all__ = ["CheckRequest", "Decision", "GateResult", "Override", "Report", "evaluate", "run_check"]
