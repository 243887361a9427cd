"""CPUID exit-latency measurement: pinned, warmed up, batched, robust.

The C layer (csrc/np_timing.c, through nestprobe.native) only fills tick buffers; the
statistics are model/timing.py's. Method (LKML-NOAPIC: pin and warm up for ~1 % accuracy;
keys in docs/sources.md): pin to one CPU (sources/affinity.py), warm up, several batches
at least ``plan.gap_s`` apart; see model/timing.py for the estimator.

A :class:`Sampler` is one measurement under way. :func:`collect` runs its batches with
sleeps between them; the live probe (sources/live.py) runs its own work between them
instead (the CPUID walk, the OS facts), so the quick plan's separation and the TSC
calibration window cost no idle time, and a sleep makes up only what that work lacks.

Budget, measured on the development machine (one CPUID ~3.5 µs): the quick plan's own
work takes ~1.5-2 ms, the thorough plan ~0.2 s. Every record carries its own
``wall_ns``: the time spent in the sampler, not in work run between its batches.
"""

from __future__ import annotations

import time

from nestprobe import native
from nestprobe.model.latency import LatencyRecord
from nestprobe.model.timing import (
    DEFAULT_LEAVES,
    MAX_PAIR_SPAN_TICKS,
    MIN_CALIBRATION_NS,
    QUICK,
    SANE_TSC_HZ,
    THOROUGH,
    Plan,
    RawLatency,
    batch_estimate,
    percentile,
    stated_tsc_hz,
    summarise,
    tsc_frequency,
)
from nestprobe.model.typeshim import Callable
from nestprobe.sources.affinity import pick_cpu, pinned

__all__ = [
    "DEFAULT_LEAVES", "MAX_PAIR_SPAN_TICKS", "MIN_CALIBRATION_NS", "QUICK", "SANE_TSC_HZ",
    "THOROUGH", "Plan", "ProgressFn", "RawLatency", "Sampler", "batch_estimate", "collect",
    "measure_latency", "percentile", "pick_cpu", "pinned", "start", "summarise",
    "tsc_frequency",
]

ProgressFn = Callable[[int, int], None]


def _clock_pair() -> tuple[int, int] | None:
    """``(tsc, ns)`` when the pair was read within MAX_PAIR_SPAN_TICKS, else None."""
    pair = native.clock_pair(5)
    if pair is None or pair[2] > MAX_PAIR_SPAN_TICKS:
        return None
    return pair[0], pair[1]


def _granularity() -> tuple[int | None, int | None]:
    found = native.tsc_granularity(256)
    if found is None:
        return None, None
    gcd, step = found
    return (gcd or None), (step or None)


def _sample_batch(plan: Plan) -> tuple[tuple[int, ...], list[list[int]]]:
    """One native call: ``(baseline samples, per-leaf samples)`` of one batch."""
    width = len(plan.leaves) + 1
    flat = native.timing_sample(plan.leaves, plan.warmup, plan.rounds)
    baseline = tuple(flat[0::width])
    return baseline, [flat[1 + j :: width] for j in range(len(plan.leaves))]


class Sampler:
    """One measurement under way, on the CPU the caller pinned (``pinned_cpu``).

    Creating it takes the first clock pair and the TSC granularity; each :meth:`batch`
    takes one batch, at least ``plan.gap_s`` after the previous one ended (sleeping only
    the part of the gap the caller's own work did not fill); :meth:`finish` takes any
    batches still owed, closes the calibration window (at least MIN_CALIBRATION_NS when
    no CPUID leaf states the TSC frequency) and returns the samples.
    """

    def __init__(self, plan: Plan, pinned_cpu: int | None,
                 progress: ProgressFn | None = None) -> None:
        self.plan, self.pinned_cpu, self._progress = plan, pinned_cpu, progress
        self._own_ns = 0
        began = time.perf_counter_ns()
        self._first = _clock_pair()
        self._quantum, self._min_step = _granularity()
        self._baselines: list[tuple[int, ...]] = []
        self._cpuid: list[tuple[tuple[int, ...], ...]] = []
        self._last_end_ns: int | None = None
        self._opened_ns = time.perf_counter_ns()
        self._own_ns += self._opened_ns - began

    def batch(self) -> None:
        """Take the next batch the plan owes, if any (the caller's work since the last one
        counts as its gap): a record never holds more batches than its plan says."""
        if len(self._cpuid) >= self.plan.batches:
            return
        began = time.perf_counter_ns()
        if self._last_end_ns is not None:
            _sleep_until(self._last_end_ns + int(self.plan.gap_s * 1e9))
        baseline, per_leaf = _sample_batch(self.plan)
        self._baselines.append(baseline)
        self._cpuid.append(tuple(tuple(samples) for samples in per_leaf))
        self._last_end_ns = time.perf_counter_ns()
        self._own_ns += self._last_end_ns - began
        if self._progress is not None:
            self._progress(len(self._cpuid), self.plan.batches)

    def finish(self) -> RawLatency:
        """Every sample the plan asks for, with the TSC frequency and the sampler's time."""
        while len(self._cpuid) < self.plan.batches:
            self.batch()
        began = time.perf_counter_ns()
        leaves = native.tsc_leaves() or []
        if self._first is not None and stated_tsc_hz(leaves) is None:  # calibration it is:
            # a window long enough, with a margin for CLOCK_MONOTONIC_RAW against the slewed
            # perf_counter clock (without a first clock pair there is nothing to calibrate)
            _sleep_until(self._opened_ns + MIN_CALIBRATION_NS + MIN_CALIBRATION_NS // 50)
        last = _clock_pair()
        first = self._first
        calibration = (first[0], first[1], last[0], last[1]) if first and last else None
        hz, source = tsc_frequency(leaves, calibration, native.clock_name())
        return RawLatency(
            plan=self.plan,
            baseline=tuple(self._baselines),
            cpuid=tuple(self._cpuid),
            tsc_hz=hz,
            tsc_hz_source=source,
            tsc_quantum_ticks=self._quantum,
            tsc_min_step_ticks=self._min_step,
            pinned_cpu=self.pinned_cpu,
            wall_ns=self._own_ns + time.perf_counter_ns() - began,
        )


def _sleep_until(deadline_ns: int) -> None:
    left = deadline_ns - time.perf_counter_ns()
    if left > 0:
        time.sleep(left / 1e9)


def start(plan: Plan, pinned_cpu: int | None) -> Sampler | None:
    """A sampler for ``plan`` on the CPU the caller already pinned; None when CPUID or the
    TSC cannot run here."""
    return Sampler(plan, pinned_cpu) if native.timing_available() else None


def collect(
    plan: Plan = QUICK, *, cpu: int | None = None, progress: ProgressFn | None = None
) -> RawLatency | None:
    """Take every sample ``plan`` asks for, pinned (sources/affinity.py: ``cpu``, default
    the highest allowed); None when CPUID or the TSC cannot run here."""
    if not native.timing_available():
        return None
    with pinned(cpu) as where:
        return Sampler(plan, where, progress).finish()


def measure_latency(thorough: bool = False, *, cpu: int | None = None) -> LatencyRecord | None:
    """Measure CPUID exit latency on this machine; None when CPUID is unavailable or faults.

    Pins the calling thread to ``cpu`` (default: the highest allowed) for the duration
    and restores the original affinity afterwards, even when sampling fails.
    """
    raw = collect(THOROUGH if thorough else QUICK, cpu=cpu)
    return summarise(raw) if raw is not None else None
