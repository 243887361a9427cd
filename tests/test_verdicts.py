"""Verdicts on Assessments built by hand: every matrix rule, remediation layer, the JSON
shape, and the invariant that the BIOS is blamed only when it is the cause."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nestprobe.model.assessment import (
    Assessment,
    CpuIdentity,
    Environment,
    HypervisorFacts,
    HypervisorInterface,
    Nesting,
    Virtualization,
    WindowsFacts,
)
from nestprobe.model.evidence import Evidence
from nestprobe.model.record import replace
from nestprobe.model.verdicts import LAYERS, SCENARIOS, STATUSES, Verdicts
from nestprobe.verdicts.evaluate import evaluate, rule_for
from nestprobe.verdicts.matrix import FALLBACK, RULES
from nestprobe.verdicts.notes import GLOBAL_NOTES, NOTES
from nestprobe.verdicts.remediation import _CLOUD_FIX, _OUTER_FIX, OUTER, REMEDIATIONS
from nestprobe.verdicts.situation import MATCH_FIELDS, aws_type, azure_size, situate
from nestprobe.verdicts.windows import WINDOWS_STEPS

SIGNATURES = {
    "microsoft": "Microsoft Hv", "kvm": "KVMKVMKVM", "vmware": "VMwareVMware",
    "oracle": "VBoxVBoxVBox", "xen": "XenVMMXenVMM", "parallels": " lrpepyh  vr",
    "bhyve": "bhyve bhyve ", "unknown": "????????????",
}
BIOS_WORDS = re.compile(r"bios|uefi|firmware", re.IGNORECASE)


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
    wsl: bool = False,
    container: str | None = None,
    xen_domain: str | None = None,
    level: int | None = None,
    at_least: int = 0,
    windows: WindowsFacts | None = None,
) -> Assessment:
    """An Assessment as the assess/ stage would build it, with evidence for the main facts."""
    detected = hv is not None
    amd = cpu == "AuthenticAMD"
    vmx = None if exposed is None else (exposed and not amd)
    svm = None if exposed is None else (exposed and amd)
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
    if exposed is not None:
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
    return Assessment(
        cpu=CpuIdentity(vendor=cpu, brand="test CPU",
                        evidence=(Evidence("CPU vendor", "CPUID.0x0:EBX,ECX,EDX", cpu),)),
        hypervisor=HypervisorFacts(
            bit=detected, detected=detected or emulated, vendor=hv, interfaces=(),
            partition=partition,  # type: ignore[arg-type]
            cloud=cloud, instance_type=instance, confidential=confidential,
            emulated=emulated, evidence=hv_evidence,
        ),
        virtualization=Virtualization(
            vmx=vmx, svm=svm, exposed=exposed, slat=slat if exposed else None,
            can_host_vms=exposed or partition == "root",
            firmware_disabled=firmware_disabled, kvm_device=kvm,
            kvm_backend="kvm_pvm" if pvm else None, software_nesting_only=pvm,
            evidence=virt_evidence,
        ),
        environment=Environment(os=os, machine="x86_64", wsl=wsl, container=container,
                                xen_domain=xen_domain, windows=windows),
        nesting=Nesting(level=level, at_least=at_least, likely=level, confidence="high"),
    )


#: One constructed Assessment per rule; the parametrized test below proves each reaches it.
RULE_EXAMPLES: dict[str, Assessment] = {
    "emulator-x86": make(emulated=True, exposed=False, os="Windows"),
    "emulator-qemu-tcg-svm": make(cpu="AuthenticAMD", hv="qemu", emulated=True, exposed=True),
    "emulator-qemu-tcg": make(hv="qemu", emulated=True, exposed=False),
    "wsl-utility-vm": make(hv="microsoft", wsl=True, exposed=False),
    "wsl-nested": make(hv="microsoft", wsl=True, exposed=True, kvm="usable"),
    "wsl-no-nested": make(hv="microsoft", wsl=True, exposed=False),
    "windows-home": make(hv="microsoft", partition="guest", exposed=True, os="Windows",
                         windows=WindowsFacts(source="live", edition="home")),
    "windows-wsl2-build": make(exposed=True, level=0, os="Windows",
                               windows=WindowsFacts(source="live", build=17763,
                                                    edition="server", server=True)),
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
    "exposure-unknown": make(hv="kvm", exposed=None),
    "firmware-disabled-vm": make(hv="kvm", exposed=False, firmware_disabled=True),
    "firmware-disabled": make(exposed=False, firmware_disabled=True, level=0),
    "bare-metal-no-vt": make(exposed=False, level=0),
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
    "hyperv-amd-host-too-old": replace(
        make(cpu="AuthenticAMD", hv="microsoft", partition="guest", exposed=False),
        hypervisor=HypervisorFacts(
            bit=True, detected=True, vendor="microsoft", partition="guest",
            interfaces=(HypervisorInterface(
                base=0x40000000, max_leaf=0x4000000A, signature="Microsoft Hv",
                vendor_id="microsoft", interface="Hv#1",
                decoded={"hyperv.version": {"build_number": 17763}}),),
            evidence=(Evidence("Microsoft hypervisor build", "CPUID.0x40000002:EAX", 17763),))),
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
            assert nid in NOTES, (rule.id, nid)
    for note in NOTES.values():
        assert note.source
        assert note.text
        assert set(note.when) <= MATCH_FIELDS
    assert set(GLOBAL_NOTES) <= set(NOTES)
    for entry in REMEDIATIONS.values():
        assert entry.layer in LAYERS
        assert entry.steps
        assert entry.source
        assert entry.where


def test_no_dead_remediation_or_notes() -> None:
    used = {rid for r in RULES for rid in r.remediation}
    used |= set(_OUTER_FIX.values()) | {rid for ids in _CLOUD_FIX.values() for rid in ids}
    used |= {"unknown-outer", "cloud-other"}  # outer_fix's fall-backs
    used |= {rid for row in WINDOWS_STEPS for rid in row.remediation}
    assert set(REMEDIATIONS) == used - {OUTER}
    noted = {nid for r in RULES for nid in r.notes} | set(GLOBAL_NOTES)
    assert set(NOTES) == noted


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
                                "rule", "source"}
        for reason in verdict["reasons"]:  # type: ignore[attr-defined]
            assert set(reason) == {"claim", "source", "value"}
        for fix in verdict["remediation"]:  # type: ignore[attr-defined]
            assert set(fix) == {"layer", "where", "steps", "source"}


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
    assert "Intel series" in verdict.remediation[0].steps[0]


def test_hyperv_root_can_host_and_is_not_told_vtx_is_missing() -> None:
    verdicts = evaluate(make(hv="microsoft", partition="root", exposed=False, os="Windows"))
    assert [verdicts[s].status for s in SCENARIOS] == [
        "supported", "supported", "supported", "supported", "unsupported"]
    assert verdicts["hyperv"].remediation == ()
    assert verdicts["third-party"].remediation[0].layer == "this-os"
    assert "hypervisorlaunchtype off" in verdicts["third-party"].remediation[0].steps[0]


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


def test_linux_gets_the_windows_in_place_condition() -> None:
    linux = evaluate(make(hv="microsoft", partition="guest"))
    windows = evaluate(make(hv="microsoft", partition="guest", os="Windows"))
    marker = "Windows OS installed here"
    assert any(marker in c for c in (x.text for x in linux["hyperv"].conditions))
    assert not any(marker in c for c in (x.text for x in linux["third-party"].conditions))
    assert not any(marker in c for c in (x.text for x in windows["hyperv"].conditions))


def test_supported_hyperv_in_a_vm_carries_the_doc_caveats() -> None:
    verdicts = evaluate(make(hv="microsoft", partition="guest", os="Windows"))
    caveats = " ".join(verdicts["hyperv"].caveats)
    assert "memory cannot change" in caveats
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
    os=st.sampled_from(["Linux", "Windows", "Darwin"]),
    wsl=st.booleans(),
    container=st.sampled_from([None, "docker"]),
    xen_domain=st.sampled_from([None, "domU", "dom0"]),
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
)


def _firmware_may_be_named(a: Assessment) -> bool:
    bare_no_vt = (not a.hypervisor.detected and not a.hypervisor.emulated
                  and a.virtualization.exposed is False)
    return bool(a.virtualization.firmware_disabled) or bare_no_vt


@given(assessments)
def test_bios_is_blamed_only_when_it_is_the_cause(a: Assessment) -> None:
    verdicts = evaluate(a)
    for verdict in verdicts:
        assert verdict.status in STATUSES
        assert verdict.rule != FALLBACK.id, "a combination no rule covers"
        if _firmware_may_be_named(a):
            continue
        blob = json.dumps({"reasons": [r.to_dict() for r in verdict.reasons],
                           "remediation": [r.to_dict() for r in verdict.remediation]})
        assert not BIOS_WORDS.search(blob), (verdict.rule, blob)
        assert all(r.layer != "firmware" for r in verdict.remediation)


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


def test_firmware_is_named_for_bare_metal_without_vt() -> None:
    verdict = evaluate(make(exposed=False, level=0))["hyperv"]
    # Firmware first; a hypervisor that hides its bit (VirtualBox legacy) is the other cause.
    assert [r.layer for r in verdict.remediation] == ["firmware", "outer-hypervisor"]


def test_dmi_bios_strings_stay_out_of_reasons() -> None:
    verdict = evaluate(make(hv="kvm", exposed=False))["third-party"]
    assert all("bios" not in r.source for r in verdict.reasons)


def test_docs_list_every_rule_remediation_and_note_in_order() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "verdicts.md").read_text()
    rows = re.findall(r"^\| \d+ \| `([^`]+)` \|", doc, flags=re.MULTILINE)
    assert rows == [r.id for r in RULES]  # same rules, same evaluation order
    for key in (*REMEDIATIONS, *NOTES):
        assert f"| `{key}` |" in doc, key
