"""Where ``nestprobe check hyperv``'s cold start goes, phase by phase, from a clean install.

Each run is a fresh interpreter of the clean venv that does what the installed ``nestprobe``
script (scripts/nestprobe) does, timing each step with perf_counter: importing the CLI,
importing the pipeline, its stages and the text output a check prints, the live snapshot
with the quick timing (its pinned part, the CPUID walk, the timing's batches and /dev/kvm,
in its own thread while this one reads the OS files; the sampler's own share is its
wall_ns), the assessment and verdicts, and a second, warm check. The steps run one after
another here; ``check`` itself begins the snapshot's pinned part before it imports the
stages (pipeline.start_probe), so its whole is less than their sum. Medians and minima
over the runs; the interpreter's own start is ``python -c pass``
of the same venv, timed alternately with them.

The script re-runs itself under a fresh virtualenv with ``pip install .`` (not editable).
Usage: python bench/import_cost.py [--runs 15] [--venv DIR]
Figures only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import clean_child_env, load, med, run_in_clean_env, table

CHILD = r"""
import gc, time
gc.disable()  # as scripts/nestprobe does
t1 = time.perf_counter()
from nestprobe.cli import main
t2 = time.perf_counter()
import nestprobe.pipeline, nestprobe.output.lines
import nestprobe.assess, nestprobe.assess.contradictions, nestprobe.verdicts.evaluate
t3 = time.perf_counter()
from nestprobe.sources.live import live_snapshot
snapshot = live_snapshot(timing=True)
t4 = time.perf_counter()
report = nestprobe.pipeline.build_report(snapshot)
t5 = time.perf_counter()
import io
main(["check", "hyperv", "--no-timing"], out=io.StringIO())
t7 = time.perf_counter()
import json, sys
print(json.dumps({"import nestprobe.cli": t2 - t1,
                  "import pipeline, its stages + check's text output (output/lines.py)": t3 - t2,
                  "live snapshot (CPUID walk, OS files, /dev/kvm, the quick timing's "
                  "batches between them)": t4 - t3,
                  "  of which the quick timing's own time (its wall_ns)":
                      (snapshot.latency.wall_ns / 1e9 if snapshot.latency else 0.0),
                  "assessment + verdicts": t5 - t4,
                  "a second check, warm, no timing (parse, probe, assess, write)": t7 - t5,
                  "modules": len(sys.modules)}))
"""

#: ``check hyperv`` with every nestprobe module loaded through a loader that times getting
#: its code (the wheel's _bytecode.bin or the pyc: read and unmarshalled) apart from
#: executing its body (children excluded), whichever finder serves it.
LOADER_CHILD = r"""
import gc, json, marshal, os, sys, time
gc.disable()  # as scripts/nestprobe does
timed = {"modules": 0, "bytes": 0, "code": 0.0, "body": 0.0, "from_file": 0}
stack = []
loaded = []

class Timed:
    def __init__(self, loader, name):
        self.loader, self.name = loader, name
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        began = time.perf_counter()
        code = self.loader.get_code(self.name)
        read = time.perf_counter()
        loaded.append((module, code))
        stack.append(0.0)
        try:
            exec(code, module.__dict__)
        finally:
            inner = stack.pop()
            done = time.perf_counter()
            timed["modules"] += 1
            timed["bytes"] += len(marshal.dumps(code))
            timed["from_file"] += type(self.loader).__name__ == "BytecodeFinder"
            timed["code"] += read - began
            timed["body"] += done - read - inner
            if stack:
                stack[-1] += done - began

class Finder:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if not name.startswith("nestprobe.") or name.startswith("nestprobe._native"):
            return None
        for finder in sys.meta_path:
            if finder is Finder:
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if hasattr(spec.loader, "get_code"):
                    spec.loader = Timed(spec.loader, name)
                return spec
        return None

import importlib.util
sys.meta_path.insert(0, Finder)  # nestprobe's own finder goes in later, before PathFinder
from nestprobe.cli import main
main(["check", "hyperv"], out=open(os.devnull, "w"))
# The same bodies again, warm, each in a fresh namespace of its own: what executing them
# costs once their code, the objects they build and their memory are in this process.
warm = []
for _ in range(3):
    began = time.perf_counter()
    for module, code in loaded:
        exec(code, {"__name__": module.__name__, "__file__": module.__file__,
                    "__package__": module.__package__, "__spec__": module.__spec__})
    warm.append(time.perf_counter() - began)
timed["warm"] = min(warm)
print(json.dumps(timed))
"""


def loader_split(python: str, child: dict[str, str], runs: int) -> str:
    """Where the module imports go: bytecode read and unmarshalled vs bodies executed."""
    code: list[float] = []
    body: list[float] = []
    warm: list[float] = []
    facts: dict[str, float] = {}
    for _ in range(runs):
        done = subprocess.run([python, "-c", LOADER_CHILD], capture_output=True, text=True,
                              env=child, check=True, cwd="/")
        facts = json.loads(done.stdout)
        code.append(facts["code"] * 1e3)
        body.append(facts["body"] * 1e3)
        warm.append(facts["warm"] * 1e3)
    served = int(facts["from_file"])
    source = ("all from the wheel's _bytecode.bin (nestprobe/bytecode.py)"
              if served == int(facts["modules"]) else
              f"{served} from the wheel's _bytecode.bin, the rest from their pycs")
    return (f"nestprobe's own modules on the check path below the package root: "
            f"{int(facts['modules'])} ({source}), {int(facts['bytes']) >> 10} KB of "
            f"bytecode; median over {runs} fresh interpreters: getting their code (read and "
            f"unmarshalled) {med(code):.1f} ms, executing the module bodies "
            f"{med(body):.1f} ms (each module's own, imports inside excluded); the same bodies "
            f"executed again in that process, warm: {med(warm):.1f} ms\n")


def page_faults(python: str, child: dict[str, str], runs: int) -> str:
    """Minor page faults of ``python -c pass`` and of the check (what a fresh process pays
    for the memory it touches), and what one page's fault and first write cost here."""
    import resource

    def faults(argv: list[str]) -> int:
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt
        subprocess.run(argv, env=child, cwd="/", stdout=subprocess.DEVNULL, check=False)
        return resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt - before

    script = str(Path(python).parent / "nestprobe")
    plain = [faults([python, "-c", "pass"]) for _ in range(runs)]
    check = [faults([python, script, "check", "hyperv"]) for _ in range(runs)]
    fill = subprocess.run([python, "-c", FILL], capture_output=True, text=True, env=child,
                          check=True, cwd="/")
    return (f"minor page faults, median of {runs}: `python -c pass` {med(plain):.0f}, "
            f"`nestprobe check hyperv` {med(check):.0f}; one 4 KiB page's fault and first "
            f"write here: {float(fill.stdout):.2f} µs (filling 64 MiB of fresh memory)\n")


#: ``check hyperv`` as the installed script runs it, but with the collector left on: what
#: the collections cost that the script's ``gc.disable()`` avoids.
COLLECTOR_CHILD = r"""
import gc, json, os, sys, time
spent, began = [0.0, 0, 0], [0.0]
def timed(phase, info):
    if phase == "start":
        began[0] = time.perf_counter()
    else:
        spent[0] += time.perf_counter() - began[0]
        spent[1] += 1
        spent[2] += info["collected"]
gc.callbacks.append(timed)
from nestprobe.cli import main
main(["check", "hyperv"], out=open(os.devnull, "w"))
print(json.dumps({"ms": spent[0] * 1e3, "collections": spent[1], "freed": spent[2],
                  "tracked": len(gc.get_objects())}))
"""


def collector_cost(python: str, child: dict[str, str], runs: int) -> str:
    """What the cyclic collector would cost the check if the script left it on."""
    seen = [json.loads(subprocess.run([python, "-c", COLLECTOR_CHILD], capture_output=True,
                                      text=True, env=child, check=True, cwd="/").stdout)
            for _ in range(runs)]
    return (f"the cyclic collector, were it left on (scripts/nestprobe turns it off): "
            f"{med([s['collections'] for s in seen]):.0f} collections, "
            f"{med([s['ms'] for s in seen]):.2f} ms, freeing "
            f"{med([s['freed'] for s in seen]):.0f} objects; objects it tracks at the end: "
            f"{med([s['tracked'] for s in seen]):,.0f}\n")


FILL = """
import time
best = 1e9
for _ in range(3):
    began = time.perf_counter()
    block = b"\\x01" * (64 << 20)
    best = min(best, time.perf_counter() - began)
    del block
print(best / (64 << 20 >> 12) * 1e6)
"""


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--venv")
    args = parser.parse_args(argv)
    python = sys.executable
    child = clean_child_env()
    phases: dict[str, list[float]] = {}
    start_ms: list[float] = []
    for index in range(args.runs + 1):
        began = time.perf_counter()
        subprocess.run([python, "-c", "pass"], env=child, check=True)
        start_ms.append((time.perf_counter() - began) * 1e3)
        done = subprocess.run([python, "-c", CHILD], capture_output=True, text=True, env=child,
                              check=True, cwd="/")
        if index == 0:
            continue  # the first run may write bytecode caches: dropped
        for name, value in json.loads(done.stdout).items():
            phases.setdefault(name, []).append(value if name == "modules" else value * 1e3)
    modules = int(phases.pop("modules")[0])
    rows = [["interpreter start (`python -c pass`, whole process)", f"{med(start_ms[1:]):.1f}",
             f"{min(start_ms[1:]):.1f}"]]
    rows += [[name, f"{med(v):.1f}", f"{min(v):.1f}"] for name, v in phases.items()]
    return (f"`nestprobe check hyperv` phase by phase, ms over {args.runs} fresh interpreters "
            f"({modules} modules loaded at the end); load average at the end: {load()}\n\n"
            + table(["phase", "median ms", "min ms"], rows) + "\n\n"
            + loader_split(python, child, args.runs)
            + page_faults(python, child, args.runs)
            + collector_cost(python, child, args.runs))


if __name__ == "__main__":
    cli_args = sys.argv[1:]
    venv = cli_args[cli_args.index("--venv") + 1] if "--venv" in cli_args else None
    run_in_clean_env(__file__, cli_args, venv)
    os.chdir("/")
    print(main(cli_args))
