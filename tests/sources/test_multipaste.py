"""Several Windows tool outputs in one paste (issue 22.3): every one is read; where they agree
they are merged, where they contradict each other the paste is refused (exit 6) naming both.

The pastes are written here in each tool's layout (MicrosoftDocs systeminfo, Sysinternals
coreinfo.md, msinfo32's System Summary copied as TAB-separated rows), with made-up values.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import nestprobe
from nestprobe.cli import main
from nestprobe.model.contract import EXIT_BAD_INPUT
from nestprobe.model.errors import DumpFormatError

SYSTEMINFO_HV = """\
Host Name:                 DESK-01
OS Name:                   Microsoft Windows 11 Pro
OS Version:                10.0.22631 N/A Build 22631
System Type:               x64-based PC
Total Physical Memory:     16,207 MB
Hyper-V Requirements:      A hypervisor has been detected. Features required for \
Hyper-V will not be displayed.
"""
SYSTEMINFO_NOHV = """\
Host Name:                 DESK-01
OS Name:                   Microsoft Windows 11 Pro
OS Version:                10.0.22631 N/A Build 22631
System Type:               x64-based PC
Total Physical Memory:     16,207 MB
Hyper-V Requirements:      VM Monitor Mode Extensions: Yes
                           Virtualization Enabled In Firmware: Yes
                           Second Level Address Translation: Yes
                           Data Execution Prevention Available: Yes
"""
COREINFO_HV = """\
Coreinfo v3.6 - Dump information on system CPU and memory topology
Copyright (C) 2008-2022 Mark Russinovich
Sysinternals - www.sysinternals.com

Intel(R) Core(TM) i7-9700 CPU @ 3.00GHz
Intel64 Family 6 Model 158 Stepping 13, GenuineIntel
Microcode signature: 000000F4
HYPERVISOR      *       Hypervisor is present
VMX             -       Supports Intel hardware-assisted virtualization
EPT             -       Supports Intel extended page tables (SLAT)
"""
COREINFO_NOHV = COREINFO_HV.replace("HYPERVISOR      *", "HYPERVISOR      -").replace(
    "VMX             -", "VMX             *").replace("EPT             -", "EPT             *")
MSINFO32 = (
    "OS Name\tMicrosoft Windows 11 Pro\n"
    "Version\t10.0.22631 Build 22631\n"
    "System Type\tx64-based PC\n"
    "Hyper-V - VM Monitor Mode Extensions\tYes\n"
    "Hyper-V - Second Level Address Translation Extensions\tYes\n"
    "Hyper-V - Virtualization Enabled in Firmware\tYes\n"
    "Hyper-V - Data Execution Protection\tYes\n"
)


def _paste(tmp_path: Path, *parts: str) -> Path:
    path = tmp_path / "paste.txt"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _refused(path: Path, capsys: pytest.CaptureFixture[str], *named: str) -> str:
    assert main(["check", "wsl2", "--from", str(path), "-q"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    for word in named:
        assert word in err, (word, err)
    return err


def test_systeminfo_then_coreinfo_that_contradict_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _paste(tmp_path, SYSTEMINFO_HV, "C:\\> coreinfo -v", "", COREINFO_NOHV)
    _refused(path, capsys, "systeminfo:Hyper-V Requirements", "coreinfo:HYPERVISOR",
             "hypervisor is present")
    with pytest.raises(DumpFormatError):
        nestprobe.load(path)


def test_systeminfo_and_coreinfo_that_agree_are_both_read(tmp_path: Path) -> None:
    report = nestprobe.load(_paste(tmp_path, SYSTEMINFO_NOHV, COREINFO_NOHV))
    files = report.snapshot.os.files
    assert report.snapshot.origin.format == "systeminfo+coreinfo"
    assert files["coreinfo:VMX"].text == "*"
    assert files["systeminfo:OS Name"].text == "Microsoft Windows 11 Pro"
    assert report.assessment.hypervisor.detected is False
    # Coreinfo first, systeminfo after: the same facts, whichever comes first.
    again = nestprobe.load(_paste(tmp_path, COREINFO_NOHV, SYSTEMINFO_NOHV))
    assert again.snapshot.os.files == files
    assert [v.status for v in again.verdicts] == [v.status for v in report.verdicts]
    assert again.assessment.virtualization.exposed == report.assessment.virtualization.exposed


def test_two_systeminfo_runs_that_disagree_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _paste(tmp_path, SYSTEMINFO_HV, SYSTEMINFO_NOHV)
    err = _refused(path, capsys, "systeminfo from line 1", "systeminfo from line 8",
                   "Hyper-V Requirements")
    assert "paste.txt:8:" in err
    # The same run pasted twice is one machine's output, read once.
    report = nestprobe.load(_paste(tmp_path, SYSTEMINFO_NOHV, SYSTEMINFO_NOHV))
    assert report == nestprobe.load(_paste(tmp_path, SYSTEMINFO_NOHV))


def test_msinfo32_then_systeminfo_keeps_both(tmp_path: Path) -> None:
    report = nestprobe.load(_paste(tmp_path, MSINFO32, SYSTEMINFO_NOHV))
    files = report.snapshot.os.files
    assert report.snapshot.origin.format == "msinfo32+systeminfo"
    assert "msinfo32:Hyper-V - VM Monitor Mode Extensions" in files
    assert "systeminfo:Host Name" in files


def test_msinfo32_and_systeminfo_of_different_builds_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = MSINFO32.replace("10.0.22631 Build 22631", "10.0.19045 Build 19045")
    _refused(_paste(tmp_path, other, SYSTEMINFO_NOHV), capsys, "Windows build", "19045",
             "22631")


def test_hand_picked_fields_then_coreinfo(tmp_path: Path) -> None:
    """Fields a person picked, one per paragraph, are still systeminfo's output."""
    picked = "\n\n".join(SYSTEMINFO_NOHV.split("\nHyper-V", maxsplit=1)[0].splitlines())
    report = nestprobe.load(_paste(tmp_path, picked, "", COREINFO_NOHV))
    files = report.snapshot.os.files
    assert "systeminfo:OS Version" in files
    assert files["coreinfo:HYPERVISOR"].text == "-"


def test_one_tool_is_read_as_before(tmp_path: Path) -> None:
    report = nestprobe.load(_paste(tmp_path, SYSTEMINFO_HV))
    assert report.snapshot.origin.format == "systeminfo"
