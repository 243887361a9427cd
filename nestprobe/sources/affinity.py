"""``--cpu N`` on the live probe: run the whole probe on logical CPU N, or refuse.

CPUID answers per logical CPU (APIC ids, hybrid core types, a hypervisor that
differs per vCPU), so asking for CPU N and silently probing another would be a lie.
The calling thread is pinned for the duration and its affinity always put back.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Iterator
from contextlib import contextmanager

from nestprobe.model.errors import CpuSelectionError


def check_cpu(cpu: object) -> int:
    """``cpu`` as a logical CPU number; TypeError/ValueError in plain words otherwise."""
    if isinstance(cpu, bool) or not hasattr(type(cpu), "__index__"):
        raise TypeError(
            "cpu must be a whole number naming a logical CPU (0, 1, ...), "
            f"not {type(cpu).__name__} {cpu!r}"
        )
    number = operator.index(cpu)  # type: ignore[arg-type]  # __index__ checked just above
    if number < 0:
        raise ValueError(f"cpu must be 0 or more (a logical CPU number), not {number}")
    return int(number)


def cpu_ranges(cpus: set[int]) -> str:
    """``{0, 1, 2, 5}`` as ``0-2, 5``."""
    spans: list[str] = []
    ordered = sorted(cpus)
    start = prev = ordered[0] if ordered else 0
    for cpu in [*ordered[1:], None]:
        if cpu is not None and cpu == prev + 1:
            prev = cpu
            continue
        spans.append(str(start) if start == prev else f"{start}-{prev}")
        if cpu is not None:
            start = prev = cpu
    return ", ".join(spans) if ordered else "none"


@contextmanager
def running_on(cpu: int) -> Iterator[None]:
    """Run the body on logical CPU ``cpu``; CpuSelectionError when that cannot be done."""
    getter = getattr(os, "sched_getaffinity", None)
    setter = getattr(os, "sched_setaffinity", None)
    if getter is None or setter is None:
        with _running_on_windows(cpu):  # Windows: the C core pins the thread
            yield
        return
    original = set(getter(0))
    if cpu not in original:
        raise CpuSelectionError(
            f"CPU {cpu} is not one this process may run on (allowed: {cpu_ranges(original)})"
        )
    try:
        setter(0, {cpu})
    except OSError as exc:
        raise CpuSelectionError(
            f"cannot run the probe on CPU {cpu}: {(exc.strerror or str(exc)).lower()}"
        ) from None
    try:
        yield
    finally:
        try:
            setter(0, original)
        except OSError:  # a CPU of the original set went offline: never stay pinned
            online = set(range(os.cpu_count() or 1))
            setter(0, (original & online) or online)


@contextmanager
def _running_on_windows(cpu: int) -> Iterator[None]:
    """The same through the C core (SetThreadAffinityMask), or CpuSelectionError."""
    from nestprobe.sources.winaffinity import allowed_cpus, pin_thread, restore_thread

    allowed = allowed_cpus()
    if allowed is None:
        raise CpuSelectionError(
            f"cannot run the probe on CPU {cpu}: this platform offers no way to pin a "
            "thread to one CPU here; run without --cpu"
        )
    if cpu not in allowed:
        raise CpuSelectionError(
            f"CPU {cpu} is not one this process may run on (allowed: {cpu_ranges(set(allowed))})"
        )
    previous = pin_thread(cpu)
    if previous is None:
        raise CpuSelectionError(f"cannot run the probe on CPU {cpu}: pinning the thread failed")
    try:
        yield
    finally:
        restore_thread(previous)
