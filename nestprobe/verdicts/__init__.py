"""Verdicts: Microsoft's nested-virtualization support matrix and remediation, as data.

``evaluate(assessment)`` gives one :class:`Verdict` per scenario (hyperv, wsl2,
hyperv-containers, azure-local, third-party) with the evidence, conditions, caveats and
the fix at the layer that owns it.
"""

from nestprobe.verdicts.evaluate import evaluate
from nestprobe.verdicts.model import (
    SCENARIOS,
    STATUSES,
    Remediation,
    Scenario,
    Status,
    Verdict,
    Verdicts,
)

__all__ = [
    "SCENARIOS",
    "STATUSES",
    "Remediation",
    "Scenario",
    "Status",
    "Verdict",
    "Verdicts",
    "evaluate",
]
