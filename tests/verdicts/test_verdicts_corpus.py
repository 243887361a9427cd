"""The corpus test table: every real dump through the whole pipeline, with the expected
status per scenario and why, and this machine through the live probe.

Statuses: S supported, E evaluation-only, N unsupported (may work), X blocked, U unknown;
columns hyperv, wsl2, hyperv-containers, azure-local, third-party. ``fix`` is text the
first remediation must contain (None: no remediation expected for any scenario), which
pins the layer and vendor the user is sent to.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import dump_path

from nestprobe.model.assessment import Assessment
from nestprobe.model.verdicts import SCENARIOS, WINDOWS_SCENARIOS, Verdicts
from nestprobe.pipeline import build_report
from nestprobe.sources.load import load_snapshot

CODES = {"S": "supported", "E": "evaluation-only", "N": "unsupported", "X": "blocked",
         "U": "unknown"}
BIOS_WORDS = re.compile(r"bios|uefi|firmware", re.IGNORECASE)


@dataclass(frozen=True)
class Case:
    file: str
    statuses: str  # five codes, SCENARIOS order
    layer: str | None  # layer of the hyperv verdict's first remediation
    fix: str | None  # text in that remediation (vendor switch), None = no remediation
    why: str


HV_ROOT = ("SSSSN", None, None,
           "Windows root partition of Hyper-V (CreatePartitions in 0x40000003): it is the host; "
           "VMX hidden by design; 3P only via WHP")
KVM_OFF = ("XXXXX", "outer-hypervisor", "nested=1",
           "KVM guest without VMX/SVM: the L0 VMM did not expose it; the KVM host's switch")
KVM_ON = ("NNNNS", None, None,
          "KVM guest with VMX/SVM: nested KVM is upstream-supported; Microsoft does not support "
          "Hyper-V on non-Microsoft L0")
VBOX_KVM_PV = ("XXXXX", "outer-hypervisor", "--nested-hw-virt on",
               "VirtualBox with the KVM paravirt provider: KVM's signature with VirtualBox's "
               "feature set, so VirtualBox's switch first and KVM's second")

TABLE: tuple[Case, ...] = (
    Case("aws-xen-c3large.txt", "XXXXX", "outer-hypervisor", "C8i/M8i/R8i",
         "Xen HVM on AWS c3.large, no VMX; CPUID alone cannot name AWS, so Xen's nestedhvm "
         "with the EC2 note"),
    Case("aws-xen-t2micro.txt", "XXXXX", "outer-hypervisor", "nestedhvm=1",
         "Xen HVM on AWS t2.micro, no VMX"),
    Case("rjcp-aws-xen-e5-2676v3.xml.txt", "XXXXX", "outer-hypervisor", "nestedhvm=1",
         "Xen 4.2 HVM on AWS (m4 class), no VMX"),
    Case("azure-hyperv-guest-nested-vmx.txt", "SSSEN", None, None,
         "Azure Hyper-V guest with VMX exposed: Microsoft supports HV/WSL2/HVC nested; Azure "
         "Local evaluation only; non-Microsoft hypervisors unsupported"),
    Case("azure-tdx-cvm-hyperv.txt", "XXXXX", "outer-hypervisor", "not confidential",
         "Azure TDX confidential VM (isolation bit in 0x40000003): confidential VMs cannot nest"),
    Case("baremetal-i7-6900k-negative.txt", "SSSSS", None, None,
         "bare-metal i7-6900K with VMX: everything runs as on any physical host"),
    Case("manusov-vbox-HOST-asus-n750jk-baremetal.txt", "SSSSS", None, None,
         "bare-metal host of the VirtualBox dumps, VMX on"),
    Case("firecracker-c3.txt", *KVM_OFF),
    Case("firecracker-t2.txt", *KVM_OFF),
    Case("firecracker-t2s.txt", *KVM_OFF),
    Case("firecracker-t2cl.txt", *KVM_OFF),
    Case("firecracker-fingerprint-INTEL_SAPPHIRE_RAPIDS_6.1host.txt", *KVM_OFF),
    Case("firecracker-fingerprint-AMD_MILAN_6.1host.txt", "XXXXX", "outer-hypervisor",
         "kvm-amd nested=1", "Firecracker on Milan metal, SVM hidden: the kvm_amd switch"),
    Case("firecracker-fingerprint-AMD_GENOA_6.1host.txt", "XXXXX", "outer-hypervisor",
         "kvm-amd nested=1", "Firecracker on Genoa metal, SVM hidden: the kvm_amd switch"),
    Case("firecracker-t2a.txt", "NNNNS", None, None,
         "T2A template advertises SVM (0x80000001 ECX[2], 0x8000000A): KVM-on-KVM works"),
    Case("kvm-hostmodel-i7-8650u-nested-vmx.txt", *KVM_ON),
    Case("kvm-qemu-tcgmodel-on-kvm-vmx.txt", *KVM_ON),
    Case("rjcp-kvm-qnx-guest-nested-vmx-i7-6700T.xml.txt", *KVM_ON),
    Case("hwloc-qemu-kvm-qemu64-pu0.txt", "XXXXX", "outer-hypervisor", "-cpu host",
         "QEMU qemu64 model with no hypervisor leaves: the hypervisor bit shows a VM, QEMU's "
         "model name names QEMU; no VMX: QEMU/KVM's switch"),
    Case("libcpuid-qemu-cpu64-rhel6.txt", "XXXXX", "outer-hypervisor", "-cpu host",
         "QEMU cpu64-rhel6 with no hypervisor leaves: QEMU by its model name, no VMX"),
    Case("virtualbox-kvm-paravirt-i7-4980hq.txt", *VBOX_KVM_PV),
    Case("manusov-vbox-Centos_64-asus-n750jk.txt", *VBOX_KVM_PV),
    Case("manusov-vbox-Ubuntu_32-asus-n750jk.txt", *VBOX_KVM_PV),
    Case("manusov-vbox-Ubuntu_64-asus-n750jk.txt", *VBOX_KVM_PV),
    Case("manusov-vbox-Win7_32-asus-n750jk.txt", "XXXXX", "outer-hypervisor",
         "--nested-hw-virt on", "VirtualBox (VBoxVBoxVBox) without nested VT-x"),
    Case("manusov-vbox-Win7_64-asus-n750jk.txt", "XXXXX", "outer-hypervisor",
         "--nested-hw-virt on", "VirtualBox (VBoxVBoxVBox) without nested VT-x"),
    Case("manusov-vbox-WinXP_32-asus-n750jk.txt", "XXXXX", "outer-hypervisor",
         "--nested-hw-virt on",
         "VirtualBox legacy hides the hypervisor bit, its signature and VT-x, with the features "
         "hypervisors hide together, on an i7-4700HQ that has VT-x: a hiding hypervisor's "
         "switch, never the firmware (which leaves the CPUID bit set)"),
    Case("manusov-vbox-WinXP_64-asus-n750jk.txt", "XXXXX", "outer-hypervisor",
         "--nested-hw-virt on", "as WinXP_32"),
    Case("utillinux-lscpu-vbox43-win7host-cpuinfo.txt", "XXXXX", "outer-hypervisor",
         "--nested-hw-virt on",
         "cpuinfo only, no hypervisor flag, no vmx, and none of est/tm2/ds_cpl/xtpr/acpi/tm/pbe "
         "on an i5-3317U: a hypervisor's mask, so its switch"),
    Case("rjcp-vmware-workstation-i7-6600U.xml.txt", "XXXXX", "outer-hypervisor",
         'vhv.enable = "TRUE"', "VMware Workstation without vhv"),
    Case("rjcp-vmware-workstation-i7-6700K.xml.txt", "XXXXX", "outer-hypervisor",
         "Virtualize Intel VT-x/EPT", "VMware Workstation without vhv"),
    Case("rjcp-vmware-esx-xeon-e5-2670v3.xml.txt", "XXXXX", "outer-hypervisor",
         "Expose hardware assisted virtualization", "VMware ESXi-class without vhv"),
    Case("instlatx64-woa-x86emu-Virtual_CPU_0000F4A_Snap850_CPUID.txt", "XXXXX", "host-os",
         "x86-64 machine", "x86 emulation on Windows on Arm: no VT-x to pass on"),
    Case("instlatx64-woa-x86emu-AuthenticAMD0600F01_X1_x64_CPUID.txt", "XXXXX", "host-os",
         "x86-64 machine", "x64 emulation on Windows on Arm (Surface Pro X)"),
    Case("fragments-wsl2-qemuuser-hyperv-from-issues.txt", "UUUUU", None, None,
         "three leaves only (no leaf 1): exposure cannot be told"),
    *(Case(name, *HV_ROOT) for name in (
        "instlatx64-hvroot-AuthenticAMD0700F01_K16_Kabini3_CPUID.txt",
        "instlatx64-hvroot-AuthenticAMD0800F12_K17_Zen_CPUID4.txt",
        "instlatx64-hvroot-AuthenticAMD0850F00_K17_Zen_CPUID3.txt",
        "instlatx64-hvroot-GenuineIntel00206E6_Beckton_CPUID2.txt",
        "instlatx64-hvroot-GenuineIntel00606C1_ICX_01v_CPUID.txt",
        "instlatx64-hvroot-GenuineIntel00A0654_CometLake_CPUID.txt",
        "instlatx64-hvroot-GenuineIntel00A0655_CometLake_CPUID3.txt",
        "instlatx64-hvroot-GenuineIntel00A0671_RocketLake_CPUID4.txt",
        "rjcp-hvroot-i7-2630QM.xml.txt",
        "rjcp-hvroot-i7-8565U.xml.txt",
        "rjcp-hvroot-surfacebook-i7-6600U.xml.txt",
    )),
)


def _verdicts(path: Path) -> tuple[Assessment, Verdicts]:
    report = build_report(load_snapshot(str(path)))
    return report.assessment, report.verdicts


def _statuses(verdicts: Verdicts) -> str:
    back = {v: k for k, v in CODES.items()}
    return "".join(back[verdicts[s].status] for s in SCENARIOS)


def test_table_covers_every_dump(corpus_dumps: Path) -> None:
    assert {c.file for c in TABLE} == {p.name for p in corpus_dumps.iterdir()}
    assert len(TABLE) == len({c.file for c in TABLE})


@pytest.mark.parametrize("case", TABLE, ids=lambda c: c.file)
def test_corpus_verdicts(case: Case) -> None:
    _, verdicts = _verdicts(dump_path(case.file))
    assert _statuses(verdicts) == case.statuses, case.why
    hyperv = verdicts["hyperv"]
    if case.fix is None:
        assert hyperv.remediation == (), case.why
        return
    assert hyperv.remediation, case.why
    first = hyperv.remediation[0]
    assert first.layer == case.layer, case.why
    text = "\n".join(s for r in hyperv.remediation for s in (r.where, *r.steps))
    assert case.fix in text, case.why
    if case.statuses == VBOX_KVM_PV[0] and case.fix == VBOX_KVM_PV[2] and "vbox" in case.file:
        # VirtualBox first, whatever interface it presents.
        assert "VBoxManage modifyvm" in first.steps[0], case.why


@pytest.mark.parametrize("case", TABLE, ids=lambda c: c.file)
def test_corpus_never_blames_the_bios_wrongly(case: Case) -> None:
    a, verdicts = _verdicts(dump_path(case.file))
    bare_no_vt = (not a.hypervisor.detected and not a.hypervisor.emulated
                  and a.virtualization.exposed is False)
    if a.virtualization.firmware_disabled or bare_no_vt:
        return
    for verdict in verdicts:
        blob = json.dumps([*(r.to_dict() for r in verdict.reasons),
                           *(r.to_dict() for r in verdict.remediation)])
        assert not BIOS_WORDS.search(blob), (verdict.scenario, blob)


def test_corpus_reasons_carry_the_cpuid_evidence() -> None:
    _, verdicts = _verdicts(dump_path("rjcp-vmware-workstation-i7-6700K.xml.txt"))
    sources = {r.source for r in verdicts["wsl2"].reasons}
    assert "CPUID.0x1:ECX[5]" in sources
    vmx = next(r for r in verdicts["wsl2"].reasons if r.source == "CPUID.0x1:ECX[5]")
    assert vmx.value in (0, False)


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


@pytest.mark.live
def test_this_machine() -> None:
    """This machine, judged against its own OS files rather than a hard-coded answer.

    Here: a Firecracker KVM guest on AMD EPYC, hypervisor bit set, no SVM, /dev/kvm from
    kvm_pvm, so expect XXXXN: Windows scenarios blocked by the outer KVM (its switch, not
    the BIOS) and third-party "unsupported" because PVM runs PVM guests only.
    """
    from nestprobe.sources.live import live_snapshot

    report = build_report(live_snapshot(timing=False))
    if report.snapshot.cpuid_status != "ok":
        assert {v.status for v in report.verdicts} == {"unknown"}
        pytest.skip(f"CPUID unavailable here ({report.snapshot.cpuid_status}): verdicts unknown")
    verdicts = report.verdicts
    cpuinfo = _read("/proc/cpuinfo") or ""
    flags = set(next((ln.split(":", 1)[1].split() for ln in cpuinfo.splitlines()
                      if ln.startswith("flags")), []))
    in_vm = "hypervisor" in flags
    has_vt = bool(flags & {"vmx", "svm"})
    pvm = Path("/sys/module/kvm_pvm").is_dir()
    if in_vm and not has_vt:
        for scenario in WINDOWS_SCENARIOS:
            verdict = verdicts[scenario]
            assert verdict.status == "blocked"
            assert verdict.remediation[0].layer in ("outer-hypervisor", "cloud")
            blob = json.dumps([*(r.to_dict() for r in verdict.reasons),
                               *(r.to_dict() for r in verdict.remediation)])
            assert not BIOS_WORDS.search(blob)
    if pvm and not has_vt:
        third = verdicts["third-party"]
        assert third.rule == "pvm-software-nesting"
        assert third.status == "unsupported"
        assert third.remediation[0].layer == "this-os"
    if not in_vm and has_vt:
        assert verdicts["hyperv"].status == "supported"
    assert all(v.rule != "uncovered" for v in verdicts)


@pytest.mark.parametrize("name", ["manusov-vbox-WinXP_32-asus-n750jk.txt",
                                  "manusov-vbox-WinXP_64-asus-n750jk.txt"])
def test_hidden_virtualbox_names_the_outer_hypervisor_and_no_certain_level(
    name: str,
) -> None:
    """VirtualBox legacy hides the bit and its signature: the peer tools' "enable it in the
    BIOS" is wrong (CPUID's VMX bit is clear, which firmware never does), the level is not 0."""
    report = build_report(load_snapshot(str(dump_path(name))))
    a, verdicts = report.assessment, report.verdicts
    assert a.hypervisor.hidden
    assert a.nesting.level is None
    assert a.nesting.confidence in ("low", "none")
    for verdict in verdicts:
        layers = [r.layer for r in verdict.remediation]
        assert layers == ["outer-hypervisor"], verdict.scenario
        assert "--nested-hw-virt on" in verdict.remediation[0].steps[0]
    answer = report_answer(report)
    assert answer.startswith("No: a hypervisor that hides itself")
    assert "BIOS" not in answer


def report_answer(report: object) -> str:
    from nestprobe.output.answer import answer

    return answer(report)  # type: ignore[arg-type]


@pytest.mark.parametrize("case", TABLE, ids=lambda c: c.file)
def test_every_dump_gets_conditions_with_states(case: Case) -> None:
    """Every verdict's conditions are checks: a state, and the evidence that decided it or
    where to confirm it; an unmet one that changes the verdict is in the reasons (the others,
    such as an AMD root partition too old for its VMs to nest, stay in the conditions)."""
    from nestprobe.verdicts.conditions import CONDITIONS

    _, verdicts = _verdicts(dump_path(case.file))
    assert any(v.conditions for v in verdicts), case.why
    for verdict in verdicts:
        for c in verdict.conditions:
            assert c.state in ("met", "unmet", "unknown")
            assert c.source
            if c.state == "unknown":
                assert c.confirm, c.id
            else:
                assert c.confirm is None
                assert c.evidence, c.id
            if c.state == "unmet" and CONDITIONS[c.id].unmet_status is not None:
                assert any(c.text in r.claim for r in verdict.reasons), c.id
        if verdict.status in ("supported", "evaluation-only"):
            assert verdict.remediation == (), (case.file, verdict.scenario)


ROOTS = [c.file for c in TABLE if "hvroot" in c.file]


@pytest.mark.parametrize("name", ROOTS)
def test_root_partition_dumps_agree_with_themselves(name: str) -> None:
    """No OS recorded; CPUID proves a Hyper-V root partition: Windows, almost always, and the
    facts, conditions and answer all say so."""
    report = build_report(load_snapshot(str(dump_path(name))))
    env = report.assessment.environment
    assert (env.os, env.os_confidence, env.wsl) == ("Windows", "high", False)
    answer = report_answer(report)
    assert "almost certainly a Windows host" in answer
    for verdict in report.verdicts:
        assert not any("not Windows" in c for c in verdict.caveats)
        states = {c.id: c.state for c in verdict.conditions}
        if verdict.scenario != "third-party":
            assert states["windows-here"] == "met"
            assert states["hypervisor-launches"] == "met"
    third = report.verdicts["third-party"]
    assert third.remediation == ()
    assert third.options
    assert third.options[0].goal


@pytest.mark.parametrize("name", ["rjcp-vmware-workstation-i7-6600U.xml.txt",
                                  "rjcp-vmware-workstation-i7-6700K.xml.txt",
                                  "manusov-vbox-Win7_32-asus-n750jk.txt"])
def test_hv1_under_another_signature_is_no_hyperv_partition(name: str) -> None:
    a, verdicts = _verdicts(dump_path(name))
    assert a.hypervisor.partition is None
    assert a.hypervisor.vendor in ("vmware", "oracle")
    assert all("Set-VMProcessor" not in s for v in verdicts for r in v.remediation
               for s in r.steps)
