"""Shared helpers for the bench scripts: a clean install to measure, paired process timing
and Markdown tables.

Figures are printed, never asserted: this machine is noisy, so every comparison is a
ratio measured within one run, with A and B alternated pair by pair.

A figure counts only from what a user gets: ``pip install .`` (not editable) into a fresh
virtualenv. A development virtualenv runs ``.pth`` hooks at every interpreter start
(``__editable___*_finder``, ...), which slows ``python -c pass`` and flatters every ratio
against it; :func:`clean_env` builds the environment the scripts measure instead.
"""

from __future__ import annotations

import atexit
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple, TypeVar

T = TypeVar("T")

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable


def env() -> dict[str, str]:
    """Child environment that imports this checkout's nestprobe."""
    child = dict(os.environ)
    child["PYTHONPATH"] = str(REPO) + os.pathsep + child.get("PYTHONPATH", "")
    return child


class CleanEnv(NamedTuple):
    """A fresh virtualenv with this checkout installed as a user installs it."""

    root: Path
    python: str  # the venv's interpreter
    bin: Path  # its scripts (``nestprobe`` is the console script pip wrote)

    def script(self, name: str) -> str:
        return str(self.bin / name)


def clean_child_env() -> dict[str, str]:
    """The environment for timed children: no PYTHONPATH, no active virtualenv, no
    PYTHON* switches that would change what an interpreter start does."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("PYTHON") and k not in ("VIRTUAL_ENV", "__PYVENV_LAUNCHER__")}


def clean_env(root: str | os.PathLike[str] | None = None, extra: Sequence[str] = (),
              source: str | os.PathLike[str] = REPO) -> CleanEnv:
    """``python -m venv`` + ``pip install .`` (not editable) of this checkout (or of the
    tree ``source``), plus the PyPI packages in ``extra`` (peers timed with the same
    interpreter). ``root``: reuse a venv
    made by an earlier call as it is (not reinstalled: after changing the code, pass a new
    directory); a directory without a venv gets a new one there; default a new temporary one."""
    if root is not None and (Path(root) / "bin" / "python").exists():
        made = CleanEnv(Path(root), str(Path(root) / "bin" / "python"), Path(root) / "bin")
    else:
        path = Path(root) if root is not None else temporary_dir("nestprobe-bench-venv.")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(path)], check=True,
                       env=clean_child_env())
        made = CleanEnv(path, str(path / "bin" / "python"), path / "bin")
        pip = [made.python, "-m", "pip", "install", "--quiet", "--no-input",
               "--disable-pip-version-check"]
        # pip builds a wheel of the tree and installs it: nothing points back at the tree.
        subprocess.run([*pip, str(source)], check=True, env=clean_child_env(),
                       cwd=tempfile.gettempdir())
        wanted = [p for p in extra if p]
        if wanted:  # a peer that cannot be installed is reported missing, not fatal
            subprocess.run([*pip, *wanted], check=False, env=clean_child_env(),
                           stderr=subprocess.DEVNULL)
    where = subprocess.run([made.python, "-c", "import nestprobe; print(nestprobe.__file__)"],
                           capture_output=True, text=True, check=True, env=clean_child_env(),
                           cwd=tempfile.gettempdir()).stdout.strip()
    if not Path(where).resolve().is_relative_to(made.root.resolve()):
        raise RuntimeError(f"{made.python} imports nestprobe from {where}, not its own install")
    return made


def rotated(items: Sequence[T], index: int) -> list[T]:
    """``items`` starting at ``index`` (modulo their count) and wrapping round: round
    ``index``'s order, so every item takes every place in turn."""
    if not items:
        return []
    at = index % len(items)
    return [*items[at:], *items[:at]]


def temporary_dir(prefix: str) -> Path:
    """A new directory under the temporary folder, removed when this process exits (a
    bench run leaves no venvs behind)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


#: Set in a script re-run by :func:`run_in_clean_env`: the venv it runs in.
CLEAN_MARK = "NESTPROBE_BENCH_CLEAN_VENV"
#: Set with it when that venv is a temporary one, which the re-run script removes at exit
#: (the process that made it became the script: exec runs no exit handlers).
TEMPORARY_MARK = "NESTPROBE_BENCH_TEMPORARY_VENV"


def run_in_clean_env(script: str, argv: Sequence[str], venv: str | None = None) -> None:
    """Re-run ``script`` under a clean install's interpreter (in-process benchmarks),
    unless this already is that run. Prints the environment first. Never returns when it
    re-runs."""
    if os.environ.get(CLEAN_MARK):
        if os.environ.get(TEMPORARY_MARK):
            atexit.register(shutil.rmtree, os.environ[CLEAN_MARK], ignore_errors=True)
        return
    clean = clean_env(venv)
    print(describe(clean), flush=True)
    print(flush=True)
    child = clean_child_env()
    child[CLEAN_MARK] = str(clean.root)
    if venv is None:
        child[TEMPORARY_MARK] = "1"
    # the bench directory is the script's own (sys.path[0]); the checkout is not on the path
    os.execve(clean.python, [clean.python, script, *argv], child)


def describe(clean: CleanEnv) -> str:
    """What was measured, on what: printed above every table."""
    made_py = clean.python
    site = subprocess.run([made_py, "-c", "import site; print(site.getsitepackages()[0])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    pth = sorted(p.name for p in Path(site).glob("*.pth"))
    freeze = subprocess.run([made_py, "-m", "pip", "list", "--format=freeze",
                             "--disable-pip-version-check"],
                            capture_output=True, text=True, check=False).stdout.split()
    version = subprocess.run([made_py, "-c", "import sys; print(sys.version.split()[0])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return "\n".join([
        f"Environment: fresh virtualenv {clean.root} (python -m venv; pip install . — not "
        f"editable), CPython {version}, {platform.system()} {platform.release()}, "
        f"{cores} cores, {cpu}",
        f"  .pth files run at every start there: {', '.join(pth) or 'none'}",
        f"  packages: {' '.join(freeze)}",
        f"  load average at start: {load()}",
    ])


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f} (1, 5, 15 min)"


def run_once(cmd: Sequence[str], child_env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall time of one process start-to-exit in ms, and its exit code."""
    start = time.perf_counter_ns()
    done = subprocess.run(list(cmd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          env=env() if child_env is None else child_env, check=False,
                          cwd=tempfile.gettempdir())
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
