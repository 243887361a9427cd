"""The cold start of ``nestprobe check``: what it imports may not grow unnoticed.

``check`` is what installers run, so its start-up counts (README "Performance"; the time
itself is measured by bench/processes.py, never asserted here). Modules are what can be
checked without timing anything: a fresh interpreter runs ``check hyperv`` (the live probe,
as an installer would) and reports which modules that added to its start. They must all be
in ``tests/cli/cold_start_modules.txt``; a module that joins on purpose is added by

    python tests/cli/test_cold_start.py --update

and the commit says why. Some are never allowed: ``typing`` (a probe-path module imports
typing's names from nestprobe/model/typeshim.py instead), the bench and fleet apps, and the
stdlib modules only they or the help text use.

``_quick_parse`` reads the plain ``report`` and ``check`` lines without argparse; for every
line it takes, argparse must give the same namespace.
"""

from __future__ import annotations

import ast
import os
import site
import subprocess
import sys
from pathlib import Path

import pytest

from nestprobe.cli import _quick_parse, _with_default_command
from nestprobe.parser import build_parser

ALLOWLIST = Path(__file__).resolve().parent / "cold_start_modules.txt"
REPO = Path(__file__).resolve().parents[2]

#: Runs ``check hyperv`` as the installed command does (scripts/nestprobe, the file pip
#: installs on POSIX) and prints the modules it imported beyond the interpreter's start.
CHILD = """
import sys
before = set(sys.modules)
import gc, os
# Compiled first, as the interpreter compiles a script before running it: a collection
# its parse triggers is none of the script's doing.
script = compile(open(SCRIPT).read(), SCRIPT, "exec")
collections = gc.get_stats()[0]["collections"]
os._exit = sys.exit  # the script leaves with os._exit (cli.run): this child has more to say
sys.argv = ["nestprobe", *ARGV]
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
try:
    exec(script, {"__name__": "__main__"})
except SystemExit:
    pass
added = sorted(set(sys.modules) - before)  # os and gc too: the script imports both
print(" ".join(added), file=sys.stderr)
print(gc.isenabled(), gc.get_stats()[0]["collections"] - collections, file=sys.stderr)
"""
SCRIPT = REPO / "scripts" / "nestprobe"

#: Never on the check path: typing's run-time cost, re and what it imports (with them ~7 ms
#: of an ~11 ms interpreter start; model/lazyre.py, model/typeshim.py), the other apps,
#: what only they use, the native callers only the bench, --prove and tests need, the
#: argparse parser (for what the quick parse leaves to it) and the reading of a JSON report
#: back.
FORBIDDEN = {
    "typing", "re", "enum", "functools", "collections", "contextlib", "textwrap",
    "unicodedata", "warnings", "importlib", "operator", "types", "math", "argparse",
    "gettext", "shutil", "json", "dataclasses", "traceback",
    "subprocess", "multiprocessing", "concurrent", "inspect", "tempfile", "bz2", "lzma",
    "nestprobe.bench", "nestprobe.fleet", "nestprobe.sources.load",
    "nestprobe.sources.importers", "nestprobe.output.jsonreport", "nestprobe.parser",
    "nestprobe.model.readreport",
    "nestprobe.native.bench", "nestprobe.native.proof", "nestprobe.native.tablewalk",
}

needs_linux = pytest.mark.skipif(
    sys.platform != "linux", reason="the allowlist is Linux's probe path (Windows reads the "
    "registry through other modules)")


def check_imports(*, no_site: bool = False, argv: tuple[str, ...] = ("check", "hyperv")
                  ) -> list[str]:
    """The modules ``check hyperv`` adds; ``no_site``: without site's ``.pth`` hooks (an
    editable install's finder imports re, pathlib ... at start-up, hiding them), as a
    clean install starts."""
    return run_child(no_site=no_site, argv=argv)[0].split()


def run_child(*, no_site: bool = False, argv: tuple[str, ...] = ("check", "hyperv")
              ) -> list[str]:
    """CHILD's two lines: the modules the script imported; the collector's state after it
    and how many collections ran meanwhile."""
    env = dict(os.environ)
    options: list[str] = []
    if no_site:
        options = ["-S"]
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), *site.getsitepackages()])
    if not SCRIPT.is_file():
        pytest.skip("reads scripts/nestprobe, which is not beside these tests")
    child = CHILD.replace("SCRIPT", repr(str(SCRIPT))).replace("*ARGV", repr(argv)[1:-1])
    done = subprocess.run([sys.executable, *options, "-c", child], capture_output=True,
                          text=True, check=True, timeout=120, env=env)
    return done.stderr.splitlines()[-2:]


def allowed() -> set[str]:
    return {line.split("#")[0].strip() for line in ALLOWLIST.read_text().splitlines()} - {""}


@needs_linux
@pytest.mark.parametrize("no_site", [False, True], ids=["site", "no-site"])
def test_check_imports_only_allowed_modules(no_site: bool) -> None:
    new = set(check_imports(no_site=no_site)) - allowed()
    assert not new, (f"`nestprobe check` now imports {sorted(new)}; if that is on purpose, run "
                     "python tests/cli/test_cold_start.py --update and say why in the commit")


@needs_linux
@pytest.mark.parametrize("no_site", [False, True], ids=["site", "no-site"])
def test_check_never_imports_the_forbidden(no_site: bool) -> None:
    imported = set(check_imports(no_site=no_site))
    hits = {m for m in imported if m in FORBIDDEN or m.rpartition(".")[0] in FORBIDDEN
            or any(m.startswith(f + ".") for f in FORBIDDEN)}
    assert not hits


@needs_linux
def test_the_json_report_imports_neither_json_nor_re() -> None:
    """``nestprobe --json`` writes its text itself (output/jsontext.py): the modules of
    check's list, the JSON report's own (its readiness blocks included) and ``_json``'s C
    quoting; nothing forbidden but the JSON report module itself."""
    imported = set(check_imports(argv=("--json",)))
    assert not imported & (FORBIDDEN - {"nestprobe.output.jsonreport"})
    assert not imported - allowed() - {"_json", "nestprobe.output.jsonreport",
                                       "nestprobe.output.jsontext", "nestprobe.verdicts.readiness"}


def test_the_installed_command_runs_a_report_without_the_collector() -> None:
    """scripts/nestprobe turns the cyclic collector off before importing anything: what a
    report builds lives until the process ends (nestprobe.cli.collecting_garbage)."""
    assert run_child()[1].split() == ["False", "0"]


EXIT_CHILD = """
import atexit, os, sys
real_exit = os._exit

def spy(code):  # what cli.run leaves by, seen from outside
    sys.stderr.write(f"os._exit({code})\\n")
    sys.stderr.flush()
    real_exit(code)

os._exit = spy
WATCHER
sys.argv = ["nestprobe", *ARGV]
exec(compile(open(SCRIPT).read(), SCRIPT, "exec"), {"__name__": "__main__"})
"""

#: Something in the process that waits for the interpreter's own exit.
WATCHERS = {
    "none": "",
    "an exit handler": 'atexit.register(lambda: print("exit handler ran", file=sys.stderr))',
    "a profiler": "sys.setprofile(lambda *_: None)",
}


def run_script(*argv: str, watcher: str = "none") -> subprocess.CompletedProcess[str]:
    """The script in a fresh interpreter without site's ``.pth`` hooks (one may register an
    exit handler of its own, as this machine's does), ``watcher`` added before it runs."""
    if not SCRIPT.is_file():
        pytest.skip("reads scripts/nestprobe, which is not beside these tests")
    child = (EXIT_CHILD.replace("SCRIPT", repr(str(SCRIPT)))
             .replace("*ARGV", repr(argv)[1:-1]).replace("WATCHER", WATCHERS[watcher]))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), *site.getsitepackages()]))
    return subprocess.run([sys.executable, "-S", "-c", child], capture_output=True, text=True,
                          timeout=120, check=False, env=env)


def _a_dump() -> str:
    from conftest import FIXTURES

    return str(sorted((FIXTURES / "corpus").glob("*.dump"))[0])


def test_a_one_shot_command_leaves_at_once_with_its_whole_output_and_code() -> None:
    """cli.run: after a report (or check, or dump) the process leaves with os._exit, its
    streams flushed: the same text and exit code as main(), no interpreter teardown."""
    import io

    from nestprobe.cli import main

    dump = _a_dump()
    done = run_script("check", "hyperv", "--from", dump)
    expected = io.StringIO()
    code = main(["check", "hyperv", "--from", dump], out=expected)
    assert done.returncode == code
    assert done.stdout == expected.getvalue()
    assert done.stderr.splitlines()[-1:] == [f"os._exit({code})"]


@pytest.mark.parametrize("watcher", ["an exit handler", "a profiler"])
def test_with_something_waiting_for_the_exit_it_leaves_the_usual_way(watcher: str) -> None:
    """Coverage saves its data in an exit handler; ``python -m cProfile`` prints after the
    program returns: with either in the process the interpreter's own exit runs."""
    done = run_script("check", "hyperv", "--from", _a_dump(), watcher=watcher)
    assert "os._exit" not in done.stderr
    assert done.stdout.startswith(("Yes", "No", "Cannot", "Probably", "Maybe"))
    if watcher == "an exit handler":
        assert "exit handler ran" in done.stderr


def test_other_commands_leave_the_usual_way() -> None:
    done = run_script("--version", watcher="an exit handler")
    assert done.returncode == 0
    assert done.stdout.startswith("nestprobe ")
    assert "os._exit" not in done.stderr
    assert "exit handler ran" in done.stderr


def test_a_fresh_fleet_worker_keeps_the_collector() -> None:
    """spawn and forkserver start a worker by running the main script again as __mp_main__:
    the script turns the collector off only as the program, and a worker turns it on."""
    if not SCRIPT.is_file():
        pytest.skip("reads scripts/nestprobe, which is not beside these tests")
    child = (f"import gc, runpy; runpy.run_path({str(SCRIPT)!r}, run_name='__mp_main__'); "
             "print(gc.isenabled()); gc.disable(); "
             "from nestprobe.fleet.pool import _worker_start; _worker_start(); "
             "print(gc.isenabled())")
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.split() == ["True", "True"]


@pytest.mark.parametrize("command", ["bench", "fleet"])
@pytest.mark.parametrize("before", [False, True])
def test_bench_and_fleet_run_with_the_collector_and_leave_it_as_it_was(
        command: str, before: bool) -> None:
    import gc
    from types import SimpleNamespace

    from nestprobe import cli
    from nestprobe.output.console import Console

    seen: list[bool] = []

    def handler(_args: object, _out: object) -> int:
        seen.append(gc.isenabled())
        return 0

    was = gc.isenabled()
    try:
        (gc.enable if before else gc.disable)()
        args = SimpleNamespace(command=command, handler=handler)
        assert cli._dispatch(args, Console(open(os.devnull, "w"))) == 0  # noqa: SIM115
        assert seen == [True]
        assert gc.isenabled() is before
    finally:
        (gc.enable if was else gc.disable)()


def test_allowlist_names_nothing_forbidden() -> None:
    assert not (allowed() & FORBIDDEN)


QUICK_LINES = [
    ["check", "hyperv"],
    ["check", "wsl2", "-q"],
    ["check", "--json", "azure-local"],
    ["check", "third-party", "--from", "dump.txt", "--cpu", "3", "--no-timing"],
    ["check", "hyperv", "--from=-", "--cpu=0", "-v"],
    ["check", "hyperv-containers", "--thorough", "--quiet"],
    ["check", "wsl2", "--ready", "-q"],
    ["check", "hyperv", "--prove", "--from", "x.dump"],
    ["--json"],
    ["--json", "--no-timing"],
    ["-v", "--from", "x.dump"],
    ["report", "--format", "prometheus"],
    ["report", "--format=json", "--thorough"],
    [],
]

#: Lines the quick parser must leave to argparse (help, errors, abbreviations, repeats).
ARGPARSE_LINES = [
    ["check"], ["check", "nope"], ["check", "hyperv", "wsl2"], ["check", "hyperv", "-h"],
    ["check", "hyperv", "--js"], ["check", "hyperv", "--json", "--json"],
    ["check", "hyperv", "--cpu", "-1"], ["check", "hyperv", "--cpu", "x"],
    ["check", "hyperv", "--cpu"], ["check", "hyperv", "--from", "--json"],
    ["check", "hyperv", "-qv"], ["check", "hyperv", "--", "x"], ["--format", "yaml"],
    ["--help"], ["--version"], ["dump"], ["fleet", "x"], ["bench"], ["report", "-q"],
    ["check", "hyperv", "--json=1"], ["check", "hyperv", "--cpu", "٣"],
]


@pytest.mark.parametrize("line", QUICK_LINES, ids=" ".join)
def test_quick_parse_equals_argparse(line: list[str]) -> None:
    argv = _with_default_command(line)
    quick = _quick_parse(argv)
    assert quick is not None
    assert vars(quick) == vars(build_parser(argv[0]).parse_args(argv))


@pytest.mark.parametrize("line", ARGPARSE_LINES, ids=" ".join)
def test_quick_parse_leaves_the_rest_to_argparse(line: list[str]) -> None:
    assert _quick_parse(_with_default_command(line)) is None


def test_one_command_builds_only_its_parser() -> None:
    parser = build_parser("check")
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == {"check"}  # type: ignore[arg-type]
    every = next(a for a in build_parser(None)._actions if a.dest == "command")
    assert set(every.choices) == {"report", "check", "dump", "bench", "fleet"}  # type: ignore[arg-type]


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/cli/test_cold_start.py --update")
    header = ("# Modules `nestprobe check hyperv` imports beyond the interpreter's start "
              "(tests/cli/test_cold_start.py).\n# Regenerate: python tests/cli/test_cold_start.py "
              "--update; the commit says why a module joined.\n")
    found = sorted(set(check_imports()) | set(check_imports(no_site=True)))
    ALLOWLIST.write_text(header + "".join(f"{m}\n" for m in found))
    print(f"wrote {ALLOWLIST}")


def _import_time_compiles(tree: ast.AST) -> list[int]:
    """Lines where ``re.compile(...)`` runs at import: outside every function body."""
    lines: list[int] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return  # runs when called, not at import
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "compile" and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "re"):
            lines.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return lines


def test_no_regular_expression_is_compiled_at_import() -> None:
    """Module-level patterns are ``lazy_compile`` (nestprobe/model/lazyre.py): compiled when
    first used, so a run pays only for the patterns it reaches."""
    package = REPO / "nestprobe"
    if not package.is_dir():
        pytest.skip("reads the source tree, which is not beside these tests")
    found = {
        str(path.relative_to(REPO)): lines
        for path in sorted(package.rglob("*.py"))
        if path.name != "lazyre.py"
        and (lines := _import_time_compiles(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert not found
