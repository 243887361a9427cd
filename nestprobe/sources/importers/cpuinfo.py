"""A /proc/cpuinfo capture with no CPUID registers (util-linux lscpu test dumps).

util-linux keeps ``tests/ts/lscpu/dumps/*.tar.gz`` snapshots of ``/proc`` and
``/sys``; our corpus quotes such a member under a ``=================== proc/cpuinfo``
banner (other banners, e.g. ``proc/bus/pci/devices``, are not watched files and are
skipped). A bare /proc/cpuinfo text (first line ``processor : 0``) reads the same.

The Snapshot says ``cpuid_status="absent"`` (no registers were recorded) and carries
the first processor block as the ``/proc/cpuinfo`` file record, trimmed as the live
probe trims it. /proc/cpuinfo exists only on Linux, so ``system`` is ``Linux``.
"""

from __future__ import annotations

from nestprobe.model.lazyre import lazy_compile
from nestprobe.model.snapshot import Snapshot
from nestprobe.sources.importers.common import (
    DumpText,
    Importer,
    cpuinfo_snapshot,
    first_content_line,
)
from nestprobe.sources.osfacts import first_cpuinfo_block

FORMAT = "cpuinfo"

_BANNER = lazy_compile(r"^={5,} (\S+)")
_FIELD = lazy_compile(r"^[A-Za-z][A-Za-z0-9 _()]*\s*:( .*)?$")
_FIRST = lazy_compile(r"^processor\s*: 0\s*$")


def sniff(dump: DumpText) -> bool:
    first = first_content_line(dump)
    if first is None:
        return False
    banner = _BANNER.match(first[1])
    return bool(_FIRST.match(first[1]) or (banner and banner.group(1) == "proc/cpuinfo"))


def parse(dump: DumpText, cpu: int) -> Snapshot:
    if cpu != 0:
        raise dump.cpu_error(
            None, "cpu=0 (the capture keeps the first processor block)", f"cpu={cpu}"
        )
    section: str | None = None
    first: int | None = None
    body: list[str] = []
    for number, line in enumerate(dump.lines, start=1):
        if section is None and (not line.strip() or line.startswith("#")):
            continue
        banner = _BANNER.match(line)
        if banner is not None:
            section = banner.group(1)
            continue
        if section is None:
            section = "proc/cpuinfo"  # a bare /proc/cpuinfo text
        if section != "proc/cpuinfo":
            continue
        if first is None:
            if not line.strip():
                continue
            if not _FIRST.match(line):
                raise dump.error(number, "'processor : 0' opening /proc/cpuinfo", line)
            first = number
        if line.strip() and not _FIELD.match(line):
            raise dump.error(number, "a /proc/cpuinfo 'name : value' line", line)
        body.append(line)
    if first is None:
        raise dump.error(None, "a /proc/cpuinfo section", "none")
    text = first_cpuinfo_block("\n".join(body).rstrip("\n") + "\n")
    return cpuinfo_snapshot(
        text,
        path=dump.path,
        fmt=FORMAT,
        detail="the dump holds /proc/cpuinfo only; no CPUID registers were recorded",
    )


IMPORTER = Importer(FORMAT, sniff, parse, "/proc/cpuinfo capture (util-linux lscpu dump)")
