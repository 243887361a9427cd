"""One machine's result as the fleet keeps it, taken from its JSON report.

Dumps are assessed into a Report and JSON reports are read back into one with
``Report.from_dict`` (strict, schema-checked: a JSON file that is not a report of this
schema_version is an unreadable input with a reason, not a crash); both then go through
:func:`machine_from_report`. Records are small: thousands travel back from the workers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from nestprobe.model.report import Report
from nestprobe.output.answer import answer
from nestprobe.output.jsonreport import report_to_dict
from nestprobe.output.prometheus import MachineMetrics, metrics_from_report

#: What a JSON-lines record adds in front of the report's own keys.
FLEET_KEYS = ("machine", "input", "hostname")


@dataclass(frozen=True, slots=True)
class Fix:
    """One remediation entry, as the report gives it: the grouping key of the summary."""

    layer: str
    where: str
    steps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Machine:
    machine: str  # the name the summary uses (from the file name; see inputs.py)
    input: str  # the file it was read from
    hostname: str | None  # the host name recorded in the dump, when it has one
    answer: str
    confidence: str
    fixes: tuple[tuple[str, Fix], ...]  # (scenario, fix) for every verdict's remediation
    metrics: MachineMetrics  # verdicts and facts, labelled with the machine
    line: str | None = None  # the JSON-lines record, when the output needs it

    def status(self, scenario: str) -> str:
        return dict(self.metrics.verdicts)[scenario]


@dataclass(frozen=True, slots=True)
class Unreadable:
    machine: str
    input: str
    reason: str


Result = Machine | Unreadable


def machine_from_report(
    report: Report,
    machine: str,
    path: str,
    hostname: str | None = None,
    *,
    keep_line: bool = False,
) -> Machine:
    """The fleet's record of one report (assessed here, or read back with
    ``Report.from_dict``: either way the same frozen type, checked on the way in)."""
    fixes = tuple((verdict.scenario, Fix(f.layer, f.where, f.steps))
                  for verdict in report.verdicts for f in verdict.remediation)
    line = None
    if keep_line:  # the whole JSON report only when the output prints it (jsonl)
        data = report_to_dict(report)
        record: dict[str, Any] = {"machine": machine, "input": path, "hostname": hostname}
        record |= {k: v for k, v in data.items() if k not in FLEET_KEYS}
        line = json.dumps(record, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return Machine(
        machine=machine,
        input=path,
        hostname=hostname,
        answer=answer(report),  # worded from the report (as report_to_dict's), never read in
        confidence=report.assessment.nesting.confidence,
        fixes=fixes,
        metrics=metrics_from_report(report, (("machine", machine),)),
        line=line,
    )


def unreadable_line(item: Unreadable) -> str:
    """The JSON-lines record of an input that could not be read."""
    record = {"machine": item.machine, "input": item.input, "hostname": None,
              "error": item.reason}
    return json.dumps(record, ensure_ascii=True, separators=(",", ":"))
