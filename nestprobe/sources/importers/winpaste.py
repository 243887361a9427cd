"""Shared by the importers of what Windows users paste (Coreinfo, systeminfo,
Get-ComputerInfo, msinfo32): no CPUID registers, only the lines the tool printed.

Each understood line becomes a ``file`` fact under a pseudo-path ``<tool>:<label>`` with
the value as printed (labels in English, localised ones mapped); decode/winreport.py says
what they mean. The Snapshot has ``cpuid_status="absent"`` and a detail naming the tool,
``system="Windows"``; a line the importer does not know is skipped, never guessed at, and
a paste with nothing it understands is a DumpFormatError.
"""

from __future__ import annotations

from nestprobe.model import oskeys
from nestprobe.model.snapshot import CpuidTable, FileFact, Origin, OsFacts, Snapshot
from nestprobe.sources.importers.common import DEFAULT_MACHINE, DumpText

#: How the pasted file's bytes were read, when not UTF-8 (sources/importers/textcodec.py).
ENCODING = oskeys.PASTE_ENCODING
#: systeminfo's / msinfo32's "System Type" -> machine (x64-based PC, ARM64-based PC, X86-based PC).
SYSTEM_TYPES = {"x64": "x86_64", "arm64": "aarch64", "x86": "i686"}


def machine_of(system_type: str | None) -> str:
    if not system_type:
        return DEFAULT_MACHINE
    head = system_type.strip().split("-", 1)[0].lower()
    return SYSTEM_TYPES.get(head, DEFAULT_MACHINE)


def paste_snapshot(
    dump: DumpText, files: dict[str, str], *, fmt: str, tool: str, holds: str,
    machine: str = DEFAULT_MACHINE,
) -> Snapshot:
    """The Snapshot of a pasted tool output; a DumpFormatError if it understood nothing."""
    if not any(text.strip() for path, text in files.items() if not path.endswith(":reading")):
        raise dump.error(None, f"{tool} output ({holds})", "no line it prints with a value")
    if dump.encoding and dump.encoding not in ("utf-8", "utf-8-sig", "ascii"):
        files = {**files, ENCODING: f"{dump.encoding} ({dump.encoding_how})"}
    return Snapshot(
        cpuid_status="absent",
        cpuid=CpuidTable({}),
        os=OsFacts(
            system="Windows",
            machine=machine,
            files={path: FileFact("ok", text) for path, text in files.items()},
        ),
        cpuid_detail=f"the file is {tool} output ({holds}): no CPUID registers were recorded",
        origin=Origin(kind="dump", path=dump.path, format=fmt, cpu=0),
    )


def only_cpu_zero(dump: DumpText, cpu: int, tool: str) -> None:
    if cpu != 0:
        raise dump.error(None, f"cpu=0 ({tool} output describes the machine, not one CPU)",
                         f"cpu={cpu}")
