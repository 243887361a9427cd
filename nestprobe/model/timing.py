"""Raw CPUID-latency samples and the estimator that turns them into a LatencyRecord.

Pure values and arithmetic, shared by the probe's sampler (sources/latency.py) and the
bench (bench/raw.py, bench/stats.py), so neither reaches into the other's layer. Method
(PAOLONI: serialise, many samples, report the minimum and the spread; VMA's warm-up and
low-percentile estimator; keys in docs/sources.md): the estimate is the minimum over
batches of each batch's p10, because host contention moves even a single run's minimum
(NP-DEV). The median and p99 stand beside it; the mean never appears.
"""

from __future__ import annotations

from nestprobe.model.latency import LatencyRecord
from nestprobe.model.record import Record
from nestprobe.model.typeshim import Sequence

#: CPUID 0x0 and 0x1 always exit under VT-x/AMD-V; 0x40000000 is the hypervisor's own leaf.
DEFAULT_LEAVES = (0x0, 0x1, 0x40000000)
#: Clock pairs whose TSC span exceeds this are too disturbed to calibrate with.
MAX_PAIR_SPAN_TICKS = 100_000
#: Calibration needs a window long enough that the pair jitter (~100 ns) stays below 0.1 %.
MIN_CALIBRATION_NS = 1_000_000
#: A TSC frequency outside this range is junk, whatever its source says.
SANE_TSC_HZ = (100e6, 10e9)


class Plan(Record):
    """How much to measure. A round is one empty bracket plus one CPUID per leaf."""

    name: str
    batches: int
    rounds: int  # timed rounds per batch
    warmup: int  # untimed rounds before each batch
    gap_s: float  # batches at least this far apart: separation in time (sleep or other work)
    leaves: tuple[int, ...] = DEFAULT_LEAVES


#: 20 rounds: 60 samples a batch, p10 their 6th lowest. 40 rounds gave no steadier estimate
#: under load (bench/stability.py: 20/20 at one level both ways; README "Level estimate under
#: load") for twice the CPUIDs, which cost ~1 ms of a check in a VM, more the deeper it nests.
QUICK = Plan(name="quick", batches=3, rounds=20, warmup=4, gap_s=0.0005)
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
    rank = max(-int(-(q / 100.0 * len(ordered)) // 1), 1)  # ceil, without math
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
    stated = stated_tsc_hz(leaves)
    if stated is not None:
        return stated
    if calibration is not None:
        tsc0, ns0, tsc1, ns1 = calibration
        if ns1 - ns0 >= MIN_CALIBRATION_NS and tsc1 > tsc0:
            hz = (tsc1 - tsc0) * 1e9 / (ns1 - ns0)
            if _sane(hz):
                return hz, f"calibrated:{clock}"
    base_mhz = (list(leaves) + [0] * 8)[4]
    if base_mhz and _sane(base_mhz * 1e6):
        return base_mhz * 1e6, "CPUID.0x16:EAX"
    return None, None


def stated_tsc_hz(leaves: Sequence[int]) -> tuple[float, str] | None:
    """``(hz, source)`` when a CPUID leaf states the TSC frequency exactly (the hypervisor's
    0x40000010, or 0x15 with the crystal given); then no calibration is needed."""
    _max_basic, denominator, numerator, crystal, _base, _bit, _hv_max, tsc_khz = (
        list(leaves) + [0] * 8
    )[:8]
    if tsc_khz and _sane(tsc_khz * 1e3):
        return tsc_khz * 1e3, "CPUID.0x40000010:EAX"
    if denominator and numerator and crystal:
        hz = crystal * numerator / denominator
        if _sane(hz):
            return hz, "CPUID.0x15:EAX,EBX,ECX"
    return None


def _sane(hz: float) -> bool:
    low, high = SANE_TSC_HZ
    return low <= hz <= high


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
