"""``nestprobe bench``: this machine's exit-latency distributions, as a JSON document.

A bench result (schema_version 1) holds what identifies the machine (architecture, CPU
vendor and brand, hypervisor vendor), the nesting assessment with its evidence, and
per-leaf latency distributions (percentiles and a histogram) next to the empty-bracket
baseline. ``compare`` puts several results side by side; ``plot`` draws them (matplotlib,
the optional ``plot`` extra). Figures are TSC ticks; ns where the TSC rate is known.
"""

from __future__ import annotations

import datetime
import json
import math
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nestprobe.model.contract import VERSION
from nestprobe.model.record import replace
from nestprobe.sources.latency import Plan, ProgressFn, RawLatency, collect, percentile, summarise

SCHEMA_VERSION = 1
#: Bigger than the probe's quick plan: ~30 ms of CPUIDs here. The thorough one ~0.5 s.
BENCH = Plan(name="bench", batches=5, rounds=600, warmup=64, gap_s=0.002)
BENCH_THOROUGH = Plan(name="bench-thorough", batches=20, rounds=1500, warmup=64, gap_s=0.01)
HISTOGRAM_BINS = 40
PERCENTILES = (1, 10, 50, 90, 99)


def histogram(samples: Sequence[int], quantum: int | None = None,
              bins: int = HISTOGRAM_BINS) -> dict[str, Any]:
    """Equal-width bins from the minimum to p99 (the tail goes to ``overflow``).

    The width is a whole number of TSC quanta, so no bin is empty by construction.
    """
    low = min(samples)
    top = percentile(samples, 99)
    step = max(quantum or 1, 1)
    width = max(math.ceil((top - low + 1) / bins / step) * step, step)
    counts = [0] * bins
    overflow = 0
    for value in samples:
        index = int((value - low) // width)
        if index >= bins:
            overflow += 1
        else:
            counts[index] += 1
    return {"start": low, "bin_ticks": width, "counts": counts, "overflow": overflow}


def distribution(samples: Sequence[int], quantum: int | None,
                 tsc_hz: float | None) -> dict[str, Any]:
    """Percentiles (ticks and ns), min, max and a histogram of one series."""
    ticks = {f"p{q}": percentile(samples, q) for q in PERCENTILES}
    result: dict[str, Any] = {
        "count": len(samples),
        "min": min(samples),
        "max": max(samples),
        "ticks": ticks,
        "ns": {k: round(v * 1e9 / tsc_hz, 1) for k, v in ticks.items()} if tsc_hz else None,
        "histogram": histogram(samples, quantum),
    }
    return result


def latency_section(raw: RawLatency) -> dict[str, Any]:
    record = summarise(raw)
    quantum = raw.tsc_quantum_ticks
    baseline = [s for batch in raw.baseline for s in batch]
    return {
        "record": record.to_dict(),
        "plan": {"name": raw.plan.name, "batches": raw.plan.batches, "rounds": raw.plan.rounds,
                 "warmup": raw.plan.warmup, "gap_s": raw.plan.gap_s},
        "tsc": {"hz": raw.tsc_hz, "source": raw.tsc_hz_source, "quantum_ticks": quantum,
                "min_step_ticks": raw.tsc_min_step_ticks},
        "baseline": distribution(baseline, quantum, raw.tsc_hz),
        "leaves": {
            f"{leaf:#x}": distribution(raw.leaf_samples(i), quantum, raw.tsc_hz)
            for i, leaf in enumerate(raw.plan.leaves)
        },
        "batch_p10_ticks": [
            percentile([s for leaf in batch for s in leaf], 10) for batch in raw.cpuid
        ],
    }


def run_bench(thorough: bool = False, progress: ProgressFn | None = None) -> dict[str, Any]:
    """Measure and identify this machine; the bench result as a JSON-ready dict."""
    from nestprobe.assess.identity import assess_cpu, assess_hypervisor
    from nestprobe.assess.nesting import assess_nesting
    from nestprobe.sources.live import live_snapshot

    snapshot = live_snapshot(timing=False)
    raw = collect(BENCH_THOROUGH if thorough else BENCH, progress=progress)
    if raw is not None:
        snapshot = replace(snapshot, latency=summarise(raw))
    cpu = assess_cpu(snapshot)
    hypervisor = assess_hypervisor(snapshot)
    nesting = assess_nesting(snapshot, hypervisor)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": f"nestprobe {VERSION}",
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"arch": snapshot.os.machine, "system": snapshot.os.system,
                    "node": platform.node(), "python": platform.python_version(),
                    "cpuid_status": snapshot.cpuid_status},
        "cpu": {"vendor": cpu.vendor, "brand": cpu.brand, "family": cpu.family,
                "model": cpu.model},
        "hypervisor": {"vendor": hypervisor.vendor, "product": hypervisor.product,
                       "partition": hypervisor.partition, "emulated": hypervisor.emulated},
        "level": {"level": nesting.level, "at_least": nesting.at_least,
                  "likely": nesting.likely, "confidence": nesting.confidence,
                  "evidence": [e.to_dict() for e in nesting.evidence]},
        "latency": latency_section(raw) if raw is not None else None,
    }


class BenchFormatError(ValueError):
    """A file is not a bench result this version can read."""


def load_result(path: str | Path) -> dict[str, Any]:
    """Read a bench result; BenchFormatError (a ValueError) if it is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BenchFormatError(f"{path}: not readable as JSON ({exc})") from exc
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise BenchFormatError(f"{path}: not a nestprobe bench result (schema_version 1)")
    for key in ("machine", "cpu", "hypervisor", "level"):
        if not isinstance(data.get(key), dict):
            raise BenchFormatError(f"{path}: missing object {key!r}")
    return data


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def _leaf_p10(result: Mapping[str, Any], leaf: str, unit: str) -> str:
    latency = result.get("latency")
    if not isinstance(latency, dict):
        return "-"
    dist = latency.get("leaves", {}).get(leaf)
    if not isinstance(dist, dict) or not isinstance(dist.get(unit), dict):
        return "-"
    value = dist[unit].get("p10")
    return "-" if value is None else f"{value:,.0f}"


def compare_table(results: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """Several results side by side: one Markdown column per result."""
    leaves = sorted({leaf for _, r in results if isinstance(r.get("latency"), dict)
                     for leaf in r["latency"].get("leaves", {})}, key=lambda x: int(x, 16))
    rows: list[tuple[str, list[str]]] = [
        ("machine", [_cell(r["machine"].get("arch")) for _, r in results]),
        ("cpu", [_cell(r["cpu"].get("brand") or r["cpu"].get("vendor")) for _, r in results]),
        ("hypervisor", [_cell(r["hypervisor"].get("vendor")) for _, r in results]),
        ("level", [_cell(r["level"].get("level")) for _, r in results]),
        ("at least", [_cell(r["level"].get("at_least")) for _, r in results]),
        ("likely", [f"{_cell(r['level'].get('likely'))} ({r['level'].get('confidence')})"
                    for _, r in results]),
    ]
    for leaf in leaves:
        rows.append((f"CPUID {leaf} p10 ticks", [_leaf_p10(r, leaf, "ticks") for _, r in results]))
        rows.append((f"CPUID {leaf} p10 ns", [_leaf_p10(r, leaf, "ns") for _, r in results]))
    bands = []
    for _, r in results:
        found = [e["value"] for e in r["level"].get("evidence", []) if e.get("source") ==
                 "timing:band"]
        bands.append(_cell(found[0] if found else None))
    rows.append(("band", bands))
    header = "| | " + " | ".join(name for name, _ in results) + " |"
    rule = "|---|" + "---|" * len(results)
    body = ["| " + label + " | " + " | ".join(cells) + " |" for label, cells in rows]
    return "\n".join([header, rule, *body]) + "\n"


def plot(results: Sequence[tuple[str, Mapping[str, Any]]], out: str | Path) -> None:
    """Every result's per-leaf histograms in one figure; needs matplotlib (ImportError)."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never a display
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(9, 5))
    for name, result in results:
        latency = result.get("latency")
        if not isinstance(latency, dict):
            continue
        for leaf, dist in latency.get("leaves", {}).items():
            hist = dist["histogram"]
            edges = [hist["start"] + i * hist["bin_ticks"] for i in range(len(hist["counts"]))]
            axes.step(edges, hist["counts"], where="post", label=f"{name} CPUID {leaf}")
    axes.set_xlabel("TSC ticks per CPUID (bracket included)")
    axes.set_ylabel("samples")
    axes.set_title("CPUID exit latency")
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(str(out))
    plt.close(figure)
