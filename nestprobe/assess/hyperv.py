"""The Hyper-V interface leaves, read in one place: privileges, nesting, version.

Every reader of 0x40000002 (version), 0x40000003 (partition privileges) and 0x40000004
EAX[12] (HV_X64_HYPERV_NESTED) goes through :func:`read_hyperv`; identity, nesting and
the verdict conditions take :class:`~nestprobe.model.assessment.HyperVFacts` from
``HypervisorFacts.hyperv``.

Which interface counts: the lowest base publishing ``Hv#1``. Linux treats it as a
Hyper-V partition only under the ``Microsoft Hv`` signature (ms_hyperv_platform in
arch/x86/kernel/cpu/mshyperv.c), so VMware's and VirtualBox's enlightenments (``Hv#1``
under ``VMwareVMware``/``VBoxVBoxVBox``) give no partition type. Sources: TLFS
feature-discovery (TLFS-FD), Linux hv_identify_partition_type (drivers/hv/hv_common.c).
"""

from __future__ import annotations

from typing import Any

from nestprobe.decode import hyperv
from nestprobe.decode.interfaces import HV_INTERFACE_TEXT, FoundInterface
from nestprobe.model.assessment import HyperVFacts
from nestprobe.model.evidence import Evidence, cpuid_source
from nestprobe.model.facts import Partition
from nestprobe.model.snapshot import CpuidTable

MICROSOFT_SIGNATURE = b"Microsoft Hv"
LINUX_RULE = "arch/x86/kernel/cpu/mshyperv.c ms_hyperv_platform"
#: HV_X64_HYPERV_NESTED: "the hypervisor is nested within a Hyper-V partition" (TLFS-FD).
NESTED_BIT = 12


def _privileges(table: CpuidTable, base: int, microsoft: bool,
                ev: list[Evidence]) -> dict[str, Any]:
    """0x40000003 EBX: the partition's privileges, and (Microsoft only) its type."""
    feats = table.get(base + 3)
    if feats is None:
        return {}
    priv = hyperv.privileges(feats)
    leaf = base + 3
    ev += [
        Evidence("CreatePartitions privilege", cpuid_source(leaf, "ebx", 0),
                 int(priv.create_partitions), about="partition"),
        Evidence("CpuManagement privilege", cpuid_source(leaf, "ebx", 12),
                 int(priv.cpu_management), about="partition"),
        Evidence("Isolation (confidential VM) privilege", cpuid_source(leaf, "ebx", 22),
                 int(priv.isolation), about="partition"),
    ]
    partition: Partition | None = None
    if microsoft:
        kind = hyperv.partition_type(priv)
        partition = "root" if kind == "root" else "l1vh" if kind == "l1vh" else "guest"
        ev.append(Evidence(
            f"Hyper-V partition type {partition} (Linux hv_identify_partition_type)",
            cpuid_source(leaf, "ebx"), f"{feats.ebx:#010x}"))
    return {"create_partitions": priv.create_partitions, "cpu_management": priv.cpu_management,
            "isolation": priv.isolation, "partition": partition}


def _nested(table: CpuidTable, base: int, ev: list[Evidence]) -> bool | None:
    """0x40000004 EAX[12] HV_X64_HYPERV_NESTED; None when the leaf is absent."""
    rec = table.get(base + 4)
    if rec is None:
        return None
    nested = bool((rec.eax >> NESTED_BIT) & 1)
    ev.append(Evidence(
        "the Microsoft hypervisor is itself nested within a Hyper-V partition" if nested
        else "the Microsoft hypervisor does not report itself nested",
        cpuid_source(base + 4, "eax", NESTED_BIT), int(nested)))
    return nested


def _version(table: CpuidTable, base: int, ev: list[Evidence]) -> dict[str, Any]:
    """0x40000002: the host's build, or an emulator's default identity."""
    leaf2 = table.get(base + 2)
    if leaf2 is None or not leaf2.eax:
        return {}
    ver = hyperv.version(leaf2)
    build, text = ver.build, ver.text()
    match = hyperv.emulator_of(ver)
    if match is not None:
        ev.append(Evidence(f"hypervisor version {text}: the default identity of "
                           f"{match.product} ({match.source})",
                           cpuid_source(base + 2, "eax"), build, about="version"))
    else:
        ev.append(Evidence(f"Microsoft hypervisor version {text}",
                           cpuid_source(base + 2, "eax"), build, about="version"))
    return {"build": build, "version": text,
            "emulator": match.vendor_id if match is not None else None}


def read_hyperv(table: CpuidTable, found: list[FoundInterface]) -> HyperVFacts | None:
    """The Hyper-V view of the lowest ``Hv#1`` interface, or None when there is none."""
    iface = next((f for f in found if f.interface == HV_INTERFACE_TEXT), None)
    if iface is None:
        return None
    base = iface.base
    ev: list[Evidence] = []
    microsoft = iface.raw == MICROSOFT_SIGNATURE
    if not microsoft:
        ev.append(Evidence(
            f"Hyper-V interface (Hv#1) under the signature {iface.signature!r}: by Linux's "
            f"rule ({LINUX_RULE}) not a Hyper-V partition", cpuid_source(base, "ebx,ecx,edx"),
            iface.signature))
    privileges = _privileges(table, base, microsoft, ev)
    nested = _nested(table, base, ev)
    version = _version(table, base, ev)
    fields = {"partition": None, **privileges, "nested": nested, **version}
    return HyperVFacts(base=base, signature=iface.signature, evidence=tuple(ev), **fields)
