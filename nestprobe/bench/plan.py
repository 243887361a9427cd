"""What the bench suite measures and how much of it, as data.

Each metric is here because nesting changes its cost in a known way (or, for the
controls, should not); ``why`` says which. The plans are mirrored in the static runner
(csrc/tool_nestprobe_bench.c PLANS; tests/test_bench_tool.py checks they agree).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Group = Literal["exit", "translation", "fault", "control", "guest"]

#: One CPUID leaf per class. Basic and extended leaves exit under VT-x and AMD-V alike;
#: the hypervisor range is the outer hypervisor's own (an L1 hypervisor may answer it
#: itself or forward it, so its cost can differ from the others).
CPUID_LEAVES: tuple[int, ...] = (0x0, 0x40000000, 0x80000000)


@dataclass(frozen=True, slots=True)
class Metric:
    name: str  # the key in results: "<group>.<what>"
    group: Group
    title: str  # short, for table rows and plot panels
    op: str  # what one operation is (the unit is "ns per <op>")
    why: str  # why nesting changes it (or should not)
    bracket: str  # the floor metric whose bracket times it


METRICS: tuple[Metric, ...] = (
    Metric("cpuid.basic", "exit", "CPUID exit, basic leaf 0x0", "CPUID",
           "every CPUID exits to the hypervisor; one level more adds a round trip through "
           "the level below", "floor.cpuid"),
    Metric("cpuid.hypervisor", "exit", "CPUID exit, hypervisor leaf 0x40000000", "CPUID",
           "the hypervisor's own leaf: answered by the nearest hypervisor", "floor.cpuid"),
    Metric("cpuid.extended", "exit", "CPUID exit, extended leaf 0x80000000", "CPUID",
           "as the basic leaf, from the extended range", "floor.cpuid"),
    Metric("tlb.4k", "translation", "TLB-missing load, 4 KiB pages", "load",
           "a dependent random walk over far more pages than the TLB holds: every step "
           "walks the page tables, and under nested paging the walk is two-dimensional",
           "floor.bench"),
    Metric("tlb.huge", "translation", "TLB-missing load, huge pages", "load",
           "the same walk on transparent huge pages: few TLB misses, so what remains is "
           "the load itself (and the host's page size, which the guest cannot change)",
           "floor.bench"),
    Metric("fault.first_touch", "fault", "first touch of a fresh page", "page",
           "a page fault and a zeroed page; where the guest-physical page is new to the "
           "host, or under shadow paging, the level below takes a fault too",
           "floor.bench"),
    Metric("control.getppid", "control", "getppid() system call", "call",
           "a control: a system call does not exit under hardware-assisted virtualization "
           "(it does under software schemes such as PVM)", "floor.bench"),
    Metric("control.register", "control", "register multiply-add", "iteration",
           "a control: pure register arithmetic; it moves only with the core clock, so it "
           "tells a slower host from a level's tax", "floor.bench"),
    Metric("guest.io_exit", "guest", "I/O exit of a VM created here", "exit",
           "one `out` of a guest created here (csrc/np_prove.c), out to this process and back "
           "in: the exit tax the next level pays, measured directly; where this OS is itself "
           "a guest, each of its guest's exits passes through the level below", "floor.bench"),
    Metric("guest.cpuid_exit", "guest", "CPUID exit of a VM created here", "CPUID",
           "CPUIDs of that guest, handled by this OS's hypervisor; each sample ends with one "
           "I/O exit, so that exit is its bracket", "guest.io_exit"),
)
METRIC_BY_NAME = {m.name: m for m in METRICS}
#: How a guest metric's detail starts when the created guest ran emulated (its loop far
#: slower than this OS's: assess/proof.py EMULATED_MIN): its figures are emulation's.
EMULATED_GUEST = "emulated guest"
#: The empty brackets: "floor.cpuid" is the CPUID sampler's (csrc/np_timing.c),
#: "floor.bench" the other samplers' (csrc/np_bench.c).
FLOORS: tuple[str, ...] = ("floor.cpuid", "floor.bench")
#: Every series a raw run holds, in the order the runner takes them within a batch.
SERIES: tuple[str, ...] = (*FLOORS, *(m.name for m in METRICS))


@dataclass(frozen=True, slots=True)
class SuitePlan:
    """How much to measure; every sampler runs once per batch, interleaved."""

    name: str
    batches: int
    gap_us: int  # sleep between batches: a fresh scheduler quantum, separation in time
    cpuid_rounds: int  # per batch: one empty bracket + one CPUID per leaf each round
    cpuid_warmup: int
    floor_samples: int
    register_iterations: int  # per sample
    register_samples: int
    getppid_calls: int  # per sample
    getppid_samples: int
    warmup: int  # untimed samples before each register and getppid series
    touch_pages: int  # per batch, in one fresh mapping
    chase_bytes: int  # the span of each of the two chase buffers
    chase_pages: int  # base pages the chase visits, evenly spaced over the span (0: all)
    chase_steps: int  # dependent loads per sample
    chase_samples: int
    chase_warmup_laps: int  # untimed laps of the whole cycle before each batch's samples
    seed: int  # page order and line offsets of the chase
    guest_exits: int = 40  # per batch: one proof run with this many I/O exits and CPUID samples
    guest_cpuids: int = 20  # CPUIDs in each guest.cpuid_exit sample

    def ops(self, series: str) -> int:
        """Operations in one sample of ``series``."""
        return {"control.register": self.register_iterations,
                "control.getppid": self.getppid_calls,
                "tlb.4k": self.chase_steps, "tlb.huge": self.chase_steps,
                "guest.cpuid_exit": self.guest_cpuids}.get(series, 1)

    def per_batch(self, series: str) -> int:
        """Samples ``series`` takes in each batch."""
        return {"floor.bench": self.floor_samples,
                "control.register": self.register_samples,
                "control.getppid": self.getppid_samples,
                "fault.first_touch": self.touch_pages,
                "tlb.4k": self.chase_samples, "tlb.huge": self.chase_samples,
                "guest.io_exit": self.guest_exits, "guest.cpuid_exit": self.guest_exits,
                }.get(series, self.cpuid_rounds)

    def to_dict(self) -> dict[str, int | str]:
        return asdict(self)


#: Default: ~0.3 s of measurement on the development machine. Each chase spans 64 MiB
#: (5x the 12 MiB a 3,072-entry second-level TLB maps with 4 KiB pages: Zen 4's L2 DTLB,
#: AMD "Software Optimization Guide for the AMD Zen4 Microarchitecture", pub. 57647) and
#: visits 8,192 pages, one cache line each: 512 KiB of lines, so a warm walk misses the TLB,
#: not the caches, and the 4 KiB / huge-page ratio isolates translation.
DEFAULT = SuitePlan("default", 5, 2000, 400, 32, 400, 1000, 200, 16, 200, 8, 512,
                    64 << 20, 8192, 256, 100, 1, 1, 40, 20)
#: Thorough: 3x the batches, 2x the samples, 256 MiB spans (~2.5 s here).
THOROUGH = SuitePlan("thorough", 15, 10000, 1000, 64, 1000, 1000, 400, 16, 400, 8, 1024,
                     256 << 20, 8192, 256, 200, 2, 1, 100, 20)
#: Lab: small enough for emulated guests (256 MiB of RAM, TCG's slow exits).
LAB = SuitePlan("lab", 3, 1000, 60, 8, 60, 1000, 20, 16, 20, 2, 64, 16 << 20, 4096, 64, 20,
                1, 1, 20, 10)
PLANS = {p.name: p for p in (DEFAULT, THOROUGH, LAB)}
