"""The CPU features hypervisors hide together with VT-x: a hypervisor's fingerprint.

KVM, VirtualBox and Xen each build a guest's CPUID leaf 1 from the host's with the same
group of bits cleared: thermal and power management (EST, TM2, ACPI, TM, PBE), the
debug store (DS, DS-CPL, DTES64) and xTPR, none of which they virtualize. Every Intel
CPU with VT-x reports them natively. So on an Intel CPU, VMX clear *with* this group
clear is a hypervisor's mask (not firmware: firmware never clears CPUID bits), and the
group present is evidence of real hardware.

Source keys: L-KVMCAPS, VB-CPUM, X-FEATSET (each hides all nine bits below).

* Linux ``arch/x86/kvm/cpuid.c`` ``kvm_set_cpu_caps()``: CPUID_1_ECX ``0 /* DTES64,
  MONITOR */ | 0 /* DS-CPL, VMX, SMX, EST */ | 0 /* TM2 */ ... 0 /* xTPR Update */``,
  CPUID_1_EDX ``0 /* Reserved, DS, ACPI */ ... 0 /* HTT, TM, Reserved, PBE */``;
  CPUID_8000_0001_ECX ``0 /*SVM*/ ... 0 /* SKINIT, WDT, LWP */``.
* VirtualBox ``src/VBox/VMM/VMMR3/CPUMR3CpuId.cpp`` (guest leaf 1: ``//| ..._ECX_CPLDS - no
  CPL qualified debug store``, ``_EST - no extended speed step``, ``_TM2 - no thermal
  monitor 2``, ``_TPRUPDATE``, ``_EDX_TM``, ``_EDX_PBE``; leaf 0x80000001 ECX ``_SKINIT``,
  ``_WDT`` commented out, i.e. never passed).
* Xen ``xen/include/public/arch-x86/cpufeatureset.h``: DTES64, DSCPL, EIST, TM2, XTPR, TM1,
  PBE carry no guest-visibility flag (never offered to guests); VMX and SVM are ``h``
  (HVM guests, and only with nested virtualization).

Linux /proc/cpuinfo names (``arch/x86/include/asm/cpufeatures.h``): ``dtes64 ds_cpl est
tm2 xtpr dts acpi tm pbe``; ``skinit wdt``.
"""

from __future__ import annotations

from nestprobe.decode.bits import bit
from nestprobe.model.record import Record
from nestprobe.model.snapshot import CpuidTable
from nestprobe.model.typeshim import Iterable, Literal

MASK_SOURCE = "L-KVMCAPS kvm_set_cpu_caps; VB-CPUM; X-FEATSET"


class MaskBit(Record):
    leaf: int
    register: Literal["ecx", "edx"]
    bit: int
    name: str  # as the SDM/APM names it
    flag: str  # Linux /proc/cpuinfo name


#: Intel (and every Intel-compatible CPU with VT-x) reports all nine natively.
INTEL_MASK: tuple[MaskBit, ...] = (
    MaskBit(0x1, "ecx", 2, "DTES64", "dtes64"),
    MaskBit(0x1, "ecx", 4, "DS-CPL", "ds_cpl"),
    MaskBit(0x1, "ecx", 7, "EIST", "est"),
    MaskBit(0x1, "ecx", 8, "TM2", "tm2"),
    MaskBit(0x1, "ecx", 14, "xTPR", "xtpr"),
    MaskBit(0x1, "edx", 21, "DS", "dts"),
    MaskBit(0x1, "edx", 22, "ACPI", "acpi"),
    MaskBit(0x1, "edx", 29, "TM", "tm"),
    MaskBit(0x1, "edx", 31, "PBE", "pbe"),
)

#: AMD: SKINIT and WDT come with SVM on every family since 10h; hypervisors clear both.
AMD_MASK: tuple[MaskBit, ...] = (
    MaskBit(0x80000001, "ecx", 12, "SKINIT", "skinit"),
    MaskBit(0x80000001, "ecx", 13, "WDT", "wdt"),
)

#: How many of a mask's bits must be absent (or present) for the reading to decide.
#: Intel: all nine absent is what KVM/VirtualBox/Xen produce; two missing is tolerated
#: as a native oddity (a part without DTES64, say), anything between decides nothing.
INTEL_DECIDES = 7
AMD_DECIDES = 2

MaskState = Literal["masked", "native", "mixed"]


class MaskReading(Record):
    """Which of the co-masked features are visible, and what that says."""

    state: MaskState
    absent: tuple[str, ...]
    present: tuple[str, ...]
    source: str  # where the bits were read: a CPUID leaf or the kernel's flags


def mask_for(vendor: str | None) -> tuple[tuple[MaskBit, ...], int] | None:
    """The mask that applies to this CPU vendor, with its deciding count."""
    if vendor == "GenuineIntel":
        return INTEL_MASK, INTEL_DECIDES
    if vendor in ("AuthenticAMD", "HygonGenuine"):
        return AMD_MASK, AMD_DECIDES
    return None


def _reading(seen: Iterable[tuple[MaskBit, bool]], decides: int, source: str) -> MaskReading:
    pairs = list(seen)
    absent = tuple(b.name for b, on in pairs if not on)
    present = tuple(b.name for b, on in pairs if on)
    state: MaskState = (
        "masked" if len(absent) >= decides else "native" if len(present) >= decides else "mixed"
    )
    return MaskReading(state=state, absent=absent, present=present, source=source)


def read_cpuid(table: CpuidTable, vendor: str | None) -> MaskReading | None:
    """The mask as raw CPUID shows it, or None when the leaves or the vendor are missing."""
    spec = mask_for(vendor)
    if spec is None:
        return None
    mask, decides = spec
    seen: list[tuple[MaskBit, bool]] = []
    for item in mask:
        regs = table.get(item.leaf)
        if regs is None:
            return None
        seen.append((item, bit(getattr(regs, item.register), item.bit)))
    leaf = mask[0].leaf
    return _reading(seen, decides, f"CPUID.{leaf:#x}:ECX,EDX")


def read_flags(flags: frozenset[str], vendor: str | None, source: str) -> MaskReading | None:
    """The mask as the kernel's cpuinfo flags show it (a dump without raw CPUID)."""
    spec = mask_for(vendor)
    if spec is None:
        return None
    mask, decides = spec
    return _reading(((b, b.flag in flags) for b in mask), decides, source)
