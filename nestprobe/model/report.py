"""Report: what nestprobe concluded about one machine, and the snapshot it concluded it from."""

from __future__ import annotations

from nestprobe.model.assessment import Assessment
from nestprobe.model.errors import ReportFormatError
from nestprobe.model.record import Record
from nestprobe.model.snapshot import Snapshot
from nestprobe.model.verdicts import Verdicts

# ReportFormatError: what from_dict raises, importable beside it (fleet/work.py catches it).
__all__ = ["Report", "ReportFormatError"]


class Report(Record):
    """One machine's answer. Render it with :mod:`nestprobe.output` (text, JSON)."""

    snapshot: Snapshot
    assessment: Assessment
    verdicts: Verdicts

    @classmethod
    def from_dict(cls, data: object) -> Report:
        """The Report a JSON report (``report_to_dict``, this schema_version) describes.

        Strict: the document must validate against ``report.schema.json`` (no unknown
        keys, the schema's types and bounds); numbers must be standard JSON as
        :mod:`nestprobe.model.strictjson` reads them. ``answer``, ``nestprobe_version`` and
        each verdict's ``readiness`` are derived and not read back; evidence ``kind`` is not
        in the JSON and follows from each source again (it is not part of equality).
        Raises :class:`ReportFormatError` naming the key.
        """
        from nestprobe.model.readreport import read_report

        return cls(*read_report(data))
