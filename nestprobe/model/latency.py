"""LatencyRecord: a CPUID exit-latency measurement as it travels in snapshots and dumps.

Owned by the timing layer; the snapshot only carries it. Figures are TSC ticks.
"""

from __future__ import annotations

from nestprobe.model.record import Record, fields, iter_items
from nestprobe.model.typeshim import Any, isfinite

#: TSC ticks, counts and nanoseconds are unsigned 64-bit on every source (exclusive bound).
U64_LIMIT = 2**64
#: Leaves are CPUID inputs (32-bit).
U32_LIMIT = 2**32
#: What a dump's latency record may say it was (the JSON schema's enum); bench runs its
#: own plans and never writes dumps.
MODES = ("quick", "thorough")
_TICKS = ("cpuid_ticks", "median_ticks", "p99_ticks", "baseline_ticks")
_COUNTS = ("samples", "batches")
_OPTIONAL_COUNTS = ("tsc_quantum_ticks", "pinned_cpu", "wall_ns")


def _number_problem(name: str, value: object, low: int, limit: int, integer: bool) -> str:
    """Why ``value`` is not a finite number in [low, limit) (an int when ``integer``), or ''."""
    kind = "an integer" if integer else "a finite number"
    wrong_type = isinstance(value, bool) or not isinstance(value, int | float)
    if wrong_type or (integer and not isinstance(value, int)):
        return f"{name} must be {kind}, not {type(value).__name__}"
    assert isinstance(value, int | float)
    if isinstance(value, float) and not isfinite(value):
        return f"{name} must be {kind}, not {value}"
    if value < low:
        return f"{name} must be {kind} >= {low:g}, not {value:g}"
    if value >= limit:
        return f"{name} must be {kind} below 2**{limit.bit_length() - 1}"
    return ""


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
    #: what the measurement added in wall time, its sleeps included; in the live probe its
    #: batches run between the probe's own steps, whose time is not the measurement's
    wall_ns: int | None = None

    def __post_init__(self) -> None:
        """Refuse what no measurement produces: NaN, infinities, negative ticks or counts.

        A record is rendered as JSON and feeds the level estimate; a NaN there would be
        non-standard JSON and a negative tick count would move the likely level.
        """
        problem = self.problem()
        if problem:
            raise ValueError(f"LatencyRecord: {problem}")

    def problem(self) -> str:
        """What is out of range in this record, in words, or ''."""
        checks: list[tuple[str, object, int, int, bool]] = [
            *((name, getattr(self, name), 0, U64_LIMIT, False) for name in _TICKS),
            *((name, getattr(self, name), 0, U64_LIMIT, True) for name in _COUNTS),
            *((name, getattr(self, name), 0, U64_LIMIT, True) for name in _OPTIONAL_COUNTS
              if getattr(self, name) is not None),
        ]
        if self.tsc_hz is not None:  # at least 1 Hz: ticks / tsc_hz stays finite
            checks.append(("tsc_hz", self.tsc_hz, 1, U64_LIMIT, False))
        checks += [("leaves[]", leaf, 0, U32_LIMIT, True) for leaf in self.leaves]
        for name, value, low, limit, integer in checks:
            problem = _number_problem(name, value, low, limit, integer)
            if problem:
                return problem
        return ""

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
