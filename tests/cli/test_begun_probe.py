"""The CLI begins its probe, then imports what it will write with (cli._import_output),
then finishes: what the writer imports after the probe has finished is time the probe's
thread could have hidden. Each command line in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Runs cli.main(argv) with pipeline.start_probe wrapped: the output modules loaded when
#: the probe is finished, and those loaded after it.
_SPY = r"""
import io, json, sys
from nestprobe import cli, pipeline
real = pipeline.start_probe
seen = {}

def output_modules():
    return {name for name in sys.modules if name.startswith("nestprobe.output.")}

def start_probe(**options):
    finish = real(**options)

    def spied():
        seen["before"] = output_modules()
        return finish()
    return spied

pipeline.start_probe = start_probe
code = cli.main(sys.argv[1:], out=io.StringIO())
late = sorted(output_modules() - seen["before"])
print(json.dumps({"code": code, "late": late, "before": sorted(seen["before"])}))
"""

COMMANDS = [
    ["check", "hyperv"],
    ["check", "hyperv", "--json"],
    ["check", "hyperv", "-v"],
    ["check", "hyperv", "-q"],
    ["report"],
    ["report", "--json"],
    ["report", "--format", "prometheus"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_the_writer_imports_nothing_after_the_probe(argv: list[str]) -> None:
    done = subprocess.run([sys.executable, "-c", _SPY, *argv, "--no-timing"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["before"], "start_probe was not how the command probed"
    assert seen["late"] == [], f"imported after the probe finished: {seen['late']}"
