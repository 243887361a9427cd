"""Todd Allen's ``cpuid -r`` (raw) output, single or multi-CPU, and files converted to it.

Shape (cpuid 2012+; ``http://www.etallen.com/cpuid.html``)::

    CPU 0:                      (``CPU:`` with ``-1``; absent in converted tables)
       0x00000000 0x00: eax=0x0000000d ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69

Older releases printed no subleaf column (``0x00000000: eax=...``); it reads as
subleaf 0. Firecracker fingerprints converted to this style append
``(flags=N)`` (KVM_CPUID_FLAG_*), which carries no register data and is dropped.
Text around the records (a ``$ cpuid -1 -r`` echo, the tool's ``Disclaimer:`` line, a
test harness's start/end markers, prose, markdown fences; a mail reply's ``> `` quoting is
removed by load.py) is skipped, and so is a log's prefix before each line (``[ 12.3] ``);
a line that starts like a record (``0x`` and hex digits)
must be a whole one, so a cut record is refused, not dropped.
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

FORMAT = "cpuid-r"

#: ``cpuid -r`` prints ``0x%08x 0x%02x: eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x``
#: (the format its converters copy too, e.g. autotest tp-qemu qemu/deps/cpuid/src/test.c):
#: a leaf or register of another width is a cut or edited line (``edx=0x76482``), not a
#: small value, and is refused.
_HEX8 = r"0x([0-9a-fA-F]{8})"
_SUBLEAF = r"0x([0-9a-fA-F]{2,8})"
_RECORD = re.compile(
    rf"^[ \t]*{_HEX8}(?:[ \t]+{_SUBLEAF})?:[ \t]+eax={_HEX8}[ \t]+ebx={_HEX8}[ \t]+ecx={_HEX8}"
    rf"[ \t]+edx={_HEX8}(?:[ \t]+\(flags=[0-9]{{1,10}}\))?[ \t]*$"
)
_RECORD_START = re.compile(r"^[ \t]*0x[0-9a-fA-F]+(?:[ \t]+0x[0-9a-fA-F]+)?:[ \t]*eax=")
#: Where a record begins: a cut one ("   0x00000001 0x00: ea") still starts so.
_RECORD_LIKE = re.compile(r"^[ \t]*0x[0-9a-fA-F]+(?:[ \t]+0x[0-9a-fA-F]+)?:")
_CPU_HEADER = re.compile(r"^CPU(?:[ \t]+([0-9]+))?:[ \t]*$")
#: A harness or log may put the same prefix before every line ("[   12.345] ", "stdout: ").
_PREFIXED = re.compile(r"(?:^|(?<=[\s\]|:>]))(?=0x[0-9a-fA-F]{1,8}(?:[ \t]+0x[0-9a-fA-F]+)?:"
                       r"|CPU(?:[ \t]+[0-9]+)?:[ \t]*$)")


def _body(line: str) -> str:
    """``line`` from where a record or a CPU header starts (a log's prefix dropped)."""
    if _RECORD_LIKE.match(line) or _CPU_HEADER.match(line.strip()):
        return line
    found = _PREFIXED.search(line)
    return line[found.start():] if found is not None and found.start() else line


def sniff(dump: DumpText) -> bool:
    return any(_RECORD_START.match(_body(line)) for line in dump.lines[:400])


def parse(dump: DumpText, cpu: int) -> Snapshot:
    blocks = CpuBlocks(dump)
    current: LeafCollector | None = None
    for number, raw in enumerate(dump.lines, start=1):
        line = _body(raw)
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        header = _CPU_HEADER.match(stripped)
        if header is not None:
            index = header.group(1)
            which = 0 if index is None else parse_dec(dump, number, index, "CPU number", 1 << 20)
            current = blocks.start(number, which)
            continue
        record = _RECORD.match(line)
        if record is None:
            if _RECORD_LIKE.match(line):
                raise dump.error(
                    number,
                    "'0xLEAF 0xSUB: eax=0x... ebx=0x... ecx=0x... edx=0x...' or 'CPU N:'",
                    stripped,
                )
            continue  # prose, a prompt, a harness's marker, a fence
        if current is None:
            current = blocks.start(number, 0)  # converted tables carry no CPU header
        leaf, sub, eax, ebx, ecx, edx = record.groups()
        current.add_hex(number, leaf, sub, (eax, ebx, ecx, edx))
    leaves = blocks.select(cpu, "'0xLEAF 0xSUB: eax=...' records")
    return cpuid_snapshot(leaves, path=dump.path, fmt=FORMAT, cpu=cpu)


IMPORTER = Importer(FORMAT, sniff, parse, "Todd Allen's cpuid -r (raw) output")
