"""msinfo32 (System Information) "System Summary" copied as text.

Layout (real pastes, docs/windows.md): one ``Item<TAB>Value`` row per line; pasted
elsewhere the TAB often becomes a space, so known item names are matched at the start of
a line. The Hyper-V rows read ``Hyper-V - VM Monitor Mode Extensions<TAB>Yes`` ...; with a
hypervisor running they are replaced by the row ``A hypervisor has been detected.
Features required for Hyper-V will not be displayed.``

Records: ``msinfo32:<Item>`` = the value as printed; the hypervisor sentence as
``msinfo32:Hyper-V``. Items it does not know are skipped (with a TAB they are kept as is).
In other languages the four Hyper-V rows keep their ``Hyper-V - `` prefix and their order
(winlang.py MSINFO_ROWS, SI-JA2): four such rows with unknown names are read by their place
and ``msinfo32:reading`` says so; the sentence is known in winlang.py's languages.
"""

from __future__ import annotations

import re

from nestprobe.model import oskeys
from nestprobe.model.snapshot import Snapshot
from nestprobe.sources.importers import winlang
from nestprobe.sources.importers.common import DumpText, Importer
from nestprobe.sources.importers.winpaste import machine_of, only_cpu_zero, paste_snapshot

FORMAT = "msinfo32"
PREFIX = "msinfo32:"

#: System Summary items, English (the order msinfo32 shows them).
ITEMS = (
    "OS Name", "Version", "Other OS Description", "OS Manufacturer", "System Name",
    "System Manufacturer", "System Model", "System Type", "System SKU", "Processor",
    "BIOS Version/Date", "SMBIOS Version", "Embedded Controller Version", "BIOS Mode",
    "BaseBoard Manufacturer", "BaseBoard Product", "BaseBoard Version", "Platform Role",
    "Secure Boot State", "PCR7 Configuration", "Windows Directory", "System Directory",
    "Boot Device", "Locale", "Hardware Abstraction Layer", "User Name", "Time Zone",
    "Installed Physical Memory (RAM)", "Total Physical Memory", "Available Physical Memory",
    "Total Virtual Memory", "Available Virtual Memory", "Page File Space", "Page File",
    "Kernel DMA Protection", "Virtualization-based security", "Device Encryption Support",
    "Hyper-V - VM Monitor Mode Extensions", "Hyper-V - Second Level Address Translation "
    "Extensions", "Hyper-V - Virtualization Enabled in Firmware",
    "Hyper-V - Data Execution Protection",
)
_ORDER = sorted(ITEMS, key=len, reverse=True)
HYPERV_ROW = "Hyper-V - "
SENTENCE = re.compile(r"^A hypervisor has been detected\.", re.IGNORECASE)
READING = oskeys.MSINFO32_READING


def _row(line: str) -> tuple[str, str] | None:
    text = line.strip()
    if SENTENCE.match(text) or winlang.sentence_language(text) is not None:
        return "Hyper-V", text
    if "\t" in text:
        item, _, value = text.partition("\t")
        return item.strip(), value.strip()
    if line[:1].isspace():  # items start a line; indented text is someone else's table
        return None
    for item in _ORDER:
        if text.startswith(item + " ") and not text[len(item):].lstrip().startswith(":"):
            return item, text[len(item):].strip()
    return None


#: Items only msinfo32's summary has; two of them (or a Hyper-V row) make a paste msinfo32's.
_SNIFF_ITEMS = frozenset({"OS Name", "System Manufacturer", "System Model", "System Type",
                          "System SKU", "BIOS Version/Date", "SMBIOS Version",
                          "Installed Physical Memory (RAM)"})


def sniff(dump: DumpText) -> bool:
    seen: set[str] = set()
    for line in dump.lines[:200]:
        if line.startswith("#") or not line.strip():
            continue
        row = _row(line)
        if row is None or not row[1]:
            continue
        if row[0] == "Hyper-V" or row[0].startswith(HYPERV_ROW):
            return True
        if row[0] in _SNIFF_ITEMS:
            seen.add(row[0])
    return len(seen) >= 2


def parse(dump: DumpText, cpu: int) -> Snapshot:
    only_cpu_zero(dump, cpu, "msinfo32")
    files: dict[str, str] = {}
    hyperv: list[tuple[str, str]] = []
    for line in dump.lines:
        if line.startswith("#") or not line.strip():
            continue
        row = _row(line)
        if row is not None and row[0]:
            files.setdefault(PREFIX + row[0], row[1])
            if row[0].startswith(HYPERV_ROW):
                hyperv.append(row)
    unknown = [item for item, _ in hyperv if item not in winlang.MSINFO_ROWS]
    if unknown and len(hyperv) == len(winlang.MSINFO_ROWS):
        for english, (_item, value) in zip(winlang.MSINFO_ROWS, hyperv, strict=True):
            files.setdefault(PREFIX + english, value)
        files[READING] = "the four Hyper-V rows by their fixed order (items in another language)"
    return paste_snapshot(dump, files, fmt=FORMAT, tool="msinfo32",
                          holds="the System Summary rows",
                          machine=machine_of(files.get(PREFIX + "System Type")))


IMPORTER = Importer(FORMAT, sniff, parse, "msinfo32 System Summary (TAB or space separated)")
