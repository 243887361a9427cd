"""The human rendering: the answer, verdicts, what to change, then the facts with evidence.

This text is for people and may change between releases; scripts should use
``--json`` or the exit codes of ``nestprobe check``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import TYPE_CHECKING

from nestprobe.model.contract import VERSION
from nestprobe.model.evidence import Evidence
from nestprobe.output.answer import answer

if TYPE_CHECKING:
    from nestprobe.model.assessment import WindowsFacts
    from nestprobe.model.report import Report
    from nestprobe.model.verdicts import Condition, Verdict

WIDTH = 100

_STATUS_WORD = {
    "supported": "SUPPORTED",
    "evaluation-only": "EVALUATION ONLY",
    "unsupported": "UNSUPPORTED (may work)",
    "blocked": "BLOCKED",
    "unknown": "UNKNOWN",
}


def _oneline(text: str, limit: int = 120) -> str:
    """Control characters escaped (a hostile value cannot move the cursor), long text cut."""
    safe = "".join(
        ch if ch.isprintable() else ("\\n" if ch == "\n" else f"\\x{ord(ch) & 0xFF:02x}")
        for ch in text
    )
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"


def _value(value: object, source: str = "") -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and source.startswith("CPUID") and value > 9:
        return f"{value:#x}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return "-" if value is None else _oneline(str(value))


def _yesno(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def _evidence_lines(evidence: Iterable[Evidence], indent: str = "    ") -> list[str]:
    lines: list[str] = []
    for e in evidence:
        line = f"- {_oneline(e.claim, limit=400)}  [{e.source} = {_value(e.value, e.source)}]"
        lines += _wrap(line, indent, indent + "  ")
    return lines


def _wrap(text: str, indent: str, subsequent: str | None = None) -> list[str]:
    return textwrap.wrap(
        _oneline(text, limit=1000),
        width=WIDTH,
        break_on_hyphens=False,
        initial_indent=indent,
        subsequent_indent=indent if subsequent is None else subsequent,
    )


def render_verdict(verdict: Verdict) -> str:
    """One scenario's verdict with its reasons, conditions and fixes (``nestprobe check``)."""
    lines = _verdict_block(verdict)
    lines += _condition_lines(verdict, indent="    ")
    for fix in verdict.remediation:
        lines.append(f"    fix [{fix.layer}] {fix.where}:")
        lines += [f"        {step}" for step in fix.steps]
    for option in verdict.options:
        lines.append(f"    option [{option.layer}] {option.goal}:")
        lines += [f"        {step}" for step in option.steps]
    lines += [f"    caveat: {c}" for c in verdict.caveats]
    return "\n".join(lines) + "\n"


_STATE_WORD = {"met": "met", "unmet": "NOT MET", "unknown": "to confirm"}


def _status_word(verdict: Verdict) -> str:
    """The status, never unconditional while a condition is still to confirm."""
    word = _STATUS_WORD.get(verdict.status, verdict.status)
    pending = len(verdict.to_confirm)
    if pending and verdict.status in ("supported", "evaluation-only", "unsupported"):
        word += (f", if {pending} conditions to confirm hold" if pending > 1
                 else ", if 1 condition to confirm holds")
    return word


def _condition_line(c: Condition) -> str:
    """One condition with its state, and what decided it or where to confirm it."""
    tail = ""
    if c.state == "unknown" and c.confirm:
        tail = f" (confirm: {c.confirm})"
    elif c.evidence:
        tail = f" [{_cited(c.evidence)}]"
    return f"[{_STATE_WORD[c.state]}] {c.id}: {c.text}{tail}"


def _condition_lines(verdict: Verdict, indent: str = "      ") -> list[str]:
    return [line for c in verdict.conditions
            for line in _wrap(_condition_line(c), indent, indent + "  ")]


def _condition_summary(verdict: Verdict) -> list[str]:
    """The verdict's conditions by state, by id (the Conditions section has the text)."""
    parts = []
    for state in ("unmet", "unknown", "met"):
        ids = [c.id for c in verdict.conditions if c.state == state]
        if ids:
            parts.append(f"{_STATE_WORD[state]} {', '.join(ids)}")
    return _wrap(f"conditions: {'; '.join(parts)}", "      ", "        ") if parts else []


def _all_conditions(report: Report) -> list[str]:
    seen: dict[str, Condition] = {}
    for verdict in report.verdicts:
        for c in verdict.conditions:
            seen.setdefault(c.id, c)
    return [line for c in seen.values() for line in _wrap(_condition_line(c), "  ", "    ")]


def _cited(facts: Iterable[Evidence]) -> str:
    seen: dict[str, None] = {}
    for e in facts:
        seen.setdefault(f"{e.source}={_value(e.value, e.source)}")
    return "; ".join(seen)


def _verdict_block(verdict: Verdict, previous: Verdict | None = None) -> list[str]:
    """Status, the rule's conclusion, then the evidence it rests on in one compact line."""
    lines = [f"  {verdict.scenario:<18} {_status_word(verdict)}"]
    *facts, conclusion = verdict.reasons or (Evidence("no rule matched", verdict.rule, None),)
    lines += _wrap(conclusion.claim, "      ")
    if facts:
        cited = _cited(facts)
        if previous is not None and cited == _cited(previous.reasons[:-1]):
            cited = "as above"
        lines += _wrap(f"evidence: {cited}", "      ")
    return lines


def _remediation_lines(report: Report) -> list[str]:
    seen: set[tuple[str, tuple[str, ...]]] = set()
    lines: list[str] = []
    for verdict in report.verdicts:
        for fix in verdict.remediation:
            key = (fix.where, tuple(fix.steps))
            if key in seen:
                continue
            seen.add(key)
            lines.append(f"  [{fix.layer}] {fix.where}:")
            lines += [f"      {step}" for step in fix.steps]
            lines.append(f"      (source: {fix.source})")
    return lines


def _option_lines(report: Report) -> list[str]:
    """Changes for other goals than the verdicts' own: never presented as fixes."""
    seen: set[tuple[str, tuple[str, ...]]] = set()
    lines: list[str] = []
    for verdict in report.verdicts:
        for option in verdict.options:
            key = (option.where, tuple(option.steps))
            if key in seen:
                continue
            seen.add(key)
            lines += _wrap(f"- {option.goal}; [{option.layer}] {option.where}:", "  ", "    ")
            lines += [f"      {step}" for step in option.steps]
    return lines


def _caveat_lines(report: Report) -> list[str]:
    seen: list[str] = []
    for verdict in report.verdicts:
        if verdict.status in ("supported", "evaluation-only", "unsupported"):
            seen += [c for c in verdict.caveats if c not in seen]
    return [line for c in seen for line in _wrap(f"- {c}", "  ", "    ")]


def _windows_line(w: WindowsFacts) -> str:
    """One line for this Windows: release, edition, build, what is installed and configured."""
    build = f"build {w.build}" + (f".{w.ubr}" if w.ubr is not None else "") if w.build else ""
    head = ", ".join(p for p in (w.release or w.product_name or "Windows", w.edition, build,
                                 w.installation_type or "") if p and p != "unknown")
    said = {True: "installed", False: "not installed"}
    parts = [head]
    if w.hyperv_installed is not None:
        parts.append(f"Hyper-V {said[w.hyperv_installed]}")
    if w.wsl_installed is not None:
        parts.append(f"WSL {said[w.wsl_installed]}")
    if w.vbs_configured is not None:
        parts.append("VBS " + ("configured" if w.vbs_configured else "off"))
    if w.hypervisor_launch is not None:
        parts.append(f"hypervisorlaunchtype {w.hypervisor_launch}")
    if w.memory_bytes is not None:
        parts.append(f"{w.memory_bytes / (1 << 30):.1f} GiB")
    if w.logical_processors is not None:
        parts.append(f"{w.logical_processors} logical processors")
    if w.source not in ("probe", "none"):
        parts.append(f"from {w.source} output")
    return "; ".join(parts)


def render_text(report: Report) -> str:
    a = report.assessment
    snap = report.snapshot
    hv, virt, nest, cpu, env = (a.hypervisor, a.virtualization, a.nesting, a.cpu, a.environment)
    summary = "  ".join(f"{v.scenario}: {v.status}" for v in report.verdicts)
    out: list[str] = [f"nestprobe {VERSION} — can I nest here?", "", answer(report)]
    out += [*_wrap(f"Verdicts: {summary}", "", "  "), ""]

    fixes = _remediation_lines(report)
    if fixes:
        out += ["What to change, and where:", *fixes, ""]
    out.append("Verdicts (Microsoft's nested-virtualization support matrix):")
    previous: Verdict | None = None
    for verdict in report.verdicts:
        out += _verdict_block(verdict, previous)
        out += _condition_summary(verdict)
        previous = verdict
    conditions = _all_conditions(report)
    if conditions:
        out += ["", "Conditions (what decided each, or where to confirm it):", *conditions]
    options = _option_lines(report)
    if options:
        out += ["", "Options for other goals (nothing here needs changing for the verdicts above):",
                *options]
    caveats = _caveat_lines(report)
    if caveats:
        out += ["", "Caveats that apply:", *caveats]

    out += ["", "Facts:"]
    brand = f" {cpu.brand}" if cpu.brand else ""
    out.append(f"  CPU            {cpu.vendor or 'unknown'}{brand}")
    if hv.detected:
        who = hv.product or hv.vendor or "unknown"
        extra = f", partition {hv.partition}" if hv.partition and hv.partition not in who else ""
        cloud = f", cloud {hv.cloud}" if hv.cloud else ""
        itype = f" ({hv.instance_type})" if hv.instance_type else ""
        out.append(f"  Hypervisor     {who}{extra}{cloud}{itype}")
    else:
        out.append("  Hypervisor     none visible")
    for iface in hv.interfaces:
        out.append(
            f'    {iface.base:#010x}  "{iface.signature}" max {iface.max_leaf:#x}'
            f" -> {iface.vendor_id or 'unknown'}"
        )
    out.append(
        f"  VT-x / AMD-V   vmx {_yesno(virt.vmx)}, svm {_yesno(virt.svm)}, "
        f"exposed {_yesno(virt.exposed)}, SLAT {_yesno(virt.slat)}"
    )
    pvm = " (software nesting only: PVM-enabled guests)" if virt.software_nesting_only else ""
    out.append(f"  Can host VMs   {_yesno(virt.can_host_vms)}{pvm}")
    if virt.kvm_device is not None:
        backend = f", backend {virt.kvm_backend}" if virt.kvm_backend else ""
        out.append(f"  /dev/kvm       {virt.kvm_device}{backend}")
    level = "unknown" if nest.level is None else str(nest.level)
    likely = f", likely {nest.likely}" if nest.likely is not None else ""
    out.append(
        f"  Nesting level  {level} (at least {nest.at_least}{likely}; confidence {nest.confidence})"
    )
    if snap.latency is not None:
        lat = snap.latency
        ns = f" = {lat.cpuid_ticks / lat.tsc_hz * 1e9:,.0f} ns" if lat.tsc_hz else ""
        median = f"median {lat.median_ticks:,.0f}"
        out.append(f"  CPUID exit     {lat.cpuid_ticks:,.0f} TSC ticks{ns} ({median})")
    if env.windows is not None:
        out.append(f"  Windows        {_windows_line(env.windows)}")
    if env.wsl or env.container or env.xen_domain:
        bits = [
            b for b in ("WSL" if env.wsl else "", env.container or "", env.xen_domain or "") if b
        ]
        out.append(f"  Environment    {', '.join(bits)}")

    out += ["", "Evidence:"]
    for title, evidence in (
        ("hypervisor", hv.evidence),
        ("virtualization", virt.evidence),
        ("nesting", nest.evidence),
        ("environment", env.evidence),
    ):
        if evidence:
            out.append(f"  {title}:")
            out += _evidence_lines(evidence)
    origin = snap.origin
    source = "live probe" if origin.kind == "live" else f"dump {origin.path} ({origin.format})"
    out += ["", f"Source: {source}; CPUID {snap.cpuid_status}, {len(snap.cpuid)} leaves."]
    return "\n".join(out) + "\n"
