"""The fleet's outputs: a table for people; CSV, JSON lines and Prometheus for tools.

CSV and JSON lines stream one record per machine as results arrive (in input order);
the table and the Prometheus text need the whole fleet and are written at the end.
CSV columns are :data:`CSV_COLUMNS` (README, "Many machines").
"""

from __future__ import annotations

import csv
import textwrap
from collections.abc import Callable
from typing import TextIO

from nestprobe.fleet.record import Machine, Result, Unreadable, unreadable_line
from nestprobe.fleet.summary import Names, Summary
from nestprobe.model.contract import VERSION
from nestprobe.model.safetext import escape
from nestprobe.model.verdicts import SCENARIOS, STATUSES
from nestprobe.output.prometheus import MachineMetrics, render_prometheus

WIDTH = 100

#: One row per machine. Empty cells mean unknown (or, with ``error`` set, unread).
CSV_COLUMNS = (
    "machine",  # the name the fleet gives it: the file name without .dump/.json/.txt
    "input",  # the file read
    "hostname",  # the host name recorded in the dump, if any
    "error",  # why the input could not be read; the other cells are then empty
    "source",  # dump format (nestprobe, cpuid-r, aida64, ...) or "live" for a JSON report
    "nestprobe_version",
    "answer",  # the one-line answer
    "cpu_vendor",
    "hypervisor",  # systemd-detect-virt style id, or "unknown"
    "hwvirt_exposed",  # true / false: VT-x or AMD-V reaches the OS
    "can_host_vms",  # true / false
    "nesting_level",  # when the evidence fixes it
    "nesting_at_least",
    "nesting_likely",
    "nesting_confidence",
    "cpuid_exit_ticks",  # CPUID exit latency, when measured
    "cpuid_exit_ns",
    *SCENARIOS,  # each scenario's verdict status
    "fix_layers",  # the layers that must change, space-separated (outer-hypervisor cloud ...)
)


#: A cell a spreadsheet would run as a formula starts with one of these (OWASP, "CSV
#: Injection": = + - @, tab and carriage return; the last two are escaped anyway).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """``text`` as a CSV cell that is safe to open: control characters escaped (a CR in
    a file name would break the row), and a leading formula character disarmed with a
    single quote, as OWASP recommends (host names come from the machines themselves)."""
    text = escape(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.1f}"
    return neutralise(str(value))


def csv_row(result: Result) -> list[str]:
    if isinstance(result, Unreadable):
        row = dict.fromkeys(CSV_COLUMNS, "")
        row |= {"machine": _cell(result.machine), "input": _cell(result.input),
                "error": _cell(result.reason)}
        return list(row.values())
    m = result.metrics
    ns = m.exit_seconds * 1e9 if m.exit_seconds is not None else None
    layers = dict.fromkeys(fix.layer for _, fix in result.fixes)
    values = [
        result.machine, result.input, result.hostname, None, m.source, m.version,
        result.answer, m.cpu_vendor, m.hypervisor, m.exposed, m.can_host_vms, m.level,
        m.at_least, m.likely, result.confidence, m.exit_ticks, ns,
        *(status for _, status in m.verdicts), " ".join(layers),
    ]
    return [_cell(v) for v in values]


class Writer:
    """Receives every result in order, then the finished summary."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def add(self, result: Result) -> None:
        pass

    def finish(self, summary: Summary) -> None:
        pass


class CsvWriter(Writer):
    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        self.csv = csv.writer(out, lineterminator="\n")
        self.csv.writerow(CSV_COLUMNS)

    def add(self, result: Result) -> None:
        self.csv.writerow(csv_row(result))


class JsonLinesWriter(Writer):
    """A machine's line is its JSON report with ``machine``, ``input`` and ``hostname`` in
    front; an unreadable input's line has those three and ``error``."""

    def add(self, result: Result) -> None:
        line = result.line if isinstance(result, Machine) else unreadable_line(result)
        self.out.write(f"{line}\n")


class PrometheusWriter(Writer):
    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        self.metrics: list[MachineMetrics] = []
        self.unread: list[tuple[tuple[str, str], ...]] = []

    def add(self, result: Result) -> None:
        if isinstance(result, Machine):
            self.metrics.append(result.metrics)
        else:
            self.unread.append((("machine", result.machine),))

    def finish(self, summary: Summary) -> None:
        self.out.write(render_prometheus(self.metrics, self.unread, VERSION))


class TableWriter(Writer):
    def __init__(self, out: TextIO, names: int) -> None:
        super().__init__(out)
        self.names = names

    def finish(self, summary: Summary) -> None:
        self.out.write(render_table(summary, self.names))


def _names(machines: Names, limit: int) -> str:
    shown = machines.names if limit <= 0 else machines.names[:limit]
    text = ", ".join(escape(m) for m in shown)
    if len(shown) < machines.count:
        text += f", ... and {machines.count - len(shown)} more (--names 0 lists all)"
    return text


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False) or [indent]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def render_table(summary: Summary, names: int = 20) -> str:
    out = [f"nestprobe fleet: {_plural(summary.machines, 'machine')} assessed"
           + (f", {_plural(len(summary.unreadable), 'input')} unreadable"
              if summary.unreadable else ""), ""]
    width = max(len(s) for s in SCENARIOS) + 2
    out.append("".ljust(width) + "  ".join(STATUSES))
    for scenario in SCENARIOS:
        counts = summary.counts[scenario]
        out.append(scenario.ljust(width)
                   + "  ".join(str(counts[st]).rjust(len(st)) for st in STATUSES))
    groups = summary.ordered_groups()
    if groups:
        out += ["", "What to change, by layer and where:"]
    for group in groups:
        fix = group.fix
        scenarios = ", ".join(s for s in SCENARIOS if s in group.scenarios)
        out += ["", *_wrap(f"[{fix.layer}] {escape(fix.where)}", "  ")]
        out += _wrap(f"needed for: {scenarios}", "      ")
        out += _wrap(f"{_plural(group.machines.count, 'machine')}: "
                     f"{_names(group.machines, names)}", "      ")
        for step in fix.steps:
            out += _wrap(escape(step), "      | ")
    if summary.unreadable:
        out += ["", f"Could not read ({len(summary.unreadable)}):"]
        for item in summary.unreadable:
            out += _wrap(escape(item.reason), "  ")
    if summary.requirements:
        out += ["", "Requirements:"]
        for req in summary.requirements:
            short = summary.short.get(req)
            verdict = (f"{_plural(short.count, 'machine')} fall short: {_names(short, names)}"
                       if short else "met by every machine")
            out += _wrap(f"{req}: {verdict}", "  ")
    return "\n".join(out) + "\n"


WRITERS: dict[str, Callable[[TextIO, int], Writer]] = {
    "table": TableWriter,
    "csv": lambda out, _names: CsvWriter(out),
    "jsonl": lambda out, _names: JsonLinesWriter(out),
    "prometheus": lambda out, _names: PrometheusWriter(out),
}
