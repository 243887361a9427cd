"""Thread pinning where Python has no ``os.sched_setaffinity`` (Windows): the backend of
sources/affinity.py, the one pinning module.

The C core does it (csrc/np_timing.c: GetProcessAffinityMask, SetThreadAffinityMask,
reached through nestprobe.native); this module only turns masks into CPU numbers. CPU
numbers count within the thread's processor group (at most 64), as SetThreadAffinityMask
does. On any other OS every call answers "cannot".
"""

from __future__ import annotations

from nestprobe import native

MASK_BITS = 64


def allowed_cpus() -> frozenset[int] | None:
    """CPUs this process may run on, or None where the C core cannot tell (not Windows,
    no extension)."""
    mask = native.allowed_cpu_mask()
    if mask is None:
        return None
    return frozenset(i for i in range(MASK_BITS) if mask >> i & 1)


def pin_thread(cpu: int) -> int | None:
    """Run the calling thread on ``cpu`` only: the mask it had before (for
    :func:`restore_thread`), or None when nothing changed."""
    if not 0 <= cpu < MASK_BITS:
        return None
    return native.pin_thread(cpu)


def restore_thread(previous: int) -> bool:
    """Give the calling thread back the mask :func:`pin_thread` returned."""
    return native.restore_thread(previous)
