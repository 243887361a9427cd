"""Assessment: what the snapshot means, each part with its evidence.

``Partition`` is defined with the facts (model/facts.py).

The JSON report (schema_version 3) is a rendering of these types; field names here
are the report's keys. Producers: :mod:`nestprobe.assess.identity` (cpu, hypervisor),
:mod:`nestprobe.assess.hwvirt` (virtualization, environment),
:mod:`nestprobe.assess.nesting` (nesting). Consumers: verdicts and output.
"""

from __future__ import annotations

from nestprobe.model.evidence import Evidence, EvidenceValue
from nestprobe.model.facts import Facts, Partition
from nestprobe.model.proof import ProofAssessment
from nestprobe.model.record import Record, field
from nestprobe.model.typeshim import Literal, Mapping

Confidence = Literal["certain", "high", "medium", "low", "none"]
#: Decoded vendor-leaf fields: leaf name -> field name -> value (JSON-friendly).
DecodedLeaves = Mapping[str, Mapping[str, EvidenceValue | tuple[str, ...]]]


#: What the features hypervisors hide together with VT-x (decode/masks.py) show:
#: "masked" = cleared as KVM/VirtualBox/Xen clear them, "native" = present as on hardware.
MaskState = Literal["masked", "native", "mixed"]


class CpuIdentity(Record):
    vendor: str | None  # leaf 0 vendor string, e.g. "GenuineIntel", "AuthenticAMD"
    brand: str | None  # 0x80000002..4 brand string, stripped
    family: int | None = None
    model: int | None = None
    stepping: int | None = None
    #: The CPU has VT-x/AMD-V by the cited tables (decode/cpumodels.py): "all" its
    #: series' SKUs, "most" of its generation's, None when the tables do not say.
    extension_expected: str | None = None
    virtual_model: bool = False  # a CPU name only virtual CPUs carry (QEMU's named models)
    feature_mask: MaskState | None = None  # None: leaves or vendor unknown
    evidence: tuple[Evidence, ...] = ()


class HypervisorInterface(Record):
    """One signature found at a 0x100-aligned base."""

    base: int
    max_leaf: int
    signature: str  # as published, padding kept, non-printables as \xNN
    vendor_id: str | None  # systemd-detect-virt style id from the signature table, None if unknown
    interface: str | None = None  # base+1 EAX as text when printable ("Hv#1"), else None
    decoded: DecodedLeaves = field(default_factory=dict)  # vendor leaves, named as specs name them


class HyperVFacts(Record):
    """The Hyper-V interface (``Hv#1``) leaves, read once (assess/hyperv.py).

    ``partition`` follows Linux: only a ``Microsoft Hv`` signature makes a Hyper-V
    partition (arch/x86/kernel/cpu/mshyperv.c ms_hyperv_platform); VMware's and
    VirtualBox's ``Hv#1`` enlightenments under their own signatures do not.
    """

    base: int
    signature: str
    partition: Partition | None  # Linux hv_identify_partition_type; None: not Hyper-V
    create_partitions: bool | None = None  # 0x40000003 EBX[0]
    cpu_management: bool | None = None  # 0x40000003 EBX[12]
    isolation: bool | None = None  # 0x40000003 EBX[22]
    nested: bool | None = None  # 0x40000004 EAX[12] HV_X64_HYPERV_NESTED; None: leaf absent
    build: int | None = None  # 0x40000002 EAX: the Microsoft hypervisor's (host's) build
    version: str | None = None  # 0x40000002 as "major.minor.build SPn (service b.n)"
    emulator: str | None = None  # vendor id whose default identity 0x40000002 matches
    evidence: tuple[Evidence, ...] = ()


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
    #: Who else may be answering, most likely first after ``vendor``: the product whose
    #: interface ``vendor`` presents ("microsoft" when KVM answers behind "Microsoft Hv").
    alternatives: tuple[str, ...] = ()
    identified: Confidence = "high"  # how sure ``vendor`` is the product, not an emulation
    #: No hypervisor shows itself, but positive evidence says one hides (virtual-only CPU
    #: model, the co-masked features on a CPU that has VT-x/AMD-V, VM-like exit latency).
    hidden: bool = False
    hyperv: HyperVFacts | None = None
    evidence: tuple[Evidence, ...] = ()


class Virtualization(Record):
    vmx: bool | None  # CPUID.1:ECX[5]
    svm: bool | None  # CPUID.80000001h:ECX[2]
    exposed: bool | None  # VT-x or AMD-V reaches this OS
    slat: bool | None  # EPT (vmx flags) / NPT (8000000Ah:EDX[0]); None when unknown
    can_host_vms: bool | None  # this OS can run hardware-assisted VMs now (root partition: yes)
    #: True only on positive evidence that firmware turned VT-x/AMD-V off (CPUID has it and
    #: the kernel's flag or Windows' firmware-enabled feature says it is off); None: no
    #: evidence either way. A CPUID bit that is clear is never the firmware's doing.
    firmware_disabled: bool | None = None
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
    #: wine's version when this "Windows" is wine (HKLM\SOFTWARE\Wine, ntdll's
    #: wine_get_version): its processor features, SMBIOS strings and BCD store are stubs,
    #: so those facts stay unknown
    wine: str | None = None


class Environment(Record):
    """OS-level signals: who we are inside (WSL, container, Xen domain), DMI identity."""

    os: str  # "Linux", "Windows", ... or "unknown"
    machine: str
    #: "certain" when the OS reported itself; "high" when inferred (a Hyper-V root
    #: partition runs Windows unless it is Linux on MSHV); "none" when unknown.
    os_confidence: Confidence = "certain"
    wsl: bool | None = None  # None: the kernel release was not read
    container: str | None = None  # "docker", "lxc", "podman", ... when evident
    xen_domain: str | None = None  # "dom0", "domU"
    xen_mode: str | None = None  # "pv", "pvh", "hvm" (/sys/hypervisor/guest_type)
    dmi: Mapping[str, str] = field(default_factory=dict)  # sys_vendor, product_name, ...
    #: What the OS manages (Linux MemTotal, Windows ullTotalPhys or a paste's memory line),
    #: a little under the VM's size; processors present (Windows: the active count).
    memory_bytes: int | None = None
    vcpus: int | None = None
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
    #: The decided facts, each with its evidence (model/facts.py; assess/facts.py decides
    #: them from the parts above). The JSON report (schema 3) carries them as ``facts`` so
    #: ``Report.from_dict`` gives back the same Report without assess/. An Assessment
    #: built by hand, or with a part replaced, gets them from ``assess.facts.with_facts``;
    #: the default (nothing decided) is only its starting point.
    facts: Facts = field(default_factory=Facts)
    proof: ProofAssessment | None = None  # a tiny VM created here (--prove), or None
