"""Run the lab by hand and print what each guest's report says.

    PYTHONPATH=tests:. python -m lab    # build, boot everything, summarise

Logs go to .lab-cache/manual/logs/<tag>.log, dumps to .lab-cache/manual/dumps/.
"""

from __future__ import annotations

import argparse
import sys
import time

import nestprobe
from nestprobe.sources.osfacts import WATCHED_PATHS

from . import build, configs, console, host, verify
from .boot import Boot
from .run import run_all

RUN = host.CACHE / "manual"


def _console(config: configs.Config, boots: dict[str, Boot]) -> str:
    """A guest's own console: L2 consoles are cut out of the L1's."""
    if config in configs.NESTED:
        guest = console.guests(boots[configs.L1.name].log).get(config.name)
        return guest.text if guest is not None else ""
    return boots[config.name].log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab", description=__doc__)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    reason = build.missing()
    if reason is not None:
        print(f"lab cannot run: {reason}", file=sys.stderr)
        return 2
    start = time.monotonic()
    artifacts = build.build(RUN, WATCHED_PATHS, configs.nested_guests())
    print(f"built in {time.monotonic() - start:.1f} s: {artifacts.flat}, {artifacts.l1}")
    boots = run_all(artifacts, RUN / "logs", args.workers)
    l1_log = boots[configs.L1.name].log
    failures = 0
    for config in (*configs.FLAT, configs.L1, *configs.NESTED):
        block = console.dumps(_console(config, boots)).get(config.name)
        if block is None:
            print(f"{config.name:13} NO DUMP (see {RUN / 'logs'})")
            failures += 1
            continue
        path = RUN / "dumps" / f"{config.name}.dump"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block.text)
        report = nestprobe.load(str(path))
        a = report.assessment
        wrong = verify.lab_facts(report.snapshot, config.expect)
        wrong += verify.assessment(a, config.expect)
        failures += bool(wrong)
        print(f"{config.name:13} {a.hypervisor.vendor!s:6} emulated={a.hypervisor.emulated!s:5} "
              f"svm={a.virtualization.svm!s:5} exposed={a.virtualization.exposed!s:5} "
              f"level={a.nesting.level} at_least={a.nesting.at_least} "
              f"{'OK' if not wrong else 'MISMATCH: ' + '; '.join(wrong)}")
    for tag, result in boots.items():
        print(f"boot {tag}: {result.seconds:.1f} s, qemu rc={result.returncode}")
    for tag, guest in console.guests(l1_log).items():
        print(f"  {tag} inside the L1: {guest.seconds} s, rc={guest.rc}")
    print(f"total {time.monotonic() - start:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
