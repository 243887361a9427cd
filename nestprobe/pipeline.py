"""The pipeline: one Snapshot in, one Report out (assessment + verdicts).

Live probes and replayed dumps take exactly this path, which is why a dump replayed
offline gives the same report as the live probe of the machine it came from.
"""

from __future__ import annotations

import os

from nestprobe.assess import assess
from nestprobe.model.report import Report
from nestprobe.model.snapshot import Snapshot
from nestprobe.verdicts.evaluate import evaluate


def build_report(snapshot: Snapshot) -> Report:
    assessment = assess(snapshot)
    return Report(snapshot=snapshot, assessment=assessment, verdicts=evaluate(assessment))


def probe(
    *, timing: bool = True, thorough: bool = False, cpu: int | None = None, prove: bool = False
) -> Report:
    """Probe this machine (CPUID, OS signals, optionally exit latency) and assess it.

    ``cpu`` runs the whole probe on that logical CPU, or raises CpuSelectionError.
    ``prove`` also runs a tiny VM here (one vCPU, 24 KiB, about a millisecond on hardware).
    """
    from nestprobe.sources.live import live_snapshot

    return build_report(live_snapshot(timing=timing, thorough=thorough, cpu=cpu, prove=prove))


def load(path: str | os.PathLike[str], *, cpu: int = 0) -> Report:
    """Assess a dump file (nestprobe's own format or any supported importer format)."""
    from nestprobe.sources.load import load_snapshot

    return build_report(load_snapshot(path, cpu=cpu))
