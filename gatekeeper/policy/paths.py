"""Where the role file of a policy lives, without building its models.

``gatekeeper check`` hashes ``rbac.yml`` for its provenance line but reads the
roles only for a break-glass override, so it finds the file here.
"""

from __future__ import annotations

from pathlib import Path

RBAC_FILES = ("rbac.yml", "rbac.yaml")


def rbac_file(policy_path: Path) -> Path | None:
    """``rbac.yml`` in the policy directory (a file policy's own directory), if any."""
    directory = policy_path if policy_path.is_dir() else policy_path.parent
    for name in RBAC_FILES:
        if (directory / name).is_file():
            return directory / name
    return None
