#!/usr/bin/env bash
# The action's gate step. GitHub runs composite steps under
# `bash --noprofile --norc -eo pipefail`: the gate's own exit code is caught
# explicitly so the outputs are written in every case (pass, warn, block,
# error, configuration error) before the step exits with that same code.
set -uo pipefail
bin="${GATEKEEPER_BIN:-gatekeeper}"
rm -f "$GK_JSON"
args=(check --env "$GK_ENV" --format github --junit "$GK_JUNIT" --json "$GK_JSON")
for service in ${GK_SERVICES//,/ }; do
    args+=(--service "$service")
done
if [ -n "${GK_AGENT:-}" ]; then
    args=(--agent "$GK_AGENT" "${args[@]}")
fi
if [ -n "${GK_OVERRIDE_REASON:-}" ]; then
    args+=(--override "$GK_OVERRIDE_REASON")
fi
extra=()
if [ -n "${GK_EXTRA_ARGS:-}" ]; then
    read -r -a extra <<< "$GK_EXTRA_ARGS"
fi
echo "::group::gatekeeper check --env $GK_ENV"
code=0
"$bin" "${args[@]}" "${extra[@]}" || code=$?
echo "::endgroup::"
decision=error
if [ -s "$GK_JSON" ]; then
    py="$(dirname "$bin")/python"
    [ -x "$py" ] || py=python3
    decision=$("$py" -c 'import json, sys; print(json.load(open(sys.argv[1]))["decision"])' \
        "$GK_JSON" 2>/dev/null) || decision=error
fi
echo "decision=$decision" >> "$GITHUB_OUTPUT"
echo "exit-code=$code" >> "$GITHUB_OUTPUT"
exit "$code"
