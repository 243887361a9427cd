"""Situation: the few facts of an Assessment that the support matrix branches on.

Rules match on these fields only (see :mod:`nestprobe.verdicts.matrix`), so every rule
is a row of plain values and the tables below say, with a source per row, how an
Assessment's identity maps onto them. Each field also keeps the assessment evidence
behind it, which becomes the verdict's reasons.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from nestprobe.assess.identity import HIDDEN_WITNESS_SOURCES
from nestprobe.model.assessment import Assessment
from nestprobe.model.evidence import Evidence
from nestprobe.model.lazyre import lazy_compile
from nestprobe.model.record import Record, field, fields
from nestprobe.model.typeshim import Literal
from nestprobe.verdicts import sources
from nestprobe.verdicts.winsituation import (
    PASTE_HYPERVISOR,
    PASTE_VT,
    WINDOWS_EVIDENCE,
    WINDOWS_FIRMWARE,
    WINDOWS_IDENTITY,
    WINDOWS_SLAT,
    WinComponent,
    WinEdition,
    WinFirmware,
    WinLaunch,
    WinVbs,
    WinWsl2Build,
    windows_part,
)

Place = Literal["bare-metal", "unseen", "hyperv-root", "hyperv-l1vh", "vm", "emulator",
                "root-or-guest"]
Outer = Literal[
    "none", "hyperv", "kvm", "vmware", "virtualbox", "xen", "parallels", "other", "unidentified",
    "hidden",
]
Cloud = Literal["azure", "aws", "gcp", "other", "none"]
CpuKind = Literal["intel", "amd", "other"]
OsKind = Literal["windows", "linux", "other", "unknown"]
Depth = Literal["l0", "l1", "deeper", "unknown"]
AzureSize = Literal["capable", "not-capable", "unknown"]
AwsType = Literal["metal", "nested-capable", "virtual", "unknown"]


class VendorRow(Record):
    vendor_id: str  # systemd-detect-virt id as HypervisorFacts.vendor carries it
    outer: Outer
    name: str
    source: str


#: hypervisor.vendor -> which vendor's switch applies. Nitro (amazon) and GCE (google)
#: are KVM-based; "qemu" without the emulated flag is QEMU driving KVM.
VENDORS: tuple[VendorRow, ...] = (
    VendorRow("microsoft", "hyperv", "Microsoft Hyper-V", sources.SYSTEMD_VIRT),
    VendorRow("kvm", "kvm", "KVM", sources.SYSTEMD_VIRT),
    VendorRow("qemu", "kvm", "QEMU", sources.SYSTEMD_VIRT),
    VendorRow("amazon", "kvm", "Amazon Nitro (KVM-based)", sources.AWS_NESTED),
    VendorRow("google", "kvm", "Google Compute Engine (KVM-based)", sources.GCP_NESTED),
    VendorRow("vmware", "vmware", "VMware", sources.SYSTEMD_VIRT),
    VendorRow("oracle", "virtualbox", "Oracle VirtualBox", sources.SYSTEMD_VIRT),
    VendorRow("xen", "xen", "Xen", sources.SYSTEMD_VIRT),
    VendorRow("parallels", "parallels", "Parallels", sources.SYSTEMD_VIRT),
)
_VENDOR_BY_ID = {row.vendor_id: row for row in VENDORS}

#: CPUID leaf 0 vendor string -> which vendor's rules apply (Hygon is AMD-derived, SVM).
CPU_VENDORS: Mapping[str, CpuKind] = {
    "GenuineIntel": "intel",
    "AuthenticAMD": "amd",
    "HygonGenuine": "amd",
}

CLOUDS: Mapping[str, Cloud] = {"azure": "azure", "aws": "aws", "gcp": "gcp"}


class SizeRow(Record):
    """An Azure size family pattern and what its size page says about nesting."""

    pattern: str  # regex over the size name without "Standard_", case-sensitive
    status: AzureSize
    why: str
    source: str


#: First match wins. Names: Standard_<Family><vCPUs><features>[_v<gen>], e.g. D4s_v5.
AZURE_SIZES: tuple[SizeRow, ...] = (
    SizeRow(r"^(DC|EC)", "not-capable", "confidential families", sources.AZURE_SIZES),
    SizeRow(r"^B", "not-capable", "burstable B-series", sources.AZURE_SIZES),
    SizeRow(r"^A", "not-capable", "A-series", sources.AZURE_ACU),
    SizeRow(r"^(HB|HX|HC|H\d)", "not-capable", "HPC families", sources.AZURE_ACU),
    SizeRow(r"^[DE]\d+[a-z]*p[a-z]*_v\d", "not-capable", "Arm64 (Cobalt/Ampere)",
            sources.AZURE_SIZES),
    SizeRow(r"^[DE]\d+[a-z]*a[a-z]*_v4$", "not-capable", "AMD v4 (Dav4/Dasv4/Eav4/Easv4)",
            sources.AZURE_SIZES),
    SizeRow(r"^[DE]\d+[a-z]*a[a-z]*_v([5-9]|\d\d)$", "capable", "AMD v5 or later",
            sources.AZURE_SIZES),
    SizeRow(r"^DS?\d+[a-z]*(_v2)?$", "not-capable", "Dv2/DSv2 and older", sources.AZURE_ACU),
    SizeRow(r"^[DE]\d+[a-z]*_v([3-9]|\d\d)$", "capable", "Intel D/E v3 or later",
            sources.AZURE_ACU),
    SizeRow(r"^F\d+s?_v2$", "capable", "Fsv2", sources.AZURE_ACU),
    SizeRow(r"^FX\d", "capable", "FX", sources.AZURE_ACU),
    SizeRow(r"^M\d", "capable", "M-series", sources.AZURE_ACU),
)

#: AWS: virtual types nest only on 8th-generation Intel (C8i/M8i/R8i, flex and d variants).
AWS_NESTED_FAMILIES = lazy_compile(r"^(c8i|m8i|r8i)(d|-flex)?\.")


def azure_size(instance_type: str | None) -> AzureSize:
    if not instance_type:
        return "unknown"
    name = instance_type.removeprefix("Standard_").removeprefix("standard_")
    for row in AZURE_SIZES:
        if re.search(row.pattern, name):
            return row.status
    return "unknown"


def aws_type(instance_type: str | None) -> AwsType:
    if not instance_type:
        return "unknown"
    name = instance_type.lower()
    if name.endswith(".metal") or ".metal-" in name:
        return "metal"
    if AWS_NESTED_FAMILIES.match(name):
        return "nested-capable"
    return "virtual" if "." in name else "unknown"


class Situation(Record):
    place: Place
    outer: Outer
    cloud: Cloud
    cpu: CpuKind
    os: OsKind
    exposed: bool | None  # VT-x/AMD-V reaches this OS
    slat: bool | None
    firmware_disabled: bool  # positive evidence only (assess/hwvirt.py FIRMWARE_WITNESSES)
    raw_cpuid: bool  # CPUID leaf 1 was read (False: the kernel's flags are all there is)
    kvm: str | None  # KvmDevice state on Linux, None when not looked at
    software_nesting: bool  # /dev/kvm is PVM-backed
    confidential: bool
    wsl: bool | None  # None: the kernel release was not read
    container: bool
    xen_dom0: bool
    xen_pv: bool  # a Xen PV domU: Xen owns VT-x/AMD-V, whatever user-space CPUID shows
    depth: Depth
    azure_size: AzureSize
    aws_type: AwsType
    # The Windows part (verdicts/windows.py reads it from environment.windows; "n/a" when
    # this OS is not Windows).
    win_edition: WinEdition = "n/a"
    win_wsl2_build: WinWsl2Build = "n/a"
    win_hyperv: WinComponent = "n/a"
    win_wsl: WinComponent = "n/a"
    win_launch: WinLaunch = "n/a"
    win_firmware: WinFirmware = "n/a"
    win_vbs: WinVbs = "n/a"
    #: Who else may be answering, in order of likelihood (the interface's product when
    #: the evidence says another hypervisor presents it, or cannot decide).
    alternatives: tuple[Outer, ...] = ()
    hypervisor_name: str = ""  # for the text: "VMware", "an unidentified hypervisor"
    instance_type: str = ""
    vm_name: str = ""  # the Hyper-V VM's name and host, when the guest parameters say
    host_name: str = ""
    #: Situation field -> the assessment evidence it was read from.
    evidence: Mapping[str, tuple[Evidence, ...]] = field(default_factory=dict)


#: Fields a rule may match on (everything but the text helpers and evidence).
MATCH_FIELDS: frozenset[str] = frozenset(
    f.name for f in fields(Situation)
) - {"hypervisor_name", "instance_type", "vm_name", "host_name", "evidence", "alternatives"}

#: Where identity's hidden-hypervisor witnesses come from (assess/identity.py step 6).
HIDDEN_WITNESSES = tuple(sorted(HIDDEN_WITNESS_SOURCES))

#: Which assessment evidence backs a field: (part, source prefixes). Prefixes narrow a
#: part's evidence to the observations that matter; none matching keeps the whole part.
_EVIDENCE_FOR: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "place": ("hypervisor", ("CPUID.0x1:ECX[31]", "CPUID.0x40000000", "CPUID.0x40000003",
                             *PASTE_HYPERVISOR, *HIDDEN_WITNESSES)),
    "outer": ("hypervisor", ("CPUID.0x40000000", "CPUID.0x40000001", "CPUID.0x40000002",
                             "/sys/hypervisor", "/sys/class/dmi/id/sys_vendor",
                             "/sys/class/dmi/id/product", *WINDOWS_IDENTITY,
                             *HIDDEN_WITNESSES)),
    "cloud": ("hypervisor", ("/sys/class/dmi/id/sys_vendor", "/sys/class/dmi/id/product",
                             "/sys/class/dmi/id/chassis", "DMI.")),
    "cpu": ("cpu", ("CPUID.0x0:",)),
    "exposed": ("virtualization", ("CPUID.0x1:ECX[5]", "CPUID.0x80000001:ECX[2]",
                                   "/proc/cpuinfo", *PASTE_VT)),
    "slat": ("virtualization", ("CPUID.0x8000000a", "/proc/cpuinfo", "IA32_VMX",
                                *WINDOWS_SLAT)),
    "firmware_disabled": ("virtualization", ("/proc/cpuinfo", "CPUID.0x1:ECX[5]",
                                             "CPUID.0x80000001:ECX[2]", *WINDOWS_FIRMWARE)),
    "kvm": ("virtualization", ("ioctl(/dev/kvm", "/dev/kvm", "/sys/module/kvm")),
    "software_nesting": ("virtualization", ("/sys/module/kvm_pvm", "/proc/modules")),
    "confidential": ("hypervisor", ("CPUID.0x4000000c", "CPUID.0x40000003:EBX[22]",
                                    "CPUID.0x8000001f", "CPUID.0x21")),
    "wsl": ("environment", ("/proc/sys/kernel/osrelease",)),
    "container": ("environment", ("/.dockerenv", "/run/.containerenv", "/proc/1/cgroup")),
    "xen_dom0": ("environment", ("/proc/xen",)),
    "xen_pv": ("environment", ("/sys/hypervisor/guest_type", "/proc/xen")),
    "depth": ("nesting", ()),
    "azure_size": ("hypervisor", ("/sys/class/dmi/id/product",)),
    "aws_type": ("hypervisor", ("/sys/class/dmi/id/product",)),
    **WINDOWS_EVIDENCE,
}

#: DMI firmware strings (bios_vendor "SeaBIOS" ...) identify a platform, but quoted in a
#: "no VT-x" verdict they read as "fix your BIOS": keep them out of reasons.
_FIRMWARE_WORDS = lazy_compile(r"bios|uefi|firmware", re.IGNORECASE)


def _parts(a: Assessment) -> Mapping[str, tuple[Evidence, ...]]:
    return {
        "cpu": a.cpu.evidence,
        "hypervisor": a.hypervisor.evidence,
        "virtualization": a.virtualization.evidence,
        "environment": a.environment.evidence,
        "nesting": a.nesting.evidence,
    }


def _evidence(a: Assessment) -> dict[str, tuple[Evidence, ...]]:
    parts = _parts(a)
    # each part's pool without firmware words, filtered once (not once per name: ~30x)
    plain = {part: tuple(e for e in pool if not _FIRMWARE_WORDS.search(f"{e.claim} {e.source}"))
             for part, pool in parts.items()}
    out: dict[str, tuple[Evidence, ...]] = {}
    for name, (part, prefixes) in _EVIDENCE_FOR.items():
        # firmware evidence is the point of that verdict only
        pool = parts[part] if name == "firmware_disabled" else plain[part]
        chosen = tuple(e for e in pool if e.source.startswith(prefixes)) if prefixes else pool
        out[name] = chosen or pool
    return out


def _place(a: Assessment) -> Place:
    hv = a.hypervisor
    if hv.emulated:
        return "emulator"
    if hv.partition == "root":
        return "hyperv-root"
    if hv.partition == "l1vh":
        return "hyperv-l1vh"
    if hv.partition == "root-or-guest":
        return "root-or-guest"
    if hv.detected or hv.hidden:
        return "vm"
    # No hypervisor visible. Only the nesting assessment can say it is really L0;
    # otherwise a hypervisor may be hiding (VirtualBox with paravirtualization "None").
    return "bare-metal" if a.nesting.level == 0 else "unseen"


def _outer(a: Assessment, place: Place) -> tuple[Outer, str]:  # noqa: PLR0911 (a case table, read top to bottom)
    vendor = a.hypervisor.vendor
    if place == "emulator":
        # QEMU TCG shows a signature; an OS-level x86 emulator (Windows on Arm) shows none.
        return ("none", "") if vendor is None else ("other", a.hypervisor.product or vendor)
    if place not in ("vm", "hyperv-l1vh"):
        return "none", ""
    row = _VENDOR_BY_ID.get(vendor or "")
    if row is not None:
        alternatives = [_VENDOR_BY_ID[v].name for v in a.hypervisor.alternatives
                        if v in _VENDOR_BY_ID]
        if alternatives and a.hypervisor.identified != "high":
            return row.outer, f"{row.name} or a hypervisor emulating its interface"
        return row.outer, row.name
    if vendor is None and a.hypervisor.hidden:
        return "hidden", "a hypervisor that hides itself"
    if vendor in (None, "unknown"):
        return "unidentified", "an unidentified hypervisor"
    return "other", a.hypervisor.product or vendor or "another hypervisor"


def _alternatives(a: Assessment, outer: Outer) -> tuple[Outer, ...]:
    out: list[Outer] = []
    for vendor in a.hypervisor.alternatives:
        row = _VENDOR_BY_ID.get(vendor)
        if row is not None and row.outer != outer and row.outer not in out:
            out.append(row.outer)
    return tuple(out)


def _depth(a: Assessment) -> Depth:
    level = a.nesting.level
    if level is None:
        return "deeper" if a.nesting.at_least >= 2 else "unknown"
    if level <= 0:
        return "l0"
    return "l1" if level == 1 else "deeper"


def _os(system: str) -> OsKind:
    low = system.lower()
    if low in ("windows", "linux"):
        return low  # type: ignore[return-value]
    return "unknown" if low in ("", "unknown") else "other"


def _xen_pv(a: Assessment) -> bool:
    """A Xen PV domU: Xen owns VT-x/AMD-V, the OS facts decide (assess/hwvirt.py)."""
    return a.environment.xen_domain == "domU" and a.environment.xen_mode == "pv"


def situate(a: Assessment) -> Situation:
    """Reduce an Assessment to the fields the matrix rules match on."""
    place = _place(a)
    outer, name = _outer(a, place)
    virt = a.virtualization
    hv = a.hypervisor
    instance = hv.instance_type or ""
    win = windows_part(a.environment.windows)
    cloud: Cloud = CLOUDS.get(hv.cloud or "", "other" if hv.cloud else "none")
    return Situation(
        place=place,
        outer=outer,
        cloud=cloud,
        cpu=CPU_VENDORS.get(a.cpu.vendor or "", "other"),
        os=_os(a.environment.os),
        exposed=virt.exposed,
        slat=virt.slat,
        firmware_disabled=bool(virt.firmware_disabled),
        raw_cpuid=virt.vmx is not None,
        kvm=virt.kvm_device,
        software_nesting=virt.software_nesting_only,
        confidential=hv.confidential is not None and place in ("vm", "hyperv-l1vh"),
        wsl=a.environment.wsl,
        container=a.environment.container is not None,
        xen_dom0=a.environment.xen_domain == "dom0",
        xen_pv=_xen_pv(a),
        depth=_depth(a),
        azure_size=azure_size(instance) if cloud == "azure" else "unknown",
        aws_type=aws_type(instance) if cloud == "aws" else "unknown",
        win_edition=win.edition,
        win_wsl2_build=win.wsl2_build,
        win_hyperv=win.hyperv,
        win_wsl=win.wsl,
        win_launch=win.launch,
        win_firmware=win.firmware,
        win_vbs=win.vbs,
        alternatives=_alternatives(a, outer),
        hypervisor_name=name,
        instance_type=instance,
        vm_name=win.vm_name,
        host_name=win.host_name,
        evidence=_evidence(a),
    )
