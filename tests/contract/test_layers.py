"""The import graph draws design.md's layers, module by module (docs/architecture.md).

    apps      cli, bench, fleet (and the package root's lazy API) -> pipeline, output, model
    output    the renderers                                        -> model
    pipeline  Snapshot -> Report; the apps' door to the stages      -> sources, assess, verdicts
    stages    verdicts -> model;  assess -> decode, model;  decode -> model;
              sources -> native, model
    native    native/: only its __init__ imports the compiled nestprobe._native;
              native/bench.py and native/proof.py reach it through the core
    model     types only: imports nothing else of nestprobe

Each rule names the layers a module may import, so a skip-layer import (verdicts reading
a decoder, output reading a source, an app reaching past the pipeline) fails even though
it points "down". Every import counts, including those inside functions and under
TYPE_CHECKING: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "nestprobe"
CSRC = REPO / "csrc"
if not PACKAGE.is_dir():  # e.g. the Windows stage tests an installed wheel
    pytest.skip("reads the source tree, which is not beside these tests", allow_module_level=True)

#: The layers each layer may import, besides its own (design.md, "Layers").
ALLOWED: dict[str, frozenset[str]] = {
    "model": frozenset(),
    "native": frozenset({"model"}),
    "sources": frozenset({"native", "model"}),
    "decode": frozenset({"model"}),
    "assess": frozenset({"decode", "model"}),
    "verdicts": frozenset({"model"}),
    "pipeline": frozenset({"sources", "assess", "verdicts", "model"}),
    "output": frozenset({"model"}),
    # The bench's live runner drives the native samplers of csrc/np_bench.c, which no stage
    # wraps (they observe the machine for the bench alone); the probe's own sampling goes
    # through sources/latency.py. Everything else of the bench goes through the pipeline.
    "apps": frozenset({"pipeline", "output", "model", "native"}),
}
#: Apps that may use the native layer (see ALLOWED["apps"]); every other app may not.
NATIVE_APPS = frozenset({"nestprobe.bench.collect"})

#: Skip-layer imports still to be removed, each with its reason and owner. Each entry must
#: still be in the graph (the test fails when one is no longer needed, so the set only
#: shrinks). The `facts` work (issue 17 items 2-4) emptied the first list (verdicts read
#: decode/winpaths, decode/winbuild, assess/identity.py). Pending now:
KNOWN_PENDING: frozenset[tuple[str, str]] = frozenset({
    # Readiness (issue 20, `installers`): output and the CLI compute it from a Verdict with
    # verdicts/readiness.py (it reads the remediation table). The arrow design.md draws:
    # verdicts decide it, the Verdict (model) carries it, output only renders it.
    ("nestprobe.output.jsonreport", "nestprobe.verdicts.readiness"),
    ("nestprobe.output.lines", "nestprobe.verdicts.readiness"),
    ("nestprobe.cli", "nestprobe.verdicts.readiness"),
    # The bench's guest series (issue 19, `prove`): bench/collect.py judges the guest's speed
    # with assess/proof.py's threshold. The arrow design.md draws: through the pipeline (or
    # the threshold in the model).
    ("nestprobe.bench.collect", "nestprobe.assess.proof"),
})


def layer(module: str) -> str:
    """The layer of a nestprobe module name."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    if top in ("native", "_native"):
        return "native"
    if top in ("model", "sources", "decode", "assess", "verdicts", "pipeline", "output"):
        return top
    return "apps"  # cli, __main__, bench, fleet, the package root


def _module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _exists(module: str, root: Path = PACKAGE) -> bool:
    if module == "nestprobe._native":  # the compiled extension: no .py, maybe not built yet
        return True
    rel = Path(*module.split(".")[1:])
    return (root / rel).with_suffix(".py").is_file() or (root / rel / "__init__.py").is_file()


def _imports(source: str, here: str, is_package: bool = False,
             root: Path = PACKAGE) -> set[str]:
    """Every nestprobe module ``source`` (the text of module ``here``) imports."""
    tree = ast.parse(source)
    package = here if is_package else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "nestprobe")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            if module.split(".")[0] != "nestprobe":
                continue
            for alias in node.names:  # `from nestprobe.x import y` may name a module y
                candidate = f"{module}.{alias.name}"
                found.add(candidate if _exists(candidate, root) else module)
        elif isinstance(node, ast.Call) and _names_module(node):  # importlib.import_module
            found.add(node.args[0].value)  # type: ignore[attr-defined]
    return found


def _names_module(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return (name in ("import_module", "__import__") and bool(call.args)
            and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)
            and call.args[0].value.startswith("nestprobe"))


def graph_of(root: Path) -> dict[str, set[str]]:
    return {
        _module_name(p, root): _imports(p.read_text(encoding="utf-8"), _module_name(p, root),
                                        p.name == "__init__.py", root)
        for p in sorted(root.rglob("*.py"))
    }


def forbidden(module: str, target: str) -> bool:
    """Whether design.md's arrows forbid ``module`` importing ``target``."""
    here, there = layer(module), layer(target)
    if target == "nestprobe._native":
        return module != "nestprobe.native"
    if there == here:
        return False
    if there == "native" and here == "apps":
        return module not in NATIVE_APPS
    return there not in ALLOWED[here]


def violations(graph: Mapping[str, Iterable[str]]) -> set[tuple[str, str]]:
    """Every (importer, imported) edge design.md's arrows forbid."""
    return {(m, t) for m, targets in graph.items() for t in targets if forbidden(m, t)}


GRAPH = graph_of(PACKAGE)


def test_imports_follow_the_layers() -> None:
    found = violations(GRAPH)
    new = sorted(found - KNOWN_PENDING)
    assert not new, "imports that skip or climb a layer (design.md):\n" + "\n".join(
        f"  {a} -> {b}  ({layer(a)} may import {sorted(ALLOWED[layer(a)])})" for a, b in new)


def test_known_pending_only_shrinks() -> None:
    """An entry nobody needs any more must go, so the exceptions cannot outlive their cause."""
    gone = sorted(KNOWN_PENDING - violations(GRAPH))
    assert not gone, f"no longer imported; delete from KNOWN_PENDING: {gone}"


def test_model_imports_nothing_else_of_the_package() -> None:
    outside = {m: sorted(t for t in ts if layer(t) != "model")
               for m, ts in GRAPH.items() if layer(m) == "model"}
    assert all(not v for v in outside.values()), outside


def test_the_cffi_lib_never_leaves_the_native_package() -> None:
    """No module outside native/ holds the extension's ``ffi``/``lib`` or asks for them."""
    holders: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent == PACKAGE / "native":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr in ("lib", "ffi", "load_lib")) or (
                    isinstance(node, ast.alias) and node.name in ("load_lib", "_native")):
                holders.append(f"{_module_name(path)}:{getattr(node, 'lineno', '?')}")
    assert not holders, holders


def test_no_import_cycles() -> None:
    cycles = strongly_connected(GRAPH)
    assert not cycles, f"import cycles: {cycles}"


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components larger than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in graph or target == node:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    return cycles


# ---- the checker checks ------------------------------------------------------------------


def test_the_parser_resolves_every_import_form() -> None:
    """Relative, `from x import module`, lazy, TYPE_CHECKING and import_module forms."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "from nestprobe.assess import bands\n"
        "from ..verdicts import rules\n"
        "if TYPE_CHECKING:\n    from nestprobe.decode.cpu import CpuInfo\n"
        "def f():\n    import nestprobe.sources.live\n"
        "    importlib.import_module('nestprobe._native')\n"
    )
    assert _imports(source, "nestprobe.model.probe") == {
        "nestprobe.assess.bands", "nestprobe.verdicts.rules", "nestprobe.decode.cpu",
        "nestprobe.sources.live", "nestprobe._native"}
    assert "nestprobe.model.latency" in GRAPH["nestprobe.model.snapshot"]


@pytest.mark.parametrize(("importer", "imported"), [
    ("nestprobe.verdicts.x", "nestprobe.decode.winpaths"),  # skips assess to reach decode
    ("nestprobe.verdicts.x", "nestprobe.assess.identity"),  # a stage's internals
    ("nestprobe.output.console", "nestprobe.sources.inputfile"),  # output reads the model only
    ("nestprobe.bench.result", "nestprobe.sources.load"),  # apps go through the pipeline
    ("nestprobe.bench.plot", "nestprobe.assess.bands"),
    ("nestprobe.cli", "nestprobe.native"),  # only the bench's runner drives native code
    ("nestprobe.assess.x", "nestprobe.sources.live"),  # assess reads snapshots, not sources
    ("nestprobe.sources.x", "nestprobe._native"),  # the extension has one door
    ("nestprobe.native.bench", "nestprobe._native"),  # ... even inside the native package
    ("nestprobe.cli", "nestprobe.native.proof"),  # --prove goes through sources/proof.py
    ("nestprobe.model.x", "nestprobe.decode.cpu"),  # model imports nothing else
    ("nestprobe.decode.x", "nestprobe.assess.identity"),  # upward
])
def test_the_checker_catches_a_skip_layer_import(importer: str, imported: str) -> None:
    assert violations({importer: {imported}}) == {(importer, imported)}


def test_the_checker_catches_it_in_a_package_tree(tmp_path: Path) -> None:
    """The whole path, files to verdict: a lazy skip-layer import in a verdicts module."""
    root = tmp_path / "nestprobe"
    for folder in ("verdicts", "decode", "model"):
        (root / folder).mkdir(parents=True)
        (root / folder / "__init__.py").write_text("", encoding="utf-8")
    (root / "__init__.py").write_text("", encoding="utf-8")
    (root / "model" / "facts.py").write_text("X = 1\n", encoding="utf-8")
    (root / "decode" / "winpaths.py").write_text("from ..model import facts\n",
                                                 encoding="utf-8")
    (root / "verdicts" / "rules.py").write_text(
        "def f():\n    from .. decode import winpaths\n    return winpaths\n",
        encoding="utf-8")
    graph = graph_of(root)
    assert graph["nestprobe.decode.winpaths"] == {"nestprobe.model.facts"}
    assert violations(graph) == {("nestprobe.verdicts.rules", "nestprobe.decode.winpaths")}


def test_the_checker_allows_what_design_draws() -> None:
    allowed = {
        "nestprobe.cli": {"nestprobe.pipeline", "nestprobe.output.text", "nestprobe.bench.cli"},
        "nestprobe.pipeline": {"nestprobe.sources.live", "nestprobe.verdicts.evaluate"},
        "nestprobe.assess.hwvirt": {"nestprobe.decode.cpu", "nestprobe.model.snapshot"},
        "nestprobe.sources.live": {"nestprobe.native", "nestprobe.model.snapshot"},
        "nestprobe.bench.collect": {"nestprobe.native", "nestprobe.native.bench",
                                    "nestprobe.native.proof", "nestprobe.pipeline"},
        "nestprobe.sources.proof": {"nestprobe.native.proof", "nestprobe.model.proof"},
        "nestprobe.native": {"nestprobe._native", "nestprobe.model.errors"},
        "nestprobe.native.proof": {"nestprobe.native", "nestprobe.model.proof"},
    }
    assert violations(allowed) == set()


def test_the_cycle_finder_finds_one() -> None:
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [
        ["a", "b", "c"]]


# ---- csrc/: the C files form no circle ---------------------------------------------------

_DEFINITION = re.compile(r"^(?!static\b)[A-Za-z_][\w \*]*?\b(\w+)\s*\([^;]*?\)\s*\{",
                         re.MULTILINE | re.DOTALL)


def c_graph(folder: Path) -> dict[str, set[str]]:
    """file -> the other .c files whose non-static functions it calls."""
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.c"))}
    owner = {name: file for file, text in texts.items() for name in _DEFINITION.findall(text)
             if name != "main"}
    return {
        file: {owner[name] for name in set(re.findall(r"\b(\w+)\s*\(", text))
               if name in owner and owner[name] != file}
        for file, text in texts.items()
    }


def test_c_files_form_no_circle() -> None:
    graph = c_graph(CSRC)
    assert graph["tool_nestprobe_dump.c"] >= {"np_cpuid.c", "np_dump.c"}  # the parser sees
    assert not strongly_connected(graph), graph


def test_library_sources_call_no_tool() -> None:
    graph = c_graph(CSRC)
    assert {f: sorted(t for t in ts if t.startswith("tool_"))
            for f, ts in graph.items() if f.startswith("np_")} == {
        f: [] for f in graph if f.startswith("np_")}


def test_the_c_checker_sees_a_circle(tmp_path: Path) -> None:
    (tmp_path / "a.c").write_text("int fa(void)\n{\n    return fb();\n}\n", encoding="utf-8")
    (tmp_path / "b.c").write_text("int fb(void)\n{\n    return fa();\n}\n", encoding="utf-8")
    assert strongly_connected(c_graph(tmp_path)) == [["a.c", "b.c"]]
