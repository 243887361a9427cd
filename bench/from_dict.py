"""Cost of reading one ``nestprobe --json`` report back (``Report.from_dict``), per report,
with the strict JSON read and the fleet's per-report work beside it.

The reports are the corpus dumps' own (../shared/corpus/dumps, assessed once here). Each
tree given with ``--tree`` (default: this checkout) is timed in its own interpreter, the
trees alternating round by round in one run so they share the machine's load; the load
average is printed with the figures. Usage:
python bench/from_dict.py [--tree DIR ...] [--rounds 5] [--repeat 20] [--profile]
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

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "dumps"

#: Run in each tree's interpreter: prints ms per report for the three steps.
CHILD = """
import json, sys, time
from nestprobe.model.report import Report
from nestprobe.model.strictjson import loads
texts = json.load(open(sys.argv[1]))
repeat = int(sys.argv[2])
datas = [loads(t) for t in texts]
for d in datas:
    Report.from_dict(d)  # compile once, as a fleet worker does on its first report
def clock(step):
    start = time.perf_counter()
    for _ in range(repeat):
        for item in step:
            item()
    return (time.perf_counter() - start) * 1000 / (repeat * len(texts))
loads_ms = clock([lambda t=t: loads(t) for t in texts])
from_ms = clock([lambda d=d: Report.from_dict(d) for d in datas])
from nestprobe.fleet.record import machine_from_report
reports = [Report.from_dict(d) for d in datas]
machine_ms = clock([lambda r=r: machine_from_report(r, "m", "p") for r in reports])
print(json.dumps({"loads": loads_ms, "from_dict": from_ms, "machine": machine_ms}))
"""

PROFILE = """
import cProfile, json, pstats, sys
from nestprobe.model.report import Report
from nestprobe.model.strictjson import loads
datas = [loads(t) for t in json.load(open(sys.argv[1]))]
for d in datas:
    Report.from_dict(d)
profiler = cProfile.Profile()
profiler.enable()
for _ in range(5):
    for d in datas:
        Report.from_dict(d)
profiler.disable()
pstats.Stats(profiler).sort_stats("tottime").print_stats(12)
"""


def _reports() -> list[str]:
    import nestprobe

    return [json.dumps(nestprobe.report_to_dict(nestprobe.load(p)))
            for p in sorted(CORPUS.iterdir()) if p.is_file()]


def _run(tree: str, script: str, args: list[str]) -> str:
    env = dict(os.environ, PYTHONPATH=tree)
    done = subprocess.run([sys.executable, "-c", script, *args], env=env, check=True,
                          capture_output=True, text=True, cwd=tempfile.gettempdir())
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tree", nargs="+", default=[str(REPO)],
                        help="source trees to time (each holds a nestprobe package)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="cProfile each tree once")
    args = parser.parse_args()
    reports = _reports()
    count = len(reports)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(reports, handle)
    try:
        print(f"{count} corpus reports, {args.rounds} rounds x {args.repeat} passes each; "
              f"python {sys.version.split()[0]}, load before {os.getloadavg()[0]:.2f}")
        runs: dict[str, list[dict[str, float]]] = {tree: [] for tree in args.tree}
        for _ in range(args.rounds):
            for tree in args.tree:
                runs[tree].append(json.loads(_run(tree, CHILD, [handle.name,
                                                                str(args.repeat)])))
        for tree, rows in runs.items():
            best = {k: min(r[k] for r in rows) for k in rows[0]}
            median = {k: sorted(r[k] for r in rows)[len(rows) // 2] for k in rows[0]}
            print(f"{tree}: ms per report, best/median of {len(rows)}: "
                  + ", ".join(f"{k} {best[k]:.3f}/{median[k]:.3f}" for k in best))
        print(f"load after {os.getloadavg()[0]:.2f}; at {time.strftime('%Y-%m-%d %H:%M')}")
        if args.profile:
            for tree in args.tree:
                print(f"--- profile of from_dict, {tree}")
                print(_run(tree, PROFILE, [handle.name]))
    finally:
        os.unlink(handle.name)


if __name__ == "__main__":
    main()
