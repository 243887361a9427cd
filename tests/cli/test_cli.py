"""The CLI's contract: exit codes, quiet mode, JSON on stdout, errors on stderr."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import dump_path

from nestprobe import __version__
from nestprobe.cli import main
from nestprobe.model.contract import (
    EXIT_BAD_INPUT,
    EXIT_BLOCKED,
    EXIT_OK,
    EXIT_USAGE,
    STATUS_EXIT,
)
from nestprobe.output.jsonreport import SCHEMA_VERSION


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = main(argv, out=out)
    return code, out.getvalue()


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == EXIT_OK
    assert capsys.readouterr().out.strip() == f"nestprobe {__version__}"


def test_usage_error_is_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "no-such-scenario"]) == EXIT_USAGE
    assert "invalid choice" in capsys.readouterr().err


def test_malformed_dump_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("this is not a dump\n", encoding="utf-8")
    assert main(["report", "--from", str(bad)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("nestprobe: error: ")
    assert str(bad) in err
    assert "Traceback" not in err


def test_missing_dump_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--from", str(tmp_path / "nope")]) == EXIT_BAD_INPUT
    assert "Traceback" not in capsys.readouterr().err


# (dump, scenario, expected status, why)
KNOWN = [
    (
        "instlatx64-hvroot-GenuineIntel00A0654_CometLake_CPUID.txt",
        "hyperv",
        "supported",
        "a Hyper-V root partition already runs Hyper-V",
    ),
    (
        "azure-hyperv-guest-nested-vmx.txt",
        "wsl2",
        "supported",
        "Azure guest with VT-x exposed: WSL2 in a Hyper-V VM nested on Hyper-V is supported",
    ),
    (
        "firecracker-t2.txt",
        "hyperv",
        "blocked",
        "KVM guest with VT-x masked: nothing can nest until the outer layer exposes it",
    ),
    (
        "azure-hyperv-guest-nested-vmx.txt",
        "azure-local",
        "evaluation-only",
        "Azure Local nested is for evaluation only",
    ),
]


@pytest.mark.parametrize(("dump", "scenario", "status", "why"), KNOWN)
def test_check_exit_code_follows_the_verdict(
    dump: str, scenario: str, status: str, why: str
) -> None:
    path = str(dump_path(dump))
    code, out = run(["check", scenario, "--from", path, "-q"])
    assert out == ""
    assert code == STATUS_EXIT[status], why
    code_json, text = run(["check", scenario, "--from", path, "--json"])
    assert code_json == code
    assert json.loads(text)["verdicts"][scenario]["status"] == status


def test_blocked_check_names_the_layer_to_change() -> None:
    code, out = run(["check", "wsl2", "--from", str(dump_path("firecracker-t2.txt"))])
    assert code == EXIT_BLOCKED
    assert "fix [outer-hypervisor]" in out or "fix [cloud]" in out
    assert "BIOS" not in out


def test_plain_nestprobe_is_report_and_leads_with_the_answer(tmp_path: Path) -> None:
    code, out = run(["--from", str(dump_path("firecracker-t2.txt")), "--no-timing"])
    assert code == EXIT_OK
    lines = out.splitlines()
    assert lines[0].startswith(("Yes", "No", "Cannot tell", "Only"))
    assert any(line.startswith("BLOCKED for ") for line in lines)


def test_console_script_json_is_valid_json() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "nestprobe", "--json", "--no-timing"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == EXIT_OK, proc.stderr
    assert json.loads(proc.stdout)["schema_version"] == SCHEMA_VERSION
