"""The lines every text output is made of, and what ``nestprobe check`` prints with them.

:class:`Line` (a row and its colour), :func:`finish` (escape once more, colour, join),
the wrapping and value helpers the report shares, the answer's lines, one verdict in full
(:func:`verdict_detail`) and its readiness (``check --ready``). The one-screen report and
``-v`` (:mod:`nestprobe.output.text`) are built from these; a check imports only this
module, not the report's layout.

Every text that came from a dump or the machine passes through
:func:`~nestprobe.model.safetext.escape` when a line is built, and every finished line
once more before colour is added: no control character reaches the terminal.
"""

from __future__ import annotations

from nestprobe.model.evidence import Evidence, EvidenceKind
from nestprobe.model.record import Record
from nestprobe.model.safetext import escape
from nestprobe.model.typeshim import TYPE_CHECKING, Iterable
from nestprobe.output.answer import answer
from nestprobe.output.console import ANSI, RESET
from nestprobe.output.wrap import wrap

if TYPE_CHECKING:
    from nestprobe.model.report import Report
    from nestprobe.model.verdicts import Verdict
    from nestprobe.verdicts.readiness import Readiness

#: A classic terminal: 80 columns.
WIDTH = 80
VERBOSE_WIDTH = 100


STATUS_WORD = {
    "supported": "SUPPORTED",
    "evaluation-only": "EVALUATION ONLY",
    "unsupported": "UNSUPPORTED (may work)",
    "blocked": "BLOCKED",
    "unknown": "UNKNOWN",
}


STATUS_STYLE = {
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

    def __init__(self, text: str, style: str | None = None, span: int = 0) -> None:
        # One per row printed (~25 a check): a direct __init__, as Evidence's; every field
        # is a str, None or an int, which the generic one would store as they are.
        setter = object.__setattr__
        setter(self, "text", text)
        setter(self, "style", style)
        setter(self, "span", span)


def fold(text: str, width: int, indent: str = "", subsequent: str | None = None) -> list[str]:
    return wrap(escape(text), width, indent, indent if subsequent is None else subsequent
                ) or [indent]


def shown(value: object, kind: EvidenceKind | None = None) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and kind == "cpuid" and value > 9:
        return f"{value:#x}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return "-" if value is None else escape(str(value))


def conclusion(verdict: Verdict) -> str:
    return verdict.reasons[-1].claim if verdict.reasons else "no rule matched"


#: Statuses a condition still to confirm makes conditional.
_CONDITIONAL = ("supported", "evaluation-only", "unsupported")


def pending_count(verdict: Verdict) -> int:
    return len(verdict.to_confirm) if verdict.status in _CONDITIONAL else 0


def _if_holds(pending: int) -> str:
    return (f"if {pending} conditions to confirm hold" if pending > 1
            else "if 1 condition to confirm holds")


def status_word(verdict: Verdict) -> str:
    """The status, never unconditional while a condition is still to confirm."""
    word = STATUS_WORD.get(verdict.status, verdict.status.upper())
    pending = pending_count(verdict)
    return f"{word}, {_if_holds(pending)}" if pending else word


def answer_lines(report: Report, width: int) -> list[Line]:
    """The answer, first; coloured by its first word (Yes / No / the rest)."""
    text = answer(report)
    style = "green" if text.startswith("Yes") else "red" if text.startswith("No") else "yellow"
    return [Line(row, style) for row in fold(text, width)]


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


def _cited(facts: Iterable[Evidence]) -> str:
    seen: dict[str, None] = {}
    for e in facts:
        seen.setdefault(f"{escape(e.source)}={shown(e.value, e.kind)}")
    return "; ".join(seen)


def evidence_lines(evidence: Iterable[Evidence], width: int, indent: str) -> list[Line]:
    lines: list[Line] = []
    for e in evidence:
        text = f"- {e.claim}  [{e.source} = {shown(e.value, e.kind)}]"
        lines += [Line(row) for row in fold(text, width, indent, indent + "  ")]
    return lines


def verdict_detail(verdict: Verdict, width: int = VERBOSE_WIDTH) -> list[Line]:
    """One verdict in full: status, reasons with evidence, conditions, caveats, fixes."""
    word = status_word(verdict)
    lines = [Line(f"{verdict.scenario}: {word}", STATUS_STYLE.get(verdict.status),
                  len(verdict.scenario) + 2 + len(word))]
    *facts, _ = verdict.reasons or (Evidence("no rule matched", verdict.rule, None),)
    lines += [Line(row) for row in fold(conclusion(verdict), width, "    ")]
    if facts:
        lines += [Line(row) for row in fold(f"evidence: {_cited(facts)}", width, "    ", "      ")]
    lines += [Line(row) for row in
              fold(f"rule {verdict.rule}; source {verdict.source}", width, "    ", "      ")]
    for condition in verdict.conditions:
        confirm = f"; confirm: {condition.confirm}" if condition.confirm else ""
        row_id = f" ({condition.id})" if condition.id else ""
        lines += [Line(row) for row in fold(
            f"condition [{condition.state}] {condition.text}{confirm}{row_id}", width, "    ",
            "      ")]
        lines += evidence_lines(condition.evidence, width, "        ")
    for fix in verdict.remediation:
        lines += [Line(row) for row in
                  fold(f"fix [{fix.layer}] {fix.where}:", width, "    ", "      ")]
        lines += [Line("        " + escape(step)) for step in fix.steps]
    for option in verdict.options:
        lines += [Line(row) for row in fold(
            f"option [{option.layer}] {option.where} (for: {option.goal}):", width, "    ",
            "      ")]
        lines += [Line("        " + escape(step)) for step in option.steps]
    lines += [Line(row) for caveat in verdict.caveats
              for row in fold(f"caveat: {caveat}", width, "    ", "      ")]
    return lines


_READY_WORDS = {
    "ready": "ready now: nothing left to do or confirm",
    "after-steps": "ready after steps in this OS",
    "needs-confirmation": "needs another layer or a person to confirm",
    "not-supported": "not supported here (the status above says why)",
}


def readiness_lines(ready: Readiness, width: int = VERBOSE_WIDTH) -> list[Line]:
    """``check --ready``: the readiness, each step (elevated? restart?) and what is pending."""
    needs = [word for word, flag in (("elevated", ready.elevated), ("restart", ready.restart))
             if flag]
    head = f"readiness: {_READY_WORDS[ready.state]}" + (f" ({', '.join(needs)})" if needs else "")
    lines = [Line(row) for row in fold(head, width, "", "    ")]
    for step in ready.steps:
        flags = ", ".join(w for w, f in (("elevated", step.elevated), ("restart", step.restart))
                          if f) or "no elevation"
        settles = f"; settles {', '.join(step.conditions)}" if step.conditions else ""
        then = f"; if not met: {step.fix}" if step.fix else ""
        lines += [Line(row) for row in fold(
            f"step {step.kind} {step.id} [{flags}] {step.where}{settles}{then}", width, "    ",
            "      ")]
        lines += [Line("        " + escape(command)) for command in step.commands]
    for item in ready.pending:
        confirm = f": {item.confirm}" if item.confirm else ""
        lines += [Line(row) for row in fold(
            f"pending [{item.layer}] {item.id} ({item.state}){confirm}", width, "    ", "      ")]
    return lines


def render_verdict(verdict: Verdict, *, width: int = VERBOSE_WIDTH, colour: bool = False) -> str:
    """One scenario's verdict in full (``nestprobe check``)."""
    return finish(verdict_detail(verdict, width), colour)
