"""The one-line answer that leads both renderings: can this machine nest, and why not.

The case is decided once, in verdicts (``report.verdicts.headline``); this module words it.
"""

from __future__ import annotations

from nestprobe.model.facts import Facts
from nestprobe.model.safetext import escape
from nestprobe.model.typeshim import TYPE_CHECKING, Callable
from nestprobe.model.verdicts import HeadlineCase

if TYPE_CHECKING:
    from nestprobe.model.report import Report


def _ext(report: Report) -> str:
    return report.verdicts.headline.extension


#: Partitions the product names itself ("Hyper-V guest partition").
_PARTITIONS = ("root", "l1vh", "guest")


def _where(report: Report) -> str:
    """``a guest of KVM``, ``a Hyper-V guest partition``: what this OS is, as a noun phrase."""
    f = report.assessment.facts
    vendor = f.hypervisor.value if f.hypervisor.value != "unknown" else None
    name = (f.product.value or (f.hypervisor_name.value if vendor else None)
            or "an unidentified hypervisor")
    partition = f.hypervisor.value == "microsoft" and f.partition.value in _PARTITIONS
    where = f"a {name}" if partition and f.product.value else f"a guest of {name}"
    vm, host = (f.vm_name.value, f.host_name.value) if vendor == "microsoft" else ("", "")
    if vm or host:
        where += " (VM " + (f"'{vm}'" if vm else "unnamed") + (f" on {host}" if host else "")
        where += ")"
    return where


_EDITION_NAMES = {"home": "Home", "pro": "Pro", "education": "Education",
                  "enterprise": "Enterprise"}


def _this(report: Report) -> str:
    """``this OS``, or on Windows ``this Windows 11 version 23H2 (Home, build 22631)``."""
    f = report.assessment.facts
    if f.win_edition.value == "n/a":
        return "this OS"
    name = (f.win_name.value or "Windows").removeprefix("Microsoft ")
    details = [e for e in (_EDITION_NAMES.get(f.win_edition.value),) if e and e not in name]
    if f.win_build_number.value is not None:
        details.append(f"build {f.win_build_number.value}")
    if f.win_wine.value is not None:  # not Windows at all: wine's registry and stubs
        details.append(f"under wine {f.win_wine.value}")
    named = f"this {name}" if name.startswith("Windows") else f"this Windows ({name})"
    return named + (f" ({', '.join(details)})" if details else "")


_HIDDEN_BY = {
    "mask": "the CPU has it, but it and the features hypervisors hide with it are missing",
    "cpu-name": "its CPU name is one only virtual CPUs carry",
    "timing": "CPUID exits as slowly as in a VM",
}

_ROOT_HOST = {
    "windows": "a Windows host with the Microsoft hypervisor running",
    "windows-likely": "almost certainly a Windows host with the Microsoft hypervisor running: "
                      "the snapshot does not name its OS, and only Linux on MSHV is a root "
                      "otherwise",
    "linux": "Linux as the Microsoft hypervisor's root partition (MSHV)",
    "unknown": "the Microsoft hypervisor's host OS",
}


def answer(report: Report) -> str:
    """One sentence: yes/no/cannot tell, and the layer that decides it.

    The case is the verdicts' headline (verdicts/headline.py); this only words it. Safe to
    print: names and details taken from the dump or the machine are escaped.
    """
    return escape(_SENTENCES[report.verdicts.headline.case](report))


def _facts(report: Report) -> Facts:
    return report.assessment.facts


def _root_or_guest(report: Report) -> str:
    ext, exposed = _ext(report), _facts(report).exposed.value
    hidden = f" and {ext} is hidden from it" if exposed is False else ""
    guest = (f"a VM whose host does not expose {ext}" if exposed is False else
             f"a VM, whose host may or may not expose {ext}")
    paste = _facts(report).win_paste.value or "evidence"
    return (
        f"Cannot tell: a hypervisor is present below {_this(report)}{hidden}; it is either "
        "the root partition (the Windows hypervisor runs: this is the Hyper-V host) or "
        f"{guest}, and this {paste} output cannot tell which."
    )


def _dom0(report: Report) -> str:
    return ("No: this OS is Xen's dom0; Xen owns VT-x/AMD-V here, so KVM cannot load, and "
            "this machine runs VMs through Xen's toolstack (xl). Whether Xen itself runs in "
            "a VM nothing in a dom0 shows.")


def _dom0_nested(report: Report) -> str:
    xen = _facts(report).product.value or "Xen on another hypervisor"
    return (f"No: this OS is Xen's dom0, and Xen itself is nested ({xen}); Xen owns "
            "VT-x/AMD-V here, so KVM cannot load, and VMs run through Xen's toolstack (xl), "
            "one level deeper than Xen.")


def _xen_pv(report: Report) -> str:
    return ("No: this OS is a Xen PV domain; Xen owns VT-x/AMD-V and gives PV domains none, "
            "whatever user-space CPUID shows. Only an HVM domain with nestedhvm=1 can nest.")


def _no_cpuid(report: Report) -> str:
    f, snap = _facts(report), report.snapshot
    who = f.product.value or (f.hypervisor_name.value
                              if f.hypervisor.value != "unknown" else None)
    seen = f"; a hypervisor is visible ({who or 'unidentified'})" if f.present.value else ""
    paste = f.win_paste.value
    if paste is not None:
        return (f"Cannot tell: this {paste} output does not show whether "
                f"{_ext(report)} reaches {_this(report)}{seen}.")
    detail = snap.cpuid_detail or snap.cpuid_status
    return f"Cannot tell: CPUID is not available here ({detail}){seen}."


def _root_partition(report: Report) -> str:
    ext, headline = _ext(report), report.verdicts.headline
    inside = " inside a VM" if headline.nested else ""
    if _facts(report).win_edition.value != "n/a":
        return (
            f"Yes: {_this(report)} is the root partition of Hyper-V{inside}: the Windows "
            f"hypervisor runs below it and hosts its VMs, and {ext} is hidden from it by "
            "design."
        )
    return (
        f"Yes: this is a Hyper-V root partition{inside} ({_ROOT_HOST[headline.root_os]}); it "
        f"runs VMs through Hyper-V, and {ext} is hidden from it by design."
    )


def _l1vh(report: Report) -> str:
    return (f"Cannot tell: {_ext(report)} reaches {_this(report)}, a Hyper-V L1VH partition "
            "(a guest that may create partitions), and Microsoft's nested-virtualization "
            "matrix does not cover it." if _facts(report).exposed.value else
            f"Cannot tell: {_this(report)} is a Hyper-V L1VH partition (a guest that may "
            "create partitions), which Microsoft's nested-virtualization matrix does not cover.")


def _emulator(report: Report) -> str:
    f = _facts(report)
    return f.product.value or f.hypervisor_name.value or "emulator"


def _x86_emulator(report: Report) -> str:
    return ("No: this OS runs under an x86 instruction emulator, not a hypervisor: there is "
            f"no {_ext(report)} to pass on, whatever its CPUID shows.")


def _emulated_software(report: Report) -> str:
    ext = _ext(report)
    return (f"Only in software: this CPU is emulated ({_emulator(report)}) and so is its "
            f"{ext}; hypervisors such as KVM can run guests here, far slower than on hardware "
            "virtualization.")


def _emulated(report: Report) -> str:
    return (f"No: this CPU is emulated ({_emulator(report)}) and no "
            f"{_ext(report)} is exposed; use a hardware-accelerated VM instead.")


def _wsl_nested(report: Report) -> str:
    return (f"Yes for Linux hypervisors: this is the WSL2 VM and {_ext(report)} reaches it "
            "(nestedVirtualization); Hyper-V, WSL2 and Windows containers run on its Windows "
            "host, not in it.")


def _wsl_no_nested(report: Report) -> str:
    return (f"No: this is the WSL2 VM and {_ext(report)} does not reach it: "
            "nestedVirtualization is off in .wslconfig (or by policy), or the Windows host "
            "cannot offer it.")


def _wsl(report: Report) -> str:
    return (f"Cannot tell: this is the WSL2 VM, and whether a usable {_ext(report)} reaches "
            "it the evidence does not show; Hyper-V, WSL2 and Windows containers run on its "
            "Windows host.")


def _locked_off(report: Report) -> str:
    return (f"No: this VM's CPU advertises {_ext(report)} but it arrives locked off "
            "(IA32_FEATURE_CONTROL): the outer hypervisor must enable it.")


def _firmware_off(report: Report) -> str:
    ext = _ext(report)
    return f"No: the CPU has {ext}, but the firmware (BIOS/UEFI) disabled it; enable it there."


def _hidden(report: Report) -> str:
    return (f"No: a hypervisor that hides itself runs {_this(report)} "
            f"({_HIDDEN_BY[report.verdicts.headline.hidden_by]}) and does not pass "
            f"{_ext(report)} through: enable nested virtualization in that hypervisor.")


def _with_slat(report: Report) -> str:
    slat = " with SLAT" if report.verdicts.headline.slat else ""
    return f"{_ext(report)}{slat}"


def _home(report: Report) -> str:
    return ("; Home has no Hyper-V role (WSL2 does not need it)" if report.verdicts.headline.home
            else "")


def _host(report: Report) -> str:
    fixed = report.verdicts.headline.level_fixed
    if _facts(report).win_edition.value == "n/a":
        if fixed:
            return f"Yes: bare metal with {_with_slat(report)}; this OS can host VMs."
        return (f"Yes: {_with_slat(report)} reaches this OS and no hypervisor is visible "
                "below it; this OS can host VMs.")
    below = "no hypervisor runs below it" if fixed else "no hypervisor is visible below it"
    return (f"Yes: {_with_slat(report)} reaches {_this(report)} and {below}; the Windows "
            f"hypervisor is not running yet (Hyper-V or WSL2 starts it){_home(report)}.")


def _guest(report: Report) -> str:
    return (f"Yes: {_with_slat(report)} reaches {_this(report)}, {_where(report)}; it can host "
            f"nested VMs{_home(report)}.")


#: The CPUID leaf that carries each extension's bit (VMX: leaf 1 ECX[5]; SVM: 0x80000001
#: ECX[2]). The extension is named when CPUID shows its bit or leaf 0 the vendor, so a
#: named extension's exposure is unknown only when its leaf is not in the snapshot.
_EXTENSION_LEAF = {"VT-x": "CPUID leaf 1", "AMD-V": "CPUID leaf 0x80000001"}


def _exposure_unknown(report: Report) -> str:
    seen = f"; {_this(report)} is {_where(report)}" if _facts(report).present.value else ""
    leaf = _EXTENSION_LEAF.get(_ext(report))
    if leaf is None:  # no vendor: which bit would count is unknown too
        return (f"Cannot tell: neither the snapshot's CPUID leaves nor the kernel's flags show "
                f"which extension this CPU has, so whether {_ext(report)} reaches "
                f"{_this(report)} is unknown{seen}.")
    return (f"Cannot tell: the snapshot holds neither {leaf} nor the kernel's flags, "
            f"so whether {_ext(report)} reaches {_this(report)} is unknown{seen}.")


def _not_passed(report: Report) -> str:
    headline = report.verdicts.headline
    tail = ""
    if headline.confidential:
        tail = (f"; this is a confidential VM ({headline.confidential}), where nesting is not "
                "offered")
    if headline.pvm:
        tail = "; /dev/kvm here is PVM software nesting, which runs only PVM-enabled guest kernels"
    return (f"No: {_this(report)} is {_where(report)}, and the outer hypervisor does not pass "
            f"{_ext(report)} through{tail}.")


def _no_extension(report: Report) -> str:
    ext = _ext(report)
    return (f"No: this CPU does not report {ext} and no hypervisor is visible: it lacks "
            f"{ext}, or a hypervisor hides both itself and {ext}.")


def _no_extension_kernel(report: Report) -> str:
    return (f"No: the kernel reports no {_ext(report)} and no hypervisor: a "
            "hypervisor that hides itself, firmware that disabled it, or a CPU without it.")


#: What CPUID and the OS facts claimed (the Headline's ``claimed`` case), beside a proof.
_CLAIMED: dict[HeadlineCase, str] = {
    "hidden": "does not show {ext} reaching this OS, and a hypervisor hides itself",
    "not-passed": "does not show {ext} reaching this OS: the outer hypervisor does not pass it",
    "no-extension": "does not report {ext} at all",
    "no-extension-kernel": "does not show {ext} in the kernel's flags",
    "wsl-no-nested": "does not show {ext} reaching this WSL2 VM",
    "emulated": "does not show {ext} on this emulated CPU",
    "locked-off": "shows {ext} locked off",
    "firmware-off": "shows {ext} switched off in firmware",
    "root-partition": "hides {ext} from this root partition by design",
    "root-or-guest": "does not show whether {ext} reaches this OS",
    "exposure-unknown": "does not show whether {ext} reaches this OS",
    "no-cpuid": "could not be read",
}


def _claimed(report: Report) -> str:
    """``CPUID shows VT-x reaching this OS``: what inference said, beside the proof."""
    headline = report.verdicts.headline
    words = _CLAIMED.get(headline.claimed or "unknown", "shows {ext} reaching this OS")
    return "CPUID " + words.format(ext=_ext(report))


def _proven(report: Report) -> str:
    headline = report.verdicts.headline
    ratio = f" ({headline.proof_ratio:.2f}x this OS's time)" if headline.proof_ratio else ""
    hides = ("; its exits cost nested figures, so a hypervisor that shows itself nowhere runs "
             "below this OS" if headline.hides_below else "")
    return (f"Yes, proven: a VM created here ran its guest at CPU speed{ratio}, so "
            f"{_ext(report)} is usable here, whatever CPUID claimed ({_claimed(report)})"
            f"{hides}.")


def _proven_software(report: Report) -> str:
    return (f"Only in software, proven: a VM created here ran at this OS's speed, but this "
            f"CPU is emulated ({_emulator(report)}) and so is its {_ext(report)}; guests run "
            "far slower than on hardware virtualization.")


def _proof_emulated(report: Report) -> str:
    headline = report.verdicts.headline
    ratio = (f" (its loop took {headline.proof_ratio:,.0f}x this OS's time)"
             if headline.proof_ratio else "")
    how = ("/dev/kvm here is PVM software nesting, which runs only PVM-enabled guest kernels"
           if headline.pvm else f"its instructions were emulated, not run by {_ext(report)}")
    return (f"No: a VM created here ran, but emulated{ratio}: {how}; this machine cannot run "
            f"ordinary VMs ({_claimed(report)}).")


def _proof_failed(report: Report) -> str:
    headline = report.verdicts.headline
    if headline.layer == "this-os":
        return (f"No, not as this user: CPUID shows {_ext(report)} reaching {_this(report)}, "
                f"but no VM could be created here ({headline.proof_call}): "
                f"{headline.proof_meaning}.")
    return (f"No: nesting is switched on but broken: CPUID shows {_ext(report)} reaching "
            f"{_this(report)}, yet a VM created here failed at {headline.proof_call}: "
            f"{headline.proof_meaning}.")


def _unknown(report: Report) -> str:
    return "Cannot tell: this report carries no decided headline."


_SENTENCES: dict[HeadlineCase, Callable[[Report], str]] = {
    "proven": _proven, "proven-software": _proven_software, "proof-emulated": _proof_emulated,
    "proof-failed": _proof_failed,
    "x86-emulator": _x86_emulator, "emulated-software": _emulated_software,
    "emulated": _emulated, "wsl-nested": _wsl_nested, "wsl-no-nested": _wsl_no_nested,
    "wsl": _wsl, "root-partition": _root_partition, "l1vh": _l1vh,
    "root-or-guest": _root_or_guest, "dom0": _dom0, "dom0-nested": _dom0_nested,
    "xen-pv": _xen_pv, "no-cpuid": _no_cpuid, "exposure-unknown": _exposure_unknown,
    "locked-off": _locked_off, "firmware-off": _firmware_off,
    "no-extension": _no_extension, "no-extension-kernel": _no_extension_kernel,
    "hidden": _hidden, "not-passed": _not_passed, "guest": _guest, "host": _host,
    "unknown": _unknown,
}
