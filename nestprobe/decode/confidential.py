"""Confidential-computing markers: Intel TDX leaf 0x21 and AMD SEV leaf 0x8000001F.

Source keys: L-TDX (arch/x86/include/asm/shared/tdx.h ``TDX_IDENT``; arch/x86/coco/tdx/tdx.c
reads EBX, EDX, ECX in that order), L-CPUFEAT (word 19: SEV bits of 0x8000001F EAX).
"""

from __future__ import annotations

from nestprobe.decode.bits import Field, LeafSpec, flag_table, regs_bytes, safe_text
from nestprobe.decode.cpu import SEV_LEAF, TDX_LEAF
from nestprobe.model.snapshot import Registers

TDX_IDENT = b"IntelTDX    "

TDX = LeafSpec(TDX_LEAF, "tdx", "L-TDX TDX_CPUID_LEAF_ID")

SEV = LeafSpec(
    SEV_LEAF, "sev", "L-CPUFEAT word 19",
    flags=flag_table("eax", "L-CPUFEAT", {
        0: "SME", 1: "SEV", 2: "VM_PAGE_FLUSH", 3: "SEV_ES", 4: "SEV_SNP",
    }),
    fields=(
        Field("ebx", 0, 5, "c_bit_position", "L-CPUFEAT [U]"),
        Field("ecx", 0, 31, "encrypted_guests", "L-CPUFEAT [U]"),
    ),
)


def tdx_signature(regs: Registers) -> bytes:
    """The 12 bytes of leaf 0x21 in Linux's order (EBX, EDX, ECX)."""
    return regs_bytes(regs.ebx, regs.edx, regs.ecx)


def decode_tdx(regs: Registers) -> dict[str, str | bool]:
    raw = tdx_signature(regs)
    return {"signature": safe_text(raw), "is_tdx": raw == TDX_IDENT}


def sev_level(regs: Registers) -> str | None:
    """Strongest SEV flavour the leaf advertises: sev-snp > sev-es > sev, else None."""
    eax = regs.eax
    if (eax >> 4) & 1:
        return "sev-snp"
    if (eax >> 3) & 1:
        return "sev-es"
    if (eax >> 1) & 1:
        return "sev"
    return None
