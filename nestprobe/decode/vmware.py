"""VMware leaves and the generic timing leaf base+0x10.

Source keys: L-VMW (arch/x86/kernel/cpu/vmware.c), VB-GIM / LKML-0x40000010 for the
"generic timing leaf originally defined by VMware" (EAX TSC kHz, EBX bus kHz).
"""

from __future__ import annotations

from nestprobe.decode.bits import Field, LeafSpec, flag_table
from nestprobe.decode.signatures import TIMING_OFFSET

#: Used for any vendor that publishes base+0x10 (VirtualBox Minimal, QEMU vmware-cpuid-freq).
TIMING = LeafSpec(TIMING_OFFSET, "timing", "VB-GIM; LKML-0x40000010; Q-CPU vmware-cpuid-freq",
    fields=(
        Field("eax", 0, 31, "tsc_khz", "LKML-0x40000010"),
        Field("ebx", 0, 31, "bus_khz", "LKML-0x40000010"),
    ),
)

#: On VMware the same leaf also carries the hypercall-instruction bits.
FEATURES = LeafSpec(TIMING_OFFSET, "vmware.features", "L-VMW CPUID_VMWARE_FEATURES_LEAF",
    flags=flag_table("ecx", "L-VMW", {
        0: "CPUID_VMWARE_FEATURES_ECX_VMMCALL", 1: "CPUID_VMWARE_FEATURES_ECX_VMCALL",
    }),
    fields=(
        Field("eax", 0, 31, "tsc_khz", "LKML-0x40000010 [U on VMware]"),
        Field("ebx", 0, 31, "bus_khz", "LKML-0x40000010 [U on VMware]"),
    ),
)
