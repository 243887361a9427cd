"""The proof's word on the third-party verdict: a VM that ran here outranks inference.

Applied after the matrix (verdicts/evaluate.py), to ``third-party`` only (VirtualBox,
VMware, QEMU/KVM and every hypervisor that needs VT-x/AMD-V here):

- proven: a guest ran at CPU speed. Supported, whatever CPUID said; the fixes go.
- emulated: a guest ran, thousands of times slower. Blocked: the machine cannot run ordinary
  VMs, and a run is never called proof of VT-x/AMD-V.
- failed where CPUID shows VT-x/AMD-V exposed: blocked, the failing step says why.
- anything else (no /dev/kvm, no WHP, a failure where nothing was exposed, inconclusive):
  the verdict keeps its status and gains the proof's finding (and its fix, on Windows).

Without a proof (no ``--prove``) nothing here runs and no verdict changes.
"""

from __future__ import annotations

from nestprobe.model.assessment import Assessment
from nestprobe.model.evidence import Evidence
from nestprobe.model.proof import ProofAssessment
from nestprobe.model.record import replace
from nestprobe.model.verdicts import Remediation, Verdict, Verdicts

SOURCE = "NESTPROBE proof (README: --prove)"
WHP_DOC = ("https://learn.microsoft.com/virtualization/api/hypervisor-platform/"
           "hypervisor-platform")


def _reason(proof: ProofAssessment) -> Evidence:
    return Evidence(claim=f"{proof.summary}: {proof.meaning}", source=f"proof:{proof.platform}",
                    value=proof.state)


def apply_proof(verdict: Verdict, proof: ProofAssessment, assessment: Assessment) -> Verdict:
    """``verdict`` as the proof leaves it (third-party only; see the module docstring)."""
    if verdict.scenario != "third-party":
        return verdict
    reasons = (_reason(proof), *proof.evidence[1:], *verdict.reasons)
    if proof.state == "proven":
        return replace(verdict, status="supported", reasons=reasons, remediation=(),
                       rule="proof-ran", source=SOURCE)
    if proof.state == "emulated":
        return replace(verdict, status="blocked", reasons=reasons, rule="proof-emulated",
                       source=SOURCE)
    fixes = verdict.remediation
    if proof.state == "failed" and assessment.facts.exposed.value:
        if proof.fix is not None:
            step = Remediation(layer="this-os", where="on this machine", steps=(proof.fix,),
                               source=SOURCE)
            fixes = (step, *fixes) if step not in fixes else fixes
        return replace(verdict, status="blocked", reasons=reasons, remediation=fixes,
                       rule="proof-failed", source=SOURCE)
    if proof.fix is not None and proof.platform == "whp":
        step = Remediation(layer="this-os", where="on this Windows, as administrator, then "
                           "restart", steps=(proof.fix,), source=WHP_DOC)
        fixes = (*fixes, step) if step not in fixes else fixes
    elif proof.fix is not None:
        fixes = (*fixes, Remediation(layer="this-os", where="on this machine",
                                     steps=(proof.fix,), source=SOURCE))
    return replace(verdict, reasons=reasons, remediation=fixes)


def apply(verdicts: Verdicts, assessment: Assessment) -> Verdicts:
    """``verdicts`` with the proof applied (the headline stays: it is the evidence's)."""
    proof = assessment.proof
    if proof is None:
        return verdicts
    return replace(verdicts, items=tuple(apply_proof(v, proof, assessment) for v in verdicts))
