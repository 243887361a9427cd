"""Hypervisor vendor signatures (CPUID base+0 EBX,ECX,EDX) as data, one cited row each.

Ids follow systemd-detect-virt where systemd knows the product (``kvm``, ``microsoft``,
``oracle`` for VirtualBox, ...); other products get a descriptive id. Source keys are
defined in docs/sources.md.
"""

from __future__ import annotations

from nestprobe.decode.bits import regs_bytes, safe_text
from nestprobe.model.record import Record
from nestprobe.model.snapshot import Registers

#: The generic timing leaf base+0x10, "originally defined by VMware" and published by other
#: vendors too (decode/vmware.py decodes it): here so a scan can tell whether a range
#: reaches it before importing that decoder.
TIMING_OFFSET = 0x10


class Signature(Record):
    pattern: bytes  # exact 12 bytes, or a prefix when ``prefix``
    vendor_id: str
    product: str
    source: str
    prefix: bool = False
    emulated: bool = False  # a CPU emulator, not a hardware-assisted hypervisor


SIGNATURES: tuple[Signature, ...] = (
    Signature(b"KVMKVMKVM\0\0\0", "kvm", "KVM", "L-KVMPARA KVM_SIGNATURE"),
    Signature(b"Linux KVM Hv", "kvm", "KVM (Hyper-V emulation template)",
              "L-KVMHV kvm_get_hv_cpuid; SD vm_table"),
    Signature(b"Microsoft Hv", "microsoft", "Microsoft Hyper-V", "TLFS-FD; SD vm_table"),
    Signature(b"VMwareVMware", "vmware", "VMware", "L-VMW; SD vm_table"),
    Signature(b"XenVMMXenVMM", "xen", "Xen", "X-CPUID XEN_CPUID_SIGNATURE_*; SD vm_table"),
    Signature(b"TCGTCGTCGTCG", "qemu", "QEMU TCG (CPU emulation)", "Q-CPU tcg-cpuid; SD vm_table",
              emulated=True),
    Signature(b"VBoxVBoxVBox", "oracle", "VirtualBox", "VB-GIM GIMHv VendorID default"),
    Signature(b"prl hyperv  ", "parallels", "Parallels", "STRESSNG x86_virt_id_str [S]"),
    Signature(b" prl hyperv ", "parallels", "Parallels", "VMA brand table [U]"),
    Signature(b"prl hyperv\0\0", "parallels", "Parallels", "LIBCPUID cpuid_get_hypervisor [S]"),
    Signature(b"bhyve bhyve ", "bhyve", "FreeBSD bhyve", "L-BHYVE BHYVE_SIGNATURE; SD vm_table"),
    Signature(b"BHyVE BHyVE ", "bhyve", "FreeBSD bhyve", "VMA brand table [U]"),
    Signature(b"ACRNACRNACRN", "acrn", "Project ACRN", "L-ACRN; SD vm_table"),
    Signature(b"Jailhouse\0\0\0", "jailhouse", "Jailhouse", "L-JH hypervisor_cpuid_base"),
    # Padding differs between tables (systemd NUL-pads, others add spaces): prefix match.
    Signature(b"QNXQVMBS", "qnx", "QNX Hypervisor", "SD vm_table QNXQVMBSQG", prefix=True),
    Signature(b" QNXQVMBS", "qnx", "QNX Hypervisor", "VMA brand table [U]", prefix=True),
    Signature(b"Apple VZ\0\0\0\0", "apple", "Apple Virtualization.framework",
              "SD vm_table [S]"),
    Signature(b"SRESRESRESRE", "sre", "Lockheed Martin LMHS", "SD vm_table [S]"),
    Signature(b"LKVMLKVMLKVM", "kvm", "kvmtool (lkvm) on KVM",
              "VW virt-what-cpuid-helper.c known_signature"),
    Signature(b"HAXMHAXMHAXM", "haxm", "Intel HAXM", "HAXM core/cpuid.c"),
    Signature(b"___ NVMM ___", "nvmm", "NetBSD NVMM", "NBSD identcpu.c [S]"),
    Signature(b"OpenBSDVMM58", "openbsd-vmm", "OpenBSD vmm(4)", "VMA; STRESSNG [S]"),
    Signature(b"UnisysSpar64", "unisys-spar", "Unisys s-Par", "VMA brand table [S]"),
    Signature(b"EVMMEVMMEVMM", "intel-kgt", "Intel KGT / Trusty EVMM", "VMA; STRESSNG [S]"),
    Signature(b"Napocahv    ", "bitdefender-napoca", "Bitdefender Napoca", "STRESSNG [S]"),
    Signature(b"MicrosoftXTA", "microsoft-xta", "Microsoft x86-on-ARM emulation (XTA)",
              "VMA brand table [S]", emulated=True),
)

#: Leaf-0 CPU vendor strings that only CPU emulators report (not hypervisor signatures).
EMULATOR_CPU_VENDORS: dict[str, str] = {
    "Virtual CPU ": "Windows-on-ARM x86 emulator (INSTLATX64 Virtual_CPU_ dumps, VMA)",
    "VirtualApple": "Apple Rosetta 2 (STRESSNG [S])",
}

#: Brand-string prefixes of CPU emulators whose vendor string imitates a real CPU
#: (the Windows-on-ARM x64 emulator answers AuthenticAMD; INSTLATX64 Virtual_CPU_ dumps).
EMULATOR_BRAND_PREFIXES: dict[str, str] = {
    "Virtual CPU": "Windows-on-ARM x86/x64 emulator (InstLatx64 Virtual_CPU_ dumps)",
}


#: Names a person reads for vendor ids whose id is a company, not its product (the ids
#: follow systemd-detect-virt: ``oracle`` is VirtualBox, ``microsoft`` Hyper-V; amazon and
#: google come from DMI, decode/dmi.py).
_VENDOR_NAMES: dict[str, str] = {
    "oracle": "Oracle VirtualBox",
    "microsoft": "Microsoft Hyper-V",
    "amazon": "Amazon EC2",
    "google": "Google Compute Engine",
    "qemu": "QEMU",
}


def vendor_name(vendor_id: str | None) -> str | None:
    """The product a vendor id stands for, as a sentence names it ("oracle" -> "Oracle
    VirtualBox"); an id no row knows is returned as it is."""
    if not vendor_id:
        return None
    if vendor_id in _VENDOR_NAMES:
        return _VENDOR_NAMES[vendor_id]
    return next((row.product for row in SIGNATURES if row.vendor_id == vendor_id), vendor_id)


def signature_bytes(regs: Registers) -> bytes:
    """The 12 signature bytes: EBX, ECX, EDX in that order (TLFS-FD, L-KVMCPUID)."""
    return regs_bytes(regs.ebx, regs.ecx, regs.edx)


def render_signature(raw: bytes) -> str:
    """As published, padding kept, non-printables as ``\\xNN``."""
    return safe_text(raw)


def lookup_signature(raw: bytes) -> Signature | None:
    """Exact 12 bytes first, then with trailing NUL/space stripped, then prefix rules."""
    for row in SIGNATURES:
        if not row.prefix and raw == row.pattern:
            return row
    stripped = raw.rstrip(b"\0 ")
    if stripped:
        for row in SIGNATURES:
            if not row.prefix and stripped == row.pattern.rstrip(b"\0 "):
                return row
    for row in SIGNATURES:
        if row.prefix and raw.startswith(row.pattern):
            return row
    return None


def interface_text(eax: int) -> str | None:
    """base+1 EAX as four printable characters ("Hv#1"), else None."""
    raw = regs_bytes(eax)
    if all(0x20 < b < 0x7F for b in raw):
        return raw.decode("ascii")
    return None
