"""The human rendering: a report people read to the end.

Default (one screen, at most :data:`SCREEN_ROWS` rows at the given width):

1. the answer, on the first line;
2. one entry per verdict, scenarios that share a status and a reason grouped together;
3. the conditions still to confirm (or known unmet), each once, tagged with the
   scenarios it concerns (met conditions only with ``-v``);
4. what to change, and where (each fix once, its exact steps);
5. options for other goals (``Verdict.options``: changes nothing above needs, such as
   turning Hyper-V off for VirtualBox on a host whose answer is yes), never as fixes;
6. one line pointing at ``-v``.

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

from nestprobe.model.contract import VERSION
from nestprobe.model.record import Record, replace
from nestprobe.model.safetext import escape
from nestprobe.model.typeshim import TYPE_CHECKING, Iterable, Sequence
from nestprobe.model.verdicts import SCENARIOS, WINDOWS_SCENARIOS
from nestprobe.output.lines import (
    STATUS_STYLE,
    STATUS_WORD,
    VERBOSE_WIDTH,
    WIDTH,
    Line,
    answer_lines,
    conclusion,
    evidence_lines,
    finish,
    fold,
    pending_count,
    verdict_detail,
)

if TYPE_CHECKING:
    from nestprobe.model.assessment import WindowsFacts
    from nestprobe.model.report import Report
    from nestprobe.model.verdicts import Condition, Remediation, Scenario

#: A classic terminal's 24 rows (its 80 columns: lines.WIDTH).
SCREEN_ROWS = 24
MORE = "nestprobe -v"


class Group(Record):
    """Scenarios that share a status, a conclusion and how many conditions are open."""

    status: str
    reason: str
    scenarios: tuple[Scenario, ...]
    pending: bool = False  # conditions still to confirm: the status holds only if they do


class OpenCondition(Record):
    """A condition not shown to hold, with every scenario it concerns."""

    condition: Condition
    scenarios: tuple[Scenario, ...]


# ------------------------------------------------------------------ small helpers


def columns(text: str) -> int:
    """Terminal columns ``text`` takes: wide (CJK) characters two, combining marks none."""
    if text.isascii():
        return len(text)
    import unicodedata  # here: only text beyond ASCII needs it

    return sum(0 if unicodedata.combining(ch) else
               2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def rows(lines: Iterable[Line | str], width: int) -> int:
    """Screen rows ``lines`` take at ``width`` columns (a long line wraps)."""
    total = 0
    for line in lines:
        text = line.text if isinstance(line, Line) else line
        total += max(1, -(-columns(text) // width))  # ceil division
    return total




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




def _yesno(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")












# ------------------------------------------------------------------ step 1: the answer




def proof_lines(report: Report, width: int) -> list[Line]:
    """The proof run's outcome (``--prove``), right under the answer; none without one."""
    proof = report.assessment.proof
    if proof is None:
        return []
    style = {"proven": "green", "emulated": "red", "failed": "red"}.get(proof.state, "yellow")
    text = f"Proof: {proof.summary}; {proof.meaning}"
    if proof.fix:
        text += f" (fix: {proof.fix})"
    return [Line(row, style) for row in fold(text, width, subsequent="  ")]


# ------------------------------------------------------------------ step 2: the verdicts


def group_verdicts(report: Report) -> list[Group]:
    """Verdicts with the same status and conclusion, together, in first-seen order."""
    groups: dict[tuple[str, str, bool], list[Scenario]] = {}
    for verdict in report.verdicts:
        key = (verdict.status, conclusion(verdict), pending_count(verdict) > 0)
        groups.setdefault(key, []).append(verdict.scenario)
    return [Group(status, reason, tuple(names), pending)
            for (status, reason, pending), names in groups.items()]


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
        style = STATUS_STYLE.get(group.status)
        # Conditional on what is still to confirm (listed below, or counted at level 5).
        reason = f"if confirmed: {group.reason}" if group.pending else group.reason
        if not short:
            wrapped = fold(f"{head} {reason}", width, "", "    ")
        elif width - len(head) - 1 >= _MIN_REASON:
            wrapped = [_one_row(f"{head} {reason}", width)]
        else:
            wrapped = [_one_row(head, width), _one_row(reason, width, "    ")]
        lines.append(Line(wrapped[0], style, len(word)))
        lines += [Line(row) for row in wrapped[1:]]
    return lines


# ------------------------------------------------------------------ step 3: conditions


def open_conditions(report: Report, state: str = "unknown") -> list[OpenCondition]:
    """Each condition in ``state`` (unknown: still to confirm; unmet: known not to hold),
    once, with its scenarios."""
    found: dict[tuple[str, str, str | None], tuple[Condition, list[Scenario]]] = {}
    for verdict in report.verdicts:
        for condition in verdict.conditions:
            if condition.state != state:
                continue
            key = (condition.text, condition.state, condition.confirm)
            found.setdefault(key, (condition, []))[1].append(verdict.scenario)
    return [OpenCondition(c, tuple(names)) for c, names in found.values()]


def _condition_text(item: OpenCondition) -> str:
    condition = item.condition
    confirm = f" (confirm: {condition.confirm})" if condition.confirm else ""
    # The scenarios first: a row cut to fit the screen still says whom it concerns.
    return f"[{_names(item.scenarios)}] {condition.text}{confirm}"


CONFIRM_TITLE = "Still to confirm:"
UNMET_TITLE = "Not met (the changes below address them):"


def condition_lines(items: Sequence[OpenCondition], width: int, *, short: bool,
                    title: str = CONFIRM_TITLE) -> list[Line]:
    if not items:
        return []
    lines = [Line(title, "bold")]
    for item in items:
        text = _condition_text(item)
        rows_ = [_one_row(text, width, "  - ")] if short else fold(text, width, "  - ", "    ")
        lines += [Line(row) for row in rows_]
    return lines


# ------------------------------------------------------------------ step 4: what to change


def _unique(changes: Iterable[Remediation]) -> list[Remediation]:
    """Each change once (same place, same steps), in first-seen order."""
    seen: set[tuple[str, tuple[str, ...]]] = set()
    out: list[Remediation] = []
    for change in changes:
        key = (change.where, tuple(change.steps))
        if key not in seen:
            seen.add(key)
            out.append(change)
    return out


def unique_fixes(report: Report) -> list[Remediation]:
    return _unique(fix for verdict in report.verdicts for fix in verdict.remediation)


def unique_options(report: Report) -> list[Remediation]:
    """Every verdict's options (changes for other goals), each once."""
    return _unique(option for verdict in report.verdicts for option in verdict.options)


FIX_TITLE = "What to change, and where:"
OPTION_TITLE = "Options for other goals (nothing above needs them):"


def fix_lines(
    fixes: Sequence[Remediation], width: int, *, step_budget: int | None = None,
    sources: bool = False, title: str = FIX_TITLE, short: bool = False, reserve: int = 0,
) -> list[Line]:
    """``[layer] where:`` and the exact steps, unwrapped (a command is copied whole).

    With ``step_budget`` (rows for steps), each fix shows the leading steps that fit and
    one line saying how many more ``-v`` shows; a step is never cut. An option (a
    Remediation with a ``goal``) is headed by its goal. ``short``: each header on one row;
    ``reserve``: budget rows to leave for what follows (the options' steps).
    """
    if not fixes:
        return []
    lines = [Line(title, "bold")]
    left = step_budget
    for index, fix in enumerate(fixes):
        header = f"[{fix.layer}] {fix.where}:"
        if short:
            lines.append(Line(_one_row(header, width, "  ")))
            if fix.goal:
                lines.append(Line(_one_row(f"for: {fix.goal}", width, "    ")))
        else:
            lines += [Line(row) for row in fold(header, width, "  ", "    ")]
            if fix.goal:
                lines += [Line(row) for row in fold(f"for: {fix.goal}", width, "    ", "      ")]
        steps = [Line(row) for step in fix.steps for row in _step_rows(step, width)]
        # Keep a row for the "... more" line of every later entry with steps.
        room = None if left is None else max(
            left - reserve - sum(1 for later in fixes[index + 1:] if later.steps), 0)
        if room is not None and rows(steps, width) > room:
            shown: list[Line] = []
            for step in steps:  # leading steps only: the order of commands matters
                if rows([*shown, step], width) > room - 1:
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
                      fold(f"(source: {fix.source})", width, "    ", "      ")]
    return lines


# ------------------------------------------------------------------ step 5: fit one screen


def _step_rows(step: str, width: int) -> list[str]:
    """A step on its own row (a command is copied whole); one that is wider than the
    screen (a long name filled in) wraps, its continuation indented further."""
    row = "    " + escape(step)
    if columns(row) <= width:
        return [row]
    return fold(step, width, "    ", "      ")


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
    head = [*answer_lines(report, width), *proof_lines(report, width)]
    verdicts = verdict_lines(group_verdicts(report), width, short=level >= 2)
    conditions = open_conditions(report)
    unmet = open_conditions(report, "unmet")
    if level >= 5 and (conditions or unmet):
        cond = [Line(f"{title} {len(items)} condition{'s' if len(items) > 1 else ''} "
                     f"({MORE})", "bold")
                for title, items in (("Not met:", unmet), (CONFIRM_TITLE, conditions)) if items]
    else:
        cond = [*condition_lines(unmet, width, short=level >= 1, title=UNMET_TITLE),
                *condition_lines(conditions, width, short=level >= 1)]
    fixes = unique_fixes(report)
    options = unique_options(report)
    footer = _footer(level > 0)
    gap = [] if level >= 4 else [Line("")]
    parts = [head, gap, verdicts]
    if cond:
        parts += [gap, cond]
    if fixes:
        parts.append(gap)
    fixed = [line for part in parts for line in part]
    option_gap = gap if options else []
    short = level >= 2
    if level >= 3 and (fixes or options):
        # Headers first, then the leading steps that fit: fixes before options.
        headers = fix_lines([_headless(f) for f in fixes], width, short=short)
        option_headers = fix_lines([_headless(o) for o in options], width, title=OPTION_TITLE,
                                   short=short)
        room = budget - rows([*fixed, *headers, *option_gap, *option_headers, footer], width)
        changes = fix_lines(fixes, width, step_budget=max(room, 0), short=short,
                            reserve=sum(1 for o in options if o.steps))
        room -= rows(changes, width) - rows(headers, width)
        alternatives = fix_lines(options, width, step_budget=max(room, 0), title=OPTION_TITLE,
                                 short=short)
    else:
        changes = fix_lines(fixes, width, short=short)
        alternatives = fix_lines(options, width, title=OPTION_TITLE, short=short)
    return [*fixed, *changes, *option_gap, *alternatives, footer]


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




def render_text(
    report: Report, *, width: int = WIDTH, colour: bool = False, budget: int = SCREEN_ROWS,
) -> str:
    """The default report: answer first, within ``budget`` rows of ``width`` columns."""
    return finish(_fit(report, width, budget), colour)


# ------------------------------------------------------------------ -v: everything














def _fact_lines(report: Report) -> list[Line]:
    a = report.assessment
    snap = report.snapshot
    hv, virt, nest, cpu, env = (a.hypervisor, a.virtualization, a.nesting, a.cpu, a.environment)
    e = escape
    out = [Line("Facts:", "bold")]
    brand = f" {e(cpu.brand)}" if cpu.brand else ""
    out.append(Line(f"  CPU            {e(cpu.vendor or 'unknown')}{brand}"))
    if hv.detected:
        who = hv.product or a.facts.hypervisor_name.value or "unknown"
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
    if virt.kvm_device is not None and virt.kvm_device != "not-linux":
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
    out += _proof_fact_lines(report)
    if env.windows is not None:
        line = _windows_line(env.windows, a.facts.win_paste.value)
        out.append(Line(e(f"  Windows        {line}")))
    bits = [b for b in ("WSL" if env.wsl else "", env.container or "", env.xen_domain or "") if b]
    if bits:
        out.append(Line(e(f"  Environment    {', '.join(bits)}")))
    return out


def _proof_fact_lines(report: Report) -> list[Line]:
    """The proof's figures: outcome, guest speed, the created guest's exit round trips."""
    proof = report.assessment.proof
    if proof is None:
        return []
    e = escape
    error = f", {e(proof.error)}" if proof.error else ""
    out = [Line(e(f"  Proof          {proof.state} ({proof.platform}: {proof.outcome} at "
                  f"{proof.step}{error})"))]
    if proof.speed_ratio is not None and proof.guest_ns_per_iteration is not None:
        out.append(Line(f"    guest loop   {proof.guest_ns_per_iteration:,.2f} ns/iteration, "
                        f"this OS {proof.native_ns_per_iteration or 0:,.2f} "
                        f"({proof.speed_ratio:,.2f}x)"))
    for name, ticks, ns in (("I/O exit", proof.io_round_trip_ticks, proof.io_round_trip_ns),
                            ("CPUID exit", proof.cpuid_round_trip_ticks,
                             proof.cpuid_round_trip_ns)):
        if ticks is not None:  # the round trip of one exit of the guest created here
            shown = f" = {ns:,.0f} ns" if ns is not None else ""
            out.append(Line(f"    {name:<13}{ticks:,.0f} TSC ticks{shown} (guest's round trip)"))
    if proof.witness_text:
        out.append(Line(e(f"    witness      {proof.witness}: {proof.witness_text}")))
    return out


def _windows_line(w: WindowsFacts, paste: str | None) -> str:
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
    if paste is not None:
        parts.append(f"from {paste} output")
    if w.wine is not None:
        parts.append(f"under wine {w.wine} (SLAT, firmware, SMBIOS and BCD unknown)")
    return "; ".join(parts)


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
            out += evidence_lines(evidence, width, "    ")
    return out


def _source_line(report: Report) -> Line:
    snap = report.snapshot
    origin = snap.origin
    if origin.kind == "live":
        source = "live probe " + (
            f"on CPU {origin.cpu}" if origin.cpu is not None else "(not pinned to one CPU)")
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
    options = fix_lines(unique_options(report), width, sources=True, title=OPTION_TITLE)
    if options:
        out += [Line(""), *options]
    out += [Line(""), *_fact_lines(report), Line(""), *_all_evidence(report, width)]
    out += [Line(""), _source_line(report)]
    return finish(out, colour)
