"""nestprobe: can I nest? Hypervisor identity, VT-x/AMD-V exposure, nesting level and
Microsoft's nested-virtualization support matrix, each answer with its evidence.

Importing this package probes nothing: every probe happens inside a call, and the
stages behind ``probe()`` and ``load()`` are imported only when one is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nestprobe.model.contract import VERSION
from nestprobe.model.errors import CpuidUnavailableError, DumpFormatError, NestprobeError
from nestprobe.model.report import Report

if TYPE_CHECKING:
    from nestprobe.model.snapshot import Snapshot

__version__ = VERSION

__all__ = [
    "CpuidUnavailableError",
    "DumpFormatError",
    "NestprobeError",
    "Report",
    "__version__",
    "assess",
    "load",
    "probe",
    "report_to_dict",
]


def probe(*, timing: bool = True, thorough: bool = False) -> Report:
    """Probe this machine (CPUID, OS signals, optionally exit latency) and assess it."""
    from nestprobe import pipeline

    return pipeline.probe(timing=timing, thorough=thorough)


def load(path: str, *, cpu: int = 0) -> Report:
    """Assess a dump file (nestprobe's own format or any supported importer format)."""
    from nestprobe import pipeline

    return pipeline.load(path, cpu=cpu)


def assess(snapshot: Snapshot) -> Report:
    """Assess a snapshot built elsewhere (a source of your own, or a modified replay)."""
    from nestprobe.pipeline import build_report

    return build_report(snapshot)


def report_to_dict(report: Report) -> dict[str, Any]:
    """The JSON report, schema_version 1 (``nestprobe/output/report.schema.json``)."""
    from nestprobe.output.jsonreport import report_to_dict as render

    return render(report)
