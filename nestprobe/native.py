"""The one door to the compiled extension ``nestprobe._native``.

Nothing else imports the extension. Importing this module loads nothing; the
extension is imported on first use, and its absence is a state
(``"no-extension"``), never an import-time error. Status codes from C become
:data:`~nestprobe.model.snapshot.CpuidStatus` values here, or :class:`CpuidUnavailableError`
for calls that must return registers. C constants (status codes, buffer bounds) are
defined once, in csrc/np_*.h, and read here from the compiled module as ``lib.NAME``.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Iterable

from nestprobe.model.errors import CpuidUnavailableError
from nestprobe.model.snapshot import CpuidStatus, CpuidTable, LeafKey, Registers
from nestprobe.model.typeshim import Any, NamedTuple

FAULTING_DETAIL = (
    "CPUID faults in this process (arch_prctl(ARCH_GET_CPUID) returned 0, "
    "as under rr or after ARCH_SET_CPUID 0)"
)


class NativeLib(NamedTuple):
    """The cffi pair; unpacks as ``ffi, lib``."""

    ffi: Any
    lib: Any


@functools.cache
def _load() -> tuple[NativeLib | None, str | None]:
    try:
        _native = importlib.import_module("nestprobe._native")
    except ImportError as exc:
        return None, f"the compiled extension nestprobe._native is not importable ({exc})"
    return NativeLib(_native.ffi, _native.lib), None


def load_lib() -> NativeLib | None:
    """The extension's ``(ffi, lib)``, or None when it is not built or cannot load."""
    return _load()[0]


def _not_x86_detail() -> str:
    # Not platform.machine(): on Windows it asks WMI (and under wine spawns a process).
    if sys.platform == "win32":
        machine = os.environ.get("PROCESSOR_ARCHITECTURE", "")
    else:
        machine = os.uname().machine
    return f"CPUID is an x86 instruction; this machine is {machine or 'unknown'}"


def _status_of(lib: Any, code: int) -> tuple[CpuidStatus, str | None]:
    if code == lib.NP_OK:
        return "ok", None
    if code == lib.NP_ENOTSUP:
        return "not-x86", _not_x86_detail()
    if code == lib.NP_EFAULTING:
        return "faulting", FAULTING_DETAIL
    return "no-extension", f"the native CPUID status call returned an unknown code {code}"


def cpuid_status() -> tuple[CpuidStatus, str | None]:
    """Whether CPUID can run here, without running it: ``(status, detail sentence)``."""
    native, why = _load()
    if native is None:
        return "no-extension", why
    return _status_of(native.lib, int(native.lib.np_cpuid_status()))


def _require() -> NativeLib:
    native, why = _load()
    if native is None:
        raise CpuidUnavailableError(why)
    return native


def _raise_for(lib: Any, code: int) -> None:
    status, detail = _status_of(lib, code)
    raise CpuidUnavailableError(f"{status}: {detail}")


def cpuid(leaf: int, subleaf: int = 0) -> Registers:
    """One raw CPUID, no range check. Raises CpuidUnavailableError where none can run."""
    ffi, lib = _require()
    out = ffi.new("uint32_t[4]")
    code = int(lib.np_cpuid(leaf & 0xFFFFFFFF, subleaf & 0xFFFFFFFF, out))
    if code != lib.NP_OK:
        _raise_for(lib, code)
    return Registers(int(out[0]), int(out[1]), int(out[2]), int(out[3]))


def _entries(buffer: Any, count: int) -> list[tuple[LeafKey, Registers]]:
    return [
        ((int(e.leaf), int(e.subleaf)), Registers(int(e.eax), int(e.ebx), int(e.ecx), int(e.edx)))
        for e in (buffer[i] for i in range(count))
    ]


def _table(entries: Iterable[tuple[LeafKey, Registers]]) -> CpuidTable:
    leaves: dict[LeafKey, Registers] = {}
    for key, regs in entries:
        leaves.setdefault(key, regs)  # the walk asks each key once; keep the first if not
    return CpuidTable(leaves)


def read_cpuid_table(capacity: int | None = None) -> tuple[CpuidTable, bool]:
    """Every valid CPUID leaf and sub-leaf in ONE native call: ``(table, truncated)``.

    ``capacity`` entries are preallocated (default ``lib.NP_SNAPSHOT_CAPACITY``; real CPUs
    need a few hundred, and the C walk reports truncation rather than overrun it).
    Raises CpuidUnavailableError when CPUID cannot run (see :func:`cpuid_status`).
    """
    ffi, lib = _require()
    capacity = int(lib.NP_SNAPSHOT_CAPACITY) if capacity is None else capacity
    buffer = ffi.new("np_leaf[]", capacity)
    count = ffi.new("size_t *")
    code = int(lib.np_cpuid_snapshot(buffer, capacity, count))
    if code < 0:
        _raise_for(lib, code)
    return _table(_entries(buffer, int(count[0]))), code == lib.NP_TRUNCATED


class TableEnumeration(NamedTuple):
    """What the native walk did against a stand-in table."""

    entries: list[tuple[LeafKey, Registers]]  # recorded answers, in walk order
    truncated: bool
    queries: list[LeafKey]  # every (leaf, subleaf) asked, in order (up to query_capacity)
    query_count: int  # all questions asked, even past query_capacity


def enumerate_from_table(
    table: CpuidTable | Iterable[tuple[LeafKey, Registers]],
    *,
    intel_out_of_range: bool = False,
    capacity: int | None = None,
    query_capacity: int = 0,
) -> TableEnumeration:
    """Run the native enumeration against ``table`` instead of the CPU.

    Leaves missing from ``table`` answer zeros; with ``intel_out_of_range`` a leaf above
    the basic and extended maxima answers the highest basic leaf, as Intel CPUs do.
    Needs the extension (raises CpuidUnavailableError without it), not an x86 CPU.
    """
    ffi, lib = _require()
    capacity = int(lib.NP_SNAPSHOT_CAPACITY) if capacity is None else capacity
    items = list(table.items()) if isinstance(table, CpuidTable) else list(table)
    source = ffi.new("np_leaf[]", max(len(items), 1))
    for i, ((leaf, subleaf), regs) in enumerate(items):
        source[i] = (leaf, subleaf, *regs)
    out = ffi.new("np_leaf[]", max(capacity, 1))
    queries = ffi.new("np_leaf[]", max(query_capacity, 1))
    count = ffi.new("size_t *")
    query_count = ffi.new("size_t *")
    mode = lib.NP_TABLE_INTEL if intel_out_of_range else lib.NP_TABLE_ZEROS
    code = int(
        lib.np_cpuid_trace_from_table(
            source, len(items), mode, out, capacity, count, queries, query_capacity, query_count
        )
    )
    if code < 0:
        _raise_for(lib, code)
    asked = int(query_count[0])
    return TableEnumeration(
        entries=_entries(out, int(count[0])),
        truncated=code == lib.NP_TRUNCATED,
        queries=[
            (int(queries[i].leaf), int(queries[i].subleaf))
            for i in range(min(asked, query_capacity))
        ],
        query_count=asked,
    )


def table_of(enumeration: TableEnumeration) -> CpuidTable:
    """The recorded answers of an enumeration as a :class:`CpuidTable`."""
    return _table(enumeration.entries)
