#!/usr/bin/env python3
"""Run one registered job (the same code as `gatekeeper jobs run`).

Usage: python3 ops/scripts/run_governance_job.py JOB [--dry-run] [--input NAME=VALUE]
       [--registry FILE] [--agent AGENT] [--now TIMESTAMP] [--format text|json]

Settings come from the environment (GATEKEEPER_AGENT, INCIDENT_BACKEND, DATABASE_URL,
INCIDENT_JSONL_DIR, GATEKEEPER_REGISTRY, ...). --dry-run prints what the job would
write and writes nothing. Exit codes: 0 done, 1 failed (or the job is running
elsewhere), 2 usage or configuration error.
"""

from __future__ import annotations

import sys

from gatekeeper.cli import main

if __name__ == "__main__":
    sys.exit(main(["jobs", "run", *sys.argv[1:]]))
