"""The live snapshot: this machine's CPUID, OS facts and (optionally) exit latency.

Every expected state is data, not an exception: a non-x86 machine, CPUID that faults
(rr), a missing extension, absent /proc, /sys or /dev all end up in the Snapshot.
"""

from __future__ import annotations

from nestprobe.model.errors import CpuidUnavailableError
from nestprobe.model.latency import LatencyRecord
from nestprobe.model.record import replace
from nestprobe.model.snapshot import X86_MACHINES, CpuidStatus, CpuidTable, Origin, Snapshot
from nestprobe.model.typeshim import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from typing import TypeAlias

    from nestprobe.model.proof import ProofRecord
    from nestprobe.model.snapshot import KvmDevice
    from nestprobe.sources.latency import Sampler


    #: The CPUID walk: ``(status, detail, table, truncated)``.
    _Cpuid: TypeAlias = tuple[CpuidStatus, str | None, CpuidTable, bool]


def _read_cpuid(machine: str) -> _Cpuid:
    """``(status, detail, table, truncated)``; an empty table unless status is ok."""
    from nestprobe import native

    if machine not in X86_MACHINES:
        why = f"CPUID is an x86 instruction; this machine is {machine}"
        return "not-x86", why, CpuidTable(), False
    status, detail = native.cpuid_status()
    if status != "ok":
        return status, detail, CpuidTable(), False
    try:
        table, truncated = native.read_cpuid_table()
    except CpuidUnavailableError as exc:  # the state changed between the two calls
        now, _ = native.cpuid_status()
        return (now if now != "ok" else "no-extension"), str(exc), CpuidTable(), False
    return "ok", None, table, truncated


def _start_quick(cpu: int | None) -> Sampler | None:
    from nestprobe.sources.latency import QUICK, start

    return start(QUICK, cpu)


def _finish(quick: Sampler | None) -> LatencyRecord | None:
    from nestprobe.model.timing import summarise

    return summarise(quick.finish()) if quick is not None else None


def _measure_thorough(cpu: int | None) -> LatencyRecord | None:
    from nestprobe.sources.latency import measure_latency

    return measure_latency(True, cpu=cpu)


def live_snapshot(
    *, timing: bool = True, thorough: bool = False, cpu: int | None = None, prove: bool = False
) -> Snapshot:
    """Probe this machine. Writes nothing, needs no root, raises nothing for expected states.

    ``timing`` adds the CPUID exit-latency measurement (only when CPUID runs);
    ``thorough`` asks it for more samples. Every CPUID of the probe (the walk and the
    latency's) runs pinned to one logical CPU (sources/affinity.py), and the snapshot's
    origin names it: ``cpu`` when given (CpuSelectionError when it cannot; TypeError/ValueError
    when it is no CPU number), else the one :func:`~nestprobe.sources.affinity.pick_cpu`
    chose, or None when the probe could not be pinned (then no single CPU ran the CPUIDs).
    ``prove`` also creates a tiny VM here and records what it did (sources/proof.py).
    The pinned part runs in this thread, pinned, then the OS facts are read: a caller with
    nothing to do meanwhile gains nothing from :func:`start_live_snapshot`'s thread (its
    start and handoffs cost what the overlap with the OS facts saves; bench/probe_overhead.py).
    """
    return _begun(timing=timing, thorough=thorough, cpu=cpu, prove=prove, beside=False)()


def start_live_snapshot(
    *, timing: bool = True, thorough: bool = False, cpu: int | None = None, prove: bool = False
) -> Callable[[], Snapshot]:
    """:func:`live_snapshot`, begun: the pinned part (CPUIDs, latency, proof) runs in a
    thread of its own (sources/background.py) while the caller goes on; calling the
    returned function reads the OS facts (they name no CPU: this thread, unpinned, reads
    them meanwhile), waits for the pinned part and returns the Snapshot, or raises what
    the pinned part raised (CpuSelectionError). A bad ``cpu`` raises here."""
    return _begun(timing=timing, thorough=thorough, cpu=cpu, prove=prove, beside=True)


def _begun(*, timing: bool, thorough: bool, cpu: int | None, prove: bool, beside: bool
           ) -> Callable[[], Snapshot]:
    from nestprobe.sources.affinity import check_cpu
    from nestprobe.sources.osfacts import collect_os_facts, this_machine, this_system

    number = None if cpu is None else check_cpu(cpu)
    machine, system = this_machine(), this_system()

    def pinned() -> tuple[_Cpuid, KvmDevice | None, LatencyRecord | None,
                          ProofRecord | None, int | None]:
        return _pinned(machine, system, timing=timing, thorough=thorough, cpu=number,
                       prove=prove)

    if beside:
        from nestprobe.sources.affinity import start_on
        from nestprobe.sources.background import in_background

        _import_pinned_part(machine, timing, thorough, prove)
        pinned_part = in_background(pinned, lambda start: start_on(number, start))
    else:
        done = pinned()
        pinned_part = lambda: done  # noqa: E731 (the same shape as in_background's)

    def finish() -> Snapshot:
        os_facts = collect_os_facts("/", kvm=False)  # /dev/kvm: the pinned part's
        (status, detail, table, truncated), kvm, latency, proof, where = pinned_part()
        return Snapshot(
            cpuid_status=status,
            cpuid=table,
            os=replace(os_facts, kvm=kvm),
            latency=latency,
            cpuid_detail=detail,
            truncated=truncated,
            proof=proof,
            origin=Origin(kind="live", cpu=where),
        )

    return finish


def _import_pinned_part(machine: str, timing: bool, thorough: bool, prove: bool) -> None:
    """Import here what the pinned part's thread will call, so that thread imports nothing
    while this one imports the rest of the program (two threads importing the modules of
    one import cycle can each find the other's half-initialised)."""
    from nestprobe import native
    from nestprobe.sources import affinity

    affinity.allowed_cpus()  # imports the Windows pinning module where it is the one
    if machine in X86_MACHINES or prove:
        native.cpuid_status()  # loads the extension
    if machine in X86_MACHINES and timing:
        import nestprobe.model.timing
        import nestprobe.sources.latency
    if prove:
        import nestprobe.native.proof
        import nestprobe.sources.proof  # noqa: F401


def _pinned(machine: str, system: str, *, timing: bool, thorough: bool, cpu: int | None,
            prove: bool) -> tuple[_Cpuid, KvmDevice | None, LatencyRecord | None,
                                  ProofRecord | None, int | None]:
    """The pinned part: :func:`_pinned_work`, and the CPU it ran on."""
    from nestprobe.sources.affinity import pinned, running_on

    with pinned() if cpu is None else running_on(cpu) as where:
        return (*_pinned_work(machine, system, timing=timing, thorough=thorough, cpu=where,
                              prove=prove), where)


def _pinned_work(machine: str, system: str, *, timing: bool, thorough: bool,
                 cpu: int | None, prove: bool
                 ) -> tuple[_Cpuid, KvmDevice | None, LatencyRecord | None, ProofRecord | None]:
    from nestprobe.sources.osfacts import kvm_fact

    # The quick timing's batches run between the probe's own steps (already pinned to
    # ``cpu``): the CPUID walk and the /dev/kvm ioctls are its gaps and its calibration
    # window.
    quick = _start_quick(cpu) if timing and not thorough and machine in X86_MACHINES else None
    if quick is not None:
        quick.batch()
    cpuid = _read_cpuid(machine)
    if quick is not None:
        quick.batch()
    kvm = kvm_fact(system, True)
    latency = None
    if timing and cpuid[0] == "ok":
        latency = _measure_thorough(cpu) if thorough else _finish(quick)
    proof = None
    if prove:
        from nestprobe.sources.proof import run_proof

        proof = run_proof()
    return cpuid, kvm, latency, proof
