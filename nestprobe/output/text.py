"""The human rendering: a report people read to the end.

Default (one screen, at most :data:`SCREEN_ROWS` rows at the given width):

1. the answer, on the first line;
2. one entry per verdict, scenarios that share a status and a reason grouped together;
3. the conditions still to confirm (or known unmet), each once, tagged with the
   scenarios it concerns;
4. what to change, and where (each fix once, its exact steps);
5. one line pointing at ``-v``.

When that does not fit, :func:`_fit` shortens in a fixed order (:data:`LEVELS`:
conditions, then reasons, to one row each; then it keeps the leading steps that fit and
says how many more ``-v`` shows; then blank lines go), so the answer and the verdicts
are always on screen. A command is never cut inside; it is shown whole or counted as
"more".

``-v`` (:func:`render_verbose`) keeps everything: every verdict's evidence, conditions
with their state and evidence, caveats, the fixes' sources, the facts and the evidence
behind each conclusion.

Every text that came from a dump or the machine passes through
:func:`~nestprobe.model.safetext.escape` when a line is built, and every finished line
once more before colour is added: no control character reaches the terminal.

This text is for people and may change between releases; scripts should use
``--json`` or the exit codes of ``nestprobe check``.
"""

from __future__ import annotations

import math
import textwrap
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from nestprobe.model.contract import VERSION
from nestprobe.model.evidence import Evidence
from nestprobe.model.record import Record, replace
from nestprobe.model.safetext import escape
from nestprobe.model.verdicts import SCENARIOS, WINDOWS_SCENARIOS
from nestprobe.output.answer import answer
from nestprobe.output.console import ANSI, RESET

if TYPE_CHECKING:
    from nestprobe.model.report import Report
    from nestprobe.model.verdicts import Condition, Remediation, Scenario, Verdict

#: A classic terminal: 80 columns, 24 rows.
WIDTH = 80
SCREEN_ROWS = 24
VERBOSE_WIDTH = 100
MORE = "nestprobe -v"

STATUS_WORD = {
    "supported": "SUPPORTED",
    "evaluation-only": "EVALUATION ONLY",
    "unsupported": "UNSUPPORTED (may work)",
    "blocked": "BLOCKED",
    "unknown": "UNKNOWN",
}
_STATUS_STYLE = {
    "supported": "green",
    "evaluation-only": "yellow",
    "unsupported": "yellow",
    "blocked": "red",
    "unknown": "magenta",
}


class Line(Record):
    """One output line; ``style`` colours its first ``span`` characters (0: all)."""

    text: str
    style: str | None = None
    span: int = 0


class Group(Record):
    """Scenarios that share a status and a conclusion."""

    status: str
    reason: str
    scenarios: tuple[Scenario, ...]


class OpenCondition(Record):
    """A condition not shown to hold, with every scenario it concerns."""

    condition: Condition
    scenarios: tuple[Scenario, ...]


# ------------------------------------------------------------------ small helpers


def columns(text: str) -> int:
    """Terminal columns ``text`` takes: wide (CJK) characters two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(ch) else
               2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def rows(lines: Iterable[Line | str], width: int) -> int:
    """Screen rows ``lines`` take at ``width`` columns (a long line wraps)."""
    total = 0
    for line in lines:
        text = line.text if isinstance(line, Line) else line
        total += max(1, math.ceil(columns(text) / width))
    return total


def _wrap(text: str, width: int, indent: str = "", subsequent: str | None = None) -> list[str]:
    return textwrap.wrap(
        escape(text),
        width=width,
        break_on_hyphens=False,
        break_long_words=False,
        initial_indent=indent,
        subsequent_indent=indent if subsequent is None else subsequent,
    ) or [indent]


def _one_row(text: str, width: int, indent: str = "") -> str:
    """``text`` on one row: cut at a word with ``...`` when it is longer."""
    safe = escape(text)
    room = width - len(indent)
    if len(safe) <= room:
        return indent + safe
    cut = safe[: room - 3]
    if " " in cut[room // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return indent + cut.rstrip(" ,;:") + "..."


def _names(scenarios: Sequence[Scenario]) -> str:
    if tuple(scenarios) == SCENARIOS:
        return "every scenario"
    if tuple(scenarios) == WINDOWS_SCENARIOS:
        return "the four Windows scenarios"
    return ", ".join(scenarios)


def _value(value: object, source: str = "") -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and source.startswith("CPUID") and value > 9:
        return f"{value:#x}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return "-" if value is None else escape(str(value))


def _yesno(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def _conclusion(verdict: Verdict) -> str:
    return verdict.reasons[-1].claim if verdict.reasons else "no rule matched"


# ------------------------------------------------------------------ step 1: the answer


def answer_lines(report: Report, width: int) -> list[Line]:
    """The answer, first; coloured by its first word (Yes / No / the rest)."""
    text = answer(report)
    style = "green" if text.startswith("Yes") else "red" if text.startswith("No") else "yellow"
    return [Line(row, style) for row in _wrap(text, width)]


# ------------------------------------------------------------------ step 2: the verdicts


def group_verdicts(report: Report) -> list[Group]:
    """Verdicts with the same status and conclusion, together, in first-seen order."""
    groups: dict[tuple[str, str], list[Scenario]] = {}
    for verdict in report.verdicts:
        groups.setdefault((verdict.status, _conclusion(verdict)), []).append(verdict.scenario)
    return [Group(status, reason, tuple(names)) for (status, reason), names in groups.items()]


#: When shortened, a reason keeps at least this many characters on its row.
_MIN_REASON = 40


def verdict_lines(groups: Sequence[Group], width: int, *, short: bool) -> list[Line]:
    """``STATUS for scenarios: reason``, one entry per group.

    Shortened, an entry takes one row, or two when the scenario list leaves the reason
    less than :data:`_MIN_REASON` characters (the reason then gets its own row).
    """
    lines: list[Line] = []
    for group in groups:
        word = STATUS_WORD.get(group.status, group.status.upper())
        head = f"{word} for {', '.join(group.scenarios)}:"
        style = _STATUS_STYLE.get(group.status)
        if not short:
            wrapped = _wrap(f"{head} {group.reason}", width, "", "    ")
        elif width - len(head) - 1 >= _MIN_REASON:
            wrapped = [_one_row(f"{head} {group.reason}", width)]
        else:
            wrapped = [_one_row(head, width), _one_row(group.reason, width, "    ")]
        lines.append(Line(wrapped[0], style, len(word)))
        lines += [Line(row) for row in wrapped[1:]]
    return lines


# ------------------------------------------------------------------ step 3: conditions


def open_conditions(report: Report) -> list[OpenCondition]:
    """Each condition not known to hold (unknown or unmet), once, with its scenarios."""
    found: dict[tuple[str, str, str | None], tuple[Condition, list[Scenario]]] = {}
    for verdict in report.verdicts:
        for condition in verdict.conditions:
            if condition.state == "met":
                continue
            key = (condition.text, condition.state, condition.confirm)
            found.setdefault(key, (condition, []))[1].append(verdict.scenario)
    return [OpenCondition(c, tuple(names)) for c, names in found.values()]


def _condition_text(item: OpenCondition) -> str:
    condition = item.condition
    lead = "not met: " if condition.state == "unmet" else ""
    confirm = f" (confirm: {condition.confirm})" if condition.confirm else ""
    return f"{lead}{condition.text}{confirm} [{_names(item.scenarios)}]"


def condition_lines(items: Sequence[OpenCondition], width: int, *, short: bool) -> list[Line]:
    if not items:
        return []
    lines = [Line("Still to confirm:", "bold")]
    for item in items:
        text = _condition_text(item)
        rows_ = [_one_row(text, width, "  - ")] if short else _wrap(text, width, "  - ", "    ")
        lines += [Line(row) for row in rows_]
    return lines


# ------------------------------------------------------------------ step 4: what to change


def unique_fixes(report: Report) -> list[Remediation]:
    seen: set[tuple[str, tuple[str, ...]]] = set()
    fixes: list[Remediation] = []
    for verdict in report.verdicts:
        for fix in verdict.remediation:
            key = (fix.where, tuple(fix.steps))
            if key not in seen:
                seen.add(key)
                fixes.append(fix)
    return fixes


def fix_lines(
    fixes: Sequence[Remediation], width: int, *, step_budget: int | None = None,
    sources: bool = False,
) -> list[Line]:
    """``[layer] where:`` and the exact steps, unwrapped (a command is copied whole).

    With ``step_budget`` (rows for steps), each fix shows the leading steps that fit and
    one line saying how many more ``-v`` shows; a step is never cut.
    """
    if not fixes:
        return []
    lines = [Line("What to change, and where:", "bold")]
    left = step_budget
    for fix in fixes:
        lines += [Line(row) for row in _wrap(f"[{fix.layer}] {fix.where}:", width, "  ", "    ")]
        steps = [Line("    " + escape(step)) for step in fix.steps]
        if left is not None and rows(steps, width) > left:
            shown: list[Line] = []
            for step in steps:  # leading steps only: the order of commands matters
                if rows([*shown, step], width) > left - 1:
                    break
                shown.append(step)
            hidden = len(steps) - len(shown)
            more = f"    ... {hidden} more step{'s' if hidden > 1 else ''}: {MORE}"
            steps = [*shown, Line(more, "dim")]
        lines += steps
        if left is not None:
            left = max(left - rows(steps, width), 0)
        if sources:
            lines += [Line(row, "dim") for row in
                      _wrap(f"(source: {fix.source})", width, "    ", "      ")]
    return lines


# ------------------------------------------------------------------ step 5: fit one screen


def _footer(shortened: bool) -> Line:
    if shortened:
        return Line(f"Shortened to fit one screen; {MORE} shows all of it, with the evidence.",
                    "dim")
    return Line(f"Evidence, caveats and sources: {MORE}", "dim")


#: Shortening levels, least first: 1 conditions to one row each; 2 reasons to one row
#: (two when the scenario list is long); 3 only the leading steps that fit; 4 no blank
#: lines between sections; 5 the conditions as a count.
LEVELS = 6


def _compose(report: Report, width: int, level: int, budget: int) -> list[Line]:
    """The default report at one shortening ``level`` (0: nothing shortened)."""
    head = answer_lines(report, width)
    verdicts = verdict_lines(group_verdicts(report), width, short=level >= 2)
    conditions = open_conditions(report)
    if level >= 5 and conditions:
        count = len(conditions)
        cond = [Line(f"Still to confirm: {count} condition{'s' if count > 1 else ''} "
                     f"({MORE})", "bold")]
    else:
        cond = condition_lines(conditions, width, short=level >= 1)
    fixes = unique_fixes(report)
    footer = _footer(level > 0)
    gap = [] if level >= 4 else [Line("")]
    parts = [head, gap, verdicts]
    if cond:
        parts += [gap, cond]
    if fixes:
        parts.append(gap)
    fixed = [line for part in parts for line in part]
    if level >= 3 and fixes:
        headers = fix_lines([_headless(f) for f in fixes], width)
        room = budget - rows([*fixed, *headers, footer], width)
        changes = fix_lines(fixes, width, step_budget=max(room, 0))
    else:
        changes = fix_lines(fixes, width)
    return [*fixed, *changes, footer]


def _headless(fix: Remediation) -> Remediation:
    return replace(fix, steps=())


def _fit(report: Report, width: int, budget: int) -> list[Line]:
    """The least shortened composition that fits ``budget`` rows; never more rows."""
    lines: list[Line] = []
    for level in range(LEVELS):
        lines = _compose(report, width, level, budget)
        if rows(lines, width) <= budget:
            return lines
    # Beyond every shortening (a hostile report): the first rows, and where the rest is.
    kept: list[Line] = []
    for line in lines[:-1]:
        if rows([*kept, line], width) > budget - 1:
            break
        kept.append(line)
    return [*kept, Line(f"... cut to fit one screen: {MORE} shows the rest", "dim")]


# ------------------------------------------------------------------ finishing


def finish(lines: Iterable[Line], colour: bool = False) -> str:
    """Join the lines; every line escaped once more, then coloured when asked."""
    out: list[str] = []
    for line in lines:
        text = escape(line.text)
        if colour and line.style in ANSI and text:
            span = line.span or len(text)
            text = f"{ANSI[line.style]}{text[:span]}{RESET}{text[span:]}"
        out.append(text)
    return "\n".join(out) + "\n"


def render_text(
    report: Report, *, width: int = WIDTH, colour: bool = False, budget: int = SCREEN_ROWS,
) -> str:
    """The default report: answer first, within ``budget`` rows of ``width`` columns."""
    return finish(_fit(report, width, budget), colour)


# ------------------------------------------------------------------ -v: everything


def _cited(facts: Iterable[Evidence]) -> str:
    seen: dict[str, None] = {}
    for e in facts:
        seen.setdefault(f"{escape(e.source)}={_value(e.value, e.source)}")
    return "; ".join(seen)


def _evidence_lines(evidence: Iterable[Evidence], width: int, indent: str) -> list[Line]:
    lines: list[Line] = []
    for e in evidence:
        text = f"- {e.claim}  [{e.source} = {_value(e.value, e.source)}]"
        lines += [Line(row) for row in _wrap(text, width, indent, indent + "  ")]
    return lines


def verdict_detail(verdict: Verdict, width: int = VERBOSE_WIDTH) -> list[Line]:
    """One verdict in full: status, reasons with evidence, conditions, caveats, fixes."""
    word = STATUS_WORD.get(verdict.status, verdict.status.upper())
    lines = [Line(f"{verdict.scenario}: {word}", _STATUS_STYLE.get(verdict.status),
                  len(verdict.scenario) + 2 + len(word))]
    *facts, _ = verdict.reasons or (Evidence("no rule matched", verdict.rule, None),)
    lines += [Line(row) for row in _wrap(_conclusion(verdict), width, "    ")]
    if facts:
        lines += [Line(row) for row in _wrap(f"evidence: {_cited(facts)}", width, "    ", "      ")]
    lines += [Line(row) for row in
              _wrap(f"rule {verdict.rule}; source {verdict.source}", width, "    ", "      ")]
    for condition in verdict.conditions:
        confirm = f"; confirm: {condition.confirm}" if condition.confirm else ""
        lines += [Line(row) for row in _wrap(
            f"condition [{condition.state}] {condition.text}{confirm}", width, "    ", "      ")]
        lines += _evidence_lines(condition.evidence, width, "        ")
    for fix in verdict.remediation:
        lines += [Line(row) for row in
                  _wrap(f"fix [{fix.layer}] {fix.where}:", width, "    ", "      ")]
        lines += [Line("        " + escape(step)) for step in fix.steps]
    lines += [Line(row) for caveat in verdict.caveats
              for row in _wrap(f"caveat: {caveat}", width, "    ", "      ")]
    return lines


def render_verdict(verdict: Verdict, *, width: int = VERBOSE_WIDTH, colour: bool = False) -> str:
    """One scenario's verdict in full (``nestprobe check``)."""
    return finish(verdict_detail(verdict, width), colour)


def _fact_lines(report: Report) -> list[Line]:
    a = report.assessment
    snap = report.snapshot
    hv, virt, nest, cpu, env = (a.hypervisor, a.virtualization, a.nesting, a.cpu, a.environment)
    e = escape
    out = [Line("Facts:", "bold")]
    brand = f" {e(cpu.brand)}" if cpu.brand else ""
    out.append(Line(f"  CPU            {e(cpu.vendor or 'unknown')}{brand}"))
    if hv.detected:
        who = hv.product or hv.vendor or "unknown"
        extra = f", partition {hv.partition}" if hv.partition and hv.partition not in who else ""
        cloud = f", cloud {hv.cloud}" if hv.cloud else ""
        itype = f" ({hv.instance_type})" if hv.instance_type else ""
        out.append(Line(e(f"  Hypervisor     {who}{extra}{cloud}{itype}")))
    else:
        out.append(Line("  Hypervisor     none visible"))
    out += [Line(f'    {iface.base:#010x}  "{e(iface.signature)}" max {iface.max_leaf:#x}'
                 f" -> {e(iface.vendor_id or 'unknown')}") for iface in hv.interfaces]
    out.append(Line(f"  VT-x / AMD-V   vmx {_yesno(virt.vmx)}, svm {_yesno(virt.svm)}, "
                    f"exposed {_yesno(virt.exposed)}, SLAT {_yesno(virt.slat)}"))
    pvm = " (software nesting only: PVM-enabled guests)" if virt.software_nesting_only else ""
    out.append(Line(f"  Can host VMs   {_yesno(virt.can_host_vms)}{pvm}"))
    if virt.kvm_device is not None:
        backend = f", backend {e(virt.kvm_backend)}" if virt.kvm_backend else ""
        out.append(Line(f"  /dev/kvm       {e(virt.kvm_device)}{backend}"))
    level = "unknown" if nest.level is None else str(nest.level)
    likely = f", likely {nest.likely}" if nest.likely is not None else ""
    out.append(Line(f"  Nesting level  {level} (at least {nest.at_least}{likely}; "
                    f"confidence {nest.confidence})"))
    if snap.latency is not None:
        lat = snap.latency
        ns = lat.ns(lat.cpuid_ticks)
        shown = f" = {ns:,.0f} ns" if ns is not None else ""
        out.append(Line(f"  CPUID exit     {lat.cpuid_ticks:,.0f} TSC ticks{shown} "
                        f"(median {lat.median_ticks:,.0f})"))
    bits = [b for b in ("WSL" if env.wsl else "", env.container or "", env.xen_domain or "") if b]
    if bits:
        out.append(Line(e(f"  Environment    {', '.join(bits)}")))
    return out


def _all_evidence(report: Report, width: int) -> list[Line]:
    a = report.assessment
    out = [Line("Evidence:", "bold")]
    for title, evidence in (
        ("hypervisor", a.hypervisor.evidence),
        ("virtualization", a.virtualization.evidence),
        ("nesting", a.nesting.evidence),
        ("environment", a.environment.evidence),
    ):
        if evidence:
            out.append(Line(f"  {title}:"))
            out += _evidence_lines(evidence, width, "    ")
    return out


def _source_line(report: Report) -> Line:
    snap = report.snapshot
    origin = snap.origin
    if origin.kind == "live":
        source = "live probe" + (f" on CPU {origin.cpu}" if origin.cpu else "")
    else:
        source = f"dump {origin.path} ({origin.format}, CPU {origin.cpu})"
    return Line(escape(f"Source: {source}; CPUID {snap.cpuid_status}, {len(snap.cpuid)} leaves."))


def render_verbose(report: Report, *, width: int = VERBOSE_WIDTH, colour: bool = False) -> str:
    """Everything the text can show (``-v``): the JSON keeps the same and more."""
    out = [Line(f"nestprobe {VERSION}: can I nest here?", "dim"), *answer_lines(report, width)]
    out += [Line(""), Line("Verdicts (Microsoft's nested-virtualization support matrix):", "bold")]
    for verdict in report.verdicts:
        out += [Line("  " + line.text, line.style, line.span + 2 if line.span else 0)
                for line in verdict_detail(verdict, width - 2)]
    fixes = fix_lines(unique_fixes(report), width, sources=True)
    if fixes:
        out += [Line(""), *fixes]
    out += [Line(""), *_fact_lines(report), Line(""), *_all_evidence(report, width)]
    out += [Line(""), _source_line(report)]
    return finish(out, colour)
