"""nestprobe/bytecode.py: the wheel's modules in one file, and when they are not used.

Each case builds the file with this interpreter from a copy of the package that is
imported here (the source tree, or the installed wheel in the Windows stage), writes the
distribution's RECORD after it as pip does, and runs a fresh interpreter on that copy: a
finder on sys.meta_path is process-wide, so none is installed in the test process. The
children put the copy first on sys.path themselves (the Windows stage's embeddable Python
ignores PYTHONPATH).
"""

from __future__ import annotations

import json
import marshal
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import nestprobe
from nestprobe import bytecode

SOURCE = Path(nestprobe.__file__).resolve().parent
DUMP = (Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
        / "azure-hyperv-guest-nested-vmx.dump")
RECORD = "nestprobe-0.0.dist-info/RECORD"
DAY = 86400.0

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


#: The modules a check imports (the cold-start allowlist), as setup.py gives them to build().
CHECK_MODULES = [line for line in (Path(__file__).resolve().parents[1] / "cli"
                                   / "cold_start_modules.txt").read_text(
                     encoding="utf-8").splitlines() if line.startswith("nestprobe.")]


def _copy(tmp_path: Path, *, with_file: bool = True, record: bool = True) -> Path:
    root = tmp_path / "site"
    # copyfile, not copytree's default copy2: Python 3.12+ copies with CopyFile2 on Windows,
    # which wine 8 does not implement (it aborts the process).
    shutil.copytree(SOURCE, root / "nestprobe", copy_function=shutil.copyfile,
                    ignore=shutil.ignore_patterns("__pycache__", bytecode.FILE_NAME))
    if with_file:  # as setup.py builds it: the check's modules also in one piece
        bytecode.build(str(root / "nestprobe"), RECORD, together=CHECK_MODULES)
        # Written with the file, as an install writes them: the build (seconds under wine
        # on a busy machine) is no part of what the finder's window allows for.
        written = (root / "nestprobe" / bytecode.FILE_NAME).stat().st_mtime_ns
        for source in (root / "nestprobe").rglob("*.py"):
            os.utime(source, ns=(written, written))
    if record:  # written last, as pip and uv write it
        (root / RECORD).parent.mkdir()
        (root / RECORD).write_text("", encoding="utf-8")
    return root


def _at(when: float, *paths: Path) -> None:
    for path in paths:
        os.utime(path, (when, when))


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


def _backdated(tmp_path: Path) -> tuple[Path, float]:
    """A copy whose install (every file, the bytecode file, RECORD) happened a day ago."""
    root = _copy(tmp_path)
    past = float(int(time.time() - DAY))  # whole seconds: the window's edges compare exactly
    _at(past, *root.rglob("*.py"), root / "nestprobe" / bytecode.FILE_NAME)
    _at(past + 1, root / RECORD)  # RECORD last
    return root, past


@needs_dump
def test_sources_written_inside_the_install_are_served(tmp_path: Path) -> None:
    root, past = _backdated(tmp_path)
    record = root / "nestprobe" / "model" / "record.py"
    _at(past - bytecode.SLACK_S, record)  # the window's first instant
    _at(past + 1, root / "nestprobe" / "cli.py")  # and its last: RECORD's
    served = _served(_child(root))
    assert {"nestprobe.model.record", "nestprobe.model.contract", "nestprobe.cli"} <= served


@needs_dump
def test_a_source_changed_right_after_the_install_is_imported_the_usual_way(
        tmp_path: Path) -> None:
    """``pip install ... && sed -i`` in one Dockerfile step: a same-size edit within the
    second after RECORD."""
    root, past = _backdated(tmp_path)
    # 1 ms after RECORD (Windows keeps mtimes to 100 ns; the edit measured took 74 ms)
    os.utime(root / "nestprobe" / "cli.py", ns=(0, int((past + 1) * 1e9) + 1_000_000))
    served = _served(_child(root))
    assert "nestprobe.cli" not in served
    assert "nestprobe.model.contract" in served


@needs_dump
def test_linked_from_a_cache_the_window_is_the_files_not_the_record(tmp_path: Path) -> None:
    """uv links the files from its cache (their mtimes are the cache's) and writes only
    RECORD anew: an edit made between the two is not the install's."""
    root, past = _backdated(tmp_path)
    _at(past + 30 * DAY / 30, root / RECORD)  # installed a day after the cache was filled
    _at(past + bytecode.SPAN_S + 10, root / "nestprobe" / "model" / "record.py")  # an edit
    _at(past + 1, root / "nestprobe" / "cli.py")  # written with the file
    served = _served(_child(root))
    assert "nestprobe.model.record" not in served
    assert {"nestprobe.cli", "nestprobe.model.contract"} <= served


@needs_dump
def test_a_source_written_after_the_install_is_imported_the_usual_way(tmp_path: Path) -> None:
    root, past = _backdated(tmp_path)
    record = root / "nestprobe" / "model" / "record.py"
    _at(past + 1 + 60, record)  # the same size, a minute after RECORD
    served = _served(_child(root))
    assert "nestprobe.model.record" not in served
    assert "nestprobe.model.contract" in served


@needs_dump
def test_a_copy_that_kept_an_older_mtime_is_imported_the_usual_way(tmp_path: Path) -> None:
    root, past = _backdated(tmp_path)
    record = root / "nestprobe" / "model" / "record.py"
    _at(past - bytecode.SLACK_S - 60, record)  # cp -p, rsync -a, tar x of an older file
    served = _served(_child(root))
    assert "nestprobe.model.record" not in served
    assert "nestprobe.model.contract" in served


@needs_dump
def test_without_the_distributions_record_the_file_is_not_used(tmp_path: Path) -> None:
    assert not _served(_child(_copy(tmp_path, record=False)))


@needs_dump
def test_under_optimisation_the_usual_pycs_are_used(tmp_path: Path) -> None:
    assert not _served(_child(_copy(tmp_path), "-O"))


@needs_dump
def test_python_dash_m_runs_from_the_file(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    # runpy finds nestprobe.__main__ as any import does: the spec it runs is the file's.
    code = ("import runpy, sys\n"
            "sys.path.insert(0, sys.argv[1])\n"
            "import importlib.util\n"
            "spec = importlib.util.find_spec('nestprobe.__main__')\n"
            "print(type(spec.loader).__name__, file=sys.stderr, flush=True)\n"
            "sys.argv = ['nestprobe', 'report', '--from', sys.argv[2], '--json']\n"
            "runpy.run_module('nestprobe', run_name='__main__', alter_sys=True)\n")
    done = subprocess.run([sys.executable, "-c", code, str(root), str(DUMP)],
                          capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1, 3, 4, 5), done.stderr
    assert done.stderr.split()[0] == "BytecodeFinder", done.stderr
    assert json.loads(done.stdout)["source"]["kind"] == "dump"


#: The package's data files through both resource APIs, and who served the packages.
RESOURCES = r"""
import json, pkgutil, sys
sys.path.insert(0, sys.argv[1])
from importlib import resources
import nestprobe.bench, nestprobe.output
print(json.dumps({
    "files": resources.files("nestprobe.bench").joinpath("bench.schema.json").read_text(),
    "get_data": pkgutil.get_data("nestprobe.output", "report.schema.json").decode(),
    "loaders": {n: type(sys.modules[n].__spec__.loader).__name__
                for n in ("nestprobe.bench", "nestprobe.output")}}))
"""


def test_resources_are_read_from_the_package_folders(tmp_path: Path) -> None:
    with_file = _child(_copy(tmp_path / "a"), code=RESOURCES)
    without = _child(_copy(tmp_path / "b", with_file=False), code=RESOURCES)
    assert _served(with_file) == {"nestprobe.bench", "nestprobe.output"}
    assert with_file["files"] == without["files"]
    assert with_file["get_data"] == without["get_data"]
    assert json.loads(str(with_file["files"]))["$schema"]


#: Imports the package, then replaces the bytecode file as an upgrade would (one module
#: early in it grown, so every later offset moves), then imports modules not yet loaded.
UPGRADE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import nestprobe
from nestprobe import bytecode
package = nestprobe.__path__[0]
with open(package + "/__main__.py", "a", encoding="utf-8") as handle:
    handle.write("\nUPGRADED = True\n" + "# grown\n" * 200)
bytecode.build(package, sys.argv[2])
import nestprobe.__main__, nestprobe.verdicts.winsituation, nestprobe.decode.xen
print(json.dumps({"upgraded": nestprobe.__main__.UPGRADED,
                  "later": nestprobe.verdicts.winsituation.__name__,
                  "loader": type(nestprobe.decode.xen.__spec__.loader).__name__}))
"""


def test_a_file_replaced_while_the_process_runs_is_not_misread(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    done = subprocess.run([sys.executable, "-c", UPGRADE, str(root), RECORD],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["upgraded"] is True  # the grown module: the usual import, new source
    assert result["later"] == "nestprobe.verdicts.winsituation"
    # Still the finder's spec (the source is as indexed), its code compiled from the source.
    assert result["loader"] == "BytecodeFinder"


#: Every module's spec as the finder makes it: its ``cached`` (the module's ``__cached__``)
#: against what importlib would have made of its ``origin`` (the modules ``import
#: nestprobe`` imported the usual way left out), and each module's ``__file__`` and
#: ``__cached__`` once imported. LATER: a pycache prefix set after the
#: finder is installed, or "".
CACHED = r"""
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
from importlib.util import cache_from_source, find_spec
import nestprobe
from nestprobe.bytecode import BytecodeFinder
finder = next(f for f in sys.meta_path if isinstance(f, BytecodeFinder))
if LATER:
    sys.pycache_prefix = LATER
specs = {name: find_spec(name) for name in finder.modules if name not in sys.modules}
print(json.dumps({
    "by_hand": finder.pyc is not None,
    "served": sorted(n for n, s in specs.items() if isinstance(s.loader, BytecodeFinder)),
    "asked": sorted(specs),
    "differ": {n: [s.cached, cache_from_source(s.origin)] for n, s in specs.items()
               if s.cached != cache_from_source(s.origin)},
    # what the modules carry once imported (the loader's create_module presets them)
    "modules_differ": {
        n: [m.__file__, m.__cached__] for n in specs
        for m in [importlib.import_module(n)]
        if (m.__file__, m.__cached__) != (specs[n].origin, cache_from_source(specs[n].origin))},
}))
"""


@pytest.mark.parametrize("prefix", ["", "-X", "set"])
def test_each_modules_cached_path_is_importlibs(tmp_path: Path, prefix: str) -> None:
    """``__cached__`` is what importlib.util.cache_from_source gives for the source: made
    by hand where that is the same, by cache_from_source under a pycache prefix (given at
    start-up, or set after ``import nestprobe``)."""
    root = _copy(tmp_path)
    flags = ("-X", f"pycache_prefix={tmp_path / 'pyc'}") if prefix == "-X" else ()
    set_later = str(tmp_path / "later") if prefix == "set" else ""
    result = _child(root, *flags, code=CACHED.replace("LATER", repr(set_later)))
    assert result["differ"] == {}
    assert result["modules_differ"] == {}
    asked = result["asked"]
    assert isinstance(asked, list)
    assert len(asked) > 100
    assert result["served"] == asked
    # Made by hand unless the prefix was there when the finder was installed.
    assert result["by_hand"] is (prefix != "-X")


#: Every module's names, and the annotations of it and of the functions and classes it
#: defines, as JSON (an annotation that is no string as its repr, marked).
ANNOTATIONS = r"""
import importlib, json, pkgutil, sys, types
sys.path.insert(0, sys.argv[1])
import nestprobe
def shown(annotations):
    return {k: v if isinstance(v, str) else ["not a string", repr(v)]
            for k, v in annotations.items()}
modules = {}
for info in pkgutil.walk_packages(nestprobe.__path__, "nestprobe."):
    name = info.name
    if name in ("nestprobe.__main__", "nestprobe.bytecode", "nestprobe._native"):
        continue
    module = importlib.import_module(name)
    found = {"": shown(vars(module).get("__annotations__", {}))}
    for value in list(vars(module).values()):
        if getattr(value, "__module__", None) != name:
            continue
        if isinstance(value, type):
            found[value.__qualname__] = shown(vars(value).get("__annotations__", {}))
            members = [m for m in vars(value).values() if isinstance(m, types.FunctionType)]
        else:
            members = [value] if isinstance(value, types.FunctionType) else []
        for member in members:
            found[member.__qualname__] = shown(member.__annotations__)
    modules[name] = {"names": sorted(vars(module)), "annotations": found,
                     "loader": type(module.__spec__.loader).__name__}
print(json.dumps(modules))
"""


def test_served_modules_keep_postponed_annotations_without_the_future_import(
        tmp_path: Path) -> None:
    """The build compiles each module with its ``from __future__ import annotations`` as a
    compiler flag, not a statement: the annotations are the same strings as when the
    module is imported the usual way; the module only lacks the import's name."""
    served = _child(_copy(tmp_path / "a"), code=ANNOTATIONS)
    usual = _child(_copy(tmp_path / "b", with_file=False), code=ANNOTATIONS)
    assert served.keys() == usual.keys()
    assert len(served) > 100
    strings = 0
    for name, found in served.items():
        assert isinstance(found, dict)
        other = usual[name]
        assert isinstance(other, dict)
        assert (found["loader"], other["loader"]) == ("BytecodeFinder", "SourceFileLoader")
        assert found["annotations"] == other["annotations"], name
        assert set(other["names"]) - set(found["names"]) <= {"annotations"}, name
        assert set(found["names"]) <= set(other["names"]), name
        strings += sum(isinstance(v, str) for a in found["annotations"].values()
                       for v in a.values())
    assert strings > 1000  # postponed: not one evaluated


#: ``nestprobe check hyperv`` (the live probe), then whether ``__future__`` was imported. An
#: interpreter start may import it (an editable install's finder, from its .pth): forgotten
#: here, so that any ``from __future__`` statement the check runs puts it back.
CHECK = r"""
import os, sys
sys.modules.pop("__future__", None)
sys.path.insert(0, sys.argv[1])
from nestprobe.cli import main
code = main(["check", "hyperv", "--no-timing"], out=open(os.devnull, "w"))
print("__future__" in sys.modules, type(sys.modules["nestprobe.cli"].__spec__.loader).__name__)
"""


def _check(root: Path) -> list[str]:
    done = subprocess.run([sys.executable, "-c", CHECK, str(root)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_a_check_served_from_the_file_never_imports_future(tmp_path: Path) -> None:
    assert _check(_copy(tmp_path / "a")) == ["False", "BytecodeFinder"]
    # The same check importing the modules the usual way runs their future imports.
    assert _check(_copy(tmp_path / "b", with_file=False)) == ["True", "SourceFileLoader"]


#: A finder installed before ``import nestprobe`` (an import hook: typeguard, pytest's
#: assertion rewriting) is still asked first; ours sits just before the path finder.
HOOKED = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
asked = []
class Hook:
    @staticmethod
    def find_spec(name, path=None, target=None):
        asked.append(name)
        return None
sys.meta_path.insert(0, Hook)
import nestprobe.cli
from nestprobe import bytecode
bytecode.install(nestprobe.__path__[0])  # twice: still one finder
names = [getattr(f, "__name__", type(f).__name__) for f in sys.meta_path]
print(json.dumps({"asked": "nestprobe.cli" in asked, "meta_path": names}))
"""


def test_import_hooks_installed_before_keep_their_turn(tmp_path: Path) -> None:
    result = _child(_copy(tmp_path), code=HOOKED)
    assert result["asked"] is True
    names = result["meta_path"]
    assert isinstance(names, list)
    assert names[0] == "Hook"
    assert names.count("BytecodeFinder") == 1
    assert names.index("BytecodeFinder") + 1 == names.index("PathFinder")


def _finder(tmp_path: Path) -> tuple[bytecode.BytecodeFinder, Path]:
    root = _copy(tmp_path)
    package = root / "nestprobe"
    return bytecode._read_index(str(package / bytecode.FILE_NAME), str(package)), package


def test_the_finder_serves_only_its_own_packages_children(tmp_path: Path) -> None:
    finder, package = _finder(tmp_path)
    assert finder.find_spec("nestprobe.cli", [str(package)]) is not None
    assert finder.find_spec("nestprobe.cli", None) is None  # a top-level name
    assert finder.find_spec("nestprobe.cli", [str(tmp_path / "elsewhere")]) is None
    assert finder.find_spec("nestprobe.model.record", [str(package)]) is None  # not there
    assert finder.find_spec("json", None) is None
    spec = finder.find_spec("nestprobe.assess", [str(package)])
    assert spec is not None
    assert spec.submodule_search_locations == [str(package / "assess")]
    assert Path(str(spec.origin)) == package / "assess" / "__init__.py"


def test_the_loader_answers_as_a_path_loader(tmp_path: Path) -> None:
    finder, package = _finder(tmp_path)
    assert finder.is_package("nestprobe.assess")
    assert not finder.is_package("nestprobe.cli")
    cli = package / "cli.py"
    assert finder.get_source("nestprobe.cli") == cli.read_text(encoding="utf-8")
    assert finder.get_data(str(cli)) == cli.read_bytes()
    assert Path(finder.get_code("nestprobe.cli").co_filename) == cli


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


ONE = ((), 1)  # nothing read in one piece (after a last module ending at 1)


@pytest.mark.parametrize(("names", "packages", "ends", "together"), [
    (("nestprobe.cli",), frozenset(), (0,), ((), 0)),  # no code
    (("nestprobe.cli", "nestprobe.pipeline"), frozenset(), (8, 4), ((), 8)),  # before the last
    (("nestprobe.cli", "nestprobe.pipeline"), frozenset(), (4, 4), ((), 4)),  # the second has none
    (("nestprobe.cli",), frozenset(), (65,), ((), 65)),  # past the file's end
    (("nestprobe.cli",), frozenset(), (1.5,), ((), 2)),  # no offset
    (("os",), frozenset(), (1,), ONE),  # not the package's
    (("nestprobe",), frozenset(), (1,), ONE),  # the package itself
    ((5,), frozenset(), (1,), ONE),  # a name that is no text
    (("nestprobe.cli",), ("nestprobe.cli",), (1,), ONE),  # packages that are no set
    ((), frozenset(), (), ((), 0)),  # no module
    (("nestprobe.cli",), frozenset(), (1,), (("nestprobe.other",), 9)),  # one not indexed
    (("nestprobe.cli",), frozenset(), (1,), (["nestprobe.cli"], 9)),  # names that are no tuple
    (("nestprobe.cli",), frozenset(), (1,), (("nestprobe.cli",), 1)),  # an empty piece
    (("nestprobe.cli",), frozenset(), (1,), (("nestprobe.cli",), 65)),  # past the file's end
    (("nestprobe.cli",), frozenset(), (1,), (("nestprobe.cli",), 9.0)),  # no offset
])
def test_a_damaged_index_is_not_used(tmp_path: Path, names: tuple[object, ...],
                                     packages: object, ends: tuple[object, ...],
                                     together: tuple[object, object]) -> None:
    root = _copy(tmp_path)
    index = marshal.dumps((RECORD, names, packages, (1,) * len(names), ends, *together))
    path = root / "nestprobe" / bytecode.FILE_NAME
    path.write_bytes(bytecode.HEADER + bytecode.MAGIC_NUMBER
                     + len(index).to_bytes(4, "little") + index + b"\x00" * 64)
    assert bytecode.install(str(root / "nestprobe")) is None


def test_an_index_within_bounds_is_used(tmp_path: Path) -> None:
    """The cases above are refused for what they change, not for the file they are in."""
    root = _copy(tmp_path)
    index = marshal.dumps((RECORD, ("nestprobe.cli", "nestprobe.pipeline"),
                           frozenset(), (1, 1), (4, 60), ("nestprobe.pipeline",), 64))
    path = root / "nestprobe" / bytecode.FILE_NAME
    path.write_bytes(bytecode.HEADER + bytecode.MAGIC_NUMBER
                     + len(index).to_bytes(4, "little") + index + b"\x00" * 64)
    finder = bytecode._read_index(str(path), str(root / "nestprobe"))
    assert set(finder.modules) == {"nestprobe.cli", "nestprobe.pipeline"}
    assert finder.together == {"nestprobe.pipeline"}


def test_no_file_no_finder(tmp_path: Path) -> None:
    root = _copy(tmp_path, with_file=False)
    assert bytecode.install(str(root / "nestprobe")) is None


def test_the_index_names_every_module_once(tmp_path: Path) -> None:
    finder, package = _finder(tmp_path)
    sources = {p.relative_to(package).as_posix() for p in package.rglob("*.py")}
    named = [Path(finder.get_filename(name)).relative_to(package).as_posix()
             for name in finder.modules]
    assert len(named) == len(set(named))
    assert set(named) == sources - {"__init__.py"}
    assert finder.is_package("nestprobe.assess")
    assert not finder.is_package("nestprobe.cli")
    with pytest.raises(ImportError):
        finder.get_filename("nestprobe.nothing")


#: What the finder did with the modules it reads in one piece: nothing on ``import
#: nestprobe``; then, replaying a dump, each one imported taken from the piece (the rest
#: still held), and a reload read on its own.
TOGETHER = r"""
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
import nestprobe
from nestprobe.bytecode import BytecodeFinder
finder = next(f for f in sys.meta_path if isinstance(f, BytecodeFinder))
first = sorted(m for m in sys.modules if m.startswith("nestprobe"))
untouched = finder.held is None
report = nestprobe.load(sys.argv[2])
imported = sorted(n for n in finder.together if n in sys.modules)
held = sorted(finder.held or ())
import nestprobe.verdicts.matrix as matrix
again = importlib.reload(matrix)
print(json.dumps({"first": first, "untouched": untouched, "imported": imported,
                  "held": held, "together": sorted(finder.together),
                  "loaders": sorted({type(sys.modules[n].__spec__.loader).__name__
                                     for n in imported}),
                  "reloaded": len(again.RULES) == len(matrix.RULES) > 0}))
"""


@needs_dump
def test_the_checks_modules_are_read_in_one_piece_after_the_package(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    result = _child(root, code=TOGETHER)
    together = result["together"]
    assert isinstance(together, list)
    first = set(bytecode.imported_with_the_package(str(root / "nestprobe")))
    # What import nestprobe imports is read on its own, and none of it is in the piece.
    assert set(result["first"]) <= first  # type: ignore[arg-type]
    assert result["untouched"] is True
    assert not first & set(together)
    assert set(together) == {n for n in CHECK_MODULES if n not in first} - {
        "nestprobe._native", "nestprobe._native.lib"}  # no Python source
    imported = result["imported"]
    assert isinstance(imported, list)
    assert len(imported) > 30
    assert result["loaders"] == ["BytecodeFinder"]
    # each one imported was taken from the piece, the others are still held
    assert sorted(result["held"]) == sorted(set(together) - set(imported))  # type: ignore[arg-type]
    assert result["reloaded"] is True


def test_the_loader_executes_a_module_made_without_a_file(tmp_path: Path) -> None:
    """exec_module as importlib's own loaders allow it: on a bare module object."""
    import types

    finder, package = _finder(tmp_path)
    module = types.ModuleType("nestprobe.output.wrap")
    finder.exec_module(module)
    assert callable(module.wrap)
    assert Path(module.wrap.__code__.co_filename) == package / "output" / "wrap.py"
