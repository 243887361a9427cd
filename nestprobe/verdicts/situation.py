"""Situation: the few facts of an Assessment that the support matrix branches on.

Rules match on these fields only (see :mod:`nestprobe.verdicts.matrix`), so every rule
is a row of plain values and the tables below say, with a source per row, how an
Assessment's identity maps onto them. Each field also keeps the assessment evidence
behind it, which becomes the verdict's reasons.
"""

from __future__ import annotations

from nestprobe.model.assessment import Assessment
from nestprobe.model.evidence import Evidence
from nestprobe.model.facts import (
    WinComponent,
    WinEdition,
    WinFirmware,
    WinLaunch,
    WinVbs,
    WinWsl2Build,
)
from nestprobe.model.lazyre import LazyPattern, lazy_compile
from nestprobe.model.proof import ProofState
from nestprobe.model.record import Record, field, fields, replace
from nestprobe.model.typeshim import Literal, Mapping
from nestprobe.verdicts import sources

Place = Literal["bare-metal", "unseen", "hyperv-root", "hyperv-l1vh", "vm", "emulator",
                "root-or-guest"]
Outer = Literal[
    "none", "hyperv", "kvm", "vmware", "virtualbox", "xen", "parallels", "other", "unidentified",
    "hidden",
]
Cloud = Literal["azure", "aws", "gcp", "other", "none"]
CpuKind = Literal["intel", "amd", "other"]
OsKind = Literal["windows", "linux", "other", "unknown"]
#: "at-least-l1": in a VM (or Xen on another hypervisor), how deep is not fixed.
Depth = Literal["l0", "l1", "at-least-l1", "deeper", "unknown"]
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

    pattern: LazyPattern  # over the size name without "Standard_", case-sensitive
    status: AzureSize
    why: str
    source: str


#: First match wins. Names: Standard_<Family><vCPUs><features>[_v<gen>], e.g. D4s_v5.
AZURE_SIZES: tuple[SizeRow, ...] = (
    SizeRow(lazy_compile(r"^(DC|EC)"), "not-capable", "confidential families", sources.AZURE_SIZES),
    SizeRow(lazy_compile(r"^B"), "not-capable", "burstable B-series", sources.AZURE_SIZES),
    SizeRow(lazy_compile(r"^A"), "not-capable", "A-series", sources.AZURE_ACU),
    SizeRow(lazy_compile(r"^(HB|HX|HC|H\d)"), "not-capable", "HPC families", sources.AZURE_ACU),
    SizeRow(lazy_compile(r"^[DE]\d+[a-z]*p[a-z]*_v\d"), "not-capable", "Arm64 (Cobalt/Ampere)",
            sources.AZURE_SIZES),
    SizeRow(lazy_compile(r"^[DE]\d+[a-z]*a[a-z]*_v4$"), "not-capable",
            "AMD v4 (Dav4/Dasv4/Eav4/Easv4)", sources.AZURE_SIZES),
    SizeRow(lazy_compile(r"^[DE]\d+[a-z]*a[a-z]*_v([5-9]|\d\d)$"), "capable", "AMD v5 or later",
            sources.AZURE_SIZES),
    SizeRow(lazy_compile(r"^DS?\d+[a-z]*(_v2)?$"), "not-capable", "Dv2/DSv2 and older",
            sources.AZURE_ACU),
    SizeRow(lazy_compile(r"^[DE]\d+[a-z]*_v([3-9]|\d\d)$"), "capable", "Intel D/E v3 or later",
            sources.AZURE_ACU),
    SizeRow(lazy_compile(r"^F\d+s?_v2$"), "capable", "Fsv2", sources.AZURE_ACU),
    SizeRow(lazy_compile(r"^FX\d"), "capable", "FX", sources.AZURE_ACU),
    SizeRow(lazy_compile(r"^M\d"), "capable", "M-series", sources.AZURE_ACU),
)

#: AWS: virtual types nest only on 8th-generation Intel (C8i/M8i/R8i, flex and d variants).
AWS_NESTED_FAMILIES = lazy_compile(r"^(c8i|m8i|r8i)(d|-flex)?\.")


def azure_size(instance_type: str | None) -> AzureSize:
    if not instance_type:
        return "unknown"
    name = instance_type.removeprefix("Standard_").removeprefix("standard_")
    for row in AZURE_SIZES:
        if row.pattern.found_in(name):
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
    cpuid_ok: bool  # CPUID could be executed (or a dump holds its leaves) at all
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
    #: A VM created here (``--prove``): what its run showed; None without a proof.
    proof: ProofState | None = None
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

#: Situation field -> the fact whose evidence backs it (assess/facts.py chose it).
_FACT_FOR: Mapping[str, str] = {
    "place": "present", "outer": "hypervisor", "cloud": "cloud", "cpu": "cpu_vendor",
    "exposed": "exposed", "slat": "slat", "firmware_disabled": "firmware_disabled",
    "kvm": "kvm", "software_nesting": "software_nesting", "confidential": "confidential",
    "wsl": "wsl", "container": "container", "xen_dom0": "xen_domain", "xen_pv": "xen_mode",
    "depth": "level", "azure_size": "instance_type", "aws_type": "instance_type",
    "win_edition": "win_edition", "win_wsl2_build": "win_build", "win_hyperv": "hyperv_role",
    "win_wsl": "wsl_installed", "win_launch": "win_launch", "win_firmware": "win_firmware",
    "win_vbs": "win_vbs", "proof": "proof",
}


def _evidence(a: Assessment) -> dict[str, tuple[Evidence, ...]]:
    facts = a.facts
    return {name: getattr(facts, fact).evidence for name, fact in _FACT_FOR.items()}


def _place(a: Assessment) -> Place:
    f = a.facts
    if f.emulated.value:
        return "emulator"
    if f.partition.value == "root":
        return "hyperv-root"
    if f.partition.value == "l1vh":
        return "hyperv-l1vh"
    if f.partition.value == "root-or-guest":
        return "root-or-guest"
    if f.present.value or f.hidden.value:
        return "vm"
    # No hypervisor visible. Only the nesting assessment can say it is really L0;
    # otherwise a hypervisor may be hiding (VirtualBox with paravirtualization "None").
    return "bare-metal" if f.level.value == 0 else "unseen"


def _outer(a: Assessment, place: Place) -> tuple[Outer, str]:  # noqa: PLR0911 (a case table, read top to bottom)
    f = a.facts
    vendor, product = f.hypervisor.value, f.product.value
    if place == "emulator":
        # QEMU TCG shows a signature; an OS-level x86 emulator (Windows on Arm) shows none.
        return ("none", "") if vendor is None else ("other", product or vendor)
    if place not in ("vm", "hyperv-l1vh"):
        return "none", ""
    row = _VENDOR_BY_ID.get(vendor or "")
    if row is not None:
        alternatives = [_VENDOR_BY_ID[v].name for v in f.alternatives.value
                        if v in _VENDOR_BY_ID]
        if alternatives and f.identified.value != "high":
            return row.outer, f"{row.name} or a hypervisor emulating its interface"
        return row.outer, row.name
    if vendor is None and f.hidden.value:
        return "hidden", "a hypervisor that hides itself"
    if vendor in (None, "unknown"):
        return "unidentified", "an unidentified hypervisor"
    return "other", product or vendor or "another hypervisor"


def _alternatives(a: Assessment, outer: Outer) -> tuple[Outer, ...]:
    out: list[Outer] = []
    for vendor in a.facts.alternatives.value:
        row = _VENDOR_BY_ID.get(vendor)
        if row is not None and row.outer != outer and row.outer not in out:
            out.append(row.outer)
    return tuple(out)


def _depth(a: Assessment) -> Depth:
    level = a.facts.level.value
    if level is None:
        at_least = a.facts.at_least.value
        return "deeper" if at_least >= 2 else "at-least-l1" if at_least == 1 else "unknown"
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
    return a.facts.xen_domain.value == "domU" and a.facts.xen_mode.value == "pv"


def situate(a: Assessment) -> Situation:
    """Reduce an Assessment to the fields the matrix rules match on (from its facts)."""
    f = a.facts
    place = _place(a)
    outer, name = _outer(a, place)
    instance = f.instance_type.value or ""
    cloud: Cloud = CLOUDS.get(f.cloud.value or "", "other" if f.cloud.value else "none")
    situation = Situation(
        place=place,
        outer=outer,
        cloud=cloud,
        cpu=CPU_VENDORS.get(f.cpu_vendor.value or "", "other"),
        os=_os(f.os.value),
        exposed=f.exposed.value,
        slat=f.slat.value,
        firmware_disabled=bool(f.firmware_disabled.value),
        raw_cpuid=f.raw_cpuid.value,
        cpuid_ok=f.cpuid_ok.value,
        kvm=f.kvm.value,
        software_nesting=f.software_nesting.value,
        confidential=f.confidential.value is not None and place in ("vm", "hyperv-l1vh"),
        wsl=f.wsl.value,
        container=f.container.value is not None,
        xen_dom0=f.xen_domain.value == "dom0",
        xen_pv=_xen_pv(a),
        depth=_depth(a),
        azure_size=azure_size(instance) if cloud == "azure" else "unknown",
        aws_type=aws_type(instance) if cloud == "aws" else "unknown",
        proof=f.proof.value.state if f.proof.value is not None else None,
        alternatives=_alternatives(a, outer),
        hypervisor_name=name,
        instance_type=instance,
        evidence=_evidence(a),
    )
    return _with_windows(situation, a)


def _with_windows(situation: Situation, a: Assessment) -> Situation:
    """The Windows part (verdicts/winsituation.py) where this OS has one; elsewhere its
    fields keep their defaults ("n/a", ""), which is what it would say, unimported."""
    if not a.facts.has_windows:
        return situation
    from nestprobe.verdicts.winsituation import windows_part

    win = windows_part(a)
    return replace(situation, win_edition=win.edition, win_wsl2_build=win.wsl2_build,
                   win_hyperv=win.hyperv, win_wsl=win.wsl, win_launch=win.launch,
                   win_firmware=win.firmware, win_vbs=win.vbs, vm_name=win.vm_name,
                   host_name=win.host_name)
