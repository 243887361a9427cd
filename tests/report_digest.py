"""Digests of the report of every input the tests have: the refactor guard (issue 17).

Each input (the repository's own fixtures, and where ``../shared`` is beside the clone the
corpus dumps, the Windows pastes and virt-what's roots) is assessed exactly as a user
would get it; the JSON report (keys sorted) and the default text report are hashed.
``tests/report_digests.txt`` holds one line per input. A change that alters any report
must regenerate that file in the same commit and say why in the commit message:

    python tests/report_digest.py --update

Inputs that are absent in this clone (no ``../shared``) are left out of the comparison,
never counted as changed.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The tree this file sits in is the one digested, whatever else is installed.
sys.path[:0] = [str(HERE.parent), str(HERE)]

from conftest import CORPUS, DUMPS, VIRT_WHAT  # noqa: E402

import nestprobe  # noqa: E402
from nestprobe.model.report import Report  # noqa: E402

DIGESTS = HERE / "report_digests.txt"
FIXTURES = HERE / "fixtures"
PASTES = CORPUS / "windows"
#: The text report at a fixed width, so the terminal the tests run in does not matter.
WIDTH = 80


def _files(folder: Path, pattern: str = "*") -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob(pattern) if p.is_file() and p.name != "README.md")


def _virt_what_report(path: Path) -> Report:
    from virtwhat_roots import fixture_snapshot, parse_fixture

    with tempfile.TemporaryDirectory() as root:
        snapshot = fixture_snapshot(parse_fixture(path), Path(root))
    return nestprobe.assess_snapshot(snapshot)


def inputs() -> Iterator[tuple[str, Callable[[], Report]]]:
    """(stable name, how to get its report) for every input present in this clone."""
    for path in _files(FIXTURES):
        yield f"fixtures/{path.relative_to(FIXTURES).as_posix()}", lambda p=path: nestprobe.load(p)
    for path in _files(DUMPS):
        yield f"corpus/dumps/{path.name}", lambda p=path: nestprobe.load(p)
    for path in _files(PASTES, "*.txt"):
        yield f"corpus/windows/{path.name}", lambda p=path: nestprobe.load(p)
    for path in _files(VIRT_WHAT, "*.txt"):
        yield f"corpus/virt-what/{path.name}", lambda p=path: _virt_what_report(p)


def digest(report: Report) -> str:
    """sha256 (16 hex digits) of the sorted JSON report, and of the default text report.

    The input's path (``source.path``) is left out: it depends on where the clone is.
    """
    from nestprobe.output.text import render_text

    as_dict = nestprobe.report_to_dict(report)
    as_dict["source"].pop("path", None)
    as_json = json.dumps(as_dict, sort_keys=True, ensure_ascii=True)
    text = render_text(report, width=WIDTH, colour=False)
    return (hashlib.sha256(as_json.encode()).hexdigest()[:16] + " "
            + hashlib.sha256(text.encode()).hexdigest()[:16])


def current() -> dict[str, str]:
    return {name: digest(make()) for name, make in inputs()}


def recorded() -> dict[str, str]:
    rows: dict[str, str] = {}
    for line in DIGESTS.read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            name, json_digest, text_digest = line.split()
            rows[name] = f"{json_digest} {text_digest}"
    return rows


def write(rows: dict[str, str]) -> None:
    """Keep the rows of inputs absent here; replace the ones computed now."""
    merged = recorded() if DIGESTS.exists() else {}
    merged.update(rows)
    lines = ["# name  sha256(JSON report)[:16]  sha256(text report)[:16]  (tests/report_digest.py)"]
    lines += [f"{name} {value}" for name, value in sorted(merged.items())]
    DIGESTS.write_text("\n".join(lines) + "\n", "utf-8")


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/report_digest.py --update")
    rows = current()
    write(rows)
    print(f"{len(rows)} digests written to {DIGESTS}")
