"""The one pinning module: every CPUID the probe, the latency sampler or the bench runs
executes on one known logical CPU, and the thread's affinity always comes back.

CPUID answers per logical CPU (APIC ids, hybrid core types, a hypervisor that differs per
vCPU), so the CPU a snapshot names must be the CPU that ran its CPUIDs. Two callers, one
mechanism:

- :func:`running_on` (``--cpu N``): run on CPU N or refuse with CpuSelectionError; probing
  another CPU and naming N would be a lie.
- :func:`pinned` (no ``--cpu``): pin to :func:`pick_cpu` of the allowed CPUs when the OS
  lets us, else run unpinned and say so (it yields None).

Linux and the BSDs pin with ``os.sched_setaffinity``; Windows through the C core
(sources/winaffinity.py: SetThreadAffinityMask).
"""

from __future__ import annotations

import os

from nestprobe.model.errors import CpuSelectionError
from nestprobe.model.typeshim import Callable, Iterator, contextmanager, index

#: Undo one pin: put the thread's previous affinity back.
Restore = Callable[[], None]


def check_cpu(cpu: object) -> int:
    """``cpu`` as a logical CPU number; TypeError/ValueError in plain words otherwise."""
    if isinstance(cpu, bool) or not hasattr(type(cpu), "__index__"):
        raise TypeError(
            "cpu must be a whole number naming a logical CPU (0, 1, ...), "
            f"not {type(cpu).__name__} {cpu!r}"
        )
    number = index(cpu)  # type: ignore[arg-type]  # __index__ checked just above
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


def pick_cpu(allowed: set[int]) -> int:
    """The CPU to use when none was asked for: the highest allowed (CPU 0 usually takes
    the most interrupts)."""
    return max(allowed)


def allowed_cpus() -> set[int] | None:
    """The CPUs this thread may be pinned to, or None where no pinning call exists here."""
    getter = getattr(os, "sched_getaffinity", None)
    if getter is None or getattr(os, "sched_setaffinity", None) is None:
        from nestprobe.sources.winaffinity import allowed_cpus as windows_allowed

        found = windows_allowed()
        return set(found) if found is not None else None
    try:
        return set(getter(0))
    except OSError:  # a seccomp filter: as if there were no call
        return None


def _pin(cpu: int) -> Restore:
    """Pin the calling thread to ``cpu``: the undo; OSError when the OS refuses."""
    setter = getattr(os, "sched_setaffinity", None)
    getter = getattr(os, "sched_getaffinity", None)
    if setter is None or getter is None:
        from nestprobe.sources.winaffinity import pin_thread, restore_thread

        previous = pin_thread(cpu)
        if previous is None:
            raise OSError(f"pinning the thread to CPU {cpu} failed")

        def restore_mask() -> None:
            restore_thread(previous)

        return restore_mask
    original = set(getter(0))
    setter(0, {cpu})
    return lambda: _set_back(setter, original)


def _set_back(setter: Callable[[int, set[int]], None], original: set[int]) -> None:
    """The calling thread's mask back to ``original``; when the OS refuses it (a CPU of it
    went offline meanwhile), as much of it as is online: never left pinned. OSError when
    the OS refuses that too."""
    try:
        setter(0, original)
    except OSError:
        online = set(range(os.cpu_count() or 1))
        setter(0, (original & online) or online)


def _target(cpu: int | None, allowed: set[int] | None) -> int | None:
    """``cpu``, or the one :func:`pick_cpu` chooses of ``allowed`` (None: none allowed)."""
    return cpu if cpu is not None else (pick_cpu(allowed) if allowed else None)


@contextmanager
def _pinned_to(cpu: int) -> Iterator[None]:
    undo = _pin(cpu)
    try:
        yield
    finally:
        undo()


@contextmanager
def running_on(cpu: int) -> Iterator[int]:
    """Run the body on logical CPU ``cpu`` (it yields ``cpu``, as :func:`pinned` yields the
    CPU it chose); CpuSelectionError when that cannot be done."""
    allowed = allowed_cpus()
    if allowed is None:
        raise CpuSelectionError(
            f"cannot run the probe on CPU {cpu}: this platform offers no way to pin a "
            "thread to one CPU here; run without --cpu"
        )
    if cpu not in allowed:
        raise CpuSelectionError(
            f"CPU {cpu} is not one this process may run on (allowed: {cpu_ranges(allowed)})"
        )
    try:
        undo = _pin(cpu)
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise CpuSelectionError(f"cannot run the probe on CPU {cpu}: {reason}") from None
    try:
        yield cpu
    finally:
        undo()


@contextmanager
def pinned(cpu: int | None = None) -> Iterator[int | None]:
    """Pin the calling thread to ``cpu`` (default :func:`pick_cpu`); ALWAYS restore.

    Yields the CPU pinned to, or None when it could not be pinned (no call here, a
    seccomp filter, ``cpu`` not allowed): the body then runs unpinned.
    """
    allowed = allowed_cpus()
    target = _target(cpu, allowed)
    undo: Restore | None = None
    if allowed and target in allowed and target is not None:
        try:
            undo = _pin(target)
        except (OSError, ValueError):
            undo = None
    try:
        yield target if undo is not None else None
    finally:
        if undo is not None:
            undo()


def start_on(cpu: int | None, start: Callable[[], None]) -> None:
    """Call ``start`` (which starts a thread) so the new thread begins on ``cpu`` and the
    calling thread goes on on another CPU; the caller's affinity is whole again when this
    returns (unless the OS refuses even that: _set_back).

    Linux places a new thread on its creator's CPU and lets it wait there for a scheduler
    slice (~1.9 ms here while the creator computes) even with another CPU idle. A thread
    inherits its creator's affinity, so the creator takes ``{cpu}`` for the start (the new
    thread is ``{cpu}``'s for good), the other allowed CPUs next (which moves it there at
    once) and then its own mask back: that moves nothing, a running thread stays on a CPU
    its mask allows. Nothing is left narrowed for a later wait, thread or child to inherit.
    Nothing moves without ``os.sched_setaffinity`` (Windows: a new thread takes the
    process's mask, not its creator's), with one allowed CPU, or when the OS refuses;
    ``start`` is called in every case.
    """
    setter = getattr(os, "sched_setaffinity", None)
    original = (allowed_cpus() if setter is not None else None) or set()
    target = _target(cpu, original)
    others = original - {target}
    if setter is None or target not in original or not others:
        start()
        return
    moved = True  # before the call: a Ctrl-C just after it must still put the mask back
    try:
        try:
            setter(0, {target})
        except OSError:
            moved = False
        start()
        if moved:
            try:  # noqa: SIM105 (contextlib is not imported on the probe path: typeshim.py)
                setter(0, others)
            except OSError:  # refused the way off: the caller stays beside the thread
                pass
    finally:
        if moved:
            try:  # noqa: SIM105 (as above)
                _set_back(setter, original)
            except OSError:  # both refused: there is nothing more a thread can ask
                pass
