"""LatencyRecord: a CPUID exit-latency measurement as it travels in snapshots and dumps.

Owned by the timing layer; the snapshot only carries it. Figures are TSC ticks.
"""

from __future__ import annotations

from typing import Any

from nestprobe.model.record import Record, fields, iter_items


class LatencyRecord(Record):
    """Robust summary of a CPUID latency measurement (never a mean)."""

    cpuid_ticks: float  # the estimate: minimum over batches of each batch's low percentile
    median_ticks: float
    p99_ticks: float
    baseline_ticks: float  # the same bracket around nothing (non-exiting), same estimator
    tsc_hz: float | None  # from CPUID 0x15/0x16/0x40000010 or calibration
    tsc_hz_source: str | None
    tsc_quantum_ticks: int | None  # the step every TSC delta is a multiple of (gcd)
    samples: int
    batches: int
    leaves: tuple[int, ...]
    pinned_cpu: int | None
    # Added after v1 dumps were first written: defaults keep older records loading.
    mode: str = "quick"  # "quick" (every probe) or "thorough"
    wall_ns: int | None = None  # what the measurement cost in wall time, sleeps included

    @property
    def net_ticks(self) -> float:
        """The CPUID estimate minus the empty bracket: what the exit itself costs."""
        return max(self.cpuid_ticks - self.baseline_ticks, 0.0)

    def ns(self, ticks: float) -> float | None:
        """``ticks`` in nanoseconds, when the TSC frequency is known."""
        if not self.tsc_hz:
            return None
        return ticks * 1e9 / self.tsc_hz

    def to_dict(self) -> dict[str, Any]:
        data = dict(iter_items(self))
        data["leaves"] = list(self.leaves)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LatencyRecord:
        """Build from :meth:`to_dict` output; raises KeyError/TypeError/ValueError if malformed."""
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown latency fields: {sorted(unknown)}")
        values = dict(data)
        values["leaves"] = tuple(int(x) for x in values["leaves"])
        return cls(**values)
