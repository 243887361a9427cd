"""The proof source: create a tiny VM here (``--prove``) and record what it did.

One VM, one vCPU, 24 KiB of guest memory, a few thousand guest instructions, bounded by
a watchdog (csrc/np_prove.c). Runs only when asked: ``import nestprobe`` and every probe
without ``--prove`` create nothing. Never raises for a machine's state: a missing
/dev/kvm or WinHvPlatform.dll, a refused ioctl, a guest that never exits are all
outcomes in the record.
"""

from __future__ import annotations

from nestprobe.model.proof import ProofRecord


def run_proof(*, limit_ms: int = 2000) -> ProofRecord:
    """The proof run with the default plan (native.proof.ProofPlan), ended after ``limit_ms``."""
    from nestprobe.native.proof import ProofPlan, prove

    return prove(ProofPlan(limit_ms=limit_ms))
