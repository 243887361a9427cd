"""nestprobe: can I nest? Hypervisor identity, VT-x/AMD-V exposure, nesting level and
Microsoft's nested-virtualization support matrix, each answer with its evidence.

Importing this package probes nothing: every probe happens inside a call, and the
stages behind ``probe()`` and ``load()`` are imported only when one is made.
"""

# No ``from __future__ import annotations`` here or in nestprobe/bytecode.py, the two
# modules imported the usual way: the served modules are compiled with its flag instead
# of running its import, so a cold start never imports ``__future__``. The annotations
# are quoted: the strings they were under it.

import os

from nestprobe.bytecode import install as _install_bytecode

# Before the package's first import below: the wheel's modules in one file, when it is
# usable here (nestprobe/bytecode.py says when); without it, the usual imports.
_install_bytecode(__path__[0])

from nestprobe.model.contract import VERSION
from nestprobe.model.errors import (
    CpuidUnavailableError,
    CpuNotInDumpError,
    CpuSelectionError,
    DumpFormatError,
    NestprobeError,
)
from nestprobe.model.report import Report
from nestprobe.model.typeshim import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nestprobe.model.snapshot import Snapshot

__version__ = VERSION

__all__ = [
    "CpuNotInDumpError",
    "CpuSelectionError",
    "CpuidUnavailableError",
    "DumpFormatError",
    "NestprobeError",
    "Report",
    "__version__",
    "assess_snapshot",
    "load",
    "probe",
    "report_to_dict",
]


def probe(*, timing: "bool" = True, thorough: "bool" = False, cpu: "int | None" = None
          ) -> "Report":
    """Probe this machine (CPUID, OS signals, optionally exit latency) and assess it.

    ``cpu`` runs every CPUID of the probe on that logical CPU; CpuSelectionError when it
    cannot.
    """
    from nestprobe import pipeline

    return pipeline.probe(timing=timing, thorough=thorough, cpu=cpu)


def load(path: "str | os.PathLike[str]", *, cpu: "int" = 0) -> "Report":
    """Assess a dump file (nestprobe's own format or any supported importer format).

    ``path`` ``-`` reads standard input. ``cpu`` must be an int >= 0 (TypeError or
    ValueError, checked before anything is read); DumpFormatError for a bad file,
    CpuNotInDumpError (one of them) for a good file without that CPU.
    """
    from nestprobe import pipeline

    return pipeline.load(path, cpu=cpu)


def assess_snapshot(snapshot: "Snapshot") -> "Report":
    """Assess a snapshot built elsewhere (a source of your own, or a modified replay).

    Not called ``assess``: ``nestprobe.assess`` is the assessment subpackage, which
    replaces a function of that name on the package once it is imported.
    """
    from nestprobe.pipeline import build_report

    return build_report(snapshot)


def report_to_dict(report: "Report") -> "dict[str, Any]":
    """The JSON report, schema_version 3 (``nestprobe/output/report.schema.json``)."""
    from nestprobe.output.jsonreport import report_to_dict as render

    return render(report)
