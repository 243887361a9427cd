"""Hypervisor identity on constructed snapshots: one case per resolution rule."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from nestprobe.assess.identity import assess_cpu, assess_hypervisor
from nestprobe.decode.bits import regs_bytes
from nestprobe.model.snapshot import CpuidTable, FileFact, OsFacts, Registers, Snapshot

KVM = (0x4B4D564B, 0x564B4D56, 0x0000004D)
MSHV = (0x7263694D, 0x666F736F, 0x76482074)
XEN = (0x566E6558, 0x65584D4D, 0x4D4D566E)
VBOX = (0x786F4256, 0x786F4256, 0x786F4256)
TCG = (0x54474354, 0x43544743, 0x47435447)
HV1 = 0x31237648
INTEL = Registers(0x16, 0x756E6547, 0x6C65746E, 0x49656E69)
HV_BIT = 1 << 31


def snap(leaves: dict[tuple[int, int], Registers], files: dict[str, str] | None = None,
         status: str = "ok") -> Snapshot:
    facts = {p: FileFact("ok", t) for p, t in (files or {}).items()}
    return Snapshot(status, CpuidTable(leaves), OsFacts("Linux", "x86_64", facts))  # type: ignore[arg-type]


def base_leaves(hv_bit: bool = True) -> dict[tuple[int, int], Registers]:
    return {(0, 0): INTEL, (1, 0): Registers(0x000306F2, 0, HV_BIT if hv_bit else 0, 0)}


def sig(base: int, top: int, regs: tuple[int, int, int]) -> dict[tuple[int, int], Registers]:
    return {(base, 0): Registers(top, *regs)}


#: 0x40000002 as real Hyper-V answers it (the Azure corpus dump: 10.0.20348 SP1, service 1462)
#: and as QEMU/KVM's default identity does (10.0.14393, no service pack, no service number).
MS_VERSION = Registers(0x4F7C, 0x000A0000, 1, 0x5B6)
QEMU_VERSION = Registers(0x3839, 0x000A0000, 0, 0)


def hv_leaves(base: int = 0x40000000, ebx3: int = 0x003B8030, eax4: int = 0,
              top: int = 0x4000000A, version: Registers | None = MS_VERSION,
              ) -> dict[tuple[int, int], Registers]:
    out = sig(base, base + (top & 0xFF), MSHV)
    out[(base + 1, 0)] = Registers(HV1, 0, 0, 0)
    if version is not None:
        out[(base + 2, 0)] = version
    out[(base + 3, 0)] = Registers(0x2E7F, ebx3, 0, 0)
    out[(base + 4, 0)] = Registers(eax4, 0, 0, 0)
    return out


def dmi(**values: str) -> dict[str, str]:
    return {f"/sys/class/dmi/id/{k}": v + "\n" for k, v in values.items()}


def sources(facts_evidence: tuple[object, ...]) -> list[str]:
    return [e.source for e in facts_evidence]  # type: ignore[attr-defined]


def test_kvm_with_hyperv_enlightenments() -> None:
    leaves = base_leaves() | hv_leaves() | sig(0x40000100, 0x40000101, KVM)
    leaves[(0x40000101, 0)] = Registers(0x01007AFB, 0, 0, 0)
    h = assess_hypervisor(snap(leaves))
    assert h.vendor == "kvm"
    assert h.product == "KVM with Hyper-V enlightenments"
    assert [i.base for i in h.interfaces] == [0x40000000, 0x40000100]
    assert [i.vendor_id for i in h.interfaces] == ["microsoft", "kvm"]
    assert "hyperv.features" in h.interfaces[0].decoded
    assert "kvm.features" in h.interfaces[1].decoded
    assert h.partition == "guest"
    assert any("not nesting" in e.claim for e in h.evidence)


def test_xen_with_viridian() -> None:
    leaves = base_leaves() | hv_leaves(top=0x40000006) | sig(0x40000100, 0x40000105, XEN)
    leaves[(0x40000101, 0)] = Registers(0x0004000B, 0, 0, 0)
    h = assess_hypervisor(snap(leaves))
    assert h.vendor == "xen"
    assert h.product is not None
    assert "Viridian" in h.product
    assert h.interfaces[1].decoded["xen.version"]["minor"] == 11


def test_virtualbox_hyperv_provider() -> None:
    leaves = base_leaves() | sig(0x40000000, 0x40000006, VBOX)
    leaves[(0x40000001, 0)] = Registers(HV1, 0, 0, 0)
    leaves[(0x40000003, 0)] = Registers(0xAF2, 0x00100000, 0, 0x500)
    h = assess_hypervisor(snap(leaves))
    assert h.vendor == "oracle"
    assert h.product == "VirtualBox (Hyper-V paravirtualization provider)"
    # Hv#1 under VBoxVBoxVBox: Linux's rule (ms_hyperv_platform) sees no Hyper-V partition.
    assert h.partition is None
    assert h.hyperv is not None
    assert h.hyperv.create_partitions is False
    assert any("not a Hyper-V partition" in e.claim for e in h.evidence)


def test_vmware_presenting_hv1_is_no_hyperv_partition() -> None:
    vmware = (0x61774D56, 0x4D566572, 0x65726177)
    leaves = base_leaves() | sig(0x40000000, 0x40000010, vmware)
    leaves[(0x40000001, 0)] = Registers(HV1, 0, 0, 0)
    leaves[(0x40000003, 0)] = Registers(0xA72, 0, 0, 0x508)
    h = assess_hypervisor(snap(leaves))
    assert (h.vendor, h.partition) == ("vmware", None)
    assert h.alternatives == ()


def test_virtualbox_kvm_provider_by_its_feature_set() -> None:
    """KVMKVMKVM with exactly CLOCKSOURCE|CLOCKSOURCE2|PV_UNHALT(|STABLE): GIMKvm.cpp."""
    for features in (0x01000089, 0x00000089):
        leaves = base_leaves() | sig(0x40000000, 0x40000001, KVM)
        leaves[(0x40000001, 0)] = Registers(features, 0, 0, 0)
        h = assess_hypervisor(snap(leaves))
        assert h.vendor == "oracle"
        assert h.alternatives == ("kvm",)  # the interface's own product, second
        assert "KVM paravirtualization provider" in (h.product or "")
        assert "CPUID.0x40000001:EAX" in sources(h.evidence)
    # QEMU/KVM's default feature set stays KVM.
    leaves[(0x40000001, 0)] = Registers(0x01007AFB, 0, 0, 0)
    assert assess_hypervisor(snap(leaves)).vendor == "kvm"


def test_who_answers_behind_microsoft_hv() -> None:
    # Real Hyper-V: the version leaf carries service numbers.
    real = assess_hypervisor(snap(base_leaves() | hv_leaves()))
    assert (real.vendor, real.alternatives, real.identified) == ("microsoft", (), "high")
    assert real.hyperv is not None
    assert real.hyperv.build == 20348
    # QEMU/KVM with its own signature hidden: its default WS2016 identity, no service numbers.
    qemu = assess_hypervisor(snap(base_leaves() | hv_leaves(version=QEMU_VERSION)))
    assert (qemu.vendor, qemu.alternatives) == ("kvm", ("microsoft",))
    assert qemu.hyperv is not None
    assert qemu.hyperv.emulator == "kvm"
    assert "or Microsoft Hyper-V" in (qemu.product or "")
    # Xen's Viridian default (6.0.6002).
    xen = assess_hypervisor(snap(base_leaves() | hv_leaves(
        version=Registers(6002, 0x00060000, 0, 0))))
    assert (xen.vendor, xen.alternatives) == ("xen", ("microsoft",))
    # No version leaf: Hyper-V, or a hypervisor emulating its interface.
    unsure = assess_hypervisor(snap(base_leaves() | hv_leaves(version=None)))
    assert (unsure.vendor, unsure.alternatives, unsure.identified) == (
        "microsoft", ("kvm",), "medium")
    assert "emulating" in (unsure.product or "")


def test_dmi_decides_parallels_and_virtualbox_over_kvm_signature() -> None:
    leaves = base_leaves() | sig(0x40000000, 0x40000001, KVM)
    files = dmi(sys_vendor="Parallels Software International Inc.",
                product_name="Parallels Virtual Platform")
    assert assess_hypervisor(snap(leaves, files)).vendor == "parallels"
    files = dmi(product_name="VirtualBox", sys_vendor="innotek GmbH")
    h = assess_hypervisor(snap(leaves, files))
    assert h.vendor == "oracle"
    assert "/sys/class/dmi/id/product_name" in sources(h.evidence)
    # Without DMI the same CPUID is KVM.
    assert assess_hypervisor(snap(leaves)).vendor == "kvm"


def test_microsoft_hv_alone_with_qemu_dmi_is_kvm() -> None:
    leaves = base_leaves() | hv_leaves()
    h = assess_hypervisor(snap(leaves, dmi(sys_vendor="QEMU", product_name="Standard PC")))
    assert h.vendor == "kvm"
    assert assess_hypervisor(snap(leaves)).vendor == "microsoft"


def test_root_partition_and_nested_hyperv() -> None:
    h = assess_hypervisor(snap(base_leaves() | hv_leaves(ebx3=0x002BB9FF)))
    assert h.partition == "root"
    assert h.product == "Hyper-V root partition"
    unsure = assess_hypervisor(snap(base_leaves() | hv_leaves(ebx3=0x002BB9FF, version=None)))
    assert unsure.product == "Hyper-V root partition, or a hypervisor emulating Hyper-V's interface"
    assert "CPUID.0x40000003:EBX[12]" in sources(h.evidence)
    nested = assess_hypervisor(snap(base_leaves() | hv_leaves(eax4=1 << 12)))
    assert nested.partition == "guest"
    assert nested.product == "Hyper-V guest partition (on a nested Hyper-V)"
    l1vh = assess_hypervisor(snap(base_leaves() | hv_leaves(ebx3=0x1)))
    assert l1vh.partition == "l1vh"


def test_bit_without_signature_is_unknown_and_signature_without_bit_is_detected() -> None:
    h = assess_hypervisor(snap(base_leaves()))
    assert h.detected
    assert h.vendor == "unknown"
    h = assess_hypervisor(snap(base_leaves(hv_bit=False) | sig(0x40000000, 0x40000001, KVM)))
    assert h.bit is False
    assert h.detected
    assert h.vendor == "kvm"
    bare = assess_hypervisor(snap(base_leaves(hv_bit=False)))
    assert not bare.detected
    assert bare.vendor is None


def test_cpuid_unavailable_means_cannot_tell() -> None:
    h = assess_hypervisor(snap({}, status="not-x86"))
    assert h.bit is None
    assert h.vendor is None
    assert h.partition is None
    c = assess_cpu(snap({}, status="faulting"))
    assert c.vendor is None
    assert c.family is None


def test_cpuinfo_fills_cpu_identity_without_cpuid() -> None:
    text = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Core(TM) i7\n"
    c = assess_cpu(snap({}, {"/proc/cpuinfo": text}, status="absent"))
    assert c.vendor == "GenuineIntel"
    assert c.brand == "Intel(R) Core(TM) i7"


def test_clouds_from_dmi() -> None:
    leaves = base_leaves() | hv_leaves()
    azure = assess_hypervisor(snap(leaves, dmi(chassis_asset_tag="7783-7084-3265-9085-8269-3286-77",
                                               sys_vendor="Microsoft Corporation")))
    assert azure.cloud == "azure"
    on_prem = assess_hypervisor(snap(leaves, dmi(sys_vendor="Microsoft Corporation")))
    assert on_prem.cloud is None
    metal = assess_hypervisor(snap(base_leaves(hv_bit=False),
                                   dmi(sys_vendor="Amazon EC2", product_name="m5.metal")))
    assert metal.cloud == "aws"
    assert metal.instance_type == "m5.metal"
    assert not metal.detected  # a cloud fact, not a virtualization fact
    nitro = assess_hypervisor(snap(base_leaves() | sig(0x40000000, 0x40000001, KVM),
                                   dmi(sys_vendor="Amazon EC2", product_name="c5.large")))
    assert (nitro.vendor, nitro.cloud, nitro.instance_type) == ("kvm", "aws", "c5.large")


def test_confidential_markers() -> None:
    leaves = base_leaves()
    leaves[(0, 0)] = Registers(0x21, *INTEL[1:])
    leaves[(0x21, 0)] = Registers(0, 0x65746E49, 0x20202020, 0x5844546C)
    assert assess_hypervisor(snap(leaves)).confidential == "tdx"
    cvm = base_leaves() | hv_leaves(ebx3=0x00628030, top=0x4000000C)
    cvm[(0x4000000C, 0)] = Registers(0, 0x2, 0, 0)
    assert assess_hypervisor(snap(cvm)).confidential == "sev-snp"
    # Isolation type without the Isolation privilege is not a CVM.
    cvm[(0x40000003, 0)] = Registers(0, 0x003B8030, 0, 0)
    assert assess_hypervisor(snap(cvm)).confidential is None


def test_sev_capability_alone_is_not_a_confidential_guest() -> None:
    leaves = base_leaves() | sig(0x40000000, 0x40000001, KVM)
    leaves[(0x80000000, 0)] = Registers(0x8000001F, 0, 0, 0)
    leaves[(0x8000001F, 0)] = Registers(0x0101FD3F, 0, 0, 0)  # Firecracker T2A passthrough
    h = assess_hypervisor(snap(leaves))
    assert h.confidential is None
    assert "CPUID.0x8000001f:EAX" in sources(h.evidence)


def test_emulators() -> None:
    tcg = assess_hypervisor(snap(base_leaves() | sig(0x40000000, 0x40000001, TCG)))
    assert tcg.emulated
    assert tcg.vendor == "qemu"
    woa = base_leaves(hv_bit=False)
    woa[(0, 0)] = Registers(0xD, *(int.from_bytes(b, "little") for b in
                                   (b"Virt", b"CPU ", b"ual ")))  # EBX, ECX, EDX
    assert assess_hypervisor(snap(woa)).emulated
    assert not assess_hypervisor(snap(base_leaves())).emulated


def test_pvm_guest() -> None:
    leaves = base_leaves() | sig(0x40000000, 0x40000002, KVM)
    leaves[(0x40000002, 0)] = Registers(0, 0x004D5650, 0, 0)
    h = assess_hypervisor(snap(leaves))
    assert h.product == "KVM PVM guest (software nesting)"


HASWELL = Registers(0x000306C3, 0, 0, 0)
I7_4700HQ = b"Intel(R) Core(TM) i7-4700HQ CPU @ 2.40GHz"


def brand_leaves(text: bytes) -> dict[tuple[int, int], Registers]:
    raw = text.ljust(48, b"\0")
    words = [int.from_bytes(raw[i:i + 4], "little") for i in range(0, 48, 4)]
    out = {(0x80000000, 0): Registers(0x80000008, 0, 0, 0)}
    for n, leaf in enumerate((0x80000002, 0x80000003, 0x80000004)):
        out[(leaf, 0)] = Registers(*words[4 * n:4 * n + 4])
    return out


def test_a_hypervisor_that_hides_itself_is_seen_by_its_mask() -> None:
    """VirtualBox legacy: bit and signature hidden; VMX hidden with EIST, TM2, DS... (the
    corpus WinXP dumps: leaf 1 ECX 0x56DA220B EDX 0x178BF9FF on an i7-4700HQ)."""
    masked = {(0, 0): INTEL, (1, 0): Registers(0x000306C3, 0, 0x56DA220B, 0x178BF9FF)}
    h = assess_hypervisor(snap(masked | brand_leaves(I7_4700HQ)))
    assert (h.detected, h.hidden, h.vendor) == (False, True, None)
    cpu_id = assess_cpu(snap(masked | brand_leaves(I7_4700HQ)))
    assert (cpu_id.feature_mask, cpu_id.extension_expected) == ("masked", "all")
    # The host of those dumps: the same CPU, everything native.
    native = {(0, 0): INTEL, (1, 0): Registers(0x000306C3, 0, 0x7FFAFBBF, 0xBFEBFBFF)}
    bare = assess_hypervisor(snap(native | brand_leaves(I7_4700HQ)))
    assert (bare.detected, bare.hidden) == (False, False)
    # The mask alone on a CPU the tables do not know decides nothing.
    odd = {(0, 0): INTEL, (1, 0): Registers(0x00000F29, 0, 0x56DA220B, 0x178BF9FF)}
    assert assess_hypervisor(snap(odd)).hidden is False


def test_a_virtual_only_cpu_name_is_a_virtual_cpu() -> None:
    leaves = base_leaves(hv_bit=False) | brand_leaves(b"AMD EPYC-Rome Processor")
    h = assess_hypervisor(snap(leaves))
    assert (h.vendor, h.hidden, h.detected) == ("qemu", True, False)
    shown = assess_hypervisor(snap(base_leaves() | brand_leaves(b"QEMU Virtual CPU version 2.5+")))
    assert (shown.vendor, shown.hidden, shown.detected) == ("qemu", False, True)


def test_leaves_past_the_maximum_are_not_decoded() -> None:
    # Max leaf 0x40000001: a recorded 0x40000003 must not be read as privileges.
    leaves = base_leaves() | hv_leaves(ebx3=0x002BB9FF, top=0x40000001)
    h = assess_hypervisor(snap(leaves))
    assert h.partition is None
    assert set(h.interfaces[0].decoded) <= {"hyperv.interface"}


@given(st.lists(st.tuples(st.integers(0, 255), st.binary(min_size=12, max_size=12),
                          st.integers(0, 0x1FF)), max_size=6))
def test_any_signatures_are_safe(entries: list[tuple[int, bytes, int]]) -> None:
    leaves = base_leaves()
    for slot, raw, top in entries:
        base = 0x40000000 + slot * 0x100
        regs = [int.from_bytes(raw[i:i + 4], "little") for i in (0, 4, 8)]
        leaves[(base, 0)] = Registers(base + top, regs[0], regs[1], regs[2])
        leaves[(base + 3, 0)] = Registers(0xFFFFFFFF, 0xFFFFFFFF, 0, 0)
    h = assess_hypervisor(snap(leaves))
    json.dumps([i.signature for i in h.interfaces])
    json.dumps([e.to_dict() for e in h.evidence])
    for iface in h.interfaces:
        assert iface.max_leaf < iface.base + 0x100
        assert iface.signature.isprintable()
        # The rendered signature names exactly the published bytes.
        raw = iface.signature.encode().decode("unicode_escape").encode("latin-1")
        assert raw == regs_bytes(*leaves[(iface.base, 0)][1:])


def test_vm_like_exit_latency_is_a_witness_when_nothing_else_shows() -> None:
    """A live probe: no bit, no signature, but CPUID exits as in an L1 VM (medium band)."""
    from nestprobe.model.latency import LatencyRecord

    record = LatencyRecord(
        cpuid_ticks=1226, median_ticks=1300, p99_ticks=1500, baseline_ticks=26.0, tsc_hz=2.6e9,
        tsc_hz_source="calibrated:CLOCK_MONOTONIC_RAW", tsc_quantum_ticks=26, samples=360,
        batches=3, leaves=(0, 1, 0x40000000), pinned_cpu=1)
    # Native leaf 1 (the features hypervisors hide are all there): only timing can speak.
    bare = snap({(0, 0): INTEL, (1, 0): Registers(0x000306C3, 0, 0x7FFAFBBF, 0xBFEBFBFF)})
    timed = Snapshot("ok", bare.cpuid, bare.os, latency=record)
    h = assess_hypervisor(timed)
    assert (h.detected, h.hidden) == (False, True)
    assert "timing:band" in sources(h.evidence)
    assert assess_hypervisor(bare).hidden is False
