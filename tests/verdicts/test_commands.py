"""Every command in the remediation table works in the shell it is printed for (issue 18.6).

verdicts/remediation.py's SHELLS names each entry's shell and its ``where`` says so. cmd.exe
lines run through wine's cmd.exe, with the programs that would change this machine or that
wine lacks (bcdedit, wsl, dism, shutdown, winver) replaced by a small logger built with
mingw-w64, which records the arguments it was given (and answers ``bcdedit /enum`` with a
hypervisorlaunchtype line). Wine 8's findstr finds nothing and exits 0 even for a missing
file, so findstr is logged too: each program of a pipeline must get exactly its own words.
PowerShell cannot run here: its lines pass a tokenizer-level check (quotes, braces,
comments, operators PowerShell reserves). sh lines pass ``bash -n``. Placeholders (``<VM>``,
``<id>``) are filled in first, as the reader would.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from wine import (
    mingw_build,
    module_prefix,
    run_windows,
)

from nestprobe.verdicts.remediation import REMEDIATIONS, SHELLS

#: Windows programs and cmdlets: an entry whose steps run one must name its shell.
WINDOWS_WORDS = re.compile(
    r"^\s*(bcdedit|wsl|dism(\.exe)?|winver|shutdown|Set-VM\w*|Get-VM\w*|Update-VMVersion|"
    r"Start-VM|Enable-WindowsOptionalFeature|Install-WindowsFeature|Restart-Computer)( |$)")
#: What names each shell in a remediation's ``where``.
SHELL_WORDS = {"cmd": "Command Prompt", "powershell": "PowerShell", "sh": "sh"}
PLACEHOLDER = re.compile(r"<([A-Za-z]+)>")
#: Programs the cmd.exe test replaces by the argument logger.
SHIMMED = ("bcdedit", "wsl", "dism", "shutdown", "winver", "findstr")
LOGGER_C = r"""
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    FILE *log = fopen("C:\\shim\\calls.txt", "a");
    const char *name = strrchr(argv[0], '\\');
    fprintf(log, "%s", name ? name + 1 : argv[0]);
    for (int i = 1; i < argc; i++) fprintf(log, "\t%s", argv[i]);
    fprintf(log, "\n");
    fclose(log);
    if (argc > 1 && strcmp(argv[1], "/enum") == 0) printf("hypervisorlaunchtype    Auto\r\n");
    return 0;
}
"""


def _filled(step: str, quote: str = "") -> str:
    """Placeholders filled in as a reader would (a PowerShell name as a literal)."""
    return PLACEHOLDER.sub(lambda m: f"{quote}sample{m.group(1).lower()}{quote}", step)


def commands(rid: str) -> tuple[str | None, tuple[str, ...]]:
    """An entry's shell and its command lines: every step of an entry with a shell; in a
    prose entry, the indented lines after a step that names the shell ("..., in a Command
    Prompt as Administrator:")."""
    steps = REMEDIATIONS[rid].steps
    if rid in SHELLS:
        return SHELLS[rid], steps
    for index, step in enumerate(steps[:-1]):
        for shell, word in SHELL_WORDS.items():
            if shell != "sh" and step.endswith(":") and word in step:
                following = steps[index + 1:]
                lines = [s.strip() for s in following[:next(
                    (i for i, s in enumerate(following) if not s.startswith("  ")),
                    len(following))]]
                return shell, tuple(lines)
    return None, ()


def _entries(shell: str) -> list[tuple[str, tuple[str, ...]]]:
    found = [(rid, *commands(rid)) for rid in sorted(REMEDIATIONS)]
    return [(rid, lines) for rid, s, lines in found if s == shell and lines]


def test_every_windows_command_names_its_shell() -> None:
    for rid, entry in REMEDIATIONS.items():
        runs = {step.strip() for step in entry.steps if WINDOWS_WORDS.match(step)}
        shell, lines = commands(rid)
        if runs:
            assert shell in ("cmd", "powershell"), (rid, runs)
            assert runs <= set(lines), (rid, runs - set(lines))
        if rid in SHELLS:
            assert SHELL_WORDS[SHELLS[rid]] in entry.where, (rid, entry.where)


# ------------------------------------------------------------------ PowerShell, by tokens


def powershell_problems(line: str) -> list[str]:
    """What PowerShell would not take as printed: ``{}`` outside quotes (a script block:
    ``bcdedit /enum {current}`` passes nothing useful), unbalanced quotes, ``<``/``>`` it
    reserves or redirects, ``&&``/``||`` (PowerShell 7 only), cmd's ``REM``, and a backtick
    that is not the line's last character (continuation)."""
    problems: list[str] = []
    if re.match(r"\s*REM\b", line, re.IGNORECASE):
        problems.append("REM is cmd.exe's comment")
    quote = ""
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            break  # a comment to the end of the line
        elif ch in "{}<>":  # a script block; reserved / redirection
            problems.append(f"unquoted {ch}")
        elif line.startswith(("&&", "||"), i):
            problems.append("&&/|| need PowerShell 7")
            i += 1
        elif ch == "`" and line[i + 1:].strip():
            problems.append("backtick inside the line")
        i += 1
    if quote:
        problems.append("unbalanced quote")
    return problems


def test_the_tokenizer_finds_what_powershell_rejects() -> None:
    assert powershell_problems("bcdedit /enum {current}") == ["unquoted {", "unquoted }"]
    assert powershell_problems("bcdedit /enum '{current}'") == []
    assert powershell_problems("REM a note") == ["REM is cmd.exe's comment"]
    assert powershell_problems("Get-VM -Name <VM>") == ["unquoted <", "unquoted >"]
    assert powershell_problems("Get-VM   # Version >= 8.0 {x}") == []
    assert powershell_problems("a && b") == ["&&/|| need PowerShell 7"]
    assert powershell_problems("Set-VMMemory -VMName 'a") == ["unbalanced quote"]


@pytest.mark.parametrize(("rid", "steps"), _entries("powershell"))
def test_powershell_lines_parse(rid: str, steps: tuple[str, ...]) -> None:
    for step in steps:
        assert powershell_problems(_filled(step, "'")) == [], (rid, step)


# ------------------------------------------------------------------ sh, by bash -n


@pytest.mark.parametrize(("rid", "steps"), _entries("sh"))
def test_sh_lines_parse(rid: str, steps: tuple[str, ...]) -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    script = "\n".join(_filled(step) for step in steps) + "\n"
    done = subprocess.run([bash, "-n"], input=script.encode(), capture_output=True, check=False)
    assert done.returncode == 0, (rid, done.stderr.decode())


# ------------------------------------------------------------------ cmd.exe, under wine


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A wine prefix with the argument logger installed as the shimmed programs."""
    with module_prefix(tmp_path_factory, "cmdprefix",
                       "runs wine's cmd.exe from a Linux host") as prefix:
        shim_dir = prefix / "drive_c" / "shim"
        shim_dir.mkdir()
        source = shim_dir / "logger.c"
        source.write_text(LOGGER_C)
        mingw_build(source, shim_dir / "logger.exe", "-O1")
        for name in SHIMMED:
            shutil.copy(shim_dir / "logger.exe", shim_dir / f"{name}.exe")
        yield prefix


def run_cmd_line(prefix: Path, line: str) -> tuple[int, list[list[str]]]:
    """``line`` in a batch file under wine's cmd.exe (shims first on PATH): its exit code
    and each shimmed program's name (lower case, no .exe) and arguments."""
    drive = prefix / "drive_c"
    calls = drive / "shim" / "calls.txt"
    calls.unlink(missing_ok=True)
    batch = drive / "step.bat"
    batch.write_bytes(f"@echo off\r\nset PATH=C:\\shim;%PATH%\r\n{line}\r\n".encode())
    done = run_windows(prefix, "cmd", "/c", "C:\\step.bat")
    logged = calls.read_text().splitlines() if calls.exists() else []
    calls_ = [row.split("\t") for row in logged]
    return done.returncode, [[c[0].lower().removesuffix(".exe"), *c[1:]] for c in calls_]


def test_cmd_catches_a_hash_comment(shim: Path) -> None:
    """The lines the issue saw: cmd.exe hands '#' and the note to the programs."""
    _, calls = run_cmd_line(
        shim, "bcdedit /enum {current} | findstr -i hypervisorlaunchtype   # Off: never started")
    assert sorted(calls) == [["bcdedit", "/enum", "{current}"],
                             ["findstr", "-i", "hypervisorlaunchtype", "#", "Off:", "never",
                              "started"]]
    _, calls = run_cmd_line(shim, "wsl --status   # after the restart")
    assert calls == [["wsl", "--status", "#", "after", "the", "restart"]]


@pytest.mark.parametrize(("rid", "steps"), _entries("cmd"))
def test_cmd_lines_run(shim: Path, rid: str, steps: tuple[str, ...]) -> None:
    for step in steps:
        line = _filled(step)
        code, calls = run_cmd_line(shim, line)
        assert code == 0, (rid, step)
        if line.lstrip().upper().startswith("REM"):
            assert calls == [], (rid, step)  # a note runs nothing
            continue
        expected = sorted([words[0].lower(), *words[1:]] for part in line.split("|")
                          if (words := part.split()) and words[0].lower() in SHIMMED)
        assert expected, (rid, step)  # every command here is one the test can watch
        assert sorted(calls) == expected, (rid, step, calls)
        assert not any(a.startswith("#") for call in calls for a in call), (rid, step)
