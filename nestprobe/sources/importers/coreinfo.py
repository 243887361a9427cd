"""Sysinternals Coreinfo output, full (``coreinfo``, ``-f``) or virtualization-only (``-v``).

Layout (MicrosoftDocs/sysinternals coreinfo.md; real pastes, docs/windows.md):
an optional banner ``Coreinfo vX.YY - Dump information on system CPU and memory
topology``, the CPU brand line, the signature ``Intel64 Family 6 Model 158 Stepping 13,
GenuineIntel``, ``Microcode signature: XXXXXXXX`` (v3.3+), then feature lines: a name
left-justified in a 16-column field, ``*`` (present) or ``-`` (absent), a description.
HYPERVISOR, VMX and SVM are CPUID bits; ``-v`` adds EPT (Intel) or NP/NPT (AMD) for SLAT.
Old versions put EM64T first; users drop the banner; the docs escape ``>`` as ``&gt;``.

Records: ``coreinfo:<FEATURE>`` = ``*``/``-``, ``coreinfo:cpu`` (brand),
``coreinfo:signature``, ``coreinfo:microcode``, ``coreinfo:version``.
"""

from __future__ import annotations

import re

from nestprobe.model.lazyre import lazy_compile
from nestprobe.model.snapshot import Snapshot
from nestprobe.sources.importers.common import DumpText, Importer
from nestprobe.sources.importers.winpaste import only_cpu_zero, paste_snapshot

FORMAT = "coreinfo"

_BANNER = lazy_compile(r"^Coreinfo v(\d+\.\d+)\b")
_SIGNATURE = lazy_compile(
    r"^(?:Intel64|AMD64|EM64T|x86|ARM64) Family \d+ Model \d+ Stepping \d+, \w+$")
_FEATURE = lazy_compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9 .\-]{0,15}?)\s+(?P<mark>[*-])"
                      r"(?:\s+(?P<what>\S.*))?$")
_MICROCODE = lazy_compile(r"^Microcode signature:\s*([0-9A-Fa-f]+)$")
#: Lines around the table that are not features.
_SKIP = lazy_compile(r"^(Copyright|Sysinternals|Note:|Logical |.*:\s*$|.*>\s*coreinfo)",
                   re.IGNORECASE)


def _content(dump: DumpText) -> list[tuple[int, str]]:
    return [(n, line.rstrip()) for n, line in enumerate(dump.lines, 1)
            if line.strip() and not line.startswith("#")]


def sniff(dump: DumpText) -> bool:
    lines = [line.strip() for _, line in _content(dump)[:60]]
    if any(_BANNER.match(line) for line in lines[:8]):
        return True
    features = sum(1 for line in lines if _FEATURE.match(line) and line.split()[0].isupper())
    return any(_SIGNATURE.match(line) for line in lines[:12]) and features >= 2


def parse(dump: DumpText, cpu: int) -> Snapshot:
    only_cpu_zero(dump, cpu, "Coreinfo")
    files: dict[str, str] = {}
    previous = ""
    in_maps = False
    for _number, raw in _content(dump):
        line = raw.strip()
        if (banner := _BANNER.match(line)) is not None:
            files.setdefault("coreinfo:version", banner.group(1))
            continue
        if _SIGNATURE.match(line):
            files.setdefault("coreinfo:signature", line)
            if previous and "coreinfo:cpu" not in files:
                files["coreinfo:cpu"] = previous
            continue
        if (micro := _MICROCODE.match(line)) is not None:
            files.setdefault("coreinfo:microcode", micro.group(1))
            continue
        if line.endswith("Map:"):  # topology maps follow the feature table; no features after
            in_maps = True
        feature = _FEATURE.match(line) if not in_maps else None
        if feature is not None and feature.group("what") is not None:
            files.setdefault(f"coreinfo:{feature.group('name').strip()}", feature.group("mark"))
        elif not _SKIP.match(line):
            previous = line  # the brand string sits just above the signature
    if not any(key not in ("coreinfo:version",) for key in files):
        files.clear()
    return paste_snapshot(dump, files, fmt=FORMAT, tool="Coreinfo",
                          holds="CPU feature flags as Coreinfo printed them")


IMPORTER = Importer(FORMAT, sniff, parse, "Sysinternals Coreinfo output (full or -v)")
