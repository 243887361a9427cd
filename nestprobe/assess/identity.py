"""Who the CPU is and which hypervisor (if any) this OS talks to, with evidence.

Reads CPUID only through ``snapshot.cpuid.get`` and OS files only through
``snapshot.os``; a file the source did not look at (None) is "cannot tell", never
"absent". Several signatures from one hypervisor are compatibility interfaces, not
nesting (docs/reference hypervisor-cpuid.md §8.2).
"""

from __future__ import annotations

from collections.abc import Mapping

from nestprobe.decode import confidential, cpu, cpuinfo, dmi, hyperv, kvm
from nestprobe.decode.interfaces import (
    HV_INTERFACE_TEXT,
    FoundInterface,
    decode_interface,
    rejected,
    scan,
)
from nestprobe.decode.signatures import EMULATOR_BRAND_PREFIXES, EMULATOR_CPU_VENDORS
from nestprobe.model.assessment import CpuIdentity, HypervisorFacts, HypervisorInterface, Partition
from nestprobe.model.evidence import Evidence, cpuid_source
from nestprobe.model.record import Record
from nestprobe.model.snapshot import Registers, Snapshot

CPUINFO = cpuinfo.PATH
HV_BASE = 0x40000000


def _cpuid_unavailable(snapshot: Snapshot) -> Evidence | None:
    if snapshot.cpuid_status == "ok" and len(snapshot.cpuid):
        return None
    why = snapshot.cpuid_detail or f"CPUID status {snapshot.cpuid_status}"
    return Evidence("CPUID unavailable: CPU facts cannot be told", "cpuid-status", why)


# --------------------------------------------------------------------------- CPU


def assess_cpu(snapshot: Snapshot) -> CpuIdentity:
    """Vendor, brand and family/model/stepping from CPUID (cpuinfo when CPUID is absent)."""
    table = snapshot.cpuid
    ev: list[Evidence] = []
    vendor: str | None = None
    brand: str | None = None
    family = model = stepping = None
    leaf0 = table.get(0)
    if leaf0 is not None:
        vendor = cpu.vendor(leaf0)
        ev.append(Evidence(f"CPU vendor {vendor}", "CPUID.0x0:EBX,EDX,ECX", vendor))
    brand = cpu.brand_of(table)
    if brand is not None:
        ev.append(Evidence("CPU brand string", "CPUID.0x80000002-0x80000004", brand))
    leaf1 = table.get(1)
    if leaf1 is not None:
        sig = cpu.signature(leaf1)
        family, model, stepping = sig.family, sig.model, sig.stepping
        ev.append(Evidence(
            f"family {family:#x} model {model:#x} stepping {stepping}",
            cpuid_source(1, "eax"), f"{leaf1.eax:#010x}",
        ))
    text = cpuinfo.x86_text(snapshot.os)
    if text is not None:
        if vendor is None and (v := cpuinfo.field(text, "vendor_id")) is not None:
            vendor = v
            ev.append(Evidence(f"CPU vendor {v} (kernel's view)", f"{CPUINFO}:vendor_id", v))
        if brand is None and (b := cpuinfo.field(text, "model name")) is not None:
            brand = b
            ev.append(Evidence("CPU brand (kernel's view)", f"{CPUINFO}:model name", b))
    if (why := _cpuid_unavailable(snapshot)) is not None:
        ev.append(why)
    return CpuIdentity(vendor, brand, family, model, stepping, tuple(ev))


# ------------------------------------------------------------------ hypervisor


class _Choice(Record):
    vendor: str | None
    product: str | None
    evidence: tuple[Evidence, ...]


def _sig_evidence(found: FoundInterface) -> Evidence:
    return Evidence(
        f"hypervisor signature at {found.base:#x}", cpuid_source(found.base, "ebx,ecx,edx"),
        found.signature,
    )


def _choose_vendor(
    found: list[FoundInterface], dmi_hit: tuple[str, str, dmi.DmiVendor] | None,
) -> _Choice:
    """The primary hypervisor when one product publishes several interfaces.

    Order (systemd's, §5.3): DMI decides for VirtualBox/Parallels (they reuse KVM's
    signature); a specific signature beats ``Microsoft Hv`` (QEMU/KVM and Xen publish
    Hyper-V enlightenments at 0x40000000 and their own at 0x40000100); ``Microsoft Hv``
    alone is taken only when DMI names nothing else.
    """
    known = [f for f in found if f.known is not None]
    ids = [f.known.vendor_id for f in known if f.known is not None]
    dmi_id = dmi_hit[2].vendor_id if dmi_hit else None
    dmi_ev = (
        (Evidence(f"DMI names {dmi_hit[2].vendor_id}", dmi.DMI_DIR + dmi_hit[0], dmi_hit[1]),)
        if dmi_hit else ()
    )
    has_hv = any(f.interface == HV_INTERFACE_TEXT for f in found)
    if dmi_id in {"oracle", "parallels"} and (ids or found):
        name = "VirtualBox" if dmi_id == "oracle" else "Parallels"
        via = ", ".join(sorted(set(ids))) or "no known signature"
        return _Choice(dmi_id, f"{name} ({via} paravirtual interface)", dmi_ev)
    specific = [f for f in known if f.known is not None and f.known.vendor_id != "microsoft"]
    if specific:
        top = specific[0]
        assert top.known is not None
        vendor = top.known.vendor_id
        product = top.known.product
        if "microsoft" in ids or (has_hv and top.interface != HV_INTERFACE_TEXT):
            product = {
                "kvm": "KVM with Hyper-V enlightenments",
                "xen": "Xen with Viridian (Hyper-V enlightenments)",
            }.get(vendor, f"{product} with a Hyper-V-compatible interface")
        elif top.interface == HV_INTERFACE_TEXT:
            product = {
                "oracle": "VirtualBox (Hyper-V paravirtual provider)",
            }.get(vendor, f"{product} with a Hyper-V-compatible interface")
        return _Choice(vendor, product, (_sig_evidence(top),))
    if "microsoft" in ids:
        hv = next(f for f in known if f.known is not None and f.known.vendor_id == "microsoft")
        if dmi_id in {"kvm", "qemu"}:
            return _Choice("kvm", "KVM with Hyper-V enlightenments (KVM signature hidden)",
                           (_sig_evidence(hv), *dmi_ev))
        if dmi_id == "xen":
            return _Choice("xen", "Xen with Viridian (Xen signature hidden)",
                           (_sig_evidence(hv), *dmi_ev))
        return _Choice("microsoft", "Microsoft Hyper-V", (_sig_evidence(hv),))
    if found:
        return _Choice("unknown", None, tuple(_sig_evidence(f) for f in found))
    return _Choice(None, None, ())


def _partition(
    snapshot: Snapshot, found: list[FoundInterface],
) -> tuple[Partition | None, list[Evidence], bool]:
    """Hyper-V partition type (Linux hv_identify_partition_type) and the nested bit."""
    table = snapshot.cpuid
    for f in found:
        if f.interface != HV_INTERFACE_TEXT:
            continue
        feats = table.get(f.base + 3)
        if feats is None:
            continue
        priv = hyperv.privileges(feats)
        leaf = f.base + 3
        ev = [
            Evidence("CreatePartitions privilege", cpuid_source(leaf, "ebx", 0),
                     int(priv.create_partitions)),
            Evidence("CpuManagement privilege", cpuid_source(leaf, "ebx", 12),
                     int(priv.cpu_management)),
            Evidence("Isolation (confidential VM) privilege", cpuid_source(leaf, "ebx", 22),
                     int(priv.isolation)),
        ]
        kind = hyperv.partition_type(priv)
        part: Partition = "root" if kind == "root" else "l1vh" if kind == "l1vh" else "guest"
        ev.append(Evidence(f"Hyper-V partition type {part} (Linux hv_identify_partition_type)",
                           cpuid_source(leaf, "ebx"), f"{feats.ebx:#010x}"))
        nested = False
        rec = table.get(f.base + 4)
        if rec is not None:
            nested = bool((rec.eax >> 12) & 1)
            ev.append(Evidence(
                "the Microsoft hypervisor is itself nested within a Hyper-V partition"
                if nested else "HV_X64_HYPERV_NESTED clear",
                cpuid_source(f.base + 4, "eax", 12), int(nested),
            ))
        return part, ev, nested
    return None, [], False


def _confidential(
    snapshot: Snapshot, found: list[FoundInterface], detected: bool,
) -> tuple[str | None, list[Evidence]]:
    table = snapshot.cpuid
    tdx = table.get(confidential.TDX_LEAF)
    if tdx is not None and confidential.tdx_signature(tdx) == confidential.TDX_IDENT:
        return "tdx", [Evidence("Intel TDX guest", "CPUID.0x21:EBX,EDX,ECX",
                                confidential.decode_tdx(tdx)["signature"])]
    for f in found:
        if f.interface != HV_INTERFACE_TEXT:
            continue
        feats = table.get(f.base + 3)
        iso = table.get(f.base + 0x0C)
        if feats is None or iso is None or not (feats.ebx >> 22) & 1:
            continue
        kind = hyperv.isolation_type(iso)
        label = {"vbs": "hyperv-vbs", "snp": "sev-snp", "tdx": "tdx"}.get(kind)
        if label is not None:
            return label, [Evidence(f"Hyper-V isolated partition ({kind})",
                                    cpuid_source(f.base + 0x0C, "ebx", 0, 3), kind)]
    sev = table.get(confidential.SEV_LEAF)
    if detected and sev is not None and (level := confidential.sev_level(sev)) is not None:
        # Only the capability: whether this guest runs encrypted is in MSR 0xC0010131
        # (ring 0). Firecracker passes the host's 0x8000001F through to plain guests.
        return None, [Evidence(f"{level} capability passed through (not proof of a SEV guest)",
                               cpuid_source(confidential.SEV_LEAF, "eax"), f"{sev.eax:#010x}")]
    return None, []


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


def _os_signals(snapshot: Snapshot) -> tuple[str | None, list[Evidence], bool | None]:
    """Hypervisor hints from the OS: Xen files, the cpuinfo ``hypervisor`` flag."""
    ev: list[Evidence] = []
    xen = None
    hv_type = snapshot.os.text("/sys/hypervisor/type")
    if hv_type is not None and hv_type.strip() == "xen":
        xen = "xen"
        ev.append(Evidence("Xen hypervisor (sysfs)", "/sys/hypervisor/type", "xen"))
    elif snapshot.os.state("/proc/xen") == "dir":
        xen = "xen"
        ev.append(Evidence("Xen domain (/proc/xen present)", "/proc/xen", "dir"))
    flag: bool | None = None
    text = cpuinfo.x86_text(snapshot.os)
    if text is not None and (flags := cpuinfo.flags(text)) is not None:
        flag = "hypervisor" in flags
        ev.append(Evidence("kernel reports the hypervisor flag" if flag
                           else "kernel does not report the hypervisor flag",
                           f"{CPUINFO}:flags", flag))
    return xen, ev, flag


def _qemu_cpu_model(snapshot: Snapshot) -> Evidence | None:
    """A QEMU CPU model name, from the brand string or the kernel's cpuinfo."""
    brand = cpu.brand_of(snapshot.cpuid)
    if brand is not None and "QEMU" in brand:
        return Evidence("QEMU CPU model", "CPUID.0x80000002-0x80000004", brand)
    text = cpuinfo.x86_text(snapshot.os)
    model = cpuinfo.field(text, "model name") if text is not None else None
    if model is not None and "QEMU" in model:
        return Evidence("QEMU CPU model", f"{CPUINFO}:model name", model)
    return None


def _pvm_guest(snapshot: Snapshot, found: list[FoundInterface]) -> Evidence | None:
    for f in found:
        if f.known is not None and f.known.vendor_id == "kvm" and f.interface is None:
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
                ev.append(Evidence(f"CPU emulator: {what}", "CPUID.0x80000002-0x80000004", brand))
    return ev


def _product(choice: _Choice, partition: Partition | None, nested: bool) -> str | None:
    if choice.vendor != "microsoft" or partition is None:
        return choice.product
    names: Mapping[Partition, str] = {
        "root": "Hyper-V root partition",
        "l1vh": "Hyper-V L1VH partition",
        "guest": "Hyper-V guest partition",
    }
    name = names[partition]
    if nested:
        name += " (on a nested Hyper-V)"
    return name


def assess_hypervisor(snapshot: Snapshot) -> HypervisorFacts:
    """Scan all 256 bases, resolve the primary vendor, partition, cloud and markers."""
    table = snapshot.cpuid
    ev: list[Evidence] = []
    leaf1: Registers | None = table.get(1)
    bit: bool | None = cpu.hypervisor(leaf1) if leaf1 is not None else None
    if leaf1 is not None:
        ev.append(Evidence("hypervisor present bit", cpuid_source(1, "ecx", 31), int(bool(bit))))
    elif (why := _cpuid_unavailable(snapshot)) is not None:
        ev.append(why)

    found = scan(table)
    interfaces = _interfaces(snapshot, found)
    for bad in rejected(table):  # say what was ignored, and why, instead of dropping it
        ev.append(Evidence(
            f'signature "{bad.signature}" at {bad.base:#x} ignored: {bad.reason}, so it is '
            "not a valid hypervisor interface",
            cpuid_source(bad.base, "eax"), f"{bad.max_leaf:#010x}",
        ))
    if len(found) > 1:
        ev.append(Evidence(
            f"{len(found)} interfaces published by one hypervisor (compatibility, not nesting)",
            "CPUID.0x40000000-0x4000ff00", ", ".join(f"{f.base:#x}" for f in found),
        ))
    if bit is False and found:
        ev.append(Evidence("signature published with the hypervisor bit clear (bit hidden)",
                           cpuid_source(found[0].base, "ebx,ecx,edx"), found[0].signature))

    dmi_values = dmi.read_dmi(snapshot.os)
    dmi_hit = dmi.dmi_vendor(dmi_values)
    choice = _choose_vendor(found, dmi_hit)
    ev.extend(choice.evidence)
    vendor = choice.vendor

    xen, os_ev, flag = _os_signals(snapshot)
    ev.extend(os_ev)
    detected = bool(bit) or bool(found) or bool(flag) or xen is not None
    if vendor is None and xen is not None:
        vendor = "xen"
    dmi_vm = dmi_hit is not None and dmi_hit[2].vendor_id not in {"amazon", "google"}
    if vendor is None and dmi_vm and dmi_hit is not None:
        detected = True
        vendor = dmi_hit[2].vendor_id
        ev.append(Evidence(f"DMI names {vendor} (no CPUID signature)",
                           dmi.DMI_DIR + dmi_hit[0], dmi_hit[1]))
        if vendor == "bochs" and (qemu_cpu := _qemu_cpu_model(snapshot)) is not None:
            # "Bochs" is the SMBIOS default of QEMU's SeaBIOS; with a QEMU CPU model and no
            # KVM signature this is QEMU itself (virt-what: cpuinfo "QEMU" => qemu).
            vendor = "qemu"
            ev.append(qemu_cpu)
    if vendor is None and detected:
        vendor = "unknown"
        ev.append(Evidence("a hypervisor is present but does not identify itself",
                           *((cpuid_source(1, "ecx", 31), 1) if bit else
                             (f"{CPUINFO}:flags", "hypervisor"))))
    if not detected and bit is False:
        ev.append(Evidence("no hypervisor bit and no signature at any base",
                           "CPUID.0x40000000-0x4000ff00", 0))

    partition, part_ev, nested = _partition(snapshot, found)
    ev.extend(part_ev)
    product = _product(choice, partition, nested)
    if vendor is not None and product is None and vendor != "unknown":
        product = vendor
    if (pvm := _pvm_guest(snapshot, found)) is not None:
        ev.append(pvm)
        product = "KVM PVM guest (software nesting)"

    cloud = instance = None
    if (hit := dmi.cloud(dmi_values)) is not None:
        rule, value = hit
        cloud = rule.cloud
        ev.append(Evidence(f"cloud {cloud} ({rule.source})", dmi.DMI_DIR + rule.key, value))
        if cloud == "aws" and (instance := dmi.ec2_instance_type(dmi_values)) is not None:
            ev.append(Evidence(f"EC2 instance type {instance}"
                               + (" (bare metal)" if instance.endswith(".metal") else ""),
                               dmi.DMI_DIR + "product_name", instance))

    conf, conf_ev = _confidential(snapshot, found, detected)
    ev.extend(conf_ev)
    emu_ev = _emulated(snapshot, found)
    ev.extend(emu_ev)

    return HypervisorFacts(
        bit=bit,
        detected=detected,
        vendor=vendor,
        interfaces=interfaces,
        partition=partition,
        product=product,
        cloud=cloud,
        instance_type=instance,
        confidential=conf,
        emulated=bool(emu_ev),
        evidence=tuple(ev),
    )
