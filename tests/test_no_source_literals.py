"""Stages above assess read Facts, never evidence sources (issue 17 item 4).

verdicts/ and output/ must not name where a fact came from: no string there may be an
evidence source (``"/proc/meminfo"``, ``"msinfo32:Total Physical Memory"``,
``"CPUID.0x40000003"``), whether written as a literal (spaces and all), an f-string, a
concatenation, or a constant imported from below (``model.oskeys.TOTAL_PHYS``); and no code
there compares an evidence's ``.source``. Docstrings and prose (a remediation step, a
"where to confirm" sentence: a path followed by words, not by ``:label``) are not sources.
A new input format then reaches the verdicts without teaching them its vocabulary.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "nestprobe"
LAYERS = ("verdicts", "output")

#: The evidence source vocabulary (model/evidence.py). A path (or CPUID field) is a source
#: when it ends there or goes on with ``:label`` (``/proc/cpuinfo:vmx flags``); prose goes
#: on with a space (``/dev/kvm exists but ...``).
_PATHLIKE = re.compile(
    r"^(CPUID(\.\S*)?|/(proc|sys|dev|run)/\S*?|/\.dockerenv|ioctl\(\S*|timing:\S+|uname:\S+"
    r"|cpuid-status|IA32_\w+)(:.*)?$", re.DOTALL)
#: Windows pseudo-paths, SMBIOS fields and a pasted tool's ``<tool>:<label>``: their labels
#: have spaces, and no prose starts this way.
_PREFIXED = re.compile(r"^(registry:|winapi:|bcd:|firmware:|DMI\.\d|coreinfo:|systeminfo:"
                       r"|get-computerinfo:|msinfo32?:)")
#: What an unknown f-string part stands for (``f"CPUID.{leaf:#x}"`` is still a source).
_HOLE = "0"


def is_source_literal(text: str) -> bool:
    return bool(_PREFIXED.match(text) or _PATHLIKE.match(text))


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _imported(tree: ast.Module) -> dict[str, object]:
    """Names this module imports from nestprobe, as the values they are."""
    names: dict[str, object] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
                "nestprobe"):
            try:
                module = importlib.import_module(node.module)
            except ImportError:
                continue
            for alias in node.names:
                names[alias.asname or alias.name] = getattr(module, alias.name, None)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("nestprobe"):
                    top = alias.asname or alias.name.split(".")[0]
                    names[top] = importlib.import_module(
                        alias.name if alias.asname else alias.name.split(".")[0])
    return names


class _Static:
    """Fold a module's strings: constants, names bound to them, ``+``, f-strings."""

    def __init__(self, tree: ast.Module) -> None:
        self.names: dict[str, object] = _imported(tree)
        for node in tree.body:  # module-level NAME = <static>, in order
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)):
                value = self.value(node.value)
                if value is not None:
                    self.names[node.targets[0].id] = value

    def value(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else None
        if isinstance(node, ast.Name):
            found = self.names.get(node.id)
            return found if isinstance(found, str) else None
        if isinstance(node, ast.Attribute):
            owner = self._object(node.value)
            found = getattr(owner, node.attr, None) if owner is not None else None
            return found if isinstance(found, str) else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.value(node.left), self.value(node.right)
            return left + right if left is not None and right is not None else None
        if isinstance(node, ast.JoinedStr):
            parts = []
            for part in node.values:
                text = self.value(part.value) if isinstance(part, ast.FormattedValue) else (
                    self.value(part))
                parts.append(text if text is not None else _HOLE)
            return "".join(parts)
        return None

    def _object(self, node: ast.AST) -> object | None:
        if isinstance(node, ast.Name):
            return self.names.get(node.id)
        if isinstance(node, ast.Attribute):
            owner = self._object(node.value)
            return getattr(owner, node.attr, None) if owner is not None else None
        return None


def _compares_source(node: ast.AST) -> bool:
    """``e.source == ...``, ``... in e.source``, ``e.source.startswith(...)``."""
    def is_source(n: ast.AST) -> bool:
        return isinstance(n, ast.Attribute) and n.attr == "source"

    if isinstance(node, ast.Compare):
        return any(is_source(n) for n in (node.left, *node.comparators))
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and is_source(node.func.value))


def source_literals(path: Path) -> list[str]:
    """``file:line text`` of every source string or ``.source`` comparison in one module."""
    tree = ast.parse(path.read_text("utf-8"))
    skip = _docstrings(tree)
    static = _Static(tree)
    found: list[str] = []
    inner: set[int] = set()  # parts of a folded string, reported with it
    for node in ast.walk(tree):
        if _compares_source(node):
            found.append(f"{path.name}:{getattr(node, 'lineno', 0)} compares .source")
            continue
        if id(node) in skip or id(node) in inner:
            continue
        if isinstance(node, ast.ImportFrom):  # a source constant brought up from below
            found += [f"{path.name}:{node.lineno} imports {a.name}" for a in node.names
                      if isinstance(v := static.names.get(a.asname or a.name), str)
                      and is_source_literal(v)]
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            continue
        if isinstance(node, ast.Constant | ast.Name | ast.Attribute | ast.BinOp
                      | ast.JoinedStr):
            text = static.value(node)
            if text is not None and is_source_literal(text):
                found.append(f"{path.name}:{getattr(node, 'lineno', 0)} {text!r}")
                inner.update(id(n) for n in ast.walk(node))
    return list(dict.fromkeys(found))


def all_source_literals() -> list[str]:
    return [hit for layer in LAYERS for path in sorted((PACKAGE / layer).rglob("*.py"))
            for hit in source_literals(path)]


def test_verdicts_and_output_name_no_evidence_source() -> None:
    hits = all_source_literals()
    assert not hits, f"{len(hits)} source literal(s) above assess/: {hits[:20]}"


#: review-facts.md (d)'s planted cases (/tmp/rv/planted.py), each of which the first
#: version of this check let through, and prose it must leave alone.
PLANTED = '''\
"""Reads /proc/meminfo."""
from nestprobe.model.oskeys import TOTAL_PHYS
CPUINFO = "/proc" + "/cpuinfo"
A = "registry:HKLM\\\\SOFTWARE\\\\Microsoft\\\\Windows NT\\\\CurrentVersion\\\\EditionID"
B = "DMI.1:Product Name"
C = f"{CPUINFO}:flags"
D = "bcd:{current} x"
E = f"CPUID.{1:#x}"
def mem(a):
    return [e for e in a.environment.evidence if e.source == TOTAL_PHYS]
def cpu(a):
    return [e for e in a.environment.evidence if e.source.startswith(CPUINFO)]
'''
PROSE = '''\
STEP = "ls -l /dev/kvm; id -nG"
WHY = "/dev/kvm exists but this user cannot open it"
SAY = "CPUID exits as slowly as in a VM"
RULE = f"rule {1}; source {2}"
'''


def test_the_check_catches_the_planted_sources(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(PLANTED, "utf-8")
    hits = source_literals(module)
    lines = sorted({int(h.split(":")[1].split()[0]) for h in hits})
    # the imported constant (2), the concatenation (3), A (4), B (5), the f-string over a
    # constant (6), D (7), E (8), the two .source comparisons (10, 12); not the docstring (1)
    assert lines == [2, 3, 4, 5, 6, 7, 8, 10, 12], hits
    prose = tmp_path / "p.py"
    prose.write_text(PROSE, "utf-8")
    assert source_literals(prose) == []
