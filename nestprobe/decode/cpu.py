"""CPU identity leaves: leaf 0 vendor, 0x80000002..4 brand, leaf 1 signature and flags.

Source keys: L-CPUFEAT (bit positions), ARCHSPEC (``CpuidInfoCollector``: the vendor
packs EBX, EDX, ECX), L-CPULIB (``x86_family()``/``x86_model()``) for the extended
family/model rule.
"""

from __future__ import annotations

from nestprobe.decode.bits import bit, bits, regs_bytes, safe_text
from nestprobe.model.record import Record
from nestprobe.model.snapshot import CpuidTable, Registers

BRAND_LEAVES = (0x80000002, 0x80000003, 0x80000004)
EXT_FEATURES_LEAF = 0x80000001

VMX_BIT = 5  # CPUID.1:ECX[5], X86_FEATURE_VMX (L-CPUFEAT)
HYPERVISOR_BIT = 31  # CPUID.1:ECX[31], X86_FEATURE_HYPERVISOR (L-CPUFEAT, TLFS-FD)
SVM_BIT = 2  # CPUID.80000001h:ECX[2], X86_FEATURE_SVM (L-CPUFEAT)

# The leaves of the feature decoders a caller imports only when the table holds them
# (decode/svm.py, decode/confidential.py), named here so it can ask the table first.
SVM_LEAF = 0x8000000A  # AMD SVM features: Intel's extended range stops below it
TDX_LEAF = 0x21  # Intel TDX: where a TDX guest's module names itself
SEV_LEAF = 0x8000001F  # AMD SEV


def vendor(leaf0: Registers) -> str:
    """Leaf 0 vendor string: EBX, EDX, ECX (not the hypervisor order)."""
    return safe_text(regs_bytes(leaf0.ebx, leaf0.edx, leaf0.ecx))


def brand(parts: list[Registers]) -> str | None:
    """Brand string from 0x80000002..4, NUL-terminated and stripped; None if empty."""
    raw = regs_bytes(*(v for r in parts for v in (r.eax, r.ebx, r.ecx, r.edx)))
    raw = raw.split(b"\0", 1)[0]
    text = safe_text(raw).strip()
    return text or None


def brand_of(table: CpuidTable) -> str | None:
    """The brand string when all three brand leaves are in range, else None."""
    parts = [table.get(leaf) for leaf in BRAND_LEAVES]
    if any(p is None for p in parts):
        return None
    return brand([p for p in parts if p is not None])


class CpuModel(Record):
    """Family, model and stepping from leaf 1 (Intel calls this the processor signature)."""

    family: int
    model: int
    stepping: int


def signature(leaf1: Registers) -> CpuModel:
    """Family/model/stepping from leaf 1 EAX, Linux's rule (arch/x86/lib/cpu.c)."""
    eax = leaf1.eax
    family = bits(eax, 8, 11)
    if family == 0xF:
        family += bits(eax, 20, 27)
    model = bits(eax, 4, 7)
    if family >= 0x6:
        model += bits(eax, 16, 19) << 4
    return CpuModel(family, model, bits(eax, 0, 3))


def vmx(leaf1: Registers) -> bool:
    return bit(leaf1.ecx, VMX_BIT)


def hypervisor(leaf1: Registers) -> bool:
    return bit(leaf1.ecx, HYPERVISOR_BIT)


def svm(ext1: Registers) -> bool:
    return bit(ext1.ecx, SVM_BIT)
