"""Whole-process wall time in ONE alternated run, from a clean install: the cold CLI, the
standalone ``nestprobe-dump`` and the peers, each against ``python -c pass`` of the same
fresh virtualenv.

The script makes that virtualenv itself (``python -m venv``; ``pip install .``, not
editable; the PyPI peers ``cpuid`` and ``py-cpuinfo`` into the same venv) and prints it.
Every round runs every command once, each round starting one command further on (so no
command always follows the same one), so each ratio is a median of per-round ratios
against the ``python -c pass`` of its own round, and a noisy minute moves all of them
together. The load average is printed before and after.

Usage: python bench/processes.py [-n 15] [--venv DIR] [--against REF]   (``--venv``: reuse a
venv an earlier run made; ``--against``: also time ``check hyperv`` and ``--json`` of the git
revision REF, installed the same way into a venv of its own, in the same rounds: what a
change did; build csrc/nestprobe-dump first: ``make -C csrc nestprobe-dump``).
Peers that are not installed are listed as skipped (``.ci/perf-setup.sh`` installs them).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    REPO,
    CleanEnv,
    clean_child_env,
    clean_env,
    describe,
    load,
    med,
    rotated,
    run_once,
    spread,
    table,
    temporary_dir,
    verdict,
)

DUMP = str(REPO / "csrc" / "nestprobe-dump")
#: PyPI peers, installed into the measured venv so they start the same interpreter.
PYPI_PEERS = ("cpuid", "py-cpuinfo")
SLOW_EVERY = 5  # py-cpuinfo sleeps 1 s by design (issue #205): every 5th round only


class Command:
    def __init__(self, label: str, argv: list[str], target: float | None = None,
                 slow: bool = False, against: str = "pass") -> None:
        self.label, self.argv, self.target, self.slow, self.against = (
            label, argv, target, slow, against)
        self.times: list[float] = []
        self.ratios: dict[str, list[float]] = {}
        self.code = 0


def _has_module(python: str, name: str) -> bool:
    return run_once([python, "-c", f"import {name}"], clean_child_env())[1] == 0


def commands(clean: CleanEnv) -> tuple[list[Command], list[str]]:
    py = clean.python
    nestprobe = clean.script("nestprobe")
    found: list[Command] = [
        Command("`python -c pass` (the baseline)", [py, "-c", "pass"]),
        Command("`nestprobe check hyperv`", [nestprobe, "check", "hyperv"], 2.5),
        Command("`nestprobe --json`", [nestprobe, "--json"], 3.0),
        Command("`nestprobe --json --no-timing`", [nestprobe, "--json", "--no-timing"], 3.0),
        # What the installed script and jsontext.py avoid: pip's entry-point wrapper starts
        # with `import re`, and `import json` imports re too (README "Performance").
        Command("`python -c 'import re'` (what pip's wrapper does first)", [py, "-c", "import re"]),
        Command("`python -c 'import json'`", [py, "-c", "import json"]),
        # What cli.run spares a one-shot command: the same check through main(), with the
        # collector on and the interpreter's usual teardown at exit.
        Command("the same check through `main()`, collector on, usual exit",
                [py, "-c", "import sys; from nestprobe.cli import main; "
                 "sys.exit(main(['check', 'hyperv']))"]),
    ]
    skipped: list[str] = []
    peers: list[tuple[str, list[str], bool, bool]] = [
        ("`virt-what` (shell script; root)", ["virt-what"], bool(shutil.which("virt-what")),
         False),
        ("`systemd-detect-virt --vm`", ["systemd-detect-virt", "--vm"],
         bool(shutil.which("systemd-detect-virt")), False),
        ("`kvm-ok` (Debian cpu-checker)", ["kvm-ok"], bool(shutil.which("kvm-ok")), False),
        ("`lscpu`", ["lscpu"], bool(shutil.which("lscpu")), False),
        ("`cpuid -1 -l 0x40000000` (Todd Allen's cpuid)", ["cpuid", "-1", "-l", "0x40000000"],
         bool(shutil.which("cpuid")), False),
        ("PyPI `cpuid`: `python -c 'import cpuid; cpuid.cpuid(0x40000000)'`",
         [py, "-c", "import cpuid; cpuid.cpuid(0x40000000)"], _has_module(py, "cpuid"), False),
        ("py-cpuinfo: `python -m cpuinfo --json`", [py, "-m", "cpuinfo", "--json"],
         _has_module(py, "cpuinfo"), True),
        ("`csrc/nestprobe-dump` (static C)", [DUMP], Path(DUMP).exists(), False),
    ]
    for label, argv, present, slow in peers:
        if present:
            found.append(Command(label, argv, slow=slow))
        else:
            skipped.append(label)
    return found, skipped


def against(ref: str) -> list[Command]:
    """``check hyperv`` and ``--json`` of the revision ``ref`` (git archive, clean venv)."""
    tree = temporary_dir("nestprobe-bench-ref.")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    other = clean_env(None, (), source=tree)
    script = other.script("nestprobe")
    return [Command(f"`nestprobe check hyperv` at {ref}", [script, "check", "hyperv"]),
            Command(f"`nestprobe --json` at {ref}", [script, "--json"])]


def alternate(cmds: list[Command], rounds: int, warmup: int = 2) -> None:
    """Every round runs every command once; ratios against the same round. Each round
    starts one command further on (common.rotated), so no command always runs right after
    the same one (or first after a slow one's pause); the slow ones run last."""
    child = clean_child_env()
    for _ in range(warmup):
        for cmd in cmds:
            if not cmd.slow:
                run_once(cmd.argv, child)
    by_label = {c.label: c for c in cmds}
    fast = [cmd for cmd in cmds if not cmd.slow]
    slow = [cmd for cmd in cmds if cmd.slow]
    for index in range(rounds):
        this_round: dict[str, float] = {}
        for cmd in [*rotated(fast, index), *slow]:
            if cmd.slow and index % SLOW_EVERY:
                continue
            ms, cmd.code = run_once(cmd.argv, child)
            cmd.times.append(ms)
            this_round[cmd.label] = ms
        for cmd in cmds:
            if cmd.label not in this_round:
                continue
            for other in ("`python -c pass` (the baseline)", "`virt-what` (shell script; root)"):
                if other in this_round and other in by_label:
                    cmd.ratios.setdefault(other, []).append(this_round[cmd.label]
                                                            / this_round[other])


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=15, help="rounds (every command once each)")
    parser.add_argument("--venv", help="reuse this venv (made by an earlier run) instead of "
                        "a fresh one")
    parser.add_argument("--against", metavar="REF",
                        help="also time this git revision's check and --json, same rounds")
    args = parser.parse_args(argv)
    clean = clean_env(args.venv, PYPI_PEERS)
    out = [describe(clean), ""]
    cmds, skipped = commands(clean)
    if args.against:
        cmds[1:1] = against(args.against)
    alternate(cmds, args.n)
    base = "`python -c pass` (the baseline)"
    virt_what = "`virt-what` (shell script; root)"
    rows = []
    for cmd in cmds:
        ratio = med(cmd.ratios[base]) if cmd.ratios.get(base) else float("nan")
        vs_vw = (f"{med(cmd.ratios[virt_what]):.2f}x" if cmd.ratios.get(virt_what)
                 and cmd.label != virt_what else "–")
        target = "–" if cmd.target is None else verdict(ratio, cmd.target)
        rows.append([cmd.label, spread(cmd.times), f"{ratio:.2f}x", vs_vw, target, cmd.code,
                     len(cmd.times)])
    out += [f"One alternated run, {args.n} rounds (every command once per round; ms, median "
            "(min–max); ratios = median of the per-round ratios):", "",
            table(["command", "ms", "/ python -c pass", "/ virt-what", "target", "exit", "runs"],
                  rows)]
    if skipped:
        out += ["", "Not installed (skipped): " + ", ".join(skipped)]
    out += ["", f"Load average at the end: {load()}"]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(main())
