"""Snapshot: the single thing that crosses from "where the data came from" to "what it means".

Live probes (:mod:`nestprobe.sources.live`) and replayed dumps
(:mod:`nestprobe.sources.dumpfile`, :mod:`nestprobe.sources.importers`) both build a
:class:`Snapshot`; nothing downstream knows which one it got.

The CPUID table keeps every leaf a source recorded, but :meth:`CpuidTable.get` is the
one gate through which decoders read, and it never returns a leaf past its range's
maximum: CPUs and emulators answer out-of-range leaves with junk (Intel repeats the
highest basic leaf; QEMU TCG answers 0x40000002.. with leaf 0xD's values).
"""

from __future__ import annotations

from nestprobe.model.latency import LatencyRecord
from nestprobe.model.proof import ProofRecord
from nestprobe.model.record import Record, field
from nestprobe.model.typeshim import Iterator, Literal, Mapping, NamedTuple

#: Hypervisor interfaces sit at 0x100-aligned bases 0x40000000..0x4000FF00
#: (Linux ``for_each_possible_hypervisor_cpuid_base``, asm/cpuid.h).
HYPERVISOR_BASE_FIRST = 0x40000000
HYPERVISOR_BASE_LAST = 0x4000FF00
HYPERVISOR_BASE_STEP = 0x100
#: A range never holds more than 256 leaves; a larger claimed maximum is junk.
RANGE_SPAN = 0x100

#: "KVMKVMKVM\0\0\0": old KVM hosts return EAX=0 at the base (Documentation/virt/kvm/x86/cpuid.rst).
KVM_SIGNATURE_REGS = (0x4B4D564B, 0x564B4D56, 0x0000004D)

#: ``uname -m`` values of x86 machines, as :func:`nestprobe.sources.osfacts.normalise_machine`
#: leaves them.
X86_MACHINES = frozenset({"x86_64", "i386", "i486", "i586", "i686", "x86"})

CpuidStatus = Literal["ok", "not-x86", "faulting", "no-extension", "absent"]
FileState = Literal["ok", "absent", "unreadable", "dir"]
KvmDeviceState = Literal["absent", "no-access", "error", "usable", "not-linux"]


class Registers(NamedTuple):
    """One CPUID answer."""

    eax: int
    ebx: int
    ecx: int
    edx: int


LeafKey = tuple[int, int]


class CpuidTable(Record):
    """Raw CPUID answers keyed by ``(leaf, subleaf)``, as a source recorded them."""

    leaves: Mapping[LeafKey, Registers] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.leaves)

    def raw(self, leaf: int, subleaf: int = 0) -> Registers | None:
        """The recorded answer with no range check; for dumps and diagnostics only."""
        return self.leaves.get((leaf, subleaf))

    def range_max(self, leaf: int) -> int | None:
        """The maximum leaf of the range ``leaf`` belongs to, or None if the range is absent.

        Basic (0x0..), extended (0x80000000..) and any other 64K-aligned range take the
        maximum from EAX of their first leaf; hypervisor leaves take it from their
        0x100-aligned base (``base + 0`` EAX), with the old-KVM quirk (EAX 0 means base+1).
        """
        if HYPERVISOR_BASE_FIRST <= leaf <= HYPERVISOR_BASE_LAST + 0xFF:
            return self._hypervisor_max(leaf & ~0xFF)
        base = leaf & 0xFFFF0000
        first = self.leaves.get((base, 0))
        if first is None:
            return None
        if base == 0:
            return min(first.eax, RANGE_SPAN - 1)
        if base <= first.eax < base + RANGE_SPAN:
            return first.eax
        return None

    def _hypervisor_max(self, base: int) -> int | None:
        first = self.leaves.get((base, 0))
        if first is None:
            return None
        if base <= first.eax < base + RANGE_SPAN:
            return first.eax
        if first.eax == 0 and (first.ebx, first.ecx, first.edx) == KVM_SIGNATURE_REGS:
            return base + 1
        return None

    def in_range(self, leaf: int) -> bool:
        top = self.range_max(leaf)
        return top is not None and leaf <= top

    def get(self, leaf: int, subleaf: int = 0) -> Registers | None:
        """The answer for ``leaf``/``subleaf`` if it lies within its range, else None."""
        top = self.range_max(leaf)  # in_range's test, without its call (~25 gets a report)
        if top is None or leaf > top:
            return None
        return self.leaves.get((leaf, subleaf))

    def recorded_bases(self) -> list[int]:
        """Every 0x100-aligned hypervisor base with a recorded answer, lowest first: the
        recorded keys (a few dozen), not the 256 bases one by one."""
        return sorted(
            leaf for leaf, subleaf in self.leaves
            if subleaf == 0 and HYPERVISOR_BASE_FIRST <= leaf <= HYPERVISOR_BASE_LAST
            and not leaf % HYPERVISOR_BASE_STEP
        )

    def hypervisor_bases(self) -> list[int]:
        """Every 0x100-aligned base whose base leaf is a valid range header."""
        return [base for base in self.recorded_bases() if self._hypervisor_max(base) is not None]

    def items(self) -> Iterator[tuple[LeafKey, Registers]]:
        """All recorded answers in (leaf, subleaf) order, in range or not."""
        for key in sorted(self.leaves):
            yield key, self.leaves[key]


class FileFact(Record):
    """One OS file as read through the probe's root: its text, or why there is none."""

    state: FileState
    text: str | None = None


#: ``#define KVM_API_VERSION 12`` (include/uapi/linux/kvm.h): the only version mainline
#: ever shipped; a /dev/kvm answering anything else is not a usable KVM.
KVM_API_VERSION = 12


class KvmDevice(Record):
    """What ``/dev/kvm`` answered: absent, not openable by this user, or usable."""

    state: KvmDeviceState
    api_version: int | None = None
    create_vm: bool | None = None
    error: str | None = None  # errno name (EACCES, ENOENT, ...) when state is not usable


class OsFacts(Record):
    """Facts from the operating system, read through one replaceable root."""

    system: str  # platform.system(): "Linux", "Windows", "Darwin", ...
    machine: str  # normalised uname -m: "x86_64", "i686", "aarch64", ...
    files: Mapping[str, FileFact] = field(default_factory=dict)
    kvm: KvmDevice | None = None

    @property
    def may_be_x86(self) -> bool:
        """False only when the machine is known and is not x86: then x86 CPU flags in
        /proc/cpuinfo are not this OS's (qemu-user shows the host's) and VT-x/AMD-V do not apply."""
        return self.machine in X86_MACHINES or self.machine in ("", "unknown")

    def text(self, path: str) -> str | None:
        """The content of ``path`` if it was read, else None."""
        fact = self.files.get(path)
        return fact.text if fact is not None and fact.state == "ok" else None

    def state(self, path: str) -> FileState | None:
        """``ok``/``absent``/``unreadable``/``dir``, or None when the source did not look."""
        fact = self.files.get(path)
        return fact.state if fact is not None else None

    def holds_windows_facts(self) -> bool:
        """Whether anything here is Windows': the OS says it is Windows, or a key is no
        absolute path. Linux facts are files (model/oskeys.py WATCHED_PATHS); every other key
        is a Windows pseudo-path (``registry:``, ``winapi:``, ...) or a pasted Windows tool's
        ``<tool>:<label>``. False: the Windows decoders and assessments have nothing to read,
        so callers leave them unimported (issue 21, cold start)."""
        if self.system == "Windows":
            return True
        # A loop, not any(<generator>): asked ~6 times an assessment.
        for path in self.files:  # noqa: SIM110
            if path[:1] != "/":
                return True
        return False


class Origin(Record):
    """Where a snapshot came from. Not part of its identity: live == replay ignores it."""

    kind: Literal["live", "dump"]
    path: str | None = None
    format: str | None = None  # "nestprobe", "cpuid-r", "aida64", "rjcp-xml", "icbook", ...
    #: The logical CPU whose CPUIDs these are: live, the one the probe was pinned to;
    #: None when the live probe could not pin its thread (no single CPU ran them).
    cpu: int | None = 0


class Snapshot(Record):
    """Everything the report is computed from."""

    cpuid_status: CpuidStatus
    cpuid: CpuidTable
    os: OsFacts
    latency: LatencyRecord | None = None
    cpuid_detail: str | None = None  # why CPUID is not "ok", in words
    truncated: bool = False  # the native enumeration hit its buffer bound
    proof: ProofRecord | None = None  # a tiny VM created here (``--prove``), or None
    origin: Origin = field(default=Origin(kind="live"), compare=False)
