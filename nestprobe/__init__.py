"""nestprobe: can I nest? Hypervisor identity, VT-x/AMD-V exposure, nesting level and
Microsoft's nested-virtualization support matrix, each answer with its evidence.

Importing this package probes nothing: every probe happens inside a call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from nestprobe.report import Report

__all__ = ["__version__", "load", "probe"]


def probe(*, timing: bool = True, thorough: bool = False) -> Report:
    """Probe this machine (CPUID, OS signals, optionally exit latency) and assess it."""
    from nestprobe.report import build_report
    from nestprobe.sources.live import live_snapshot

    return build_report(live_snapshot(timing=timing, thorough=thorough))


def load(path: str, *, cpu: int = 0) -> Report:
    """Assess a dump file (nestprobe's own format or any supported importer format)."""
    from nestprobe.report import build_report
    from nestprobe.sources.load import load_snapshot

    return build_report(load_snapshot(path, cpu=cpu))
