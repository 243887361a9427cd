"""The proof run (csrc/np_prove.c): create a tiny VM here and record what its guest did.

Only ``--prove`` (nestprobe/sources/proof.py) and the bench's guest series call it; a
``check`` without ``--prove`` never loads this module. What a record means is
nestprobe/assess/proof.py's.
"""

from __future__ import annotations

from nestprobe import native
from nestprobe.model.proof import ProofRecord
from nestprobe.model.typeshim import Any, NamedTuple


class ProofPlan(NamedTuple):
    """What a proof run does (csrc/np_prove.h ``npp_params``)."""

    limit_ms: int = 2000
    value: int = 0x6E70726F  # "orpn": any value the guest could not have made up
    loop_iterations: int = 10_000
    loop_rounds: int = 3
    io_exits: int = 200
    cpuid_batches: int = 20
    cpuid_per_batch: int = 50
    never_exits: bool = False  # the guest that spins forever (the watchdog's test)


def _proof_plan_ok(lib: Any, plan: ProofPlan) -> bool:
    return (
        1 <= plan.limit_ms <= int(lib.NPP_MAX_LIMIT_MS)
        and 1 <= plan.loop_iterations < 2**32
        and 1 <= plan.loop_rounds <= int(lib.NPP_MAX_ROUNDS)
        and 0 <= plan.io_exits <= int(lib.NPP_MAX_SAMPLES)
        and 0 <= plan.cpuid_batches <= int(lib.NPP_MAX_SAMPLES)
        and 0 <= plan.cpuid_per_batch < 2**32
        and 0 <= plan.value < 2**32
    )


DEFAULT_PROOF_PLAN = ProofPlan()


def prove(plan: ProofPlan = DEFAULT_PROOF_PLAN) -> ProofRecord:
    """Create a tiny VM here and run the proof guest; never raises for a machine's state.

    Without the extension the record says ``no-extension``; on a platform with no proof
    path ``not-supported``. ValueError for a plan outside the C core's bounds.
    """
    loaded = native.load_lib()
    if loaded is None:
        return ProofRecord(platform="none", outcome="no-extension", step="none")
    ffi, lib = loaded
    if not _proof_plan_ok(lib, plan):
        raise ValueError(f"proof plan out of bounds: {plan}")
    params = ffi.new("npp_params *")
    params.limit_ms = plan.limit_ms
    params.guest = lib.NPP_GUEST_NEVER_EXITS if plan.never_exits else lib.NPP_GUEST_PROOF
    params.value = plan.value
    params.loop_iterations = plan.loop_iterations
    params.loop_rounds = plan.loop_rounds
    params.io_exits = plan.io_exits
    params.cpuid_batches = plan.cpuid_batches
    params.cpuid_per_batch = plan.cpuid_per_batch
    out = ffi.new("npp_result *")
    code = int(lib.npp_prove(params, out))
    if code == lib.NPP_ENOTSUP:
        return ProofRecord(platform="none", outcome="not-supported", step="none")
    if code != lib.NPP_OK:
        raise ValueError(f"proof plan refused by the C core ({code}): {plan}")
    return _proof_record(ffi, lib, plan, out)


def _proof_record(ffi: Any, lib: Any, plan: ProofPlan, out: Any) -> ProofRecord:
    def first(array: Any, count: int) -> tuple[int, ...]:
        return tuple(int(array[i]) for i in range(count))

    rounds = int(out.rounds_done)
    platform = {int(lib.NPP_PLATFORM_KVM): "kvm", int(lib.NPP_PLATFORM_WHP): "whp"}
    native_rounds = plan.loop_rounds if not plan.never_exits else 0
    native_ticks = first(out.native_loop_ticks, native_rounds)
    return ProofRecord(
        platform=platform.get(int(out.platform), "none"),
        outcome=ffi.string(lib.npp_outcome_name(out.outcome)).decode("ascii") or "refused",
        step=ffi.string(lib.npp_step_name(out.step)).decode("ascii") or "none",
        error=int(out.error),
        api_version=int(out.api_version) if int(out.api_version) >= 0 else None,
        exit_reason=int(out.exit_reason),
        exits=int(out.exits),
        detail=int(out.detail),
        detail2=int(out.detail2),
        value_sent=plan.value,
        value_seen=int(out.value_seen),
        guest_cpuid_ebx=int(out.guest_cpuid_ebx),
        loop_iterations=plan.loop_iterations,
        guest_loop_ticks=first(out.guest_loop_ticks, rounds),
        guest_loop_ns=first(out.guest_loop_ns, rounds),
        # MSVC builds do not time the native loop (all zeros): none recorded then.
        native_loop_ticks=native_ticks if any(native_ticks) else (),
        native_loop_ns=first(out.native_loop_ns, native_rounds) if any(native_ticks) else (),
        io_ticks=first(out.io_ticks, int(out.io_done)),
        cpuid_per_batch=plan.cpuid_per_batch,
        batch_ticks=first(out.batch_ticks, int(out.batches_done)),
        run_ticks=int(out.run_ticks),
        run_ns=int(out.run_ns),
        wall_ns=int(out.wall_ns),
        limit_ms=plan.limit_ms,
        memory_bytes=int(out.memory_bytes),
    )
