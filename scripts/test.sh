#!/usr/bin/env bash
# The test command (README "Quick start", and what .ci/run calls).
# Installs what the tests need into .venv, makes sure PostgreSQL is up, then runs
# every check: ruff (lint + format), mypy --strict (the package and the tests), pytest with
# branch coverage.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k jsonl -x`.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
# The distribution was called `gatekeeper` before it became `release-gatekeeper`: an
# older .venv's editable install of that name would shadow this checkout's package.
if .venv/bin/python -m pip show --quiet gatekeeper >/dev/null 2>&1; then
    .venv/bin/python -m pip uninstall --quiet --yes gatekeeper
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'

bash scripts/ensure-postgres.sh

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy gatekeeper tests
.venv/bin/python -m pytest --cov --cov-report=term-missing:skip-covered "$@"
