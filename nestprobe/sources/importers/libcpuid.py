"""libcpuid raw dumps (anrieff/libcpuid ``cpuid_serialize_raw_data``) and its test files.

Lines are ``NAME[i]=EAX EBX ECX EDX`` (hex, no ``0x``); a multi-CPU dump separates
CPUs with ``_________________ Logical CPU #N _________________``. A libcpuid test file
(``tests/**/*.test``) appends the expected decode after a line of dashes; reading
stops there. Arrays map to leaves as libcpuid fills them (libcpuid/cpuid_main.c,
``cpuid_get_raw_data``); a subleaf array's ``[0]`` repeats the base array's entry and
rows that are all zero are slots libcpuid did not fill (it fills only the vendor's
arrays), so both are skipped.
"""

from __future__ import annotations

from nestprobe.model.lazyre import lazy_compile
from nestprobe.model.snapshot import Registers, Snapshot
from nestprobe.sources.importers.common import (
    CpuBlocks,
    DumpText,
    Importer,
    LeafCollector,
    cpuid_snapshot,
    parse_dec,
)

FORMAT = "libcpuid"

#: array name -> (leaf, index is the subleaf?) per libcpuid cpuid_serialize_raw_data.
ARRAYS: dict[str, tuple[int, bool]] = {
    "basic_cpuid": (0x00000000, False),
    "ext_cpuid": (0x80000000, False),
    "intel_fn4": (0x4, True),
    "intel_fn11": (0xB, True),
    "intel_fn12h": (0x12, True),
    "intel_fn14h": (0x14, True),
    "amd_fn8000001dh": (0x8000001D, True),
}

_H8 = r"([0-9a-fA-F]{8})"
_LINE = lazy_compile(rf"^([a-z0-9_]+)\[([0-9]{{1,4}})\]={_H8} {_H8} {_H8} {_H8}\s*$")
_CPU = lazy_compile(r"^_+ Logical CPU #([0-9]{1,6}) _+\s*$")
_END = lazy_compile(r"^-{10,}\s*$")


def sniff(dump: DumpText) -> bool:
    return any(line.startswith("basic_cpuid[0]=") for line in dump.lines[:200])


def parse(dump: DumpText, cpu: int) -> Snapshot:
    blocks = CpuBlocks(dump)
    current: LeafCollector | None = None
    for number, line in enumerate(dump.lines, start=1):
        if _END.match(line):
            break  # the test file's expected decode follows
        if not line.strip() or line.startswith(("#", "version=")):
            continue
        header = _CPU.match(line)
        if header is not None:
            current = blocks.start(number, parse_dec(dump, number, header.group(1), "CPU", 1 << 20))
            continue
        match = _LINE.match(line)
        if match is None or match.group(1) not in ARRAYS:
            raise dump.error(
                number, f"'ARRAY[i]=EAX EBX ECX EDX' with ARRAY one of {', '.join(ARRAYS)}", line
            )
        name, index_text, *regs_text = match.groups()
        base, by_subleaf = ARRAYS[name]
        index = int(index_text)
        regs = Registers(*(int(r, 16) for r in regs_text))
        if by_subleaf and (index == 0 or not any(regs)):
            continue
        if current is None:
            current = blocks.start(number, 0)
        if by_subleaf:
            current.add(number, base, index, regs)
        else:
            current.add(number, base + index, 0, regs)
    leaves = blocks.select(cpu, "libcpuid ARRAY[i]= records")
    return cpuid_snapshot(leaves, path=dump.path, fmt=FORMAT, cpu=cpu)


IMPORTER = Importer(FORMAT, sniff, parse, "libcpuid raw dump")
