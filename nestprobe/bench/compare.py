"""Several bench results side by side: per metric, each run's figure and its ratio to run 1.

Runs keep the order they were given in; the first is the reference. Every run is named
by its label (or file name) and labelled with what nestprobe assessed about its machine:
the hypervisor and the nesting level. A ratio carries an interval from the batches, so
noise is visible: [min over this run's batches / max over run 1's, max / min].
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nestprobe.bench.plan import METRICS
from nestprobe.bench.result import TLB_RATIO
from nestprobe.bench.stats import Ratio, ratio


@dataclass(frozen=True, slots=True)
class Run:
    name: str
    result: Mapping[str, Any]


def run_from(path: str, result: Mapping[str, Any]) -> Run:
    """A run named by the result's label, else by its file name without ``.json``."""
    label = result.get("label")
    return Run(label if isinstance(label, str) and label else Path(path).stem, result)


def hypervisor_text(result: Mapping[str, Any]) -> str:
    hv = result["hypervisor"]
    vendor = hv.get("vendor")
    if not vendor:
        return "no hypervisor seen" if not hv.get("detected") else "unknown hypervisor"
    return f"{vendor} (emulated)" if hv.get("emulated") else str(vendor)


def level_text(result: Mapping[str, Any]) -> str:
    """``L1``, or ``L≥1, likely L2 (medium)`` when the evidence does not fix the level."""
    level = result["level"]
    if level.get("level") is not None:
        return f"L{level['level']} ({level.get('confidence')})"
    text = f"L≥{level.get('at_least')}"
    if level.get("likely") is not None and level["likely"] != level.get("at_least"):
        text += f", likely L{level['likely']} ({level.get('confidence')})"
    return text


def guest_text(result: Mapping[str, Any]) -> str:
    """``, its created guest emulated`` when the guest metrics say their guest ran emulated."""
    metrics = result.get("metrics", {})
    emulated = any(str(metrics.get(name, {}).get("title", "")).endswith("(emulated)")
                   for name in ("guest.io_exit", "guest.cpuid_exit"))
    return ", its created guest emulated" if emulated else ""


def run_title(index: int, run: Run) -> str:
    return (f"{index}. {run.name}: {hypervisor_text(run.result)}, {level_text(run.result)}"
            f"{guest_text(run.result)}")


def band_text(result: Mapping[str, Any]) -> str | None:
    for item in result["level"].get("evidence", []):
        if isinstance(item, dict) and item.get("source") == "timing:band":
            return str(item.get("value"))
    return None


@dataclass(frozen=True, slots=True)
class Cell:
    value: float | None  # in the row's unit; None when the run has no figure
    batches: tuple[float, ...]
    status: str  # the metric's status ("ok", "unsupported", "failed", "not-granted" ...)
    ratio: Ratio | None = None  # to run 1; None for run 1 and where no ratio exists


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    title: str
    unit: str
    cells: tuple[Cell, ...]


def _scale(result: Mapping[str, Any], ns: bool) -> float:
    hz = result["clock"].get("tsc_hz")
    return 1e9 / hz if ns and hz else 1.0


def _metric_cell(result: Mapping[str, Any], key: str, ns: bool) -> Cell:
    metric = result["metrics"].get(key)
    if not isinstance(metric, dict):
        return Cell(None, (), "absent")
    if metric.get("status") != "ok":
        return Cell(None, (), str(metric.get("status")))
    scale = _scale(result, ns)
    return Cell(metric["ticks"]["estimate"] * scale,
                tuple(v * scale for v in metric["batch_p10_ticks"]), "ok")


def _derived_cell(result: Mapping[str, Any]) -> Cell:
    entry = result["derived"].get(TLB_RATIO)
    if not isinstance(entry, dict) or entry.get("value") is None:
        status = entry.get("status", "absent") if isinstance(entry, dict) else "absent"
        return Cell(None, (), str(status))
    return Cell(float(entry["value"]), tuple(entry.get("batch_ratios", [])),
                str(entry.get("status")))


def _with_ratios(cells: list[Cell]) -> tuple[Cell, ...]:
    first = cells[0]
    out = [first]
    for cell in cells[1:]:
        r = None
        if first.value is not None and cell.value is not None:
            r = ratio(first.value, first.batches, cell.value, cell.batches)
        out.append(Cell(cell.value, cell.batches, cell.status, r))
    return tuple(out)


def rows(runs: Sequence[Run]) -> list[Row]:
    """One row per metric (ns per operation when every run knows its TSC rate, else
    ticks) and one for the derived 4 KiB / huge-page ratio."""
    ns = all(r.result["clock"].get("tsc_hz") for r in runs)
    unit = "ns" if ns else "ticks"
    out = []
    for metric in METRICS:
        cells = [_metric_cell(r.result, metric.name, ns) for r in runs]
        out.append(Row(metric.name, metric.title, f"{unit}/{metric.op}", _with_ratios(cells)))
    derived = [_derived_cell(r.result) for r in runs]
    out.append(Row(TLB_RATIO, "4 KiB / huge-page load", "×", _with_ratios(derived)))
    return out


def number(value: float) -> str:
    """Three significant figures or so, with thousands separators: 1,062 / 35.2 / 1.29."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 0.1 or value == 0:
        return f"{value:.2f}"
    return f"{value:.2g}"


def cell_text(cell: Cell) -> str:
    if cell.value is None:
        return cell.status
    text = number(cell.value) if cell.value > 0 else "0 (at the timer's floor)"
    if cell.status not in ("ok", "absent"):
        text += f" ({cell.status})"
    if cell.ratio is not None:
        r = cell.ratio
        text += f" ({r.value:.2f}× [{r.low:.2f}–{r.high:.2f}])"
    return text


def compare_table(runs: Sequence[Run]) -> str:
    """The Markdown table ``bench compare`` prints, with a key to reading it."""
    header = "| | " + " | ".join(f"{i}. {r.name}" for i, r in enumerate(runs, 1)) + " |"
    rule = "|---|" + "---|" * len(runs)
    facts = [
        ("hypervisor", [hypervisor_text(r.result) for r in runs]),
        ("nesting level", [level_text(r.result) for r in runs]),
        ("CPUID band", [band_text(r.result) or "-" for r in runs]),
        ("plan", [str(r.result["plan"].get("name")) for r in runs]),
        ("runner", [str(r.result.get("runner")) for r in runs]),
    ]
    lines = [header, rule]
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in facts]
    for row in rows(runs):
        lines.append(f"| {row.title} ({row.unit}) | "
                     + " | ".join(cell_text(c) for c in row.cells) + " |")
    key = [
        "",
        "Figures: net cost per operation, the minimum over batches of each batch's 10th "
        "percentile.",
        "(r× [lo–hi]): ratio to run 1, and the range over every pairing of this run's "
        "batches with run 1's.",
        *(run_title(i, r) for i, r in enumerate(runs, 1)),
    ]
    return "\n".join(lines + key) + "\n"


def summary_table(run: Run) -> str:
    """One run on its own: each metric's estimate, median and p99, and what it ran on."""
    doc = run.result
    ns = bool(doc["clock"].get("tsc_hz"))
    unit = "ns" if ns else "ticks"
    scale = 1e9 / doc["clock"]["tsc_hz"] if ns else 1.0
    lines = [
        f"{run.name}: {hypervisor_text(doc)}, {level_text(doc)}{guest_text(doc)}"
        f" (CPUID band {band_text(doc) or '-'}), plan {doc['plan'].get('name')}",
        "",
        f"| metric | {unit} per | estimate | median | p99 |",
        "|---|---|---|---|---|",
    ]
    for metric in METRICS:
        entry = doc["metrics"].get(metric.name, {})
        if entry.get("status") != "ok":
            lines.append(f"| {metric.title} | {metric.op} | {entry.get('status', 'absent')}"
                         f" | | |")
            continue
        figures = entry["ticks"]
        cells = [number(figures[k] * scale) if figures[k] > 0 else "0"
                 for k in ("estimate", "median", "p99")]
        lines.append(f"| {entry.get('title', metric.title)} | {metric.op} | "
                     + " | ".join(cells) + " |")
    derived = doc["derived"].get(TLB_RATIO, {})
    value = derived.get("value")
    interval = derived.get("interval") or [None, None]
    ratio_text = "-" if value is None else (
        f"{value:.2f}× (batches {interval[0]:.2f}–{interval[1]:.2f})")
    if derived.get("status") not in (None, "ok"):
        ratio_text += f", {derived.get('status')}: {derived.get('detail')}"
    lines += ["", f"4 KiB / huge-page load: {ratio_text}",
              "estimate: min over batches of each batch's p10; all figures net of the timer."]
    return "\n".join(lines) + "\n"
