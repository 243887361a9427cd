"""The native CPUID walk run against a table instead of the CPU (np_cpuid_trace_from_table).

The same C enumeration the probe runs (:func:`nestprobe.native.read_cpuid_table`), answered
from a stand-in table: the tests prove it bounded and complete on any table, and
bench/probe_overhead.py counts the CPUIDs a walk executes. The probe never calls it.
"""

from __future__ import annotations

from nestprobe import native
from nestprobe.model.snapshot import CpuidTable, LeafKey, Registers
from nestprobe.model.typeshim import Iterable, NamedTuple


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
    ffi, lib = native._require()
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
        native._raise_for(lib, code)
    asked = int(query_count[0])
    return TableEnumeration(
        entries=native._entries(out, int(count[0])),
        truncated=code == lib.NP_TRUNCATED,
        queries=[
            (int(queries[i].leaf), int(queries[i].subleaf))
            for i in range(min(asked, query_capacity))
        ],
        query_count=asked,
    )


def table_of(enumeration: TableEnumeration) -> CpuidTable:
    """The recorded answers of an enumeration as a :class:`CpuidTable`."""
    return native._table(enumeration.entries)
