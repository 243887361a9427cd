"""bench/common.py: a bench run leaves no temporary venvs behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
pytestmark = pytest.mark.skipif(not (BENCH / "common.py").is_file(),
                                reason="the bench scripts are not beside the tests")


def _run(code: str, **env: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=BENCH, env={**os.environ, **env})
    return done.stdout.strip()


def test_a_temporary_directory_is_removed_when_the_process_exits() -> None:
    made = _run("from common import temporary_dir\n"
                "path = temporary_dir('nestprobe-test.')\n"
                "(path / 'bin').mkdir()\n"
                "print(path, path.is_dir())")
    path, existed = made.split()
    assert existed == "True"
    assert not Path(path).exists()


def test_the_rerun_script_removes_a_temporary_venv_and_keeps_a_given_one(
        tmp_path: Path) -> None:
    given, temporary = tmp_path / "given", tmp_path / "temporary"
    given.mkdir()
    temporary.mkdir()
    code = "from common import run_in_clean_env\nrun_in_clean_env('x.py', [])\nprint('back')"
    # What run_in_clean_env hands the script it re-runs: the venv, and whether it is its own.
    assert _run(code, NESTPROBE_BENCH_CLEAN_VENV=str(given)) == "back"
    assert given.is_dir()
    assert _run(code, NESTPROBE_BENCH_CLEAN_VENV=str(temporary),
                NESTPROBE_BENCH_TEMPORARY_VENV="1") == "back"
    assert not temporary.exists()


def test_each_round_starts_one_further_on_and_every_item_takes_every_place() -> None:
    out = _run("from common import rotated\n"
               "print([rotated('abc', i) for i in range(4)], rotated('', 3))")
    assert out == ("[['a', 'b', 'c'], ['b', 'c', 'a'], ['c', 'a', 'b'], ['a', 'b', 'c']] []")
