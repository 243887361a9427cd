"""The headline: which case this machine is, decided once, from the facts and the Situation.

Read top to bottom; the first case that holds is the headline. output/answer.py renders
it and decides nothing. The order follows the matrix's (verdicts/matrix.py), so the
headline and the verdicts name the same case: a CPU emulator (the Situation's place), what
a paste cannot tell, Xen (dom0, PV domU: Xen owns VT-x there whatever CPUID shows), CPUID
unreadable, the Hyper-V root partition, VT-x switched off (by the outer hypervisor or the
firmware), a hypervisor that hides itself, then whether VT-x/AMD-V reaches this OS.
"""

from __future__ import annotations

from collections.abc import Callable

from nestprobe.model.assessment import Assessment
from nestprobe.model.evidence import Evidence
from nestprobe.model.verdicts import Answer, Headline, HeadlineCase, Layer
from nestprobe.verdicts.situation import Situation

#: case -> (answer, the layer a change would have to happen at)
CASES: dict[HeadlineCase, tuple[Answer, Layer | None]] = {
    "root-or-guest": ("cannot-tell", None),
    "dom0": ("no", None),
    "dom0-nested": ("no", None),
    "xen-pv": ("no", "outer-hypervisor"),
    "no-cpuid": ("cannot-tell", None),
    "root-partition": ("yes", None),
    "emulated-software": ("software", "outer-hypervisor"),
    "emulated": ("no", "outer-hypervisor"),
    "locked-off": ("no", "outer-hypervisor"),
    "firmware-off": ("no", "firmware"),
    "hidden": ("no", "outer-hypervisor"),
    "host": ("yes", None),
    "guest": ("yes", None),
    "exposure-unknown": ("cannot-tell", None),
    "not-passed": ("no", "outer-hypervisor"),
    "no-extension": ("no", None),
    "no-extension-kernel": ("no", None),
    "unknown": ("cannot-tell", None),
}


def _xen(a: Assessment, s: Situation) -> HeadlineCase | None:
    if s.xen_dom0:
        return "dom0-nested" if a.nesting.at_least >= 1 else "dom0"
    return "xen-pv" if s.xen_pv else None


def _who(a: Assessment, s: Situation) -> HeadlineCase | None:
    """The cases where what runs this OS decides, in the matrix's order: a CPU emulator
    (whatever runs on it: the Situation's place), a paste that cannot tell, Xen, CPUID
    unreadable, the Hyper-V root partition."""
    f = a.facts
    if s.place == "emulator":
        return "emulated-software" if f.exposed.value else "emulated"
    if f.partition.value == "root-or-guest":
        return "root-or-guest"
    if (xen := _xen(a, s)) is not None:
        return xen
    if not f.cpuid_ok.value and f.exposed.value is None and f.partition.value != "root":
        return "no-cpuid"
    return "root-partition" if f.partition.value == "root" else None


def _special(a: Assessment, s: Situation) -> HeadlineCase | None:
    """The cases that decide before exposure does."""
    f = a.facts
    if (who := _who(a, s)) is not None:
        return who
    if f.firmware_disabled.value:
        return "locked-off" if f.present.value else "firmware-off"
    if f.hidden.value and not f.exposed.value:
        return "hidden"
    return None


def _exposure(a: Assessment) -> HeadlineCase:
    f = a.facts
    if f.exposed.value:
        return "guest" if f.present.value else "host"
    if f.exposed.value is None:
        return "exposure-unknown"
    if f.present.value:
        return "not-passed"
    return "no-extension" if f.cpuid_ok.value else "no-extension-kernel"


#: case -> the facts whose evidence decided it
_EVIDENCE: dict[HeadlineCase, Callable[[Assessment], tuple[Evidence, ...]]] = {
    "root-or-guest": lambda a: a.facts.present.evidence,
    "dom0": lambda a: a.facts.xen_domain.evidence + a.facts.level.evidence,
    "dom0-nested": lambda a: a.facts.xen_domain.evidence + a.facts.level.evidence,
    "xen-pv": lambda a: a.facts.xen_mode.evidence,
    "no-cpuid": lambda a: a.facts.cpuid_ok.evidence,
    "root-partition": lambda a: a.facts.partition.evidence,
    "locked-off": lambda a: a.facts.firmware_disabled.evidence,
    "firmware-off": lambda a: a.facts.firmware_disabled.evidence,
    "hidden": lambda a: a.facts.hidden.evidence,
    "emulated": lambda a: a.facts.emulated.evidence,
    "emulated-software": lambda a: a.facts.emulated.evidence,
}


def decide_headline(a: Assessment, s: Situation) -> Headline:
    """The headline of this assessment: its case, answer, layer and evidence."""
    case = _special(a, s) or _exposure(a)
    answer, layer = CASES[case]
    evidence = _EVIDENCE[case](a) if case in _EVIDENCE else a.facts.exposed.evidence
    return Headline(case, answer, layer, evidence)
