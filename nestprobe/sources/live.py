"""The live snapshot: this machine's CPUID, OS facts and (optionally) exit latency.

Every expected state is data, not an exception: a non-x86 machine, CPUID that faults
(rr), a missing extension, absent /proc, /sys or /dev all end up in the Snapshot.
"""

from __future__ import annotations

from nestprobe.model.errors import CpuidUnavailableError
from nestprobe.model.latency import LatencyRecord
from nestprobe.model.snapshot import X86_MACHINES, CpuidStatus, CpuidTable, Origin, Snapshot
from nestprobe.model.typeshim import TYPE_CHECKING

if TYPE_CHECKING:
    from nestprobe.sources.latency import Sampler


def _read_cpuid(machine: str) -> tuple[CpuidStatus, str | None, CpuidTable, bool]:
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
    ``thorough`` asks it for more samples. The whole probe (CPUID, OS facts, latency) runs
    pinned to one logical CPU (sources/affinity.py), and the snapshot's origin names it:
    ``cpu`` when given (CpuSelectionError when it cannot; TypeError/ValueError when it is
    no CPU number), else the one :func:`~nestprobe.sources.affinity.pick_cpu` chose, or
    None when this thread could not be pinned (then no single CPU ran the CPUIDs).
    ``prove`` also creates a tiny VM here and records what it did (sources/proof.py).
    """
    from nestprobe.sources.affinity import check_cpu, pinned, running_on

    if cpu is None:
        with pinned() as where:
            return _snapshot(timing, thorough, where, prove)
    number = check_cpu(cpu)
    with running_on(number):
        return _snapshot(timing, thorough, number, prove)


def _snapshot(timing: bool, thorough: bool, cpu: int | None, prove: bool) -> Snapshot:
    from nestprobe.sources.osfacts import collect_os_facts, this_machine

    machine = this_machine()
    # The quick timing's batches run between the probe's own steps (already pinned to
    # ``cpu``): the CPUID walk and the OS facts are its gaps and its calibration window.
    quick = _start_quick(cpu) if timing and not thorough and machine in X86_MACHINES else None
    if quick is not None:
        quick.batch()
    status, detail, table, truncated = _read_cpuid(machine)
    if quick is not None:
        quick.batch()
    os_facts = collect_os_facts("/")
    latency = None
    if timing and status == "ok":
        latency = _measure_thorough(cpu) if thorough else _finish(quick)
    proof = None
    if prove:
        from nestprobe.sources.proof import run_proof

        proof = run_proof()
    return Snapshot(
        cpuid_status=status,
        cpuid=table,
        os=os_facts,
        latency=latency,
        cpuid_detail=detail,
        truncated=truncated,
        proof=proof,
        origin=Origin(kind="live", cpu=cpu),
    )
