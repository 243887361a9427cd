"""Pin the calling thread where Python has no ``os.sched_setaffinity`` (Windows).

The C core does it (csrc/np_timing.c: GetProcessAffinityMask, SetThreadAffinityMask);
this module only turns masks into CPU numbers and guarantees the restore. CPU numbers
count within the thread's processor group (at most 64), as SetThreadAffinityMask does.
On any other OS every call answers "cannot", and the sampler runs unpinned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

MASK_BITS = 64


def allowed_cpus() -> frozenset[int] | None:
    """CPUs this process may run on, or None where the C core cannot tell (not Windows,
    no extension)."""
    from nestprobe import native

    pair = native.load_lib()
    if pair is None or not hasattr(pair.lib, "npt_allowed_cpus"):
        return None
    ffi, lib = pair
    mask = ffi.new("uint64_t *")
    if int(lib.npt_allowed_cpus(mask)) != int(lib.NPT_OK):
        return None
    return frozenset(i for i in range(MASK_BITS) if int(mask[0]) >> i & 1)


def pin_thread(cpu: int) -> int | None:
    """Run the calling thread on ``cpu`` only: the mask it had before (for
    :func:`restore_thread`), or None when nothing changed."""
    from nestprobe import native

    pair = native.load_lib()
    if pair is None or not hasattr(pair.lib, "npt_pin_thread") or not 0 <= cpu < MASK_BITS:
        return None
    ffi, lib = pair
    previous = ffi.new("uint64_t *")
    if int(lib.npt_pin_thread(cpu, previous)) != int(lib.NPT_OK):
        return None
    return int(previous[0])


def restore_thread(previous: int) -> bool:
    """Give the calling thread back the mask :func:`pin_thread` returned."""
    from nestprobe import native

    pair = native.load_lib()
    if pair is None:
        return False
    return int(pair.lib.npt_restore_thread(previous)) == int(pair.lib.NPT_OK)


@contextmanager
def pinned_thread(
    cpu: int | None, pick: Callable[[set[int]], int]
) -> Iterator[int | None]:
    """Pin to ``cpu`` (default ``pick(allowed)``) for the body; the old mask always comes back.

    Yields the CPU pinned to, or None when the thread could not be pinned.
    """
    allowed = allowed_cpus()
    target = cpu if cpu is not None else (pick(set(allowed)) if allowed else None)
    previous = pin_thread(target) if target is not None and allowed and target in allowed else None
    try:
        yield target if previous is not None else None
    finally:
        if previous is not None:
            restore_thread(previous)
