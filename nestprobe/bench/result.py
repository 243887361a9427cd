"""A bench result: the versioned JSON document a run leaves behind (docs/bench-format.md).

``format`` = "nestprobe-bench", ``schema_version`` = 2; the JSON Schema ships beside this
module (``bench.schema.json``). A result labels itself: it carries the nestprobe
assessment of the machine it ran on (CPU, hypervisor, nesting level with its evidence),
made from the same CPUID samples the suite took. Reading goes through the one input
reader (nestprobe.sources.inputfile, through the pipeline): a FIFO without a writer, a
device or a huge file is refused without blocking or filling memory.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

from nestprobe.bench.plan import EMULATED_GUEST, METRICS, SuitePlan
from nestprobe.bench.raw import RawFormatError, RawSeries, RawSuite
from nestprobe.bench.stats import Summary, floor_ticks, paired_ratios, summarise
from nestprobe.model import strictjson
from nestprobe.model.contract import MAX_INPUT_BYTES, VERSION
from nestprobe.model.errors import DumpFormatError
from nestprobe.model.record import replace
from nestprobe.model.schema import SchemaError, Validator
from nestprobe.model.snapshot import Snapshot
from nestprobe.model.strictjson import StrictJsonError

FORMAT = "nestprobe-bench"
SCHEMA_VERSION = 3
#: Versions compare and plot read: 3 only added the guest metrics (a version 2 result shows
#: none for them), so the results of earlier runs stay comparable.
READABLE_VERSIONS = (2, SCHEMA_VERSION)
#: A thorough result is ~60 KB; it is read with the same cap as ``--from``.
MAX_RESULT_BYTES = MAX_INPUT_BYTES
#: A raw document of the thorough plan is ~1 MB.
MAX_RAW_BYTES = 16 << 20
TLB_RATIO = "tlb.ratio"
#: The huge-page chase counts as on huge pages when at least this share was granted.
HUGE_SHARE_OK = 0.9


class BenchFormatError(ValueError):
    """A file is not a bench result (or raw run) this version can read."""


# ---- building ------------------------------------------------------------------------


def _figures(summary: Summary, scale: float) -> dict[str, float]:
    return {k: round(v * scale, 2) for k, v in (
        ("estimate", summary.estimate), ("median", summary.median), ("p99", summary.p99),
        ("min", summary.minimum), ("max", summary.maximum))}


def _huge_share(series: RawSeries) -> float | None:
    kib, size = series.facts.get("huge_kib"), series.facts.get("bytes")
    if kib is None or kib < 0 or not size:
        return None
    return round(min(kib * 1024 / size, 1.0), 3)


def _metric(raw: RawSuite, name: str, tsc_hz: float | None) -> dict[str, Any]:
    info = next(m for m in METRICS if m.name == name)
    series = raw.series[name]
    floor_series = raw.series[info.bracket]
    entry: dict[str, Any] = {
        "title": info.title, "group": info.group, "op": info.op, "why": info.why,
        "ops_per_sample": series.ops, "status": series.status, "detail": series.detail,
        "samples": 0, "batches": len(series.batches), "floor_ticks": None,
        "ticks": None, "ns": None, "batch_p10_ticks": [], "quantiles_ticks": [],
        "facts": dict(series.facts),
    }
    if name.startswith("tlb."):
        entry["huge_page_share"] = _huge_share(series)
    if series.status == "ok" and floor_series.status != "ok":
        entry["status"], entry["detail"] = "failed", f"its floor ({info.bracket}) failed"
    if entry["status"] != "ok":
        return entry
    if info.group == "guest" and (series.detail or "").startswith(EMULATED_GUEST):
        entry["title"] = f"{info.title} (emulated)"  # labelled as the run's emulated CPU is
    floor = floor_ticks(floor_series.batches)
    summary = summarise(series.batches, floor, series.ops)
    entry |= {
        "samples": summary.samples,
        "floor_ticks": round(floor, 2),
        "ticks": _figures(summary, 1.0),
        "ns": _figures(summary, 1e9 / tsc_hz) if tsc_hz else None,
        "batch_p10_ticks": [round(v, 2) for v in summary.batch_p10],
        "quantiles_ticks": [round(v, 2) for v in summary.quantiles],
    }
    return entry


def _tlb_ratio(metrics: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    small, huge = metrics["tlb.4k"], metrics["tlb.huge"]
    entry: dict[str, Any] = {
        "title": "4 KiB-page load / huge-page load",
        "why": "isolates the cost of address translation: nested paging multiplies a TLB "
               "miss, huge pages divide it",
        "status": "unavailable", "detail": "a chase series did not run",
        "value": None, "interval": None, "batch_ratios": [],
        "huge_page_share": huge.get("huge_page_share"),
    }
    if small["status"] != "ok" or huge["status"] != "ok":
        return entry
    pairs = paired_ratios(small["batch_p10_ticks"], huge["batch_p10_ticks"])
    if pairs is None or huge["ticks"]["estimate"] <= 0:
        entry["detail"] = "the huge-page figure is below the timer's floor"
        return entry
    share = huge.get("huge_page_share")
    if share is None:
        status, detail = "unknown", "whether huge pages were granted cannot be read here"
    elif share < HUGE_SHARE_OK:
        status, detail = "not-granted", f"only {share:.0%} of the buffer got huge pages"
    else:
        status, detail = "ok", None
    entry |= {
        "status": status, "detail": detail,
        "value": round(small["ticks"]["estimate"] / huge["ticks"]["estimate"], 3),
        "interval": [round(min(pairs), 3), round(max(pairs), 3)],
        "batch_ratios": [round(r, 3) for r in pairs],
    }
    return entry


def build_result(raw: RawSuite, snapshot: Snapshot, *, label: str | None = None,
                 assessed_from: str = "live", node: str | None = None,
                 python: str | None = None) -> dict[str, Any]:
    """The result document: ``raw``'s figures plus the assessment of ``snapshot``.

    The snapshot's latency record is replaced by one made from the suite's CPUID series,
    so the level the result names was judged on the very samples it reports.
    """
    from nestprobe.model.timing import summarise as summarise_latency
    from nestprobe.pipeline import build_report

    latency = raw.latency()
    if latency is not None:
        snapshot = replace(snapshot, latency=summarise_latency(latency))
    a = build_report(snapshot).assessment
    tsc_hz, tsc_source = raw.tsc()
    metrics = {m.name: _metric(raw, m.name, tsc_hz) for m in METRICS}
    floors = {name: round(floor_ticks(raw.series[name].batches), 2)
              if raw.series[name].status == "ok" else None
              for name in ("floor.cpuid", "floor.bench")}
    return {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "tool": f"nestprobe {VERSION}",
        "runner": raw.writer,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "label": label,
        "assessed_from": assessed_from,
        "machine": {"arch": snapshot.os.machine, "system": snapshot.os.system, "node": node,
                    "python": python, "cpuid_status": snapshot.cpuid_status},
        "cpu": {"vendor": a.cpu.vendor, "brand": a.cpu.brand, "family": a.cpu.family,
                "model": a.cpu.model},
        "hypervisor": {"vendor": a.hypervisor.vendor, "product": a.hypervisor.product,
                       "detected": a.hypervisor.detected, "partition": a.hypervisor.partition,
                       "emulated": a.hypervisor.emulated},
        "level": {"level": a.nesting.level, "at_least": a.nesting.at_least,
                  "likely": a.nesting.likely, "confidence": a.nesting.confidence,
                  "evidence": [e.to_dict() for e in a.nesting.evidence]},
        "plan": raw.plan.to_dict(),
        "clock": {"tsc_hz": tsc_hz, "tsc_hz_source": tsc_source,
                  "quantum_ticks": raw.tsc_quantum_ticks,
                  "min_step_ticks": raw.tsc_min_step_ticks, "rdtscp": raw.rdtscp,
                  "floor_ticks": floors, "pinned_cpu": raw.pinned_cpu,
                  "wall_ns": raw.wall_ns},
        "metrics": metrics,
        "derived": {TLB_RATIO: _tlb_ratio(metrics)},
    }


def run_live(plan: SuitePlan, *, label: str | None = None,
             progress: Any = None) -> dict[str, Any] | None:
    """Measure and assess this machine; None when the TSC or CPUID cannot be used here."""
    from nestprobe.bench.collect import collect_suite
    from nestprobe.pipeline import live_snapshot

    raw = collect_suite(plan, progress=progress)
    if raw is None:
        return None
    return build_result(raw, live_snapshot(timing=False), label=label, assessed_from="live",
                        node=platform.node(), python=platform.python_version())


def import_raw(raw_path: str, dump_path: str, *, label: str | None = None) -> dict[str, Any]:
    """A result from the static runner's output and a nestprobe dump of the same machine.

    BenchFormatError when the raw file is not one, or when the dump's CPUID does not match
    the one the runner saw (basic and hypervisor maximum leaves); DumpFormatError (from
    the dump reader) when the dump is unusable.
    """
    from nestprobe.pipeline import load_snapshot

    data = read_bounded(raw_path, MAX_RAW_BYTES, "a bench raw run")
    try:
        raw = RawSuite.from_dict(strictjson.loads(data.decode("utf-8")))
    except (RawFormatError, StrictJsonError, UnicodeDecodeError) as exc:
        raise BenchFormatError(f"{raw_path}: not a nestprobe-bench raw run ({exc})") from None
    snapshot = load_snapshot(dump_path)
    _same_machine(raw, snapshot, raw_path, dump_path)
    return build_result(raw, snapshot, label=label,
                        assessed_from=f"dump:{os.path.basename(dump_path)}")


def _same_machine(raw: RawSuite, snapshot: Snapshot, raw_path: str, dump_path: str) -> None:
    basic = snapshot.cpuid.raw(0)
    checks = [("CPUID.0x0:EAX", raw.tsc_leaves[0], basic.eax if basic else None)]
    if raw.tsc_leaves[6]:
        hyper = snapshot.cpuid.raw(0x40000000)
        checks.append(("CPUID.0x40000000:EAX", raw.tsc_leaves[6], hyper.eax if hyper else None))
    for where, ran, dumped in checks:
        if ran != dumped:
            raise BenchFormatError(
                f"{dump_path} is not a dump of the machine {raw_path} ran on: {where} was "
                f"{ran:#x} there, {'absent' if dumped is None else hex(dumped)} in the dump")


# ---- reading -------------------------------------------------------------------------


def read_bounded(path: str | Path, limit: int = MAX_INPUT_BYTES,
                 what: str = "a bench result") -> bytes:
    """At most ``limit`` bytes of ``path`` through the one input reader
    (nestprobe.sources.inputfile, through the pipeline: no devices, no blocking on a FIFO,
    the size cap checked before reading); its refusal, in the same plain words, as a
    BenchFormatError."""
    from nestprobe.pipeline import read_input

    try:
        return read_input(os.fspath(path), limit=limit, what=what)
    except DumpFormatError as exc:
        raise BenchFormatError(str(exc)) from None


REQUIRED_OBJECTS = ("machine", "cpu", "hypervisor", "level", "plan", "clock", "metrics",
                    "derived")


def check_result(data: object, where: str = "result") -> dict[str, Any]:
    """The structural promises compare and plot rely on; BenchFormatError otherwise.

    The shipped JSON Schema states the whole format; this checks what a reader needs
    without a schema library at run time.
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BenchFormatError(f"{where}: not a nestprobe bench result (no \"format\": "
                               f"\"{FORMAT}\")")
    if data.get("schema_version") not in READABLE_VERSIONS:
        raise BenchFormatError(f"{where}: bench result schema_version "
                               f"{data.get('schema_version')!r}; this nestprobe reads "
                               f"{' and '.join(map(str, READABLE_VERSIONS))}")
    for key in REQUIRED_OBJECTS:
        if not isinstance(data.get(key), dict):
            raise BenchFormatError(f"{where}: missing object {key!r}")
    level = data["level"]
    if not isinstance(level.get("at_least"), int) or not isinstance(level.get("evidence"), list):
        raise BenchFormatError(f"{where}: level needs at_least and evidence")
    for name, metric in data["metrics"].items():
        if not isinstance(metric, dict) or metric.get("status") not in (
                "ok", "unsupported", "failed"):
            raise BenchFormatError(f"{where}: metric {name!r} has no valid status")
        if metric["status"] == "ok" and not (
                isinstance(metric.get("ticks"), dict)
                and isinstance(metric["ticks"].get("estimate"), int | float)
                and isinstance(metric.get("batch_p10_ticks"), list)
                and isinstance(metric.get("quantiles_ticks"), list)):
            raise BenchFormatError(f"{where}: metric {name!r} lacks its figures")
    return cast("dict[str, Any]", data)


@cache
def _validator() -> Validator:
    text = resources.files("nestprobe.bench").joinpath("bench.schema.json").read_text(
        encoding="utf-8")
    return Validator(json.loads(text))


#: Chase facts where -1 is a documented state, not a figure (csrc/np_bench.h).
STATUS_KEYS = frozenset({"advice", "huge_kib"})


def _negative(value: object, path: str = "") -> str | None:
    """The first negative number in a result, by its path: no figure, clock or count
    a bench measures is below zero, and a negative one would be drawn as a figure. Two
    chase facts use -1 as a documented state (csrc/np_bench.h): ``advice`` -1 is "no such
    advice on this platform", ``huge_kib`` -1 "unknown" (no /proc/self/smaps); every
    Windows run says both."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in STATUS_KEYS and item == -1:
                continue
            found = _negative(item, f"{path}.{key}" if path else key)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _negative(item, f"{path}[{index}]")
            if found:
                return found
    elif isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        return path
    return None


def load_result(path: str | Path) -> dict[str, Any]:
    """Read a bench result (bounded); BenchFormatError (a ValueError) if it is not one.

    As strict as a dump: standard JSON numbers only, integers in 64-bit range, no deep
    nesting (model/strictjson.py); then the shipped schema (model/schema.py, no
    jsonschema needed; an older readable version by check_result's structure only) and
    no negative numbers anywhere.
    """
    raw = read_bounded(path, MAX_RESULT_BYTES)
    try:
        data = strictjson.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, StrictJsonError) as exc:
        raise BenchFormatError(f"{path}: not a bench result: expected {exc}") from None
    result = check_result(data, str(path))
    try:
        if result["schema_version"] == SCHEMA_VERSION:  # the one shape the shipped schema states
            _validator().validate(result)
    except SchemaError as exc:
        raise BenchFormatError(f"{path}: not a bench result: {exc}") from None
    negative = _negative(result)
    if negative:
        raise BenchFormatError(f"{path}: not a bench result: {negative} is negative")
    return result
