"""KVM paravirtual leaves (base = wherever ``KVMKVMKVM`` sits) and the PVM signature.

Source keys: L-KVMCPUID (Documentation/virt/kvm/x86/cpuid.rst), L-KVMPARA
(arch/x86/include/uapi/asm/kvm_para.h), PVM (KVM x86/PVM RFC, pvm_para.h [S]).
"""

from __future__ import annotations

from nestprobe.decode.bits import LeafSpec, flag_table
from nestprobe.model.snapshot import Registers

SRC = "L-KVMCPUID; L-KVMPARA"

FEATURES = LeafSpec(
    0x01, "kvm.features", "L-KVMCPUID KVM_CPUID_FEATURES",
    flags=(
        *flag_table("eax", SRC, {
            0: "KVM_FEATURE_CLOCKSOURCE", 1: "KVM_FEATURE_NOP_IO_DELAY",
            2: "KVM_FEATURE_MMU_OP", 3: "KVM_FEATURE_CLOCKSOURCE2",
            4: "KVM_FEATURE_ASYNC_PF", 5: "KVM_FEATURE_STEAL_TIME", 6: "KVM_FEATURE_PV_EOI",
            7: "KVM_FEATURE_PV_UNHALT", 9: "KVM_FEATURE_PV_TLB_FLUSH",
            10: "KVM_FEATURE_ASYNC_PF_VMEXIT", 11: "KVM_FEATURE_PV_SEND_IPI",
            12: "KVM_FEATURE_POLL_CONTROL", 13: "KVM_FEATURE_PV_SCHED_YIELD",
            14: "KVM_FEATURE_ASYNC_PF_INT", 15: "KVM_FEATURE_MSI_EXT_DEST_ID",
            16: "KVM_FEATURE_HC_MAP_GPA_RANGE", 17: "KVM_FEATURE_MIGRATION_CONTROL",
            24: "KVM_FEATURE_CLOCKSOURCE_STABLE_BIT",
        }),
        *flag_table("edx", SRC, {0: "KVM_HINTS_REALTIME"}),
    ),
)

#: "PVM\0" in EBX of base+2 (KVM_CPUID_VENDOR_FEATURES): the guest runs on a PVM host.
PVM_SIGNATURE = 0x004D5650
VENDOR_FEATURES = LeafSpec(0x02, "kvm.vendor_features", "PVM pvm_para.h PVM_CPUID_SIGNATURE [S]")

LEAVES: tuple[LeafSpec, ...] = (FEATURES, VENDOR_FEATURES)


def is_pvm(vendor_features: Registers) -> bool:
    return (vendor_features.ebx & 0xFFFFFFFF) == PVM_SIGNATURE

#: VirtualBox's KVM paravirtualization provider publishes exactly these KVM features at
#: base+1: CLOCKSOURCE | CLOCKSOURCE2 | PV_UNHALT, plus CLOCKSOURCE_STABLE_BIT when the
#: TSC is fixed-rate (VirtualBox src/VBox/VMM/VMMR3/GIMKvm.cpp gimR3KvmInit: uBaseFeat =
#: GIM_KVM_BASE_FEAT_CLOCK_OLD | GIM_KVM_BASE_FEAT_CLOCK | GIM_KVM_BASE_FEAT_PV_UNHALT;
#: gimR3KvmInitCompleted adds GIM_KVM_BASE_FEAT_TSC_STABLE). QEMU/KVM enables
#: NOP_IO_DELAY, ASYNC_PF, STEAL_TIME and PV_EOI by default (QEMU docs/system/i386/kvm-pv.rst).
VIRTUALBOX_FEATURES = frozenset({0x00000089, 0x01000089})
VIRTUALBOX_SOURCE = "VB-GIM GIMKvm.cpp gimR3KvmInit uBaseFeat"


def is_virtualbox(features: Registers) -> bool:
    return (features.eax & 0xFFFFFFFF) in VIRTUALBOX_FEATURES
