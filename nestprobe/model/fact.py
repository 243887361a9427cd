"""Fact: a value with the evidence that decided it.

``assess/`` decides every fact a verdict or the headline needs (is VT-x exposed, is there
SLAT, how much memory, which partition, ...) and hands it on as a ``Fact``; the stages
above read ``fact.value`` and cite ``fact.evidence``, never an evidence ``source`` string
(each :class:`~nestprobe.model.evidence.Evidence` says its ``kind``). The facts of one
assessment are :class:`nestprobe.model.facts.Facts`.
"""

from __future__ import annotations

from nestprobe.model.evidence import Evidence, EvidenceKind
from nestprobe.model.record import SETTLED, Record, settle
from nestprobe.model.typeshim import Generic, TypeVar

T = TypeVar("T")


class Fact(Record, Generic[T]):
    """``value`` (None: the evidence does not decide it) and the evidence behind it."""

    value: T
    evidence: tuple[Evidence, ...] = ()

    def __init__(self, value: T, evidence: tuple[Evidence, ...] = ()) -> None:
        # ~45 a report, as many as every other record together: a direct __init__ (as
        # Evidence's), storing what the generic one would (a mutable value frozen).
        setter = object.__setattr__
        setter(self, "value", value if type(value) in SETTLED else settle(value))
        setter(self, "evidence", evidence if type(evidence) is tuple else settle(evidence))

    def of_kind(self, *kinds: EvidenceKind) -> tuple[Evidence, ...]:
        """The evidence of these kinds only (``fact.of_kind("cpuid")``)."""
        return tuple(e for e in self.evidence if e.kind in kinds)
