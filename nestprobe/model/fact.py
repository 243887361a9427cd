"""Fact: a value with the evidence that decided it.

``assess/`` decides every fact a verdict or the headline needs (is VT-x exposed, is there
SLAT, how much memory, which partition, ...) and hands it on as a ``Fact``; the stages
above read ``fact.value`` and cite ``fact.evidence``, never an evidence ``source`` string
(each :class:`~nestprobe.model.evidence.Evidence` says its ``kind``). The facts of one
assessment are :class:`nestprobe.model.facts.Facts`.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from nestprobe.model.evidence import Evidence, EvidenceKind
from nestprobe.model.record import Record

T = TypeVar("T")


class Fact(Record, Generic[T]):
    """``value`` (None: the evidence does not decide it) and the evidence behind it."""

    value: T
    evidence: tuple[Evidence, ...] = ()

    def of_kind(self, *kinds: EvidenceKind) -> tuple[Evidence, ...]:
        """The evidence of these kinds only (``fact.of_kind("cpuid")``)."""
        return tuple(e for e in self.evidence if e.kind in kinds)
