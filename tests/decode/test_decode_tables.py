"""Decoders: cited tables, exact register values from the reference, totality."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nestprobe.decode import (
    bhyve_acrn,
    confidential,
    cpu,
    cpuinfo,
    hyperv,
    kvm,
    svm,
    vmware,
    xen,
)
from nestprobe.decode.bits import LeafSpec, decode_leaf, safe_text
from nestprobe.decode.signatures import (
    SIGNATURES,
    interface_text,
    lookup_signature,
    signature_bytes,
)
from nestprobe.model.snapshot import Registers

ALL_SPECS: tuple[LeafSpec, ...] = (
    *hyperv.LEAVES, *kvm.LEAVES, *xen.LEAVES, vmware.TIMING, vmware.FEATURES,
    *bhyve_acrn.BHYVE_LEAVES, *bhyve_acrn.ACRN_LEAVES, svm.SVM_FEATURES, confidential.SEV,
    confidential.TDX,
)
u32 = st.integers(0, 0xFFFFFFFF)
regs_st = st.builds(Registers, u32, u32, u32, u32)


# Signature registers (EBX, ECX, EDX) as listed in hypervisor-cpuid.md §1.
@pytest.mark.parametrize(("ebx", "ecx", "edx", "vendor"), [
    (0x4B4D564B, 0x564B4D56, 0x0000004D, "kvm"),
    (0x7263694D, 0x666F736F, 0x76482074, "microsoft"),
    (0x756E694C, 0x564B2078, 0x7648204D, "kvm"),  # "Linux KVM Hv"
    (0x61774D56, 0x4D566572, 0x65726177, "vmware"),
    (0x566E6558, 0x65584D4D, 0x4D4D566E, "xen"),
    (0x54474354, 0x43544743, 0x47435447, "qemu"),
    (0x786F4256, 0x786F4256, 0x786F4256, "oracle"),
    (0x206C7270, 0x65707968, 0x20207672, "parallels"),
    (0x76796862, 0x68622065, 0x20657679, "bhyve"),
    (0x4E524341, 0x4E524341, 0x4E524341, "acrn"),
    (0x6C69614A, 0x73756F68, 0x00000065, "jailhouse"),
    (0x51584E51, 0x53424D56, 0x00004751, "qnx"),
    (0x6C707041, 0x5A562065, 0x00000000, "apple"),
    (0x53455253, 0x52534552, 0x45525345, "sre"),
    (0x7263694D, 0x666F736F, 0x41545874, "microsoft-xta"),
])
def test_signature_rows_match_reference_registers(ebx: int, ecx: int, edx: int,
                                                  vendor: str) -> None:
    row = lookup_signature(signature_bytes(Registers(0x40000001, ebx, ecx, edx)))
    assert row is not None
    assert row.vendor_id == vendor


def test_every_row_is_cited_and_exact_rows_are_12_bytes() -> None:
    for row in SIGNATURES:
        assert row.source.strip(), row
        assert row.prefix or len(row.pattern) == 12, row


def test_normalisation_strips_trailing_padding_only() -> None:
    assert lookup_signature(b"KVMKVMKVM   ") is not None  # spaces instead of NULs
    assert lookup_signature(b"bhyve bhyve\0") is not None
    assert lookup_signature(b"QNXQVMBSQG  ") is not None  # prefix rule, other padding
    assert lookup_signature(b" KVMKVMKVM\0\0") is None  # leading padding is not normalised
    assert lookup_signature(b"\0" * 12) is None


def test_interface_text() -> None:
    assert interface_text(hyperv.HV_INTERFACE) == "Hv#1"
    assert interface_text(0x01007EFB) is None  # KVM features word, not text


@given(st.binary(min_size=12, max_size=12))
def test_hostile_signature_renders_safely(raw: bytes) -> None:
    text = safe_text(raw)
    assert text.isascii()
    assert text.isprintable()
    assert json.loads(json.dumps(text)) == text
    # Reversible: every byte is either itself or \xNN.
    back = text.encode().decode("unicode_escape").encode("latin-1")
    assert back == raw


@given(regs_st)
def test_every_decoder_is_total(regs: Registers) -> None:
    for spec in ALL_SPECS:
        out = decode_leaf(spec, regs)
        json.dumps(out)
        assert out["eax"] == f"{regs.eax:#010x}"
    hyperv.partition_type(hyperv.privileges(regs))
    hyperv.isolation_type(regs)
    assert 0 <= hyperv.evmcs_version(regs) <= 0xFFFF
    confidential.decode_tdx(regs)
    confidential.sev_level(regs)
    cpu.signature(regs)
    assert cpu.vendor(regs).isprintable()
    cpu.brand([regs, regs, regs])
    svm.npt(regs)
    kvm.is_pvm(regs)


def test_unnamed_set_bits_are_listed_not_dropped() -> None:
    out = decode_leaf(hyperv.RECOMMENDATIONS, Registers(1 << 12 | 1 << 30, 0, 0, 0))
    assert out["eax_flags"] == ("HV_X64_HYPERV_NESTED", "bit30")


def test_hyperv_partition_rule() -> None:
    # 0x40000003 EBX from the corpus: Azure guest, Windows root, Azure TDX CVM.
    assert hyperv.partition_type(hyperv.privileges(Registers(0, 0x003B8030, 0, 0))) == "guest"
    assert hyperv.partition_type(hyperv.privileges(Registers(0, 0x002BB9FF, 0, 0))) == "root"
    assert hyperv.partition_type(hyperv.privileges(Registers(0, 0x000039FF, 0, 0))) == "root"
    assert hyperv.partition_type(hyperv.privileges(Registers(0, 0x00628030, 0, 0))) == "guest"
    assert hyperv.partition_type(hyperv.privileges(Registers(0, 0x00000001, 0, 0))) == "l1vh"
    # CreatePartitions + CpuManagement but isolated: not a parent.
    assert hyperv.partition_type(hyperv.privileges(Registers(0, 0x00401001, 0, 0))) == "guest"


def test_hyperv_nested_features_evmcs_version() -> None:
    out = decode_leaf(hyperv.NESTED_FEATURES, Registers(0x000E0101, 0, 0, 0))  # Azure corpus
    assert (out["evmcs_version_high"], out["evmcs_version_low"]) == (1, 1)
    assert out["eax_flags"] == ("HV_X64_NESTED_DIRECT_FLUSH", "HV_X64_NESTED_GUEST_MAPPING_FLUSH",
                                "HV_X64_NESTED_MSR_BITMAP")


def test_hyperv_isolation_types() -> None:
    assert hyperv.isolation_type(Registers(0, 3, 0, 0)) == "tdx"
    assert hyperv.isolation_type(Registers(0, 2, 0, 0)) == "snp"
    assert hyperv.isolation_type(Registers(0, 0xF, 0, 0)) == "unknown(15)"


def test_svm_leaf_by_amd_names() -> None:
    # Firecracker T2A (corpus row 8): 0x8000000A = 1, 8, 0, 9.
    out = decode_leaf(svm.SVM_FEATURES, Registers(1, 8, 0, 9))
    assert out["svm_revision"] == 1
    assert out["nasid"] == 8
    assert out["edx_flags"] == ("NP", "NRIPS")
    assert svm.npt(Registers(1, 8, 0, 9))


def test_kvm_features_and_pvm() -> None:
    out = decode_leaf(kvm.FEATURES, Registers(0x01007EFB, 0, 0, 1))
    flags = out["eax_flags"]
    assert isinstance(flags, tuple)
    assert "KVM_FEATURE_CLOCKSOURCE_STABLE_BIT" in flags
    assert "KVM_FEATURE_MMU_OP" not in flags
    assert out["edx_flags"] == ("KVM_HINTS_REALTIME",)
    assert kvm.is_pvm(Registers(0, 0x004D5650, 0, 0))
    assert not kvm.is_pvm(Registers(0, 0, 0, 0))


def test_xen_version() -> None:
    out = decode_leaf(xen.VERSION, Registers(0x0004000B, 0, 0, 0))  # AWS t2.micro: 4.11
    assert (out["major"], out["minor"]) == (4, 11)


def test_tdx_signature_order_is_ebx_edx_ecx() -> None:
    regs = Registers(0, 0x65746E49, 0x20202020, 0x5844546C)
    assert confidential.decode_tdx(regs) == {"signature": "IntelTDX    ", "is_tdx": True}
    swapped = Registers(0, 0x65746E49, 0x5844546C, 0x20202020)
    assert confidential.decode_tdx(swapped)["is_tdx"] is False


def test_sev_level() -> None:
    assert confidential.sev_level(Registers(0b11010, 0, 0, 0)) == "sev-snp"
    assert confidential.sev_level(Registers(0b01010, 0, 0, 0)) == "sev-es"
    assert confidential.sev_level(Registers(0b00010, 0, 0, 0)) == "sev"
    assert confidential.sev_level(Registers(0b00001, 0, 0, 0)) is None


def test_cpu_identity_leaves() -> None:
    assert cpu.vendor(Registers(0x16, 0x756E6547, 0x6C65746E, 0x49656E69)) == "GenuineIntel"
    sig = cpu.signature(Registers(0x00A10F11, 0, 0, 0))  # this machine: EPYC, family 0x19
    assert (sig.family, sig.model, sig.stepping) == (0x19, 0x11, 1)
    sig = cpu.signature(Registers(0x000306F2, 0, 0, 0))  # Haswell-EP
    assert (sig.family, sig.model, sig.stepping) == (6, 0x3F, 2)
    brand = [Registers(0x20202020, 0x20202020, 0x20202020, 0x20202020),
             Registers(0x20202020, 0x20202020, 0x69562020, 0x61757472),
             Registers(0x5043206C, 0x20402055, 0x34322E33, 0x007A4847)]
    assert cpu.brand(brand) == "Virtual CPU @ 3.24GHz"


CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
flags\t\t: fpu vme vmx ept hypervisor
vmx flags\t: vnmi preemption_timer invvpid ept_x_only ept flexpriority unrestricted_guest

processor\t: 1
flags\t\t: fpu
"""


def test_cpuinfo_first_block() -> None:
    assert cpuinfo.field(CPUINFO, "vendor_id") == "GenuineIntel"
    flags = cpuinfo.flags(CPUINFO)
    assert flags is not None
    assert "vmx" in flags
    assert "fpu" in flags
    vflags = cpuinfo.vmx_flags(CPUINFO)
    assert vflags is not None
    assert "unrestricted_guest" in vflags
    assert "vmx" not in vflags
    assert cpuinfo.vmx_flags("processor : 0\nflags : fpu\n") is None


@given(st.integers(0, 0x1F), regs_st, st.sampled_from([
    (0x4B4D564B, 0x564B4D56, 0x0000004D), (0x7263694D, 0x666F736F, 0x76482074),
    (0x566E6558, 0x65584D4D, 0x4D4D566E), (0x61774D56, 0x4D566572, 0x65726177),
]), st.booleans())
def test_no_leaf_past_the_maximum_is_decoded(top: int, filler: Registers,
                                             signature: tuple[int, int, int],
                                             hv1: bool) -> None:
    from nestprobe.decode.interfaces import decode_interface, scan, specs_for
    from nestprobe.model.snapshot import CpuidTable

    base = 0x40000000
    leaves = {(base + n, 0): filler for n in range(0x20)}
    leaves[(base, 0)] = Registers(base + top, *signature)
    leaves[(base + 1, 0)] = Registers(hyperv.HV_INTERFACE if hv1 else filler.eax, 0, 0, 0)
    table = CpuidTable(leaves)
    (found,) = scan(table)
    decoded = decode_interface(table, found)
    vendor = found.known.vendor_id if found.known else None
    offsets = {s.name: s.offset for s in specs_for(vendor, found.interface)}
    for name in decoded:
        assert offsets[name] <= top
    for name, offset in offsets.items():
        assert (name in decoded) == (offset <= top)
