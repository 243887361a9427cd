"""Rule and note row types, and the matcher over a :class:`Situation`.

A row's ``when`` maps Situation field names to the set of values it accepts; a row
matches when every listed field's value is in its set. Plain values, no code: the
tables can be printed, diffed and tested row by row.
"""

from __future__ import annotations

from nestprobe.model.record import Record, field
from nestprobe.model.typeshim import Literal, Mapping
from nestprobe.model.verdicts import Scenario, Status
from nestprobe.verdicts.situation import Situation

When = Mapping[str, frozenset[object]]
NoteKind = Literal["caveat"]


def when(**accepted: object) -> When:
    """``when(place="vm", outer=("kvm", "xen"))``: a tuple lists alternatives."""
    return {
        name: frozenset(value) if isinstance(value, tuple) else frozenset((value,))
        for name, value in accepted.items()
    }


def matches(condition: When, situation: Situation) -> bool:
    # A loop, not all(<generator>): ~200 calls a report, the generator was a third of it.
    for name, accepted in condition.items():  # noqa: SIM110 (see above)
        if getattr(situation, name) not in accepted:
            return False
    return True


class Rule(Record):
    """One row of the matrix: for these scenarios, in this situation, this status.

    ``claim`` may name ``{hypervisor}`` and ``{instance}``; ``remediation`` lists ids of
    :data:`nestprobe.verdicts.remediation.REMEDIATIONS` (``@outer`` = the detected outer
    hypervisor's or cloud's fix); ``notes`` lists ids of conditions
    (:data:`~.conditions.CONDITIONS`, checked against the evidence) and caveats
    (:data:`~.notes.NOTES`); ``options`` lists remediation ids offered for other goals
    (:data:`~.remediation.OPTION_GOALS`), never as fixes.
    """

    id: str
    scenarios: tuple[Scenario, ...]
    status: Status
    when: When
    claim: str
    source: str
    remediation: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    options: tuple[str, ...] = ()

    def applies(self, scenario: Scenario, situation: Situation) -> bool:
        return scenario in self.scenarios and matches(self.when, situation)


class Note(Record):
    """A caveat: what the doc warns, for some scenarios (conditions are checks:
    :mod:`nestprobe.verdicts.conditions`)."""

    id: str
    kind: NoteKind
    scenarios: tuple[Scenario, ...]
    text: str
    source: str
    when: When = field(default_factory=dict)
