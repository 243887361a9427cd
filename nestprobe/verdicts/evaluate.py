"""evaluate(): run the matrix over an Assessment, one Verdict per scenario."""

from __future__ import annotations

from nestprobe.model.assessment import Assessment
from nestprobe.model.evidence import Evidence
from nestprobe.model.verdicts import SCENARIOS, Condition, Scenario, Verdict, Verdicts
from nestprobe.verdicts.matrix import FALLBACK, RULES
from nestprobe.verdicts.notes import GLOBAL_NOTES, NOTES
from nestprobe.verdicts.remediation import resolve
from nestprobe.verdicts.rules import Rule, matches
from nestprobe.verdicts.situation import Situation, situate
from nestprobe.verdicts.windows import windows_steps


def rule_for(scenario: Scenario, situation: Situation) -> Rule:
    """The first rule in :data:`RULES` that covers ``scenario`` here, or the fallback."""
    return next((r for r in RULES if r.applies(scenario, situation)), FALLBACK)


def _claim(rule: Rule, situation: Situation) -> str:
    return rule.claim.format(
        hypervisor=situation.hypervisor_name or "unidentified",
        instance=situation.instance_type or "(unnamed)",
    )


def _reasons(rule: Rule, situation: Situation) -> tuple[Evidence, ...]:
    """The assessment's evidence for every fact the rule matched on, then the rule's claim."""
    seen: list[Evidence] = []
    for name in rule.when:
        for item in situation.evidence.get(name, ()):
            if item not in seen:
                seen.append(item)
    verdict_claim = Evidence(claim=_claim(rule, situation), source=rule.source,
                             value=rule.status)
    return (*seen, verdict_claim)


def _notes(rule: Rule, scenario: Scenario, situation: Situation) -> tuple[list[str], list[str]]:
    conditions: list[str] = []
    caveats: list[str] = []
    for note_id in (*rule.notes, *GLOBAL_NOTES):
        note = NOTES[note_id]
        if scenario not in note.scenarios or not matches(note.when, situation):
            continue
        target = conditions if note.kind == "condition" else caveats
        if note.text not in target:
            target.append(note.text)
    return conditions, caveats


def verdict_for(scenario: Scenario, situation: Situation) -> Verdict:
    rule = rule_for(scenario, situation)
    conditions, caveats = _notes(rule, scenario, situation)
    return Verdict(
        scenario=scenario,
        status=rule.status,
        reasons=_reasons(rule, situation),
        conditions=tuple(Condition(text) for text in conditions),
        caveats=tuple(caveats),
        remediation=resolve(
            (*rule.remediation, *windows_steps(scenario, situation, rule.status)), situation),
        rule=rule.id,
        source=rule.source,
    )


def evaluate(assessment: Assessment) -> Verdicts:
    """Every scenario's verdict for this assessment, in :data:`SCENARIOS` order."""
    situation = situate(assessment)
    return Verdicts(tuple(verdict_for(s, situation) for s in SCENARIOS))
