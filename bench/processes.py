"""Whole-process wall time, paired A/B in one run: the cold CLI against `python -c pass`,
the standalone `nestprobe-dump` against systemd-detect-virt, and installed peers.

Usage: python bench/processes.py [-n N]   (build csrc/nestprobe-dump first:
`make -C csrc nestprobe-dump`). Peers that are not installed are listed as skipped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PY, REPO, has_module, have, med, paired, spread, table, verdict

DUMP = str(REPO / "csrc" / "nestprobe-dump")
PASS = [PY, "-c", "pass"]
DETECT = ["systemd-detect-virt", "--vm"]


def targets(n: int) -> list[list[object]]:
    rows: list[list[object]] = []
    cli = [PY, "-m", "nestprobe"]
    # targets from the cold-start issue: an installer's `check` near the interpreter's own start
    for label, cmd, target in [
        ("`nestprobe check hyperv`", [*cli, "check", "hyperv"], 2.0),
        ("`nestprobe --json`", [*cli, "--json"], 2.5),
        ("`nestprobe --json --no-timing`", [*cli, "--json", "--no-timing"], 2.5),
    ]:
        a, b, ratios, code, _ = paired(cmd, PASS, n)
        rows.append([label, "`python -c pass`", spread(a), spread(b), f"{med(ratios):.2f}x",
                     verdict(med(ratios), target), code])
    if Path(DUMP).exists() and have("systemd-detect-virt"):
        a, b, ratios, code, _ = paired([DUMP], DETECT, n)
        rows.append(["`csrc/nestprobe-dump`", "`systemd-detect-virt --vm`", spread(a), spread(b),
                     f"{med(ratios):.2f}x", verdict(med(ratios), 1.0), code])
    return rows


def peers(n: int) -> tuple[list[list[object]], list[str]]:
    candidates: list[tuple[str, list[str], bool]] = [
        ("systemd-detect-virt --vm", DETECT, have("systemd-detect-virt")),
        ("virt-what", ["virt-what"], have("virt-what")),
        ("lscpu", ["lscpu"], have("lscpu")),
        ("cpuid -1 -l 0x40000000 (Todd Allen)", ["cpuid", "-1", "-l", "0x40000000"],
         have("cpuid")),
        ("PyPI cpuid: cpuid.cpuid(0x40000000)",
         [PY, "-c", "import cpuid; cpuid.cpuid(0x40000000)"], has_module("cpuid")),
        ("py-cpuinfo: python -m cpuinfo --json", [PY, "-m", "cpuinfo", "--json"],
         has_module("cpuinfo")),
        ("nestprobe-dump", [DUMP], Path(DUMP).exists()),
        ("nestprobe --json", [PY, "-m", "nestprobe", "--json"], True),
    ]
    rows: list[list[object]] = []
    skipped: list[str] = []
    for label, cmd, present in candidates:
        if not present:
            skipped.append(label)
            continue
        runs = 3 if "cpuinfo" in label else n  # py-cpuinfo sleeps 1 s by design
        a, _b, ratios, code, _ = paired(cmd, PASS, runs, warmup=1)
        rows.append([label, spread(a), f"{med(ratios):.2f}x", code, runs])
    return rows, skipped


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=20, help="pairs per comparison")
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args(argv)
    out = ["Targets (A and B alternated pair by pair; ms, median (min–max); ratio = median "
           "of the per-pair A/B ratios):", "",
           table(["A", "B", "A ms", "B ms", "A/B", "target", "A exit"], targets(args.n))]
    if not args.no_peers:
        rows, skipped = peers(args.n)
        out += ["", "Peers (each paired with `python -c pass`):", "",
                table(["command", "ms", "/ python -c pass", "exit", "runs"], rows)]
        if skipped:
            out += ["", "Not installed (skipped): " + ", ".join(skipped)]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(main())
