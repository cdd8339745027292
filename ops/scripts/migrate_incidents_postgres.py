#!/usr/bin/env python3
"""Create or upgrade gatekeeper's PostgreSQL tables (the same code as `gatekeeper store migrate`).

Usage: python3 ops/scripts/migrate_incidents_postgres.py [--database-url URL] [--dry-run]

The URL comes from --database-url, else DATABASE_URL. --dry-run prints the DDL
that would run and touches nothing. Exit codes: 0 done, 1 failed, 2 usage.
"""

from __future__ import annotations

import argparse
import os
import sys

from gatekeeper.errors import GatekeeperError
from gatekeeper.store.migrations import migrate_database


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or None)
    parser.add_argument("--dry-run", action="store_true", help="print the DDL, touch nothing")
    args = parser.parse_args(argv)
    try:
        report = migrate_database(args.database_url, dry_run=args.dry_run)
    except GatekeeperError as exc:
        print(f"gatekeeper: error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(report.text(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
