"""Which hypervisor (if any) this OS talks to, with evidence.

Reads CPUID only through ``snapshot.cpuid.get`` and OS files only through
``snapshot.os``; a file the source did not look at (None) is "cannot tell", never
"absent". Several signatures from one hypervisor are compatibility interfaces, not
nesting (VW virt-what-cpuid-helper.c: Viridian sits at 0x40000000, the true hypervisor higher).

:func:`assess_hypervisor` in named steps: :func:`_presence` (the bit, or a pasted tool's
word), :func:`_scan` (every base; rejected and extra signatures said), :func:`_resolve`
(who answers), :func:`_partition` (Hyper-V's, or "root-or-guest" from a paste alone),
:func:`_extras` (PVM, cloud, confidential computing, CPU emulation).

Resolution order of :func:`_resolve`, as systemd's ``detect_vm()`` reads (the first step
that names a product wins; every step's evidence is kept):

1. ``_dmi_product``        DMI names VirtualBox or Parallels: they reuse KVM's signature.
2. ``_specific_signature`` a product's own signature at any base beats ``Microsoft Hv``
                           (QEMU/KVM and Xen publish Hyper-V enlightenments at 0x40000000
                           and their own at 0x40000100); KVM's signature with VirtualBox's
                           KVM-provider feature set is VirtualBox.
3. ``_hyperv_interface``   ``Microsoft Hv`` alone: DMI naming QEMU/KVM or Xen, then the
                           version leaf (an emulator's default identity), else Microsoft
                           Hyper-V -- "or a hypervisor emulating its interface" unless the
                           version carries Microsoft's service numbers.
4. ``_unknown_signature``  signatures no table knows: "unknown".
5. ``_os_signals``         no signature: Xen's sysfs, DMI naming a VM, a virtual-only CPU
                           name, the bit, the kernel's hypervisor flag or a pasted Windows
                           tool's "hypervisor present" ("unknown"; with only a paste that
                           cannot tell, partition "root-or-guest").
6. ``_hidden_hypervisor``  nothing shows one, yet a hypervisor hides: the co-masked
                           features on a CPU that has VT-x/AMD-V, VM-like exit latency.

Then ``_xen_on_top``: Xen's OS interface (/proc/xen, /sys/hypervisor) with another
product's CPUID signature is a Xen PV kernel whose CPUID Xen does not intercept: Xen is
the nearest hypervisor, and the signature names the one below it.

DMI is read from wherever the snapshot has it (sysfs, the raw SMBIOS table, the Windows
registry's copy, a paste; decode/dmi.py ``read_dmi_sourced``): a DMI hit carries the path it
was read from.
"""

from __future__ import annotations

from nestprobe.assess import winreported
from nestprobe.assess.bands import classify
from nestprobe.assess.cpu import BRAND, CPUINFO, MASK_READ, assess_cpu, cpuid_unavailable
from nestprobe.decode import cpu, cpuinfo, cpumodels, dmi, masks
from nestprobe.decode.interfaces import (
    HV_INTERFACE_TEXT,
    FoundInterface,
    decode_interface,
    rejected,
    scan,
)
from nestprobe.decode.signatures import (
    EMULATOR_BRAND_PREFIXES,
    EMULATOR_CPU_VENDORS,
    vendor_name,
)
from nestprobe.model.assessment import (
    Confidence,
    CpuIdentity,
    HyperVFacts,
    HypervisorFacts,
    HypervisorInterface,
)
from nestprobe.model.evidence import Evidence, cpuid_source
from nestprobe.model.facts import Partition
from nestprobe.model.record import Record
from nestprobe.model.snapshot import CpuidTable, Registers, Snapshot
from nestprobe.model.typeshim import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    from nestprobe.decode.winreport import Reported

HV_BASE = 0x40000000
#: systemd trusts DMI over CPUID for these "even if they use KVM" (virt.c detect_vm).
DMI_OVER_KVM = {"oracle": "VirtualBox", "parallels": "Parallels"}
#: "Microsoft Hv" alone with DMI naming another product: that product, signature hidden.
HV_BEHIND_DMI = {
    "kvm": ("kvm", "KVM with Hyper-V enlightenments (KVM signature hidden)"),
    "qemu": ("kvm", "KVM with Hyper-V enlightenments (KVM signature hidden)"),
    "xen": ("xen", "Xen with Viridian (Xen signature hidden)"),
}
#: Products that publish Hyper-V enlightenments at 0x40000000 and their own signature above.
WITH_HV = {
    "kvm": "KVM with Hyper-V enlightenments",
    "xen": "Xen with Viridian (Hyper-V enlightenments)",
}
HV_PROVIDER = {"oracle": "VirtualBox (Hyper-V paravirtualization provider)"}
#: Every source a hidden-hypervisor witness is read from (nesting and verdict reasons).
HIDDEN_WITNESS_SOURCES = frozenset({
    MASK_READ, "CPUID.0x80000001:ECX,EDX", f"{CPUINFO}:flags", BRAND, "timing:band"})
#: A timing band this sure of a VM is a witness on its own (assess/bands.py).
TIMING_WITNESS = frozenset({"medium", "high"})



class _Choice(Record):
    vendor: str | None
    product: str | None
    evidence: tuple[Evidence, ...]
    alternatives: tuple[str, ...] = ()
    identified: Confidence = "high"
    hidden: bool = False


def _sig_evidence(found: FoundInterface) -> Evidence:
    return Evidence(
        f"hypervisor signature at {found.base:#x}", cpuid_source(found.base, "ebx,ecx,edx"),
        found.signature,
    )


#: A DMI vendor match: (where it was read, the value, the row). ``dmi.dmi_vendor`` gives the
#: DMI key first; :func:`_dmi_hit` swaps in the path the snapshot read it from.
DmiHit = tuple[str, str, dmi.DmiVendor]


def _dmi_hit(read: Mapping[str, tuple[str, str]]) -> DmiHit | None:
    hit = dmi.dmi_vendor({key: value for key, (value, _) in read.items()})
    return (read[hit[0]][1], hit[1], hit[2]) if hit is not None else None


def _dmi_evidence(hit: DmiHit | None, claim: str) -> tuple[Evidence, ...]:
    return (Evidence(claim, hit[0], hit[1]),) if hit else ()


def _dmi_product(
    found: list[FoundInterface], hit: DmiHit | None,
) -> _Choice | None:
    """Step 1: DMI decides for VirtualBox/Parallels, which reuse KVM's signature."""
    if hit is None or hit[2].vendor_id not in DMI_OVER_KVM or not found:
        return None
    vid = hit[2].vendor_id
    ids = sorted({f.known.vendor_id for f in found if f.known is not None})
    via = ", ".join(vendor_name(i) or i for i in ids) or "no known signature"
    return _Choice(vid, f"{DMI_OVER_KVM[vid]} ({via} paravirtual interface)",
                   _dmi_evidence(hit, f"DMI names {vid}"))


def _specific_signature(snapshot: Snapshot, found: list[FoundInterface]) -> _Choice | None:
    """Step 2: the first product-specific signature, unless it is only Hyper-V's."""
    specific = [f for f in found if f.known is not None and f.known.vendor_id != "microsoft"]
    if not specific:
        return None
    top = specific[0]
    assert top.known is not None
    vendor, product = top.known.vendor_id, top.known.product
    ev = [_sig_evidence(top)]
    has_hv = any(f.interface == HV_INTERFACE_TEXT for f in found)
    if vendor == "kvm" and top.interface != HV_INTERFACE_TEXT:
        from nestprobe.decode import kvm  # the vendor decoders: only under their signature

        features = snapshot.cpuid.get(top.base + 1)
        if features is not None and kvm.is_virtualbox(features):
            ev.append(Evidence(
                "KVM signature with exactly VirtualBox's KVM-provider features "
                f"({kvm.VIRTUALBOX_SOURCE}): VirtualBox, not KVM",
                cpuid_source(top.base + 1, "eax"), f"{features.eax:#010x}"))
            return _Choice("oracle", "VirtualBox (KVM paravirtualization provider)",
                           tuple(ev), alternatives=("kvm",))
    if any(f.known is not None and f.known.vendor_id == "microsoft" for f in found) or (
            has_hv and top.interface != HV_INTERFACE_TEXT):
        product = WITH_HV.get(vendor, f"{product} with a Hyper-V-compatible interface")
    elif top.interface == HV_INTERFACE_TEXT:
        product = HV_PROVIDER.get(vendor, f"{product} with a Hyper-V-compatible interface")
    return _Choice(vendor, product, tuple(ev))


def _hyperv_interface(
    found: list[FoundInterface], hit: DmiHit | None,
    hv: HyperVFacts | None,
) -> _Choice | None:
    """Step 3: ``Microsoft Hv`` alone. Who really answers behind it?"""
    ms = next((f for f in found if f.known is not None and f.known.vendor_id == "microsoft"),
              None)
    if ms is None:
        return None
    sig = _sig_evidence(ms)
    dmi_id = hit[2].vendor_id if hit else None
    if dmi_id in HV_BEHIND_DMI:
        vendor, product = HV_BEHIND_DMI[dmi_id]
        return _Choice(vendor, product, (sig, *_dmi_evidence(hit, f"DMI names {dmi_id}")),
                       alternatives=("microsoft",))
    if hv is not None and hv.emulator is not None:
        vendor = hv.emulator
        name = "KVM/QEMU" if vendor == "kvm" else "Xen"
        return _Choice(vendor, f"{name} presenting a Hyper-V interface (its own signature "
                       "hidden), or Microsoft Hyper-V", (sig,), alternatives=("microsoft",),
                       identified="medium")
    if hv is not None and hv.build is not None:
        return _Choice("microsoft", "Microsoft Hyper-V", (sig,))
    return _Choice("microsoft", "Microsoft Hyper-V, or a hypervisor emulating its interface",
                   (sig,), alternatives=("kvm",), identified="medium")


def _unknown_signature(found: list[FoundInterface]) -> _Choice | None:
    """Step 4: signatures no table knows."""
    if not found:
        return None
    return _Choice("unknown", None, tuple(_sig_evidence(f) for f in found))


class _Signals(Record):
    xen: bool
    kernel_flag: bool | None
    evidence: tuple[Evidence, ...]


def _os_signals(snapshot: Snapshot) -> _Signals:
    """Hypervisor hints from the OS: Xen files, the cpuinfo ``hypervisor`` flag."""
    ev: list[Evidence] = []
    xen = False
    hv_type = snapshot.os.text("/sys/hypervisor/type")
    if hv_type is not None and hv_type.strip() == "xen":
        xen = True
        ev.append(Evidence("Xen hypervisor (sysfs)", "/sys/hypervisor/type", "xen"))
    elif snapshot.os.state("/proc/xen") == "dir":
        xen = True
        ev.append(Evidence("Xen domain (/proc/xen present)", "/proc/xen", "dir"))
    flag: bool | None = None
    text = cpuinfo.x86_text(snapshot.os)
    if text is not None and (flags := cpuinfo.flags(text)) is not None:
        flag = "hypervisor" in flags
        ev.append(Evidence("kernel reports the hypervisor flag" if flag
                           else "kernel does not report the hypervisor flag",
                           f"{CPUINFO}:flags", flag))
    return _Signals(xen=xen, kernel_flag=flag, evidence=tuple(ev))


def _qemu_cpu_model(snapshot: Snapshot) -> Evidence | None:
    """A QEMU CPU model name, from the brand string or the kernel's cpuinfo."""
    brand = cpu.brand_of(snapshot.cpuid)
    if brand is not None and "QEMU" in brand:
        return Evidence("QEMU CPU model", BRAND, brand)
    text = cpuinfo.x86_text(snapshot.os)
    model = cpuinfo.field(text, "model name") if text is not None else None
    if model is not None and "QEMU" in model:
        return Evidence("QEMU CPU model", f"{CPUINFO}:model name", model)
    return None


def _without_signature(
    snapshot: Snapshot, cpu_id: CpuIdentity, bit: bool | None, signals: _Signals,
    hit: DmiHit | None, *, reported: Reported | None,
) -> _Choice | None:
    """Step 5: no signature, but the OS, DMI, the CPU name or the bit shows a VM."""
    if signals.xen:
        return _Choice("xen", "Xen", ())
    cloud_guest = (hit is not None and reported is not None and bool(reported.value)
                   and hit[2].vendor_id in {"amazon", "google"}
                   and not _metal(hit, dmi.read_dmi_sourced(snapshot.os)))
    if hit is not None and (hit[2].vendor_id not in {"amazon", "google"} or cloud_guest):
        # On a cloud, CPUID names the hypervisor (KVM, Xen, Nitro) and DMI only the cloud;
        # a pasted Windows tool has no CPUID, so the cloud's DMI names whose guest this is.
        vendor = hit[2].vendor_id
        ev = [Evidence(f"DMI names {vendor} (no CPUID signature)", hit[0], hit[1])]
        if vendor == "bochs" and (qemu_cpu := _qemu_cpu_model(snapshot)) is not None:
            # "Bochs" is the SMBIOS default of QEMU's SeaBIOS; with a QEMU CPU model and no
            # KVM signature this is QEMU itself (virt-what: cpuinfo "QEMU" => qemu).
            vendor = "qemu"
            ev.append(qemu_cpu)
        return _Choice(vendor, None, tuple(ev))
    virtual = cpumodels.virtual_model(cpu_id.brand)
    if virtual is not None and virtual.product.startswith("QEMU"):
        # QEMU names its models; whether KVM or TCG runs them, QEMU's switch applies.
        return _Choice("qemu", f"{virtual.product}, hypervisor not named by CPUID",
                       (Evidence(f"CPU name of a {virtual.product}", BRAND, cpu_id.brand),),
                       identified="medium", hidden=not bit and not signals.kernel_flag)
    if reported is not None and reported.value:  # no CPUID: a Windows tool's word
        return _Choice("unknown", None, (Evidence(
            "a hypervisor is present but does not identify itself", reported.source,
            reported.shown, about="hypervisor"),))
    if bit or signals.kernel_flag:
        return _Choice("unknown", None, (Evidence(
            "a hypervisor is present but does not identify itself",
            *((cpuid_source(1, "ecx", 31), 1) if bit else (f"{CPUINFO}:flags", "hypervisor")),
        ),))
    return None


def _hidden_hypervisor(snapshot: Snapshot, cpu_id: CpuIdentity) -> _Choice | None:
    """Step 6: no hypervisor shows itself; is there positive evidence that one hides?
    (Not asked under a CPU emulator: the emulator is what answers, and it masks alike.)"""
    ev: list[Evidence] = []
    if cpu_id.virtual_model:
        ev.append(Evidence("a virtual-only CPU name with the hypervisor bit clear",
                           BRAND, cpu_id.brand))
    if cpu_id.feature_mask == "masked" and cpu_id.extension_expected is not None:
        read = next((e.source for e in cpu_id.evidence if e.value == "masked"), MASK_READ)
        leaf1, ext = snapshot.cpuid.get(1), snapshot.cpuid.get(cpu.EXT_FEATURES_LEAF)
        shown = (leaf1 is not None and cpu.vmx(leaf1)) or (ext is not None and cpu.svm(ext))
        what = ("the features hypervisors hide with VT-x/AMD-V are all missing" if shown else
                "it and the features hypervisors hide with it are all missing")
        ev.append(Evidence(
            f"this CPU has VT-x/AMD-V, yet {what}: a hypervisor's mask, as "
            f"{masks.MASK_SOURCE} apply it (turning VT-x off at power-on never clears a CPUID "
            "bit)", read, "masked"))
    record = snapshot.latency
    if record is not None:
        call = classify(record)
        if call.likely > 0 and call.confidence in TIMING_WITNESS:
            ev.append(Evidence(f"CPUID exits like a VM ({call.band.name} band, "
                               f"{call.confidence} confidence)", "timing:band", call.band.name))
    if not ev:
        return None
    return _Choice(None, "a hypervisor that hides itself (no hypervisor bit, no signature)",
                   tuple(ev), identified="low", hidden=True)


def _interfaces(snapshot: Snapshot, found: list[FoundInterface]) -> tuple[HypervisorInterface, ...]:
    return tuple(
        HypervisorInterface(
            base=f.base,
            max_leaf=f.max_leaf,
            signature=f.signature,
            vendor_id=f.known.vendor_id if f.known is not None else None,
            interface=f.interface,
            decoded=decode_interface(snapshot.cpuid, f),
        )
        for f in found
    )


def _confidential(
    snapshot: Snapshot, hv: HyperVFacts | None, detected: bool,
) -> tuple[str | None, list[Evidence]]:
    """TDX, Hyper-V isolation or SEV, each decoder imported only where its leaf is here."""
    table = snapshot.cpuid
    tdx = table.get(cpu.TDX_LEAF)
    if tdx is not None:
        from nestprobe.decode import confidential

        if confidential.tdx_signature(tdx) == confidential.TDX_IDENT:
            return "tdx", [Evidence("Intel TDX guest", "CPUID.0x21:EBX,EDX,ECX",
                                    confidential.decode_tdx(tdx)["signature"])]
    if hv is not None and hv.isolation:
        from nestprobe.decode import hyperv

        iso = table.get(hv.base + 0x0C)
        kind = hyperv.isolation_type(iso) if iso is not None else None
        label = {"vbs": "hyperv-vbs", "snp": "sev-snp", "tdx": "tdx"}.get(kind or "")
        if label is not None:
            return label, [Evidence(f"Hyper-V isolated partition ({kind})",
                                    cpuid_source(hv.base + 0x0C, "ebx", 0, 3), kind)]
    sev = table.get(cpu.SEV_LEAF)
    if not detected or sev is None:
        return None, []
    from nestprobe.decode import confidential

    level = confidential.sev_level(sev)
    if level is None:
        return None, []
    # Only the capability: whether this guest runs encrypted is in MSR 0xC0010131
    # (ring 0). Firecracker passes the host's 0x8000001F through to plain guests.
    return None, [Evidence(f"{level} capability passed through (not proof of a SEV guest)",
                           cpuid_source(cpu.SEV_LEAF, "eax"), f"{sev.eax:#010x}")]


def _pvm_guest(snapshot: Snapshot, found: list[FoundInterface]) -> Evidence | None:
    for f in found:
        if f.known is not None and f.known.vendor_id == "kvm" and f.interface is None:
            from nestprobe.decode import kvm

            leaf = snapshot.cpuid.get(f.base + 2)
            if leaf is not None and kvm.is_pvm(leaf):
                return Evidence("PVM guest (pagetable-based software nesting)",
                                cpuid_source(f.base + 2, "ebx"), f"{leaf.ebx:#010x}")
    return None


def _emulated(snapshot: Snapshot, found: list[FoundInterface]) -> list[Evidence]:
    ev = [
        Evidence(f"CPU emulator: {f.known.product}", cpuid_source(f.base, "ebx,ecx,edx"),
                 f.signature)
        for f in found if f.known is not None and f.known.emulated
    ]
    leaf0 = snapshot.cpuid.get(0)
    if leaf0 is not None and (v := cpu.vendor(leaf0)) in EMULATOR_CPU_VENDORS:
        ev.append(Evidence(f"CPU emulator: {EMULATOR_CPU_VENDORS[v]}", "CPUID.0x0:EBX,EDX,ECX", v))
    brand = cpu.brand_of(snapshot.cpuid)
    if brand is not None:
        for prefix, what in EMULATOR_BRAND_PREFIXES.items():
            if brand.startswith(prefix):
                ev.append(Evidence(f"CPU emulator: {what}", BRAND, brand))
    return ev


def _product(choice: _Choice, hv: HyperVFacts | None) -> str | None:
    if choice.vendor != "microsoft" or hv is None or hv.partition is None:
        return choice.product
    name = {"root": "Hyper-V root partition", "l1vh": "Hyper-V L1VH partition",
            "guest": "Hyper-V guest partition"}[hv.partition]
    if hv.nested:
        name += " (on a nested Hyper-V)"
    if choice.alternatives:
        name += ", or a hypervisor emulating Hyper-V's interface"
    return name


def _reported_hypervisor(snapshot: Snapshot) -> Reported | None:
    """What a pasted Windows tool said about a hypervisor (no CPUID leaves recorded)."""
    readiness = winreported.readiness(snapshot.os)
    return readiness.hypervisor if readiness is not None and readiness.pasted else None


def _reported_evidence(reported: Reported) -> Evidence:
    tool = reported.source.split(":", 1)[0]
    if tool == "coreinfo":
        claim = "hypervisor present bit, as Coreinfo printed it (HYPERVISOR)"
    elif reported.value:
        claim = (f"{tool} reports a hypervisor (in any VM, and on a Windows host running its "
                 "own hypervisor alike)")
    else:
        claim = f"{tool} shows the Hyper-V requirement list: Windows sees no hypervisor"
    return Evidence(claim, reported.source, reported.shown, about="hypervisor")


def _reported_vt(snapshot: Snapshot) -> bool:
    """A pasted tool shows VT-x/AMD-V reaching this OS (Coreinfo VMX/SVM *)."""
    readiness = winreported.readiness(snapshot.os)
    return readiness is not None and any(r is not None and r.value
                                         for r in (readiness.vmx, readiness.svm))


def _cloud(read: Mapping[str, tuple[str, str]]) -> tuple[str | None, str | None, list[Evidence]]:
    values = {key: value for key, (value, _) in read.items()}
    hit = dmi.cloud(values)
    if hit is None:
        return None, None, []
    rule, value = hit
    ev = [Evidence(f"cloud {rule.cloud} ({rule.source})", read[rule.key][1], value)]
    instance = None
    if rule.cloud == "aws" and (instance := dmi.ec2_instance_type(values)) is not None:
        ev.append(Evidence(f"EC2 instance type {instance}"
                           + (" (bare metal)" if instance.endswith(".metal") else ""),
                           read["product_name"][1], instance))
    return rule.cloud, instance, ev


class _Presence(Record):
    bit: bool | None  # CPUID.1:ECX[31] (or Coreinfo's copy of it)
    reported: Reported | None  # a pasted tool's word, when no leaf 1
    evidence: tuple[Evidence, ...]


def _presence(snapshot: Snapshot) -> _Presence:
    """Step 0: the hypervisor bit, or what a pasted Windows tool said instead."""
    leaf1: Registers | None = snapshot.cpuid.get(1)
    if leaf1 is not None:
        bit = cpu.hypervisor(leaf1)
        return _Presence(bit, None, (Evidence("hypervisor present bit",
                                              cpuid_source(1, "ecx", 31), int(bool(bit))),))
    reported = _reported_hypervisor(snapshot)
    if reported is not None:
        # Coreinfo prints CPUID.1:ECX[31] itself
        shown = reported.value if reported.source.startswith("coreinfo:") else None
        return _Presence(shown, reported, (_reported_evidence(reported),))
    why = cpuid_unavailable(snapshot)
    return _Presence(None, None, (why,) if why is not None else ())


def _scan(snapshot: Snapshot, bit: bool | None) -> tuple[list[FoundInterface], list[Evidence]]:
    """Step 1: every base's signature; what was ignored, and why, instead of dropping it."""
    table = snapshot.cpuid
    found = scan(table)
    ev = [Evidence(
        f'signature "{bad.signature}" at {bad.base:#x} ignored: {bad.reason}, so it is '
        "not a valid hypervisor interface",
        cpuid_source(bad.base, "eax"), f"{bad.max_leaf:#010x}",
    ) for bad in rejected(table)]
    if len(found) > 1:
        ev.append(Evidence(
            f"{len(found)} interfaces published by one hypervisor (compatibility, not nesting)",
            "CPUID.0x40000000-0x4000ff00", ", ".join(f"{f.base:#x}" for f in found),
        ))
    if bit is False and found:
        ev.append(Evidence("signature published with the hypervisor bit clear (bit hidden)",
                           cpuid_source(found[0].base, "ebx,ecx,edx"), found[0].signature))
    return found, ev


class _Seen(Record):
    """What every witness showed, for the resolution and the steps after it."""

    presence: _Presence
    found: tuple[FoundInterface, ...]
    dmi_read: Mapping[str, tuple[str, str]]
    hit: DmiHit | None
    hv: HyperVFacts | None
    signals: _Signals
    emulated: tuple[Evidence, ...]


def _resolve(snapshot: Snapshot, cpu_id: CpuIdentity, seen: _Seen) -> _Choice:
    """Steps 1-6 of the module docstring: the first that names a product wins."""
    found = list(seen.found)
    return (
        _dmi_product(found, seen.hit)
        or _specific_signature(snapshot, found)
        or _hyperv_interface(found, seen.hit, seen.hv)
        or _unknown_signature(found)
        or _without_signature(snapshot, cpu_id, seen.presence.bit, seen.signals, seen.hit,
                              reported=seen.presence.reported)
        or (None if seen.emulated else _hidden_hypervisor(snapshot, cpu_id))
        or _Choice(None, None, ())
    )


def _xen_on_top(choice: _Choice, seen: _Seen) -> _Choice:
    """Xen's OS interface with another product's signature: Xen runs on that product.

    A Xen PV kernel's CPUID is not always intercepted by Xen, so the signature it reads
    can be the hypervisor below Xen. Xen is then the nearest hypervisor (it owns VT-x
    here); the product names the one below it, and ``interfaces`` keep its signature."""
    if not seen.signals.xen or choice.vendor in (None, "xen", "unknown") or not seen.found:
        return choice
    below = choice.product or choice.vendor or "another hypervisor"
    top = seen.found[0]
    ev = Evidence(f"Xen's OS interface with {below}'s CPUID signature: a Xen PV kernel's CPUID "
                  f"is not intercepted, so {below} runs below Xen",
                  cpuid_source(top.base, "ebx,ecx,edx"), top.signature)
    return _Choice("xen", f"Xen, running on {below}", (*choice.evidence, ev),
                   identified=choice.identified)


def _detected(choice: _Choice, seen: _Seen) -> bool:
    reported = seen.presence.reported
    return (bool(seen.presence.bit) or bool(seen.found) or bool(seen.signals.kernel_flag)
            or seen.signals.xen or (choice.vendor is not None and not choice.hidden)
            or bool(reported is not None and reported.value))


def _metal(hit: DmiHit, read: Mapping[str, tuple[str, str]]) -> bool:
    """An EC2 bare-metal instance (``m5.metal``): Amazon's DMI names, no hypervisor below."""
    values = {key: value for key, (value, _) in read.items()}
    instance = dmi.ec2_instance_type(values)
    return hit[2].vendor_id == "amazon" and instance is not None and instance.endswith(".metal")


def _paste_root(read: Mapping[str, tuple[str, str]], hit: DmiHit | None,
                reported: Reported | None, vendor: str | None) -> Evidence | None:
    """A pasted Windows tool reports a hypervisor and the machine names physical hardware:
    the Windows hypervisor runs on it, so this Windows is its root partition (a VM names its
    hypervisor's virtual hardware: decode/dmi.py). None when either is missing."""
    if reported is None or not reported.value or vendor != "unknown":
        return None
    values = {key: value for key, (value, _) in read.items()}
    if hit is not None and not _metal(hit, read):
        return None
    found = dmi.physical(values) if hit is None else ("product_name", values["product_name"])
    if found is None:
        return None
    key, value = found
    model = values.get("product_name", "") if key == "sys_vendor" else ""
    shown = f"{value} {model}".strip() if dmi.named(model) else value
    return Evidence(
        f"the machine names physical hardware ({shown}) and Windows reports a hypervisor: "
        "the Windows hypervisor runs on this machine and this Windows is its root partition "
        "(Hyper-V, WSL 2, Sandbox or VBS); DMI names are the firmware's own and can be "
        "changed, so a VM set up to show physical names would read the same", read[key][1],
        value, about="partition")


def _partition(snapshot: Snapshot, choice: _Choice, seen: _Seen,
               ev: list[Evidence]) -> tuple[Partition | None, str | None]:
    """Hyper-V's partition type; "root-or-guest" when only a Windows tool says so."""
    partition = seen.hv.partition if seen.hv is not None else None
    product = _product(choice, seen.hv)
    reported = seen.presence.reported
    root_by_dmi = (_paste_root(seen.dmi_read, seen.hit, reported, choice.vendor)
                   if partition is None and not _reported_vt(snapshot) else None)
    if root_by_dmi is not None:
        ev.append(root_by_dmi)
        return ("root", "Microsoft Hyper-V (this Windows is the root partition on physical "
                "hardware)")
    if (partition is None and reported is not None and reported.value
            and choice.vendor == "unknown" and not _reported_vt(snapshot)):
        # Only a Windows tool says so: inside any VM, and on a Windows host whose hypervisor
        # runs (Hyper-V, WSL2, VBS), alike. The root hides VT-x: VT-x seen means a guest.
        partition = "root-or-guest"
        product = "a hypervisor, with this Windows as its root partition or as its guest"
        ev.append(Evidence(
            "a hypervisor is present: this Windows is either the root partition of its own "
            "hypervisor (Hyper-V, WSL2, Sandbox or VBS running) or a guest VM; this output "
            "cannot tell which", reported.source, reported.shown, about="hypervisor"))
    if choice.vendor not in (None, "unknown") and product is None:
        product = vendor_name(choice.vendor)  # a name people read, never the id
    return partition, product


def _hyperv(table: CpuidTable, found: list[FoundInterface]) -> HyperVFacts | None:
    """The Hyper-V view (assess/hyperv.py) where an interface publishes ``Hv#1``; None
    elsewhere, as read_hyperv says, without importing Hyper-V's decoder."""
    if not any(f.interface == HV_INTERFACE_TEXT for f in found):
        return None
    from nestprobe.assess.hyperv import read_hyperv

    return read_hyperv(table, found)


def _gather(snapshot: Snapshot, presence: _Presence) -> tuple[_Seen, list[Evidence]]:
    found, scan_ev = _scan(snapshot, presence.bit)
    dmi_read = dmi.read_dmi_sourced(snapshot.os)
    seen = _Seen(presence, tuple(found), dmi_read, _dmi_hit(dmi_read),
                 _hyperv(snapshot.cpuid, found), _os_signals(snapshot),
                 tuple(_emulated(snapshot, found)))
    return seen, [*presence.evidence, *scan_ev]


def assess_hypervisor(snapshot: Snapshot, cpu_id: CpuIdentity | None = None) -> HypervisorFacts:
    """Scan all 256 bases and resolve who answers, in the order the module docstring gives."""
    cpu_id = cpu_id if cpu_id is not None else assess_cpu(snapshot)
    seen, ev = _gather(snapshot, _presence(snapshot))
    choice = _xen_on_top(_resolve(snapshot, cpu_id, seen), seen)
    ev.extend((*choice.evidence, *seen.signals.evidence))
    detected = _detected(choice, seen)
    if not detected and not choice.hidden and seen.presence.bit is False:
        ev.append(Evidence("no hypervisor bit and no signature at any base",
                           "CPUID.0x40000000-0x4000ff00", 0))
    if seen.hv is not None:
        ev.extend(seen.hv.evidence)
    partition, product = _partition(snapshot, choice, seen, ev)
    product, cloud, instance, conf = _extras(snapshot, seen, product, detected, ev)
    return HypervisorFacts(
        bit=seen.presence.bit, detected=detected, vendor=choice.vendor,
        interfaces=_interfaces(snapshot, list(seen.found)), partition=partition,
        product=product, cloud=cloud, instance_type=instance, confidential=conf,
        emulated=bool(seen.emulated), alternatives=choice.alternatives,
        identified=choice.identified, hidden=choice.hidden, hyperv=seen.hv,
        evidence=tuple(ev))


def _extras(snapshot: Snapshot, seen: _Seen, product: str | None, detected: bool,
            ev: list[Evidence]) -> tuple[str | None, str | None, str | None, str | None]:
    """What every answer carries: PVM (it names the product then), the cloud and instance
    type, confidential computing; CPU emulation's evidence. Decided before the facts are
    made, once, rather than by a replace() of them all."""
    if (pvm := _pvm_guest(snapshot, list(seen.found))) is not None:
        ev.append(pvm)
        product = "KVM PVM guest (software nesting)"
    cloud, instance, cloud_ev = _cloud(seen.dmi_read)
    conf, conf_ev = _confidential(snapshot, seen.hv, detected)
    ev.extend((*cloud_ev, *conf_ev, *seen.emulated))
    return product, cloud, instance, conf
