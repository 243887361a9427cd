"""A Xen dom0 never gets a level the evidence cannot fix; a PV dom0 whose CPUID shows another
hypervisor below has Xen as its nearest hypervisor, that one named under it (issue 18.12).

The snapshots are built here, modelled on virt-what's Xen roots (corpus virt-what
``rhel5-xen-dom0``: /proc/xen is a directory, ``/proc/xen/capabilities`` reads
``control_d``, ``/sys/hypervisor/type`` reads ``xen``). The CPUID table is what a PV
kernel reads when Xen does not intercept CPUID: the CPU's own leaves, and the signature
of whatever hypervisor runs below Xen (KVM's ``KVMKVMKVM``, as a KVM guest shows it).
"""

from __future__ import annotations

import struct

import pytest

import nestprobe
from nestprobe.model.report import Report
from nestprobe.model.snapshot import CpuidTable, FileFact, OsFacts, Registers, Snapshot


def _sig(text: str) -> tuple[int, int, int]:
    b, c, d = struct.unpack("<3I", text.encode().ljust(12, b"\0"))
    return b, c, d


def _dom0(below: str | None, *, bit: bool = True, status: str = "ok") -> Report:
    leaves = {
        (0, 0): Registers(0x16, *_sig("GenuineIntel")),
        # family 6 model 0x55 (Skylake-SP); ECX[31] the hypervisor bit, VT-x clear (PV)
        (1, 0): Registers(0x00050654, 0, (1 << 31) if bit else 0, 0),
    }
    if below is not None:
        ebx, ecx, edx = _sig(below)
        leaves[(0x40000000, 0)] = Registers(0x40000001, ebx, ecx, edx)
        leaves[(0x40000001, 0)] = Registers(0, 0, 0, 0)
    files = {
        "/proc/xen": FileFact("dir"),
        "/proc/xen/capabilities": FileFact("ok", "control_d\n"),
        "/sys/hypervisor/type": FileFact("ok", "xen\n"),
    }
    snapshot = Snapshot(cpuid_status=status, cpuid=CpuidTable(leaves if status == "ok" else {}),
                        os=OsFacts(system="Linux", machine="x86_64", files=files))
    return nestprobe.assess_snapshot(snapshot)


def test_a_dom0_alone_gets_no_fixed_level() -> None:
    report = _dom0(None)
    nesting = report.assessment.nesting
    assert report.assessment.environment.xen_domain == "dom0"
    assert nesting.level is None  # a dom0 can itself be nested: nothing here shows it
    assert nesting.at_least == 0
    assert report.verdicts.headline.case == "dom0"


@pytest.mark.parametrize(("signature", "vendor", "name"), [("KVMKVMKVM", "kvm", "KVM"),
                                                           ("VMwareVMware", "vmware", "VMware")])
def test_a_pv_dom0_with_another_hypervisor_below(signature: str, vendor: str, name: str) -> None:
    report = _dom0(signature)
    hv, nesting = report.assessment.hypervisor, report.assessment.nesting
    assert hv.vendor == "xen"  # the nearest hypervisor: Xen owns VT-x here
    assert hv.alternatives == ()  # the one below does not answer this OS: Xen does
    assert hv.product == f"Xen, running on {name}"  # the one below, named under it
    assert [i.vendor_id for i in hv.interfaces] == [vendor]
    assert nesting.level is None
    assert nesting.at_least >= 1
    assert report.verdicts.headline.case == "dom0-nested"
    answer = nestprobe.report_to_dict(report)["answer"]
    assert "No other hypervisor" not in answer
    assert "Xen's dom0" in answer
    assert f"running on {name}" in answer
    # The verdicts name the same nearest hypervisor as the headline.
    for verdict in report.verdicts:
        assert not any("KVM guest" in r.claim for r in verdict.reasons)


def test_a_dom0_with_xen_s_own_signature_is_not_nested() -> None:
    report = _dom0("XenVMMXenVMM")
    assert report.assessment.hypervisor.vendor == "xen"
    assert report.assessment.hypervisor.alternatives == ()
    assert report.assessment.nesting.at_least == 0
    assert report.verdicts.headline.case == "dom0"


def test_xen_on_an_emulated_cpu_is_told_as_the_verdicts_tell_it() -> None:
    """QEMU TCG's signature below Xen: the CPU is emulated; the headline and every verdict
    say so, and Xen is still the nearest hypervisor."""
    from test_facts import headline_agrees_with_verdicts

    report = _dom0("TCGTCGTCGTCG")
    assert report.assessment.hypervisor.vendor == "xen"
    assert report.verdicts.headline.case == "emulated"
    assert not headline_agrees_with_verdicts(report)
    answer = nestprobe.report_to_dict(report)["answer"]
    assert "No other hypervisor" not in answer
    assert "Xen, running on QEMU TCG" in answer


@pytest.mark.parametrize("signature", ["KVMKVMKVM", "VMwareVMware", "XenVMMXenVMM", None])
def test_every_dom0_headline_agrees_with_its_verdicts(signature: str | None) -> None:
    from test_facts import headline_agrees_with_verdicts

    assert not headline_agrees_with_verdicts(_dom0(signature))


@pytest.mark.parametrize("status", ["absent", "faulting", "not-x86"])
def test_a_dom0_without_cpuid_gets_no_level_from_sys_hypervisor(status: str) -> None:
    """/sys/hypervisor shows Xen, which every dom0 has: it proves no VM below Xen."""
    from test_facts import headline_agrees_with_verdicts

    report = _dom0(None, status=status)
    nesting = report.assessment.nesting
    assert report.assessment.environment.xen_domain == "dom0"
    assert nesting.level is None
    assert nesting.at_least == 0
    assert [e.kind for e in nesting.evidence if e.source == "CPUID"] == ["status"]
    assert report.verdicts.headline.case == "dom0"
    assert not headline_agrees_with_verdicts(report)
