"""Hardware virtualization on constructed snapshots: feature bits, kernel view, /dev/kvm."""

from __future__ import annotations

from nestprobe.assess.hwvirt import assess_virtualization
from nestprobe.assess.identity import assess_hypervisor
from nestprobe.model.assessment import Virtualization
from nestprobe.model.snapshot import CpuidTable, FileFact, KvmDevice, OsFacts, Registers, Snapshot

AMD = Registers(0x10, 0x68747541, 0x444D4163, 0x69746E65)
INTEL = Registers(0x16, 0x756E6547, 0x6C65746E, 0x49656E69)
HV_BIT, VMX_BIT, SVM_BIT = 1 << 31, 1 << 5, 1 << 2
MSHV = (0x7263694D, 0x666F736F, 0x76482074)


def leaves(vendor: Registers = INTEL, *, vmx: bool = False, svm: bool = False, hv: bool = True,
           svm_leaf: Registers | None = None) -> dict[tuple[int, int], Registers]:
    out = {
        (0, 0): vendor,
        (1, 0): Registers(0x000306F2, 0, (HV_BIT if hv else 0) | (VMX_BIT if vmx else 0), 0),
        (0x80000000, 0): Registers(0x8000000A if svm_leaf else 0x80000008, 0, 0, 0),
        (0x80000001, 0): Registers(0, 0, SVM_BIT if svm else 0, 0),
    }
    if svm_leaf is not None:
        out[(0x8000000A, 0)] = svm_leaf
    return out


def assess(table: dict[tuple[int, int], Registers], files: dict[str, FileFact] | None = None,
           kvm: KvmDevice | None = None, status: str = "ok") -> Virtualization:
    snap = Snapshot(status, CpuidTable(table), OsFacts("Linux", "x86_64", files or {}, kvm))  # type: ignore[arg-type]
    return assess_virtualization(snap, assess_hypervisor(snap))


def cpuinfo(flags: str, vmx_flags: str | None = None) -> dict[str, FileFact]:
    text = f"processor\t: 0\nflags\t\t: {flags}\n"
    if vmx_flags is not None:
        text += f"vmx flags\t: {vmx_flags}\n"
    return {"/proc/cpuinfo": FileFact("ok", text)}


def test_vmx_exposed_with_ept_from_vmx_flags() -> None:
    v = assess(leaves(vmx=True), cpuinfo("fpu vmx hypervisor", "ept vpid unrestricted_guest"))
    assert (v.vmx, v.exposed, v.slat, v.can_host_vms, v.firmware_disabled) == (
        True, True, True, True, False)
    assert v.decoded["vmx_flags"]["flags"] == ("ept", "unrestricted_guest", "vpid")
    assert any(e.source == "/proc/cpuinfo:vmx flags" for e in v.evidence)


def test_vmx_without_ept() -> None:
    v = assess(leaves(vmx=True), cpuinfo("fpu vmx", "vnmi vpid"))
    assert v.slat is False
    assert v.can_host_vms is True


def test_firmware_disabled_when_kernel_dropped_vmx() -> None:
    v = assess(leaves(vmx=True, hv=False), cpuinfo("fpu sse2"))
    assert v.exposed is True
    assert v.firmware_disabled is True
    assert v.can_host_vms is False


def test_dump_without_os_facts_cannot_tell_firmware_state() -> None:
    v = assess(leaves(vmx=True, hv=False))
    assert v.firmware_disabled is None
    assert v.slat is None
    assert v.kvm_device is None
    assert v.can_host_vms is True


def test_vmx_on_amd_vendor_keys_on_the_bit() -> None:
    v = assess(leaves(AMD, vmx=True))
    assert v.vmx is True
    assert v.exposed is True


def test_svm_leaf_populated_but_svm_clear_is_ignored() -> None:
    v = assess(leaves(AMD, svm_leaf=Registers(1, 0x10, 0, 0)))  # libcpuid cpu64-rhel6 shape
    assert v.svm is False
    assert v.exposed is False
    assert v.slat is None
    assert "svm" in v.decoded


def test_svm_with_npt() -> None:
    v = assess(leaves(AMD, svm=True, svm_leaf=Registers(1, 8, 0, 9)))
    assert (v.svm, v.exposed, v.slat) == (True, True, True)
    assert any(e.source == "CPUID.0x8000000a:EDX[0]" for e in v.evidence)


def test_root_partition_hides_vmx_but_hosts_vms() -> None:
    table = leaves() | {
        (0x40000000, 0): Registers(0x4000000B, *MSHV),
        (0x40000001, 0): Registers(0x31237648, 0, 0, 0),
        (0x40000003, 0): Registers(0x2E7F, 0x002BB9FF, 0, 0),
        (0x40000006, 0): Registers(0x0000000F, 0, 0, 0),
    }
    v = assess(table)
    assert v.exposed is False
    assert v.can_host_vms is True
    assert v.slat is True
    assert any("root" in e.claim for e in v.evidence)


def test_pvm_backed_kvm_is_software_nesting_only() -> None:
    files = cpuinfo("fpu hypervisor") | {"/sys/module/kvm_pvm": FileFact("dir"),
                                         "/sys/module/kvm": FileFact("dir"),
                                         "/sys/module/kvm_amd": FileFact("absent")}
    v = assess(leaves(AMD), files, KvmDevice("usable", api_version=12, create_vm=True))
    assert v.exposed is False
    assert v.kvm_backend == "kvm_pvm"
    assert v.software_nesting_only is True
    assert v.can_host_vms is True
    assert any("PVM guests" in e.claim for e in v.evidence)


def test_no_vt_and_no_kvm_cannot_host() -> None:
    v = assess(leaves(), cpuinfo("fpu hypervisor"), KvmDevice("absent", error="ENOENT"))
    assert v.can_host_vms is False
    assert v.kvm_device == "absent"
    assert v.software_nesting_only is False


def test_nested_parameter_of_loaded_backend() -> None:
    files = cpuinfo("fpu vmx", "ept") | {
        "/sys/module/kvm_intel": FileFact("dir"),
        "/sys/module/kvm_intel/parameters/nested": FileFact("ok", "Y\n"),
    }
    v = assess(leaves(vmx=True), files, KvmDevice("usable", api_version=12, create_vm=True))
    assert v.kvm_backend == "kvm_intel"
    assert v.kvm_nested_param == "Y"
    assert v.software_nesting_only is False


def test_cpuid_unavailable_is_none_not_false() -> None:
    v = assess({}, status="not-x86")
    assert (v.vmx, v.svm, v.exposed, v.slat, v.can_host_vms) == (None, None, None, None, None)


def test_cpuid_unavailable_falls_back_to_kernel_flags() -> None:
    v = assess({}, cpuinfo("fpu svm"), status="absent")
    assert v.vmx is None
    assert v.exposed is True
