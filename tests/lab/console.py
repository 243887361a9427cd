"""Cut the fenced blocks out of a serial log.

A guest prints its dump between ``@@NPLAB-BEGIN tag@@`` and ``@@NPLAB-END tag rc=N@@``.
An L1 prints each L2's whole console between ``@@NPLAB-GUEST-BEGIN tag@@`` and
``@@NPLAB-GUEST-END tag rc=N seconds=S@@``, so L2 dump blocks arrive nested inside it
with their own tags. Markers must start a line; kernel noise elsewhere is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DUMP = re.compile(
    r"^@@NPLAB-BEGIN (?P<tag>\S+)@@\n(?P<body>.*?)^@@NPLAB-END (?P=tag) rc=(?P<rc>-?\d+)@@$",
    re.MULTILINE | re.DOTALL,
)
_GUEST = re.compile(
    r"^@@NPLAB-GUEST-BEGIN (?P<tag>\S+)@@\n(?P<body>.*?)"
    r"^@@NPLAB-GUEST-END (?P=tag) rc=(?P<rc>-?\d+) seconds=(?P<seconds>\d+)@@$",
    re.MULTILINE | re.DOTALL,
)
DONE = "@@NPLAB-DONE@@"


@dataclass(frozen=True, slots=True)
class Block:
    tag: str
    text: str
    rc: int
    seconds: int | None = None  # guest blocks: wall time inside the L1


def dumps(log: str) -> dict[str, Block]:
    """Dump blocks by tag, at any nesting depth."""
    return {
        m["tag"]: Block(m["tag"], m["body"], int(m["rc"])) for m in _DUMP.finditer(log)
    }


def guests(log: str) -> dict[str, Block]:
    """Nested guests' consoles by tag, as their L1 relayed them."""
    return {
        m["tag"]: Block(m["tag"], m["body"], int(m["rc"]), int(m["seconds"]))
        for m in _GUEST.finditer(log)
    }


def finished(log: str) -> bool:
    """The guest's /init reached its end (rather than panicking or timing out)."""
    return any(line.strip() == DONE for line in log.splitlines())
