#!/usr/bin/env bash
# Make sure the PostgreSQL server the tests use is reachable; start the local
# cluster when it is not. Fails loudly (exit 1) when it stays unreachable: the
# Postgres tests are never skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

url=${GATEKEEPER_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}
reachable() {
    .venv/bin/python - "$url" <<'PY' 2>/dev/null
import sys
import psycopg
psycopg.connect(sys.argv[1], connect_timeout=3).close()
PY
}

if reachable; then
    exit 0
fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    for version in $(ls /etc/postgresql); do
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
    for _ in $(seq 1 30); do
        reachable && exit 0
        sleep 1
    done
fi
echo "error: PostgreSQL is not reachable at $url" >&2
echo "       start it, or point GATEKEEPER_TEST_DATABASE_URL at a server you can use" >&2
exit 1
