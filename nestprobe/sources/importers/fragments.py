"""The corpus fragments file: partial dumps quoted from issues, one lettered block each.

``fragments-*.txt`` opens with ``# PARTIAL DUMPS`` and holds blocks headed
``# [A] ...``, ``# [B] ...``: each from a different machine, so they are never merged.
What a block can give:

* AIDA64-style ``CPUID xxxxxxxx: ...`` lines -> a Snapshot of just those leaves;
* a ``flags : ...`` line from /proc/cpuinfo -> a cpuinfo-only Snapshot;
* anything else (a kernel log, ``cpuid`` decoded output) holds no raw registers, and
  asking for it is a DumpFormatError saying what the block holds.

:func:`load_snapshot` (``cpu=0``) gives the first block with registers; use
:func:`load_fragment` / :func:`parse_fragment` for a block by letter.
"""

from __future__ import annotations

from nestprobe.model.errors import DumpFormatError
from nestprobe.model.lazyre import lazy_compile
from nestprobe.model.snapshot import Snapshot
from nestprobe.sources.importers import aida64
from nestprobe.sources.importers.common import (
    DumpText,
    Importer,
    cpuid_snapshot,
    cpuinfo_snapshot,
    read_dump_text,
)

FORMAT = "fragments"

_MAGIC = "# PARTIAL DUMPS"
_BLOCK = lazy_compile(r"^# \[([A-Z])\] ")
_FLAGS = lazy_compile(r"^flags\s*: \S")


def sniff(dump: DumpText) -> bool:
    return bool(dump.lines) and dump.lines[0].startswith(_MAGIC)


def blocks(dump: DumpText) -> dict[str, tuple[int, int]]:
    """Block letter -> (first line, last line), 1-based and inclusive."""
    found: dict[str, tuple[int, int]] = {}
    starts = [(n, m.group(1)) for n, line in enumerate(dump.lines, 1) if (m := _BLOCK.match(line))]
    for index, (start, label) in enumerate(starts):
        end = starts[index + 1][0] - 1 if index + 1 < len(starts) else len(dump.lines)
        if label in found:
            raise dump.error(start, f"block [{label}] only once", dump.lines[start - 1])
        found[label] = (start, end)
    return found


def _kind(dump: DumpText, start: int, end: int) -> str:
    body = [line for line in dump.lines[start - 1 : end] if line.strip() and line[0] != "#"]
    if any(line.startswith("CPUID ") for line in body):
        return "cpuid"
    if any(_FLAGS.match(line) for line in body):
        return "cpuinfo"
    return "text: " + (body[0] if body else "comments only")


def parse_fragment(dump: DumpText, label: str) -> Snapshot:
    """The Snapshot of block ``label``; DumpFormatError naming what is there otherwise."""
    found = blocks(dump)
    if label not in found:
        raise dump.error(None, f"a block [{label}] (the file has {', '.join(found)})", label)
    start, end = found[label]
    kind = _kind(dump, start, end)
    fmt = f"{FORMAT}:{label}"
    if kind == "cpuid":
        # The block's CPUID lines are AIDA64-style; parse them as a one-CPU AIDA64 text.
        lines = tuple(
            line if start <= n <= end and line.startswith("CPUID ") else ""
            for n, line in enumerate(dump.lines, 1)
        )
        leaves = aida64.parse(DumpText(dump.path, lines), 0).cpuid.leaves
        return cpuid_snapshot(dict(leaves), path=dump.path, fmt=fmt, cpu=0)
    if kind == "cpuinfo":
        flags = next(
            line for line in dump.lines[start - 1 : end] if _FLAGS.match(line)
        )
        return cpuinfo_snapshot(
            flags + "\n",
            path=dump.path,
            fmt=fmt,
            system="unknown",
            detail=f"fragment [{label}] quotes only the /proc/cpuinfo flags line",
        )
    raise dump.error(
        start,
        f"raw CPUID registers or a cpuinfo flags line in block [{label}]",
        kind,
    )


def parse(dump: DumpText, cpu: int) -> Snapshot:
    if cpu != 0:
        raise dump.cpu_error(
            None,
            "cpu=0: a fragments file holds blocks from different machines, not CPUs; "
            "select one with fragments.load_fragment(path, label)",
            f"cpu={cpu}",
        )
    for label, (start, end) in blocks(dump).items():
        if _kind(dump, start, end) == "cpuid":
            return parse_fragment(dump, label)
    raise DumpFormatError(dump.path, None, "a block with raw CPUID registers", "none")


def load_fragment(path: str, label: str) -> Snapshot:
    return parse_fragment(read_dump_text(path), label)


IMPORTER = Importer(FORMAT, sniff, parse, "corpus fragments file (lettered partial dumps)")
