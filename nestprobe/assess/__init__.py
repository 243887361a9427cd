"""Assess: what a snapshot means — identity, hardware virtualization, environment, nesting.

Each part is computed from the snapshot alone (and the hypervisor facts where the part
depends on who the hypervisor is), and carries the evidence it was decided from.
"""

from __future__ import annotations

from nestprobe.assess.cpu import assess_cpu
from nestprobe.assess.environment import assess_environment
from nestprobe.assess.facts import decide_facts
from nestprobe.assess.hwvirt import assess_virtualization
from nestprobe.assess.hypervisor import assess_hypervisor
from nestprobe.assess.nesting import assess_nesting
from nestprobe.model.assessment import Assessment
from nestprobe.model.snapshot import Snapshot


def assess(snapshot: Snapshot) -> Assessment:
    """Turn a snapshot into facts, each with its evidence.

    Order: the CPU (its tables say what it should have), the hypervisor (who answers;
    uses the CPU facts to see one that hides), the environment (the OS facts; a Hyper-V
    root partition tells the OS when the snapshot does not), then what reaches this OS
    and what a VM created here did (``--prove``), whose exits witness how deep this OS
    runs; last, the facts the verdicts decide on, each with its evidence
    (assess/facts.py).
    """
    cpu = assess_cpu(snapshot)
    hypervisor = assess_hypervisor(snapshot, cpu)
    environment = assess_environment(snapshot, hypervisor)
    virtualization = assess_virtualization(snapshot, hypervisor, cpu, environment)
    proof = None
    if snapshot.proof is not None:
        from nestprobe.assess.proof import assess_proof

        software = virtualization.kvm_backend if virtualization.software_nesting_only else None
        proof = assess_proof(snapshot.proof, software_backend=software,
                             emulated_os=hypervisor.emulated,
                             hypervisor_seen=hypervisor.detected)
    nesting = assess_nesting(snapshot, hypervisor, environment, proof)
    return Assessment(
        cpu=cpu,
        hypervisor=hypervisor,
        virtualization=virtualization,
        environment=environment,
        nesting=nesting,
        facts=decide_facts(snapshot.cpuid_status, cpu=cpu, hv=hypervisor, virt=virtualization,
                           env=environment, nesting=nesting, proof=proof),
        proof=proof,
    )


def import_every_reader() -> None:
    """Import what assess() imports only for a snapshot that needs it (the Windows modules,
    each vendor's decoder, the proof): what a process that forks workers does first
    (pipeline.warm_up)."""
    import nestprobe.assess.hyperv
    import nestprobe.assess.proof
    import nestprobe.assess.windows
    import nestprobe.decode.bhyve_acrn
    import nestprobe.decode.confidential
    import nestprobe.decode.hyperv
    import nestprobe.decode.kvm
    import nestprobe.decode.smbios
    import nestprobe.decode.svm
    import nestprobe.decode.vmware
    import nestprobe.decode.winbuild
    import nestprobe.decode.winpaths
    import nestprobe.decode.winreport
    import nestprobe.decode.xen  # noqa: F401
