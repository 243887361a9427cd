"""CPUID exit-latency measurement: pinned, warmed up, batched, robust.

The C layer (csrc/np_timing.c) only fills tick buffers; everything statistical is here.
Method (PAOLONI: serialise, many samples, report the minimum and the spread; VMA's
warm-up and low-percentile estimator; LKML-NOAPIC: pin and warm up for ~1 % accuracy;
keys in docs/sources.md): pin to one CPU, warm up, several batches separated by short
sleeps; the estimate is the minimum over batches of each batch's p10, because host
contention moves even a single run's minimum (NP-DEV). The median and p99 stand beside
it; the mean never appears (preemptions dominate it).

Budget, measured on the development machine (one CPUID ~3.5 µs): the quick plan takes
~2.5-3.5 ms wall time with its two sleeps, the thorough plan ~0.2 s. Every record
carries its own ``wall_ns``.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from nestprobe.model.latency import LatencyRecord
from nestprobe.model.record import Record
from nestprobe.model.typeshim import Any

#: CPUID 0x0 and 0x1 always exit under VT-x/AMD-V; 0x40000000 is the hypervisor's own leaf.
DEFAULT_LEAVES = (0x0, 0x1, 0x40000000)
#: Clock pairs whose TSC span exceeds this are too disturbed to calibrate with.
MAX_PAIR_SPAN_TICKS = 100_000
#: Calibration needs a window long enough that the pair jitter (~100 ns) stays below 0.1 %.
MIN_CALIBRATION_NS = 1_000_000
#: A TSC frequency outside this range is junk, whatever its source says.
SANE_TSC_HZ = (100e6, 10e9)

ProgressFn = Callable[[int, int], None]


class Plan(Record):
    """How much to measure. A round is one empty bracket plus one CPUID per leaf."""

    name: str
    batches: int
    rounds: int  # timed rounds per batch
    warmup: int  # untimed rounds before each batch
    gap_s: float  # sleep between batches: a fresh scheduler quantum, separation in time
    leaves: tuple[int, ...] = DEFAULT_LEAVES


QUICK = Plan(name="quick", batches=3, rounds=40, warmup=4, gap_s=0.0005)
THOROUGH = Plan(name="thorough", batches=8, rounds=800, warmup=64, gap_s=0.005)


class RawLatency(Record):
    """Every tick sample a run took, before any statistics (bench keeps these)."""

    plan: Plan
    baseline: tuple[tuple[int, ...], ...]  # [batch][round]
    cpuid: tuple[tuple[tuple[int, ...], ...], ...]  # [batch][leaf][round]
    tsc_hz: float | None
    tsc_hz_source: str | None
    tsc_quantum_ticks: int | None  # gcd of non-zero back-to-back deltas
    tsc_min_step_ticks: int | None  # smallest non-zero back-to-back delta
    pinned_cpu: int | None
    wall_ns: int

    def leaf_samples(self, index: int) -> list[int]:
        """All samples of ``plan.leaves[index]``, every batch."""
        return [s for batch in self.cpuid for s in batch[index]]

    def all_cpuid(self) -> list[int]:
        return [s for batch in self.cpuid for leaf in batch for s in leaf]


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: every answer is a real sample)."""
    if not values:
        raise ValueError("percentile of no samples")
    ordered = sorted(values)
    rank = max(math.ceil(q / 100.0 * len(ordered)), 1)
    return float(ordered[min(rank, len(ordered)) - 1])


def batch_estimate(batches: Sequence[Sequence[float]], q: float = 10.0) -> float:
    """Minimum over batches of each batch's ``q``-th percentile."""
    lows = [percentile(batch, q) for batch in batches if batch]
    if not lows:
        raise ValueError("no batch holds a sample")
    return min(lows)


def tsc_frequency(
    leaves: Sequence[int],
    calibration: tuple[int, int, int, int] | None,
    clock: str = "CLOCK_MONOTONIC_RAW",
) -> tuple[float | None, str | None]:
    """``(hz, source)`` from the TSC leaves (npt_tsc_leaves order) or a calibration.

    Preference: the hypervisor's stated TSC kHz (0x40000010, exact), the crystal ratio
    (0x15 with the crystal given, exact), calibration against the reference ``clock``
    (CLOCK_MONOTONIC_RAW on Linux, QueryPerformanceCounter on Windows; measured;
    ``calibration`` = tsc0, ns0, tsc1, ns1), the nominal base MHz (0x16, approximate:
    the TSC need not run at base). Insane values are skipped.
    """
    low, high = SANE_TSC_HZ

    def sane(hz: float) -> bool:
        return low <= hz <= high

    _max_basic, denominator, numerator, crystal, base_mhz, _bit, _hv_max, tsc_khz = (
        list(leaves) + [0] * 8
    )[:8]
    if tsc_khz and sane(tsc_khz * 1e3):
        return tsc_khz * 1e3, "CPUID.0x40000010:EAX"
    if denominator and numerator and crystal:
        hz = crystal * numerator / denominator
        if sane(hz):
            return hz, "CPUID.0x15:EAX,EBX,ECX"
    if calibration is not None:
        tsc0, ns0, tsc1, ns1 = calibration
        if ns1 - ns0 >= MIN_CALIBRATION_NS and tsc1 > tsc0:
            hz = (tsc1 - tsc0) * 1e9 / (ns1 - ns0)
            if sane(hz):
                return hz, f"calibrated:{clock}"
    if base_mhz and sane(base_mhz * 1e6):
        return base_mhz * 1e6, "CPUID.0x16:EAX"
    return None, None


def summarise(raw: RawLatency) -> LatencyRecord:
    """The robust record: p10-min estimate over batches, median and p99 over all samples."""
    per_batch = [[s for leaf in batch for s in leaf] for batch in raw.cpuid]
    every = raw.all_cpuid()
    return LatencyRecord(
        cpuid_ticks=batch_estimate(per_batch),
        median_ticks=percentile(every, 50),
        p99_ticks=percentile(every, 99),
        baseline_ticks=batch_estimate(raw.baseline),
        tsc_hz=raw.tsc_hz,
        tsc_hz_source=raw.tsc_hz_source,
        tsc_quantum_ticks=raw.tsc_quantum_ticks,
        samples=len(every),
        batches=len(raw.cpuid),
        leaves=raw.plan.leaves,
        pinned_cpu=raw.pinned_cpu,
        mode=raw.plan.name,
        wall_ns=raw.wall_ns,
    )


# ---- affinity ---------------------------------------------------------------------------


def pick_cpu(allowed: set[int]) -> int:
    """The highest allowed CPU: CPU 0 usually takes the most interrupts."""
    return max(allowed)


@contextmanager
def pinned(cpu: int | None = None) -> Iterator[int | None]:
    """Pin the calling thread to one CPU; ALWAYS put the original affinity back.

    Yields the CPU pinned to, or None where affinity cannot be set (a seccomp filter,
    ``cpu`` not allowed, an OS with neither sched_setaffinity nor the Windows calls);
    the body then runs unpinned.
    """
    getter = getattr(os, "sched_getaffinity", None)
    setter = getattr(os, "sched_setaffinity", None)
    if getter is None or setter is None:  # Windows: the C core pins (SetThreadAffinityMask)
        from nestprobe.sources.winaffinity import pinned_thread

        with pinned_thread(cpu, pick_cpu) as where:
            yield where
        return
    original: set[int] | None = None
    target: int | None = None
    if getter is not None and setter is not None:
        try:
            original = set(getter(0))
            target = cpu if cpu is not None else pick_cpu(original)
            setter(0, {target})
        except (OSError, ValueError):
            target = None  # not pinned; `original` stays set so the restore still runs
    try:
        yield target
    finally:
        if original is not None and setter is not None:
            _restore(setter, original)


def _restore(setter: Callable[[int, set[int]], None], original: set[int]) -> None:
    try:
        setter(0, original)
    except OSError:
        # A CPU of the original set went offline meanwhile: never stay pinned to one.
        online = set(range(os.cpu_count() or 1))
        setter(0, (original & online) or online)


# ---- native ------------------------------------------------------------------------------


def _native_timing() -> tuple[Any, Any] | None:
    """The cffi pair when CPUID and the TSC can run here, else None (never raises)."""
    from nestprobe import native

    status, _detail = native.cpuid_status()
    if status != "ok":
        return None
    pair = native.load_lib()
    if pair is None or not hasattr(pair.lib, "npt_sample"):
        return None
    ffi, lib = pair
    if int(lib.npt_status()) != int(lib.NPT_OK):
        return None
    return ffi, lib


def _clock_pair(ffi: Any, lib: Any) -> tuple[int, int] | None:
    tsc, ns, span = ffi.new("uint64_t *"), ffi.new("uint64_t *"), ffi.new("uint64_t *")
    if int(lib.npt_clock_pair(5, tsc, ns, span)) != int(lib.NPT_OK):
        return None
    if int(span[0]) > MAX_PAIR_SPAN_TICKS:
        return None
    return int(tsc[0]), int(ns[0])


def _granularity(ffi: Any, lib: Any) -> tuple[int | None, int | None]:
    gcd, step = ffi.new("uint64_t *"), ffi.new("uint64_t *")
    if int(lib.npt_tsc_granularity(256, gcd, step)) != int(lib.NPT_OK):
        return None, None
    return (int(gcd[0]) or None), (int(step[0]) or None)


def _tsc_leaves(ffi: Any, lib: Any) -> list[int]:
    out = ffi.new("uint32_t[]", int(lib.NPT_TSC_LEAVES))
    if int(lib.npt_tsc_leaves(out)) != int(lib.NPT_OK):
        return []
    return [int(x) for x in out]


def _sample_batch(ffi: Any, lib: Any, plan: Plan) -> tuple[tuple[int, ...], list[list[int]]]:
    """One native call: ``(baseline samples, per-leaf samples)`` of one batch."""
    width = len(plan.leaves) + 1
    leaves = ffi.new("uint32_t[]", list(plan.leaves))
    out = ffi.new("uint64_t[]", plan.rounds * width)
    code = int(lib.npt_sample(leaves, len(plan.leaves), plan.warmup, plan.rounds, out))
    if code != int(lib.NPT_OK):
        raise RuntimeError(f"npt_sample returned {code}")
    flat = [int(x) for x in ffi.unpack(out, plan.rounds * width)]
    baseline = tuple(flat[0::width])
    return baseline, [flat[1 + j :: width] for j in range(len(plan.leaves))]


def collect(
    plan: Plan = QUICK, *, cpu: int | None = None, progress: ProgressFn | None = None
) -> RawLatency | None:
    """Take every sample ``plan`` asks for; None when CPUID or the TSC cannot run here."""
    native = _native_timing()
    if native is None:
        return None
    ffi, lib = native
    started = time.perf_counter_ns()
    with pinned(cpu) as where:
        first = _clock_pair(ffi, lib)
        quantum, min_step = _granularity(ffi, lib)
        baselines: list[tuple[int, ...]] = []
        cpuid: list[tuple[tuple[int, ...], ...]] = []
        for index in range(plan.batches):
            if index:
                time.sleep(plan.gap_s)
            baseline, per_leaf = _sample_batch(ffi, lib, plan)
            baselines.append(baseline)
            cpuid.append(tuple(tuple(samples) for samples in per_leaf))
            if progress is not None:
                progress(index + 1, plan.batches)
        last = _clock_pair(ffi, lib)
        leaves = _tsc_leaves(ffi, lib)
    calibration = (first[0], first[1], last[0], last[1]) if first and last else None
    hz, source = tsc_frequency(leaves, calibration, ffi.string(lib.npt_clock_name()).decode())
    return RawLatency(
        plan=plan,
        baseline=tuple(baselines),
        cpuid=tuple(cpuid),
        tsc_hz=hz,
        tsc_hz_source=source,
        tsc_quantum_ticks=quantum,
        tsc_min_step_ticks=min_step,
        pinned_cpu=where,
        wall_ns=time.perf_counter_ns() - started,
    )


def measure_latency(thorough: bool = False, *, cpu: int | None = None) -> LatencyRecord | None:
    """Measure CPUID exit latency on this machine; None when CPUID is unavailable or faults.

    Pins the calling thread to ``cpu`` (default: the highest allowed) for the duration
    and restores the original affinity afterwards, even when sampling fails.
    """
    raw = collect(THOROUGH if thorough else QUICK, cpu=cpu)
    return summarise(raw) if raw is not None else None
