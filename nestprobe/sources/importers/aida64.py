"""AIDA64 / InstLatx64 CPUID dumps: ``CPUID xxxxxxxx: EAX-EBX-ECX-EDX [SL nn] [comment]``.

A report repeats the leaves once per logical CPU under one of three headers
(all three appear in the InstLatx64 repository)::

    CPU#000 AffMask: 0x0000000000000001
    ------[ Logical CPU #0 ]------
    ------[ CPUID Registers / Logical CPU #0 ]------

``[SL nn]`` is the subleaf in hex (absent means 0). Any other ``------[ ... ]------``
section (``All CPUs``, ``MSR Registers``) ends the CPU block; the report's prose
(cache descriptions, ``allcpu:`` topology, ``MSR`` lines) is skipped, but a line that
starts with ``CPUID`` must be a well-formed record inside a CPU block. A file with
records and no CPU header at all is one CPU (the fragments quoted in issues).
"""

from __future__ import annotations

from nestprobe.model.lazyre import lazy_compile
from nestprobe.model.snapshot import Snapshot
from nestprobe.sources.importers.common import (
    CpuBlocks,
    DumpText,
    Importer,
    LeafCollector,
    cpuid_snapshot,
    parse_dec,
)

FORMAT = "aida64"

_H8 = r"([0-9a-fA-F]{8})"
_RECORD = lazy_compile(
    rf"^CPUID {_H8}: {_H8}-{_H8}-{_H8}-{_H8}"
    r"(?:[ \t]+\[SL ([0-9a-fA-F]{2})\])?(?:[ \t]+\[.*)?[ \t]*$"
)
_CPU_HEADERS = (
    lazy_compile(r"^CPU#([0-9]{1,6}) AffMask: 0x[0-9a-fA-F]+[ \t]*$"),
    lazy_compile(r"^------\[ (?:CPUID Registers / )?Logical CPU #([0-9]{1,6}) \]------[ \t]*$"),
)
_SECTION = lazy_compile(r"^------\[ .* \]------[ \t]*$")


def sniff(dump: DumpText) -> bool:
    return any(line.startswith("CPUID ") and _RECORD.match(line) for line in dump.lines[:400])


def parse(dump: DumpText, cpu: int) -> Snapshot:
    blocks = CpuBlocks(dump)
    current: LeafCollector | None = None
    seen_header = False
    for number, raw in enumerate(dump.lines, start=1):
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        header = None
        for pattern in _CPU_HEADERS:
            header = pattern.match(line)
            if header is not None:
                break
        if header is not None:
            current = blocks.start(number, parse_dec(dump, number, header.group(1), "CPU", 1 << 20))
            seen_header = True
            continue
        if _SECTION.match(line):
            current = None  # All CPUs / MSR sections carry no CPUID records
            continue
        if not line.startswith("CPUID"):
            continue  # report prose
        record = _RECORD.match(line)
        if record is None:
            raise dump.error(
                number, "'CPUID xxxxxxxx: EAX-EBX-ECX-EDX [SL nn]' (8 hex digits each)", line
            )
        if current is None:
            if seen_header:
                raise dump.error(number, "CPUID records inside a logical CPU block", line)
            current = blocks.start(number, 0)
            seen_header = True
        leaf, eax, ebx, ecx, edx, sub = record.groups()
        current.add_hex(number, leaf, sub, (eax, ebx, ecx, edx))
    leaves = blocks.select(cpu, "'CPUID xxxxxxxx: EAX-EBX-ECX-EDX' records")
    return cpuid_snapshot(leaves, path=dump.path, fmt=FORMAT, cpu=cpu)


IMPORTER = Importer(FORMAT, sniff, parse, "AIDA64 / InstLatx64 CPUID dump")
