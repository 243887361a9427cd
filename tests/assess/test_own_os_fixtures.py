"""The OS-fact paths the corpus's virt-what roots exercise, on the repository's own
nestprobe-format Linux snapshots (tests/fixtures/linux/; each file's header says what it
shows and from which documented behaviour): a clone without ../shared tests them too."""

from __future__ import annotations

from conftest import FIXTURES

import nestprobe
from nestprobe.output.answer import answer

LINUX = FIXTURES / "linux"


def evidence(report: nestprobe.Report) -> dict[str, object]:
    return {e.source: e.value for e in report.assessment.hypervisor.evidence}


def test_bochs_dmi_and_a_qemu_cpu_model_are_qemu_itself() -> None:
    report = nestprobe.load(LINUX / "qemu-tcg-bochs-dmi.dump")
    seen = evidence(report)
    assert report.assessment.hypervisor.vendor == "qemu"
    assert seen["/sys/class/dmi/id/product_name"] == "Bochs"
    assert seen["/proc/cpuinfo:model name"] == "QEMU Virtual CPU version 2.5+"
    assert seen["/proc/cpuinfo:flags"] is True
    assert report.assessment.virtualization.exposed is False
    assert answer(report).startswith("No: this OS is a guest of QEMU")


def test_xen_from_sysfs_alone() -> None:
    report = nestprobe.load(LINUX / "xen-pv-domu-sysfs-only.dump")
    assert report.assessment.hypervisor.vendor == "xen"
    assert evidence(report)["/sys/hypervisor/type"] == "xen"
    assert evidence(report)["CPUID.0x1:ECX[31]"] == 0  # no bit, no signature: the OS says Xen
    env = report.assessment.environment
    assert (env.xen_domain, env.xen_mode) == ("domU", "pv")


def test_ec2_names_its_instance_type() -> None:
    report = nestprobe.load(LINUX / "aws-kvm-c5large-dmi.dump")
    hv = report.assessment.hypervisor
    assert hv.vendor == "kvm"
    assert evidence(report)["/sys/class/dmi/id/product_name"] == "c5.large"
    assert any(e.claim == "EC2 instance type c5.large" for e in hv.evidence)
    first = report.verdicts["hyperv"].remediation[0]
    assert first.layer == "cloud"
    assert "AWS" in first.where


def test_xen_on_aws_names_no_instance_type() -> None:
    report = nestprobe.load(LINUX / "aws-xen-hvm-dmi.dump")
    hv = report.assessment.hypervisor
    assert hv.vendor == "xen"
    assert evidence(report)["/sys/class/dmi/id/bios_version"] == "4.2.amazon"  # cloud: aws
    assert not any(e.claim.startswith("EC2 instance type") for e in hv.evidence)  # "HVM domU"
    assert report.verdicts["hyperv"].remediation[0].layer == "cloud"


def test_a_partial_leaf_1_beside_full_kernel_flags_decides_nothing() -> None:
    report = nestprobe.load(LINUX / "partial-leaf1-kernel-flags.dump")
    cpu = report.assessment.cpu
    assert cpu.feature_mask == "mixed"
    assert any(e.value == "mixed" and e.source == "/proc/cpuinfo:flags" for e in cpu.evidence)
    assert not report.assessment.hypervisor.hidden  # leaf 1 alone would have claimed one


def test_assess_snapshot_is_the_pipelines_report() -> None:
    """The package's public entry for a snapshot built elsewhere (virt-what roots use it)."""
    report = nestprobe.load(LINUX / "qemu-tcg-bochs-dmi.dump")
    assert nestprobe.assess_snapshot(report.snapshot) == report
