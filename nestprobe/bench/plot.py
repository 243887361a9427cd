"""``bench compare --plot``: one picture a newcomer can read (matplotlib, the ``plot`` extra).

One panel per metric: each run's distribution as an ECDF (share of samples at or below
a cost) on a log cost axis, one colour per run, with the run's estimate marked. The
CPUID panels shade the published exit-latency bands (timing/bands.py). A legend panel
names every run with its assessed hypervisor and nesting level and says how to read the
curves; a summary panel shows every run's ratio to run 1 with its batch interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from nestprobe.bench.compare import Row, Run, hypervisor_text, level_text, number, rows
from nestprobe.bench.plan import METRICS, Metric
from nestprobe.pipeline import latency_bands

#: Colour-blind-safe qualitative palette (Okabe & Ito, "Color Universal Design", 2008).
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#F0E442")
BAND_SHADES = ("#f2f2f2", "#e3e3e3")
#: Ratios below this are drawn at the ratio panel's left edge, with their value.
RATIO_FLOOR = 0.01
#: A panel's cost axis spans at least this factor, so near-equal runs stay legible.
MIN_SPAN = 4.0


def colour(index: int) -> str:
    return COLOURS[index % len(COLOURS)]


def legend_label(index: int, run: Run) -> str:
    """``1. name`` then the assessment: what the legend and tests read."""
    return f"{index}. {run.name} — {hypervisor_text(run.result)}, {level_text(run.result)}"


def _unit_scale(result: dict[str, Any], ns: bool) -> float:
    hz = result["clock"].get("tsc_hz")
    return 1e9 / hz if ns and hz else 1.0


def _shade_bands(axes: Any, ns: bool) -> None:
    """The published CPUID bands, converted to ns at the reference TSC rate."""
    if not ns:
        return
    low, high = axes.get_xlim()
    bands, reference_hz = latency_bands()
    for i, band in enumerate(bands):
        start = max(band.low * 1e9 / reference_hz, low)
        end = high if band.high is None else min(band.high * 1e9 / reference_hz, high)
        if end <= start:
            continue
        axes.axvspan(start, end, color=BAND_SHADES[i % 2], zorder=0, lw=0)
        axes.text((start * end) ** 0.5, 0.97, band.name, fontsize=7, color="#555555",
                  ha="center", va="top", zorder=1, rotation=90)
    axes.set_xlim(low, high)


def _log_axis(axes: Any, low: float, high: float) -> None:
    """A log axis from ``low`` to ``high`` labelled with plain numbers; denser ticks on
    short spans, so every panel shows a few labels and none collide."""
    import math

    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    decades = math.log10(high / low)
    subs = (1.0, 1.5, 2.0, 3.0, 5.0, 7.0) if decades <= 1 else (
        (1.0, 2.0, 5.0) if decades <= 2 else (1.0,))
    axes.set_xscale("log")
    axes.set_xlim(low, high)
    axes.xaxis.set_major_locator(LogLocator(base=10, subs=subs))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: number(v)))
    axes.xaxis.set_minor_formatter(NullFormatter())


def _limits(curves: Sequence[Sequence[float]]) -> tuple[float, float]:
    """From the lowest positive p1 to the highest p99, padded, at least MIN_SPAN wide.

    Costs at or below zero (a run whose operation is as cheap as the empty bracket, such
    as CPUID under an emulator) sit at the left edge.
    """
    positive = [v for c in curves for v in c if v > 0]
    if not positive:
        return 1.0, MIN_SPAN
    lows = [c[1] for c in curves if c[1] > 0]
    low = (min(lows) if lows else min(positive)) / 1.3
    high = max(max(c[99] for c in curves) * 1.3, low)
    if high / low < MIN_SPAN:
        centre = (low * high) ** 0.5
        low, high = centre / MIN_SPAN**0.5, centre * MIN_SPAN**0.5
    return low, high


def _panel(axes: Any, metric: Metric, runs: Sequence[Run], ns: bool, first: bool) -> None:
    drawn = []
    for index, run in enumerate(runs):
        entry = run.result["metrics"].get(metric.name)
        if not isinstance(entry, dict) or entry.get("status") != "ok":
            continue
        scale = _unit_scale(dict(run.result), ns)
        values = [v * scale for v in entry["quantiles_ticks"]]
        drawn.append((index, values, entry["ticks"]["estimate"] * scale))
    axes.set_title(metric.title, fontsize=10)
    if not any(v > 0 for _, values, _ in drawn for v in values):
        axes.text(0.5, 0.5, "no figures", ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return
    low, high = _limits([values for _, values, _ in drawn])
    at_edge = [str(index + 1) for index, _, estimate in drawn if estimate <= low]
    if at_edge:
        axes.text(0.02, 0.55, f"◀ run {', '.join(at_edge)}: at the timer's floor",
                  fontsize=7, transform=axes.transAxes, color="#333333", zorder=5)
    for index, values, estimate in drawn:
        xs = [max(v, low) for v in values]
        ys = [i / (len(xs) - 1) for i in range(len(xs))]
        axes.step(xs, ys, where="post", color=colour(index), lw=1.8, zorder=3)
        axes.plot([max(estimate, low)], [0.1], marker="o", ms=6, color=colour(index),
                  zorder=4, markeredgecolor="white")
    _log_axis(axes, low, high)
    axes.set_ylim(0, 1)
    axes.set_yticks([0, 0.5, 1])
    axes.grid(True, which="major", axis="x", color="#cccccc", lw=0.5, zorder=0)
    unit = "ns" if ns else "TSC ticks"
    axes.set_xlabel(f"{unit} per {metric.op} (log scale)", fontsize=9)
    if first:
        axes.set_ylabel("share of samples", fontsize=9)
    axes.tick_params(labelsize=8)
    if metric.group == "exit":
        _shade_bands(axes, ns)


def _legend_panel(axes: Any, runs: Sequence[Run]) -> None:
    from matplotlib.lines import Line2D

    axes.set_axis_off()
    handles = [Line2D([0], [0], color=colour(i), lw=3) for i in range(len(runs))]
    labels = [legend_label(i, run) for i, run in enumerate(runs, 1)]
    axes.legend(handles, labels, loc="upper left", fontsize=9, frameon=False,
                title="Runs (hypervisor, nesting level as assessed)",
                title_fontproperties={"weight": "bold", "size": 9})
    axes.text(0, 0.02,
              "How to read a panel: each curve is one run's samples,\n"
              "sorted: the height at a cost is the share of samples\n"
              "that cost at most that. Further right = slower.\n"
              "Dot: the run's figure (min over batches of the p10).\n"
              "Costs are per operation, net of the timer; the\n"
              "axis ends just past the slowest run's p99.\n"
              "Grey bands (CPUID panels): published exit costs\n"
              "for bare metal, one level (L1), nested (L2).",
              fontsize=8, va="bottom", ha="left", transform=axes.transAxes, color="#333333")


def _ratio_panel(axes: Any, table: Sequence[Row], runs: Sequence[Run]) -> None:
    """Every run's ratio to run 1 per metric, with its batch interval, on a log axis.

    A ratio near zero (the run's operation costs hardly more than the empty bracket, e.g.
    CPUID under an emulator, which does not exit) would stretch a log axis over decades
    of nothing: below RATIO_FLOOR it is drawn as a left-pointing marker at the edge.
    """
    if len(runs) < 2:
        axes.set_axis_off()
        axes.text(0.5, 0.5, "one run: no ratios to show", ha="center", va="center",
                  transform=axes.transAxes)
        return
    n_others = len(runs) - 1
    points = [(y, k, cell.ratio, cell.status) for y, row in enumerate(reversed(table))
              for k, cell in enumerate(row.cells[1:], 1) if cell.ratio is not None]
    shown = [v for _, _, r, _ in points for v in (r.low, r.value, r.high) if v >= RATIO_FLOOR]
    low = min([*shown, 1.0]) / 1.4
    high = max([*shown, 1.0]) * 2.0
    for y, k, r, status in points:
        at = y + (k - (n_others + 1) / 2) * 0.8 / n_others
        note = "" if status in ("ok", "absent") else f" ({status})"
        if r.value < RATIO_FLOOR:
            text = "≈0×" if r.value <= 0 else f"{r.value:.1g}×"
            axes.plot([low * 1.08], [at], marker="<", ms=7, color=colour(k), zorder=3)
            axes.annotate(text, (low * 1.08, at), xytext=(6, 0), textcoords="offset points",
                          fontsize=7, va="center", color=colour(k))
            continue
        lo, hi = max(r.low, low), r.high
        axes.errorbar([r.value], [at], xerr=[[r.value - lo], [hi - r.value]], fmt="o",
                      color=colour(k), ms=5, capsize=3, lw=1.4, zorder=3)
        axes.annotate(f"{r.value:.2f}×{note}", (hi, at), xytext=(4, 0), textcoords="offset points",
                      fontsize=7, va="center", color=colour(k))
    axes.axvline(1.0, color=colour(0), ls="--", lw=1.2, zorder=2)
    axes.set_yticks(range(len(table)))
    axes.set_yticklabels([row.title for row in reversed(table)], fontsize=8)
    axes.set_ylim(-0.6, len(table) - 0.4)
    _log_axis(axes, low, high)
    axes.grid(True, which="major", axis="x", color="#dddddd", lw=0.5)
    axes.tick_params(axis="x", labelsize=8)
    axes.set_xlabel(f"ratio to run 1 ({runs[0].name}, dashed line; log scale); bars: every "
                    "batch of the run against every batch of run 1", fontsize=9)
    axes.set_title("How much each run costs relative to run 1", fontsize=10, weight="bold")


def plot(runs: Sequence[Run], out: str | Path | IO[bytes], fmt: str | None = None) -> None:
    """Draw ``runs`` to ``out``: a path (the format by its suffix) or a binary stream in
    format ``fmt`` (``png``, ``svg``, ...)."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never a display
    import matplotlib.pyplot as plt

    # SVG keeps its words as text (searchable, smaller) rather than glyph outlines.
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        _draw(plt, runs, out, fmt)


def _draw(plt: Any, runs: Sequence[Run], out: str | Path | IO[bytes], fmt: str | None) -> None:
    table = rows(runs)
    ns = table[0].unit.startswith("ns")
    figure = plt.figure(figsize=(13, 13.5), dpi=80, layout="constrained")
    grid = figure.add_gridspec(4, 3, height_ratios=[1, 1, 1, 1.35])
    cells = [(r, c) for r in range(3) for c in range(3)]
    for metric, (r, c) in zip(METRICS, cells, strict=False):
        _panel(figure.add_subplot(grid[r, c]), metric, runs, ns, first=c == 0)
    _legend_panel(figure.add_subplot(grid[2, 2]), runs)
    _ratio_panel(figure.add_subplot(grid[3, :]), table, runs)
    figure.suptitle("nestprobe bench: what each nesting level costs", fontsize=14,
                    weight="bold")
    figure.savefig(out if hasattr(out, "write") else str(out), format=fmt)
    plt.close(figure)
