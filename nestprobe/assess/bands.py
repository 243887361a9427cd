"""Latency bands: what a CPUID exit cost suggests about the nesting level.

Bands are data, each row citing the published figures it rests on by source key
(docs/sources.md); a ``[D]`` part is a boundary nestprobe drew between cited figures.
Published figures are RDTSC ticks on parts whose TSC runs at ~2-3.5 GHz, but an exit
costs *time*: when the TSC frequency is known, the measured cost is rescaled to ticks
of a REFERENCE_TSC_HZ clock before it is looked up, so a slow or fast TSC does not
shift the band.

Timing is one witness, never the only one: bands overlap in reality (a user-space L1
VMM reaches 30k ticks, INSIDE-VM, as slow as a fast L2), so the mid bands carry only
medium confidence and the nesting assessment never lets timing raise what CPUID proves.
"""

from __future__ import annotations

from nestprobe.model.assessment import Confidence
from nestprobe.model.latency import LatencyRecord
from nestprobe.model.record import Record

#: The TSC rate the published cycle figures roughly correspond to (2.6 GHz: NP-DEV's
#: TSC, and mid-range for the parts behind LKML-VMEXIT-PMU, LKML-NOAPIC and L-EVMCS).
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
        "INSIDE-VM 108 cycles bare metal; VRDTSC ~50 ticks [U]; "
        "[D] 300 sits below every published exit",
    ),
    Band(
        "fast-exit", 300, 700, 1, "low",
        "faster than any published exit, slower than bare metal",
        "VRDTSC threshold 150 ticks [U]; LKML-NOAPIC L1 ~1,000; "
        "[D] 300-700 is the gap between them",
    ),
    Band(
        "l1-hardware", 700, 2_500, 1, "medium",
        "one hardware-assisted exit (KVM, Hyper-V, ESXi, Xen)",
        "SPLITX ~2,000 direct; LKML-VMEXIT-PMU 1,529-1,559 [U]; LKML-NOAPIC 1,018-1,600+; "
        "LKML-VMSAVE +1,344-1,376; VMA thresholds 1,000 and 1,500; ANTIVM 1,000; "
        "INSIDE-VM 1,000",
    ),
    Band(
        "l1-slow", 2_500, 6_000, 1, "low",
        "a slow L1 exit (old VT, mitigations, heavy VMM) or a very fast nested one",
        "VRDTSC ~5,000-8,000 on first-generation VT [U]; LKML-NOAPIC 1,600+ with "
        "mitigations; [D] L2 from ~6,000, below L-EVMCS 8,304",
    ),
    Band(
        "nested", 6_000, 30_000, 2, "medium",
        "a nested (L2) exit, or an L1 user-space VMM",
        "L-EVMCS 8,304-18,890 cycles in L2; VMA nested threshold 7,500; "
        "NP-DEV ~9,000 in a Firecracker/PVM guest; INSIDE-VM 30,578 at L1 (user-space VMM)",
    ),
    Band(
        "very-slow", 30_000, None, 2, "low",
        "slower than published L2 exits: deep nesting, emulation or heavy contention",
        "INSIDE-VM 30,578 at L1; L-EVMCS L2 up to 18,890; NP-DEV noisy episodes +25-55 %",
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
