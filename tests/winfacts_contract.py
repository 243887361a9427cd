"""The Windows facts' pseudo-paths as csrc/np_winfacts.h defines them (the C side's list).

A test of the Python Windows-facts reader compares its own list with :func:`pseudo_paths`;
the dumper's ``--list-facts`` prints the same list from the compiled header.
"""

from __future__ import annotations

import re
from pathlib import Path

HEADER = Path(__file__).resolve().parent.parent / "csrc" / "np_winfacts.h"

_PREFIX = re.compile(r'^#define (NP_WF_[A-Z]+) "((?:[^"\\]|\\.)*)"$', re.MULTILINE)
_ROW = re.compile(r'X\((NP_WF_[A-Z_]+), (?:(NP_WF_[A-Z]+) )?"((?:[^"\\]|\\.)*)"\)')


def _unescape(c_string: str) -> str:
    """The C string literal's value (the header uses no escape but ``\\\\``)."""
    if re.search(r"\\[^\\]", c_string.replace("\\\\", "")):
        raise ValueError(f"unexpected escape in {c_string!r}")
    return c_string.replace("\\\\", "\\")


def facts(header: Path = HEADER) -> list[tuple[str, str]]:
    """``(kind, pseudo-path)`` for every NP_WINFACT row, in the header's order."""
    text = header.read_text(encoding="utf-8")
    prefixes = {name: _unescape(value) for name, value in _PREFIX.findall(text)}
    return [
        (kind, (prefixes[prefix] if prefix else "") + _unescape(tail))
        for kind, prefix, tail in _ROW.findall(text)
    ]


def pseudo_paths(header: Path = HEADER) -> list[str]:
    return [path for _, path in facts(header)]
