"""Firmware is told first only on positive evidence: over the corpus and generated snapshots.

Firmware turns VT-x off in IA32_FEATURE_CONTROL (AMD-V in VM_CR) and leaves the CPUID bit
set; Linux then drops only its own flag (arch/x86/kernel/cpu/feat_ctl.c). So the positive
evidence is: CPUID has the bit and the kernel's flag is gone, or (with only the kernel's
view) a CPU that has it on every SKU shows every feature a hypervisor would hide, yet no
vmx/svm flag. Anything else sending a user to the BIOS first is the bug issue #10 is about.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import cases, every_dump
from hypothesis import given, settings
from hypothesis import strategies as st

from nestprobe.model.report import Report
from nestprobe.model.snapshot import CpuidTable, FileFact, KvmDevice, OsFacts, Registers, Snapshot
from nestprobe.output.jsonreport import report_to_dict
from nestprobe.pipeline import build_report
from nestprobe.sources.load import load_snapshot


def _flags(report: Report) -> frozenset[str] | None:
    text = report.snapshot.os.text("/proc/cpuinfo")
    if text is None:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return frozenset(value.split())
    return None


def check_firmware_claims(report: Report) -> None:
    """The invariant, for one report."""
    virt = report.assessment.virtualization
    raw = virt.vmx is not None or virt.svm is not None
    if virt.firmware_disabled:
        flags = _flags(report)
        assert flags is not None, "firmware evidence without the kernel's view"
        if raw:
            # CPUID has the extension and the kernel dropped that very flag.
            assert any(on and name not in flags
                       for name, on in (("vmx", virt.vmx), ("svm", virt.svm))), \
                "firmware blamed for a CPUID bit that is clear, or a flag the kernel kept"
        else:
            assert not ({"vmx", "svm"} & flags), "the kernel kept its flag"
    for verdict in report.verdicts:
        layers = [r.layer for r in verdict.remediation]
        if layers and layers[0] == "firmware":
            assert virt.firmware_disabled, (verdict.scenario, verdict.rule)
        if "firmware" in layers and not virt.firmware_disabled:
            # Only when nothing but the kernel's flags was read, and never first.
            assert not raw, (verdict.scenario, verdict.rule)
            assert layers[0] != "firmware"
    # Every report stays serialisable whatever was generated.
    json.dumps(report_to_dict(report))


@pytest.mark.parametrize("path", cases(every_dump(), "no dumps: neither the corpus nor own"),
                         ids=lambda p: getattr(p, "name", "none"))
def test_corpus_never_sends_to_the_firmware_first_without_evidence(path: Path) -> None:
    check_firmware_claims(build_report(load_snapshot(str(path))))


# --- generated snapshots -----------------------------------------------------------------

VENDORS = {
    "GenuineIntel": (0x756E6547, 0x6C65746E, 0x49656E69),
    "AuthenticAMD": (0x68747541, 0x69746E65, 0x444D4163),
}
SIGNATURES = {
    "kvm": (0x4B4D564B, 0x564B4D56, 0x0000004D),
    "microsoft": (0x7263694D, 0x666F736F, 0x76482074),
    "vmware": (0x61774D56, 0x4D566572, 0x65726177),
    "vbox": (0x786F4256, 0x786F4256, 0x786F4256),
}
BRANDS = (None, b"Intel(R) Core(TM) i7-4700HQ CPU @ 2.40GHz", b"AMD Ryzen 7 1700 Eight-Core",
          b"AMD EPYC-Rome Processor", b"QEMU Virtual CPU version 2.5+", b"Unknown CPU")
#: Leaf-1 ECX/EDX patterns: the WinXP guest (masked), its host (native), and random.
LEAF1 = ((0x56DA220B, 0x178BF9FF), (0x7FFAFBBF, 0xBFEBFBFF))
FLAG_POOL = ("vmx", "svm", "hypervisor", "est", "tm2", "ds_cpl", "dtes64", "xtpr", "dts", "acpi",
             "tm", "pbe", "skinit", "wdt", "sse2", "ept")


def _brand(raw: bytes) -> dict[tuple[int, int], Registers]:
    padded = raw.ljust(48, b"\0")
    words = [int.from_bytes(padded[i:i + 4], "little") for i in range(0, 48, 4)]
    return {(leaf, 0): Registers(*words[4 * n:4 * n + 4])
            for n, leaf in enumerate((0x80000002, 0x80000003, 0x80000004))}


@st.composite
def snapshots(draw: st.DrawFn) -> Snapshot:
    vendor = draw(st.sampled_from(sorted(VENDORS)))
    raw = draw(st.booleans())
    leaves: dict[tuple[int, int], Registers] = {}
    if raw:
        ecx, edx = draw(st.one_of(st.sampled_from(LEAF1),
                                  st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))))
        ecx = ecx & ~(1 << 31) | (draw(st.booleans()) << 31)
        ecx = ecx & ~(1 << 5) | (draw(st.booleans()) << 5)
        family_model = draw(st.sampled_from((0x000306C3, 0x00800F11, 0x00A10F11, 0x000006F2)))
        leaves[(0, 0)] = Registers(0xD, *VENDORS[vendor][:1], VENDORS[vendor][2],
                                   VENDORS[vendor][1])
        leaves[(1, 0)] = Registers(family_model, 0, ecx, edx)
        leaves[(0x80000000, 0)] = Registers(0x80000008, 0, 0, 0)
        leaves[(0x80000001, 0)] = Registers(0, 0, draw(st.integers(0, 2**32 - 1)), 0)
        brand = draw(st.sampled_from(BRANDS))
        if brand is not None:
            leaves |= _brand(brand)
        signature = draw(st.sampled_from((None, *sorted(SIGNATURES))))
        if signature is not None:
            leaves[(0x40000000, 0)] = Registers(0x40000006, *SIGNATURES[signature])
            if draw(st.booleans()):
                leaves[(0x40000001, 0)] = Registers(0x31237648, 0, 0, 0)  # Hv#1
                leaves[(0x40000002, 0)] = draw(st.sampled_from((
                    Registers(0x3839, 0x000A0000, 0, 0), Registers(0x4F7C, 0x000A0000, 1, 0x5B6),
                    Registers(0x3839, 0x000A0000, 2, 0x8E1))))
                leaves[(0x40000003, 0)] = Registers(0x2E7F, draw(st.sampled_from(
                    (0x003B8030, 0x002BB9FF))), 0, 0)
    files: dict[str, FileFact] = {}
    if draw(st.booleans()) or not raw:
        flags = draw(st.lists(st.sampled_from(FLAG_POOL), unique=True))
        name = draw(st.sampled_from(BRANDS)) or b"CPU"
        files["/proc/cpuinfo"] = FileFact("ok", (
            f"processor\t: 0\nvendor_id\t: {vendor}\ncpu family\t: 6\nmodel\t\t: 60\n"
            f"model name\t: {name.decode()}\nflags\t\t: {' '.join(flags)}\n"))
    if draw(st.booleans()):
        files["/proc/xen/capabilities"] = FileFact("ok", draw(st.sampled_from(("control_d\n",
                                                                              "\n"))))
    kvm = draw(st.sampled_from((None, "absent", "no-access", "usable")))
    device = None if kvm is None else KvmDevice(state=kvm, api_version=12 if kvm == "usable"
                                                else None, create_vm=kvm == "usable" or None)
    os_facts = OsFacts(system=draw(st.sampled_from(("Linux", "unknown"))), machine="x86_64",
                       files=files, kvm=device)
    if not raw:
        return Snapshot("absent", CpuidTable(), os_facts, cpuid_detail="kernel view only")
    return Snapshot("ok", CpuidTable(leaves), os_facts)


@settings(max_examples=300, deadline=None)
@given(snapshots())
def test_generated_snapshots_never_send_to_the_firmware_first_without_evidence(
    snapshot: Snapshot,
) -> None:
    check_firmware_claims(build_report(snapshot))


def test_the_generator_reaches_every_kind_of_firmware_verdict() -> None:
    """Without these the property above could pass by never reaching a firmware rule."""
    intel = VENDORS["GenuineIntel"]
    table = CpuidTable({(0, 0): Registers(0xD, intel[0], intel[2], intel[1]),
                        (1, 0): Registers(0x000306C3, 0, 0x7FFAFBBF, 0xBFEBFBFF)})
    native = "fpu est tm2 ds_cpl dtes64 xtpr dts acpi tm pbe sse2"
    cpuinfo = ("processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 60\n"
               "model name\t: Intel(R) Core(TM) i7-4700HQ CPU @ 2.40GHz\nflags\t\t: " + native)
    files = {"/proc/cpuinfo": FileFact("ok", cpuinfo + "\n")}
    dropped = build_report(Snapshot("ok", table, OsFacts("Linux", "x86_64", files)))
    assert dropped.assessment.virtualization.firmware_disabled is True
    assert dropped.verdicts["hyperv"].remediation[0].layer == "firmware"
    kernel_only = build_report(Snapshot("absent", CpuidTable(), OsFacts("Linux", "x86_64", files)))
    assert kernel_only.assessment.virtualization.firmware_disabled is True
    assert kernel_only.verdicts["hyperv"].remediation[0].layer == "firmware"
    masked = cpuinfo.replace(native, "fpu sse2") + "\n"
    hidden = build_report(Snapshot("absent", CpuidTable(), OsFacts(
        "Linux", "x86_64", {"/proc/cpuinfo": FileFact("ok", masked)})))
    assert hidden.assessment.hypervisor.hidden
    assert hidden.verdicts["hyperv"].remediation[0].layer == "outer-hypervisor"
    for report in (dropped, kernel_only, hidden):
        check_firmware_claims(report)
