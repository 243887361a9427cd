"""The import graph draws the layers the folders promise (docs/architecture.md).

    apps      cli, bench, fleet, output      (and the package root's lazy API)
    pipeline  Snapshot -> Report
    stages    verdicts > assess > decode, sources
    native    the only importer of the compiled extension
    model     types only: imports nothing else of nestprobe

Every import counts, including those inside functions and under TYPE_CHECKING: a lazy
upward import is still an upward dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "nestprobe"
if not PACKAGE.is_dir():  # e.g. the Windows stage tests an installed wheel
    pytest.skip("reads the source tree, which is not beside these tests", allow_module_level=True)

#: Rank of each top-level part of the package; an import may only go to a lower rank,
#: or stay inside its own part (then it must not form a cycle).
RANKS: dict[str, int] = {
    "model": 0,
    "native": 1,
    "_native": 1,
    "sources": 2,
    "decode": 2,
    "assess": 3,
    "verdicts": 4,
    "pipeline": 5,
    "output": 6,
    "bench": 7,
    "fleet": 7,
    "cli": 8,
    "__main__": 9,
    "": 9,  # the package root: probe(), load() import the pipeline lazily
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, here: str | None = None) -> set[str]:
    """Every nestprobe module ``path`` imports, resolved to module names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = here or _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
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
                found.add(candidate if _exists(candidate) else module)
    return found


def _exists(module: str) -> bool:
    rel = Path(*module.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


GRAPH = _graph()


def test_every_part_has_a_rank() -> None:
    unranked = sorted({_part(m) for m in GRAPH} - set(RANKS))
    assert not unranked, f"new top-level parts need a rank in RANKS: {unranked}"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_only_point_down(module: str) -> None:
    here = _part(module)
    upward = sorted(
        target
        for target in GRAPH[module]
        if _part(target) != here and RANKS.get(_part(target), 99) >= RANKS[here]
    )
    assert not upward, f"{module} imports upward or sideways: {upward}"


def test_model_imports_nothing_else_of_the_package() -> None:
    outside = {
        module: sorted(t for t in targets if _part(t) != "model")
        for module, targets in GRAPH.items()
        if _part(module) == "model"
    }
    assert all(not v for v in outside.values()), outside


def test_no_import_cycles() -> None:
    """Tarjan's strongly connected components over the module graph: none larger than one."""
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
        for target in GRAPH.get(node, ()):
            if target not in GRAPH or target == node:
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

    for module in GRAPH:
        if module not in index:
            visit(module)
    assert not cycles, f"import cycles: {cycles}"


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """The parser resolves relative and `from x import module` forms, so a violation is found."""
    assert "nestprobe.model.latency" in GRAPH["nestprobe.model.snapshot"]
    probe = tmp_path / "probe.py"
    probe.write_text("from nestprobe.assess import bands\nfrom ..verdicts import rules\n",
                     encoding="utf-8")
    assert _imports(probe, "nestprobe.model.probe") == {
        "nestprobe.assess.bands", "nestprobe.verdicts.rules"}
