#!/usr/bin/env bash
# The action's install step: gatekeeper in a virtualenv of its own under
# $RUNNER_TEMP, from the pinned constraints, with pip's cache in $PIP_CACHE_DIR
# (restored by actions/cache). Exports GATEKEEPER_BIN for the gate step.
set -euo pipefail
root="${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/../.." && pwd)}"
venv="${RUNNER_TEMP:?RUNNER_TEMP is not set}/gatekeeper-venv"
echo "::group::Install gatekeeper"
"${GK_PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet \
    --constraint "$root/constraints.txt" "$root"
echo "::endgroup::"
echo "GATEKEEPER_BIN=$venv/bin/gatekeeper" >> "${GITHUB_ENV:?GITHUB_ENV is not set}"
