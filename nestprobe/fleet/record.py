"""One machine's result as the fleet keeps it, taken from its JSON report.

Dumps are assessed into the JSON report (``report_to_dict``) and JSON reports are read
as they are, so both go through :func:`machine_from_report`; its shape check makes a
JSON file that is not a schema_version 1 report an unreadable input with a reason, not
a crash. Records are small: thousands travel back from the worker processes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nestprobe.model.verdicts import LAYERS, SCENARIOS, STATUSES
from nestprobe.output.jsonreport import SCHEMA_VERSION
from nestprobe.output.prometheus import MachineMetrics, metrics_from_report

#: What a JSON-lines record adds in front of the report's own keys.
FLEET_KEYS = ("machine", "input", "hostname")


class ReportShapeError(ValueError):
    """A JSON document that is not a nestprobe report this version can read."""


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


def _at(report: Mapping[str, Any], dotted: str, *types: type) -> Any:
    value: Any = report
    for key in dotted.split("."):
        if not isinstance(value, Mapping) or key not in value:
            raise ReportShapeError(f"no {dotted!r}")
        value = value[key]
    # bool is an int: an integer field must not accept true/false.
    if isinstance(value, bool) and bool not in types:
        raise ReportShapeError(f"{dotted!r} is {value!r}")
    if not isinstance(value, types):
        raise ReportShapeError(f"{dotted!r} is {value!r}")
    return value


def check_report(report: object) -> Mapping[str, Any]:
    """``report`` if it has every key the fleet reads, with the right types; else raise."""
    if not isinstance(report, Mapping):
        raise ReportShapeError(f"a JSON object, found {type(report).__name__}")
    # Older reports are read too: the shape check below covers every key the fleet reads.
    version = report.get("schema_version")
    if type(version) is not int or not 1 <= version <= SCHEMA_VERSION:
        raise ReportShapeError(f"schema_version 1 to {SCHEMA_VERSION}, found {version!r}")
    none = type(None)
    for key in ("nestprobe_version", "answer", "source.kind"):
        _at(report, key, str)
    for key in ("source.format", "cpu.vendor", "hypervisor.vendor"):
        _at(report, key, str, none)
    for key in ("virtualization.exposed", "virtualization.can_host_vms"):
        _at(report, key, bool, none)
    _at(report, "nesting.at_least", int)
    _at(report, "nesting.level", int, none)
    _at(report, "nesting.likely", int, none)
    _at(report, "nesting.confidence", str)
    if _at(report, "timing", Mapping, none) is not None:
        _at(report, "timing.cpuid_ticks", int, float)
        _at(report, "timing.tsc_hz", int, float, none)
    verdicts = _at(report, "verdicts", Mapping)
    if tuple(verdicts) != SCENARIOS:
        raise ReportShapeError(f"verdicts for {', '.join(SCENARIOS)}, found {list(verdicts)}")
    for scenario in SCENARIOS:
        if _at(report, f"verdicts.{scenario}.status", str) not in STATUSES:
            raise ReportShapeError(f"verdicts.{scenario}.status is not one of {STATUSES}")
        for n, fix in enumerate(_at(report, f"verdicts.{scenario}.remediation", list)):
            where = f"verdicts.{scenario}.remediation[{n}]"
            if not isinstance(fix, Mapping) or fix.get("layer") not in LAYERS:
                raise ReportShapeError(f"{where} has no layer of {LAYERS}")
            steps = fix.get("steps")
            if not isinstance(fix.get("where"), str) or not isinstance(steps, list) or not all(
                isinstance(s, str) for s in steps
            ):
                raise ReportShapeError(f"{where} needs 'where' and 'steps' as text")
    return report


def machine_from_report(
    report: Mapping[str, Any],
    machine: str,
    path: str,
    hostname: str | None = None,
    *,
    keep_line: bool = False,
) -> Machine:
    """The fleet's record of one checked report (see :func:`check_report`)."""
    fixes = tuple(
        (scenario, Fix(f["layer"], f["where"], tuple(f["steps"])))
        for scenario, verdict in report["verdicts"].items()
        for f in verdict["remediation"]
    )
    line = None
    if keep_line:
        record = {"machine": machine, "input": path, "hostname": hostname}
        record |= {k: v for k, v in report.items() if k not in FLEET_KEYS}
        line = json.dumps(record, ensure_ascii=True, separators=(",", ":"))
    return Machine(
        machine=machine,
        input=path,
        hostname=hostname,
        answer=report["answer"],
        confidence=report["nesting"]["confidence"],
        fixes=fixes,
        metrics=metrics_from_report(report, (("machine", machine),)),
        line=line,
    )


def unreadable_line(item: Unreadable) -> str:
    """The JSON-lines record of an input that could not be read."""
    record = {"machine": item.machine, "input": item.input, "hostname": None,
              "error": item.reason}
    return json.dumps(record, ensure_ascii=True, separators=(",", ":"))
