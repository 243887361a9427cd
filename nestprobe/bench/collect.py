"""The live runner: every sampler of the suite through the extension, pinned and batched.

Within a batch the samplers run one after another (the CPUID sampler's own empty bracket
included), and batches are separated by short sleeps, so a noisy moment of the host
touches every metric alike instead of one. csrc/tool_nestprobe_bench.c runs the same loop
without Python. Mappings are always unmapped, affinity always restored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack

from nestprobe import native
from nestprobe.assess.proof import EMULATED_MIN, speed
from nestprobe.bench.plan import CPUID_LEAVES, EMULATED_GUEST, SERIES, SuitePlan
from nestprobe.bench.raw import CHASE_FACTS, RawSeries, RawSuite, SeriesStatus
from nestprobe.native.bench import (
    Chase,
    Samples,
    bench_available,
    bench_chase,
    bench_first_touch,
    bench_floor,
    bench_getppid,
    bench_register_loop,
)
from nestprobe.native.proof import ProofPlan, prove
from nestprobe.pipeline import pinned

ProgressFn = Callable[[int, int], None]
WRITER = "nestprobe"
#: C status code -> (series status, detail); csrc/np_bench.h NPB_*.
_STATUS: dict[int, tuple[SeriesStatus, str]] = {
    -1: ("unsupported", "not available on this platform"),
    -2: ("failed", "the TSC or CPUID cannot be used here"),
    -3: ("failed", "invalid argument"),
    -4: ("failed", "the mapping or an allocation failed"),
}


def native_bench() -> bool:
    """Whether the TSC and CPUID can be used here (the suite can run; never raises)."""
    return bench_available()


class _Series:
    """One series being filled batch by batch; the first failure sticks."""

    def __init__(self, name: str, ops: int) -> None:
        self.name, self.ops = name, ops
        self.batches: list[tuple[int, ...]] = []
        self.code = 0
        self.facts: dict[str, int] = {}
        self.why: tuple[SeriesStatus, str] | None = None  # overrides _STATUS for the code
        self.note: str | None = None  # the detail of a series that ran (an emulated guest)

    def run(self, call: Callable[[], Samples]) -> None:
        if self.code:
            return
        code, samples = call()
        if code:
            self.code, self.batches = code, []
        else:
            self.batches.append(samples)

    def frozen(self) -> RawSeries:
        if not self.code:
            return RawSeries(self.name, self.ops, "ok", self.note, dict(self.facts),
                             tuple(self.batches))
        status, detail = self.why or _STATUS.get(self.code, ("failed", f"error {self.code}"))
        return RawSeries(self.name, self.ops, status, detail, dict(self.facts), ())


def _clock_pair() -> tuple[int, int] | None:
    pair = native.clock_pair(5)
    return (pair[0], pair[1]) if pair is not None else None


def collect_suite(plan: SuitePlan, *, progress: ProgressFn | None = None) -> RawSuite | None:
    """Run ``plan`` on this machine; None when the TSC or CPUID cannot be used here."""
    if not native_bench():
        return None
    series = {name: _Series(name, plan.ops(name)) for name in SERIES}
    started = time.perf_counter_ns()
    with ExitStack() as stack:
        cpu = stack.enter_context(pinned())
        first = _clock_pair()
        grain = native.tsc_granularity(256)
        chases = {name: stack.enter_context(bench_chase(
            plan.chase_bytes, plan.chase_pages, name == "tlb.huge", plan.seed))
            for name in ("tlb.4k", "tlb.huge")}
        for name, chase in chases.items():
            series[name].code = chase.status
        for batch in range(plan.batches):
            if batch:
                time.sleep(plan.gap_us / 1e6)
            _one_batch(plan, series, chases)
            if progress is not None:
                progress(batch + 1, plan.batches)
        for name, chase in chases.items():
            if chase.status == 0:
                series[name].facts = chase.facts(CHASE_FACTS)
        last = _clock_pair()
        leaves = native.tsc_leaves()
    return RawSuite(
        writer=WRITER,
        plan=plan,
        pinned_cpu=cpu,
        rdtscp=native.has_rdtscp(),
        tsc_quantum_ticks=(grain[0] or None) if grain else None,
        tsc_min_step_ticks=(grain[1] or None) if grain else None,
        tsc_leaves=tuple(leaves) if leaves is not None else (0,) * 8,
        clock_start=first,
        clock_end=last,
        wall_ns=time.perf_counter_ns() - started,
        series={name: s.frozen() for name, s in series.items()},
    )


def _one_batch(plan: SuitePlan, series: dict[str, _Series],
               chases: dict[str, Chase]) -> None:
    """Every sampler once, in the static runner's order (tool_nestprobe_bench.c main)."""
    series["floor.bench"].run(lambda: bench_floor(plan.floor_samples))
    width = len(CPUID_LEAVES) + 1
    try:
        flat = native.timing_sample(CPUID_LEAVES, plan.cpuid_warmup, plan.cpuid_rounds)
        failed = False
    except RuntimeError:
        flat, failed = [], True
    names = ("floor.cpuid", "cpuid.basic", "cpuid.hypervisor", "cpuid.extended")
    for column, name in enumerate(names):
        target = series[name]
        if target.code:
            continue
        if failed:
            target.code, target.batches = -2, []
        else:
            target.batches.append(tuple(flat[column::width]))
    series["control.register"].run(lambda: bench_register_loop(
        plan.register_iterations, plan.warmup, plan.register_samples))
    series["control.getppid"].run(lambda: bench_getppid(
        plan.getppid_calls, plan.warmup, plan.getppid_samples))
    series["fault.first_touch"].run(lambda: bench_first_touch(plan.touch_pages))
    for name in ("tlb.4k", "tlb.huge"):
        series[name].run(_chase_sampler(plan, chases[name]))
    _guest_batch(plan, series["guest.io_exit"], series["guest.cpuid_exit"])


#: The created guest's timed loop, long enough to tell an emulated guest (PVM: ~1,700 ns
#: an iteration, NP-DEV) from one VT-x/AMD-V runs (well under 1 ns), about 2 ms at worst.
GUEST_LOOP = 1_000


#: A guest that times one short loop (is it emulated?), then the plan's exits.
def _guest_plan(plan: SuitePlan) -> ProofPlan:
    return ProofPlan(limit_ms=2000, loop_iterations=GUEST_LOOP, loop_rounds=1,
                     io_exits=plan.guest_exits, cpuid_batches=plan.guest_exits,
                     cpuid_per_batch=plan.guest_cpuids)


def _guest_batch(plan: SuitePlan, io: _Series, cpuid: _Series) -> None:
    """One proof run (csrc/np_prove.c): its I/O exits and its CPUID batches, as samples."""
    if io.code or cpuid.code:
        return
    record = prove(_guest_plan(plan))
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


def _chase_sampler(plan: SuitePlan, chase: Chase) -> Callable[[], Samples]:
    def sample() -> Samples:
        return chase.sample(plan.chase_steps, plan.chase_warmup_laps, plan.chase_samples)

    return sample
