"""Run every bench script in one go and print one Markdown document.

Usage: make -C csrc nestprobe-dump && python setup.py build_ext --inplace &&
       python bench/run_all.py [-n 20] > bench/RESULTS.md
Figures only: nothing here passes or fails on time.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import import_cost
import probe_overhead
import processes
import stability


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=20, help="pairs per process comparison")
    args = parser.parse_args()
    # the standalone dumper is a build product others may clean: build it if missing
    subprocess.run(["make", "-s", "-C", str(processes.REPO / "csrc"), "nestprobe-dump"],
                   check=False, stdout=subprocess.DEVNULL)
    stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    print(f"# nestprobe bench — {platform.node()} {platform.machine()}, "
          f"Python {platform.python_version()}, {stamp}\n")
    print("Reproduce: `make -C csrc nestprobe-dump && python setup.py build_ext --inplace && "
          f"python bench/run_all.py -n {args.n}`\n")
    print("## 1. In-process probe against its floor\n")
    print(probe_overhead.main([]))
    print("## 2. Whole processes\n")
    print(processes.main(["-n", str(args.n)]))
    print("## 3. Level-estimate stability with the other core busy\n")
    print(stability.main([]))
    print("## 4. Import cost of the cold CLI\n")
    print(import_cost.main([]))


if __name__ == "__main__":
    main()
