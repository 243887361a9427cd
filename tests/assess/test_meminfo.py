"""MemTotal is read from /proc/meminfo without ``re`` (assess/environment.py ``_memory``: the
probe path imports no regular-expression engine). It must read what the expression it
replaced, ``^MemTotal:\\s+(\\d+)\\s*kB`` (multi-line), reads, on /proc/meminfo's shape: the
first MemTotal line, ASCII, whatever follows or precedes it."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from nestprobe.assess.environment import MEMINFO, _memory
from nestprobe.model.evidence import Evidence
from nestprobe.model.snapshot import FileFact, OsFacts

_SPACE = st.text(alphabet=" \t", max_size=3)
#: The line after "MemTotal:", built as the expression reads it, each part possibly wrong.
_TAIL = st.builds(lambda *parts: "".join(parts), _SPACE,
                  st.text(alphabet="0123456789x", max_size=9), _SPACE,
                  st.sampled_from(["kB", "kb", "KB", "B", ""]),
                  st.text(alphabet=" kBx:", max_size=4))
_OTHER = st.lists(st.sampled_from(["MemFree:        1024 kB", "SwapTotal:  0 kB", "x", ""]),
                  max_size=3)


def _by_re(text: str) -> int | None:
    found = re.search(r"^MemTotal:\s+(\d+)\s*kB", text, re.MULTILINE)
    return int(found.group(1)) * 1024 if found else None


@given(before=_OTHER, tail=_TAIL, after=_OTHER)
def test_memtotal_is_read_as_the_expression_read_it(before: list[str], tail: str,
                                                    after: list[str]) -> None:
    text = "\n".join([*before, "MemTotal:" + tail, *after]) + "\n"
    evidence: list[Evidence] = []
    facts = OsFacts("Linux", "x86_64", {MEMINFO: FileFact("ok", text)})
    assert _memory(facts, evidence) == _by_re(text)
    assert len(evidence) == (_by_re(text) is not None)


def test_a_real_meminfo_line() -> None:
    facts = OsFacts("Linux", "x86_64", {MEMINFO: FileFact("ok", "MemTotal:       16384000 kB\n")})
    assert _memory(facts, []) == 16384000 * 1024
