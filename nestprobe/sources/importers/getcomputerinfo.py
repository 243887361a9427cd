"""PowerShell ``Get-ComputerInfo`` output: ``-Property HyperV*``, a few properties, or all.

Layout (real pastes, docs/windows.md): a list ``Name : Value`` with names padded to
the longest (an empty value means "not displayed": the four HyperVRequirement* are empty
when a hypervisor is present), or with few properties a table: a header of names, a
dashed underline whose runs give the columns, then one row of values.

Records: ``get-computerinfo:<Property>`` = the value as printed (possibly empty).
Property names are PowerShell's (``HyperVisorPresent``), whatever case the paste used.
"""

from __future__ import annotations

import re

from nestprobe.model.lazyre import lazy_compile
from nestprobe.model.snapshot import Snapshot
from nestprobe.sources.importers.common import DumpText, Importer
from nestprobe.sources.importers.winpaste import only_cpu_zero, paste_snapshot

FORMAT = "get-computerinfo"
PREFIX = "get-computerinfo:"

#: The properties nestprobe reads, spelled as Get-ComputerInfo prints them.
KNOWN = (
    "HyperVisorPresent", "HyperVRequirementDataExecutionPreventionAvailable",
    "HyperVRequirementSecondLevelAddressTranslation",
    "HyperVRequirementVirtualizationFirmwareEnabled", "HyperVRequirementVMMonitorModeExtensions",
    "CsManufacturer", "CsModel", "BiosManufacturer", "OsName", "OsVersion", "OsBuildNumber",
    "WindowsProductName", "WindowsEditionId", "WindowsInstallationType", "CsTotalPhysicalMemory",
    "CsNumberOfLogicalProcessors", "OsArchitecture",
)
_CANONICAL = {name.lower(): name for name in KNOWN}
#: Property names are words (CsName, OsBuildNumber): a one-letter "name" is a drive in a
#: prompt around the paste (``C:\>systeminfo``), not a property.
_PROPERTY = lazy_compile(r"^\s*(?P<name>[A-Za-z][A-Za-z0-9]+)\s*:(?P<value>.*)$")
_DASHES = lazy_compile(r"^\s*-+(\s+-+)*\s*$")
_HEADER = lazy_compile(r"^\s*[A-Za-z][A-Za-z0-9]*(\s+[A-Za-z][A-Za-z0-9]*)*\s*$")


def _name(raw: str) -> str:
    return _CANONICAL.get(raw.lower(), raw)


def sniff(dump: DumpText) -> bool:
    for line in dump.lines[:400]:
        if line.startswith("#"):
            continue
        if "Get-ComputerInfo" in line:
            return True
        match = _PROPERTY.match(line)
        if match is not None and match.group("name").lower().startswith("hyperv"):
            return True
        if _HEADER.match(line) and re.search(r"\bHyperV(isorPresent|Requirement)", line):
            return True
    return False


def _table(dump: DumpText, header: int) -> dict[str, str]:
    """Values of a table whose header is line ``header`` (0-based) and underline the next."""
    names = dump.lines[header]
    under = dump.lines[header + 1]
    spans = [(m.start(), m.end()) for m in re.finditer(r"-+", under)]
    titles = [names[a:b].strip() or names[a:].split()[0] for a, b in spans]
    rows = [line for line in dump.lines[header + 2:] if line.strip()][:1]
    out: dict[str, str] = {}
    for index, ((start, end), title) in enumerate(zip(spans, titles, strict=True)):
        last = index == len(spans) - 1
        value = rows[0][start:] if rows and last else rows[0][start:end] if rows else ""
        out[PREFIX + _name(title)] = value.strip()
    return out


def parse(dump: DumpText, cpu: int) -> Snapshot:
    only_cpu_zero(dump, cpu, "Get-ComputerInfo")
    files: dict[str, str] = {}
    for index, line in enumerate(dump.lines):
        if line.startswith("#") or not line.strip():
            continue
        if (index + 1 < len(dump.lines) and _DASHES.match(dump.lines[index + 1])
                and _HEADER.match(line)):
            for key, value in _table(dump, index).items():
                files.setdefault(key, value)
            continue
        match = _PROPERTY.match(line)
        if match is not None:
            files.setdefault(PREFIX + _name(match.group("name")), match.group("value").strip())
    return paste_snapshot(dump, files, fmt=FORMAT, tool="Get-ComputerInfo",
                          holds="Windows' WMI view of this machine")


IMPORTER = Importer(FORMAT, sniff, parse, "PowerShell Get-ComputerInfo output (list or table)")
