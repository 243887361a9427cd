"""Run every bench script in one go and print one Markdown document.

Usage: make -C csrc nestprobe-dump && python bench/run_all.py [-n 15] > bench/RESULTS.md
Each comparison script builds one fresh virtualenv (``pip install .``, not editable), shared
by the scripts of this run. Figures only: nothing here passes or fails on time.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import subprocess
import sys
from pathlib import Path

from common import temporary_dir

HERE = Path(__file__).resolve().parent


def run(script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(HERE / script), *args], capture_output=True,
                          text=True, check=False)
    return done.stdout + (f"\n(exit {done.returncode}: {done.stderr[-2000:]})\n"
                          if done.returncode else "")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=15, help="rounds of the process comparison")
    parser.add_argument("--fleet", action="store_true", help="also the fleet throughput")
    args = parser.parse_args()
    # the standalone dumper is a build product others may clean: build it if missing
    subprocess.run(["make", "-s", "-C", str(HERE.parent / "csrc"), "nestprobe-dump"],
                   check=False, stdout=subprocess.DEVNULL)
    venv = str(temporary_dir("nestprobe-bench-venv."))  # removed when this run ends
    stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    print(f"# nestprobe bench — {platform.node()} {platform.machine()}, "
          f"Python {platform.python_version()}, {stamp}\n")
    print(f"Reproduce: `make -C csrc nestprobe-dump && python bench/run_all.py -n {args.n}`\n")
    print("## 1. Whole processes (one alternated run)\n")
    print(run("processes.py", "-n", str(args.n), "--venv", venv))
    print("## 2. In-process probe against its floor\n")
    print(run("probe_overhead.py", "--venv", venv))
    print("## 3. Level-estimate stability with the other core busy\n")
    print(run("stability.py"))
    print("## 4. Import cost of the cold CLI\n")
    print(run("import_cost.py"))
    if args.fleet:
        print("## 5. Fleet throughput\n")
        print(run("fleet_throughput.py", "--venv", venv))


if __name__ == "__main__":
    main()
