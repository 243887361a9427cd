"""The one door to the compiled extension ``nestprobe._native``.

Nothing else imports the extension. Importing this package loads nothing; the
extension is imported on first use, and its absence is a state
(``"no-extension"``), never an import-time error. Status codes from C become
:data:`~nestprobe.model.snapshot.CpuidStatus` values here, or :class:`CpuidUnavailableError`
for calls that must return registers. C constants (status codes, buffer bounds) are
defined once, in csrc/np_*.h, and read here from the compiled module as ``lib.NAME``.

This module holds what the probe calls (CPUID, the walk, the exit-latency sampler,
pinning); the callers the probe never needs are modules of their own, so a ``check``
never loads their code: :mod:`~nestprobe.native.bench` (csrc/np_bench.c),
:mod:`~nestprobe.native.proof` (csrc/np_prove.c) and :mod:`~nestprobe.native.tablewalk`
(the walk against a table, for tests and the overhead bench). They reach the extension
through this module, never by importing it.
"""

from __future__ import annotations

import os
import sys

from nestprobe.model.errors import CpuidUnavailableError
from nestprobe.model.snapshot import CpuidStatus, CpuidTable, LeafKey, Registers
from nestprobe.model.typeshim import Any, Iterable, NamedTuple, Sequence

FAULTING_DETAIL = (
    "CPUID faults in this process (arch_prctl(ARCH_GET_CPUID) returned 0, "
    "as under rr or after ARCH_SET_CPUID 0)"
)


class NativeLib(NamedTuple):
    """The cffi pair; unpacks as ``ffi, lib``."""

    ffi: Any
    lib: Any


#: What :func:`_load` found, once (not functools.cache: see model/typeshim.py on the cost).
_LOADED: list[tuple[NativeLib | None, str | None]] = []


def _load() -> tuple[NativeLib | None, str | None]:
    if not _LOADED:
        try:
            from nestprobe import _native  # type: ignore[attr-defined]  # built by cffi
        except ImportError as exc:
            why = f"the compiled extension nestprobe._native is not importable ({exc})"
            _LOADED.append((None, why))
        else:
            _LOADED.append((NativeLib(_native.ffi, _native.lib), None))
    return _LOADED[0]


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


# ---- timing (csrc/np_timing.c) -------------------------------------------------------------
# The exit-latency sampler and the clocks it is read against. Every function answers plain
# Python values; none of them raises for an expected state (no extension, no TSC, not x86).


def _timing_lib() -> NativeLib | None:
    native = _load()[0]
    if native is None or not hasattr(native.lib, "npt_sample"):
        return None
    return native


def timing_available() -> bool:
    """Whether CPUID and the TSC can both be used here (the exit-latency sampler can run)."""
    native = _timing_lib()
    if native is None or cpuid_status()[0] != "ok":
        return False
    return int(native.lib.npt_status()) == int(native.lib.NPT_OK)


def timing_sample(leaves: Sequence[int], warmup: int, rounds: int) -> list[int]:
    """One batch of ``rounds`` rows, each ``[empty bracket, CPUID leaves[0], ...]`` in ticks,
    flattened row by row. RuntimeError when the sampler refuses (a C status code)."""
    ffi, lib = _require_timing()
    width = len(leaves) + 1
    wanted = ffi.new("uint32_t[]", list(leaves))
    out = ffi.new("uint64_t[]", max(rounds * width, 1))
    code = int(lib.npt_sample(wanted, len(leaves), warmup, rounds, out))
    if code != int(lib.NPT_OK):
        raise RuntimeError(f"npt_sample returned {code}")
    return [int(x) for x in ffi.unpack(out, rounds * width)]


def clock_pair(tries: int = 5) -> tuple[int, int, int] | None:
    """``(tsc, ns, span ticks)``: the TSC read beside the reference clock, or None."""
    native = _timing_lib()
    if native is None:
        return None
    ffi, lib = native
    tsc, ns, span = ffi.new("uint64_t *"), ffi.new("uint64_t *"), ffi.new("uint64_t *")
    if int(lib.npt_clock_pair(tries, tsc, ns, span)) != int(lib.NPT_OK):
        return None
    return int(tsc[0]), int(ns[0]), int(span[0])


def tsc_granularity(reads: int = 256) -> tuple[int, int] | None:
    """``(gcd, smallest step)`` of non-zero back-to-back TSC deltas, or None."""
    native = _timing_lib()
    if native is None:
        return None
    ffi, lib = native
    gcd, step = ffi.new("uint64_t *"), ffi.new("uint64_t *")
    if int(lib.npt_tsc_granularity(reads, gcd, step)) != int(lib.NPT_OK):
        return None
    return int(gcd[0]), int(step[0])


def tsc_leaves() -> list[int] | None:
    """The TSC-related CPUID words in ``npt_tsc_leaves`` order, or None."""
    native = _timing_lib()
    if native is None:
        return None
    ffi, lib = native
    out = ffi.new("uint32_t[]", int(lib.NPT_TSC_LEAVES))
    if int(lib.npt_tsc_leaves(out)) != int(lib.NPT_OK):
        return None
    return [int(x) for x in out]


def clock_name() -> str:
    """The reference clock the C core reads (CLOCK_MONOTONIC_RAW, QueryPerformanceCounter)."""
    native = _timing_lib()
    if native is None:
        return "unknown"
    return str(native.ffi.string(native.lib.npt_clock_name()).decode())


def has_rdtscp() -> bool:
    native = _timing_lib()
    return native is not None and bool(native.lib.npt_has_rdtscp())


def _require_timing() -> NativeLib:
    native = _timing_lib()
    if native is None:
        raise RuntimeError("the timing sampler is not in this build of nestprobe._native")
    return native


# ---- thread pinning where the OS offers no Python call (Windows; np_timing.c) ------------
# Masks count CPUs within the thread's processor group, as SetThreadAffinityMask does.


def allowed_cpu_mask() -> int | None:
    """The process affinity mask, or None where the C core cannot tell (not Windows)."""
    native = _timing_lib()
    if native is None or not hasattr(native.lib, "npt_allowed_cpus"):
        return None
    ffi, lib = native
    mask = ffi.new("uint64_t *")
    if int(lib.npt_allowed_cpus(mask)) != int(lib.NPT_OK):
        return None
    return int(mask[0])


def pin_thread(cpu: int) -> int | None:
    """Run the calling thread on ``cpu`` only: the mask it had before, or None (unchanged)."""
    native = _timing_lib()
    if native is None or not hasattr(native.lib, "npt_pin_thread") or not 0 <= cpu < 64:
        return None
    ffi, lib = native
    previous = ffi.new("uint64_t *")
    if int(lib.npt_pin_thread(cpu, previous)) != int(lib.NPT_OK):
        return None
    return int(previous[0])


def restore_thread(previous: int) -> bool:
    """Give the calling thread back the mask :func:`pin_thread` returned."""
    native = _timing_lib()
    if native is None:
        return False
    return int(native.lib.npt_restore_thread(previous)) == int(native.lib.NPT_OK)
