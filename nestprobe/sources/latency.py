"""CPUID exit-latency measurement: pinned, warmed up, batched, robust.

The C layer (csrc/np_timing.c, through nestprobe.native) only fills tick buffers; the
statistics are model/timing.py's. Method (LKML-NOAPIC: pin and warm up for ~1 % accuracy;
keys in docs/sources.md): pin to one CPU (sources/affinity.py), warm up, several batches
separated by short sleeps; see model/timing.py for the estimator.

Budget, measured on the development machine (one CPUID ~3.5 µs): the quick plan takes
~2.5-3.5 ms wall time with its two sleeps, the thorough plan ~0.2 s. Every record
carries its own ``wall_ns``.
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
    summarise,
    tsc_frequency,
)
from nestprobe.model.typeshim import Callable
from nestprobe.sources.affinity import pick_cpu, pinned

__all__ = [
    "DEFAULT_LEAVES", "MAX_PAIR_SPAN_TICKS", "MIN_CALIBRATION_NS", "QUICK", "SANE_TSC_HZ",
    "THOROUGH", "Plan", "ProgressFn", "RawLatency", "batch_estimate", "collect",
    "measure_latency", "percentile", "pick_cpu", "pinned", "summarise", "tsc_frequency",
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


def collect(
    plan: Plan = QUICK, *, cpu: int | None = None, progress: ProgressFn | None = None
) -> RawLatency | None:
    """Take every sample ``plan`` asks for, pinned (sources/affinity.py: ``cpu``, default
    the highest allowed); None when CPUID or the TSC cannot run here."""
    if not native.timing_available():
        return None
    started = time.perf_counter_ns()
    with pinned(cpu) as where:
        first = _clock_pair()
        quantum, min_step = _granularity()
        baselines: list[tuple[int, ...]] = []
        cpuid: list[tuple[tuple[int, ...], ...]] = []
        for index in range(plan.batches):
            if index:
                time.sleep(plan.gap_s)
            baseline, per_leaf = _sample_batch(plan)
            baselines.append(baseline)
            cpuid.append(tuple(tuple(samples) for samples in per_leaf))
            if progress is not None:
                progress(index + 1, plan.batches)
        last = _clock_pair()
        leaves = native.tsc_leaves() or []
    calibration = (first[0], first[1], last[0], last[1]) if first and last else None
    hz, source = tsc_frequency(leaves, calibration, native.clock_name())
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
