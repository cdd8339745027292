"""The policy file with its ``risk:`` and ``correlation:`` sections.

Imported only for a policy file that has one of them (see
:func:`gatekeeper.policy.models.policy_file_model`), so ``gatekeeper check`` on
a policy without them never builds the six intelligence models.
"""

from __future__ import annotations

from gatekeeper.intelligence.settings import CorrelationSettings, RiskSettings
from gatekeeper.policy.models import PolicyFile


class PolicyFileWithSections(PolicyFile):
    """:class:`PolicyFile` and the two sections, as its last fields."""

    risk: RiskSettings | None = None
    correlation: CorrelationSettings | None = None
