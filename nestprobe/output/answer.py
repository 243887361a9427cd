"""The one-line answer that leads both renderings: can this machine nest, and why not."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nestprobe.decode.signatures import vendor_name
from nestprobe.model.safetext import escape

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

    Safe to print: names and details taken from the dump or the machine are escaped.
    """
    return escape(_answer(report))


def _answer(report: Report) -> str:  # noqa: PLR0911, PLR0912 (a case table, read top to bottom)
    snap = report.snapshot
    a = report.assessment
    hv, virt, nest, env = a.hypervisor, a.virtualization, a.nesting, a.environment
    ext = _extension_name(report)

    paste = _paste(report)
    if hv.partition == "root-or-guest":
        hidden = f" and {ext} is hidden from it" if virt.exposed is False else ""
        guest = (f"a VM whose host does not expose {ext}" if virt.exposed is False else
                 f"a VM, whose host may or may not expose {ext}")
        return (
            f"Cannot tell: a hypervisor is present below {_this(report)}{hidden}; it is either "
            "the root partition (the Windows hypervisor runs: this is the Hyper-V host) or "
            f"{guest}, and this {paste or 'evidence'} output cannot tell which."
        )
    if env.xen_domain == "dom0":
        return ("No other hypervisor: this OS is Xen's dom0; Xen owns VT-x/AMD-V here, so KVM "
                "cannot load, and this machine runs VMs through Xen's toolstack (xl).")
    if env.xen_domain == "domU" and env.xen_mode == "pv":
        return ("No: this OS is a Xen PV domain; Xen owns VT-x/AMD-V and gives PV domains none, "
                "whatever user-space CPUID shows. Only an HVM domain with nestedhvm=1 can nest.")
    if snap.cpuid_status != "ok" and virt.exposed is None and hv.partition != "root":
        who = hv.product or (vendor_name(hv.vendor) if hv.vendor != "unknown" else None)
        seen = f"; a hypervisor is visible ({who or 'unidentified'})" if hv.detected else ""
        if paste is not None:
            return (f"Cannot tell: this {paste} output does not show whether {ext} reaches "
                    f"{_this(report)}{seen}.")
        detail = snap.cpuid_detail or snap.cpuid_status
        return f"Cannot tell: CPUID is not available here ({detail}){seen}."
    if hv.partition == "root":
        inside = " inside a VM" if (nest.level or 0) >= 1 else ""
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
    if hv.emulated:
        emulator = hv.product or vendor_name(hv.vendor) or "emulator"
        return (
            f"Only in software: this CPU is emulated ({emulator}) "
            f"and so is its {ext}; hypervisors such as KVM can run guests here, far slower than "
            "on hardware virtualization."
            if virt.exposed
            else f"No: this CPU is emulated ({emulator}) and no {ext} "
            "is exposed; use a hardware-accelerated VM instead."
        )
    if virt.firmware_disabled and hv.detected:
        return (f"No: this VM's CPU advertises {ext} but it arrives locked off "
                "(IA32_FEATURE_CONTROL): the outer hypervisor must enable it.")
    if virt.firmware_disabled:
        return f"No: the CPU has {ext}, but the firmware (BIOS/UEFI) disabled it; enable it there."
    windows = env.windows
    if hv.hidden and not virt.exposed:
        return (f"No: a hypervisor that hides itself runs {_this(report)} "
                f"({_hidden_witness(report)}) and does not pass {ext} through: enable nested "
                "virtualization in that hypervisor.")
    if virt.exposed:
        slat = " with SLAT" if virt.slat else ""
        home = ("; Home has no Hyper-V role (WSL2 does not need it)" if windows is not None
                and windows.edition == "home" else "")
        if not hv.detected:
            if windows is not None:
                below = ("no hypervisor runs below it" if nest.level == 0 else
                         "no hypervisor is visible below it")
                return (f"Yes: {ext}{slat} reaches {_this(report)} and {below}; the Windows "
                        f"hypervisor is not running yet (Hyper-V or WSL2 starts it){home}.")
            return f"Yes: bare metal with {ext}{slat}; this OS can host VMs."
        return (f"Yes: {ext}{slat} reaches {_this(report)}, {_where(report)}; it can host "
                f"nested VMs{home}.")
    if virt.exposed is None:
        seen = f"; {_this(report)} is {_where(report)}" if hv.detected else ""
        return (f"Cannot tell: the snapshot holds neither CPUID leaf 1 nor the kernel's flags, "
                f"so whether {ext} reaches {_this(report)} is unknown{seen}.")
    if hv.detected:
        tail = ""
        if hv.confidential:
            tail = f"; this is a confidential VM ({hv.confidential}), where nesting is not offered"
        if virt.software_nesting_only:
            tail = (
                "; /dev/kvm here is PVM software nesting, which runs only PVM-enabled guest kernels"
            )
        return (
            f"No: {_this(report)} is {_where(report)}, and the outer hypervisor does not pass "
            f"{ext} through{tail}."
        )
    if snap.cpuid_status == "ok":
        return (f"No: this CPU does not report {ext} and no hypervisor is visible: it lacks "
                f"{ext}, or a hypervisor hides both itself and {ext}.")
    return (f"No: the kernel reports no {ext} and no hypervisor: a hypervisor that hides "
            "itself, firmware that disabled it, or a CPU without it.")
