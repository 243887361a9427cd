"""Xen leaves relative to the Xen base (0x40000100 when Viridian sits at 0x40000000).

Source keys: X-CPUID (xen/include/public/arch-x86/cpuid.h), L-XENCPUID
(arch/x86/include/asm/xen/cpuid.h).
"""

from __future__ import annotations

from nestprobe.decode.bits import Field, LeafSpec, flag_table

SRC = "X-CPUID; L-XENCPUID"

VERSION = LeafSpec(0x01, "xen.version", SRC, fields=(
    Field("eax", 16, 31, "major", SRC), Field("eax", 0, 15, "minor", SRC),
))
HYPERCALL = LeafSpec(0x02, "xen.hypercall", SRC,
    flags=flag_table("ecx", SRC, {0: "XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD"}),
    fields=(
        Field("eax", 0, 31, "hypercall_transfer_pages", SRC),
        Field("ebx", 0, 31, "msr_base", SRC, hex=True),
    ),
)
TIME = LeafSpec(0x03, "xen.time", SRC,
    flags=flag_table("eax", SRC, {
        0: "XEN_CPUID_TSC_EMULATED", 1: "XEN_CPUID_HOST_TSC_RELIABLE", 2: "XEN_CPUID_RDTSCP_INSTR",
    }),
    fields=(Field("ebx", 0, 31, "tsc_mode", SRC), Field("ecx", 0, 31, "tsc_khz", SRC)),
)
HVM = LeafSpec(0x04, "xen.hvm_features", SRC,
    flags=flag_table("eax", SRC, {
        0: "XEN_HVM_CPUID_APIC_ACCESS_VIRT", 1: "XEN_HVM_CPUID_X2APIC_VIRT",
        2: "XEN_HVM_CPUID_IOMMU_MAPPINGS", 3: "XEN_HVM_CPUID_VCPU_ID_PRESENT",
        4: "XEN_HVM_CPUID_DOMID_PRESENT",
    }),
    fields=(Field("ebx", 0, 31, "vcpu_id", SRC), Field("ecx", 0, 31, "domid", SRC)),
)
PV = LeafSpec(0x05, "xen.pv", SRC, fields=(Field("ebx", 0, 7, "max_machine_address_width", SRC),))

LEAVES: tuple[LeafSpec, ...] = (VERSION, HYPERCALL, TIME, HVM, PV)
