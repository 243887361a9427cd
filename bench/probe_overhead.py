"""In-process probe cost against its floor: the CPUIDs it executes times one CPUID's cost.

Floor = (CPUIDs of the native enumeration, counted exactly by replaying the walk against
the snapshot's own answers, incl. the 256-base hypervisor scan) x the median CPUID cost
measured in the same run; with timing on, plus the measurement's own CPUIDs and sleeps.
Usage: python bench/probe_overhead.py [--rounds N]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import med, spread, table, verdict


def timed(fn: Callable[[], object], rounds: int) -> list[float]:
    fn()  # warm: imports, first-touch
    out = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        fn()
        out.append((time.perf_counter_ns() - start) / 1e6)
    return out


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)

    import nestprobe
    from nestprobe import native
    from nestprobe.sources.latency import QUICK, collect, measure_latency, percentile
    from nestprobe.sources.live import live_snapshot
    from nestprobe.sources.osfacts import collect_os_facts

    try:
        from nestprobe.pipeline import build_report
    except ImportError:
        build_report = None

    try:
        nestprobe.probe(timing=False)

        def probe_plain() -> object:
            return nestprobe.probe(timing=False)

        def probe_timed() -> object:
            return nestprobe.probe()

        what = "nestprobe.probe"
    except ImportError:  # the integrator's pipeline not complete yet
        def probe_plain() -> object:
            return live_snapshot(timing=False)

        def probe_timed() -> object:
            return live_snapshot()

        what = "live_snapshot"

    snap = live_snapshot(timing=False)
    walk = native.enumerate_from_table(snap.cpuid, query_capacity=0).query_count
    timing_cpuids = QUICK.batches * (QUICK.warmup + QUICK.rounds) * len(QUICK.leaves) + 6
    sleeps_ms = (QUICK.batches - 1) * QUICK.gap_s * 1e3

    plain = timed(probe_plain, args.rounds)
    timed_runs = timed(probe_timed, args.rounds)
    enum = timed(native.read_cpuid_table, args.rounds)
    os_facts = timed(lambda: collect_os_facts("/"), args.rounds)
    measure = timed(measure_latency, args.rounds)
    report = timed(lambda: build_report(snap), args.rounds) if build_report else None
    raw = collect()
    if raw is None or raw.tsc_hz is None:
        return "CPUID timing unavailable here: no floor to compare against\n"
    cpuid_ms = percentile(raw.all_cpuid(), 50) / raw.tsc_hz * 1e3

    floor_plain = walk * cpuid_ms
    floor_timed = (walk + timing_cpuids) * cpuid_ms + sleeps_ms
    floor_measure = timing_cpuids * cpuid_ms + sleeps_ms
    rows = [
        ["native enumeration alone (`read_cpuid_table`)", spread(enum), f"{floor_plain:.2f}",
         f"{med(enum) / floor_plain:.2f}x", "–"],
        [f"`{what}(timing=False)`", spread(plain), f"{floor_plain:.2f}",
         f"{med(plain) / floor_plain:.2f}x", verdict(med(plain) / floor_plain, 1.3)],
        [f"`{what}()` (quick timing)", spread(timed_runs), f"{floor_timed:.2f}",
         f"{med(timed_runs) / floor_timed:.2f}x", verdict(med(timed_runs) / floor_timed, 1.3)],
        ["  part: `measure_latency()` (quick)", spread(measure), f"{floor_measure:.2f}",
         f"{med(measure) / floor_measure:.2f}x", "–"],
        ["  part: `collect_os_facts('/')` (files, /dev/kvm)", spread(os_facts), "0 CPUIDs", "–",
         "–"],
    ]
    if report is not None:
        rows.append(["  part: `build_report(snapshot)` (pure Python)", spread(report),
                     "0 CPUIDs", "–", "–"])
    return (
        f"One CPUID here: median {cpuid_ms * 1e3:.2f} µs; the walk executes {walk} CPUIDs "
        f"({len(snap.cpuid)} recorded); quick timing adds {timing_cpuids} CPUIDs and "
        f"{sleeps_ms:.1f} ms of sleeps. Times in ms, median (min–max) of {args.rounds}.\n\n"
        + table(["call", "ms", "floor ms", "ratio", "target ≤ 1.3x"], rows) + "\n"
    )


if __name__ == "__main__":
    print(main())
