"""Report: what nestprobe concluded about one machine, and the snapshot it concluded it from."""

from __future__ import annotations

from nestprobe.model.assessment import Assessment
from nestprobe.model.record import Record
from nestprobe.model.snapshot import Snapshot
from nestprobe.model.verdicts import Verdicts


class Report(Record):
    """One machine's answer. Render it with :mod:`nestprobe.output` (text, JSON)."""

    snapshot: Snapshot
    assessment: Assessment
    verdicts: Verdicts
