"""Windows facts: the pseudo-path contract, the reader seam, the value formats, and the
Windows breakages of the file reader. The live reader runs only on Windows (the wine stage)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nestprobe.decode import winpaths
from nestprobe.model.errors import DumpFormatError
from nestprobe.model.snapshot import FileFact
from nestprobe.sources import osfacts
from nestprobe.sources.importers import common
from nestprobe.sources.windows_facts import (
    REG_BINARY,
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_MULTI_SZ,
    REG_QWORD,
    REG_SZ,
    WINDOWS_FACTS,
    WINDOWS_PATHS,
    collect_windows_facts,
    error_state,
    registry_text,
)

REPO = Path(__file__).resolve().parents[2]
WINDOWS = sys.platform == "win32"

CV = "registry:HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\"
BIOS = "registry:HKLM\\HARDWARE\\DESCRIPTION\\System\\BIOS\\"
GUEST = "registry:HKLM\\SOFTWARE\\Microsoft\\Virtual Machine\\Guest\\Parameters\\"
SERVICES = "registry:HKLM\\SYSTEM\\CurrentControlSet\\Services\\"
GUARD = "registry:HKLM\\SYSTEM\\CurrentControlSet\\Control\\DeviceGuard\\"
#: The contract with the C dumper (issue 9, item 4), spelled out once more by hand.
CONTRACT = (
    *(CV + v for v in ("CurrentBuild", "UBR", "EditionID", "InstallationType", "ProductName",
                       "DisplayVersion")),
    *(BIOS + v for v in ("SystemManufacturer", "SystemProductName", "SystemVersion",
                         "BIOSVendor", "BIOSVersion", "BaseBoardManufacturer")),
    *(GUEST + v for v in ("HostName", "VirtualMachineName", "PhysicalHostNameFullyQualified")),
    *(SERVICES + s for s in ("vmms", "hvservice", "HvHost", "vmcompute", "LxssManager",
                             "WslService", "vmbus")),
    GUARD + "EnableVirtualizationBasedSecurity",
    GUARD + "Scenarios\\HypervisorEnforcedCodeIntegrity\\Enabled",
    "firmware:RSMB",
    "winapi:IsProcessorFeaturePresent:20",
    "winapi:IsProcessorFeaturePresent:21",
    "winapi:GlobalMemoryStatusEx:ullTotalPhys",
    "winapi:GetActiveProcessorCount",
    "winapi:GetNativeSystemInfo:wProcessorArchitecture",
    "bcd:{default}:hypervisorlaunchtype",
    "registry:HKLM\\SOFTWARE\\Wine",
    "winapi:wine_get_version",
)


def test_the_pseudo_paths_are_the_contract() -> None:
    assert WINDOWS_PATHS == CONTRACT
    assert len(set(WINDOWS_PATHS)) == len(WINDOWS_PATHS)


def test_the_c_dumper_records_the_same_pseudo_paths() -> None:
    """csrc/np_winfacts.h (what nestprobe-dump.exe writes) and the model's vocabulary
    (model/winfacts.py, which the Python reader records) agree, in order."""
    import winfacts_contract

    from nestprobe.model import winfacts

    assert tuple(winfacts_contract.pseudo_paths()) == winfacts.WINDOWS_PATHS


def test_every_path_the_decoders_read_is_recorded() -> None:
    assert set(winpaths.READ_PATHS) <= set(WINDOWS_PATHS)
    assert set(winpaths.READ_PATHS) == set(WINDOWS_PATHS)  # and nothing recorded is unread


def test_the_dump_format_doc_lists_every_pseudo_path() -> None:
    doc = (REPO / "docs" / "dump-format.md").read_text(encoding="utf-8")
    section = doc.split("## Windows facts", 1)[1].split("\n## ", 1)[0]
    for path in WINDOWS_PATHS:
        assert f"`{path}`" in section or f"`{path.rsplit(chr(92), 1)[-1]}`" in section, path


@pytest.mark.parametrize(("data", "kind", "text"), [
    ("Core", REG_SZ, "Core"),
    ("%SystemRoot%\\x", REG_EXPAND_SZ, "%SystemRoot%\\x"),
    (22631, REG_DWORD, "22631"),
    (0, REG_DWORD, "0"),
    (2**40 + 7, REG_QWORD, "1099511627783"),
    (["a", "b"], REG_MULTI_SZ, "a\nb"),
    (b"\x01\x00\xff", REG_BINARY, "0100ff"),
    (22631, REG_SZ, None),  # the data does not have the type the value claims
    ("x", 99, None),  # a type this format has no text for
])
def test_registry_value_text(data: object, kind: int, text: str | None) -> None:
    assert registry_text(data, kind) == text


def test_errors_are_states() -> None:
    assert error_state(FileNotFoundError(2, "not found")) == FileFact("absent")
    assert error_state(PermissionError(13, "denied")) == FileFact("unreadable")
    assert error_state(OSError(5, "access denied")) == FileFact("unreadable")


class Recorder:
    """A reader that answers from a table and remembers what it was asked."""

    def __init__(self, fail: str = "") -> None:
        self.asked: list[tuple[str, ...]] = []
        self.fail = fail

    def _answer(self, *call: str) -> FileFact:
        self.asked.append(call)
        if self.fail and self.fail in call:
            raise OSError("the function is missing on this Windows")
        return FileFact("ok", "|".join(call))

    def value(self, key: str, name: str) -> FileFact:
        return self._answer("value", key, name)

    def key(self, key: str) -> FileFact:
        return self._answer("key", key)

    def firmware_table(self, provider: str) -> FileFact:
        return self._answer("firmware", provider)

    def winapi(self, function: str, argument: str) -> FileFact:
        return self._answer("winapi", function, argument)

    def bcd_launch_type(self) -> FileFact:
        return self._answer("bcd")


def test_each_fact_asks_the_reader_the_right_question() -> None:
    reader = Recorder()
    facts = collect_windows_facts(reader)
    assert list(facts) == list(WINDOWS_PATHS)
    asked = dict(zip(WINDOWS_PATHS, reader.asked, strict=True))
    assert asked[CV + "UBR"] == ("value", "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion", "UBR")
    assert asked[SERVICES + "vmms"] == ("key", "SYSTEM\\CurrentControlSet\\Services\\vmms")
    assert asked["firmware:RSMB"] == ("firmware", "RSMB")
    assert asked["winapi:IsProcessorFeaturePresent:21"] == (
        "winapi", "IsProcessorFeaturePresent", "21")
    assert asked["winapi:GlobalMemoryStatusEx:ullTotalPhys"] == (
        "winapi", "GlobalMemoryStatusEx", "ullTotalPhys")
    assert asked["bcd:{default}:hypervisorlaunchtype"] == ("bcd",)
    kinds = {fact.kind for fact in WINDOWS_FACTS}
    assert kinds == {"value", "key", "firmware", "winapi", "bcd"}


def test_a_reader_that_raises_gives_unreadable_for_that_fact_only() -> None:
    facts = collect_windows_facts(Recorder(fail="GetActiveProcessorCount"))
    assert facts["winapi:GetActiveProcessorCount"] == FileFact("unreadable")
    assert facts["winapi:GlobalMemoryStatusEx:ullTotalPhys"].state == "ok"


# --- the file reader on Windows --------------------------------------------------------------

def test_windows_never_reads_a_linux_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under wine, drive Z: is the Linux host's /: a Windows probe must not read /proc."""
    opened: list[str] = []
    monkeypatch.setattr(osfacts, "this_system", lambda: "Windows")
    monkeypatch.setattr(osfacts, "read_fact", lambda root, path: opened.append(path))
    facts = osfacts.collect_os_facts(os.sep)
    assert facts.system == "Windows"
    assert opened == []
    assert not any(path.startswith("/") for path in facts.files)
    assert facts.kvm is not None
    assert facts.kvm.state == "not-linux"


def test_a_test_root_is_never_the_live_root(tmp_path: Path) -> None:
    facts = osfacts.collect_os_facts(tmp_path)
    assert facts.system == "Linux"  # a root directory is a Linux tree, on any OS
    assert facts.kvm is None


def test_files_read_without_the_posix_only_open_flags(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Windows has no O_CLOEXEC/O_NONBLOCK: reading a watched path crashed with exit 7."""
    target = tmp_path / "proc/sys/kernel/osrelease"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"6.1.0\n")
    for flag in ("O_CLOEXEC", "O_NONBLOCK"):
        monkeypatch.delattr(os, flag, raising=False)
    try:
        module = importlib.reload(osfacts)
        assert module.read_fact(str(tmp_path), "/proc/sys/kernel/osrelease") == FileFact(
            "ok", "6.1.0\n")
    finally:
        monkeypatch.undo()
        importlib.reload(osfacts)
    assert osfacts._OPEN_FLAGS & getattr(os, "O_CLOEXEC", getattr(os, "O_NOINHERIT", 0))


def test_a_directory_given_as_a_dump_says_so_where_open_refuses_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """On Windows open() on a directory raises PermissionError, not IsADirectoryError."""

    def windows_open(path: str, mode: str) -> None:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(common, "open", windows_open, raising=False)
    with pytest.raises(DumpFormatError, match="a directory"):
        common.read_bytes(str(tmp_path))


def test_a_windows_style_path_is_just_a_path(tmp_path: Path) -> None:
    """``--from C:\\x`` reaches open() untouched: a drive path on Windows, a file name with
    backslashes on Linux."""
    from nestprobe.cli import main

    prefix = "" if WINDOWS else "C:\\dumps\\"
    dump = tmp_path / f"{prefix}machine.dump"
    if WINDOWS:
        assert str(dump)[1:3] == ":\\"
    dump.write_bytes((REPO / "tests/fixtures/windows/win10-vmware-vm-no-vtx.dump").read_bytes())
    assert main(["check", "hyperv", "-q", "--from", str(dump)]) == 1
    missing = str(tmp_path / f"{prefix}absent.dump")
    assert main(["report", "--from", missing]) == 6


def test_the_probe_starts_no_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """No WMI, no bcdedit, no uname(1): platform.uname() spawns a process under wine."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the probe started a process: {args!r}")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    monkeypatch.setattr(os, "system", refuse)
    import platform

    # platform's answers come from WMI on Windows (abort under wine) or uname(1).
    for name in ("uname", "system", "machine", "release", "version", "platform", "node",
                 "win32_ver", "win32_edition", "processor"):
        monkeypatch.setattr(platform, name, refuse)
    import nestprobe

    report = nestprobe.probe(timing=False)
    assert report.snapshot.os.system == ("Windows" if WINDOWS else os.uname().sysname)


# --- live, on Windows only ----------------------------------------------------------------------

windows_only = pytest.mark.skipif(not WINDOWS, reason="reads this machine's Windows registry")


@windows_only
def test_live_windows_facts_are_complete_and_well_formed() -> None:
    from nestprobe.sources.winlive import live_windows_facts

    facts = live_windows_facts()
    assert list(facts) == list(WINDOWS_PATHS)
    build = facts[CV + "CurrentBuild"]
    assert build.state == "ok"
    assert build.text is not None
    assert build.text.isdigit()
    count = facts["winapi:GetActiveProcessorCount"]
    assert count.text == str(os.cpu_count())
    memory = facts["winapi:GlobalMemoryStatusEx:ullTotalPhys"]
    assert memory.text is not None
    assert int(memory.text) > 1 << 26
    assert facts["winapi:GetNativeSystemInfo:wProcessorArchitecture"].text in {"0", "9", "12"}
    for feature in ("20", "21"):
        assert facts[f"winapi:IsProcessorFeaturePresent:{feature}"].text in {"0", "1"}
    for name in ("vmms", "vmbus"):
        assert facts[SERVICES + name].state in {"dir", "absent", "unreadable"}
    rsmb = facts["firmware:RSMB"]
    if rsmb.state == "ok":
        from nestprobe.decode import smbios

        assert rsmb.text is not None
        assert smbios.decode_hex(rsmb.text).version is not None
    assert facts["bcd:{default}:hypervisorlaunchtype"].state in {"ok", "absent", "unreadable"}


@windows_only
def test_live_probe_says_windows_and_reads_only_windows_facts() -> None:
    facts = osfacts.collect_os_facts()
    assert facts.system == "Windows"
    assert set(facts.files) == set(WINDOWS_PATHS)
    assert facts.machine in {"x86_64", "i686", "aarch64"}
