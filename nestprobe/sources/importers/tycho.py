"""Steven Noonan's (tycho) ``cpuid --dump`` output, as kernel and hypervisor threads paste it.

Shape (tycho/cpuid ``cpuid.c`` ``cpuid_dump_normal``, ``main.c``; TYCHO)::

    CPU 0:
    CPUID 00000000:00 = 0000000d 756e6547 6c65746e 49656e69 | ....GenuntelineI

``CPUID leaf:subleaf = eax ebx ecx edx`` in hex, then ``|`` and the sixteen register bytes
as ASCII (``.`` for the unprintable): informative only, and anything after the bar is
ignored. ``CPU N:`` opens a logical CPU's block; a dump without one is CPU 0. Other text
(a prompt, prose, a mail reply's quoting, which load.py removes) is skipped; a line that
starts like a record must be one.
"""

from __future__ import annotations

import re

from nestprobe.model.snapshot import Snapshot
from nestprobe.sources.importers.common import (
    CpuBlocks,
    DumpText,
    Importer,
    LeafCollector,
    cpuid_snapshot,
    parse_dec,
)

FORMAT = "tycho-cpuid"

_H8 = r"([0-9a-fA-F]{8})"
#: A log's prefix before each line ("[ 12.3] ", "stdout: ") is allowed, as for cpuid -r.
_PREFIX = r"^(?:.*?[\s\]|:>])?"
_RECORD = re.compile(
    rf"{_PREFIX}\s*CPUID {_H8}:([0-9a-fA-F]{{2,8}}) = {_H8} {_H8} {_H8} {_H8}(?:\s*\|.*)?\s*$")
_RECORD_START = re.compile(rf"{_PREFIX}\s*CPUID [0-9a-fA-F]{{8}}:[0-9a-fA-F]")
_CPU_HEADER = re.compile(rf"{_PREFIX}\s*CPU ([0-9]{{1,6}}):\s*$")


def sniff(dump: DumpText) -> bool:
    return any(_RECORD.match(line) for line in dump.lines[:400])


def parse(dump: DumpText, cpu: int) -> Snapshot:
    blocks = CpuBlocks(dump)
    current: LeafCollector | None = None
    for number, line in enumerate(dump.lines, start=1):
        header = _CPU_HEADER.match(line)
        if header is not None:
            current = blocks.start(number, parse_dec(dump, number, header.group(1), "CPU", 1 << 20))
            continue
        record = _RECORD.match(line)
        if record is None:
            if _RECORD_START.match(line):
                raise dump.error(number, "'CPUID LLLLLLLL:SS = eax ebx ecx edx' (8 hex digits "
                                 "each)", line.strip())
            continue  # prose, a prompt, the tool's banner
        if current is None:
            current = blocks.start(number, 0)
        leaf, sub, eax, ebx, ecx, edx = record.groups()
        current.add_hex(number, leaf, sub, (eax, ebx, ecx, edx))
    leaves = blocks.select(cpu, "'CPUID LLLLLLLL:SS = ...' records")
    return cpuid_snapshot(leaves, path=dump.path, fmt=FORMAT, cpu=cpu)


IMPORTER = Importer(FORMAT, sniff, parse, "tycho's cpuid --dump (CPUID LLLLLLLL:SS = ...)")
