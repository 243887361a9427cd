"""The static runner (csrc/tool_nestprobe_bench.c) and the portability of csrc/np_bench.c.

The runner must agree with the Python side on the plans and write raw documents the
importer accepts; np_bench.c must build as strict C11 and, where a mingw-w64 cross
compiler is installed, for Windows.
"""

from __future__ import annotations

import json
import platform
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO

from nestprobe.bench import result
from nestprobe.bench.plan import PLANS
from nestprobe.bench.raw import RawSuite

CSRC = REPO / "csrc"
X86 = platform.machine().lower() in {"x86_64", "amd64"}
needs_cc = pytest.mark.skipif(shutil.which("cc") is None or shutil.which("make") is None,
                              reason="needs cc and make")


@pytest.fixture(scope="module")
def tool(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("cc") is None or shutil.which("make") is None:
        pytest.skip("needs cc and make")
    src = tmp_path_factory.mktemp("csrc")
    for path in CSRC.iterdir():
        if path.suffix in (".c", ".h") or path.name == "Makefile":
            shutil.copy(path, src / path.name)
    built = subprocess.run(["make", "-C", str(src), "nestprobe-bench"], capture_output=True,
                           text=True, check=False, timeout=300)
    assert built.returncode == 0, built.stderr
    assert "warning" not in built.stderr, built.stderr
    return src / "nestprobe-bench"


def run(tool: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(tool), *args], capture_output=True, text=True, check=False,
                          timeout=120)


@pytest.mark.parametrize("name", sorted(PLANS))
def test_plans_agree_with_python(tool: Path, name: str) -> None:
    shown = run(tool, "--print-plan", "--plan", name)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["plan"] == PLANS[name].to_dict()


def test_usage(tool: Path) -> None:
    assert run(tool, "--help").returncode == 0
    for bad in (["--plan", "fast"], ["--plan"], ["extra"]):
        done = run(tool, *bad)
        assert done.returncode == 2
        assert "usage" in done.stderr


@pytest.mark.skipif(not X86, reason="the runner measures with the TSC")
def test_a_run_imports_as_a_result(tool: Path, tmp_path: Path) -> None:
    from nestprobe import native
    from nestprobe.sources.dumpfile import format_dump
    from nestprobe.sources.live import live_snapshot

    if native.cpuid_status()[0] != "ok":
        pytest.skip("CPUID cannot run here")
    done = run(tool, "--plan", "lab")
    if done.returncode == 3:
        pytest.skip(done.stderr.strip())
    assert done.returncode == 0, done.stderr
    raw = RawSuite.from_dict(json.loads(done.stdout))
    assert (raw.writer, raw.plan) == ("nestprobe-bench-c", PLANS["lab"])
    assert all(s.status in ("ok", "unsupported") for s in raw.series.values())
    (tmp_path / "raw.json").write_text(done.stdout)
    (tmp_path / "here.dump").write_text(format_dump(live_snapshot(timing=False)))
    doc = result.import_raw(str(tmp_path / "raw.json"), str(tmp_path / "here.dump"))
    assert (doc["runner"], doc["assessed_from"]) == ("nestprobe-bench-c", "dump:here.dump")
    assert doc["metrics"]["cpuid.basic"]["status"] == "ok"


DEFINE = re.compile(r"^#define\s+(NPB_\w+)\s+(\S+)", re.MULTILINE)


def test_cdef_constants_are_defined_once_in_the_header() -> None:
    """The cdef names every constant with `...`: cffi reads the value np_bench.h defines."""
    cdef = dict(DEFINE.findall((CSRC / "np_bench_cdef.h").read_text(encoding="utf-8")))
    real = dict(DEFINE.findall((CSRC / "np_bench.h").read_text(encoding="utf-8")))
    assert cdef
    assert set(cdef.values()) == {"..."}
    assert set(cdef) <= set(real)


def compile_only(compiler: str, tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [compiler, "-std=c11", "-O2", "-Wall", "-Wextra", "-Wpedantic", "-Werror", *flags,
         "-iquote", str(CSRC), "-c", str(CSRC / "np_bench.c"), "-o", str(tmp_path / "b.o")],
        capture_output=True, text=True, check=False, timeout=120)


@needs_cc
def test_np_bench_is_strict_c11(tmp_path: Path) -> None:
    done = compile_only("cc", tmp_path)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(shutil.which("x86_64-w64-mingw32-gcc") is None,
                    reason="no mingw-w64 cross compiler (apt-get install gcc-mingw-w64-x86-64)")
def test_np_bench_builds_for_windows(tmp_path: Path) -> None:
    done = compile_only("x86_64-w64-mingw32-gcc", tmp_path)
    assert done.returncode == 0, done.stderr
