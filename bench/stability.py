"""Level-estimate stability under load: 20 quick measurements while the other core is busy.

A busy-loop subprocess is pinned to one CPU; the measurement pins itself to another
(its default, the highest allowed CPU, or the first CPU not busy). A quick measurement is
taken as ``nestprobe check`` takes it: inside the live probe begun in its own thread
(start_live_snapshot), its batches between the probe's own steps (sources/live.py), while
the caller reads the OS facts; ``--thorough`` measures
alone (measure_latency). Prints every estimate, the likely level each gives, and how many
agree with the most common answer (target >= 19/20).
Usage: python bench/stability.py [--runs 20] [--thorough] [--no-load]
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PY, table

from nestprobe.model.record import replace

BUSY = "while True: pass"


def start_load(cpu: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([PY, "-c", BUSY])
    os.sched_setaffinity(proc.pid, {cpu})
    return proc


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--thorough", action="store_true")
    parser.add_argument("--no-load", action="store_true")
    args = parser.parse_args(argv)

    from nestprobe.assess.bands import classify
    from nestprobe.assess.identity import assess_hypervisor
    from nestprobe.assess.nesting import assess_nesting
    from nestprobe.sources.latency import measure_latency
    from nestprobe.sources.live import live_snapshot, start_live_snapshot

    allowed = sorted(os.sched_getaffinity(0))
    measure_cpu = allowed[-1]
    busy_cpu = allowed[0] if len(allowed) > 1 else None
    load = None if args.no_load or busy_cpu is None else start_load(busy_cpu)
    snapshot = live_snapshot(timing=False)
    hypervisor = assess_hypervisor(snapshot)
    rows = []
    answers: collections.Counter[tuple[int | None, str]] = collections.Counter()
    try:
        for run in range(args.runs):
            record = (measure_latency(True, cpu=measure_cpu) if args.thorough
                      else start_live_snapshot(timing=True, cpu=measure_cpu)().latency)
            if record is None:
                return "CPUID timing unavailable here\n"
            nesting = assess_nesting(replace(snapshot, latency=record), hypervisor)
            call = classify(record)
            answers[(nesting.likely, nesting.confidence)] += 1
            rows.append([run + 1, f"{record.cpuid_ticks:,.0f}", f"{record.median_ticks:,.0f}",
                         f"{record.p99_ticks:,.0f}", call.band.name,
                         f"{nesting.likely} ({nesting.confidence})",
                         f"{(record.wall_ns or 0) / 1e6:.2f}"])
    finally:
        if load is not None:
            load.kill()
            load.wait()
    (top, count), = answers.most_common(1)
    ticks = sorted(float(r[1].replace(",", "")) for r in rows)
    spread_pct = (ticks[-1] - ticks[0]) / ticks[0] * 100
    head = (f"{args.runs} {'thorough' if args.thorough else 'quick'} measurements pinned to "
            f"CPU {measure_cpu}; busy loop on CPU {busy_cpu if load else 'none'}.\n"
            f"Agreement: {count}/{args.runs} give likely level {top[0]} ({top[1]}) "
            f"(target ≥ {args.runs - 1}/{args.runs}); estimate spread "
            f"{ticks[0]:,.0f}–{ticks[-1]:,.0f} ticks ({spread_pct:.1f} %).\n\n")
    return head + table(["run", "estimate", "median", "p99", "band", "likely", "wall ms"],
                        rows) + "\n"


if __name__ == "__main__":
    print(main())
