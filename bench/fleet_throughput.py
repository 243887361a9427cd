"""Throughput of ``nestprobe fleet`` from a clean install: N dump files (default 10,000)
and M ``nestprobe --json`` reports (default 100,000, what the Ansible role collects by
default), each measured end to end, with the peak memory.

Inputs are made at bench time in a temporary directory, every one a distinct real file:

* ``corpus``: the corpus dumps themselves (../shared/corpus/dumps, read in place, never
  kept), round-robin (all formats: cpuid -r, AIDA64, RJCP XML, IC Book Labs ... up to
  181 KB each);
* ``dumper``: the same machines in nestprobe's own dump format (what the static dumper and
  ``nestprobe dump`` write);
* ``json``: the same machines' ``nestprobe --json`` reports (the report of each dump),
  as hosts that assessed themselves send them.

Each run is ``nestprobe fleet DIR --format csv`` (CSV to a pipe that is read to its end),
process start to exit, with the default workers (one per available core). Printed per run:
wall time, machines per second, CPU of all its processes, the peak resident memory of its
largest process (``ru_maxrss``: the fleet process or a worker), and the load average
before and after: the machine is shared, and wall time counts the other work too.

The script re-runs itself under a fresh virtualenv with ``pip install .`` (not editable).
Usage: python bench/fleet_throughput.py [-n 10000] [--json-n 100000] [--mix corpus dumper
json] [--jobs 0] [--venv DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CLEAN_MARK, REPO, load, run_in_clean_env

CORPUS = REPO.parent / "shared" / "corpus" / "dumps"
#: Runs one command and prints, on its last stderr line, its children's peak RSS (KiB) and
#: CPU seconds: a wrapper per run, because RUSAGE_CHILDREN only ever grows.
WRAPPER = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
rows = done.stdout.count(b"\\n")
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(done.returncode, rows, use.ru_maxrss, use.ru_utime + use.ru_stime, file=sys.stderr)
"""


def _sources(mix: str) -> list[tuple[str, bytes]]:
    files = sorted(p for p in CORPUS.iterdir() if p.is_file())
    if mix == "corpus":
        return [(p.name, p.read_bytes()) for p in files]
    from nestprobe.sources.dumpfile import format_dump
    from nestprobe.sources.load import load_snapshot

    if mix == "dumper":
        return [(p.name, format_dump(load_snapshot(str(p))).encode()) for p in files]
    import nestprobe

    return [(p.name + ".json",
             json.dumps(nestprobe.report_to_dict(nestprobe.load(p)), indent=2).encode())
            for p in files]


def make_inputs(directory: Path, mix: str, n: int) -> int:
    """Write ``n`` files (spread over sub-directories of 1,000) and return their bytes."""
    sources = _sources(mix)
    total = 0
    for i in range(n):
        name, data = sources[i % len(sources)]
        sub = directory / f"{i // 1000:03}"
        if i % 1000 == 0:
            sub.mkdir(exist_ok=True)
        (sub / f"m{i:06}-{name}").write_bytes(data)
        total += len(data)
    return total


def time_fleet(nestprobe: str, directory: Path, jobs: int) -> dict[str, float]:
    cmd = [nestprobe, "fleet", str(directory), "--format", "csv", "--jobs", str(jobs)]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", WRAPPER, *cmd], capture_output=True,
                          text=True, check=False, timeout=7200)
    wall = time.perf_counter() - start
    code, rows, maxrss, cpu = done.stderr.strip().splitlines()[-1].split()
    return {"wall": wall, "code": int(code), "rows": int(rows) - 1, "rss_mib": int(maxrss) / 1024,
            "cpu": float(cpu)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=10_000, help="dump files (default 10000)")
    parser.add_argument("--json-n", type=int, default=100_000,
                        help="JSON reports (default 100000)")
    parser.add_argument("--mix", nargs="+", default=["corpus", "dumper", "json"],
                        choices=["corpus", "dumper", "json"])
    parser.add_argument("--jobs", nargs="+", type=int, default=[0],
                        help="worker counts to time (0 = one per available core)")
    parser.add_argument("--venv", help="reuse this clean venv")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"corpus not found at {CORPUS}", file=sys.stderr)
        return 2
    nestprobe = str(Path(os.environ[CLEAN_MARK]) / "bin" / "nestprobe")
    cores = len(os.sched_getaffinity(0))
    print(f"nestprobe fleet throughput: {cores} cores available; {nestprobe}")
    print()
    print("| inputs | jobs | wall s | machines/s | CPU s (all processes) | CPU ms per machine "
          "| peak RSS, largest process | rows | load average before → after |")
    print("|---|---|---|---|---|---|---|---|---|")
    for mix in args.mix:
        n = args.json_n if mix == "json" else args.n
        with tempfile.TemporaryDirectory(prefix="nestprobe-fleet-bench.") as tmp:
            size = make_inputs(Path(tmp), mix, n)
            for jobs in args.jobs:
                before = load().split(" (")[0]
                got = time_fleet(nestprobe, Path(tmp), jobs)
                after = load().split(" (")[0]
                label = f"{n:,} × {mix} ({size / n / 1024:.0f} KB avg)"
                code = "" if got["code"] == 0 else f" (exit {got['code']:.0f})"
                print(f"| {label} | {jobs or cores} | {got['wall']:.1f} | "
                      f"{n / got['wall']:,.0f} | {got['cpu']:.1f} | "
                      f"{got['cpu'] / n * 1000:.2f} | {got['rss_mib']:.0f} MiB | "
                      f"{got['rows']:,.0f}{code} | {before} → {after} |", flush=True)
    print()
    print("Wall time counts other work on this machine too; CPU s is nestprobe's own "
          "(wall ≈ CPU s / cores on a quiet machine).")
    return 0


if __name__ == "__main__":
    cli_args = sys.argv[1:]
    venv = cli_args[cli_args.index("--venv") + 1] if "--venv" in cli_args else None
    run_in_clean_env(__file__, cli_args, venv)
    sys.exit(main())
