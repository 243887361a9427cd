"""Microsoft Hyper-V leaves (interface ``Hv#1``), relative to the interface base.

Names: TLFS field names where Linux has no macro, Linux ``include/hyperv/hvgdk_mini.h``
macros otherwise (source keys TLFS-FD, TLFS-PPM, L-HVMINI; defined in docs/sources.md).
Also used for Xen Viridian, KVM's enlightenments and VirtualBox's Hyper-V provider,
which publish the same layout.
"""

from __future__ import annotations

from nestprobe.decode.bits import Field, LeafSpec, bit, bits, flag_table
from nestprobe.model.record import Record
from nestprobe.model.snapshot import Registers

HV_INTERFACE = 0x31237648  # "Hv#1" (TLFS-FD)
PPM = "TLFS-PPM; L-HVMINI"
FD = "TLFS-FD; L-HVMINI"

INTERFACE = LeafSpec(0x01, "hyperv.interface", "TLFS-FD HYPERV_CPUID_INTERFACE",
                     fields=(Field("eax", 0, 31, "interface_signature", "TLFS-FD", hex=True),))

VERSION = LeafSpec(0x02, "hyperv.version", "TLFS-FD HYPERV_CPUID_VERSION", fields=(
    Field("eax", 0, 31, "build_number", "TLFS-FD"),
    Field("ebx", 16, 31, "major_version", "TLFS-FD"),
    Field("ebx", 0, 15, "minor_version", "TLFS-FD"),
    Field("ecx", 0, 31, "service_pack", "TLFS-FD"),
    Field("edx", 24, 31, "service_branch", "TLFS-FD"),
    Field("edx", 0, 23, "service_number", "TLFS-FD"),
))

#: HV_PARTITION_PRIVILEGE_MASK low half (EAX) and high half (EBX); 0x40000003 EDX features.
FEATURES = LeafSpec(0x03, "hyperv.features", "TLFS-FD HYPERV_CPUID_FEATURES", flags=(
    *flag_table("eax", PPM, {
        0: "HV_MSR_VP_RUNTIME_AVAILABLE", 1: "HV_MSR_TIME_REF_COUNT_AVAILABLE",
        2: "HV_MSR_SYNIC_AVAILABLE", 3: "HV_MSR_SYNTIMER_AVAILABLE",
        4: "HV_MSR_APIC_ACCESS_AVAILABLE", 5: "HV_MSR_HYPERCALL_AVAILABLE",
        6: "HV_MSR_VP_INDEX_AVAILABLE", 7: "HV_MSR_RESET_AVAILABLE",
        8: "HV_MSR_STAT_PAGES_AVAILABLE", 9: "HV_MSR_REFERENCE_TSC_AVAILABLE",
        10: "HV_MSR_GUEST_IDLE_AVAILABLE", 11: "HV_ACCESS_FREQUENCY_MSRS",
        12: "AccessDebugRegs", 13: "HV_ACCESS_REENLIGHTENMENT", 15: "HV_ACCESS_TSC_INVARIANT",
    }),
    *flag_table("ebx", PPM, {
        0: "HV_CREATE_PARTITIONS", 1: "HV_ACCESS_PARTITION_ID", 2: "HV_ACCESS_MEMORY_POOL",
        3: "HV_ADJUST_MESSAGE_BUFFERS", 4: "HV_POST_MESSAGES", 5: "HV_SIGNAL_EVENTS",
        6: "HV_CREATE_PORT", 7: "HV_CONNECT_PORT", 8: "HV_ACCESS_STATS", 11: "HV_DEBUGGING",
        12: "HV_CPU_MANAGEMENT", 16: "AccessVSM", 17: "AccessVpRegisters",
        20: "HV_ENABLE_EXTENDED_HYPERCALLS", 21: "StartVirtualProcessor", 22: "HV_ISOLATION",
    }),
    *flag_table("ecx", "L-HVMINI", {
        9: "HV_VP_DISPATCH_INTERRUPT_INJECTION_AVAILABLE", 10: "HV_VP_GHCB_ROOT_MAPPING_AVAILABLE",
    }),
    *flag_table("edx", FD, {
        0: "HV_X64_MWAIT_AVAILABLE", 1: "HV_X64_GUEST_DEBUGGING_AVAILABLE",
        2: "HV_X64_PERF_MONITOR_AVAILABLE", 3: "HV_X64_CPU_DYNAMIC_PARTITIONING_AVAILABLE",
        4: "HV_X64_HYPERCALL_XMM_INPUT_AVAILABLE", 5: "HV_X64_GUEST_IDLE_STATE_AVAILABLE",
        6: "HypervisorSleepStateSupportAvailable", 7: "NumaDistanceQueryAvailable",
        8: "HV_FEATURE_FREQUENCY_MSRS_AVAILABLE", 9: "SyntheticMachineCheckAvailable",
        10: "HV_FEATURE_GUEST_CRASH_MSR_AVAILABLE", 11: "HV_FEATURE_DEBUG_MSRS_AVAILABLE",
        12: "NpiepAvailable", 13: "DisableHypervisorAvailable",
        14: "HV_FEATURE_EXT_GVA_RANGES_FLUSH", 15: "HV_X64_HYPERCALL_XMM_OUTPUT_AVAILABLE",
        17: "SintPollingModeAvailable", 18: "HypercallMsrLockAvailable",
        19: "HV_STIMER_DIRECT_MODE_AVAILABLE", 20: "PatRegisterAvailableForVsm",
        21: "BndcfgsRegisterAvailableForVsm", 23: "SyntheticTimeUnhaltedTimerAvailable",
        26: "LbrAvailable",
    }),
))

RECOMMENDATIONS = LeafSpec(
    0x04, "hyperv.recommendations", "TLFS-FD HYPERV_CPUID_ENLIGHTMENT_INFO",
    flags=flag_table("eax", FD, {
        0: "HV_X64_AS_SWITCH_RECOMMENDED", 1: "HV_X64_LOCAL_TLB_FLUSH_RECOMMENDED",
        2: "HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED", 3: "HV_X64_APIC_ACCESS_RECOMMENDED",
        4: "HV_X64_SYSTEM_RESET_RECOMMENDED", 5: "HV_X64_RELAXED_TIMING_RECOMMENDED",
        6: "UseDmaRemapping", 7: "UseInterruptRemapping", 8: "UseX2ApicMsrs",
        9: "HV_DEPRECATING_AEOI_RECOMMENDED", 10: "HV_X64_CLUSTER_IPI_RECOMMENDED",
        11: "HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED", 12: "HV_X64_HYPERV_NESTED",
        13: "UseIntForMbecSystemCalls", 14: "HV_X64_ENLIGHTENED_VMCS_RECOMMENDED",
        15: "UseSyncedTimeline", 17: "UseDirectLocalFlushEntire",
        18: "HV_X64_NO_NONARCH_CORESHARING", 21: "HV_X64_USE_MMIO_HYPERCALLS",
    }),
    fields=(
        Field("ebx", 0, 31, "spinlock_retries", "TLFS-FD", hex=True),
        Field("ecx", 0, 6, "implemented_physical_address_bits", "TLFS-FD"),
    ),
)

LIMITS = LeafSpec(0x05, "hyperv.limits", "TLFS-FD HYPERV_CPUID_IMPLEMENT_LIMITS", fields=(
    Field("eax", 0, 31, "max_virtual_processors", "TLFS-FD"),
    Field("ebx", 0, 31, "max_logical_processors", "TLFS-FD"),
    Field("ecx", 0, 31, "max_interrupt_vectors_for_remapping", "TLFS-FD"),
))

HARDWARE_FEATURES = LeafSpec(
    0x06, "hyperv.hardware_features", "TLFS-FD (implementation hardware features)",
    flags=flag_table("eax", "TLFS-FD", {
        0: "ApicOverlayAssistInUse", 1: "MsrBitmapsInUse",
        2: "ArchitecturalPerformanceCountersInUse",
        3: "SecondLevelAddressTranslationInUse", 4: "DmaRemappingInUse",
        5: "InterruptRemappingInUse", 6: "MemoryPatrolScrubberPresent",
        7: "DmaProtectionInUse", 8: "HpetRequested", 9: "SyntheticTimersVolatile",
    }),
)

CPU_MANAGEMENT = LeafSpec(
    0x07, "hyperv.cpu_management", "L-HVMINI HYPERV_CPUID_CPU_MANAGEMENT_FEATURES",
    flags=flag_table("eax", "L-HVMINI", {
        0: "HV_X64_START_LOGICAL_PROCESSOR", 1: "HV_X64_CREATE_ROOT_VIRTUAL_PROCESSOR",
        2: "HV_X64_PERFORMANCE_COUNTER_SYNC", 31: "HV_X64_RESERVED_IDENTITY_BIT",
    }),
)

NESTED_HYPERVISOR_FEATURES = LeafSpec(
    0x09, "hyperv.nested_hypervisor_features", "TLFS-FD (nested hypervisor feature identification)",
    flags=(
        *flag_table("eax", "TLFS-FD", {
            2: "AccessSynicRegs", 4: "AccessIntrCtrlRegs", 5: "AccessHypercallMsrs",
            6: "AccessVpIndex", 12: "AccessReenlightenmentControls",
        }),
        *flag_table("edx", "TLFS-FD", {
            4: "XmmRegistersForFastHypercallAvailable", 15: "FastHypercallOutputAvailable",
            17: "SintPollingModeAvailable",
        }),
    ),
)

NESTED_FEATURES = LeafSpec(
    0x0A, "hyperv.nested_features", "TLFS-FD HYPERV_CPUID_NESTED_FEATURES",
    flags=(
        *flag_table("eax", FD, {
            17: "HV_X64_NESTED_DIRECT_FLUSH", 18: "HV_X64_NESTED_GUEST_MAPPING_FLUSH",
            19: "HV_X64_NESTED_MSR_BITMAP", 20: "VirtualizationExceptionsInPfClass",
            22: "HV_X64_NESTED_ENLIGHTENED_TLB",
        }),
        *flag_table("ebx", "L-HVMINI", {0: "HV_X64_NESTED_EVMCS1_PERF_GLOBAL_CTRL"}),
    ),
    fields=(
        Field("eax", 0, 7, "evmcs_version_low", FD),
        Field("eax", 8, 15, "evmcs_version_high", "TLFS-FD"),
    ),
)

#: HV_ISOLATION_TYPE values (L-HVMINI).
ISOLATION_TYPES: dict[int, str] = {0: "none", 1: "vbs", 2: "snp", 3: "tdx"}

ISOLATION = LeafSpec(
    0x0C, "hyperv.isolation", "L-HVMINI HYPERV_CPUID_ISOLATION_CONFIG",
    flags=(
        *flag_table("eax", "L-HVMINI", {0: "HV_PARAVISOR_PRESENT"}),
        *flag_table("ebx", "L-HVMINI", {5: "HV_SHARED_GPA_BOUNDARY_ACTIVE"}),
    ),
    fields=(
        Field("ebx", 0, 3, "isolation_type", "L-HVMINI HV_ISOLATION_TYPE"),
        Field("ebx", 6, 11, "shared_gpa_boundary_bits", "L-HVMINI"),
    ),
)

LEAVES: tuple[LeafSpec, ...] = (
    INTERFACE, VERSION, FEATURES, RECOMMENDATIONS, LIMITS, HARDWARE_FEATURES,
    CPU_MANAGEMENT, NESTED_HYPERVISOR_FEATURES, NESTED_FEATURES, ISOLATION,
)


class Privileges(Record):
    """The three partition-privilege bits that decide root vs guest."""

    create_partitions: bool  # 0x40000003 EBX[0]
    cpu_management: bool  # 0x40000003 EBX[12]
    isolation: bool  # 0x40000003 EBX[22]


def privileges(features: Registers) -> Privileges:
    return Privileges(bit(features.ebx, 0), bit(features.ebx, 12), bit(features.ebx, 22))


def partition_type(p: Privileges) -> str:
    """Linux ``hv_identify_partition_type()`` (drivers/hv/hv_common.c, L-HVCOMMON):
    CreatePartitions && !Isolation => parent; + CpuManagement => root, else l1vh."""
    if p.create_partitions and not p.isolation:
        return "root" if p.cpu_management else "l1vh"
    return "guest"


def isolation_type(isolation_leaf: Registers) -> str:
    value = bits(isolation_leaf.ebx, 0, 3)
    return ISOLATION_TYPES.get(value, f"unknown({value})")


def evmcs_version(nested_leaf: Registers) -> int:
    """Enlightened VMCS version, high byte:low byte (0 = no eVMCS)."""
    return bits(nested_leaf.eax, 0, 15)


class Version(Record):
    """0x40000002 (TLFS "Hypervisor Version"): the Microsoft hypervisor's build."""

    build: int
    major: int
    minor: int
    service_pack: int
    service_branch: int
    service_number: int

    def text(self) -> str:
        return (f"{self.major}.{self.minor}.{self.build} SP{self.service_pack} "
                f"(service {self.service_branch}.{self.service_number})")


def version(leaf: Registers) -> Version:
    return Version(
        build=leaf.eax & 0xFFFFFFFF,
        major=bits(leaf.ebx, 16, 31),
        minor=bits(leaf.ebx, 0, 15),
        service_pack=leaf.ecx & 0xFFFFFFFF,
        service_branch=bits(leaf.edx, 24, 31),
        service_number=bits(leaf.edx, 0, 23),
    )


class Emulator(Record):
    """A non-Microsoft hypervisor's default answer to 0x40000002 behind ``Microsoft Hv``."""

    build: int
    major: int
    minor: int
    vendor_id: str
    product: str
    source: str


#: Default version identities other hypervisors publish with the Hyper-V interface. Real
#: Hyper-V fills the service pack and service number (the corpus: SP1 build 20348.1462,
#: SP2 14393.2273); these defaults leave both zero, which is part of the match.
EMULATORS: tuple[Emulator, ...] = (
    Emulator(14393, 10, 0, "kvm", "QEMU/KVM (hv-version-id default, WS2016 identity)",
             "Q-CPU hv-version-id-* defaults (QEMU 6.2+); L-KVMHV kvm_get_hv_cpuid "
             "(0x3839, 0x000A0000)"),
    Emulator(7100, 6, 1, "kvm", "QEMU/KVM (hv-version-id default before QEMU 6.2, WS2008R2)",
             "Q-PC pc_compat_6_1 hv-version-id-build 0x1bbc"),
    Emulator(6002, 6, 0, "xen", "Xen Viridian (version 6.0 build 6002)", "X-VIRIDIAN"),
)


def emulator_of(v: Version) -> Emulator | None:
    """The emulator whose default identity ``v`` is, or None (real Hyper-V, or unknown)."""
    if v.service_pack or v.service_number or v.service_branch:
        return None
    return next((e for e in EMULATORS
                 if (e.build, e.major, e.minor) == (v.build, v.major, v.minor)), None)
