#!/usr/bin/env python3
"""Triage every new alert into incidents (the same code as `gatekeeper alerts triage`).

Usage: python3 ops/scripts/alert_triage_loop.py [--dry-run] [--agent AGENT] [--now TS]
Settings come from the environment (GATEKEEPER_AGENT, INCIDENT_JSONL_DIR, ...).
Safe to kill at any point: a rerun finishes the batch it left, exactly once.
"""

from __future__ import annotations

import sys

from gatekeeper.cli import main

if __name__ == "__main__":
    sys.exit(main(["alerts", "triage", *sys.argv[1:]]))
