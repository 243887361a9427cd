"""Throughput of ``nestprobe fleet``: how long the CLI takes over N dumps (default 10,000).

Inputs are made at bench time in a temporary directory, by replicating the corpus
(../shared/corpus/dumps, read in place, never kept): every copy is a real file, so the
run opens, reads and assesses N files. Two mixes:

* ``corpus``: the corpus files themselves, round-robin (all formats: cpuid -r, AIDA64,
  RJCP XML, IC Book Labs ... up to 181 KB each);
* ``dumper``: the same machines in nestprobe's own dump format, which is what the static
  dumper and ``nestprobe dump`` write, i.e. what a fleet collection produces.

Each mix is timed end to end (process start to exit, CSV to /dev/null) with the default
workers (one per available core) and with one, so the parallel speed-up is visible.
Figures only; nothing is asserted.

    python bench/fleet_throughput.py [-n 10000] [--mix corpus dumper] [--jobs 0 1]
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import PY, REPO, env

CORPUS = REPO.parent / "shared" / "corpus" / "dumps"


def _sources(mix: str) -> list[tuple[str, bytes]]:
    files = sorted(p for p in CORPUS.iterdir() if p.is_file())
    if mix == "corpus":
        return [(p.name, p.read_bytes()) for p in files]
    sys.path.insert(0, str(REPO))
    from nestprobe.sources.dumpfile import format_dump
    from nestprobe.sources.load import load_snapshot

    return [(p.name, format_dump(load_snapshot(str(p))).encode()) for p in files]


def make_inputs(directory: Path, mix: str, n: int) -> int:
    """Write ``n`` files (spread over sub-directories of 1,000) and return their bytes."""
    sources = _sources(mix)
    total = 0
    for i in range(n):
        name, data = sources[i % len(sources)]
        sub = directory / f"{i // 1000:03}"
        sub.mkdir(exist_ok=True)
        (sub / f"m{i:06}-{name}").write_bytes(data)
        total += len(data)
    return total


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_fleet(directory: Path, jobs: int) -> tuple[float, float, int, int]:
    """Wall and CPU seconds of ``nestprobe fleet DIR --format csv`` (its workers included),
    its exit code and the machines it assessed."""
    cmd = [PY, "-m", "nestprobe", "fleet", str(directory), "--format", "csv", "--jobs", str(jobs)]
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env(), check=False,
                          timeout=3600)
    wall = time.perf_counter() - start
    cpu = _children_cpu() - cpu
    rows = list(csv.DictReader(done.stdout.splitlines()))
    assessed = sum(1 for r in rows if not r["error"])
    return wall, cpu, done.returncode, assessed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=10_000, help="files per mix (default 10000)")
    parser.add_argument("--mix", nargs="+", default=["corpus", "dumper"],
                        choices=["corpus", "dumper"])
    parser.add_argument("--jobs", nargs="+", type=int, default=[0, 1],
                        help="worker counts to time (0 = one per available core)")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"corpus not found at {CORPUS}", file=sys.stderr)
        return 2
    cores = len(os.sched_getaffinity(0))
    print(f"nestprobe fleet throughput: {cores} cores available, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    print()
    print("| inputs | jobs | wall s | machines/s | CPU s (all processes) | CPU ms per machine "
          "| assessed |")
    print("|---|---|---|---|---|---|---|")
    for mix in args.mix:
        with tempfile.TemporaryDirectory(prefix="nestprobe-fleet-bench.") as tmp:
            size = make_inputs(Path(tmp), mix, args.n)
            for jobs in args.jobs:
                workers = jobs or cores
                wall, cpu, code, assessed = time_fleet(Path(tmp), jobs)
                label = f"{args.n:,} × {mix} ({size / args.n / 1024:.0f} KB avg)"
                print(f"| {label} | {workers} | {wall:.1f} | {args.n / wall:,.0f} | {cpu:.1f} | "
                      f"{cpu / args.n * 1000:.2f} | {assessed:,}"
                      f"{'' if code == 0 else f' (exit {code})'} |", flush=True)
    print()
    print(f"load average {os.getloadavg()[0]:.1f} at the end. Wall time counts other work on "
          "this machine too; CPU s is nestprobe's own (wall ≈ CPU s / cores on a quiet machine).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
