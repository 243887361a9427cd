"""Issue 18 items 5, 7, 8, 9, 13, 14: conditions with minimum builds, upgrade paths a
product has, consequences, Windows' own hints, Dynamic Memory, and words a person reads.

The Windows fixtures are edited the way the issue did (a build of 7601 or 9600, an edition,
a memory size) and assessed through the whole pipeline; the screen-width and vocabulary
checks run over every report the digest guard knows (fixtures, corpus dumps, Windows
pastes, virt-what roots) and the live report.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from report_digest import FIXTURES, inputs

import nestprobe
from nestprobe.model.report import Report
from nestprobe.output.answer import answer
from nestprobe.output.text import WIDTH, columns, open_conditions, render_text, render_verbose
from nestprobe.verdicts import sources
from nestprobe.verdicts.conditions import CONDITIONS
from nestprobe.verdicts.remediation import REMEDIATIONS

WINDOWS_FIXTURE = FIXTURES / "windows" / "win11-enterprise-baremetal-hypervisor-off.dump"
CURRENT = "registry:HKLM\\\\SOFTWARE\\\\Microsoft\\\\Windows NT\\\\CurrentVersion\\\\"
#: Vendor ids (systemd-detect-virt's) a sentence must never show as a name.
VENDOR_IDS = re.compile(r"(?:\b(?:guest of|a|an) |\()(oracle|microsoft|amazon|google|qemu|kvm|"
                        r"vmware|xen|parallels|bhyve)\b(?! ?\()")
LINUX_HINTS = ("systemd-detect-virt", "dmidecode", "nproc", "/proc/cpuinfo", "/dev/kvm",
               "not-linux", "/sys/class/dmi")


@cache
def _reports() -> tuple[tuple[str, Report], ...]:
    return tuple((name, make()) for name, make in inputs())


def _all() -> Iterator[tuple[str, Report]]:
    yield from _reports()
    yield "live", nestprobe.probe(timing=False)


def _edited(tmp_path: Path, **values: str) -> Report:
    """The Windows bare-metal fixture with CurrentVersion values (and others) replaced."""
    text = WINDOWS_FIXTURE.read_text(encoding="utf-8")
    for name, value in values.items():
        pattern = re.compile(rf'^(file "?{re.escape(CURRENT) if name[0].isupper() else ""}'
                             rf'{re.escape(name)}"? ok )"[^"]*"$', re.MULTILINE)
        text, count = pattern.subn(lambda m, v=value: f'{m.group(1)}"{v}"', text)
        assert count == 1, name
    path = tmp_path / "edited.dump"
    path.write_text(text, encoding="utf-8")
    return nestprobe.load(path)


def _fixes(report: Report, scenario: str) -> str:
    verdict = report.verdicts[scenario]  # type: ignore[index]
    return "\n".join(s for r in verdict.remediation for s in (r.where, *r.steps))


# ------------------------------------------------------------------ 5 and 7: builds, paths


@pytest.mark.parametrize(("build", "product"), [("7601", "Windows 7"), ("9600", "Windows 8.1")])
def test_an_old_client_is_not_supported_and_is_told_a_path_it_has(
        tmp_path: Path, build: str, product: str) -> None:
    report = _edited(tmp_path, CurrentBuild=build, DisplayVersion="", ProductName=product)
    containers = report.verdicts["hyperv-containers"]
    assert containers.status == "blocked"
    assert {c.id: c.state for c in containers.conditions}["windows-containers-build"] == "unmet"
    hyperv = report.verdicts["hyperv"]
    state = {c.id: c.state for c in hyperv.conditions}["windows-hyperv-build"]
    # Windows 7 has no client Hyper-V; Windows 8.1 has it (but not containers, nor WSL 2).
    assert (state, hyperv.status) == (("unmet", "blocked") if build == "7601" else
                                      ("met", "supported"))
    for scenario in ("hyperv-containers", "wsl2"):
        said = _fixes(report, scenario)
        assert "new installation" in said, scenario  # no feature update reaches Windows 10
        assert "Windows Update" not in said.replace("through Windows Update", "")
        assert "Windows Server" not in said
    assert report.verdicts["wsl2"].status == "blocked"


def test_an_old_server_moves_by_in_place_upgrade(tmp_path: Path) -> None:
    report = _edited(tmp_path, CurrentBuild="17763", DisplayVersion="", EditionID="ServerStandard",
                     InstallationType="Server", ProductName="Windows Server 2019 Standard")
    wsl2 = report.verdicts["wsl2"]
    assert wsl2.status == "blocked"
    assert wsl2.remediation == (REMEDIATIONS["windows-server-upgrade"],)
    said = _fixes(report, "wsl2")
    assert "Settings" not in said
    assert "setup.exe" in said
    # "Server 2019 has WSL 1 only" is derived from the build rule: it cites that page.
    assert sources.WSL_INSTALL_MANUAL in REMEDIATIONS["windows-server-upgrade"].source
    assert report.verdicts["hyperv"].status == "supported"
    assert report.verdicts["hyperv-containers"].status != "blocked"


def test_32_bit_windows_has_no_hyperv(tmp_path: Path) -> None:
    report = _edited(tmp_path, **{"winapi:GetNativeSystemInfo:wProcessorArchitecture": "0"})
    hyperv = report.verdicts["hyperv"]
    assert hyperv.status == "blocked"
    assert "64-bit" in hyperv.reasons[-1].claim


def test_a_small_tablet_is_not_told_azure_local_is_supported(tmp_path: Path) -> None:
    """Windows Home, 4 GB: Azure Local needs 32 GB per node (and validated hardware)."""
    report = _edited(tmp_path, EditionID="Core", ProductName="Windows 10 Home",
                     **{"winapi:GlobalMemoryStatusEx:ullTotalPhys": str(4 << 30)})
    azure = report.verdicts["azure-local"]
    assert azure.status == "blocked"
    assert "32 GB" in azure.reasons[-1].claim
    assert {c.id: c.state for c in azure.conditions}["validated-hardware"] == "unknown"
    assert "WSL2 runs" not in answer(report)
    big = nestprobe.load(WINDOWS_FIXTURE)  # 64 GiB
    assert {c.id: c.state for c in big.verdicts["azure-local"].conditions}[
        "azure-local-memory"] == "met"


# ------------------------------------------------------------------ 8: consequences


def test_steps_with_consequences_carry_them() -> None:
    for rid, entry in REMEDIATIONS.items():
        said = " ".join(entry.steps)
        if "hypervisorlaunchtype off" in said and "Undo" not in said.split("off", 1)[0]:
            for word in ("Credential Guard", "HVCI", "Intune", "Group Policy"):
                assert word in said, (rid, word)
        if "Update-VMVersion" in said:
            assert "Irreversible" in said, rid
    trusted = REMEDIATIONS["azure-trusted-launch"]
    said = "\n".join(trusted.steps)
    assert "Verify" in said
    assert said.index("UseStandardSecurityType") < said.index("--security-type Standard")


# ------------------------------------------------------------------ 9: Windows' own hints


def test_a_windows_report_gives_windows_hints() -> None:
    windows = [(n, r) for n, r in _reports() if r.assessment.environment.os == "Windows"
               and r.assessment.environment.windows is not None]
    assert windows or pytest.skip("no Windows report here")
    for name, report in windows:
        for text in (render_text(report), render_verbose(report)):
            for hint in LINUX_HINTS:
                assert hint not in text, (name, hint)


# ------------------------------------------------------------------ 13: Dynamic Memory


def test_dynamic_memory_is_a_condition_only_where_hyperv_runs_a_vm() -> None:
    row = CONDITIONS["hyperv-dynamic-memory"]
    assert "Set-VMMemory -VMName <VM> -DynamicMemoryEnabled $false" in row.text
    assert "hv_balloon" in row.confirm
    assert "525074dc-8985-46e2-8057-a307dc18a502" in row.confirm
    for name, report in _reports():
        place = report.assessment.hypervisor.partition
        for verdict in report.verdicts:
            assert all("memory cannot change" not in c for c in verdict.caveats), name
            ids = {c.id for c in verdict.conditions}
            if "hyperv-dynamic-memory" in ids:
                assert report.assessment.hypervisor.vendor == "microsoft", name
                assert place != "root", name


# ------------------------------------------------------------------ 14: words


def test_every_line_of_every_default_report_fits_the_screen() -> None:
    for name, report in _all():
        for line in render_text(report, width=WIDTH).splitlines():
            assert columns(line) <= WIDTH, (name, line)


def test_vendor_ids_never_leak_into_sentences() -> None:
    for name, report in _all():
        for text in (answer(report), render_text(report)):
            found = VENDOR_IDS.search(text)
            assert found is None, (name, found and found.group(0))


def test_a_blocked_reason_is_a_finding_and_unmet_is_not_to_confirm() -> None:
    for name, report in _reports():
        for verdict in report.verdicts:
            texts = {c.text for c in verdict.conditions}
            assert verdict.reasons[-1].claim not in texts, (name, verdict.scenario)
        assert all(o.condition.state == "unknown" for o in open_conditions(report)), name
        text = render_text(report)
        if "Still to confirm:" in text:
            tail = text.split("Still to confirm:", 1)[1]
            assert "not met" not in tail.split("What to change")[0].lower(), name


def test_qemu_is_never_called_kvm() -> None:
    for name, report in _reports():
        if report.assessment.hypervisor.vendor == "qemu" or report.assessment.hypervisor.emulated:
            assert "KVM guest" not in render_text(report), name


# ------------------------------------------------------------------ 10: wine


def test_wine_is_said_and_its_stubs_are_unknown(tmp_path: Path) -> None:
    """The fixture as wine would record it: its key, its version, 0 for SLAT and firmware
    virtualization (a stub), no BCD store."""
    text = WINDOWS_FIXTURE.read_text(encoding="utf-8")
    for old, new in (('file "registry:HKLM\\\\SOFTWARE\\\\Wine" absent',
                      'file "registry:HKLM\\\\SOFTWARE\\\\Wine" dir'),
                     ("file winapi:wine_get_version absent",
                      'file winapi:wine_get_version ok "8.0"'),
                     *((f'IsProcessorFeaturePresent:{n} ok "1"',
                        f'IsProcessorFeaturePresent:{n} ok "0"') for n in (20, 21))):
        assert old in text, old
        text = text.replace(old, new)
    text = re.sub(r"^file bcd:\{default\}:hypervisorlaunchtype .*$",
                  "file bcd:{default}:hypervisorlaunchtype unreadable", text, flags=re.MULTILINE)
    path = tmp_path / "wine.dump"
    path.write_text(text, encoding="utf-8")
    report = nestprobe.load(path)
    windows = report.assessment.environment.windows
    assert windows is not None
    assert windows.wine == "8.0"
    assert (windows.slat, windows.firmware_virtualization) == (None, None)
    assert windows.hypervisor_launch == "unknown"
    assert report.assessment.virtualization.firmware_disabled is not True
    assert "under wine 8.0" in answer(report)
    assert "under wine 8.0" in render_verbose(report)
    firmware = {c.id: c.state for c in report.verdicts["hyperv"].conditions}
    assert firmware.get("firmware-enabled", "unknown") == "unknown"
    # The same facts without wine: 0 means no.
    plain = nestprobe.load(WINDOWS_FIXTURE)
    assert plain.assessment.environment.windows is not None
    assert plain.assessment.environment.windows.wine is None


# ------------------------------------------------------------------ 13: hv_balloon evidence


def _hyperv_linux_guest(balloon: str | None) -> Report:
    """A Linux Hyper-V guest with nesting on (the corpus-free CPUID of test_verdicts'
    pipeline tests), and the Dynamic Memory device's binding as recorded."""
    from nestprobe.model.snapshot import CpuidTable, FileFact, OsFacts, Registers, Snapshot
    from nestprobe.pipeline import build_report

    intel = Registers(0x16, 0x756E6547, 0x6C65746E, 0x49656E69)
    table = CpuidTable({
        (0, 0): intel, (1, 0): Registers(0x000906EA, 0, (1 << 31) | (1 << 5), 0),
        (0x40000000, 0): Registers(0x4000000A, 0x7263694D, 0x666F736F, 0x76482074),
        (0x40000001, 0): Registers(0x31237648, 0, 0, 0),
        (0x40000002, 0): Registers(0x4F7C, 0x000A0000, 0, 0x8E1),
        (0x40000003, 0): Registers(0x2E7F, 0x003B8030, 0, 0),
        (0x40000004, 0): Registers(0, 0, 0, 0),
    })
    files = {} if balloon is None else {
        "/sys/bus/vmbus/drivers/hv_balloon/1eccfd72-4b41-45ef-b73a-4a6e44c12924":
            FileFact(balloon)}
    return build_report(Snapshot("ok", table, OsFacts("Linux", "x86_64", files)))


@pytest.mark.parametrize(("balloon", "state"), [("dir", "unknown"), ("absent", "met"),
                                                (None, "unknown")])
def test_hv_balloon_decides_what_the_guest_can_show(balloon: str | None, state: str) -> None:
    report = _hyperv_linux_guest(balloon)
    verdict = report.verdicts["hyperv"]
    assert verdict.status == "supported", verdict.rule
    memory = {c.id: c for c in verdict.conditions}["hyperv-dynamic-memory"]
    assert memory.state == state
    if balloon is not None:
        assert memory.evidence
    if state == "unknown":
        assert memory.confirm is not None
        assert "Get-VMMemory" in memory.confirm


def test_windows_7_home_is_not_sent_to_a_settings_page_it_lacks(tmp_path: Path) -> None:
    report = _edited(tmp_path, CurrentBuild="7601", DisplayVersion="", EditionID="HomePremium",
                     ProductName="Windows 7 Home Premium")
    hyperv = report.verdicts["hyperv"]
    assert hyperv.status == "blocked"
    assert {c.id: c.state for c in hyperv.conditions}["windows-edition"] == "unmet"
    said = _fixes(report, "hyperv")
    assert "Activation" not in said
    assert "new installation" in said
