#!/usr/bin/env bash
# The action's install step: gatekeeper in a virtualenv of its own ($GK_VENV, under
# $RUNNER_TEMP), from the pinned constraints. A venv the cache restored is used only
# if it still works: its stamp holds this cache key, and its `gatekeeper --version`
# runs and prints what it printed when it was installed. Otherwise it is rebuilt.
# Writes installed=true|false to $GITHUB_OUTPUT (true: the next step caches the new
# venv) and exports GATEKEEPER_BIN for the gate step.
set -euo pipefail
root="${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/../.." && pwd)}"
python="${GK_PYTHON:-python3}"
venv="${GK_VENV:?GK_VENV is not set}"
key="${GK_CACHE_KEY:?GK_CACHE_KEY is not set}"
stamp="$venv/gatekeeper-cache-key"
: "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}" "${GITHUB_ENV:?GITHUB_ENV is not set}"

version_line() {
    "$venv/bin/gatekeeper" --version 2>/dev/null
}

cached=""
usable() {
    [ -f "$stamp" ] && cached=$(version_line) && [ "$(cat "$stamp")" = "$key"$'\n'"$cached" ]
}

build_venv() {
    echo "::group::Install gatekeeper"
    # No pip inside the venv: the job's Python's pip installs into it (--python,
    # pip 22.3+), which skips a copy of pip per venv and keeps the cached venv small.
    "$python" -m venv --without-pip "$venv"
    "$python" -m pip --python "$venv/bin/python" install --disable-pip-version-check \
        --quiet --constraint "$root/constraints.txt" "$root"
    local line expected
    line=$(version_line)
    expected=$("$python" -c \
        'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' \
        "$root/pyproject.toml")
    if [ "$line" != "gatekeeper, version $expected" ]; then
        echo "::error title=gatekeeper::the installed gatekeeper says '$line', not version $expected"
        exit 1
    fi
    printf '%s\n%s\n' "$key" "$line" > "$stamp"
    echo "::endgroup::"
}

installed=false
if [ -e "$venv" ] && usable; then
    echo "gatekeeper: the cached virtualenv ($cached)"
else
    if [ -e "$venv" ]; then
        echo "::warning title=gatekeeper::the cached virtualenv does not run here; reinstalling." \
            "If this repeats, delete the cache entry $key."
        rm -rf "$venv"
    fi
    build_venv
    installed=true
fi
echo "installed=$installed" >> "$GITHUB_OUTPUT"
echo "GATEKEEPER_BIN=$venv/bin/gatekeeper" >> "$GITHUB_ENV"
