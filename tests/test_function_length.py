"""No function in assess/ or verdicts/ grows past what a reader holds at once (issue 17).

A stage's decisions are small named steps; a case table that outgrows a screen is split
into steps a name says the job of. Data tables (module-level tuples) are not functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "nestprobe"
LAYERS = ("assess", "verdicts")
MAX_LINES = 60


def function_lengths(path: Path) -> list[tuple[int, str]]:
    """(lines, ``file:name``) of every function and method in one module."""
    tree = ast.parse(path.read_text("utf-8"))
    return [
        (node.end_lineno - node.lineno + 1, f"{path.name}:{node.name}")
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno
    ]


def longest() -> list[tuple[int, str]]:
    found = [item for layer in LAYERS for path in sorted((PACKAGE / layer).rglob("*.py"))
             for item in function_lengths(path)]
    return sorted(found, reverse=True)


def test_the_longest_function_in_assess_and_verdicts_is_under_60_lines() -> None:
    over = [item for item in longest() if item[0] >= MAX_LINES]
    assert not over, f"functions of {MAX_LINES} lines or more: {over}"


def test_the_measure_counts_a_long_function(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f() -> None:\n" + "    x = 1\n" * 70, "utf-8")
    assert function_lengths(module) == [(71, "m.py:f")]
