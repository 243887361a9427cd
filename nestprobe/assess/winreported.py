"""What Windows itself reported (decode/winreport.py), asked only of a snapshot that holds
Windows facts (``OsFacts.holds_windows_facts``).

The others (a live Linux probe, a Linux dump) hold no line the decoder reads: they get None
here, which says what an empty Readiness would (nothing reported), and decode/winreport.py
is never imported for them (issue 21, cold start).
"""

from __future__ import annotations

from nestprobe.model.snapshot import OsFacts
from nestprobe.model.typeshim import TYPE_CHECKING

if TYPE_CHECKING:
    from nestprobe.decode.winreport import Readiness, ReportedCpu


def readiness(facts: OsFacts) -> Readiness | None:
    """What Windows' tools (or the live Windows probe) reported; None: no Windows facts."""
    if not facts.holds_windows_facts():
        return None
    from nestprobe.decode.winreport import read_readiness

    return read_readiness(facts)


def reported_cpu(facts: OsFacts) -> ReportedCpu | None:
    """The processor a pasted Windows tool named; None without one (or without Windows facts)."""
    if not facts.holds_windows_facts():
        return None
    from nestprobe.decode.winreport import reported_cpu as read_cpu

    return read_cpu(facts)
