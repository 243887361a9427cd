"""Verdicts on Assessments built by hand: every matrix rule, remediation layer, the JSON
shape, and the invariant that the BIOS is blamed only when it is the cause."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nestprobe.assess.facts import with_facts
from nestprobe.model.assessment import (
    Assessment,
    CpuIdentity,
    Environment,
    HyperVFacts,
    HypervisorFacts,
    Nesting,
    Virtualization,
    WindowsFacts,
)
from nestprobe.model.evidence import Evidence
from nestprobe.model.record import replace as _replace
from nestprobe.model.verdicts import LAYERS, SCENARIOS, STATUSES, Verdicts
from nestprobe.verdicts.conditions import CHECKS, CONDITIONS, GLOBAL_CONDITIONS, UPGRADE_FIXES
from nestprobe.verdicts.evaluate import evaluate, rule_for
from nestprobe.verdicts.matrix import FALLBACK, RULES
from nestprobe.verdicts.notes import GLOBAL_NOTES, NOTES
from nestprobe.verdicts.remediation import (
    _CLOUD_FIX,
    _OUTER_FIX,
    OPTION_GOALS,
    OUTER,
    REMEDIATIONS,
    RESOURCES,
)
from nestprobe.verdicts.situation import MATCH_FIELDS, aws_type, azure_size, situate
from nestprobe.verdicts.windows import WINDOWS_STEPS

SIGNATURES = {
    "microsoft": "Microsoft Hv", "kvm": "KVMKVMKVM", "vmware": "VMwareVMware",
    "oracle": "VBoxVBoxVBox", "xen": "XenVMMXenVMM", "parallels": " lrpepyh  vr",
    "bhyve": "bhyve bhyve ", "unknown": "????????????",
}
BIOS_WORDS = re.compile(r"bios|uefi|firmware", re.IGNORECASE)


def replace(record: Any, **changes: Any) -> Any:
    """Record replace; an Assessment's facts are decided again from its changed parts."""
    out = _replace(record, **changes)
    return with_facts(out) if isinstance(out, Assessment) else out



def make(
    *,
    cpu: str = "GenuineIntel",
    hv: str | None = None,
    partition: str | None = None,
    cloud: str | None = None,
    instance: str | None = None,
    confidential: str | None = None,
    emulated: bool = False,
    exposed: bool | None = True,
    slat: bool | None = True,
    firmware_disabled: bool | None = None,
    kvm: str | None = None,
    pvm: bool = False,
    os: str = "Linux",
    wsl: bool | None = False,
    container: str | None = None,
    xen_domain: str | None = None,
    xen_mode: str | None = None,
    level: int | None = None,
    at_least: int = 0,
    windows: WindowsFacts | None = None,
    hidden: bool = False,
    alternatives: tuple[str, ...] = (),
    kernel_view: bool = False,
    build: int | None = None,
    memory_gib: float | None = None,
    vcpus: int | None = None,
) -> Assessment:
    """An Assessment as the assess/ stage would build it, with evidence for the main facts.

    ``kernel_view``: no raw CPUID, exposure from the kernel's flags only. ``build``: the
    outer Microsoft hypervisor's 0x40000002 build (real Hyper-V, service numbers set).
    """
    detected = hv is not None
    amd = cpu == "AuthenticAMD"
    vmx = None if exposed is None or kernel_view else (exposed and not amd)
    svm = None if exposed is None or kernel_view else (exposed and amd)
    hv_evidence: tuple[Evidence, ...] = (
        Evidence("hypervisor present" if detected else "no hypervisor bit",
                 "CPUID.0x1:ECX[31]", int(detected)),
        Evidence("DMI BIOS vendor", "/sys/class/dmi/id/bios_vendor", "SeaBIOS"),
    )
    if detected:
        hv_evidence += (
            Evidence("hypervisor signature", "CPUID.0x40000000:EBX,ECX,EDX",
                     SIGNATURES.get(hv or "", hv)),
        )
    virt_evidence: tuple[Evidence, ...] = ()
    if exposed is not None and not kernel_view:
        virt_evidence = (
            Evidence("VT-x exposed" if vmx else "VT-x not exposed", "CPUID.0x1:ECX[5]",
                     int(bool(vmx))),
            Evidence("AMD-V exposed" if svm else "AMD-V not exposed",
                     "CPUID.0x80000001:ECX[2]", int(bool(svm))),
        )
    if firmware_disabled:
        virt_evidence += (
            Evidence("vmx missing from /proc/cpuinfo flags: disabled by firmware",
                     "/proc/cpuinfo:flags", "no vmx"),
        )
    hyperv = None
    if build is not None:
        hyperv = HyperVFacts(base=0x40000000, signature="Microsoft Hv",
                             partition=partition, build=build,  # type: ignore[arg-type]
                             version=f"10.0.{build} SP1 (service 0.1)", evidence=(
                                 Evidence("Microsoft hypervisor version", "CPUID.0x40000002:EAX",
                                          build),))
    environment_evidence: list[Evidence] = []
    if memory_gib is not None:
        environment_evidence.append(Evidence("memory", "/proc/meminfo:MemTotal",
                                             int(memory_gib * 2**30)))
    if vcpus is not None:
        environment_evidence.append(Evidence("processors", "/sys/devices/system/cpu/present",
                                             f"0-{vcpus - 1}"))
    return with_facts(Assessment(
        cpu=CpuIdentity(vendor=cpu, brand="test CPU",
                        evidence=(Evidence("CPU vendor", "CPUID.0x0:EBX,ECX,EDX", cpu),)),
        hypervisor=HypervisorFacts(
            bit=detected, detected=(detected or emulated) and not hidden, vendor=hv,
            interfaces=(), partition=partition,  # type: ignore[arg-type]
            cloud=cloud, instance_type=instance, confidential=confidential,
            emulated=emulated, alternatives=alternatives,
            identified="medium" if alternatives else "high", hidden=hidden, hyperv=hyperv,
            evidence=hv_evidence,
        ),
        virtualization=Virtualization(
            vmx=vmx, svm=svm, exposed=exposed, slat=slat if exposed else None,
            can_host_vms=exposed or partition == "root",
            firmware_disabled=firmware_disabled, kvm_device=kvm,
            kvm_backend="kvm_pvm" if pvm else None, software_nesting_only=pvm,
            evidence=virt_evidence,
        ),
        environment=Environment(
            os=os, machine="x86_64", wsl=wsl, container=container, xen_domain=xen_domain,
            xen_mode=xen_mode, os_confidence="none" if os == "unknown" else "certain",
            memory_bytes=int(memory_gib * 2**30) if memory_gib is not None else None,
            vcpus=vcpus, evidence=tuple(environment_evidence), windows=windows),
        nesting=Nesting(level=level, at_least=at_least, likely=level, confidence="high"),
    ))


#: One constructed Assessment per rule; the parametrized test below proves each reaches it.
RULE_EXAMPLES: dict[str, Assessment] = {
    "emulator-x86": make(emulated=True, exposed=False, os="Windows"),
    "emulator-qemu-tcg-svm": make(cpu="AuthenticAMD", hv="qemu", emulated=True, exposed=True),
    "emulator-qemu-tcg": make(hv="qemu", emulated=True, exposed=False),
    "wsl-utility-vm": make(hv="microsoft", wsl=True, exposed=False),
    "wsl-nested": make(hv="microsoft", wsl=True, exposed=True, kvm="usable"),
    "wsl-no-nested": make(hv="microsoft", wsl=True, exposed=False),
    "wsl-unknown": make(hv="microsoft", wsl=True, exposed=None),
    "hyperv-root-windows": make(hv="microsoft", partition="root", exposed=False, os="Windows"),
    "hyperv-root": make(hv="microsoft", partition="root", exposed=False),
    "hyperv-root-azure-local": make(hv="microsoft", partition="root", exposed=False,
                                    os="Windows"),
    "hyperv-root-third-party": make(hv="microsoft", partition="root", exposed=False,
                                    os="Windows"),
    "hyperv-l1vh": make(hv="microsoft", partition="l1vh", exposed=False),
    "root-or-guest": make(hv="unknown", partition="root-or-guest", exposed=None, os="Windows",
                          windows=WindowsFacts(source="systeminfo")),
    "xen-dom0": make(hv="xen", xen_domain="dom0", exposed=True),
    "xen-pv": make(hv="xen", xen_domain="domU", xen_mode="pv", exposed=False),
    "exposure-unknown": make(hv="kvm", exposed=None),
    "firmware-disabled-vm": make(hv="kvm", exposed=False, firmware_disabled=True),
    "firmware-disabled": make(exposed=False, firmware_disabled=True, level=0),
    "bare-metal-no-vt": make(exposed=False, level=0),
    "unseen-no-vt-kernel": make(exposed=False, level=None, kernel_view=True),
    "unseen-no-vt": make(exposed=False, level=None),
    "confidential-azure": make(hv="microsoft", partition="guest", cloud="azure",
                               confidential="tdx", exposed=False),
    "confidential": make(hv="kvm", confidential="sev-snp", exposed=False),
    "container-no-kvm": make(exposed=True, level=0, container="docker", kvm="absent"),
    "pvm-software-nesting": make(cpu="AuthenticAMD", hv="kvm", exposed=False, pvm=True,
                                 kvm="usable"),
    "kvm-no-access": make(hv="kvm", exposed=True, kvm="no-access"),
    "kvm-absent": make(exposed=True, level=0, kvm="absent"),
    "no-slat-bare-metal": make(exposed=True, slat=False, level=0, os="Windows"),
    "no-slat-vm": make(hv="vmware", exposed=True, slat=False),
    "azure-size-not-capable": make(hv="microsoft", partition="guest", cloud="azure",
                                   instance="Standard_B2s", exposed=False),
    "aws-nested": make(hv="amazon", cloud="aws", instance="c8i.large", exposed=True),
    "aws-nested-azure-local": make(hv="amazon", cloud="aws", instance="m8i.xlarge"),
    "aws-nested-third-party": make(hv="amazon", cloud="aws", instance="r8i.2xlarge"),
    "aws-nesting-off": make(hv="amazon", cloud="aws", instance="c8i.large", exposed=False),
    "aws-virtual": make(hv="amazon", cloud="aws", instance="i3.xlarge", exposed=False),
    "gcp-nested-windows": make(hv="google", cloud="gcp", exposed=True),
    "gcp-nested-third-party": make(hv="google", cloud="gcp", exposed=True),
    "gcp-not-intel": make(cpu="AuthenticAMD", hv="google", cloud="gcp", exposed=False),
    "gcp-nesting-off": make(hv="google", cloud="gcp", exposed=False),
    "hyperv-nested-deep-containers": make(hv="microsoft", partition="guest", level=2),
    "hyperv-nested": make(hv="microsoft", partition="guest", exposed=True),
    "hyperv-nested-azure-local": make(hv="microsoft", partition="guest", exposed=True),
    "hyperv-nested-third-party": make(hv="microsoft", partition="guest", exposed=True),
    "hyperv-not-exposed": make(hv="microsoft", partition="guest", exposed=False),
    "kvm-nested-windows": make(hv="kvm", exposed=True),
    "kvm-nested-third-party": make(hv="kvm", exposed=True, kvm="usable"),
    "vmware-nested": make(hv="vmware", exposed=True),
    "virtualbox-nested": make(hv="oracle", exposed=True),
    "xen-nested": make(hv="xen", exposed=True),
    "parallels-nested": make(hv="parallels", exposed=True),
    "other-nested-windows": make(hv="bhyve", exposed=True),
    "other-nested-third-party": make(hv="bhyve", exposed=True),
    "unidentified-nested": make(hv="unknown", exposed=True),
    "vm-not-exposed": make(hv="vmware", exposed=False),
    "bare-metal": make(exposed=True, level=0, os="Windows"),
    "bare-metal-azure-local": make(exposed=True, level=0, os="Windows"),
    "bare-metal-third-party": make(exposed=True, level=0, kvm="usable"),
}


def test_every_rule_has_an_example() -> None:
    assert set(RULE_EXAMPLES) == {r.id for r in RULES}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_is_reached_with_its_status(rule: object) -> None:
    from nestprobe.verdicts.rules import Rule

    assert isinstance(rule, Rule)
    verdicts = evaluate(RULE_EXAMPLES[rule.id])
    for scenario in rule.scenarios:
        verdict = verdicts[scenario]
        assert (verdict.rule, verdict.status) == (rule.id, rule.status), scenario
        assert verdict.source == rule.source


def test_table_integrity() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    for rule in (*RULES, FALLBACK):
        assert rule.source
        assert rule.claim
        assert rule.scenarios
        assert rule.status in STATUSES
        assert set(rule.when) <= MATCH_FIELDS, rule.id
        for rid in rule.remediation:
            assert rid == OUTER or rid in REMEDIATIONS, (rule.id, rid)
        for nid in rule.notes:
            assert nid in NOTES or nid in CONDITIONS, (rule.id, nid)
        assert set(rule.options) <= set(OPTION_GOALS), rule.id
    for note in NOTES.values():
        assert note.source
        assert note.text
        assert set(note.when) <= MATCH_FIELDS
    assert set(GLOBAL_NOTES) <= set(NOTES)
    assert not set(NOTES) & set(CONDITIONS)
    for row in CONDITIONS.values():
        assert row.check in CHECKS, row.id
        assert row.text, row.id
        assert row.source, row.id
        assert row.confirm, row.id
        assert set(row.when) <= MATCH_FIELDS, row.id
        assert row.scenarios, row.id
        for rid in row.unmet_fix:
            assert rid in (OUTER, RESOURCES) or rid in REMEDIATIONS, (row.id, rid)
        assert row.unmet_status in (None, *STATUSES), row.id
        assert not row.unmet_fix or row.unmet_status is not None, row.id
    assert set(GLOBAL_CONDITIONS) <= set(CONDITIONS)
    for rid, entry in REMEDIATIONS.items():
        assert entry.id == rid
        assert entry.goal is None  # goals come with options (resolve_options), not the table
        assert entry.layer in LAYERS
        assert entry.steps
        assert entry.source
        assert entry.where


def test_no_dead_remediation_or_notes() -> None:
    from nestprobe.verdicts.proof import PROOF_FIXES

    used = {rid for r in RULES for rid in (*r.remediation, *r.options)}
    used |= {rid for row in CONDITIONS.values() for rid in row.unmet_fix}
    used |= set(_OUTER_FIX.values()) | {rid for ids in _CLOUD_FIX.values() for rid in ids}
    used |= {"unknown-outer", "cloud-other"}  # outer_fix's fall-backs
    used |= {rid for row in WINDOWS_STEPS for rid in row.remediation}
    used |= {"vm-resources", "cloud-resize"}  # what RESOURCES resolves to
    used |= set(UPGRADE_FIXES)  # the product's own upgrade path, chosen by the check
    used |= set(PROOF_FIXES)  # what a proof that could not run brings (verdicts/proof.py)
    assert set(REMEDIATIONS) == used - {OUTER, RESOURCES}
    assert set(OPTION_GOALS) == {rid for r in RULES for rid in r.options}
    noted = {nid for r in RULES for nid in r.notes} | set(GLOBAL_NOTES) | set(GLOBAL_CONDITIONS)
    assert set(NOTES) | set(CONDITIONS) == noted
    assert set(CHECKS) == {row.check for row in CONDITIONS.values()}


def test_verdicts_order_and_lookup() -> None:
    verdicts = evaluate(make(hv="kvm"))
    assert tuple(v.scenario for v in verdicts) == SCENARIOS
    assert len(verdicts) == 5
    assert verdicts["third-party"].scenario == "third-party"
    with pytest.raises(KeyError):
        verdicts["nope"]  # type: ignore[index]
    with pytest.raises(ValueError, match="cover"):
        Verdicts(verdicts.items[:2])


def test_to_dict_shape_is_json() -> None:
    out = evaluate(make(hv="microsoft", partition="guest", exposed=False)).to_dict()
    assert list(out) == list(SCENARIOS)
    text = json.dumps(out)
    assert json.loads(text) == out
    for verdict in out.values():
        assert set(verdict) == {"status", "reasons", "conditions", "caveats", "remediation",
                                "options", "rule", "source"}
        for reason in verdict["reasons"]:  # type: ignore[attr-defined]
            assert set(reason) == {"claim", "source", "value"}
        for fix in verdict["remediation"]:  # type: ignore[attr-defined]
            assert set(fix) == {"id", "layer", "where", "steps", "source", "goal"}
            assert fix["goal"] is None
        for condition in verdict["conditions"]:  # type: ignore[attr-defined]
            assert set(condition) == {"id", "text", "state", "evidence", "confirm", "source"}


def test_reasons_reuse_the_assessments_evidence() -> None:
    a = make(hv="microsoft", partition="guest", exposed=False)
    verdict = evaluate(a)["hyperv"]
    vmx = a.virtualization.evidence[0]
    assert vmx.source == "CPUID.0x1:ECX[5]"
    assert vmx in verdict.reasons  # the same observation, not a paraphrase
    assert any(r.source == "CPUID.0x40000000:EBX,ECX,EDX" for r in verdict.reasons)
    own = verdict.reasons[-1]
    assert own.source == verdict.source
    assert own.value == "blocked"
    assert "ExposeVirtualizationExtensions" in own.claim


# --- remediation at the right layer, per outer hypervisor / cloud ----------------------------

def _fix_text(a: Assessment, scenario: str = "hyperv") -> tuple[list[str], str]:
    verdict = evaluate(a)[scenario]  # type: ignore[index]
    layers: list[str] = [r.layer for r in verdict.remediation]
    text = "\n".join(step for r in verdict.remediation for step in (r.where, *r.steps))
    return layers, text


def test_hyperv_guest_intel_gets_the_host_command() -> None:
    layers, text = _fix_text(make(hv="microsoft", partition="guest", exposed=False))
    assert layers == ["outer-hypervisor"]
    assert "Set-VMProcessor -VMName <VM> -ExposeVirtualizationExtensions $true" in text
    assert "8.0" in text
    assert "turned off" in text
    assert not BIOS_WORDS.search(text)


def test_hyperv_guest_amd_needs_a_ws2022_or_windows11_host() -> None:
    a = make(cpu="AuthenticAMD", hv="microsoft", partition="guest", exposed=False)
    _, text = _fix_text(a)
    assert "9.3" in text
    assert "Windows Server 2022" in text
    assert "Windows 11" in text
    conditions = evaluate(replace(a, virtualization=replace(
        a.virtualization, exposed=True, svm=True)))["hyperv"].conditions
    assert any("9.3" in c for c in (x.text for x in conditions))
    assert not any("8.0" in c for c in (x.text for x in conditions))


@pytest.mark.parametrize(("vendor", "cpu", "needle"), [
    ("vmware", "GenuineIntel", 'vhv.enable = "TRUE"'),
    ("vmware", "GenuineIntel", "Expose hardware assisted virtualization"),
    ("oracle", "GenuineIntel", "--nested-hw-virt on"),
    ("kvm", "GenuineIntel", "options kvm-intel nested=1"),
    ("kvm", "AuthenticAMD", "options kvm-amd nested=1"),
    ("kvm", "GenuineIntel", "host-passthrough"),
    ("kvm", "GenuineIntel", "qm set <vmid> --cpu host"),
    ("xen", "GenuineIntel", "nestedhvm=1"),
    ("parallels", "GenuineIntel", "prlctl set \"<VM>\" --nested-virt on"),
    ("bhyve", "GenuineIntel", "ask its administrator"),
])
def test_outer_hypervisor_switch(vendor: str, cpu: str, needle: str) -> None:
    layers, text = _fix_text(make(cpu=cpu, hv=vendor, exposed=False))
    assert layers == ["outer-hypervisor"]
    assert needle in text


@pytest.mark.parametrize(("kw", "needles"), [
    ({"cloud": "azure", "instance": "Standard_D4s_v5"},
     ("--security-type Standard", "az vm resize")),
    ({"cloud": "azure", "instance": "Standard_B2ms"}, ("az vm resize",)),
    ({"cloud": "aws", "instance": "c8i.xlarge"}, ("--nested-virtualization enabled",)),
    ({"cloud": "aws", "instance": "m5.large"}, ("C8i", ".metal")),
    ({"cloud": "gcp"}, ("--enable-nested-virtualization",)),
    ({"cloud": "alibaba"}, ("bare-metal instance",)),
])
def test_cloud_remediation_names_the_cloud_not_the_hypervisor(
    kw: dict[str, str], needles: tuple[str, ...]
) -> None:
    hv = {"azure": "microsoft", "aws": "amazon", "gcp": "google"}.get(kw["cloud"], "kvm")
    layers, text = _fix_text(make(hv=hv, exposed=False, **kw))  # type: ignore[arg-type]
    assert set(layers) == {"cloud"}
    for needle in needles:
        assert needle in text
    assert "Set-VMProcessor" not in text
    assert "modprobe" not in text


def test_trusted_launch_is_not_blamed_for_a_non_capable_size() -> None:
    _, text = _fix_text(make(hv="microsoft", cloud="azure", instance="Standard_B2s",
                             exposed=False))
    assert "security-type" not in text


def test_gcp_amd_is_told_to_move_to_intel() -> None:
    a = make(cpu="AuthenticAMD", hv="google", cloud="gcp", exposed=False)
    verdict = evaluate(a)["third-party"]
    assert verdict.rule == "gcp-not-intel"
    assert "Intel series" in " ".join(verdict.remediation[0].steps)


def test_hyperv_root_can_host_and_is_not_told_vtx_is_missing() -> None:
    verdicts = evaluate(make(hv="microsoft", partition="root", exposed=False, os="Windows"))
    assert [verdicts[s].status for s in SCENARIOS] == [
        "supported", "supported", "supported", "supported", "unsupported"]
    assert verdicts["hyperv"].remediation == ()
    # Turning the hypervisor off is an option for another goal, not a fix for this yes.
    third = verdicts["third-party"]
    assert third.remediation == ()
    assert [o.layer for o in third.options] == ["this-os"]
    assert "bcdedit /set hypervisorlaunchtype off" in third.options[0].steps
    # ... with what it turns off, and that policy may turn it back on (issue 18.8)
    said = " ".join(third.options[0].steps)
    assert "Credential Guard" in said
    assert "Intune" in said
    assert "Group" in said
    assert third.options[0].goal is not None
    assert "only if" in third.options[0].goal


def test_kvm_permission_problem_is_this_os() -> None:
    verdict = evaluate(make(hv="kvm", exposed=True, kvm="no-access"))["third-party"]
    assert verdict.status == "blocked"
    assert [r.layer for r in verdict.remediation] == ["this-os"]
    assert any("usermod -aG kvm" in s for s in verdict.remediation[0].steps)
    assert any("udev" in s for s in verdict.remediation[0].steps)


def test_pvm_says_what_is_going_on_and_who_can_fix_it() -> None:
    a = make(cpu="AuthenticAMD", hv="kvm", exposed=False, pvm=True, kvm="usable")
    verdicts = evaluate(a)
    third = verdicts["third-party"]
    assert third.status == "unsupported"
    assert "PVM" in third.reasons[-1].claim
    assert [r.layer for r in third.remediation] == ["this-os", "outer-hypervisor"]
    assert any("kvm-amd" in s for s in third.remediation[1].steps)
    # The Windows scenarios are blocked by the outer KVM, not by PVM.
    assert verdicts["hyperv"].rule == "vm-not-exposed"
    assert verdicts["hyperv"].status == "blocked"


def test_emulator_has_nothing_to_enable() -> None:
    verdict = evaluate(make(hv="qemu", emulated=True, exposed=False))["third-party"]
    assert verdict.status == "blocked"
    assert any("-accel kvm" in s for s in verdict.remediation[0].steps)


def test_os_facts_conditions_and_caveats_agree() -> None:
    """Linux: a caveat says the Windows verdicts are for Windows in its place. Unknown OS: no
    such caveat, a condition to confirm instead. Windows: the condition is met."""
    marker = "Windows installed here in its place"
    linux = evaluate(make(hv="microsoft", partition="guest"))
    assert any(marker in c for c in linux["hyperv"].caveats)
    assert not any(marker in c for c in linux["third-party"].caveats)
    assert "windows-here" not in {c.id for c in linux["hyperv"].conditions}
    unknown = evaluate(make(hv="microsoft", partition="guest", os="unknown", wsl=None))
    assert not any(marker in c for c in unknown["hyperv"].caveats)
    here = {c.id: c for c in unknown["hyperv"].conditions}["windows-here"]
    assert (here.state, here.confirm is not None) == ("unknown", True)
    assert {c.id: c for c in unknown["hyperv"].conditions}["not-wsl-utility-vm"].state == \
        "unknown"
    windows = evaluate(make(hv="microsoft", partition="guest", os="Windows"))
    assert not any(marker in c for c in windows["hyperv"].caveats)
    assert {c.id: c.state for c in windows["hyperv"].conditions}["windows-here"] == "met"


def test_supported_hyperv_in_a_vm_carries_the_doc_caveats() -> None:
    verdicts = evaluate(make(hv="microsoft", partition="guest", os="Windows"))
    caveats = " ".join(verdicts["hyperv"].caveats)
    # Dynamic Memory is a condition to confirm, with the host's command (issue 18.13).
    memory = {c.id: c for c in verdicts["hyperv"].conditions}["hyperv-dynamic-memory"]
    assert memory.state == "unknown"
    assert "stops changing" in memory.text
    assert "Set-VMMemory -VMName <VM> -DynamicMemoryEnabled $false" in memory.text
    assert memory.confirm is not None
    assert "Get-VMMemory" in memory.confirm
    assert "/sys/" not in memory.confirm  # a Windows guest is told Windows' places
    assert "Failover Clustering" in caveats
    assert "MAC address spoofing" in caveats
    assert any("One level" in c for c in verdicts["hyperv-containers"].caveats)
    assert any("4 GB" in c for c in (x.text for x in verdicts["hyperv-containers"].conditions))
    assert verdicts["azure-local"].status == "evaluation-only"


def test_aws_nested_is_supported_by_aws_not_microsoft() -> None:
    verdict = evaluate(make(hv="amazon", cloud="aws", instance="c8i.large"))["hyperv"]
    assert verdict.status == "supported"
    assert any("Microsoft does not support Hyper-V" in c for c in verdict.caveats)


def test_unidentified_outer_is_honest() -> None:
    verdict = evaluate(make(hv="unknown", exposed=True))["hyperv"]
    assert verdict.status == "unknown"
    assert "unidentified" in verdict.reasons[-1].claim


@pytest.mark.parametrize(("name", "expected"), [
    ("Standard_D4s_v5", "capable"), ("Standard_D16s_v3", "capable"),
    ("Standard_D4as_v5", "capable"), ("Standard_D4as_v4", "not-capable"),
    ("Standard_D4ps_v5", "not-capable"), ("Standard_B2s", "not-capable"),
    ("Standard_DC4as_v5", "not-capable"), ("Standard_F72s_v2", "capable"),
    ("Standard_D2_v2", "not-capable"), ("Standard_NC6", "unknown"), (None, "unknown"),
])
def test_azure_size_table(name: str | None, expected: str) -> None:
    assert azure_size(name) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("m5.metal", "metal"), ("c8i.large", "nested-capable"), ("m8i-flex.large", "nested-capable"),
    ("c8id.xlarge", "nested-capable"), ("m7i.large", "virtual"), (None, "unknown"),
])
def test_aws_type_table(name: str | None, expected: str) -> None:
    assert aws_type(name) == expected


# --- never blame the BIOS when the BIOS is not the cause -----------------------------------

assessments = st.builds(
    make,
    cpu=st.sampled_from(["GenuineIntel", "AuthenticAMD", "CentaurHauls"]),
    hv=st.sampled_from([None, "microsoft", "kvm", "qemu", "vmware", "oracle", "xen",
                        "parallels", "bhyve", "amazon", "google", "unknown"]),
    partition=st.sampled_from([None, "root", "guest", "l1vh", "root-or-guest"]),
    cloud=st.sampled_from([None, "azure", "aws", "gcp", "oracle"]),
    instance=st.sampled_from([None, "Standard_D4s_v5", "Standard_B2s", "c8i.large",
                              "m5.metal", "t3.micro"]),
    confidential=st.sampled_from([None, "tdx", "sev-snp"]),
    emulated=st.booleans(),
    exposed=st.sampled_from([True, False, None]),
    slat=st.sampled_from([True, False, None]),
    firmware_disabled=st.sampled_from([None, False, True]),
    kvm=st.sampled_from([None, "usable", "no-access", "absent", "error"]),
    pvm=st.booleans(),
    os=st.sampled_from(["Linux", "Windows", "Darwin", "unknown"]),
    wsl=st.sampled_from([False, True, None]),
    container=st.sampled_from([None, "docker"]),
    xen_domain=st.sampled_from([None, "domU", "dom0"]),
    xen_mode=st.sampled_from([None, "pv", "hvm"]),
    level=st.sampled_from([None, 0, 1, 2]),
    windows=st.sampled_from([
        None,
        WindowsFacts(source="live", build=22631, edition="home", hyperv_installed=False,
                     wsl_installed=False, firmware_virtualization=False),
        WindowsFacts(source="live", build=20348, edition="server", server=True,
                     hyperv_installed=True, wsl_installed=True, hypervisor_launch="off"),
        WindowsFacts(source="live", build=17763, edition="enterprise"),
        WindowsFacts(source="systeminfo", edition="pro", build=18362),
    ]),
    hidden=st.booleans(),
    alternatives=st.sampled_from([(), ("kvm",), ("microsoft",)]),
    kernel_view=st.booleans(),
    build=st.sampled_from([None, 10586, 14393, 17763, 20348]),
    memory_gib=st.sampled_from([None, 1.0, 3.2, 7.8]),
    vcpus=st.sampled_from([None, 1, 2, 256]),
)


def _firmware_may_be_named(a: Assessment) -> bool:
    """Firmware is a candidate only with positive evidence, or when nothing but the kernel's
    flags was read (the kernel drops its flag when firmware disabled VT-x)."""
    kernel_view_only = (not a.hypervisor.detected and not a.hypervisor.emulated
                        and not a.hypervisor.hidden and a.virtualization.exposed is False
                        and a.virtualization.vmx is None and a.virtualization.svm is None)
    return bool(a.virtualization.firmware_disabled) or kernel_view_only


@given(assessments)
def test_bios_is_blamed_only_when_it_is_the_cause(a: Assessment) -> None:
    verdicts = evaluate(a)
    for verdict in verdicts:
        assert verdict.status in STATUSES
        assert verdict.rule != FALLBACK.id, "a combination no rule covers"
        if verdict.remediation and verdict.remediation[0].layer == "firmware":
            assert a.virtualization.firmware_disabled, "firmware first without evidence"
        if _firmware_may_be_named(a):
            continue
        blob = json.dumps({"reasons": [r.to_dict() for r in verdict.reasons],
                           "remediation": [r.to_dict() for r in verdict.remediation]})
        assert not BIOS_WORDS.search(blob), (verdict.rule, blob)
        assert all(r.layer != "firmware" for r in verdict.remediation)


#: Under a yes, the only fixes are this Windows' own setup for the scenario (verdicts/windows.py).
WINDOWS_SETUP = {REMEDIATIONS[rid] for row in WINDOWS_STEPS for rid in row.remediation}


@given(assessments)
def test_a_yes_has_no_fixes_only_options(a: Assessment) -> None:
    for verdict in evaluate(a):
        if verdict.status in ("supported", "evaluation-only"):
            assert set(verdict.remediation) <= WINDOWS_SETUP, verdict.rule
            if a.environment.windows is None:
                assert verdict.remediation == (), verdict.rule
        assert all(o.goal for o in verdict.options)
        # Unmet conditions are in the reasons; unknown ones say where to confirm them.
        for condition in verdict.conditions:
            assert (condition.confirm is not None) is (condition.state == "unknown")
            if condition.state == "unmet" and CONDITIONS[condition.id].unmet_status:
                # the finding is the reason, never the condition's own text (issue 18.14)
                row = CONDITIONS[condition.id]
                assert any(r.source == row.source for r in verdict.reasons)
                assert all(condition.text not in r.claim for r in verdict.reasons)


@given(assessments)
def test_every_verdict_is_sourced_and_serialisable(a: Assessment) -> None:
    out = evaluate(a).to_dict()
    json.dumps(out)
    for scenario, verdict in out.items():
        assert verdict["source"], scenario
        assert verdict["reasons"], scenario
    situation = situate(a)
    for scenario in SCENARIOS:
        assert rule_for(scenario, situation).id == out[scenario]["rule"]


def test_firmware_only_on_positive_evidence() -> None:
    # CPUID's VMX bit clear, no hypervisor: firmware never clears it, so not the firmware.
    verdict = evaluate(make(exposed=False, level=0))["hyperv"]
    assert [r.layer for r in verdict.remediation] == ["outer-hypervisor"]
    assert "firmware" not in verdict.reasons[-1].claim.split(":")[0]
    # The kernel's view only: firmware is one candidate, after a hiding hypervisor.
    kernel = evaluate(make(exposed=False, kernel_view=True))["hyperv"]
    assert [r.layer for r in kernel.remediation] == ["outer-hypervisor", "firmware"]
    # Positive evidence (CPUID has it, the kernel dropped it): firmware first.
    locked = evaluate(make(exposed=False, firmware_disabled=True, level=0))["hyperv"]
    assert locked.remediation[0].layer == "firmware"


def test_dmi_bios_strings_stay_out_of_reasons() -> None:
    verdict = evaluate(make(hv="kvm", exposed=False))["third-party"]
    assert all("bios" not in r.source for r in verdict.reasons)


def test_docs_list_every_rule_remediation_and_note_in_order() -> None:
    from pathlib import Path

    from verdict_tables import END, START, render

    doc_path = Path(__file__).resolve().parents[2] / "docs" / "verdicts.md"
    doc = doc_path.read_text(encoding="utf-8")
    rows = re.findall(r"^\| \d+ \| `([^`]+)` \|", doc, flags=re.MULTILINE)
    assert rows == [r.id for r in RULES]  # same rules, same evaluation order
    for key in (*REMEDIATIONS, *NOTES, *CONDITIONS, *OPTION_GOALS):
        assert f"| `{key}` |" in doc, key
    # The whole generated section, row for row (print it: python tests/verdict_tables.py).
    section = doc[doc.index(START):doc.index(END) + len(END)] + "\n"
    assert section == render()
    # Every check is explained in the prose with its source.
    for check in CHECKS:
        assert f"`{check}`" in doc.split(START)[0], check


# --- conditions are checks: unmet ones change the verdict and bring their fix ------------

def _conditions(verdict: object) -> dict[str, str]:
    return {c.id: c.state for c in verdict.conditions}  # type: ignore[attr-defined]


def test_a_too_old_hyperv_host_on_amd_is_blocked_at_the_host() -> None:
    """AMD nesting needs a WS2022/Windows 11 host: 0x40000002 says 14393 (WS2016), so the fix
    is upgrading the host, not ExposeVirtualizationExtensions (it cannot work there)."""
    a = make(cpu="AuthenticAMD", hv="microsoft", partition="guest", exposed=False, build=14393)
    for scenario in SCENARIOS:
        verdict = evaluate(a)[scenario]
        assert verdict.status == "blocked"
        assert _conditions(verdict)["hyperv-host-amd"] == "unmet"
        first = verdict.remediation[0]
        assert first.layer == "outer-hypervisor"
        said = " ".join(first.steps)
        assert "# Upgrade the host to # Windows Server 2022 / Windows 11 or later:" in said
        assert "Irreversible" in said  # Update-VMVersion's consequence (issue 18.8)
        assert not any("ExposeVirtualizationExtensions" in step
                       for fix in verdict.remediation[1:] for step in fix.steps)
        assert "14393" in verdict.reasons[-1].claim
        assert verdict.reasons[-1].value == "blocked"
    # The same host on Intel meets its prerequisite: Expose is the fix.
    intel = evaluate(make(hv="microsoft", partition="guest", exposed=False, build=14393))["hyperv"]
    assert _conditions(intel)["hyperv-host-intel"] == "met"
    assert any("ExposeVirtualizationExtensions $true" in s for s in intel.remediation[0].steps)
    # A Windows 10 1511 host is too old even for Intel.
    old = evaluate(make(hv="microsoft", partition="guest", exposed=False, build=10586))["hyperv"]
    assert _conditions(old)["hyperv-host-intel"] == "unmet"
    assert "# Windows Server 2016 / Windows 10 version 1607 or later:" in old.remediation[0].steps
    # A new enough AMD host, nesting on: supported, the host condition met.
    new = evaluate(make(cpu="AuthenticAMD", hv="microsoft", partition="guest", build=20348))
    assert new["hyperv"].status == "supported"
    assert _conditions(new["hyperv"])["hyperv-host-amd"] == "met"
    # Without the version leaf, or behind an emulated interface: to confirm, never unmet.
    unsure = evaluate(make(cpu="AuthenticAMD", hv="microsoft", partition="guest",
                           exposed=False, alternatives=("kvm",)))["hyperv"]
    assert _conditions(unsure)["hyperv-host-amd"] == "unknown"


def test_container_host_size_is_checked() -> None:
    small = evaluate(make(hv="microsoft", partition="guest", os="Windows", build=20348,
                          memory_gib=1.0, vcpus=1))["hyperv-containers"]
    assert small.status == "blocked"
    assert _conditions(small)["container-host-memory"] == "unmet"
    assert _conditions(small)["container-host-vcpus"] == "unmet"
    assert small.remediation[0].layer == "outer-hypervisor"
    assert any("-Count 2" in s for s in small.remediation[0].steps)
    enough = evaluate(make(hv="microsoft", partition="guest", os="Windows", build=20348,
                           memory_gib=7.8, vcpus=2))["hyperv-containers"]
    assert enough.status == "supported"
    assert _conditions(enough)["container-host-memory"] == "met"
    assert _conditions(enough)["container-host-vcpus"] == "met"
    # MemTotal of a 4 GB VM sits just under 4 GiB: between the bands it is to confirm.
    edge = evaluate(make(hv="microsoft", partition="guest", memory_gib=3.2, vcpus=2))
    assert _conditions(edge["hyperv-containers"])["container-host-memory"] == "unknown"
    # In a cloud the fix is the instance size; on bare metal there is no layer to send to.
    cloud = evaluate(make(hv="amazon", cloud="aws", instance="c8i.large", vcpus=1))
    assert cloud["hyperv-containers"].remediation[0].layer == "cloud"
    metal = evaluate(make(exposed=True, level=0, os="Windows", memory_gib=1.0))
    assert metal["hyperv-containers"].status == "blocked"
    assert metal["hyperv-containers"].remediation == ()


def test_windows_server_2019_vcpu_limit_is_a_condition() -> None:
    few = evaluate(make(hv="microsoft", partition="guest", build=20348, vcpus=8))["hyperv"]
    assert _conditions(few)["ws2019-vcpus"] == "met"
    many = evaluate(make(hv="microsoft", partition="guest", build=20348, vcpus=256))["hyperv"]
    # More than 225 matters only under Windows Server 2019 or earlier: to confirm.
    assert _conditions(many)["ws2019-vcpus"] == "unknown"
    assert many.status == "supported"


def test_supported_never_hides_an_unknown_condition() -> None:
    """Azure Local on bare metal: supported only on validated hardware, which nothing here
    can check: the condition stays visible, to confirm."""
    verdict = evaluate(make(exposed=True, level=0, os="Windows"))["azure-local"]
    assert verdict.status == "supported"
    assert "validated-hardware" in {c.id for c in verdict.to_confirm}
    from nestprobe.output.lines import render_verdict

    assert "SUPPORTED, if" in render_verdict(verdict)


def test_who_answers_orders_both_fixes() -> None:
    """'Microsoft Hv' without a version to tell: Hyper-V's switch first, KVM's second."""
    verdicts = evaluate(make(hv="microsoft", partition="guest", exposed=False,
                             alternatives=("kvm",)))
    steps = [s for fix in verdicts["hyperv"].remediation for s in fix.steps]
    expose = next(i for i, s in enumerate(steps) if "ExposeVirtualizationExtensions" in s)
    kvm = next(i for i, s in enumerate(steps) if "kvm-intel nested=1" in s)
    assert expose < kvm
    assert _conditions(verdicts["hyperv"])["outer-is-hyperv"] == "unknown"
    # KVM answering behind the interface (a version fingerprint): KVM first.
    kvm_first = evaluate(make(hv="kvm", exposed=False, alternatives=("microsoft",)))
    layers = [fix.where for fix in kvm_first["hyperv"].remediation]
    assert layers[0].startswith("on the KVM host")
    assert layers[1].startswith("on the Hyper-V host")


def test_a_hidden_hypervisor_gets_the_outer_fix_not_the_firmware() -> None:
    verdict = evaluate(make(exposed=False, hidden=True))["third-party"]
    assert verdict.status == "blocked"
    assert [r.layer for r in verdict.remediation] == ["outer-hypervisor"]
    assert any("--nested-hw-virt on" in s for s in verdict.remediation[0].steps)
    assert not BIOS_WORDS.search(json.dumps([r.to_dict() for r in verdict.reasons]))


def test_xen_pv_domain_is_decided_by_the_os_facts() -> None:
    """User-space CPUID in a PV domain shows the CPU below Xen (here: VMX): Xen owns it."""
    verdicts = evaluate(make(hv="xen", xen_domain="domU", xen_mode="pv", exposed=False))
    for verdict in verdicts:
        assert (verdict.rule, verdict.status) == ("xen-pv", "blocked")
        assert "type = \"hvm\"" in verdict.remediation[0].steps[0]


def test_too_old_amd_host_end_to_end_from_cpuid() -> None:
    """The whole pipeline on an AMD Hyper-V guest whose host reports build 14393 (0x3839, SP2,
    service 2273: Windows Server 2016) and gives no SVM: upgrade the host, at the outer layer."""
    from nestprobe.model.snapshot import CpuidTable, OsFacts, Registers, Snapshot
    from nestprobe.pipeline import build_report

    amd = Registers(0x10, 0x68747541, 0x444D4163, 0x69746E65)
    table = CpuidTable({
        (0, 0): amd, (1, 0): Registers(0x00800F12, 0, 1 << 31, 0),
        (0x80000000, 0): Registers(0x80000008, 0, 0, 0), (0x80000001, 0): Registers(0, 0, 0, 0),
        (0x40000000, 0): Registers(0x4000000A, 0x7263694D, 0x666F736F, 0x76482074),
        (0x40000001, 0): Registers(0x31237648, 0, 0, 0),
        (0x40000002, 0): Registers(0x3839, 0x000A0000, 2, 0x8E1),
        (0x40000003, 0): Registers(0x2E7F, 0x003B8030, 0, 0),
        (0x40000004, 0): Registers(0, 0, 0, 0),
    })
    report = build_report(Snapshot("ok", table, OsFacts("unknown", "x86_64")))
    assert report.assessment.hypervisor.hyperv is not None
    assert report.assessment.hypervisor.hyperv.build == 14393
    verdict = report.verdicts["wsl2"]
    assert verdict.status == "blocked"
    assert {c.id: c.state for c in verdict.conditions}["hyperv-host-amd"] == "unmet"
    assert verdict.remediation[0].steps[0].startswith("# Upgrade the host")


# --- this Windows' facts are conditions (edition, build, components, size, firmware) ---------


def _windows(**facts: object) -> WindowsFacts:
    return WindowsFacts(source="probe", **facts)  # type: ignore[arg-type]


def test_windows_home_cannot_have_the_hyperv_role() -> None:
    """Home in a Hyper-V VM with nesting on: Hyper-V and containers blocked by the edition
    (upgrade it, in this Windows), WSL2 supported; the rule underneath is still the nested one."""
    a = make(hv="microsoft", partition="guest", exposed=True, os="Windows",
             windows=_windows(edition="home", build=22631, wsl_installed=False))
    verdicts = evaluate(a)
    for scenario in ("hyperv", "hyperv-containers"):
        verdict = verdicts[scenario]
        assert (verdict.rule, verdict.status) == ("hyperv-nested", "blocked")
        assert _conditions(verdict)["windows-edition"] == "unmet"
        assert verdict.remediation[0] == REMEDIATIONS["windows-upgrade-edition"]
        assert "Home" in verdict.reasons[-1].claim
    assert verdicts["wsl2"].status == "supported"
    assert "windows-edition" not in _conditions(verdicts["wsl2"])
    # Not exposed: the edition upgrade first, then the host's switch, both needed.
    blocked = evaluate(replace(a, virtualization=replace(a.virtualization, exposed=False,
                                                         vmx=False)))["hyperv"]
    assert [r.layer for r in blocked.remediation] == ["this-os", "outer-hypervisor"]
    # Pro has the role: met, and the verdict stays the rule's.
    pro = evaluate(replace(a, environment=replace(a.environment, windows=_windows(
        edition="pro", build=22631))))["hyperv"]
    assert (pro.status, _conditions(pro)["windows-edition"]) == ("supported", "met")
    # No Windows facts (another OS, or not recorded): the condition does not apply.
    assert "windows-edition" not in _conditions(evaluate(make(hv="microsoft",
                                                              partition="guest"))["hyperv"])


def test_a_build_before_wsl2_blocks_wsl2_only() -> None:
    """Windows Server 2019 (17763) on bare metal: WSL 2 needs Server 2022; Hyper-V runs."""
    verdicts = evaluate(make(exposed=True, level=0, os="Windows",
                             windows=_windows(build=17763, edition="server", server=True)))
    wsl2 = verdicts["wsl2"]
    assert (wsl2.rule, wsl2.status) == ("bare-metal", "blocked")
    assert _conditions(wsl2)["windows-wsl2-build"] == "unmet"
    # A server moves by in-place upgrade, never by Settings > Windows Update (issue 18.7)
    assert wsl2.remediation == (REMEDIATIONS["windows-server-upgrade"],)
    assert "17763" in wsl2.reasons[-1].claim or "2019" in wsl2.reasons[-1].claim
    assert verdicts["hyperv"].status == "supported"
    assert _conditions(verdicts["hyperv"])["windows-edition"] == "met"
    new = evaluate(make(exposed=True, level=0, os="Windows",
                        windows=_windows(build=22631, edition="pro")))["wsl2"]
    assert (new.status, _conditions(new)["windows-wsl2-build"]) == ("supported", "met")


def test_installed_components_are_checked_and_keep_their_steps() -> None:
    """Bare-metal Windows with the Hyper-V role, hypervisorlaunchtype Off: supported, the role
    met, the launch unmet, and the step is bcdedit (not 'enable the feature')."""
    a = make(exposed=True, level=0, os="Windows",
             windows=_windows(edition="enterprise", build=22631, hyperv_installed=True,
                              wsl_installed=False, hypervisor_launch="off"))
    verdicts = evaluate(a)
    hyperv = verdicts["hyperv"]
    assert hyperv.status == "supported"
    assert _conditions(hyperv)["hyperv-role"] == "met"
    assert _conditions(hyperv)["hypervisor-launches"] == "unmet"
    assert hyperv.remediation == (REMEDIATIONS["windows-hypervisor-launch"],)
    assert _conditions(verdicts["wsl2"])["wsl-installed"] == "unmet"
    assert REMEDIATIONS["windows-wsl-install"] in verdicts["wsl2"].remediation
    # The role absent: unmet, and the feature is what to enable.
    absent = evaluate(replace(a, environment=replace(a.environment, windows=_windows(
        edition="pro", build=22631, hyperv_installed=False))))["hyperv"]
    assert _conditions(absent)["hyperv-role"] == "unmet"
    assert REMEDIATIONS["windows-enable-hyperv"] in absent.remediation
    # On Linux nothing here reads them: to confirm.
    linux = evaluate(make(exposed=True, level=0))["hyperv"]
    assert _conditions(linux)["hyperv-role"] == "unknown"
    assert _conditions(linux)["hypervisor-launches"] == "unknown"


def test_the_windows_firmware_answer_is_a_condition() -> None:
    """Coreinfo shows the CPU's VT-x, not the firmware switch: to confirm. Windows saying the
    firmware has it on meets it; saying it is off is the firmware rule's positive evidence."""
    on_windows = {"exposed": True, "level": 0, "os": "Windows",
                  "windows": _windows(edition="pro", build=22631)}
    unknown = evaluate(make(**on_windows))["hyperv"]  # type: ignore[arg-type]
    assert _conditions(unknown)["firmware-enabled"] == "unknown"
    on = evaluate(make(firmware_disabled=False, **on_windows))["hyperv"]  # type: ignore[arg-type]
    assert _conditions(on)["firmware-enabled"] == "met"
    assert "firmware-enabled" not in _conditions(evaluate(make(exposed=True, level=0))["hyperv"])


def test_windows_size_and_build_decide_the_ws2019_vcpu_limit() -> None:
    """256 processors: unknown on Linux, met when this Windows is newer than Server 2019."""
    a = make(hv="microsoft", partition="guest", build=20348, vcpus=256, os="Windows",
             windows=_windows(edition="server", server=True, build=20348))
    assert _conditions(evaluate(a)["hyperv"])["ws2019-vcpus"] == "met"
    old = replace(a, environment=replace(a.environment, windows=_windows(
        edition="server", server=True, build=17763)))
    verdict = evaluate(old)["hyperv"]
    assert _conditions(verdict)["ws2019-vcpus"] == "unmet"
    assert verdict.status == "unsupported"
    assert REMEDIATIONS["vcpus-225"] in verdict.remediation


def test_an_old_amd_root_partition_hosts_vms_that_cannot_nest() -> None:
    """Port of the AMD host rule's caveat: the root partition's own 0x40000002 build is this
    host's; older than 20348 on AMD, Hyper-V still runs (supported) but its VMs cannot nest."""
    old = evaluate(make(cpu="AuthenticAMD", hv="microsoft", partition="root", exposed=False,
                        os="Windows", build=17763))["hyperv"]
    assert old.status == "supported"
    assert _conditions(old)["hyperv-host-amd-own-vms"] == "unmet"
    assert old.remediation == ()
    new = evaluate(make(cpu="AuthenticAMD", hv="microsoft", partition="root", exposed=False,
                        os="Windows", build=20348))["hyperv"]
    assert _conditions(new)["hyperv-host-amd-own-vms"] == "met"
    intel = evaluate(make(hv="microsoft", partition="root", exposed=False, os="Windows",
                          build=17763))["hyperv"]
    assert "hyperv-host-amd-own-vms" not in _conditions(intel)


def test_an_amd_guest_on_a_ws2019_host_is_told_to_upgrade_the_host() -> None:
    """Port of the Windows side's AMD rule test (host build 17763 = Windows Server 2019), with
    the guest's name and host from its Guest Parameters filled into the host's steps."""
    a = make(cpu="AuthenticAMD", hv="microsoft", partition="guest", exposed=False, build=17763,
             os="Windows", windows=_windows(edition="server", server=True, build=20348,
                                            guest_parameters={"VirtualMachineName": "vm1",
                                                              "HostName": "hv01"}))
    verdict = evaluate(a)["hyperv"]
    assert verdict.status == "blocked"
    assert _conditions(verdict)["hyperv-host-amd"] == "unmet"
    first = verdict.remediation[0]
    assert first.where.startswith("on the Hyper-V host hv01")
    assert any("Update-VMVersion -Name 'vm1'" in step for step in first.steps)
    assert any("Intel host" in step for step in first.steps)
