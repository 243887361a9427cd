"""Where the cold CLI's time goes: importing the report path, and how much of that is
creating dataclasses (each frozen dataclass execs its generated methods at import). Since the
model became Records (nestprobe/model/record.py) the report path creates none; the script
keeps counting so a dataclass that creeps back shows here.

Usage: python bench/import_cost.py [--runs 9]
Figures only; each run is a fresh interpreter, medians over the runs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PY, env, med, table

#: Imports everything `nestprobe --json` needs, timing the dataclass decorator calls.
CHILD = """
import dataclasses, json, time
real = dataclasses.dataclass
spent = [0.0, 0]
def timed(cls=None, /, **kw):
    def wrap(c):
        t = time.perf_counter(); out = real(**kw)(c)
        spent[0] += time.perf_counter() - t; spent[1] += 1
        return out
    return wrap if cls is None else wrap(cls)
dataclasses.dataclass = timed
t = time.perf_counter()
import nestprobe.cli, nestprobe.pipeline, nestprobe.sources.live, nestprobe.output.jsonreport
total = time.perf_counter() - t
print(json.dumps({"import_ms": total * 1e3, "dataclass_ms": spent[0] * 1e3,
                  "classes": spent[1]}))
"""


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args(argv)
    runs = []
    for _ in range(args.runs + 1):  # the first run may compile bytecode: dropped
        done = subprocess.run([PY, "-c", CHILD], capture_output=True, text=True, env=env(),
                              check=True)
        runs.append(json.loads(done.stdout))
    runs = runs[1:]
    imports = [r["import_ms"] for r in runs]
    classes = [r["dataclass_ms"] for r in runs]
    share = [c / i for c, i in zip(classes, imports, strict=True)]
    rows = [
        ("import of the report path (ms)", f"{med(imports):.1f}",
         f"{min(imports):.1f}–{max(imports):.1f}"),
        (f"of which creating {runs[0]['classes']} dataclasses (ms)", f"{med(classes):.1f}",
         f"{min(classes):.1f}–{max(classes):.1f}"),
        ("dataclass share", f"{med(share):.0%}", f"{min(share):.0%}–{max(share):.0%}"),
    ]
    return table(("what", "median", "range"), rows) + "\n"


if __name__ == "__main__":
    print(main())
