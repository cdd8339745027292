"""The peer: the demo store read and judged by an equivalent Rego policy through regopy.

    python -m bench.peers.rego_check STORE_DIR SERVICE ENV NOW

Exit 1 when the policy blocks, 0 when it allows: the same answer the gate gives.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from regopy import Interpreter

    store, service, env, now = Path(argv[0]), argv[1], argv[2], argv[3]
    latest: dict[str, object] = {}
    for line in (store / "incidents.jsonl").read_text().splitlines():
        record = json.loads(line)
        latest[record["id"]] = record
    events = [json.loads(line) for line in (store / "events.jsonl").read_text().splitlines()]
    rego = Interpreter()
    rego.add_module("gate", (Path(__file__).parent / "gate.rego").read_text())
    rego.set_input_term(
        json.dumps(
            {"incidents": list(latest.values()), "events": events}
            | {"service": service, "env": env, "now": now}
        )
    )
    allowed = rego.query("x = data.gate.allow").results[0].bindings["x"]
    return 0 if allowed is True else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
