"""Latency bands: what a CPUID exit cost suggests about the nesting level.

Bands are data, each row with its source (rows of /work/shared/reference/
performance-anchors.md, "A.1 #n" = Part A table 1 row n). Published figures are RDTSC
ticks on parts whose TSC runs at ~2-3.5 GHz, but an exit costs *time*: when the TSC
frequency is known, the measured cost is rescaled to ticks of a REFERENCE_TSC_HZ clock
before it is looked up, so a slow or fast TSC does not shift the band.

Timing is one witness, never the only one: bands overlap in reality (a user-space L1
VMM reaches 30k ticks, A.1 #2, as slow as a fast L2), so the mid bands carry only
medium confidence and the nesting assessment never lets timing raise what CPUID proves.
"""

from __future__ import annotations

from nestprobe.model.assessment import Confidence
from nestprobe.model.latency import LatencyRecord
from nestprobe.model.record import Record

#: The TSC rate the published cycle figures roughly correspond to (2.6 GHz: the
#: development machine, B.0, and mid-range for the Skylake-2024 parts of A.1 #6-#10).
REFERENCE_TSC_HZ = 2.6e9
#: TSC rates outside this range are not trusted for rescaling (raw ticks are used).
RESCALE_RANGE_HZ = (0.5e9, 6e9)

CONFIDENCE_ORDER: tuple[Confidence, ...] = ("none", "low", "medium", "high", "certain")


class Band(Record):
    """Net CPUID ticks (at the reference TSC) in ``[low, high)`` and what they suggest."""

    name: str
    low: float
    high: float | None  # None: no upper bound
    likely: int  # the nesting level this band most likely means
    confidence: Confidence
    meaning: str
    source: str


BANDS: tuple[Band, ...] = (
    Band(
        "bare-metal", 0, 300, 0, "medium",
        "no exit: CPUID executes in hardware",
        "anchors A.1 #1 (108 cycles), #3 (~50 ticks); Appendix 2 (< 300)",
    ),
    Band(
        "fast-exit", 300, 700, 1, "low",
        "faster than any published exit, slower than bare metal",
        "anchors A.1 #3 threshold 150 ticks, #7-#8 (L1 ~1,000); Appendix 2 gap 300-700",
    ),
    Band(
        "l1-hardware", 700, 2_500, 1, "medium",
        "one hardware-assisted exit (KVM, Hyper-V, ESXi, Xen)",
        "anchors A.1 #5 (~2,000), #6 (1,529-1,559), #7 (1,018-1,600+), #8 (1,087-1,110), "
        "#9 (1,344-1,376); thresholds #13-#15 (1,000-1,500)",
    ),
    Band(
        "l1-slow", 2_500, 6_000, 1, "low",
        "a slow L1 exit (old VT, mitigations, heavy VMM) or a very fast nested one",
        "anchors A.1 #4 (~5,000-8,000 on first-generation VT), #7 (1,600+ with mitigations); "
        "Appendix 2 (L2 from ~6,000)",
    ),
    Band(
        "nested", 6_000, 30_000, 2, "medium",
        "a nested (L2) exit, or an L1 user-space VMM",
        "anchors A.1 #10 (8,304-18,890 cycles in L2), #12 (VMAware nested threshold 7,500), "
        "B.1 (~9,000 in a Firecracker/PVM guest); caveat #2 (VirtualBox L1 30,578)",
    ),
    Band(
        "very-slow", 30_000, None, 2, "low",
        "slower than published L2 exits: deep nesting, emulation or heavy contention",
        "anchors A.1 #2 (30,578 at L1), #10 (L2 up to 18,890), B.1 (noisy episodes +25-55 %)",
    ),
)


class BandCall(Record):
    """One record looked up in the bands."""

    band: Band
    likely: int
    confidence: Confidence
    net_ticks: float  # measured CPUID minus the empty bracket, in this machine's ticks
    net_ns: float | None
    reference_ticks: float  # what was looked up: net ns at REFERENCE_TSC_HZ, else net ticks
    rescaled: bool
    noisy: bool  # the median sits far above the estimate: confidence lowered one step


def band_for(reference_ticks: float) -> Band:
    """The band holding ``reference_ticks`` (negative values count as 0)."""
    for band in BANDS:
        if band.high is None or reference_ticks < band.high:
            return band
    return BANDS[-1]


def lower(confidence: Confidence, steps: int = 1) -> Confidence:
    """``confidence`` lowered by ``steps`` (never below "none")."""
    index = max(CONFIDENCE_ORDER.index(confidence) - steps, 0)
    return CONFIDENCE_ORDER[index]


#: A median this many times the estimate means the batches disagreed or were disturbed.
NOISY_RATIO = 1.5


def classify(record: LatencyRecord) -> BandCall:
    """Band, likely level and confidence for ``record``."""
    net = record.net_ticks
    net_ns = record.ns(net)
    low, high = RESCALE_RANGE_HZ
    rescaled = record.tsc_hz is not None and low <= record.tsc_hz <= high and net_ns is not None
    reference = net_ns * REFERENCE_TSC_HZ / 1e9 if rescaled and net_ns is not None else net
    band = band_for(reference)
    noisy = record.cpuid_ticks > 0 and record.median_ticks > NOISY_RATIO * record.cpuid_ticks
    return BandCall(
        band=band,
        likely=band.likely,
        confidence=lower(band.confidence) if noisy else band.confidence,
        net_ticks=net,
        net_ns=net_ns,
        reference_ticks=reference,
        rescaled=rescaled,
        noisy=noisy,
    )
