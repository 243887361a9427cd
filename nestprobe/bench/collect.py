"""The live runner: every sampler of the suite through the extension, pinned and batched.

Within a batch the samplers run one after another (the CPUID sampler's own empty bracket
included), and batches are separated by short sleeps, so a noisy moment of the host
touches every metric alike instead of one. csrc/tool_nestprobe_bench.c runs the same loop
without Python. Mappings are always unmapped, affinity always restored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from nestprobe.assess.proof import EMULATED_MIN, speed
from nestprobe.bench.plan import CPUID_LEAVES, EMULATED_GUEST, SERIES, SuitePlan
from nestprobe.bench.raw import CHASE_FACTS, RawSeries, RawSuite, SeriesStatus
from nestprobe.sources.latency import pinned

ProgressFn = Callable[[int, int], None]
WRITER = "nestprobe"
#: C status code -> (series status, detail); csrc/np_bench.h NPB_*.
_STATUS: dict[int, tuple[SeriesStatus, str]] = {
    -1: ("unsupported", "not available on this platform"),
    -2: ("failed", "the TSC or CPUID cannot be used here"),
    -3: ("failed", "invalid argument"),
    -4: ("failed", "the mapping or an allocation failed"),
}


def native_bench() -> tuple[Any, Any] | None:
    """The cffi pair when the TSC and CPUID can be used here, else None (never raises)."""
    from nestprobe import native

    pair = native.load_lib()
    if pair is None or not hasattr(pair.lib, "npb_status"):
        return None
    if native.cpuid_status()[0] != "ok" or int(pair.lib.npb_status()) != 0:
        return None
    return pair.ffi, pair.lib


class _Series:
    """One series being filled batch by batch; the first failure sticks."""

    def __init__(self, name: str, ops: int) -> None:
        self.name, self.ops = name, ops
        self.batches: list[tuple[int, ...]] = []
        self.code = 0
        self.facts: dict[str, int] = {}
        self.why: tuple[SeriesStatus, str] | None = None  # overrides _STATUS for the code
        self.note: str | None = None  # the detail of a series that ran (an emulated guest)

    def run(self, ffi: Any, count: int, call: Callable[[Any], int]) -> None:
        if self.code:
            return
        out = ffi.new("uint64_t[]", count)
        code = int(call(out))
        if code:
            self.code, self.batches = code, []
        else:
            self.batches.append(tuple(int(x) for x in ffi.unpack(out, count)))

    def frozen(self) -> RawSeries:
        if not self.code:
            return RawSeries(self.name, self.ops, "ok", self.note, dict(self.facts),
                             tuple(self.batches))
        status, detail = self.why or _STATUS.get(self.code, ("failed", f"error {self.code}"))
        return RawSeries(self.name, self.ops, status, detail, dict(self.facts), ())


@contextmanager
def _chase(ffi: Any, lib: Any, plan: SuitePlan, huge: bool) -> Iterator[tuple[Any, int]]:
    """An open chase buffer ``(handle or NULL, status)``; closed on the way out."""
    holder = ffi.new("npb_chase **")
    code = int(lib.npb_chase_open(plan.chase_bytes, plan.chase_pages, int(huge), plan.seed,
                                  holder))
    try:
        yield holder[0], code
    finally:
        if code == 0:
            lib.npb_chase_close(holder[0])


def _chase_facts(ffi: Any, lib: Any, handle: Any) -> dict[str, int]:
    facts = ffi.new("npb_chase_facts *")
    if int(lib.npb_chase_facts_of(handle, facts)) != 0:
        return {}
    return {name: int(getattr(facts, name)) for name in CHASE_FACTS}


def _clock_pair(ffi: Any, lib: Any) -> tuple[int, int] | None:
    tsc, ns, span = ffi.new("uint64_t *"), ffi.new("uint64_t *"), ffi.new("uint64_t *")
    if int(lib.npt_clock_pair(5, tsc, ns, span)) != int(lib.NPT_OK):
        return None
    return int(tsc[0]), int(ns[0])


def collect_suite(plan: SuitePlan, *, progress: ProgressFn | None = None) -> RawSuite | None:
    """Run ``plan`` on this machine; None when the TSC or CPUID cannot be used here."""
    native = native_bench()
    if native is None:
        return None
    ffi, lib = native
    series = {name: _Series(name, plan.ops(name)) for name in SERIES}
    started = time.perf_counter_ns()
    with ExitStack() as stack:
        cpu = stack.enter_context(pinned())
        first = _clock_pair(ffi, lib)
        gcd, step = ffi.new("uint64_t *"), ffi.new("uint64_t *")
        grain_ok = int(lib.npt_tsc_granularity(256, gcd, step)) == int(lib.NPT_OK)
        chases = {name: stack.enter_context(_chase(ffi, lib, plan, huge=name == "tlb.huge"))
                  for name in ("tlb.4k", "tlb.huge")}
        for name, (_, code) in chases.items():
            series[name].code = code
        for batch in range(plan.batches):
            if batch:
                time.sleep(plan.gap_us / 1e6)
            _one_batch(ffi, lib, plan, series, {n: h for n, (h, _) in chases.items()})
            if progress is not None:
                progress(batch + 1, plan.batches)
        for name, (handle, code) in chases.items():
            if code == 0:
                series[name].facts = _chase_facts(ffi, lib, handle)
        last = _clock_pair(ffi, lib)
        leaves = ffi.new("uint32_t[]", int(lib.NPT_TSC_LEAVES))
        leaves_ok = int(lib.npt_tsc_leaves(leaves)) == int(lib.NPT_OK)
    return RawSuite(
        writer=WRITER,
        plan=plan,
        pinned_cpu=cpu,
        rdtscp=bool(lib.npt_has_rdtscp()),
        tsc_quantum_ticks=(int(gcd[0]) or None) if grain_ok else None,
        tsc_min_step_ticks=(int(step[0]) or None) if grain_ok else None,
        tsc_leaves=tuple(int(x) for x in leaves) if leaves_ok else (0,) * 8,
        clock_start=first,
        clock_end=last,
        wall_ns=time.perf_counter_ns() - started,
        series={name: s.frozen() for name, s in series.items()},
    )


def _one_batch(ffi: Any, lib: Any, plan: SuitePlan, series: dict[str, _Series],
               chases: dict[str, Any]) -> None:
    """Every sampler once, in the static runner's order (tool_nestprobe_bench.c main)."""
    series["floor.bench"].run(ffi, plan.floor_samples,
                              lambda out: lib.npb_floor(plan.floor_samples, out))
    width = len(CPUID_LEAVES) + 1
    rows = ffi.new("uint64_t[]", plan.cpuid_rounds * width)
    leaves = ffi.new("uint32_t[]", list(CPUID_LEAVES))
    code = int(lib.npt_sample(leaves, len(CPUID_LEAVES), plan.cpuid_warmup, plan.cpuid_rounds,
                              rows))
    flat = [int(x) for x in ffi.unpack(rows, plan.cpuid_rounds * width)] if code == 0 else []
    names = ("floor.cpuid", "cpuid.basic", "cpuid.hypervisor", "cpuid.extended")
    for column, name in enumerate(names):
        target = series[name]
        if target.code:
            continue
        if code:
            target.code, target.batches = -2, []
        else:
            target.batches.append(tuple(flat[column::width]))
    series["control.register"].run(ffi, plan.register_samples, lambda out: lib.npb_register_loop(
        plan.register_iterations, plan.warmup, plan.register_samples, out))
    series["control.getppid"].run(ffi, plan.getppid_samples, lambda out: lib.npb_getppid(
        plan.getppid_calls, plan.warmup, plan.getppid_samples, out))
    series["fault.first_touch"].run(ffi, plan.touch_pages,
                                    lambda out: lib.npb_first_touch(plan.touch_pages, out))
    for name in ("tlb.4k", "tlb.huge"):
        series[name].run(ffi, plan.chase_samples, _chase_sampler(lib, plan, chases[name]))
    _guest_batch(plan, series["guest.io_exit"], series["guest.cpuid_exit"])


#: The created guest's timed loop, long enough to tell an emulated guest (PVM: ~1,700 ns
#: an iteration, NP-DEV) from one VT-x/AMD-V runs (well under 1 ns), about 2 ms at worst.
GUEST_LOOP = 1_000


#: A guest that times one short loop (is it emulated?), then the plan's exits.
def _guest_plan(plan: SuitePlan) -> Any:
    from nestprobe import native

    return native.ProofPlan(limit_ms=2000, loop_iterations=GUEST_LOOP, loop_rounds=1,
                            io_exits=plan.guest_exits, cpuid_batches=plan.guest_exits,
                            cpuid_per_batch=plan.guest_cpuids)


def _guest_batch(plan: SuitePlan, io: _Series, cpuid: _Series) -> None:
    """One proof run (csrc/np_prove.c): its I/O exits and its CPUID batches, as samples."""
    if io.code or cpuid.code:
        return
    from nestprobe import native

    record = native.prove(_guest_plan(plan))
    if record.outcome != "ran":
        status: SeriesStatus = ("unsupported" if record.outcome in
                                ("unavailable", "no-hypervisor", "not-supported",
                                 "no-extension") else "failed")
        why = (status, f"no VM ran here: {record.outcome} at {record.step}")
        for target in (io, cpuid):
            target.code, target.batches, target.why = -5, [], why
        return
    io.batches.append(record.io_ticks)
    cpuid.batches.append(record.batch_ticks)
    ratio = speed(record)[0]
    if ratio is not None and ratio >= EMULATED_MIN and io.note is None:
        # The rest of the bench says "emulated" of an emulated CPU; so do the guest's figures.
        io.note = cpuid.note = (f"{EMULATED_GUEST}: its loop took {ratio:,.0f}x this OS's "
                                "time, so these are emulation figures, not VT-x/AMD-V exits")


def _chase_sampler(lib: Any, plan: SuitePlan, handle: Any) -> Callable[[Any], int]:
    def sample(out: Any) -> int:
        return int(lib.npb_chase_sample(handle, plan.chase_steps, plan.chase_warmup_laps,
                                        plan.chase_samples, out))

    return sample
