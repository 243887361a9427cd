"""evaluate(): run the matrix over an Assessment, one Verdict per scenario.

Per scenario: the first matching rule gives the status, its reasons and its fixes; then
every condition the rule names (and every global one) is checked against the evidence.
An unmet condition makes the status at least its own (blocked, usually), puts its
evidence and finding last in the reasons, and brings its fix first (replacing the
rule's when the rule's cannot help until it is done). Unknown conditions stay listed:
a status holds only if they do. Last, where the final status still lets the scenario
run, this Windows' own steps (verdicts/windows.py: enable the feature, launch the
hypervisor) join the fixes.
"""

from __future__ import annotations

from nestprobe.model.assessment import Assessment
from nestprobe.model.evidence import Evidence
from nestprobe.model.verdicts import (
    SCENARIOS,
    STATUSES,
    Condition,
    Remediation,
    Scenario,
    Status,
    Verdict,
    Verdicts,
)
from nestprobe.verdicts.conditions import (
    CHECKS,
    CONDITIONS,
    GLOBAL_CONDITIONS,
    ConditionRow,
    Outcome,
    confirm_for,
    unmet_reason,
)
from nestprobe.verdicts.headline import decide_headline
from nestprobe.verdicts.matrix import FALLBACK, RULES
from nestprobe.verdicts.notes import GLOBAL_NOTES, NOTES
from nestprobe.verdicts.remediation import OUTER, resolve, resolve_options
from nestprobe.verdicts.rules import Rule, When
from nestprobe.verdicts.situation import Situation, situate

#: How far from "yes" a status is: an unmet condition can only move a verdict down.
SEVERITY: dict[Status, int] = {
    "supported": 0, "evaluation-only": 1, "unsupported": 2, "unknown": 3, "blocked": 4,
}
assert set(SEVERITY) == set(STATUSES)


#: A rule with its ``when`` as (field, accepted values) pairs.
_Row = tuple[Rule, tuple[tuple[str, frozenset[object]], ...]]
#: Per scenario, the RULES that cover it, in RULES' order: made in one pass on first use and
#: published whole (a thread never sees it half made). The first match is looked for inline:
#: ~170 rows a check, and a call of matches() per row was most of the verdicts' time.
_RULES_FOR: dict[Scenario, tuple[_Row, ...]] = {}


def _rules_for(scenario: Scenario) -> tuple[_Row, ...]:
    if not _RULES_FOR:
        made: dict[Scenario, list[_Row]] = {}
        for rule in RULES:
            row = (rule, tuple(rule.when.items()))
            for covered in rule.scenarios:
                made.setdefault(covered, []).append(row)
        _RULES_FOR.update({covered: tuple(rows) for covered, rows in made.items()})
    return _RULES_FOR.get(scenario, ())


def rule_for(scenario: Scenario, situation: Situation) -> Rule:
    """The first rule in :data:`RULES` that covers ``scenario`` here, or the fallback."""
    for rule, pairs in _rules_for(scenario):
        for name, accepted in pairs:
            if getattr(situation, name) not in accepted:
                break
        else:
            return rule
    return FALLBACK


def _claim(rule: Rule, situation: Situation) -> str:
    return rule.claim.format(
        hypervisor=situation.hypervisor_name or "unidentified",
        instance=situation.instance_type or "(unnamed)",
    )


def _reasons(rule: Rule, situation: Situation) -> list[Evidence]:
    """The assessment's evidence for every fact the rule matched on (and for who runs this
    VM when the fix is theirs), then the rule's claim."""
    seen: list[Evidence] = []
    names = [*rule.when, *(("outer",) if OUTER in rule.remediation else ())]
    for name in names:
        for item in situation.evidence.get(name, ()):
            if item not in seen:
                seen.append(item)
    seen.append(Evidence(claim=_claim(rule, situation), source=rule.source, value=rule.status,
                         kind="document"))
    return seen


#: Each condition's and each note's ``when`` as (field, accepted) pairs, by id: made on
#: first use of the row (each verdict asks ~10 of each; FrozenMap.items() per ask was most
#: of it).
_CONDITION_WHEN: dict[str, tuple[tuple[str, frozenset[object]], ...]] = {}
_NOTE_WHEN: dict[str, tuple[tuple[str, frozenset[object]], ...]] = {}


def _fits(cache: dict[str, tuple[tuple[str, frozenset[object]], ...]], key: str,
          when: When, situation: Situation) -> bool:
    """rules.matches(when, situation), with ``when``'s pairs kept in ``cache`` by id."""
    pairs = cache.get(key)
    if pairs is None:
        pairs = cache[key] = tuple(when.items())
    for name, accepted in pairs:  # noqa: SIM110 (a loop: see _RULES_FOR)
        if getattr(situation, name) not in accepted:
            return False
    return True


def _caveats(rule: Rule, scenario: Scenario, situation: Situation) -> tuple[str, ...]:
    caveats: list[str] = []
    for note_id in (*rule.notes, *GLOBAL_NOTES):
        note = NOTES.get(note_id)
        if note is None or scenario not in note.scenarios:
            continue
        if _fits(_NOTE_WHEN, note_id, note.when, situation) and note.text not in caveats:
            caveats.append(note.text)
    return tuple(caveats)


def _rows(rule: Rule, scenario: Scenario, situation: Situation) -> list[ConditionRow]:
    """The conditions the rule names and the global ones that fit here, each once (an id
    names one row: CONDITIONS is keyed by the row's own id)."""
    rows: list[ConditionRow] = []
    looked: set[str] = set()
    for cid in (*rule.notes, *GLOBAL_CONDITIONS):
        row = CONDITIONS.get(cid)
        if row is None or cid in looked or scenario not in row.scenarios:
            continue
        looked.add(cid)
        if _fits(_CONDITION_WHEN, cid, row.when, situation):
            rows.append(row)
    return rows


def check(row: ConditionRow, a: Assessment, situation: Situation) -> tuple[Condition, Outcome]:
    """One condition's state and evidence, and the check's outcome (its finding, its fix)."""
    outcome = CHECKS[row.check](a, situation, row)
    condition = Condition(
        id=row.id, text=row.text, state=outcome.state, evidence=outcome.evidence,
        confirm=confirm_for(row, situation) if outcome.state == "unknown" else None,
        source=row.source,
    )
    return condition, outcome


def _windows_fixes(scenario: Scenario, situation: Situation, a: Assessment,
                   status: Status) -> tuple[Remediation, ...]:
    """This Windows' own steps (verdicts/windows.py), where the final status lets the scenario
    run once they are done. Every step matches on a Windows word, which is "n/a" without a
    Windows part: none applies then, and the module is left unimported."""
    if not a.facts.has_windows:
        return ()
    from nestprobe.verdicts.windows import windows_steps

    return resolve(windows_steps(scenario, situation, status), situation)


def verdict_for(scenario: Scenario, situation: Situation, a: Assessment) -> Verdict:
    rule = rule_for(scenario, situation)
    status: Status = rule.status
    reasons = _reasons(rule, situation)
    conditions: list[Condition] = []
    fixes: list[Remediation] = []
    keep_rule_fixes = True
    for row in _rows(rule, scenario, situation):
        condition, outcome = check(row, a, situation)
        conditions.append(condition)
        if condition.state != "unmet" or row.unmet_status is None:
            continue
        if SEVERITY[row.unmet_status] > SEVERITY[status]:
            status = row.unmet_status
        reasons += [e for e in condition.evidence if e not in reasons]
        reasons.append(Evidence(claim=unmet_reason(row, outcome), source=row.source,
                                value=status, kind="document"))
        fix_ids = outcome.fix if outcome.fix is not None else row.unmet_fix
        fixes += [f for f in resolve(fix_ids, situation) if f not in fixes]
        keep_rule_fixes = keep_rule_fixes and not row.supersedes
    if keep_rule_fixes:
        fixes += [f for f in resolve(rule.remediation, situation) if f not in fixes]
    fixes += [f for f in _windows_fixes(scenario, situation, a, status) if f not in fixes]
    return Verdict(
        scenario=scenario,
        status=status,
        reasons=tuple(reasons),
        conditions=tuple(conditions),
        caveats=_caveats(rule, scenario, situation),
        remediation=tuple(fixes),
        rule=rule.id,
        source=rule.source,
        options=resolve_options(rule.options),
    )


def evaluate(assessment: Assessment) -> Verdicts:
    """Every scenario's verdict for this assessment, in :data:`SCENARIOS` order."""
    situation = situate(assessment)
    verdicts = Verdicts(tuple(verdict_for(s, situation, assessment) for s in SCENARIOS),
                        headline=decide_headline(assessment, situation))
    if assessment.facts.proof.value is None:
        return verdicts
    from nestprobe.verdicts.proof import apply

    return apply(verdicts, assessment)
