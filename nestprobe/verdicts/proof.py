"""The proof's word on the third-party verdict: a VM that ran here outranks inference.

Applied after the matrix (verdicts/evaluate.py), to ``third-party`` only (VirtualBox,
VMware, QEMU/KVM and every hypervisor that needs VT-x/AMD-V here):

The headline decides the case (verdicts/headline.py ``case_of``: proof first); here the
case becomes third-party's status and rule (PROOF_RULES):

- proven: a guest ran at CPU speed. Supported, whatever CPUID said; the fixes go.
- emulated: a guest ran, thousands of times slower. Blocked: the machine cannot run ordinary
  VMs, and a run is never called proof of VT-x/AMD-V.
- failed where CPUID shows VT-x/AMD-V exposed: blocked, the failing step says why.
- anything else (no /dev/kvm, no WHP, a failure where nothing was exposed, inconclusive):
  the verdict keeps its status and gains the proof's finding, with the remediation table's
  fix where there is one (WHP's feature, the hypervisor launch, access to /dev/kvm).

Without a proof (no ``--prove``) nothing here runs and no verdict changes.
"""

from __future__ import annotations

from nestprobe.model.assessment import Assessment
from nestprobe.model.evidence import Evidence
from nestprobe.model.proof import ProofAssessment
from nestprobe.model.record import replace
from nestprobe.model.verdicts import HeadlineCase, Remediation, Status, Verdict, Verdicts
from nestprobe.verdicts.remediation import REMEDIATIONS

SOURCE = "NESTPROBE proof (README: --prove)"
#: The remediation table's entries a proof brings (fix_for): WHP's feature, the Windows
#: hypervisor's launch, access to /dev/kvm.
PROOF_FIXES = ("windows-hypervisor-platform", "windows-hypervisor-launch", "kvm-access")


def _reason(proof: ProofAssessment) -> Evidence:
    return Evidence(claim=f"{proof.summary}: {proof.meaning}", source=f"proof:{proof.platform}",
                    value=proof.state)


def fix_for(proof: ProofAssessment) -> Remediation | None:
    """The remediation table's entry (verdicts/remediation.py) that lets a proof run here."""
    if proof.platform == "whp" and proof.outcome == "unavailable":
        return REMEDIATIONS[PROOF_FIXES[0]]
    if proof.platform == "whp" and proof.outcome == "no-hypervisor":
        return REMEDIATIONS[PROOF_FIXES[1]]
    if proof.platform == "kvm" and proof.outcome == "refused" and proof.step == "open":
        return REMEDIATIONS[PROOF_FIXES[2]]
    return None


#: The headline's proof case (verdicts/headline.py) -> third-party's status and rule: the
#: case is decided once, there; here it only becomes the verdict.
PROOF_RULES: dict[HeadlineCase, tuple[Status, str]] = {
    "proven": ("supported", "proof-ran"), "proven-software": ("supported", "proof-ran"),
    "proof-emulated": ("blocked", "proof-emulated"), "proof-failed": ("blocked", "proof-failed"),
}


def apply_proof(verdict: Verdict, proof: ProofAssessment, case: HeadlineCase) -> Verdict:
    """``verdict`` as the proof leaves it (third-party only; see the module docstring)."""
    if verdict.scenario != "third-party":
        return verdict
    reasons = (_reason(proof), *proof.evidence[1:], *verdict.reasons)
    fix = fix_for(proof)
    fixes = verdict.remediation
    if fix is not None and fix not in fixes:
        fixes = (fix, *fixes)
    if case not in PROOF_RULES:
        return replace(verdict, reasons=reasons, remediation=fixes)
    status, rule = PROOF_RULES[case]
    return replace(verdict, status=status, reasons=reasons,
                   remediation=() if status == "supported" else fixes, rule=rule,
                   source=SOURCE)


def apply(verdicts: Verdicts, assessment: Assessment) -> Verdicts:
    """``verdicts`` with the proof applied, by the case the headline decided."""
    proof = assessment.facts.proof.value
    if proof is None:
        return verdicts
    case = verdicts.headline.case
    return replace(verdicts, items=tuple(apply_proof(v, proof, case) for v in verdicts))
