"""The headline: which case this machine is, decided once, as a function of the Situation.

The case is :func:`case_of` the very Situation the matrix (verdicts/matrix.py) matches
its rules on, read in the matrix's order, so the headline and the verdicts cannot name
different cases: a CPU emulator (the Situation's place: an x86 emulator without a
hypervisor, QEMU TCG), the WSL2 VM, the Hyper-V root partition, an L1VH partition, what a
paste cannot tell, Xen (dom0, PV domU: Xen owns VT-x there whatever CPUID shows), exposure
unknown, VT-x switched off (by the outer hypervisor or the firmware), then whether VT-x/AMD-V
reaches this OS, in a VM (whose hypervisor may hide itself) or not. Before all of these,
a VM created here (``--prove``): proof beats inference, so a guest that ran at CPU speed,
one that ran emulated, or one that failed where CPUID shows VT-x/AMD-V exposed decides the
case, and the case inference alone gives stays beside it as what CPUID claimed.
tests/assess/test_facts.py holds each case to the matrix rules it may meet, over every input.

The rest of the :class:`~nestprobe.model.verdicts.Headline` (the extension's name, a root
partition inside a VM, the tail of a "not passed") is decided here too, from the facts:
output/answer.py only words it.
"""

from __future__ import annotations

from nestprobe.model.assessment import Assessment
from nestprobe.model.evidence import Evidence
from nestprobe.model.facts import Facts
from nestprobe.model.proof import ProofAssessment, step_call
from nestprobe.model.typeshim import Callable, get_args
from nestprobe.model.verdicts import Answer, Headline, HeadlineCase, HiddenBy, Layer, RootOs
from nestprobe.verdicts.situation import Situation

#: case -> (answer, the layer a change would have to happen at)
CASES: dict[HeadlineCase, tuple[Answer, Layer | None]] = {
    "proven": ("yes", None),
    "proven-software": ("software", "outer-hypervisor"),
    "proof-emulated": ("no", "outer-hypervisor"),
    "proof-failed": ("no", "outer-hypervisor"),
    "x86-emulator": ("no", None),
    "emulated-software": ("software", "outer-hypervisor"),
    "emulated": ("no", "outer-hypervisor"),
    "wsl-nested": ("yes", None),
    "wsl-no-nested": ("no", "host-os"),
    "wsl": ("cannot-tell", None),
    "root-partition": ("yes", None),
    "l1vh": ("cannot-tell", None),
    "root-or-guest": ("cannot-tell", None),
    "dom0": ("no", None),
    "dom0-nested": ("no", None),
    "xen-pv": ("no", "outer-hypervisor"),
    "no-cpuid": ("cannot-tell", None),
    "exposure-unknown": ("cannot-tell", None),
    "locked-off": ("no", "outer-hypervisor"),
    "firmware-off": ("no", "firmware"),
    "no-extension": ("no", None),
    "no-extension-kernel": ("no", None),
    "hidden": ("no", "outer-hypervisor"),
    "not-passed": ("no", "outer-hypervisor"),
    "guest": ("yes", None),
    "host": ("yes", None),
    "unknown": ("cannot-tell", None),
}

#: Depths that show Xen itself runs on another hypervisor.
_BELOW_XEN = ("at-least-l1", "l1", "deeper")


def _what_runs_it(s: Situation) -> HeadlineCase | None:  # noqa: PLR0911 (the matrix's order)
    """The matrix's first block, "what this machine is", in its order."""
    if s.place == "emulator":
        if s.outer == "none":
            return "x86-emulator"
        return "emulated-software" if s.exposed else "emulated"
    if s.wsl:
        if s.exposed and not s.software_nesting:
            return "wsl-nested"
        return "wsl-no-nested" if s.exposed is False else "wsl"
    place: dict[str, HeadlineCase] = {"hyperv-root": "root-partition", "hyperv-l1vh": "l1vh",
                                      "root-or-guest": "root-or-guest"}
    if s.place in place:
        return place[s.place]
    if s.xen_dom0:
        return "dom0-nested" if s.depth in _BELOW_XEN else "dom0"
    return "xen-pv" if s.xen_pv else None


#: The cases a proof decides (verdicts/proof.py gives third-party its rule from them).
PROOF_CASES: frozenset[HeadlineCase] = frozenset({"proven", "proven-software", "proof-emulated",
                                                  "proof-failed"})


def _proof_case(s: Situation) -> HeadlineCase | None:
    """What a VM created here shows, when it decides: ran at CPU speed (on an emulated CPU:
    in software), ran emulated, or failed where CPUID shows the extension exposed."""
    if s.proof == "proven":
        return "proven-software" if s.place == "emulator" else "proven"
    if s.proof == "emulated":
        return "proof-emulated"
    if s.proof == "failed" and s.exposed:
        return "proof-failed"
    return None


def case_of(s: Situation) -> HeadlineCase:
    """The headline's case: a function of the Situation alone, the proof first."""
    return _proof_case(s) or inferred_case(s)


def inferred_case(s: Situation) -> HeadlineCase:  # noqa: PLR0911 (the matrix's order)
    """The case CPUID and the OS facts give, in the matrix's order (no proof)."""
    if (who := _what_runs_it(s)) is not None:
        return who
    if s.exposed is None:
        return "exposure-unknown" if s.cpuid_ok else "no-cpuid"
    if s.firmware_disabled:
        return "locked-off" if s.place == "vm" else "firmware-off"
    if s.place != "vm":
        if s.exposed:
            return "host"
        return "no-extension" if s.place == "bare-metal" or s.raw_cpuid else "no-extension-kernel"
    if s.exposed:
        return "guest"
    return "hidden" if s.outer == "hidden" else "not-passed"


#: case -> the facts whose evidence decided it (the rest: exposure's)
_EVIDENCE: dict[HeadlineCase, Callable[[Facts], tuple[Evidence, ...]]] = {
    **{case: (lambda f: f.proof.evidence + f.exposed.evidence) for case in PROOF_CASES},
    "root-or-guest": lambda f: f.present.evidence,
    "dom0": lambda f: f.xen_domain.evidence + f.level.evidence,
    "dom0-nested": lambda f: f.xen_domain.evidence + f.level.evidence,
    "xen-pv": lambda f: f.xen_mode.evidence,
    "no-cpuid": lambda f: f.cpuid_ok.evidence,
    "root-partition": lambda f: f.partition.evidence,
    "l1vh": lambda f: f.partition.evidence,
    "wsl": lambda f: f.wsl_kernel.evidence,
    "wsl-no-nested": lambda f: f.wsl_kernel.evidence + f.exposed.evidence,
    "locked-off": lambda f: f.firmware_disabled.evidence,
    "firmware-off": lambda f: f.firmware_disabled.evidence,
    "hidden": lambda f: f.hidden.evidence,
    "emulated": lambda f: f.emulated.evidence,
    "emulated-software": lambda f: f.emulated.evidence,
    "x86-emulator": lambda f: f.emulated.evidence,
}

_ROOT_OS: dict[tuple[str, bool], RootOs] = {
    ("Windows", True): "windows", ("Windows", False): "windows-likely",
    ("Linux", True): "linux", ("Linux", False): "linux",
}
_HIDDEN_BY: frozenset[str] = frozenset(get_args(HiddenBy))


def _proof_layer(case: HeadlineCase, claimed: HeadlineCase, s: Situation,
                 proof: ProofAssessment) -> Layer | None:
    """Where a proof's case would have to change: /dev/kvm refused is this OS's to fix; an
    emulated run is wherever the extension is withheld (what CPUID claimed says where)."""
    if case == "proof-failed" and proof.outcome == "refused" and proof.step == "open":
        return "this-os"
    if case == "proof-emulated":
        return CASES[claimed][1] or "outer-hypervisor"
    if case == "proof-failed" and s.place not in ("vm", "hyperv-l1vh", "unseen"):
        return None  # nesting broken on a host: the evidence does not say at which layer
    return CASES[case][1]


def _proof_details(f: Facts, s: Situation, case: HeadlineCase) -> dict[str, object]:
    """The Headline's proof fields (none without a proof's case)."""
    proof = f.proof.value
    if case not in PROOF_CASES or proof is None:
        return {}
    claimed = inferred_case(s)
    call = step_call(proof.platform, proof.step)
    return {
        "claimed": claimed, "layer": _proof_layer(case, claimed, s, proof),
        "proof_ratio": proof.speed_ratio,
        "proof_call": f"{call}: {proof.error}" if proof.error else call,
        "proof_meaning": proof.meaning,
        "hides_below": proof.witness in ("nested", "very-slow") and not f.present.value,
    }


def decide_headline(a: Assessment, s: Situation) -> Headline:
    """The headline of this assessment: its case, answer, layer, evidence and details."""
    f = a.facts
    case = case_of(s)
    answer, layer = CASES[case]
    evidence = _EVIDENCE[case](f) if case in _EVIDENCE else f.exposed.evidence
    hidden_by = f.hidden_by.value
    details = {"layer": layer, **_proof_details(f, s, case)}
    return Headline(
        case, answer, evidence=evidence, **details,  # type: ignore[arg-type]
        extension=f.extension.value,
        slat=bool(f.slat.value),
        nested=s.depth in _BELOW_XEN,
        level_fixed=s.place == "bare-metal",
        confidential=f.confidential.value if s.confidential else None,
        pvm=s.software_nesting,
        home=s.win_edition == "home",
        root_os=_ROOT_OS.get((f.os.value, f.os_confidence.value == "certain"), "unknown"),
        hidden_by=hidden_by if hidden_by in _HIDDEN_BY else "timing",  # type: ignore[arg-type]
    )
