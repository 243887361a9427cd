"""ProofRecord: what a proof run (a tiny VM created here) did, as raw as the C core saw it.

Owned by the proof layer (csrc/np_prove.c fills it, :mod:`nestprobe.sources.proof` and
the standalone ``nestprobe-dump --prove`` record it); the snapshot only carries it, and
dumps keep it as one ``proof {JSON}`` line so a replay shows what ran. What it means
(guest speed, exit round trips, the verdict) is :mod:`nestprobe.assess.proof`'s.
Ticks are the host's TSC ticks; ``run_ticks / run_ns`` is their rate.
"""

from __future__ import annotations

from typing import Any, Literal

from nestprobe.model.evidence import Evidence
from nestprobe.model.record import MISSING, Record, fields, iter_items

#: Outcome names (csrc/np_prove.c ``npp_outcome_name``; "not-supported" and "no-extension"
#: are the Python side's: no proof path on this platform, or no compiled extension).
OUTCOMES = (
    "ran", "unavailable", "refused", "fail-entry", "internal-error", "shutdown", "timeout",
    "unexpected-exit", "wrong-value", "no-hypervisor", "not-supported", "no-extension",
)
#: Step names (csrc/np_prove.c ``npp_step_name``).
STEPS = (
    "none", "open", "api-version", "create-vm", "guest-memory", "set-memory", "create-vcpu",
    "vcpu-mmap-size", "map-run", "supported-cpuid", "set-cpuid", "get-sregs", "set-sregs",
    "set-regs", "watchdog", "run", "done", "load-library", "get-proc", "get-capability",
    "create-partition", "set-property", "setup-partition", "map-gpa", "create-vp",
    "set-registers",
)
PLATFORMS = ("kvm", "whp", "none")
#: The ioctl or call behind each step, as a person would search for it.
STEP_CALLS = {
    "open": "open(/dev/kvm)", "api-version": "KVM_GET_API_VERSION",
    "create-vm": "KVM_CREATE_VM", "guest-memory": "the guest memory allocation",
    "set-memory": "KVM_SET_USER_MEMORY_REGION", "create-vcpu": "KVM_CREATE_VCPU",
    "vcpu-mmap-size": "KVM_GET_VCPU_MMAP_SIZE", "map-run": "mmap(kvm_run)",
    "supported-cpuid": "KVM_GET_SUPPORTED_CPUID", "set-cpuid": "KVM_SET_CPUID2",
    "get-sregs": "KVM_GET_SREGS", "set-sregs": "KVM_SET_SREGS", "set-regs": "KVM_SET_REGS",
    "watchdog": "the watchdog timer", "run": "KVM_RUN", "done": "the run",
    "load-library": "LoadLibrary(WinHvPlatform.dll)", "get-proc": "GetProcAddress(WHv*)",
    "get-capability": "WHvGetCapability(HypervisorPresent)",
    "create-partition": "WHvCreatePartition", "set-property": "WHvSetPartitionProperty",
    "setup-partition": "WHvSetupPartition", "map-gpa": "WHvMapGpaRange",
    "create-vp": "WHvCreateVirtualProcessor",
    "set-registers": "WHvSetVirtualProcessorRegisters", "none": "nothing",
}


def step_call(platform: str, step: str) -> str:
    """The call a step made: ``KVM_RUN``, ``WHvRunVirtualProcessor``, ``open(/dev/kvm)``."""
    if platform == "whp" and step == "run":
        return "WHvRunVirtualProcessor"
    return STEP_CALLS.get(step, step)
#: Bounds (csrc/np_prove.h): NPP_MAX_ROUNDS, NPP_MAX_SAMPLES.
MAX_ROUNDS = 16
MAX_SAMPLES = 4096
_U64 = 2**64
_I64 = 2**63
_SAMPLE_LISTS = {
    "guest_loop_ticks": MAX_ROUNDS, "guest_loop_ns": MAX_ROUNDS,
    "native_loop_ticks": MAX_ROUNDS, "native_loop_ns": MAX_ROUNDS,
    "io_ticks": MAX_SAMPLES, "batch_ticks": MAX_SAMPLES,
}
_WORDS = {"platform": PLATFORMS, "outcome": OUTCOMES, "step": STEPS}


class ProofRecord(Record):
    """One proof run: outcome, the step it reached, and every figure it took."""

    platform: str  # "kvm" (/dev/kvm), "whp" (Windows Hypervisor Platform), "none"
    outcome: str  # one of OUTCOMES
    step: str  # the last step reached; on failure, the step that failed
    error: int = 0  # errno (kvm) or HRESULT / GetLastError (whp) of the failing call
    api_version: int | None = None  # KVM_GET_API_VERSION's answer
    exit_reason: int = 0  # raw exit reason of the exit that ended the run
    exits: int = 0  # exits to the host process
    detail: int = 0  # hardware_entry_failure_reason, suberror, or the I/O port
    detail2: int = 0  # the CPU of a failed entry, or the I/O direction and size
    value_sent: int = 0  # written through the guest's page tables
    value_seen: int = 0  # what its first I/O exit carried
    guest_cpuid_ebx: int = 0  # the guest's CPUID(0).EBX
    loop_iterations: int = 0  # `dec rcx; jnz` iterations per round
    guest_loop_ticks: tuple[int, ...] = ()  # the guest's rdtsc around its loop, per round
    guest_loop_ns: tuple[int, ...] = ()  # host clock around the run that held the loop
    native_loop_ticks: tuple[int, ...] = ()  # the same loop in this process
    native_loop_ns: tuple[int, ...] = ()
    io_ticks: tuple[int, ...] = ()  # each run that was one `out` exit, host ticks
    cpuid_per_batch: int = 0
    batch_ticks: tuple[int, ...] = ()  # each run of cpuid_per_batch CPUIDs and one `out`
    run_ticks: int = 0
    run_ns: int = 0
    wall_ns: int = 0  # the whole proof, setup and teardown included
    limit_ms: int = 0  # the watchdog's limit
    memory_bytes: int = 0  # guest memory

    def __post_init__(self) -> None:
        problem = proof_problem(dict(iter_items(self)), lists_as_tuples=True)
        if problem:
            raise ValueError(f"ProofRecord: {problem}")

    @property
    def ran(self) -> bool:
        return self.outcome == "ran"

    @property
    def tsc_hz(self) -> float | None:
        """The host TSC rate over the run phase (ticks / ns), when both were taken."""
        if self.run_ticks <= 0 or self.run_ns <= 0:
            return None
        return self.run_ticks * 1e9 / self.run_ns

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(iter_items(self))
        for name in _SAMPLE_LISTS:
            data[name] = list(data[name])
        return data

    @classmethod
    def from_dict(cls, data: object) -> ProofRecord:
        """Build from :meth:`to_dict` output; ValueError (saying what) for anything else."""
        if not isinstance(data, dict):
            raise ValueError("a proof record is a JSON object")
        problem = proof_problem(data, lists_as_tuples=False)
        if problem:
            raise ValueError(problem)
        values = dict(data)
        for name in _SAMPLE_LISTS:
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _field_problem(name: str, value: object, lists_as_tuples: bool) -> str:  # noqa: PLR0911 (a case table, read top to bottom)
    if name in _WORDS:
        if not isinstance(value, str) or value not in _WORDS[name]:
            return f"{name} must be one of {', '.join(_WORDS[name])}"
        return ""
    if name in _SAMPLE_LISTS:
        kind = tuple if lists_as_tuples else list
        if not isinstance(value, kind) or not all(_is_int(x) and 0 <= x < _U64 for x in value):
            return f"{name} must be a list of integers in [0, 2**64)"
        if len(value) > _SAMPLE_LISTS[name]:
            return f"{name} holds at most {_SAMPLE_LISTS[name]} values"
        return ""
    if name == "api_version" and value is None:
        return ""
    if name in {"error", "api_version"}:
        if not _is_int(value) or not -_I64 <= value < _I64:  # type: ignore[operator]
            return f"{name} must be an integer in [-2**63, 2**63)"
        return ""
    if not _is_int(value) or not 0 <= value < _U64:  # type: ignore[operator]
        return f"{name} must be an integer in [0, 2**64)"
    return ""


def proof_problem(data: dict[str, Any], *, lists_as_tuples: bool = False) -> str:
    """What is wrong with a proof record's fields (missing, unknown, mistyped), or ''."""
    declared = fields(ProofRecord)
    names = {f.name for f in declared}
    missing = [f.name for f in declared if f.default is MISSING and f.name not in data]
    if missing:
        return f"missing {', '.join(missing)}"
    unknown = sorted(str(k) for k in set(data) - names)
    if unknown:
        return f"unknown {', '.join(unknown)}"
    for name, value in data.items():
        problem = _field_problem(name, value, lists_as_tuples)
        if problem:
            return problem
    if data.get("outcome") == "ran" and not data.get("native_loop_ticks", ()) and not data.get(
        "guest_loop_ticks", ()
    ):
        return "a run that ran carries its loop timings"
    return ""


#: What a proof shows. proven: a VM ran here at this OS's speed; emulated: it ran, far
#: slower (its instructions were emulated, never proof of VT-x/AMD-V); inconclusive: it
#: ran, neither fast nor that slow, or its speed was not measured; failed: a VM could not
#: be made or did not run as a CPU runs it; unavailable: no way to make one (no /dev/kvm,
#: no WinHvPlatform.dll, no hypervisor, no extension, no proof path).
ProofState = Literal["proven", "emulated", "inconclusive", "failed", "unavailable"]


class ProofAssessment(Record):
    """What the proof run means (assess/proof.py); rendered as the report's ``proof``."""

    state: ProofState
    summary: str  # one sentence a person reads
    meaning: str  # what the outcome means here, and what to do
    platform: str
    outcome: str
    step: str
    error: str | None = None  # errno name, HRESULT as 0x%08x, or "Win32 error N"
    speed_ratio: float | None = None  # guest loop time / the same loop in this OS
    guest_ns_per_iteration: float | None = None
    native_ns_per_iteration: float | None = None
    io_round_trip_ticks: float | None = None  # median, host TSC ticks
    io_round_trip_ns: float | None = None
    cpuid_round_trip_ticks: float | None = None  # (median batch - median I/O) / batch size
    cpuid_round_trip_ns: float | None = None
    #: The latency band (assess/bands.py) of the created guest's CPUID round trip, read
    #: one level down: only for a guest that ran at CPU speed.
    witness: str | None = None
    witness_text: str | None = None
    fix: str | None = None  # the one command or step that would let a proof run
    evidence: tuple[Evidence, ...] = ()
