"""Alert fingerprints: sha256 of a canonical JSON list of ``[field, value]`` pairs.

Never a plain concatenation (``"ab" + "c"`` and ``"a" + "bc"`` must differ). The
fields come from the policy's ``fingerprint_fields`` (default source, service,
env, title); ``title`` is normalised (case, whitespace, numbers folded) and
``labels.<key>`` names a label. An alert whose fields all resolve empty is refused.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from gatekeeper.errors import InvalidInput

DEFAULT_FIELDS = ("source", "service", "env", "title")
_NUMBER_RE = re.compile(r"\d+")


def normalise_title(title: str) -> str:
    return _NUMBER_RE.sub("#", " ".join(title.lower().split()))


def _value(alert: Mapping[str, Any], name: str) -> str:
    if name.startswith("labels."):
        return str(alert.get("labels", {}).get(name.removeprefix("labels."), ""))
    value = str(alert.get(name) or "")
    return normalise_title(value) if name == "title" else value


def fingerprint(alert: Mapping[str, Any], fields: Sequence[str] = DEFAULT_FIELDS) -> str:
    pairs = [[name, _value(alert, name)] for name in fields]
    if not any(value for _name, value in pairs):
        raise InvalidInput(
            f"every fingerprint field is empty ({', '.join(fields)})", where="fingerprint"
        )
    canonical = json.dumps(pairs, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
