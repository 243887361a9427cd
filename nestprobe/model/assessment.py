"""Assessment: what the snapshot means, each part with its evidence.

The JSON report (schema_version 1) is a rendering of these types; field names here
are the report's keys. Producers: :mod:`nestprobe.assess.identity` (cpu, hypervisor),
:mod:`nestprobe.assess.hwvirt` (virtualization, environment),
:mod:`nestprobe.assess.nesting` (nesting). Consumers: verdicts and output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from nestprobe.model.evidence import Evidence, EvidenceValue
from nestprobe.model.record import Record, field

#: "root-or-guest": a hypervisor is present but only a Windows tool's report says so (no
#: CPUID leaves): this OS is its root partition or a guest, and the evidence cannot tell.
Partition = Literal["root", "l1vh", "guest", "root-or-guest"]
Confidence = Literal["certain", "high", "medium", "low", "none"]
#: Decoded vendor-leaf fields: leaf name -> field name -> value (JSON-friendly).
DecodedLeaves = Mapping[str, Mapping[str, EvidenceValue | tuple[str, ...]]]


class CpuIdentity(Record):
    vendor: str | None  # leaf 0 vendor string, e.g. "GenuineIntel", "AuthenticAMD"
    brand: str | None  # 0x80000002..4 brand string, stripped
    family: int | None = None
    model: int | None = None
    stepping: int | None = None
    evidence: tuple[Evidence, ...] = ()


class HypervisorInterface(Record):
    """One signature found at a 0x100-aligned base."""

    base: int
    max_leaf: int
    signature: str  # as published, padding kept, non-printables as \xNN
    vendor_id: str | None  # systemd-detect-virt style id from the signature table, None if unknown
    interface: str | None = None  # base+1 EAX as text when printable ("Hv#1"), else None
    decoded: DecodedLeaves = field(default_factory=dict)  # vendor leaves, named as specs name them


class HypervisorFacts(Record):
    bit: bool | None  # CPUID.1:ECX[31]; None when CPUID is unavailable
    detected: bool  # the bit, any signature, or an OS signal shows a hypervisor
    vendor: str | None  # primary hypervisor id ("kvm", "microsoft", ...), "unknown", or None
    interfaces: tuple[HypervisorInterface, ...]
    partition: Partition | None  # Hyper-V partition type by Linux's rule; None when not Hyper-V
    product: str | None = None  # human name, e.g. "KVM with Hyper-V enlightenments"
    cloud: str | None = None  # "azure", "aws", "gcp", ... from DMI/signals
    instance_type: str | None = None  # e.g. DMI product_name "m5.metal" when it names one
    confidential: str | None = None  # "tdx", "sev", "sev-es", "sev-snp", "hyperv-vbs", ...
    emulated: bool = False  # a CPU emulator (QEMU TCG, x86 on ARM): timing means nothing
    evidence: tuple[Evidence, ...] = ()


class Virtualization(Record):
    vmx: bool | None  # CPUID.1:ECX[5]
    svm: bool | None  # CPUID.80000001h:ECX[2]
    exposed: bool | None  # VT-x or AMD-V reaches this OS
    slat: bool | None  # EPT (vmx flags) / NPT (8000000Ah:EDX[0]); None when unknown
    can_host_vms: bool | None  # this OS can run hardware-assisted VMs now (root partition: yes)
    firmware_disabled: bool | None = None  # CPUID has it, the kernel dropped it (BIOS lock)
    kvm_device: str | None = None  # KvmDevice.state, or None when not looked at
    kvm_backend: str | None = None  # "kvm_intel", "kvm_amd", "kvm_pvm", or None
    kvm_nested_param: str | None = None  # the loaded backend's `nested` parameter as read
    software_nesting_only: bool = False  # /dev/kvm is PVM-backed: runs PVM guests only
    decoded: DecodedLeaves = field(default_factory=dict)  # 0x8000000A fields, vmx flags ...
    evidence: tuple[Evidence, ...] = ()


#: Whether an installed component is there: its service key exists, does not, could not be
#: read, or the source (a paste) never looked.
ComponentState = Literal["installed", "absent", "unreadable", "unknown"]


class WindowsFacts(Record):
    """This Windows: release, edition, installed virtualization components, configuration.

    From the live registry/Win32 facts (sources/windows_facts.py) or, partly, from a pasted
    systeminfo/msinfo32/Get-ComputerInfo/Coreinfo output (``source`` says which). Every
    field is None when its fact was not recorded.
    """

    source: str  # "probe" (registry/Win32 facts, live or replayed), a paste tool, or "none"
    build: int | None = None
    ubr: int | None = None
    release: str | None = None  # "Windows 11 version 23H2", "Windows Server 2022"
    product_name: str | None = None  # as recorded (says "Windows 10" on Windows 11)
    display_version: str | None = None  # "23H2"
    edition_id: str | None = None  # "Core", "Professional", "ServerDatacenter" ...
    edition: str = "unknown"  # home, pro, education, enterprise, server, azure-local, other
    installation_type: str | None = None  # "Client", "Server", "Server Core"
    server: bool | None = None
    #: service key -> state: vmms, hvservice, HvHost, vmcompute, LxssManager, WslService, vmbus
    components: Mapping[str, ComponentState] = field(default_factory=dict)
    hyperv_installed: bool | None = None  # the Hyper-V role (vmms)
    wsl_installed: bool | None = None  # LxssManager or WslService
    vbs_configured: bool | None = None  # DeviceGuard EnableVirtualizationBasedSecurity = 1
    hvci_configured: bool | None = None  # HypervisorEnforcedCodeIntegrity Enabled = 1
    hypervisor_launch: str | None = None  # BCD: "auto", "off", "not-set", "unknown"
    memory_bytes: int | None = None
    logical_processors: int | None = None
    architecture: str | None = None  # GetNativeSystemInfo: "AMD64", "ARM64", "x86" ...
    slat: bool | None = None  # PF_SECOND_LEVEL_ADDRESS_TRANSLATION / the tool's SLAT line
    firmware_virtualization: bool | None = None  # PF_VIRT_FIRMWARE_ENABLED / "in firmware"
    #: Hyper-V data exchange from the host: HostName, VirtualMachineName,
    #: PhysicalHostNameFullyQualified
    guest_parameters: Mapping[str, str] = field(default_factory=dict)


class Environment(Record):
    """OS-level signals: who we are inside (WSL, container, Xen domain), DMI identity."""

    os: str  # "Linux", "Windows", ...
    machine: str
    wsl: bool = False
    container: str | None = None  # "docker", "lxc", "podman", ... when evident
    xen_domain: str | None = None  # "dom0", "domU"
    dmi: Mapping[str, str] = field(default_factory=dict)  # sys_vendor, product_name, ...
    evidence: tuple[Evidence, ...] = ()
    windows: WindowsFacts | None = None  # on Windows (live or a pasted tool), else None


class Nesting(Record):
    level: int | None  # number of VMs this OS runs inside, when the evidence fixes it
    at_least: int  # what the evidence proves at minimum
    likely: int | None  # best estimate with its confidence (timing may raise it)
    confidence: Confidence
    evidence: tuple[Evidence, ...] = ()


class Assessment(Record):
    cpu: CpuIdentity
    hypervisor: HypervisorFacts
    virtualization: Virtualization
    environment: Environment
    nesting: Nesting
