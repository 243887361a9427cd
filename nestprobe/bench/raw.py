"""The raw samples of one bench run: what the runners take before any statistics.

Both runners produce it: the live one through the extension (``collect.py``) and the
static ``nestprobe-bench`` (csrc/tool_nestprobe_bench.c), which prints it as JSON
(format ``nestprobe-bench-raw`` version 1, docs/bench-format.md). ``RawSuite.from_dict``
checks every field, so a raw file from a guest is held to the same shape as a live run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, cast

from nestprobe.bench.plan import CPUID_LEAVES, SERIES, SuitePlan
from nestprobe.model.timing import Plan, RawLatency, tsc_frequency

RAW_FORMAT = "nestprobe-bench-raw"
RAW_VERSION = 1
#: The static runner's thorough plan holds ~150,000 samples; this bounds a hostile file.
MAX_SAMPLES = 2_000_000
#: Facts a chase series may carry (npb_chase_facts in csrc/np_bench.h).
CHASE_FACTS = ("bytes", "nodes", "page_bytes", "advice", "huge_kib")

SeriesStatus = Literal["ok", "unsupported", "failed"]
STATUSES: tuple[SeriesStatus, ...] = ("ok", "unsupported", "failed")


class RawFormatError(ValueError):
    """A raw document is not one this version can read; the message says where."""


@dataclass(frozen=True, slots=True)
class RawSeries:
    """Every sample of one series: ``batches[b][i]`` = TSC ticks of sample i of batch b."""

    name: str
    ops: int  # operations per sample
    status: SeriesStatus
    detail: str | None  # why, when not ok
    facts: Mapping[str, int]  # what a chase mapping got (CHASE_FACTS); empty otherwise
    batches: tuple[tuple[int, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"ops": self.ops, "status": self.status, "detail": self.detail,
                "facts": dict(self.facts), "batches": [list(b) for b in self.batches]}


@dataclass(frozen=True, slots=True)
class RawSuite:
    writer: str  # "nestprobe" (the live runner) or "nestprobe-bench-c"
    plan: SuitePlan
    pinned_cpu: int | None
    rdtscp: bool
    tsc_quantum_ticks: int | None
    tsc_min_step_ticks: int | None
    tsc_leaves: tuple[int, ...]  # npt_tsc_leaves() order (timing.h)
    clock_start: tuple[int, int] | None  # (tsc, CLOCK_MONOTONIC_RAW ns) before the batches
    clock_end: tuple[int, int] | None  # and after them
    wall_ns: int
    series: Mapping[str, RawSeries]

    def tsc(self) -> tuple[float | None, str | None]:
        """``(hz, source)``: the TSC rate by the probe's own rule (timing/measure.py)."""
        calibration = None
        if self.clock_start is not None and self.clock_end is not None:
            calibration = (*self.clock_start, *self.clock_end)
        return tsc_frequency(self.tsc_leaves, calibration)

    def latency(self) -> RawLatency | None:
        """The CPUID series as the probe's latency sampler would have returned them."""
        names = ("floor.cpuid", *(f"cpuid.{c}" for c in ("basic", "hypervisor", "extended")))
        if any(self.series[n].status != "ok" for n in names):
            return None
        hz, source = self.tsc()
        plan = self.plan
        leaves = [self.series[n].batches for n in names[1:]]
        return RawLatency(
            plan=Plan(name=f"bench-{plan.name}", batches=plan.batches, rounds=plan.cpuid_rounds,
                      warmup=plan.cpuid_warmup, gap_s=plan.gap_us / 1e6, leaves=CPUID_LEAVES),
            baseline=self.series["floor.cpuid"].batches,
            cpuid=tuple(tuple(leaf[b] for leaf in leaves) for b in range(plan.batches)),
            tsc_hz=hz,
            tsc_hz_source=source,
            tsc_quantum_ticks=self.tsc_quantum_ticks,
            tsc_min_step_ticks=self.tsc_min_step_ticks,
            pinned_cpu=self.pinned_cpu,
            wall_ns=self.wall_ns,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": RAW_FORMAT, "version": RAW_VERSION, "writer": self.writer,
            "plan": self.plan.to_dict(), "pinned_cpu": self.pinned_cpu, "rdtscp": self.rdtscp,
            "tsc_quantum_ticks": self.tsc_quantum_ticks,
            "tsc_min_step_ticks": self.tsc_min_step_ticks,
            "tsc_leaves": list(self.tsc_leaves),
            "clock_start": list(self.clock_start) if self.clock_start else None,
            "clock_end": list(self.clock_end) if self.clock_end else None,
            "wall_ns": self.wall_ns,
            "metrics": {name: s.to_dict() for name, s in self.series.items()},
        }

    @classmethod
    def from_dict(cls, data: object) -> RawSuite:
        """Check and build; RawFormatError names the first field that is wrong."""
        doc = _object(data, "the document")
        if doc.get("format") != RAW_FORMAT or doc.get("version") != RAW_VERSION:
            raise RawFormatError(f"not a {RAW_FORMAT} version {RAW_VERSION} document")
        plan = _plan(doc.get("plan"))
        metrics = _object(doc.get("metrics"), "metrics")
        if set(metrics) != set(SERIES):
            raise RawFormatError(f"metrics must be exactly {', '.join(SERIES)}")
        series = {name: _series(name, metrics[name], plan) for name in SERIES}
        if sum(len(b) for s in series.values() for b in s.batches) > MAX_SAMPLES:
            raise RawFormatError(f"more than {MAX_SAMPLES} samples")
        return cls(
            writer=_str(doc.get("writer"), "writer"),
            plan=plan,
            pinned_cpu=_opt_int(doc.get("pinned_cpu"), "pinned_cpu"),
            rdtscp=_bool(doc.get("rdtscp"), "rdtscp"),
            tsc_quantum_ticks=_opt_int(doc.get("tsc_quantum_ticks"), "tsc_quantum_ticks"),
            tsc_min_step_ticks=_opt_int(doc.get("tsc_min_step_ticks"), "tsc_min_step_ticks"),
            tsc_leaves=tuple(_ints(doc.get("tsc_leaves"), "tsc_leaves", length=8)),
            clock_start=_pair(doc.get("clock_start"), "clock_start"),
            clock_end=_pair(doc.get("clock_end"), "clock_end"),
            wall_ns=_int(doc.get("wall_ns"), "wall_ns"),
            series=series,
        )


# ---- field checks --------------------------------------------------------------------


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RawFormatError(f"{what} must be a JSON object")
    return cast("dict[str, Any]", value)


def _int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RawFormatError(f"{what} must be a non-negative integer")
    return value


def _opt_int(value: object, what: str) -> int | None:
    return None if value is None else _int(value, what)


def _str(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise RawFormatError(f"{what} must be a non-empty string")
    return value


def _bool(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise RawFormatError(f"{what} must be true or false")
    return value


def _ints(value: object, what: str, length: int | None = None) -> list[int]:
    if not isinstance(value, list) or (length is not None and len(value) != length):
        size = f" of {length}" if length is not None else ""
        raise RawFormatError(f"{what} must be a list{size} of integers")
    return [_int(v, what) for v in value]


def _pair(value: object, what: str) -> tuple[int, int] | None:
    if value is None:
        return None
    a, b = _ints(value, what, length=2)
    return a, b


def _plan(value: object) -> SuitePlan:
    doc = _object(value, "plan")
    names = [f.name for f in fields(SuitePlan)]
    if set(doc) != set(names):
        raise RawFormatError(f"plan must hold exactly {', '.join(names)}")
    numbers = {n: _int(doc[n], f"plan.{n}") for n in names if n != "name"}
    plan = SuitePlan(name=_str(doc["name"], "plan.name"), **numbers)
    if plan.batches == 0:
        raise RawFormatError("plan.batches must be at least 1")
    return plan


def _series(name: str, value: object, plan: SuitePlan) -> RawSeries:
    doc = _object(value, f"metrics.{name}")
    status = doc.get("status")
    if status not in STATUSES:
        raise RawFormatError(f"metrics.{name}.status must be one of {', '.join(STATUSES)}")
    ops = _int(doc.get("ops"), f"metrics.{name}.ops")
    if ops != plan.ops(name):
        raise RawFormatError(f"metrics.{name}.ops is {ops}, the plan says {plan.ops(name)}")
    detail = doc.get("detail")
    if detail is not None and not isinstance(detail, str):
        raise RawFormatError(f"metrics.{name}.detail must be a string or null")
    facts = _object(doc.get("facts"), f"metrics.{name}.facts")
    if not set(facts) <= set(CHASE_FACTS):
        raise RawFormatError(f"metrics.{name}.facts may hold only {', '.join(CHASE_FACTS)}")
    checked = {k: _signed(v, f"metrics.{name}.facts.{k}") for k, v in facts.items()}
    raw_batches = doc.get("batches")
    if not isinstance(raw_batches, list):
        raise RawFormatError(f"metrics.{name}.batches must be a list")
    want = plan.batches if status == "ok" else 0
    if len(raw_batches) != want:
        raise RawFormatError(f"metrics.{name} holds {len(raw_batches)} batches, want {want}")
    per = plan.per_batch(name)
    batches = tuple(tuple(_ints(b, f"metrics.{name}.batches", length=per)) for b in raw_batches)
    return RawSeries(name, ops, cast("SeriesStatus", status), detail, checked, batches)


def _signed(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RawFormatError(f"{what} must be an integer")
    return value
