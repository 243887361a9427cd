"""The one-line answer names the deciding layer and blames the BIOS only when it is the cause."""

from __future__ import annotations

import pytest
from conftest import dump_path

import nestprobe
from nestprobe.decode.masks import INTEL_MASK
from nestprobe.model.snapshot import CpuidTable, FileFact, OsFacts, Registers, Snapshot
from nestprobe.output.answer import answer
from nestprobe.pipeline import build_report

# (dump, start of the answer, a phrase it must contain, why)
CASES = [
    ("instlatx64-hvroot-GenuineIntel00A0654_CometLake_CPUID.txt", "Yes:", "root partition",
     "a Windows host with Hyper-V running hosts VMs although VT-x is hidden"),
    ("firecracker-t2.txt", "No:", "outer hypervisor does not pass VT-x",
     "a KVM guest with VMX masked: the outer layer must change"),
    ("azure-hyperv-guest-nested-vmx.txt", "Yes:", "VT-x",
     "Azure with ExposeVirtualizationExtensions: VMX reaches the guest"),
    ("baremetal-i7-6900k-negative.txt", "Yes:", "bare metal", "no hypervisor, VMX present"),
    ("instlatx64-woa-x86emu-AuthenticAMD0600F01_X1_x64_CPUID.txt", "No", "x86 instruction emulator",
     "x64 emulation on Windows on ARM: no hardware virtualization to pass on"),
    ("azure-tdx-cvm-hyperv.txt", "No:", "confidential VM",
     "a TDX confidential VM offers no nesting"),
    ("manusov-vbox-WinXP_32-asus-n750jk.txt", "No:", "a hypervisor that hides itself",
     "VirtualBox legacy: bit and signature hidden, the co-masked features show it"),
    ("rjcp-hvroot-i7-8565U.xml.txt", "Yes:", "almost certainly a Windows host",
     "a root partition whose dump names no OS: Windows, said with how sure"),
    ("fragments-wsl2-qemuuser-hyperv-from-issues.txt", "Cannot tell", "is unknown",
     "no leaf 1: the answer must not say No while every verdict says unknown"),
    ("virtualbox-kvm-paravirt-i7-4980hq.txt", "No:", "VirtualBox (KVM paravirtualization",
     "KVM's signature with VirtualBox's feature set: VirtualBox answers"),
]


@pytest.mark.parametrize(("dump", "start", "phrase", "why"), CASES)
def test_answer_for_corpus_dumps(dump: str, start: str, phrase: str, why: str) -> None:
    text = answer(nestprobe.load(str(dump_path(dump))))
    assert text.startswith(start), why
    assert phrase in text, why
    assert "BIOS" not in text, why


_NATIVE_ECX = sum(1 << b.bit for b in INTEL_MASK if b.register == "ecx")
_NATIVE_EDX = sum(1 << b.bit for b in INTEL_MASK if b.register == "edx")


def _snapshot(cpuinfo_flags: str) -> Snapshot:
    intel = (0x756E6547, 0x6C65746E, 0x49656E69)
    table = CpuidTable({
        (0, 0): Registers(1, intel[0], intel[1], intel[2]),
        # VMX set, hypervisor bit clear, and the features physical Intel CPUs report with it
        # (decode/masks.py INTEL_MASK): without them the CPU shows a hypervisor's mask.
        (1, 0): Registers(0x906EA, 0, 1 << 5 | _NATIVE_ECX, _NATIVE_EDX),
    })
    cpuinfo = f"processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: {cpuinfo_flags}\n"
    os_facts = OsFacts(system="Linux", machine="x86_64",
                       files={"/proc/cpuinfo": FileFact("ok", cpuinfo)})
    return Snapshot("ok", table, os_facts)


def test_firmware_is_named_only_when_the_kernel_dropped_vmx() -> None:
    disabled = answer(build_report(_snapshot("fpu sse2")))
    assert "firmware" in disabled
    enabled = answer(build_report(_snapshot("fpu sse2 vmx")))
    assert enabled.startswith("Yes: bare metal")
    assert "firmware" not in enabled


def test_no_cpuid_cannot_tell() -> None:
    snap = Snapshot("not-x86", CpuidTable({}), OsFacts(system="Linux", machine="aarch64"),
                    cpuid_detail="this machine is aarch64, not x86")
    assert answer(build_report(snap)).startswith("Cannot tell")


def test_x86_flags_of_another_machine_are_not_this_os() -> None:
    """Under qemu-user an aarch64 process reads the x86 host's /proc/cpuinfo: that says nothing
    about this OS, so nothing may be blocked on it (found running the package on aarch64)."""
    cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu hypervisor\n"
    facts = OsFacts(system="Linux", machine="aarch64",
                    files={"/proc/cpuinfo": FileFact("ok", cpuinfo)})
    report = build_report(Snapshot("not-x86", CpuidTable({}), facts,
                                   cpuid_detail="this machine is aarch64"))
    assert answer(report).startswith("Cannot tell")
    assert report.assessment.virtualization.exposed is None
    assert report.assessment.cpu.vendor is None  # not the x86 host's AuthenticAMD
    assert not report.assessment.hypervisor.detected
    assert {v.status for v in report.verdicts} == {"unknown"}


def test_faulting_cpuid_falls_back_to_the_kernel_view_with_its_source() -> None:
    cpuinfo = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu hypervisor\n"
    facts = OsFacts(system="Linux", machine="x86_64",
                    files={"/proc/cpuinfo": FileFact("ok", cpuinfo)})
    report = build_report(Snapshot("faulting", CpuidTable({}), facts,
                                   cpuid_detail="CPUID faults for this process"))
    hv, virt = report.assessment.hypervisor, report.assessment.virtualization
    assert hv.detected
    assert virt.exposed is False
    text = answer(report)
    assert "a guest of an unidentified hypervisor" in text
    cited = {e.source for e in (*hv.evidence, *virt.evidence)}
    assert "/proc/cpuinfo:flags" in cited
    assert not any(s.startswith("CPUID.0x1:") for s in cited), "no CPUID was read"


AMD = (0x68747541, 0x444D4163, 0x69746E65)  # "Auth", "cAMD", "enti": EBX, ECX, EDX
INTEL = (0x756E6547, 0x6C65746E, 0x49656E69)


def _without_the_extension_leaf(vendor: tuple[int, int, int], leaf1: bool) -> Snapshot:
    """A KVM guest whose snapshot lacks the leaf holding its vendor's extension bit."""
    leaves = {(0, 0): Registers(0x10, *vendor),
              (0x40000000, 0): Registers(0x40000001, 0x4B4D564B, 0x564B4D56, 0x4D),
              (0x40000001, 0): Registers(0, 0, 0, 0),
              (0x80000000, 0): Registers(0x80000008, 0, 0, 0)}
    if leaf1:
        leaves[(1, 0)] = Registers(0xA00F11, 0, 1 << 31, 0)
    return Snapshot("ok", CpuidTable(leaves), OsFacts(system="Linux", machine="x86_64"))


@pytest.mark.parametrize(("vendor", "leaf1", "missing", "ext"), [
    (AMD, True, "CPUID leaf 0x80000001", "AMD-V"),
    (INTEL, False, "CPUID leaf 1", "VT-x"),
])
def test_cannot_tell_names_the_leaf_that_is_missing(
        vendor: tuple[int, int, int], leaf1: bool, missing: str, ext: str) -> None:
    text = answer(build_report(_without_the_extension_leaf(vendor, leaf1)))
    assert text.startswith(f"Cannot tell: the snapshot holds neither {missing} nor the "
                           f"kernel's flags, so whether {ext} reaches this OS is unknown")


def test_cannot_tell_without_a_vendor_claims_no_leaf_missing() -> None:
    """Leaf 1 shown (VMX clear), no leaf 0 and no 0x80000001: SVM's bit is unread."""
    leaves = {(1, 0): Registers(0xA00F11, 0, 1 << 31, 0),
              (0x40000000, 0): Registers(0x40000001, 0x4B4D564B, 0x564B4D56, 0x4D),
              (0x40000001, 0): Registers(0, 0, 0, 0)}
    report = build_report(Snapshot("ok", CpuidTable(leaves),
                                   OsFacts(system="Linux", machine="x86_64")))
    text = answer(report)
    assert text.startswith("Cannot tell: neither the snapshot's CPUID leaves nor the kernel's "
                           "flags show which extension this CPU has, so whether VT-x/AMD-V "
                           "reaches this OS is unknown")
    assert "leaf 1" not in text
