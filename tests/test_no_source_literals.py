"""Stages above assess read Facts, never evidence sources (issue 17 item 4).

verdicts/ and output/ must not name where a fact came from: no string literal there may
be an evidence source (``"/proc/meminfo"``, ``"msinfo32:Total Physical Memory"``,
``"CPUID.0x40000003"``, an f-string that builds one). Docstrings and prose (a remediation
step, a "where to confirm" sentence: text with words around a path) are not sources.
A new input format then reaches the verdicts without teaching them its vocabulary.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "nestprobe"
LAYERS = ("verdicts", "output")

#: The evidence source vocabulary (model/evidence.py): register fields, OS files, the
#: /dev/kvm ioctl, measurements, Windows pseudo-paths, SMBIOS fields.
_PATHLIKE = re.compile(
    r"^(CPUID(\.|$)|/proc/|/sys/|/dev/|/run/|/\.dockerenv|ioctl\(|timing:|uname:|cpuid-status$"
    r"|IA32_|registry:|winapi:|bcd:|firmware:|DMI\.)")
#: A pasted Windows tool's ``<tool>:<label>`` (labels have spaces, so these match with them).
_PASTE = re.compile(r"^(coreinfo|systeminfo|get-computerinfo|msinfo32):")


def is_source_literal(text: str) -> bool:
    if _PASTE.match(text):
        return True
    return bool(_PATHLIKE.match(text)) and not re.search(r"\s", text)


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def source_literals(path: Path) -> list[str]:
    """``file:line text`` of every source literal in one module."""
    tree = ast.parse(path.read_text("utf-8"))
    skip = _docstrings(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            first = node.values[0] if node.values else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                skip.add(id(first))
                if is_source_literal(first.value):
                    found.append(f"{path.name}:{node.lineno} f{first.value!r}...")
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in skip and is_source_literal(node.value)):
            found.append(f"{path.name}:{node.lineno} {node.value!r}")
    return found


def all_source_literals() -> list[str]:
    return [hit for layer in LAYERS for path in sorted((PACKAGE / layer).rglob("*.py"))
            for hit in source_literals(path)]


def test_verdicts_and_output_name_no_evidence_source() -> None:
    hits = all_source_literals()
    assert not hits, f"{len(hits)} source literal(s) above assess/: {hits[:20]}"


def test_the_check_catches_a_source_literal(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('"""Reads /proc/meminfo."""\n'
                      'A = ("/proc/meminfo", "msinfo32:Total Physical Memory")\n'
                      'B = f"CPUID.{1:#x}"\n'
                      'C = "ls -l /dev/kvm; id -nG"\n', "utf-8")
    assert len(source_literals(module)) == 3
