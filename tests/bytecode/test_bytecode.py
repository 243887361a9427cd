"""nestprobe/bytecode.py: the wheel's modules in one file, and when they are not used.

Each case builds the file with this interpreter from a copy of the package that is
imported here (the source tree, or the installed wheel in the Windows stage) and runs a
fresh interpreter on that copy: a finder on sys.meta_path is process-wide, so none is
installed in the test process. The children put the copy first on sys.path themselves
(the Windows stage's embeddable Python ignores PYTHONPATH).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nestprobe
from nestprobe import bytecode

SOURCE = Path(nestprobe.__file__).resolve().parent
DUMP = (Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
        / "azure-hyperv-guest-nested-vmx.dump")

#: Prints, as JSON: which loader served each nestprobe module, and the report of DUMP.
CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import nestprobe
from nestprobe.cli import main
from nestprobe.output.jsonreport import render_json
report = render_json(nestprobe.load(sys.argv[2]))
loaders = {name: type(module.__spec__.loader).__name__
           for name, module in list(sys.modules.items())
           if name.startswith("nestprobe") and getattr(module, "__spec__", None)}
files = {name: module.__file__ for name, module in list(sys.modules.items())
         if name.startswith("nestprobe") and getattr(module, "__file__", None)}
print(json.dumps({"loaders": loaders, "files": files, "report": report,
                  "main_file": main.__code__.co_filename,
                  "contract": vars(sys.modules["nestprobe.model.contract"]).get("EDITED")}))
"""


def _copy(tmp_path: Path, *, with_file: bool = True) -> Path:
    root = tmp_path / "site"
    # copyfile, not copytree's default copy2: Python 3.12+ copies with CopyFile2 on Windows,
    # which wine 8 does not implement (it aborts the process).
    shutil.copytree(SOURCE, root / "nestprobe", copy_function=shutil.copyfile,
                    ignore=shutil.ignore_patterns("__pycache__", bytecode.FILE_NAME))
    if with_file:
        bytecode.build(str(root / "nestprobe"))
    return root


def _child(root: Path, *flags: str, code: str = CHILD) -> dict[str, object]:
    done = subprocess.run([sys.executable, *flags, "-c", code, str(root), str(DUMP)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def _served(result: dict[str, object]) -> set[str]:
    loaders = result["loaders"]
    assert isinstance(loaders, dict)
    return {name for name, loader in loaders.items() if loader == "BytecodeFinder"}


needs_dump = pytest.mark.skipif(not DUMP.is_file(), reason=f"{DUMP.name} is not beside the tests")


@needs_dump
def test_the_file_serves_every_module_but_the_root_and_gives_the_same_report(
        tmp_path: Path) -> None:
    with_file = _child(_copy(tmp_path / "a"))
    without = _child(_copy(tmp_path / "b", with_file=False))
    served = _served(with_file)
    loaders = with_file["loaders"]
    assert isinstance(loaders, dict)
    usual = set(loaders) - served
    # The package root installs the finder, so it and the finder's own module come first;
    # the compiled extension (when a replay loads it at all) is no Python source.
    assert {"nestprobe", "nestprobe.bytecode"} <= usual, usual
    assert usual <= {"nestprobe", "nestprobe.bytecode", "nestprobe._native"}, usual
    assert len(served) > 40
    assert not _served(without)
    assert with_file["report"] == without["report"]


@needs_dump
def test_code_carries_its_sources_real_path(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    result = _child(root)
    files = result["files"]
    assert isinstance(files, dict)
    cli = root / "nestprobe" / "cli.py"
    # Tracebacks, inspect and coverage read the .py file the code came from.
    assert Path(files["nestprobe.cli"]) == cli
    assert Path(str(result["main_file"])) == cli
    assert "nestprobe.cli" in _served(result)


@needs_dump
def test_an_edited_source_is_imported_the_usual_way(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    contract = root / "nestprobe" / "model" / "contract.py"
    contract.write_text(contract.read_text(encoding="utf-8") + "\nEDITED = True\n",
                        encoding="utf-8")
    result = _child(root)
    assert result["contract"] is True  # the edit is what runs, not the compiled copy
    served = _served(result)
    assert "nestprobe.model.contract" not in served
    assert "nestprobe.model.record" in served  # the others still come from the file


@needs_dump
def test_a_source_written_after_the_file_is_imported_the_usual_way(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    record = root / "nestprobe" / "model" / "record.py"
    written = (root / "nestprobe" / bytecode.FILE_NAME).stat().st_mtime
    later = written + bytecode.SLACK_S + 60  # the same size, written after the install
    os.utime(record, (later, later))
    served = _served(_child(root))
    assert "nestprobe.model.record" not in served
    assert "nestprobe.model.contract" in served


@needs_dump
def test_under_optimisation_the_usual_pycs_are_used(tmp_path: Path) -> None:
    assert not _served(_child(_copy(tmp_path), "-O"))


@needs_dump
def test_python_dash_m_runs_from_the_file(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    code = ("import runpy, sys\n"
            "sys.path.insert(0, sys.argv[1])\n"
            "sys.argv = ['nestprobe', 'report', '--from', sys.argv[2], '--json']\n"
            "runpy.run_module('nestprobe', run_name='__main__', alter_sys=True)\n")
    done = subprocess.run([sys.executable, "-c", code, str(root), str(DUMP)],
                          capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1, 3, 4, 5), done.stderr
    assert json.loads(done.stdout)["source"]["kind"] == "dump"


def _damaged(tmp_path: Path, change: int, value: bytes) -> Path:
    root = _copy(tmp_path)
    path = root / "nestprobe" / bytecode.FILE_NAME
    data = bytearray(path.read_bytes())
    data[change:change + len(value)] = value
    path.write_bytes(bytes(data))
    return root / "nestprobe"


def test_another_pythons_file_is_not_used(tmp_path: Path) -> None:
    package = _damaged(tmp_path, len(bytecode.HEADER), b"\x00\x00\r\n")  # another magic
    before = list(sys.meta_path)
    assert bytecode.install(str(package)) is None
    assert sys.meta_path == before


def test_a_file_of_another_format_is_not_used(tmp_path: Path) -> None:
    package = _damaged(tmp_path, 0, b"something-else")
    assert bytecode.install(str(package)) is None


def test_a_cut_index_is_not_used(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / "nestprobe" / bytecode.FILE_NAME
    path.write_bytes(path.read_bytes()[:len(bytecode.HEADER) + 12])
    assert bytecode.install(str(root / "nestprobe")) is None


def test_a_file_cut_in_its_code_is_not_used(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / "nestprobe" / bytecode.FILE_NAME
    path.write_bytes(path.read_bytes()[:-1])  # the last module's code lacks a byte
    assert bytecode.install(str(root / "nestprobe")) is None


def test_no_file_no_finder(tmp_path: Path) -> None:
    root = _copy(tmp_path, with_file=False)
    assert bytecode.install(str(root / "nestprobe")) is None


def test_the_index_names_every_module_once(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    package = root / "nestprobe"
    sources = {p.relative_to(package).as_posix() for p in package.rglob("*.py")}
    entries, _ = bytecode._read_index(str(package / bytecode.FILE_NAME), str(package))
    named = {Path(source).relative_to(package).as_posix() for source, *_ in entries.values()}
    assert named == sources - {"__init__.py"}
    assert entries["nestprobe.assess"][1]  # a package
    assert not entries["nestprobe.cli"][1]
