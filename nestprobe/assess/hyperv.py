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

    create = cpu_mgmt = isolation = None
    partition: Partition | None = None
    feats = table.get(base + 3)
    if feats is not None:
        priv = hyperv.privileges(feats)
        create, cpu_mgmt, isolation = priv.create_partitions, priv.cpu_management, priv.isolation
        leaf = base + 3
        ev += [
            Evidence("CreatePartitions privilege", cpuid_source(leaf, "ebx", 0), int(create)),
            Evidence("CpuManagement privilege", cpuid_source(leaf, "ebx", 12), int(cpu_mgmt)),
            Evidence("Isolation (confidential VM) privilege", cpuid_source(leaf, "ebx", 22),
                     int(isolation)),
        ]
        if microsoft:
            kind = hyperv.partition_type(priv)
            partition = "root" if kind == "root" else "l1vh" if kind == "l1vh" else "guest"
            ev.append(Evidence(
                f"Hyper-V partition type {partition} (Linux hv_identify_partition_type)",
                cpuid_source(leaf, "ebx"), f"{feats.ebx:#010x}"))

    nested = None
    rec = table.get(base + 4)
    if rec is not None:
        nested = bool((rec.eax >> NESTED_BIT) & 1)
        ev.append(Evidence(
            "the Microsoft hypervisor is itself nested within a Hyper-V partition" if nested
            else "the Microsoft hypervisor does not report itself nested",
            cpuid_source(base + 4, "eax", NESTED_BIT), int(nested)))

    build = text = emulator = None
    leaf2 = table.get(base + 2)
    if leaf2 is not None and leaf2.eax:
        ver = hyperv.version(leaf2)
        build, text = ver.build, ver.text()
        match = hyperv.emulator_of(ver)
        if match is not None:
            emulator = match.vendor_id
            ev.append(Evidence(f"hypervisor version {text}: the default identity of "
                               f"{match.product} ({match.source})",
                               cpuid_source(base + 2, "eax"), build))
        else:
            ev.append(Evidence(f"Microsoft hypervisor version {text}",
                               cpuid_source(base + 2, "eax"), build))

    return HyperVFacts(
        base=base, signature=iface.signature, partition=partition,
        create_partitions=create, cpu_management=cpu_mgmt, isolation=isolation,
        nested=nested, build=build, version=text, emulator=emulator, evidence=tuple(ev),
    )
