"""In-process probe cost against its floor, from a clean install.

Floor of ``probe(timing=False)`` = the CPUIDs it executes x one CPUID's median cost measured
in the same run (the walk's count is exact: the native enumeration is replayed against the
snapshot's own answers, incl. the 256-base hypervisor scan) + the OS facts' system calls,
timed bare in the same run (for every watched path the stat, open, reads and close the
probe makes; the /dev/kvm open, KVM_GET_API_VERSION, KVM_CREATE_VM and the two closes). With
timing on, the measurement's own CPUIDs and sleeps are added. Each part is listed against
its own floor, so the README's item-by-item list comes from the same run.

The script re-runs itself under a fresh virtualenv with ``pip install .`` (not editable)
and prints that environment with the load average.
Usage: python bench/probe_overhead.py [--rounds 30] [--venv DIR]
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import load, med, run_in_clean_env, spread, table, verdict

TARGET = 2.0


def interleaved(fns: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """ms per call of each function, the functions alternated call by call (one round runs
    each once), so a noisy moment on this shared machine lands on all of them."""
    for fn in fns.values():
        fn()  # warm: imports, first-touch
    out: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter_ns()
            fn()
            out[name].append((time.perf_counter_ns() - start) / 1e6)
    return out


def bare_os_syscalls(paths: list[str], kvm: bool) -> None:
    """The system calls ``collect_os_facts('/')`` makes, with nothing around them."""
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        try:
            fd = os.open(path, flags)
        except OSError:
            continue
        try:
            while os.read(fd, 65536):
                pass
        except OSError:
            pass
        os.close(fd)
    if kvm:
        import fcntl

        try:
            fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
        except OSError:
            return
        try:
            fcntl.ioctl(fd, 0xAE00, 0)
            os.close(fcntl.ioctl(fd, 0xAE01, 0))
        except OSError:
            pass
        os.close(fd)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--venv", help="reuse this clean venv")
    args = parser.parse_args(argv)

    import nestprobe
    from nestprobe import native
    from nestprobe.assess import assess
    from nestprobe.native import tablewalk
    from nestprobe.sources.latency import QUICK, collect, measure_latency, percentile
    from nestprobe.sources.live import live_snapshot
    from nestprobe.sources.osfacts import WATCHED_PATHS, collect_os_facts
    from nestprobe.verdicts.evaluate import evaluate

    snap = live_snapshot(timing=False)
    walk = tablewalk.enumerate_from_table(snap.cpuid, query_capacity=0).query_count
    timing_cpuids = QUICK.batches * (QUICK.warmup + QUICK.rounds) * len(QUICK.leaves) + 6
    sleeps_ms = (QUICK.batches - 1) * QUICK.gap_s * 1e3
    kvm = snap.os is not None and snap.os.kvm is not None and snap.os.kvm.state == "usable"
    assessment = assess(snap)

    runs = interleaved({
        "plain": lambda: nestprobe.probe(timing=False),
        "timed": nestprobe.probe,
        "enum": native.read_cpuid_table,
        "os": lambda: collect_os_facts("/"),
        "syscalls": lambda: bare_os_syscalls(list(WATCHED_PATHS), kvm),
        "assess": lambda: assess(snap),
        "verdicts": lambda: evaluate(assessment),
        "measure": measure_latency,
    }, args.rounds)
    plain, timed_runs, enum, os_facts, syscalls, assessing, verdicts, measure = (
        runs[k] for k in ("plain", "timed", "enum", "os", "syscalls", "assess", "verdicts",
                          "measure"))
    raw = collect()
    if raw is None or raw.tsc_hz is None:
        return "CPUID timing unavailable here: no floor to compare against\n"
    cpuid_ms = percentile(raw.all_cpuid(), 50) / raw.tsc_hz * 1e3
    cpuid_low_ms = percentile(raw.all_cpuid(), 10) / raw.tsc_hz * 1e3

    floor_cpuid = walk * cpuid_ms
    floor_os = med(syscalls)
    floor_plain = floor_cpuid + floor_os
    floor_measure = timing_cpuids * cpuid_ms + sleeps_ms
    # In probe() the quick timing's gaps are the probe's own steps (sources/live.py): no
    # sleep belongs to its floor, only the timing's CPUIDs.
    floor_timed = floor_plain + timing_cpuids * cpuid_ms
    # The quietest round against the quietest floor: on a shared machine the medians carry
    # other tenants' work, the minima much less of it.
    low_floor = walk * cpuid_low_ms + min(syscalls)
    rows = [
        ["**`probe(timing=False)`**", spread(plain), f"{floor_plain:.2f}",
         f"**{med(plain) / floor_plain:.2f}x**", verdict(med(plain) / floor_plain, TARGET)],
        ["  the same, quietest round vs quietest floor (min; p10 CPUID)", f"{min(plain):.1f}",
         f"{low_floor:.2f}", f"{min(plain) / low_floor:.2f}x", "–"],
        ["  part: native enumeration (`read_cpuid_table`)", spread(enum), f"{floor_cpuid:.2f}",
         f"{med(enum) / floor_cpuid:.2f}x", "–"],
        ["  part: OS facts (`collect_os_facts('/')`)", spread(os_facts), f"{floor_os:.2f}",
         f"{med(os_facts) / floor_os:.2f}x", "–"],
        ["  part: assessment (`assess(snapshot)`, pure Python)", spread(assessing), "0", "–",
         "–"],
        ["  part: verdicts (`evaluate(assessment)`, pure Python)", spread(verdicts), "0", "–",
         "–"],
        ["`probe()` (quick timing)", spread(timed_runs), f"{floor_timed:.2f}",
         f"{med(timed_runs) / floor_timed:.2f}x", "–"],
        ["  part: `measure_latency()` (quick)", spread(measure), f"{floor_measure:.2f}",
         f"{med(measure) / floor_measure:.2f}x", "–"],
    ]
    return (
        f"One CPUID here: median {cpuid_ms * 1e3:.2f} µs; the walk executes {walk} CPUIDs "
        f"({len(snap.cpuid)} recorded); the OS facts' bare system calls "
        f"({len(WATCHED_PATHS)} paths{', /dev/kvm with KVM_CREATE_VM' if kvm else ''}) "
        f"take {floor_os:.2f} ms; quick timing adds {timing_cpuids} CPUIDs (and, run alone "
        f"as `measure_latency()`, {sleeps_ms:.1f} ms of sleeps between its batches, which "
        f"in `probe()` its own steps fill). Times in ms, median (min–max) of {args.rounds}, "
        "every call alternated round by round.\n\n"
        + table(["call", "ms", "floor ms", "ratio", f"target ≤ {TARGET:g}x"], rows)
        + f"\n\nLoad average at the end: {load()}\n"
    )


if __name__ == "__main__":
    cli_args = sys.argv[1:]
    venv = None
    if "--venv" in cli_args:
        venv = cli_args[cli_args.index("--venv") + 1]
    run_in_clean_env(__file__, cli_args, venv)
    print(main(cli_args))
