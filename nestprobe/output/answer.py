"""The one-line answer that leads both renderings: can this machine nest, and why not."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    vendor = hv.vendor if hv.vendor != "unknown" else None
    name = hv.product or vendor or "an unidentified hypervisor"
    if "guest" in name or "partition" in name:
        return f"a {name}"
    return f"a guest of {name}"


def answer(report: Report) -> str:
    """One sentence: yes/no/cannot tell, and the layer that decides it.

    Safe to print: names and details taken from the dump or the machine are escaped.
    """
    return escape(_answer(report))


def _answer(report: Report) -> str:
    snap = report.snapshot
    a = report.assessment
    hv, virt, nest = a.hypervisor, a.virtualization, a.nesting
    ext = _extension_name(report)

    if snap.cpuid_status != "ok" and virt.exposed is None and hv.partition != "root":
        detail = snap.cpuid_detail or snap.cpuid_status
        seen = f"; a hypervisor is visible ({hv.vendor or 'unidentified'})" if hv.detected else ""
        return f"Cannot tell: CPUID is not available here ({detail}){seen}."
    if hv.partition == "root":
        inside = " inside a VM" if (nest.level or 0) >= 1 else ""
        return (
            f"Yes: this is a Hyper-V root partition{inside} (a Windows host with the Microsoft "
            f"hypervisor running); it runs VMs through Hyper-V, and {ext} is hidden from it "
            "by design."
        )
    if hv.emulated:
        return (
            f"Only in software: this CPU is emulated ({hv.product or hv.vendor or 'emulator'}) "
            f"and so is its {ext}; hypervisors such as KVM can run guests here, far slower than "
            "on hardware virtualization."
            if virt.exposed
            else f"No: this CPU is emulated ({hv.product or hv.vendor or 'emulator'}) and no {ext} "
            "is exposed; use a hardware-accelerated VM instead."
        )
    if virt.firmware_disabled:
        return f"No: the CPU has {ext}, but the firmware (BIOS/UEFI) disabled it; enable it there."
    if virt.exposed:
        slat = " with SLAT" if virt.slat else ""
        if not hv.detected:
            return f"Yes: bare metal with {ext}{slat}; this OS can host VMs."
        return f"Yes: {ext}{slat} reaches this OS, {_where(report)}; it can host nested VMs."
    if hv.detected:
        tail = ""
        if hv.confidential:
            tail = f"; this is a confidential VM ({hv.confidential}), where nesting is not offered"
        if virt.software_nesting_only:
            tail = (
                "; /dev/kvm here is PVM software nesting, which runs only PVM-enabled guest kernels"
            )
        return (
            f"No: this OS is {_where(report)}, and the outer hypervisor does not pass {ext} "
            f"through{tail}."
        )
    if snap.cpuid_status == "ok":
        return f"No: this CPU does not report {ext} and no hypervisor is visible."
    return "Cannot tell from the evidence available."
