"""Load any supported dump file as a Snapshot: sniff the format, then parse one CPU.

nestprobe's own format is tried first; the third-party importers follow in an order
where the more specific recogniser comes before the more general one (the fragments
file quotes AIDA64 lines, so it is recognised before AIDA64).
"""

from __future__ import annotations

import os

from nestprobe.model.errors import CpuNotInDumpError
from nestprobe.model.snapshot import Snapshot
from nestprobe.sources import dumpfile
from nestprobe.sources.affinity import check_cpu
from nestprobe.sources.importers import (
    aida64,
    coreinfo,
    cpuid_r,
    cpuinfo,
    firecracker,
    fragments,
    getcomputerinfo,
    hwloc,
    icbook,
    libcpuid,
    msinfo32,
    refusal,
    rjcp_xml,
    systeminfo,
    tycho,
)
from nestprobe.sources.importers.common import DumpText, Importer, read_dump_text, unquote

OWN_FORMAT = Importer(
    dumpfile.FORMAT, dumpfile.sniff, dumpfile.parse_dump_lines, "nestprobe dump format v1"
)

#: Sniffed in this order; the first whose recogniser accepts the text parses it.
IMPORTERS: tuple[Importer, ...] = (
    OWN_FORMAT,
    fragments.IMPORTER,  # before aida64: it quotes AIDA64 lines from several machines
    cpuid_r.IMPORTER,
    tycho.IMPORTER,  # before aida64: both start lines with "CPUID "
    firecracker.IMPORTER,
    rjcp_xml.IMPORTER,
    icbook.IMPORTER,
    libcpuid.IMPORTER,
    hwloc.IMPORTER,
    # What Windows users paste: readiness lines, no registers (importers/winpaste.py).
    coreinfo.IMPORTER,
    systeminfo.IMPORTER,
    getcomputerinfo.IMPORTER,  # after systeminfo: a full systeminfo has no PowerShell names
    msinfo32.IMPORTER,  # last of these: its items are systeminfo's labels without the colon
    cpuinfo.IMPORTER,
    aida64.IMPORTER,  # last: its records may sit anywhere in prose
)


def detect_format(dump: DumpText) -> Importer:
    """The importer for ``dump``, or a DumpFormatError saying what was recognised and what
    to do (sources/importers/refusal.py)."""
    for importer in IMPORTERS:
        if importer.sniff(dump):
            return importer
    names = ", ".join(importer.name for importer in IMPORTERS)
    raise refusal.refuse(dump, names)


def check_path(path: object) -> str:
    """``path`` as a str (a str or an ``os.PathLike`` of str), else a TypeError."""
    if isinstance(path, str):
        return path
    if isinstance(path, os.PathLike):
        resolved = os.fspath(path)
        if isinstance(resolved, str):
            return resolved
    raise TypeError(f"path must be a str or a path object, not {type(path).__name__}")


def parse_snapshot(text: str, path: str = "<string>", *, cpu: int = 0, encoding: str = "",
                   encoding_how: str = "") -> Snapshot:
    """Like :func:`load_snapshot` for text already in memory (``encoding``: how its bytes
    were read, when they were: sources/importers/textcodec.py)."""
    return _parse(DumpText.from_text(text, path, encoding, encoding_how), check_cpu(cpu))


def load_snapshot(path: str | os.PathLike[str], *, cpu: int = 0) -> Snapshot:
    """The Snapshot of logical CPU ``cpu`` (default: the first) recorded in ``path``.

    ``path`` ``-`` reads standard input. Raises :class:`DumpFormatError` (file, line,
    expected, found) for an unreadable, oversized, binary or malformed file, an unknown
    format or a FIFO with no writer; :class:`CpuNotInDumpError` (a DumpFormatError) for a
    well-formed file without that CPU; TypeError/ValueError for a ``cpu`` that is not a
    CPU number (checked before anything is read).
    """
    number = check_cpu(cpu)
    return _parse(read_dump_text(check_path(path)), number)


def _parse(dump: DumpText, cpu: int) -> Snapshot:
    dump = unquote(dump)
    importer = detect_format(dump)
    try:
        return importer.parse(dump, cpu)
    except CpuNotInDumpError:
        if cpu != 0:
            importer.parse(dump, 0)  # a malformed file is reported as such, not as a CPU miss
        raise
