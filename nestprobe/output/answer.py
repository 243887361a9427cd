"""The one-line answer that leads both renderings: can this machine nest, and why not.

The case is decided once, in verdicts (``report.verdicts.headline``); this module words it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from nestprobe.decode.signatures import vendor_name
from nestprobe.model.safetext import escape
from nestprobe.model.verdicts import HeadlineCase

if TYPE_CHECKING:
    from nestprobe.model.report import Report


def _extension_name(report: Report) -> str:
    virt = report.assessment.virtualization
    if virt.vmx:
        return "VT-x"
    if virt.svm:
        return "AMD-V"
    vendor = report.assessment.cpu.vendor or ""
    if "AMD" in vendor or "Hygon" in vendor:
        return "AMD-V"
    if "Intel" in vendor:
        return "VT-x"
    return "VT-x/AMD-V"


def _where(report: Report) -> str:
    """``a guest of KVM``, ``a Hyper-V guest partition``: what this OS is, as a noun phrase."""
    hv = report.assessment.hypervisor
    vendor = vendor_name(hv.vendor) if hv.vendor != "unknown" else None
    name = hv.product or vendor or "an unidentified hypervisor"
    where = f"a {name}" if "guest" in name or "partition" in name else f"a guest of {name}"
    windows = report.assessment.environment.windows
    if windows is not None and hv.vendor == "microsoft":
        guest = windows.guest_parameters
        vm, host = guest.get("VirtualMachineName"), guest.get("PhysicalHostNameFullyQualified")
        host = host or guest.get("HostName")
        if vm or host:
            where += " (VM " + (f"'{vm}'" if vm else "unnamed") + (f" on {host}" if host else "")
            where += ")"
    return where


_EDITION_NAMES = {"home": "Home", "pro": "Pro", "education": "Education",
                  "enterprise": "Enterprise"}


def _this(report: Report) -> str:
    """``this OS``, or on Windows ``this Windows 11 version 23H2 (Home, build 22631)``."""
    windows = report.assessment.environment.windows
    if windows is None:
        return "this OS"
    name = windows.release or windows.product_name or "Windows"
    if windows.release is None and name.startswith("Microsoft "):
        name = name.removeprefix("Microsoft ")
    details = [e for e in (_EDITION_NAMES.get(windows.edition),) if e and e not in name]
    if windows.build is not None:
        details.append(f"build {windows.build}")
    if windows.wine is not None:  # not Windows at all: wine's registry and stubs
        details.append(f"under wine {windows.wine}")
    named = f"this {name}" if name.startswith("Windows") else f"this Windows ({name})"
    return named + (f" ({', '.join(details)})" if details else "")


def _paste(report: Report) -> str | None:
    """The pasted Windows tool(s) the report rests on, if it rests on a paste."""
    windows = report.assessment.environment.windows
    if windows is None or windows.source in ("probe", "none"):
        return None
    return windows.source


def _hidden_witness(report: Report) -> str:
    cpu = report.assessment.cpu
    if cpu.feature_mask == "masked" and cpu.extension_expected is not None:
        return "the CPU has it, but it and the features hypervisors hide with it are missing"
    if cpu.virtual_model:
        return "its CPU name is one only virtual CPUs carry"
    return "CPUID exits as slowly as in a VM"


def _root_host(report: Report) -> str:
    """What runs in a root partition, as sure as the facts are."""
    env = report.assessment.environment
    if env.os == "Windows" and env.os_confidence == "certain":
        return "a Windows host with the Microsoft hypervisor running"
    if env.os == "Windows":
        return ("almost certainly a Windows host with the Microsoft hypervisor running: the "
                "snapshot does not name its OS, and only Linux on MSHV is a root otherwise")
    if env.os == "Linux":
        return "Linux as the Microsoft hypervisor's root partition (MSHV)"
    return "the Microsoft hypervisor's host OS"


def answer(report: Report) -> str:
    """One sentence: yes/no/cannot tell, and the layer that decides it.

    The case is the verdicts' headline (verdicts/headline.py); this only words it. Safe to
    print: names and details taken from the dump or the machine are escaped.
    """
    return escape(_SENTENCES[report.verdicts.headline.case](report))


def _root_or_guest(report: Report) -> str:
    ext, exposed = _extension_name(report), report.assessment.virtualization.exposed
    hidden = f" and {ext} is hidden from it" if exposed is False else ""
    guest = (f"a VM whose host does not expose {ext}" if exposed is False else
             f"a VM, whose host may or may not expose {ext}")
    return (
        f"Cannot tell: a hypervisor is present below {_this(report)}{hidden}; it is either "
        "the root partition (the Windows hypervisor runs: this is the Hyper-V host) or "
        f"{guest}, and this {_paste(report) or 'evidence'} output cannot tell which."
    )


def _dom0(report: Report) -> str:
    return ("No other hypervisor: this OS is Xen's dom0; Xen owns VT-x/AMD-V here, so KVM "
            "cannot load, and this machine runs VMs through Xen's toolstack (xl).")


def _dom0_nested(report: Report) -> str:
    xen = report.assessment.hypervisor.product or "Xen on another hypervisor"
    return (f"No: this OS is Xen's dom0, and Xen itself is nested ({xen}); Xen owns "
            "VT-x/AMD-V here, so KVM cannot load, and VMs run through Xen's toolstack (xl), "
            "one level deeper than Xen.")


def _xen_pv(report: Report) -> str:
    return ("No: this OS is a Xen PV domain; Xen owns VT-x/AMD-V and gives PV domains none, "
            "whatever user-space CPUID shows. Only an HVM domain with nestedhvm=1 can nest.")


def _no_cpuid(report: Report) -> str:
    hv, snap = report.assessment.hypervisor, report.snapshot
    who = hv.product or (vendor_name(hv.vendor) if hv.vendor != "unknown" else None)
    seen = f"; a hypervisor is visible ({who or 'unidentified'})" if hv.detected else ""
    paste = _paste(report)
    if paste is not None:
        return (f"Cannot tell: this {paste} output does not show whether "
                f"{_extension_name(report)} reaches {_this(report)}{seen}.")
    detail = snap.cpuid_detail or snap.cpuid_status
    return f"Cannot tell: CPUID is not available here ({detail}){seen}."


def _root_partition(report: Report) -> str:
    ext = _extension_name(report)
    inside = " inside a VM" if (report.assessment.nesting.level or 0) >= 1 else ""
    if report.assessment.environment.windows is not None:
        return (
            f"Yes: {_this(report)} is the root partition of Hyper-V{inside}: the Windows "
            f"hypervisor runs below it and hosts its VMs, and {ext} is hidden from it by "
            "design."
        )
    return (
        f"Yes: this is a Hyper-V root partition{inside} ({_root_host(report)}); it runs "
        f"VMs through Hyper-V, and {ext} is hidden from it by design."
    )


def _emulator(report: Report) -> str:
    hv = report.assessment.hypervisor
    return hv.product or vendor_name(hv.vendor) or "emulator"


def _emulated_software(report: Report) -> str:
    ext = _extension_name(report)
    return (f"Only in software: this CPU is emulated ({_emulator(report)}) and so is its "
            f"{ext}; hypervisors such as KVM can run guests here, far slower than on hardware "
            "virtualization.")


def _emulated(report: Report) -> str:
    return (f"No: this CPU is emulated ({_emulator(report)}) and no "
            f"{_extension_name(report)} is exposed; use a hardware-accelerated VM instead.")


def _locked_off(report: Report) -> str:
    return (f"No: this VM's CPU advertises {_extension_name(report)} but it arrives locked off "
            "(IA32_FEATURE_CONTROL): the outer hypervisor must enable it.")


def _firmware_off(report: Report) -> str:
    ext = _extension_name(report)
    return f"No: the CPU has {ext}, but the firmware (BIOS/UEFI) disabled it; enable it there."


def _hidden(report: Report) -> str:
    return (f"No: a hypervisor that hides itself runs {_this(report)} "
            f"({_hidden_witness(report)}) and does not pass {_extension_name(report)} "
            "through: enable nested virtualization in that hypervisor.")


def _with_slat(report: Report) -> str:
    slat = " with SLAT" if report.assessment.virtualization.slat else ""
    return f"{_extension_name(report)}{slat}"


def _home(report: Report) -> str:
    windows = report.assessment.environment.windows
    return ("; Home has no Hyper-V role (WSL2 does not need it)" if windows is not None
            and windows.edition == "home" else "")


def _host(report: Report) -> str:
    if report.assessment.environment.windows is None:
        return f"Yes: bare metal with {_with_slat(report)}; this OS can host VMs."
    below = ("no hypervisor runs below it" if report.assessment.nesting.level == 0 else
             "no hypervisor is visible below it")
    return (f"Yes: {_with_slat(report)} reaches {_this(report)} and {below}; the Windows "
            f"hypervisor is not running yet (Hyper-V or WSL2 starts it){_home(report)}.")


def _guest(report: Report) -> str:
    return (f"Yes: {_with_slat(report)} reaches {_this(report)}, {_where(report)}; it can host "
            f"nested VMs{_home(report)}.")


def _exposure_unknown(report: Report) -> str:
    seen = (f"; {_this(report)} is {_where(report)}" if report.assessment.hypervisor.detected
            else "")
    return (f"Cannot tell: the snapshot holds neither CPUID leaf 1 nor the kernel's flags, "
            f"so whether {_extension_name(report)} reaches {_this(report)} is unknown{seen}.")


def _not_passed(report: Report) -> str:
    hv, virt = report.assessment.hypervisor, report.assessment.virtualization
    tail = ""
    if hv.confidential:
        tail = f"; this is a confidential VM ({hv.confidential}), where nesting is not offered"
    if virt.software_nesting_only:
        tail = "; /dev/kvm here is PVM software nesting, which runs only PVM-enabled guest kernels"
    return (f"No: {_this(report)} is {_where(report)}, and the outer hypervisor does not pass "
            f"{_extension_name(report)} through{tail}.")


def _no_extension(report: Report) -> str:
    ext = _extension_name(report)
    return (f"No: this CPU does not report {ext} and no hypervisor is visible: it lacks "
            f"{ext}, or a hypervisor hides both itself and {ext}.")


def _no_extension_kernel(report: Report) -> str:
    return (f"No: the kernel reports no {_extension_name(report)} and no hypervisor: a "
            "hypervisor that hides itself, firmware that disabled it, or a CPU without it.")


def _unknown(report: Report) -> str:
    return "Cannot tell: this report carries no decided headline."


_SENTENCES: dict[HeadlineCase, Callable[[Report], str]] = {
    "root-or-guest": _root_or_guest, "dom0": _dom0, "dom0-nested": _dom0_nested,
    "xen-pv": _xen_pv, "no-cpuid": _no_cpuid, "root-partition": _root_partition,
    "emulated-software": _emulated_software, "emulated": _emulated,
    "locked-off": _locked_off, "firmware-off": _firmware_off, "hidden": _hidden,
    "host": _host, "guest": _guest, "exposure-unknown": _exposure_unknown,
    "not-passed": _not_passed, "no-extension": _no_extension,
    "no-extension-kernel": _no_extension_kernel, "unknown": _unknown,
}
