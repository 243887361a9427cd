"""Shared helpers for the bench scripts: paired process timing and Markdown tables.

Figures are printed, never asserted: this machine is noisy, so every comparison is a
ratio measured within one run, with A and B alternated pair by pair.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable


def env() -> dict[str, str]:
    """Child environment that imports this checkout's nestprobe."""
    child = dict(os.environ)
    child["PYTHONPATH"] = str(REPO) + os.pathsep + child.get("PYTHONPATH", "")
    return child


def run_once(cmd: Sequence[str]) -> tuple[float, int]:
    """Wall time of one process start-to-exit in ms, and its exit code."""
    start = time.perf_counter_ns()
    done = subprocess.run(list(cmd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          env=env(), check=False)
    return (time.perf_counter_ns() - start) / 1e6, done.returncode


def paired(a: Sequence[str], b: Sequence[str], n: int = 20, warmup: int = 2
           ) -> tuple[list[float], list[float], list[float], int, int]:
    """Alternate A and B ``n`` times: (A ms, B ms, A/B ratios, A exit, B exit)."""
    for _ in range(warmup):
        run_once(a)
        run_once(b)
    times_a: list[float] = []
    times_b: list[float] = []
    ratios: list[float] = []
    code_a = code_b = 0
    for _ in range(n):
        ta, code_a = run_once(a)
        tb, code_b = run_once(b)
        times_a.append(ta)
        times_b.append(tb)
        ratios.append(ta / tb)
    return times_a, times_b, ratios, code_a, code_b


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


def has_module(name: str) -> bool:
    done = subprocess.run([PY, "-c", f"import {name}"], capture_output=True, check=False)
    return done.returncode == 0


def med(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float]) -> str:
    return f"{med(values):.1f} ({min(values):.1f}–{max(values):.1f})"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(ratio: float, target: float) -> str:
    if ratio <= target:
        return f"met ({ratio:.2f}x ≤ {target:.2f}x)"
    return f"missed by {ratio / target - 1:.0%} ({ratio:.2f}x > {target:.2f}x)"
