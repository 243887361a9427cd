"""hwloc-gather-cpuid per-PU files (open-mpi/hwloc ``utils/hwloc/hwloc-gather-cpuid.c``)::

    # mask e[abcd]x => e[abcd]x
    5 4 0 1 0 => 8000122 1c0003f 3f 1

Each line is the input mask, input EAX EBX ECX EDX, ``=>``, and the output registers,
all hex without ``0x``. The leaf is input EAX; the subleaf is input ECX when the
mask's bit 2 says ECX was set, else 0. One file per PU, so one logical CPU.
"""

from __future__ import annotations

from nestprobe.model.lazyre import lazy_compile
from nestprobe.model.snapshot import Registers, Snapshot
from nestprobe.sources.importers.common import (
    DumpText,
    Importer,
    LeafCollector,
    cpuid_snapshot,
)

FORMAT = "hwloc"

_H = r"([0-9a-fA-F]{1,8})"
_LINE = lazy_compile(rf"^{_H} {_H} {_H} {_H} {_H} => {_H} {_H} {_H} {_H}\s*$")
_ECX_VALID = 0x4


def sniff(dump: DumpText) -> bool:
    return any(_LINE.match(line) for line in dump.lines[:200])


def parse(dump: DumpText, cpu: int) -> Snapshot:
    if cpu != 0:
        raise dump.cpu_error(None, "cpu=0 (a hwloc-gather-cpuid file holds one PU)", f"cpu={cpu}")
    leaves = LeafCollector(dump)
    for number, line in enumerate(dump.lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise dump.error(number, "'MASK EAX EBX ECX EDX => EAX EBX ECX EDX' in hex", line)
        mask, leaf, _ebx_in, ecx_in, _edx_in, eax, ebx, ecx, edx = (
            int(g, 16) for g in match.groups()
        )
        sub = ecx_in if mask & _ECX_VALID else 0
        leaves.add(number, leaf, sub, Registers(eax, ebx, ecx, edx))
    if not leaves.leaves:
        raise dump.error(None, "hwloc-gather-cpuid records", "none")
    return cpuid_snapshot(leaves.leaves, path=dump.path, fmt=FORMAT, cpu=0)


IMPORTER = Importer(FORMAT, sniff, parse, "hwloc-gather-cpuid per-PU file")
