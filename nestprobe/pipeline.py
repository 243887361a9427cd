"""The pipeline: one Snapshot in, one Report out (assessment + verdicts).

Live probes and replayed dumps take exactly this path, which is why a dump replayed
offline gives the same report as the live probe of the machine it came from.
"""

from __future__ import annotations

from nestprobe.assess import assess
from nestprobe.model.report import Report
from nestprobe.model.snapshot import Snapshot
from nestprobe.verdicts.evaluate import evaluate


def build_report(snapshot: Snapshot) -> Report:
    assessment = assess(snapshot)
    return Report(snapshot=snapshot, assessment=assessment, verdicts=evaluate(assessment))
