"""IC Book Labs reports (manusov/JavaCrossPlatformCPUID ``report_cpuid.txt``, "CPUID v1.03").

The report is prose plus tables; register dumps are the tables headed::

      Function    Subfunction   Pass        EAX         EBX         ECX         EDX
    -------------------------------------------------------------------------------------
      00000000    00000000      00000000    0000000D    756E6547    6C65746E    49656E69

closed by the next dashed line. The first table is the whole dump; later ones repeat
single leaves next to their decode, and must agree with it. ``Pass`` numbers repeated
calls of one leaf (leaf 2's iteration protocol); a Snapshot holds one answer per
leaf/subleaf, so only pass 0 is kept. The tool reports one logical CPU.
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

FORMAT = "icbook"

_TABLE_HEADER = lazy_compile(r"^\s*Function\s+Subfunction\s+Pass\s+EAX\s+EBX\s+ECX\s+EDX\s*$")
_RULE = lazy_compile(r"^-{10,}\s*$")
_ROW = lazy_compile(r"^\s*(?:[0-9a-fA-F]{8}\s+){6}[0-9a-fA-F]{8}\s*$")


def sniff(dump: DumpText) -> bool:
    return any(_TABLE_HEADER.match(line) for line in dump.lines[:200])


def parse(dump: DumpText, cpu: int) -> Snapshot:  # noqa: PLR0912 (a case table, read top to bottom)
    if cpu != 0:
        raise dump.cpu_error(
            None, "cpu=0 (an IC Book Labs report holds one logical CPU)", f"cpu={cpu}"
        )
    leaves = LeafCollector(dump)
    state = "prose"  # prose -> header -> rows -> prose
    for number, line in enumerate(dump.lines, start=1):
        if line.startswith("#"):
            continue
        if state == "prose":
            if _TABLE_HEADER.match(line):
                state = "header"
        elif state == "header":
            if not _RULE.match(line):
                raise dump.error(number, "a dashed rule under the table header", line)
            state = "rows"
        elif _RULE.match(line):
            state = "prose"
        else:
            if not _ROW.match(line):
                raise dump.error(
                    number, "a row 'Function Subfunction Pass EAX EBX ECX EDX' (8 hex digits)",
                    line.strip(),
                )
            leaf, sub, passno, eax, ebx, ecx, edx = (int(t, 16) for t in line.split())
            if passno == 0:
                leaves.add(number, leaf, sub, Registers(eax, ebx, ecx, edx))
    if state != "prose":
        raise dump.error(len(dump.lines), "a dashed rule closing the register table")
    if not leaves.leaves:
        raise dump.error(None, "a Function/Subfunction register table", "none")
    return cpuid_snapshot(leaves.leaves, path=dump.path, fmt=FORMAT, cpu=0)


IMPORTER = Importer(FORMAT, sniff, parse, "IC Book Labs CPUID report (JavaCrossPlatformCPUID)")
