"""Every paste in ../shared/corpus/windows/ imports and gets the answer its TRUTH header
supports, and never more: "A hypervisor has been detected" is printed inside any VM and on a
Windows host running its own hypervisor alike, so those pastes cannot say which.

The table is the corpus README case table as data; "why" quotes the file's TRUTH line.
OWN_TRUTH does the same for the pastes written for these tests in each tool's layout
(tests/fixtures/pastes/windows/), so a clone without ../shared checks every class too.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import jsonschema
import pytest
from conftest import CORPUS, OWN_PASTES

import nestprobe
from nestprobe.model.errors import DumpFormatError
from nestprobe.model.report import Report
from nestprobe.output.answer import answer
from nestprobe.output.jsonreport import report_to_dict
from nestprobe.output.text import render_text
from nestprobe.sources.importers.common import DumpText
from nestprobe.sources.load import parse_snapshot
from nestprobe.verdicts.situation import situate

PASTES = CORPUS / "windows"
OWN = OWN_PASTES / "windows"
SCHEMA = json.loads(resources.files("nestprobe.output").joinpath("report.schema.json")
                    .read_text())
FIRMWARE_WORDS = re.compile(r"bios|uefi|firmware", re.IGNORECASE)


class Truth(NamedTuple):
    format: str
    place: str  # situation.place
    exposed: bool | None  # VT-x/AMD-V reaches this OS, as far as the paste shows
    firmware_off: bool | None  # Virtualization Enabled In Firmware: No
    hyperv: str  # the hyperv verdict
    wsl2: str
    start: str  # the answer begins with this
    why: str


ROOT_OR_GUEST = Truth("", "root-or-guest", None, None, "unknown", "unknown", "Cannot tell:", "")
BARE = Truth("systeminfo", "unseen", True, False, "supported", "supported", "Yes:", "")
FW_OFF = Truth("systeminfo", "unseen", True, True, "blocked", "blocked", "No:", "")

TRUTH: dict[str, Truth] = {
    "coreinfo-baremetal-nohv-i7-9750h-1.txt": BARE._replace(
        format="coreinfo", firmware_off=None,
        why="hypervisor-present bit CLEAR and VMX SET: bare metal, no hypervisor loaded"),
    "coreinfo-docs-baremetal-nohv-i7-2600-v-1.txt": BARE._replace(
        format="coreinfo", firmware_off=None,
        why="coreinfo -v: hypervisor bit CLEAR, VMX SET, EPT SET; no hypervisor loaded"),
    "coreinfo-docs-unknown-hvpresent-xeon-w3520-1.txt": ROOT_OR_GUEST._replace(
        format="coreinfo", exposed=False,
        why="hypervisor bit SET, VMX CLEAR: root partition or a VM without nested VT-x"),
    "coreinfo-hvroot-ryzen7-3800x-crc-1.txt": ROOT_OR_GUEST._replace(
        format="coreinfo", exposed=False,
        why="root partition (CRC on Hyper-V); SVM hidden by the running hypervisor, which the "
            "paste alone cannot tell from a VM without AMD-V"),
    "coreinfo-unknown-hvpresent-i5-6200u-1.txt": ROOT_OR_GUEST._replace(
        format="coreinfo", exposed=False,
        why="hypervisor bit SET, VMX CLEAR; the paste alone cannot tell which"),
    "getcomputerinfo-baremetal-nohv-notebook-bsod-1.txt": BARE._replace(
        format="get-computerinfo",
        why="HyperVisorPresent False with all four HyperVRequirement* True"),
    "getcomputerinfo-baremetal-vtfwoff-win10home-1.txt": FW_OFF._replace(
        format="get-computerinfo", why="virtualization switched OFF in BIOS/UEFI"),
    "getcomputerinfo-hvroot-sandbox-script-1.txt": ROOT_OR_GUEST._replace(
        format="get-computerinfo",
        why="root partition; FirmwareEnabled EMPTY is not 'disabled in BIOS' (Sandbox#15)"),
    "getcomputerinfo-hvroot-win10home-1.txt": ROOT_OR_GUEST._replace(
        format="get-computerinfo",
        why="root partition: HyperVisorPresent True, requirements empty"),
    "msinfo32-baremetal-surface3-1.txt": BARE._replace(
        format="msinfo32", hyperv="blocked",
        why="bare metal Surface 3, all four rows Yes; Windows 10 Home has no Hyper-V role"),
    "msinfo32-vmware-vdi-guest-novt-1.txt": Truth(
        "msinfo32", "vm", None, None, "unknown", "unknown", "Cannot tell:",
        "VMware guest; the three rows pasted say nothing about VT-x"),
    "systeminfo-baremetal-allyes-hp-n76-1.txt": BARE._replace(
        why="bare metal HP, no hypervisor, all four Yes"),
    "systeminfo-baremetal-allyes-nohv-ltsc-1.txt": BARE._replace(
        why="all four Yes, no hypervisor-detected line"),
    "systeminfo-baremetal-allyes-nohv-win11-1.txt": BARE._replace(
        why="all four Yes; the hypervisor is not running"),
    "systeminfo-baremetal-allyes-nohv-wsl-1.txt": BARE._replace(
        why="all four Yes; the Windows hypervisor was not running"),
    "systeminfo-baremetal-ptbr-header-1.txt": Truth(
        "systeminfo", "unseen", None, None, "unknown", "unknown", "Cannot tell:",
        "pt-BR header only: no Hyper-V section, VT-x exposure unknown"),
    "systeminfo-baremetal-vtfwoff-docker-1.txt": FW_OFF._replace(
        why="VM Monitor Mode Extensions Yes, Virtualization Enabled In Firmware No"),
    "systeminfo-baremetal-vtfwoff-hp-pinode-1.txt": FW_OFF._replace(
        why="firmware reports virtualization disabled (hand-edited, bolded paste)"),
    "systeminfo-baremetal-vtfwoff-win10home-1.txt": FW_OFF._replace(
        why="CPU virtualization switched OFF in the BIOS/UEFI, on purpose"),
    "systeminfo-hvroot-win10home-1.txt": ROOT_OR_GUEST._replace(
        format="systeminfo", why="root partition after the BIOS fix"),
    "systeminfo-hvroot-win11home-wsl-fails-1.txt": ROOT_OR_GUEST._replace(
        format="systeminfo", why="root partition; the line proves the hypervisor runs, not WSL2"),
    "systeminfo-hvroot-wsl-1.txt": ROOT_OR_GUEST._replace(
        format="systeminfo", why="root partition after the BIOS-settings reset"),
    "systeminfo-qemu-kvm-guest-hvdetected-1.txt": ROOT_OR_GUEST._replace(
        format="systeminfo", why="KVM guest: the line reflects KVM's hypervisor bit"),
    "systeminfo-qemu-kvm-guest-win11-header-1.txt": Truth(
        "systeminfo", "vm", None, None, "unknown", "unknown", "Cannot tell:",
        "QEMU guest (System Manufacturer QEMU); header only, VT-x exposure unknown"),
    "systeminfo-vmware-esxi65-guest-vhv-1.txt": BARE._replace(
        why="an ESXi guest with VT-x exposed that hides the hypervisor bit: looks like bare "
            "metal, and the report says a hidden hypervisor's statement would apply"),
}


#: The repository's own pastes (each file's header says what it shows and why).
OWN_TRUTH: dict[str, Truth] = {
    "coreinfo-bare-intel.txt": BARE._replace(
        format="coreinfo", firmware_off=None, why="HYPERVISOR -, VMX *, EPT *: no hypervisor"),
    "coreinfo-v-hvpresent-intel.txt": ROOT_OR_GUEST._replace(
        format="coreinfo", exposed=False, why="coreinfo -v: HYPERVISOR *, VMX -"),
    "coreinfo-v-noept-core2.txt": BARE._replace(
        format="coreinfo", firmware_off=None, hyperv="blocked", wsl2="blocked",
        why="VT-x without EPT (Core 2): Hyper-V needs SLAT"),
    "coreinfo-hvpresent-amd.txt": ROOT_OR_GUEST._replace(
        format="coreinfo", exposed=False, why="AMD: HYPERVISOR *, SVM -, VMX - (not VT-x)"),
    "getcomputerinfo-bare-list.txt": BARE._replace(
        format="get-computerinfo", why="HyperVisorPresent False, four requirements True"),
    "getcomputerinfo-fwoff-table.txt": FW_OFF._replace(
        format="get-computerinfo", why="table layout: firmware-enabled False"),
    "getcomputerinfo-hvroot-list.txt": ROOT_OR_GUEST._replace(
        format="get-computerinfo", why="HyperVisorPresent True, requirements empty"),
    "msinfo32-bare-tab.txt": BARE._replace(
        format="msinfo32", hyperv="blocked", why="four rows Yes; Home has no Hyper-V role"),
    "msinfo32-vmware-space.txt": Truth(
        "msinfo32", "vm", None, None, "unknown", "unknown", "Cannot tell:",
        "VMware's DMI, nothing about VT-x"),
    "systeminfo-bare-en.txt": BARE._replace(why="four requirements Yes, no hypervisor line"),
    "systeminfo-fwoff-findstr.txt": FW_OFF._replace(why="findstr excerpt: firmware No"),
    "systeminfo-fwoff-bold-edited.txt": FW_OFF._replace(why="hand-edited, bolded: firmware No"),
    "systeminfo-hvroot-en.txt": ROOT_OR_GUEST._replace(
        format="systeminfo", why="the hypervisor sentence instead of the requirements"),
    "systeminfo-ptbr-header.txt": Truth(
        "systeminfo", "unseen", None, None, "unknown", "unknown", "Cannot tell:",
        "pt-BR header only: no Hyper-V section"),
    "systeminfo-qemu-guest-header.txt": Truth(
        "systeminfo", "vm", None, None, "unknown", "unknown", "Cannot tell:",
        "System Manufacturer QEMU; header only"),
}
#: Every paste with its truth: the corpus's (where ../shared is beside the clone) and ours.
ALL_TRUTH = {**TRUTH, **OWN_TRUTH}


def _load(name: str) -> Report:
    path = (OWN if name in OWN_TRUTH else PASTES) / name
    if not path.is_file():
        pytest.skip(f"paste not found at {path}")
    return nestprobe.load(str(path))


def test_the_table_covers_every_paste() -> None:
    if not PASTES.is_dir():
        pytest.skip(f"corpus not found at {PASTES}")
    assert {p.name for p in PASTES.glob("*.txt")} == set(TRUTH)


def test_the_own_table_covers_every_own_paste() -> None:
    assert {p.name for p in OWN.glob("*.txt")} == set(OWN_TRUTH)
    assert not set(OWN_TRUTH) & set(TRUTH)  # one name, one file


@pytest.mark.parametrize("name", sorted(ALL_TRUTH))
def test_each_paste_gets_the_answer_its_truth_supports(name: str) -> None:
    truth = ALL_TRUTH[name]
    report = _load(name)
    a = report.assessment
    situation = situate(a)
    assert report.snapshot.origin.format == truth.format, truth.why
    assert report.snapshot.os.system == "Windows"
    assert report.snapshot.cpuid_status == "absent"
    assert a.environment.windows is not None
    assert situation.place == truth.place, truth.why
    assert a.virtualization.exposed is truth.exposed, truth.why
    assert a.virtualization.firmware_disabled is truth.firmware_off, truth.why
    assert report.verdicts["hyperv"].status == truth.hyperv, truth.why
    assert report.verdicts["wsl2"].status == truth.wsl2, truth.why
    text = answer(report)
    assert text.startswith(truth.start), (truth.why, text)
    jsonschema.Draft202012Validator(SCHEMA).validate(report_to_dict(report))
    assert render_text(report)


@pytest.mark.parametrize("name", sorted(n for n, t in ALL_TRUTH.items()
                                        if t.place == "root-or-guest"))
def test_a_hypervisor_line_alone_claims_nothing_more(name: str) -> None:
    report = _load(name)
    a = report.assessment
    assert a.hypervisor.detected
    assert a.hypervisor.partition == "root-or-guest"
    assert a.virtualization.can_host_vms is None  # the root can, a guest without VT-x cannot
    assert a.nesting.level is None
    assert a.nesting.at_least == 0
    assert {v.status for v in report.verdicts} == {"unknown"}
    text = answer(report)
    assert "root partition" in text
    assert "VM" in text
    assert not FIRMWARE_WORDS.search(text)
    for verdict in report.verdicts:
        assert verdict.remediation == ()
        tell = {c.id: c for c in verdict.conditions}["root-partition-or-guest"]
        assert tell.state == "unknown"
        assert tell.confirm is not None
        assert "System Manufacturer" in tell.confirm
        blob = json.dumps([r.to_dict() for r in verdict.reasons])
        assert not FIRMWARE_WORDS.search(blob), blob


@pytest.mark.parametrize("name", sorted(n for n, t in ALL_TRUTH.items() if t.firmware_off))
def test_firmware_is_named_where_windows_says_it_is_off(name: str) -> None:
    report = _load(name)
    verdict = report.verdicts["hyperv"]
    assert verdict.rule == "firmware-disabled"
    assert [r.layer for r in verdict.remediation] == ["firmware"]
    assert "firmware" in answer(report)


@pytest.mark.parametrize("name", sorted(n for n, t in ALL_TRUTH.items() if t.place == "unseen"
                                        and t.exposed and not t.firmware_off))
def test_no_hypervisor_visible_is_not_called_bare_metal(name: str) -> None:
    """The ESXi guest that hides its bit looks exactly like these: say what is seen."""
    report = _load(name)
    text = answer(report)
    assert "bare metal" not in text
    assert "no hypervisor is visible" in text
    assert "hypervisor-unseen" not in text
    conditions = {c.id: c for c in report.verdicts["hyperv"].conditions}
    assert conditions["no-hidden-hypervisor"].state == "unknown"
    assert "none is visible from here" in conditions["no-hidden-hypervisor"].text


@pytest.mark.parametrize("name", sorted(n for n, t in ALL_TRUTH.items()
                                        if t.hyperv == "supported"))
def test_what_a_paste_cannot_show_is_offered_both_ways(name: str) -> None:
    """A paste shows no installed components: both "enable the feature" and "the hypervisor
    did not launch" apply, each saying when; none of it is the firmware."""
    verdict = _load(name).verdicts["hyperv"]
    steps = [s for r in verdict.remediation for s in r.steps]
    assert {r.layer for r in verdict.remediation} == {"this-os"}
    assert any("Enable-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V" in s
               for s in steps)
    assert "bcdedit /set hypervisorlaunchtype auto" in steps
    assert not FIRMWARE_WORDS.search(json.dumps([r.to_dict() for r in verdict.remediation]))


def test_edition_and_build_come_from_the_paste() -> None:
    pt = _load("systeminfo-baremetal-ptbr-header-1.txt").assessment.environment.windows
    assert pt is not None
    assert (pt.edition, pt.build, pt.release) == ("pro", 19045, "Windows 10 version 22H2")
    surface = _load("msinfo32-baremetal-surface3-1.txt")
    windows = surface.assessment.environment.windows
    assert windows is not None
    assert (windows.edition, windows.build, windows.memory_bytes) == ("home", 19042, 4 << 30)
    hyperv = surface.verdicts["hyperv"]
    assert hyperv.status == "blocked"
    assert {c.id: c.state for c in hyperv.conditions}["windows-edition"] == "unmet"
    assert any(r.source == "msinfo32:OS Name" for r in hyperv.reasons)
    assert surface.assessment.hypervisor.vendor is None  # Microsoft hardware, not Hyper-V


def test_edition_and_build_come_from_own_pastes() -> None:
    pt = _load("systeminfo-ptbr-header.txt").assessment.environment.windows
    assert pt is not None
    assert (pt.edition, pt.build) == ("pro", 22631)
    laptop = _load("msinfo32-bare-tab.txt")
    windows = laptop.assessment.environment.windows
    assert windows is not None
    assert (windows.edition, windows.build, windows.memory_bytes) == ("home", 19045, 8 << 30)
    hyperv = laptop.verdicts["hyperv"]
    assert hyperv.status == "blocked"
    assert {c.id: c.state for c in hyperv.conditions}["windows-edition"] == "unmet"
    assert any(r.source == "msinfo32:OS Name" for r in hyperv.reasons)
    assert laptop.assessment.hypervisor.vendor is None  # Microsoft hardware, not Hyper-V


def test_a_cpu_without_slat_is_told_hyperv_needs_it() -> None:
    report = _load("coreinfo-v-noept-core2.txt")
    assert report.assessment.virtualization.slat is False
    for scenario in ("hyperv", "wsl2"):
        assert report.verdicts[scenario].rule == "no-slat-bare-metal"
    assert report.verdicts["third-party"].status == "supported"


def test_dmi_from_own_pastes_names_the_outer_hypervisor() -> None:
    qemu = _load("systeminfo-qemu-guest-header.txt").assessment
    assert qemu.hypervisor.vendor == "qemu"
    assert qemu.environment.dmi["sys_vendor"] == "QEMU"
    assert _load("msinfo32-vmware-space.txt").assessment.hypervisor.vendor == "vmware"


def test_dmi_from_a_paste_names_the_outer_hypervisor() -> None:
    qemu = _load("systeminfo-qemu-kvm-guest-win11-header-1.txt").assessment
    assert qemu.hypervisor.vendor == "qemu"
    assert qemu.environment.dmi["sys_vendor"] == "QEMU"
    vmware = _load("msinfo32-vmware-vdi-guest-novt-1.txt").assessment
    assert vmware.hypervisor.vendor == "vmware"


# --- the parsers on the layouts the corpus shows --------------------------------------------------

def _parse(text: str) -> dict[str, str]:
    snap = parse_snapshot(text, "paste.txt")
    return {path: fact.text or "" for path, fact in snap.os.files.items()}


def test_systeminfo_labels_values_and_continuations() -> None:
    files = _parse(
        "Host Name:                 BOX\n"
        "OS Name:                   Microsoft Windows 11 Pro\n"
        "Processor(s):              1 Processor(s) Installed.\n"
        "                           [01]: Intel64 Family 6 Model 158 Stepping 12 GenuineIntel\n"
        "Virtual Memory: Max Size:  10,028 MB\n"
        "Hyper-V Requirements:      VM Monitor Mode Extensions: Yes\n"
        "                           Virtualization Enabled In Firmware: No\n")
    assert files["systeminfo:OS Name"] == "Microsoft Windows 11 Pro"
    assert files["systeminfo:Processor(s)"].splitlines()[1].startswith("[01]: Intel64")
    assert files["systeminfo:Virtual Memory: Max Size"] == "10,028 MB"
    assert files["systeminfo:Hyper-V Requirements/Virtualization Enabled In Firmware"] == "No"


def test_systeminfo_in_portuguese() -> None:
    files = _parse(
        "Nome do sistema operacional:               Microsoft Windows 11 Pro\n"
        "Fabricante do sistema operacional:         Microsoft Corporation\n"
        "Fabricante do sistema:                     ASUS\n"
        "Requisitos do Hyper-V:                     Extensão de Modo de Monitor VM: Sim\n"
        "                                           Virtualização Habilitada no Firmware: Não\n")
    assert files["systeminfo:OS Manufacturer"] == "Microsoft Corporation"
    assert files["systeminfo:System Manufacturer"] == "ASUS"
    assert files["systeminfo:Hyper-V Requirements/VM Monitor Mode Extensions"] == "Sim"
    assert files["systeminfo:Hyper-V Requirements/Virtualization Enabled In Firmware"] == "Não"


def test_get_computerinfo_table_layout_keeps_an_empty_column_empty() -> None:
    files = _parse(
        "HyperVRequirementVirtualizationFirmwareEnabled HyperVisorPresent\n"
        "---------------------------------------------- -----------------\n"
        "                                                            True\n")
    assert files == {"get-computerinfo:HyperVRequirementVirtualizationFirmwareEnabled": "",
                     "get-computerinfo:HyperVisorPresent": "True"}


def test_msinfo32_rows_with_tabs_or_spaces() -> None:
    tabs = _parse("System Manufacturer\tVMware, Inc.\nSystem Model\tVMware7,1\n")
    assert tabs["msinfo32:System Model"] == "VMware7,1"
    spaces = _parse("OS Name Microsoft Windows 10 Home\n"
                    "Hyper-V - Virtualization Enabled in Firmware No\n")
    assert spaces["msinfo32:Hyper-V - Virtualization Enabled in Firmware"] == "No"


def test_coreinfo_without_its_banner() -> None:
    files = _parse(
        "AMD Ryzen 7 3800X 8-Core Processor\n"
        "AMD64 Family 23 Model 113 Stepping 0, AuthenticAMD\n"
        "HYPERVISOR      *       Hypervisor is present\n"
        "SVM             -       Supports AMD hardware-assisted virtualization\n")
    assert files["coreinfo:cpu"] == "AMD Ryzen 7 3800X 8-Core Processor"
    assert files["coreinfo:SVM"] == "-"


@pytest.mark.parametrize("text", [
    "Hyper-V Requirements:\n",  # the label, nothing it can read
    "Coreinfo v3.52 - Dump information on system CPU and memory topology\n",
])
def test_a_paste_with_nothing_readable_is_a_format_error(text: str) -> None:
    with pytest.raises(DumpFormatError):
        parse_snapshot(text, "paste.txt")


def test_sniffers_leave_the_register_dumps_alone() -> None:
    """No register dump of the corpus is taken for a Windows paste."""
    from nestprobe.sources.importers import coreinfo, getcomputerinfo, msinfo32, systeminfo
    from nestprobe.sources.importers.common import read_dump_text

    dumps = CORPUS / "dumps"
    if not dumps.is_dir():
        pytest.skip(f"corpus not found at {dumps}")
    for path in sorted(dumps.iterdir()):
        dump: DumpText = read_dump_text(str(path))
        for importer in (coreinfo, systeminfo, getcomputerinfo, msinfo32):
            assert not importer.sniff(dump), (path.name, importer.FORMAT)


def test_pastes_are_read_in_place_not_copied() -> None:
    """No project file carries a corpus header (build products and caches are not the project:
    the Windows stage's wine prefix under build/ holds test temp files, and links to /)."""
    repo = Path(__file__).resolve().parents[2]
    skip = {"build", "dist", ".lab-cache", ".git", ".venv"}
    for top in repo.iterdir():
        if top.name in skip or not top.is_dir():
            continue
        for path in top.rglob("*.txt"):
            assert "# SOURCE:" not in path.read_text(errors="replace")[:200], path


def test_a_paste_naming_no_cpu_vendor_says_vt_x_or_amd_v() -> None:
    """systeminfo's "VM Monitor Mode Extensions" is VT-x or AMD-V by the processor line; with
    no processor line pasted, neither is claimed."""
    bare = _load("systeminfo-baremetal-allyes-nohv-wsl-1.txt")
    virt = bare.assessment.virtualization
    assert (virt.vmx, virt.svm, virt.exposed, virt.slat) == (None, None, True, True)
    assert "VT-x/AMD-V" in answer(bare)
    hp = _load("systeminfo-baremetal-allyes-hp-n76-1.txt").assessment.virtualization
    assert (hp.vmx, hp.svm) == (True, None)  # [01]: Intel64 Family 6 ... GenuineIntel
    amd = _load("coreinfo-hvroot-ryzen7-3800x-crc-1.txt").assessment.virtualization
    assert (amd.vmx, amd.svm) == (False, False)  # Coreinfo prints both lines
