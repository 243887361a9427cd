"""Prometheus text exposition (format 0.0.4) for node_exporter's textfile collector.

Works on the typed Report, so a live report, a replayed dump and a ``nestprobe --json``
file collected from another machine (read back with ``Report.from_dict``) all give the
same series. One
machine is one set of series; a fleet adds a ``machine`` label to tell them apart.

Every series carries ``version`` (nestprobe's). Unknown facts are ``NaN`` rather than
missing, so a machine never silently drops out of a query. Format:
https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nestprobe.model.contract import VERSION
from nestprobe.model.typeshim import TYPE_CHECKING

if TYPE_CHECKING:
    from nestprobe.model.report import Report

#: (name, help). Gauges all; the order is the file's order.
VERDICT = ("nestprobe_verdict",
           "1 per scenario, labelled with its verdict status under Microsoft's "
           "nested-virtualization support matrix")
EXPOSED = ("nestprobe_hwvirt_exposed",
           "1 when VT-x or AMD-V reaches this OS, 0 when it does not, NaN when unknown")
CAN_HOST = ("nestprobe_can_host_vms",
            "1 when this OS can run hardware-assisted VMs now, 0 when not, NaN when unknown")
LEVEL = ("nestprobe_nesting_level",
         "Number of VMs this OS runs inside, when the evidence fixes it (NaN otherwise)")
AT_LEAST = ("nestprobe_nesting_level_at_least",
            "Number of VMs this OS runs inside, at minimum, as the evidence proves it")
LIKELY = ("nestprobe_nesting_level_likely",
          "Likely number of VMs this OS runs inside (timing may raise it; NaN when unknown)")
EXIT_TICKS = ("nestprobe_cpuid_exit_latency_ticks",
              "CPUID exit latency in TSC ticks (NaN when not measured)")
EXIT_SECONDS = ("nestprobe_cpuid_exit_latency_seconds",
                "CPUID exit latency in seconds (NaN when not measured or the TSC rate is unknown)")
FIX = ("nestprobe_fix_needed",
       "1 per scenario and layer that must change for it (the verdict's remediation: "
       "outer-hypervisor, cloud, firmware, this-os, host-os)")
INFO = ("nestprobe_info",
        "Always 1; labels name the CPU vendor, the hypervisor and where the report came from")
UNREADABLE = ("nestprobe_input_unreadable",
              "1 for a fleet input nestprobe could not read (the fleet summary says why)")


@dataclass(frozen=True, slots=True)
class MachineMetrics:
    """What one machine contributes: its identifying labels and its values."""

    labels: tuple[tuple[str, str], ...]  # e.g. (("machine", "web-01"),); () for one report
    version: str
    verdicts: tuple[tuple[str, str], ...]  # (scenario, status) in report order
    exposed: bool | None
    can_host_vms: bool | None
    level: int | None
    at_least: int
    likely: int | None
    exit_ticks: float | None
    exit_seconds: float | None
    cpu_vendor: str
    hypervisor: str
    source: str
    fixes: tuple[tuple[str, str], ...] = ()  # (scenario, layer), each pair once


def metrics_from_report(
    report: Report, labels: tuple[tuple[str, str], ...] = ()
) -> MachineMetrics:
    """Pick the metric values out of a Report (a live one, or one read back with
    ``Report.from_dict``: the same frozen type, so no shape check of its own here)."""
    a = report.assessment
    latency = report.snapshot.latency
    ticks: float | None = None
    seconds: float | None = None
    if latency is not None:
        ticks = float(latency.cpuid_ticks)
        seconds = ticks / float(latency.tsc_hz) if latency.tsc_hz else None
    origin = report.snapshot.origin
    return MachineMetrics(
        labels=labels,
        version=VERSION,
        verdicts=tuple((v.scenario, v.status) for v in report.verdicts),
        exposed=a.virtualization.exposed,
        can_host_vms=a.virtualization.can_host_vms,
        level=a.nesting.level,
        at_least=a.nesting.at_least,
        likely=a.nesting.likely,
        exit_ticks=ticks,
        exit_seconds=seconds,
        cpu_vendor=a.cpu.vendor or "",
        hypervisor=a.hypervisor.vendor or "",
        source=origin.format or origin.kind,
        fixes=tuple(dict.fromkeys(
            (v.scenario, fix.layer) for v in report.verdicts for fix in v.remediation)),
    )


def escape_label_value(value: str) -> str:
    """Backslash, double quote and line feed escaped, as the text format requires.

    Label values must be UTF-8: a surrogate that ``surrogateescape`` made from an
    undecodable byte (a file name, say) becomes U+FFFD instead of breaking the file.
    """
    value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    """HELP text escapes only backslash and line feed."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float | int | bool | None) -> str:
    if value is None:
        return "NaN"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    body = ",".join(f'{name}="{escape_label_value(value)}"' for name, value in pairs)
    return "{" + body + "}"


def _samples(m: MachineMetrics) -> dict[str, list[tuple[tuple[tuple[str, str], ...], str]]]:
    base = (*m.labels, ("version", m.version))
    out: dict[str, list[tuple[tuple[tuple[str, str], ...], str]]] = {
        VERDICT[0]: [((*base, ("scenario", s), ("status", st)), "1") for s, st in m.verdicts],
        EXPOSED[0]: [(base, _number(m.exposed))],
        CAN_HOST[0]: [(base, _number(m.can_host_vms))],
        LEVEL[0]: [(base, _number(m.level))],
        AT_LEAST[0]: [(base, _number(m.at_least))],
        LIKELY[0]: [(base, _number(m.likely))],
        EXIT_TICKS[0]: [(base, _number(m.exit_ticks))],
        EXIT_SECONDS[0]: [(base, _number(m.exit_seconds))],
        FIX[0]: [((*base, ("scenario", s), ("layer", layer)), "1") for s, layer in m.fixes],
        INFO[0]: [((*base, ("cpu_vendor", m.cpu_vendor), ("hypervisor", m.hypervisor),
                    ("source", m.source)), "1")],
    }
    return out


FAMILIES = (VERDICT, EXPOSED, CAN_HOST, LEVEL, AT_LEAST, LIKELY, EXIT_TICKS, EXIT_SECONDS, FIX,
            INFO)


def render_prometheus(
    machines: Iterable[MachineMetrics],
    unreadable: Sequence[tuple[tuple[str, str], ...]] = (),
    version: str = "",
) -> str:
    """The exposition text: each family's HELP and TYPE once, then its samples.

    ``unreadable`` lists the label sets of fleet inputs that could not be read; they get
    one ``nestprobe_input_unreadable`` sample each (with ``version`` = ``version``).
    """
    per_family: dict[str, list[str]] = {name: [] for name, _ in FAMILIES}
    for machine in machines:
        for name, samples in _samples(machine).items():
            per_family[name].extend(f"{name}{_labels(lab)} {val}" for lab, val in samples)
    lines: list[str] = []
    for name, help_text in FAMILIES:
        lines += [f"# HELP {name} {escape_help(help_text)}", f"# TYPE {name} gauge"]
        lines += per_family[name]
    if unreadable:
        name, help_text = UNREADABLE
        lines += [f"# HELP {name} {escape_help(help_text)}", f"# TYPE {name} gauge"]
        lines += [f"{name}{_labels((*lab, ('version', version)))} 1" for lab in unreadable]
    return "\n".join(lines) + "\n"
