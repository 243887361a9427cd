"""The bench's samplers (csrc/np_bench.c): page-table walks, first-touch faults, controls.

Only ``nestprobe bench``'s live runner (nestprobe/bench/collect.py) calls them; the probe
never does, so they live apart from the package's core and a ``check`` never loads them.
"""

from __future__ import annotations

from nestprobe import native
from nestprobe.model.typeshim import Any, Callable, Iterable, Iterator, contextmanager

#: A sampler's answer: ``(C status, samples)``; samples are empty unless status is 0.
Samples = tuple[int, tuple[int, ...]]


def bench_available() -> bool:
    """Whether the bench samplers can run here (the TSC and CPUID usable)."""
    loaded = native.load_lib()
    if loaded is None or not hasattr(loaded.lib, "npb_status"):
        return False
    return native.cpuid_status()[0] == "ok" and int(loaded.lib.npb_status()) == 0


def _samples(count: int, call: Callable[[Any, Any], int]) -> Samples:
    ffi, lib = _require_bench()
    out = ffi.new("uint64_t[]", max(count, 1))
    code = int(call(lib, out))
    return (code, ()) if code else (0, tuple(int(x) for x in ffi.unpack(out, count)))


def bench_floor(samples: int) -> Samples:
    return _samples(samples, lambda lib, out: lib.npb_floor(samples, out))


def bench_register_loop(iterations: int, warmup: int, samples: int) -> Samples:
    return _samples(samples, lambda lib, out: lib.npb_register_loop(iterations, warmup,
                                                                     samples, out))


def bench_getppid(calls: int, warmup: int, samples: int) -> Samples:
    return _samples(samples, lambda lib, out: lib.npb_getppid(calls, warmup, samples, out))


def bench_first_touch(pages: int) -> Samples:
    return _samples(pages, lambda lib, out: lib.npb_first_touch(pages, out))


class Chase:
    """An open pointer-chase buffer (npb_chase); ``status`` is non-zero when opening failed."""

    def __init__(self, handle: Any, status: int) -> None:
        self._handle, self.status = handle, status

    def sample(self, steps: int, warmup_laps: int, samples: int) -> Samples:
        handle = self._handle
        return _samples(samples, lambda lib, out: lib.npb_chase_sample(
            handle, steps, warmup_laps, samples, out))

    def facts(self, names: Iterable[str]) -> dict[str, int]:
        """The buffer's facts (npb_chase_facts fields ``names``), or {} when C refuses."""
        ffi, lib = _require_bench()
        facts = ffi.new("npb_chase_facts *")
        if self.status or int(lib.npb_chase_facts_of(self._handle, facts)) != 0:
            return {}
        return {name: int(getattr(facts, name)) for name in names}


@contextmanager
def bench_chase(size: int, pages: int, huge: bool, seed: int) -> Iterator[Chase]:
    """A chase buffer of ``size`` bytes over ``pages`` pages, always closed on the way out."""
    ffi, lib = _require_bench()
    holder = ffi.new("npb_chase **")
    code = int(lib.npb_chase_open(size, pages, int(huge), seed, holder))
    try:
        yield Chase(holder[0], code)
    finally:
        if code == 0:
            lib.npb_chase_close(holder[0])


def _require_bench() -> native.NativeLib:
    loaded = native.load_lib()
    if loaded is None or not hasattr(loaded.lib, "npb_status"):
        raise RuntimeError("the bench samplers are not in this build of nestprobe._native")
    return loaded
