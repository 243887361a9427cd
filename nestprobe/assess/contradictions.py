"""A paste whose Windows tools contradict each other is refused, not assessed.

``sources/importers/multipaste.py`` merges several tool outputs of one paste; what their
lines *mean* is known only after decoding (``decode/winreport.disagreements``), so the
refusal is made here, before the assessment, as DumpFormatError naming both (exit 6).
"""

from __future__ import annotations

from nestprobe.model.errors import DumpFormatError
from nestprobe.model.snapshot import Snapshot


def refuse_contradictions(snapshot: Snapshot) -> None:
    """DumpFormatError when the Windows tool outputs of ``snapshot`` disagree."""
    if snapshot.cpuid_status != "absent" or snapshot.os.system != "Windows":
        return
    from nestprobe.decode.winreport import disagreements

    found = disagreements(snapshot.os)
    if found:
        raise DumpFormatError(snapshot.origin.path or "<paste>", None,
                              "tool outputs of one machine that agree",
                              "they disagree on " + " and on ".join(found), quote=False)
