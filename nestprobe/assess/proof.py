"""What a proof run means: proven, emulated, failed, unavailable, and the exit round trips.

A guest that ran is the strongest evidence nestprobe has, but only at the CPU's speed: the
same ``dec rcx; jnz`` loop timed in the guest (its own rdtsc) and in this OS gives the
ratio. Where a VM's instructions run on VT-x/AMD-V the ratio is about 1 (the lab's kvm-amd
guest: 1.09x, NP-LAB); where they are emulated one by one it is thousands (kvm_pvm on the
development machine: ~4,400x, NP-DEV). Between the two bounds the run proves nothing.

The created guest's CPUID exit round trip is read against the latency bands
(assess/bands.py) one level down: its guest is L1 when this OS runs on hardware, L2 when
this OS is itself a guest. It is a witness that can only add a caveat, never raise what
the evidence proves (timing never does, see assess/nesting.py).
"""

from __future__ import annotations

import errno
import statistics

from nestprobe.assess.bands import BANDS, REFERENCE_TSC_HZ, RESCALE_RANGE_HZ
from nestprobe.model.evidence import Evidence
from nestprobe.model.proof import ProofAssessment, ProofRecord, ProofState, step_call

#: Guest loop time over this OS's: at most this is CPU speed. Source keys: NP-LAB 1.09x
#: (kvm-amd inside a TCG guest, against that guest's OS); [D] 2x leaves room for a guest
#: whose loop met a timer interrupt or a descheduled vCPU.
CPU_SPEED_MAX = 2.0
#: At least this is emulation. Source keys: NP-DEV ~4,400-4,600x (kvm_pvm); [D] 10x is far
#: below any emulator and far above a hardware guest's loss.
EMULATED_MIN = 10.0

#: WHP steps whose error is GetLastError's (the others return an HRESULT).
WIN32_ERROR_STEPS = frozenset({"load-library", "get-proc", "guest-memory", "watchdog"})
FIX_WHP = "Enable-WindowsOptionalFeature -Online -FeatureName HypervisorPlatform"
FIX_HYPERVISOR_LAUNCH = "bcdedit /set hypervisorlaunchtype auto"

#: KVM exit reasons by number (include/uapi/linux/kvm.h), for the words of a failure.
KVM_EXIT_NAMES = {
    0: "KVM_EXIT_UNKNOWN", 1: "KVM_EXIT_EXCEPTION", 2: "KVM_EXIT_IO", 3: "KVM_EXIT_HYPERCALL",
    4: "KVM_EXIT_DEBUG", 5: "KVM_EXIT_HLT", 6: "KVM_EXIT_MMIO", 7: "KVM_EXIT_IRQ_WINDOW_OPEN",
    8: "KVM_EXIT_SHUTDOWN", 9: "KVM_EXIT_FAIL_ENTRY", 10: "KVM_EXIT_INTR",
    17: "KVM_EXIT_INTERNAL_ERROR", 24: "KVM_EXIT_SYSTEM_EVENT",
}
def error_name(record: ProofRecord) -> str | None:
    """``EACCES`` for an errno, ``0x80370102`` for an HRESULT; None when there was none."""
    if record.error == 0:
        return None
    if record.platform == "whp" and record.step in WIN32_ERROR_STEPS:
        return f"Win32 error {record.error}"  # GetLastError, e.g. 126 ERROR_MOD_NOT_FOUND
    if record.platform == "whp":
        return f"0x{record.error & 0xFFFFFFFF:08x}"  # an HRESULT
    return errno.errorcode.get(record.error, str(record.error))


def _call(record: ProofRecord) -> str:
    return step_call(record.platform, record.step)


def speed(record: ProofRecord) -> tuple[float | None, float | None, float | None]:
    """``(ratio, guest ns/iteration, native ns/iteration)`` from the best round of each.

    The ratio is of TSC ticks (the guest's rdtsc and this OS's read the same counter);
    without native ticks nothing is compared.
    """
    if not record.guest_loop_ticks or not record.native_loop_ticks or not record.loop_iterations:
        return None, None, None
    guest = min(record.guest_loop_ticks)
    native = min(record.native_loop_ticks)
    if native <= 0:
        return None, None, None
    hz = record.tsc_hz
    per = record.loop_iterations
    guest_ns = guest * 1e9 / hz / per if hz else None
    native_ns = native * 1e9 / hz / per if hz else None
    return guest / native, guest_ns, native_ns


def round_trips(record: ProofRecord) -> tuple[float | None, float | None]:
    """``(I/O exit, CPUID exit)`` round trips in host TSC ticks (medians)."""
    io = statistics.median(record.io_ticks) if record.io_ticks else None
    cpuid = None
    if record.batch_ticks and record.cpuid_per_batch > 0:
        batch = statistics.median(record.batch_ticks)
        cpuid = max(batch - (io or 0.0), 0.0) / record.cpuid_per_batch
    return io, cpuid


def _ns(ticks: float | None, hz: float | None) -> float | None:
    return ticks * 1e9 / hz if ticks is not None and hz else None


def witness(cpuid_ticks: float | None, hz: float | None) -> tuple[str | None, str | None]:
    """The created guest's CPUID round trip read against the bands, one level down."""
    if cpuid_ticks is None:
        return None, None
    scaled = cpuid_ticks
    if hz and RESCALE_RANGE_HZ[0] <= hz <= RESCALE_RANGE_HZ[1]:
        scaled = cpuid_ticks * REFERENCE_TSC_HZ / hz
    band = next(b for b in BANDS if scaled >= b.low and (b.high is None or scaled < b.high))
    if band.name in ("bare-metal", "fast-exit", "l1-hardware"):
        text = ("the created guest's exits cost what a single hardware-assisted exit costs: "
                "this kernel handles them on the CPU, as on bare metal")
    elif band.name == "nested":
        text = ("the created guest's exits cost what nested (L2) exits cost: each one passes "
                "through a hypervisor below this OS, whether or not that one shows itself")
    elif band.name == "very-slow":
        text = ("the created guest's exits cost more than published nested exits: deep "
                "nesting, an emulated hypervisor below, or heavy contention")
    else:
        text = "the created guest's exits cost between single-level and nested figures"
    return band.name, f"{text} ({band.meaning}; {band.source})"


def _state(record: ProofRecord, ratio: float | None) -> ProofState:
    if record.outcome == "ran":
        if ratio is None:
            return "inconclusive"
        if ratio <= CPU_SPEED_MAX:
            return "proven"
        if ratio >= EMULATED_MIN:
            return "emulated"
        return "inconclusive"
    if record.outcome in ("unavailable", "no-hypervisor", "not-supported", "no-extension"):
        return "unavailable"
    return "failed"


def _failure(record: ProofRecord, software_backend: str | None) -> tuple[str, str | None]:  # noqa: PLR0911, PLR0912 (a case table, read top to bottom)
    """What a run that did not finish means, and the fix when there is one."""
    name = error_name(record) or "no error code"
    call = _call(record)
    out = record.outcome
    if out == "no-extension":
        return "the compiled extension is missing, so no VM can be created from Python", None
    if out == "not-supported":
        return ("no proof path on this platform: the proof creates VMs through /dev/kvm "
                "(Linux) or the Windows Hypervisor Platform, on x86-64"), None
    if out == "no-hypervisor":
        return ("WinHvPlatform.dll is there but the Windows hypervisor is not running "
                "(WHvGetCapability: HypervisorPresent is FALSE)"), FIX_HYPERVISOR_LAUNCH
    if out == "unavailable" and record.platform == "whp":
        return (f"the Windows Hypervisor Platform is not installed ({call} failed, {name})",
                FIX_WHP)
    if out == "unavailable":
        return ("/dev/kvm does not exist: no KVM module is loaded (kvm_intel or kvm_amd need "
                "VT-x/AMD-V exposed to this OS)"), None
    if out == "refused" and record.step == "open":
        return (f"/dev/kvm exists but this user may not open it ({name}): the kvm group, the "
                "device's mode or a security module (SELinux, AppArmor) denies it"), (
                "add the user to the group that owns /dev/kvm (usually kvm), then log in again")
    if out == "refused" and record.step == "api-version":
        return (f"/dev/kvm answered API version {record.api_version}, not 12: not a usable KVM"
                ), None
    if out == "refused":
        return (f"{call} failed ({name}): the hypervisor here refused the VM at that step; "
                "the kernel log says why"), None
    if out == "fail-entry":
        return (f"the CPU refused to enter the guest (KVM_EXIT_FAIL_ENTRY, "
                f"hardware_entry_failure_reason 0x{record.detail:x}): VT-x/AMD-V is there "
                "but entering a VM fails, as when nesting is switched on but broken below"), None
    if out == "internal-error":
        return (f"KVM could not run the guest (KVM_EXIT_INTERNAL_ERROR, suberror "
                f"{record.detail}): an instruction it had to emulate failed"), None
    if out == "shutdown":
        return ("the guest triple-faulted (shutdown): its long mode or page tables did not work "
                "as on a CPU, as when the hypervisor below emulates them wrongly"), None
    if out == "timeout":
        why = ("far too slowly or never gives it back" if software_backend is None
               else f"far too slowly ({software_backend})")
        return (f"the guest did not finish within the {record.limit_ms} ms watchdog: the "
                f"hypervisor here runs it {why}"), None
    if out == "wrong-value":
        return (f"the guest's write through its own page tables read back as "
                f"0x{record.value_seen:08x}, not 0x{record.value_sent:08x}: guest memory "
                "translation is broken"), None
    exit_name = (KVM_EXIT_NAMES.get(record.exit_reason, f"exit reason {record.exit_reason}")
                 if record.platform == "kvm" else f"exit reason 0x{record.exit_reason:x}")
    return (f"the guest stopped with an exit nothing in it asks for ({exit_name}, detail "
            f"0x{record.detail:x})"), None


def _ran_words(record: ProofRecord, state: ProofState, ratio: float | None,
               software_backend: str | None, emulated_os: bool) -> tuple[str, str]:
    """``(summary, meaning)`` of a run that reached the guest's halt."""
    what = "a VM" if record.platform != "whp" else "a WHP partition"
    if state == "proven":
        summary = (f"proven: {what} created here ran its guest at {ratio:.2f}x this OS's time "
                   f"per instruction, with {record.exits} exits back")
        meaning = ("VT-x/AMD-V is usable here, whatever the CPUID bits say: a guest's "
                   "instructions ran on the CPU")
        if record.platform == "whp":
            meaning += ("; the Windows hypervisor runs VMs here (Hyper-V, WSL2 and "
                        "WHP-based hypervisors can)")
        if emulated_os:
            meaning += (" (this OS itself runs under a CPU emulator, so that CPU and its "
                        "VT-x/AMD-V are emulated, and the exit round trips are emulation "
                        "figures)")
        return summary, meaning
    if state == "emulated":
        backend = f" by {software_backend}" if software_backend else ""
        summary = (f"emulated: {what} created here ran, but its loop took {ratio:,.0f}x as long "
                   f"as in this OS")
        meaning = (f"its instructions were emulated{backend}, not run by VT-x/AMD-V: this "
                   "machine cannot run ordinary VMs at CPU speed"
                   + ("; /dev/kvm here is PVM, which runs only PVM-enabled guest kernels"
                      if software_backend == "kvm_pvm" else ""))
        return summary, meaning
    summary = (f"inconclusive: {what} created here ran"
               + (f" at {ratio:.1f}x this OS's time" if ratio is not None else
                  ", but its speed was not measured"))
    return summary, ("neither CPU speed nor emulation: the run proves that a VM can be "
                     "created, not that VT-x/AMD-V runs it")


def assess_proof(
    record: ProofRecord, *, software_backend: str | None = None, emulated_os: bool = False,
    hypervisor_seen: bool = True,
) -> ProofAssessment:
    """Read a proof run. ``software_backend``: "kvm_pvm" when /dev/kvm is PVM's;
    ``emulated_os``: this OS itself runs under a CPU emulator (QEMU TCG), so "this OS's
    speed" is an emulated CPU's and every round trip is an emulation figure;
    ``hypervisor_seen``: this OS sees a hypervisor (False: a nested-band witness means one
    hides)."""
    ratio, guest_ns, native_ns = speed(record)
    state = _state(record, ratio)
    hz = record.tsc_hz
    io, cpuid = round_trips(record)
    band, band_text = (witness(cpuid, hz) if state == "proven" and not emulated_os
                       else (None, None))
    if band in ("nested", "very-slow") and not hypervisor_seen:
        band_text = (f"{band_text}; no hypervisor shows itself to this OS, so one hides "
                     "below it")
    evidence = [Evidence(f"proof: {record.outcome} at step {record.step}",
                         f"proof:{record.platform}", record.outcome, kind="vm")]
    if band is not None and cpuid is not None:
        evidence.append(Evidence(
            f"the created guest's CPUID exit round trip in host TSC ticks, read one level "
            f"down: band {band}", "proof:cpuid_round_trip", round(cpuid, 1), kind="timing"))
    fix = None
    if state in ("proven", "emulated", "inconclusive"):
        if ratio is not None:
            evidence.append(Evidence("guest loop time over the same loop in this OS",
                                     "proof:speed_ratio", round(ratio, 2), kind="vm"))
        summary, meaning = _ran_words(record, state, ratio, software_backend, emulated_os)
    else:
        meaning, fix = _failure(record, software_backend)
        summary = (f"{state}: no VM ran here ({_call(record)}: {record.outcome})"
                   if state == "failed" else f"unavailable: {meaning.split(':')[0]}")
    return ProofAssessment(
        state=state, summary=summary, meaning=meaning, platform=record.platform,
        outcome=record.outcome, step=record.step, error=error_name(record),
        speed_ratio=ratio, guest_ns_per_iteration=guest_ns,
        native_ns_per_iteration=native_ns, io_round_trip_ticks=io,
        io_round_trip_ns=_ns(io, hz), cpuid_round_trip_ticks=cpuid,
        cpuid_round_trip_ns=_ns(cpuid, hz), witness=band, witness_text=band_text, fix=fix,
        evidence=tuple(evidence),
    )
