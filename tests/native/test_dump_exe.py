"""nestprobe-dump.exe: the standalone dumper cross-built for Windows, run under wine.

Checks the Windows build (static, OS DLLs only), the Windows facts as file records against
values written into the wine prefix's registry, and that the dump replays on Linux with the
same CPUID records as the Linux dumper's (both pinned to one CPU: APIC ids differ per CPU).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import winfacts_contract
from conftest import REPO
from wine import (
    MINGW_CC,
    WINE,
    keep_server,
    make_prefix,
    run_windows,
    unavailable,
    windows_path,
)

import nestprobe
from nestprobe.output.answer import answer as nestprobe_answer
from nestprobe.sources.dumpfile import parse_dump
from nestprobe.sources.windows_facts import WINDOWS_PATHS

CSRC = REPO / "csrc"
OBJDUMP = shutil.which("x86_64-w64-mingw32-objdump")
#: The DLLs every Windows has in System32; the exe may import nothing else.
OS_DLLS = {"kernel32.dll", "advapi32.dll", "msvcrt.dll"}
X86 = platform.machine().lower() in {"x86_64", "amd64"}

#: The one list of Windows pseudo-paths (the Python reader's; the header must equal it).
CONTRACT = list(WINDOWS_PATHS)


def build(directory: Path, target: str) -> Path:
    """``make TARGET`` in a scratch copy of csrc/ (the repo stays untouched)."""
    for source in [CSRC / "Makefile", *CSRC.glob("*.h"), *CSRC.glob("*.c")]:
        shutil.copy(source, directory / source.name)
    done = subprocess.run(["make", "-s", "-C", str(directory), target], capture_output=True,
                          text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    return directory / target


@pytest.fixture(scope="module")
def exe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if sys.platform == "win32":
        pytest.skip("cross-builds on the Linux host")
    if MINGW_CC is None or shutil.which("make") is None:
        unavailable("needs make and mingw-w64 (apt-get install gcc-mingw-w64-x86-64)")
    return build(tmp_path_factory.mktemp("exe"), "nestprobe-dump.exe")


@pytest.fixture(scope="module")
def linux_tool(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("make") is None or shutil.which("cc") is None:
        pytest.skip("needs make and cc")
    return build(tmp_path_factory.mktemp("tool"), "nestprobe-dump")


# ---- the pseudo-path list: one definition, the contract's ---------------------------------


def test_header_lists_the_contract_once() -> None:
    text = winfacts_contract.HEADER.read_text(encoding="utf-8")
    paths = winfacts_contract.pseudo_paths()
    assert len(paths) == text.count("    X(NP_WF_")  # the parser missed no row
    assert paths == CONTRACT
    assert len(set(paths)) == len(paths)


@pytest.mark.skipif(sys.platform == "win32", reason="builds the POSIX dumper")
def test_list_facts_prints_the_header_list(linux_tool: Path) -> None:
    done = subprocess.run([str(linux_tool), "--list-facts"], capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == winfacts_contract.pseudo_paths()


# ---- the Windows build --------------------------------------------------------------------


def test_exe_is_static_and_imports_only_os_dlls(exe: Path) -> None:
    if OBJDUMP is None:
        unavailable("needs x86_64-w64-mingw32-objdump (binutils-mingw-w64-x86-64)")
    dump = subprocess.run([OBJDUMP, "-p", str(exe)], capture_output=True, text=True,
                          check=True, timeout=60).stdout
    assert "file format pei-x86-64" in dump
    dlls = {name.lower() for name in re.findall(r"DLL Name: (\S+)", dump)}
    assert "kernel32.dll" in dlls
    assert dlls <= OS_DLLS, dlls - OS_DLLS


# ---- under wine ---------------------------------------------------------------------------

#: Values written into the prefix's registry before the run, and the text the dump must
#: carry for each (docs/dump-format.md, "Windows facts"). UTF-16 .reg file for regedit.
REG_FILE = """Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Virtual Machine\\Guest\\Parameters]
"HostName"="hôte-01 ✓"
"VirtualMachineName"=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,74,00,\\
  25,00,5c,00,76,00,6d,00,00,00
"PhysicalHostNameFullyQualified"=hex(7):61,00,2e,00,62,00,00,00,63,00,00,00,00,00

[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\DeviceGuard]
"EnableVirtualizationBasedSecurity"=dword:00000001

[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\DeviceGuard\\Scenarios\\\
HypervisorEnforcedCodeIntegrity]
"Enabled"=hex(b):00,00,00,00,01,00,00,00

[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\vmms]
"Type"=dword:00000010

[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion]
"DisplayVersion"=hex:01,02
"""
GUEST = "registry:HKLM\\SOFTWARE\\Microsoft\\Virtual Machine\\Guest\\Parameters\\"
DG = "registry:HKLM\\SYSTEM\\CurrentControlSet\\Control\\DeviceGuard\\"
SERVICES = "registry:HKLM\\SYSTEM\\CurrentControlSet\\Services\\"
EXPECTED = {
    GUEST + "HostName": ("ok", "hôte-01 ✓"),  # REG_SZ, non-ASCII: UTF-8 bytes, escaped
    GUEST + "VirtualMachineName": ("ok", "%SystemRoot%\\vm"),  # REG_EXPAND_SZ, unexpanded
    GUEST + "PhysicalHostNameFullyQualified": ("ok", "a.b\nc"),  # REG_MULTI_SZ
    DG + "EnableVirtualizationBasedSecurity": ("ok", "1"),  # REG_DWORD
    DG + "Scenarios\\HypervisorEnforcedCodeIntegrity\\Enabled": ("ok", "4294967296"),  # QWORD
    SERVICES + "vmms": ("dir", None),
    SERVICES + "HvHost": ("absent", None),
    "registry:HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\DisplayVersion":
        ("unreadable", None),  # REG_BINARY: a type the contract does not cover
    "registry:HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\EditionID":
        ("absent", None),  # wine has no such value
}


@pytest.fixture(scope="module")
def drive_c(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh wine prefix with the values of REG_FILE in its registry."""
    if sys.platform == "win32" or not X86:
        pytest.skip("runs wine on an x86_64 Linux host")
    if WINE is None:
        unavailable("needs wine (apt-get install wine64)")
    prefix = tmp_path_factory.mktemp("wineprefix")
    drive = make_prefix(prefix)
    keep_server(prefix, persistent=True)
    reg = drive / "facts.reg"
    reg.write_text("\ufeff" + REG_FILE.replace("\n", "\r\n"), encoding="utf-16-le")
    regedit = run_windows(prefix, "regedit", "/S", "C:\\facts.reg")
    assert regedit.returncode == 0, regedit.stderr
    yield drive
    keep_server(prefix, persistent=False)


def run_exe(exe: Path, drive: Path, *args: str) -> tuple[int, str]:
    placed = drive / "np" / exe.name
    placed.parent.mkdir(exist_ok=True)
    shutil.copy(exe, placed)
    done = run_windows(drive.parent, placed, *args)
    assert done.stderr.strip() in (b"", b"\n"), done.stderr
    return done.returncode, done.stdout.decode("ascii")  # bytes >= 0x80 went out as \u00XX


def test_exe_dump_carries_every_windows_fact(exe: Path, drive_c: Path) -> None:
    code, text = run_exe(exe, drive_c)
    assert code == 0
    assert "\r" not in text  # binary stdout: the same LF bytes as on Linux
    dump = parse_dump(text, "nestprobe-dump.exe")
    assert dump.os.system == "Windows"
    assert dump.os.machine == "x86_64"
    assert dump.cpuid_status == "ok"
    assert list(dump.os.files) == CONTRACT
    assert dump.os.kvm is not None
    assert dump.os.kvm.state == "not-linux"  # as the Python probe says off Linux
    for path, (state, value) in EXPECTED.items():
        fact = dump.os.files[path]
        assert (fact.state, fact.text) == (state, value), path
    build = dump.os.files[CONTRACT[0]]
    assert build.state == "ok"
    assert build.text is not None
    assert build.text.isdigit()  # wine answers 7601 (Windows 7 SP1)
    for feature in ("20", "21"):
        assert dump.os.files[f"winapi:IsProcessorFeaturePresent:{feature}"].text in ("0", "1")
    arch = dump.os.files["winapi:GetNativeSystemInfo:wProcessorArchitecture"]
    assert arch.text == "9"  # PROCESSOR_ARCHITECTURE_AMD64
    # wine has no BCD store: unknown (unreadable), never "not set" (issue 18.10)
    assert dump.os.files["bcd:{default}:hypervisorlaunchtype"].state == "unreadable"
    # ... and says it is wine: its key, and ntdll's export with its version
    assert dump.os.files["registry:HKLM\\SOFTWARE\\Wine"].state == "dir"
    version = dump.os.files["winapi:wine_get_version"]
    assert version.state == "ok"
    assert (version.text or "")[:1].isdigit()
    # The report says so, and takes wine's stubs as unknown, not as "no".
    report = nestprobe.assess_snapshot(dump)
    windows = report.assessment.environment.windows
    assert windows is not None
    assert windows.wine == version.text
    assert (windows.slat, windows.firmware_virtualization) == (None, None)
    assert windows.hypervisor_launch == "unknown"
    assert report.assessment.virtualization.firmware_disabled is not True
    assert f"under wine {version.text}" in nestprobe_answer(report)
    # SMBIOS strings under wine are wine's: no identity read from them
    assert not any(e.claim.startswith("DMI ") for e in report.assessment.environment.evidence)
    assert any(e.value == "wine" for e in report.assessment.environment.evidence)
    cpus = dump.os.files["winapi:GetActiveProcessorCount"].text
    assert cpus == str(os.cpu_count())  # wine reports the host's processors
    memory = int(dump.os.files["winapi:GlobalMemoryStatusEx:ullTotalPhys"].text or "0")
    assert abs(memory - host_memory()) < host_memory() // 100  # wine reads /proc/meminfo


def host_memory() -> int:
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no MemTotal in /proc/meminfo")


def smbios_types(raw: bytes) -> list[int]:
    """Structure types of a RawSMBIOSData buffer (8-byte header, then the table), walked
    by the DMTF DSP0134 layout: formatted area of `length` bytes, strings to a double NUL."""
    size = int.from_bytes(raw[4:8], "little")
    assert len(raw) == 8 + size
    table, at, types = raw[8:], 0, []
    while at + 4 <= len(table):
        kind, length = table[at], table[at + 1]
        assert length >= 4
        end = table.index(b"\0\0", at + length)
        types.append(kind)
        at = end + 2
        if kind == 127:  # end-of-table
            break
    return types


def test_exe_firmware_table_is_raw_smbios(exe: Path, drive_c: Path) -> None:
    _, text = run_exe(exe, drive_c)
    fact = parse_dump(text, "x").os.files["firmware:RSMB"]
    assert fact.state == "ok"
    assert fact.text is not None
    assert re.fullmatch("(?:[0-9a-f]{2})+", fact.text)
    types = smbios_types(bytes.fromhex(fact.text))
    assert 1 in types  # System Information
    assert types[-1] == 127


def test_exe_reads_windows_paths(exe: Path, drive_c: Path) -> None:
    folder = drive_c / "np" / "files"
    folder.mkdir(parents=True, exist_ok=True)
    odd = folder / "odd name.txt"
    odd.write_bytes(b'caf\xc3\xa9 "q" \\ \x00\x01\x7f\t\r\n\xff\xfe end\n')
    paths = {
        windows_path(drive_c, odd): ("ok", 'caf\u00e9 "q" \\ \x00\x01\x7f\t\r\n\udcff\udcfe end\n'),
        windows_path(drive_c, folder): ("dir", None),
        windows_path(drive_c, folder).replace("\\", "/") + "/missing": ("absent", None),
        "C:\\nowhere\\at\\all": ("absent", None),
    }
    code, text = run_exe(exe, drive_c, *(a for p in paths for a in ("--file", p)))
    assert code == 0
    files = parse_dump(text, "x").os.files
    for path, (state, value) in paths.items():
        assert (files[path].state, files[path].text) == (state, value), path


def test_exe_refuses_bad_arguments(exe: Path, drive_c: Path) -> None:
    for args in (["--file", "/etc/hostname"], ["--file", "relative\\x"], ["--file", "C:x"],
                 ["--file"], ["--bogus"]):
        placed = drive_c / "np" / exe.name
        placed.parent.mkdir(exist_ok=True)
        shutil.copy(exe, placed)
        done = run_windows(drive_c.parent, placed, *args)
        assert done.returncode == 2, args
        assert done.stdout == b""
        assert b"usage" in done.stderr


def test_exe_answers_help_like_a_windows_tool(exe: Path, drive_c: Path) -> None:
    """/? (and -?, /help, -h, --help) prints the help with CRLF line ends and exits 0, also
    typed in cmd.exe, which passes /? to the program unchanged."""
    outputs = set()
    for args in (["/?"], ["-?"], ["/HELP"], ["-h"], ["--help"]):
        code, text = run_exe(exe, drive_c, *args)
        assert code == 0, args
        outputs.add(text)
    (text,) = outputs  # one help, whichever way it was asked for
    assert "\r\n" in text
    assert "\n" not in text.replace("\r\n", "")
    assert "nestprobe-dump --list-facts" in text
    assert "Exit codes: 0 written; 3 CPUID unavailable" in text
    assert not text.startswith("nestprobe-dump 1")  # no dump was written
    done = run_windows(drive_c.parent, "cmd", "/c", "C:\\np\\" + exe.name + " /?")
    assert done.returncode == 0
    assert done.stdout.decode("ascii") == text


@pytest.mark.skipif(sys.platform != "linux", reason="compares with the Linux dumper")
def test_exe_dump_replays_on_linux_like_the_linux_dumper(
    exe: Path, linux_tool: Path, drive_c: Path, one_cpu: int, tmp_path: Path
) -> None:
    _, windows_text = run_exe(exe, drive_c)
    linux = subprocess.run([str(linux_tool)], capture_output=True, text=True, check=False,
                           timeout=60)
    assert linux.returncode == 0, linux.stderr
    windows_dump, linux_dump = parse_dump(windows_text, "w"), parse_dump(linux.stdout, "l")
    assert windows_dump.cpuid == linux_dump.cpuid  # same CPU, same instruction, any OS
    assert windows_dump.truncated == linux_dump.truncated

    saved = tmp_path / "windows.dump"
    saved.write_text(windows_text, encoding="ascii")
    reports = [replay(saved), replay(saved)]
    assert reports[0] == reports[1]  # a replay decides from the file alone
    report = reports[0]
    assert report["environment"]["os"] == "Windows"
    assert report["cpuid"] == replay(linux_saved(tmp_path, linux.stdout))["cpuid"]
    linux_report = replay(linux_saved(tmp_path, linux.stdout))
    # Identity and VT-x/AMD-V exposure come from CPUID alone: the two dumps agree on them
    # (the Windows dump also says kvm-device not-linux; the Linux dumper probes no /dev/kvm).
    for key in ("cpu", "hypervisor"):
        assert report[key] == linux_report[key], key
    for field in ("vmx", "svm", "exposed", "slat"):
        assert report["virtualization"][field] == linux_report["virtualization"][field], field
    assert report["virtualization"]["kvm_device"] == "not-linux"


def linux_saved(directory: Path, text: str) -> Path:
    path = directory / "linux.dump"
    path.write_text(text, encoding="ascii")
    return path


def replay(path: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "nestprobe", "report", "--from", str(path),
                           "--json"], capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr  # report: 0 whenever it produced its output
    loaded = json.loads(done.stdout)
    assert isinstance(loaded, dict)
    assert loaded["source"]["kind"] == "dump"
    return loaded

