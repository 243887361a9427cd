"""README "The contract": one test per row, and no row without its test.

The table is read from the README itself, so a promise added there without a check here
(or a check for a promise the README no longer makes) fails ``test_every_row_has_a_test``.
"""

from __future__ import annotations

import codecs
import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import IS_ROOT, REPO, dump_path
from fleet_hostile import (
    HOSTILE_NAMES,
    csv_rows,
    hostile_report,
    prometheus_series,
    special_tree,
    strict_lines,
    write_name,
)
from hostile import (
    ESCAPES,
    LATENCY,
    bench_result,
    hostile_snapshot,
    no_control,
    own_dump,
    run_cli,
    snapshot,
)

import nestprobe
from nestprobe import pipeline
from nestprobe.cli import main
from nestprobe.model import contract
from nestprobe.model.errors import CpuNotInDumpError, CpuSelectionError, DumpFormatError
from nestprobe.model.report import Report, ReportFormatError
from nestprobe.model.snapshot import CpuidTable, OsFacts, Registers, Snapshot
from nestprobe.model.verdicts import STATUSES
from nestprobe.output.jsonreport import report_to_dict
from nestprobe.pipeline import build_report
from nestprobe.sources import background

#: Corpus dumps where ../shared is beside the clone, else the repository's snapshots of them.
FIRECRACKER = dump_path("firecracker-t2.txt")
AZURE = dump_path("azure-hyperv-guest-nested-vmx.txt")
HVROOT = dump_path("instlatx64-hvroot-GenuineIntel00A0654_CometLake_CPUID.txt")
#: Short pastes in each tool's layout (values made up): systeminfo says a hypervisor is
#: present, this Coreinfo says none is.
SYSTEMINFO = """\
Host Name:                 DESK-01
OS Name:                   Microsoft Windows 11 Pro
OS Version:                10.0.22631 N/A Build 22631
System Type:               x64-based PC
Hyper-V Requirements:      A hypervisor has been detected. Features required for Hyper-V \
will not be displayed.
"""
COREINFO_NO_HYPERVISOR = """\
Intel(R) Core(TM) i7-9700 CPU @ 3.00GHz
Intel64 Family 6 Model 158 Stepping 13, GenuineIntel
HYPERVISOR      -       Hypervisor is present
VMX             *       Supports Intel hardware-assisted virtualization
"""
WINDOWS = Path(__file__).resolve().parents[1] / "fixtures" / "windows"
#: Hyper-V running: every hyperv condition met. Hypervisor off: steps in this Windows.
WIN_ROOT = WINDOWS / "win11-pro-baremetal-hyperv-root.dump"
WIN_OFF = WINDOWS / "win11-enterprise-baremetal-hypervisor-off.dump"
SCHEMA = json.loads(
    resources.files("nestprobe.output").joinpath("report.schema.json").read_text())


def readme_rows() -> dict[str, str]:
    """``row id -> promise`` from the README's contract table."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## The contract", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    return {m.group(1): m.group(2) for m in
            re.finditer(r"^\| `([a-z0-9-]+)` \| (.+) \|$", section, re.MULTILINE)}


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    return main(argv, out=out), out.getvalue()


def one_line(err: str) -> str:
    assert err.count("\n") == 1, err
    assert err.startswith("nestprobe: "), err
    return err


# ------------------------------------------------------------------ one check per row


def check_exit_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(["check", "hyperv", "--from", str(HVROOT), "-q"]) == (contract.EXIT_OK, "")
    code, out = run(["--from", str(FIRECRACKER)])
    assert code == contract.EXIT_OK
    assert out.startswith("No:")
    code, out = run(["dump", "--no-timing"])
    assert code == contract.EXIT_OK
    assert out.startswith("nestprobe-dump 1\n")


def check_exit_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(["check", "wsl2", "--from", str(FIRECRACKER), "-q"])[0] == contract.EXIT_BLOCKED
    assert contract.STATUS_EXIT["blocked"] == 1
    # fleet --require: a machine short of it, and an unreadable input (it proves nothing).
    assert run(["fleet", str(FIRECRACKER), "--require", "wsl2=supported"])[0] == 1
    assert run(["fleet", str(HVROOT), "--require", "hyperv=supported"])[0] == contract.EXIT_OK
    assert run(["fleet", str(HVROOT), str(tmp_path / "missing"),
                "--require", "hyperv=supported"])[0] == 1
    # A sub-directory that cannot be read is listed and fails --require (issue 22.2).
    tree = tmp_path / "tree"
    (tree / "blocked").mkdir(parents=True)
    (tree / "blocked" / "hidden-machine.dump").write_text(own_dump(snapshot()))
    (tree / "good.dump").write_text(own_dump(snapshot()))
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:  # chmod 000 does not stop root: refuse as the kernel would
        if os.fspath(path).endswith("blocked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    every = "hyperv=" + ",".join(STATUSES)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "scandir", scandir)
        code, table = run(["fleet", str(tree), "--require", every])
    assert code == contract.EXIT_BLOCKED
    assert f"{tree / 'blocked'}: a directory that cannot be read: permission denied" in \
        " ".join(table.split())
    capsys.readouterr()


def check_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    usage = [["--no-such-option"], ["check", "no-such-scenario"], ["--thorough", "--no-timing"],
             ["--from", str(FIRECRACKER), "--thorough"], ["check", "wsl2", "-q", "--json"],
             ["-v", "--json"], ["--cpu", "-1"], ["--cpu", "7", "--from", str(FIRECRACKER)],
             ["report", "--json", "--format", "prometheus"],
             ["report", "-v", "--format", "json"]]
    if hasattr(os, "sched_getaffinity"):
        usage.append(["--no-timing", "--cpu", str(max(os.sched_getaffinity(0)) + 1)])
    # Outputs that cannot be written as asked, --jobs below 0, a paste's CPU 1 (issue 22).
    paste = tmp_path / "systeminfo.txt"
    paste.write_text(SYSTEMINFO)
    bench = tmp_path / "result.json"
    bench.write_text(json.dumps(bench_result()))
    usage += [["fleet", str(FIRECRACKER), "--output", str(tmp_path)],
              ["fleet", str(FIRECRACKER), "--output", str(tmp_path / "no-dir" / "x.prom")],
              ["fleet", str(FIRECRACKER), "--jobs", "-1"],
              ["bench", "compare", str(bench), "--plot", str(tmp_path / "plot.nope")],
              ["bench", "compare", str(bench), "--plot", str(tmp_path)],
              ["--from", str(paste), "--cpu", "1"]]
    for argv in usage:
        assert run(argv) == (contract.EXIT_USAGE, ""), argv
        assert "Traceback" not in capsys.readouterr().err


def check_exit_3(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(["check", "third-party", "--from", str(AZURE), "-q"])[0] == contract.EXIT_UNSUPPORTED
    assert contract.EXIT_UNAVAILABLE == 3  # bench and nestprobe-dump without CPUID


def check_exit_4(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = run(["check", "azure-local", "--from", str(AZURE), "-q"])[0]
    assert code == contract.EXIT_EVALUATION_ONLY


def check_exit_5(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    dump = tmp_path / "no-cpuid.dump"
    dump.write_text(own_dump(Snapshot("absent", CpuidTable(), OsFacts("Linux", "x86_64"))))
    assert run(["check", "hyperv", "--from", str(dump), "-q"])[0] == contract.EXIT_UNKNOWN


def check_exit_6(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    binary = tmp_path / "binary"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\xc8\xff")
    huge = tmp_path / "huge"
    with huge.open("wb") as stream:
        stream.truncate(9 << 20)
    malformed = tmp_path / "malformed"
    malformed.write_text("nestprobe-dump 1\nmachine x86_64\n")
    bad = [tmp_path / "missing", tmp_path, binary, huge, malformed, Path("/dev/zero")]
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")
        bad.append(tmp_path / "fifo")
    bench = tmp_path / "result.json"
    bench.write_text(json.dumps(bench_result()))
    for path in bad:
        assert run(["--from", str(path)]) == (contract.EXIT_BAD_INPUT, ""), path
        assert str(path) in one_line(capsys.readouterr().err)
        assert main(["bench", "compare", str(bench), str(path)]) == contract.EXIT_BAD_INPUT
        assert str(path) in one_line(capsys.readouterr().err)
    # fleet: bad inputs among good ones are listed; none readable at all is exit 6.
    assert run(["fleet", str(tmp_path / "missing")])[0] == contract.EXIT_BAD_INPUT
    assert "no input could be read" in capsys.readouterr().err
    # bench compare/import: hostile numbers and shapes are exit 6 with the reason (22.11).
    result = bench_result()
    hostile_results = {
        "digits": json.dumps(result).replace('"at_least": ', '"at_least": ' + "9" * 4000, 1),
        "deep": "[" * 100_000 + "]" * 100_000,
        "string": json.dumps(result | {"clock": {**result["clock"], "tsc_hz": "fast"}}),
        "nan": json.dumps(result).replace('"tsc_hz": ', '"tsc_hz": NaN, "x": ', 1),
        "negative": json.dumps(result | {"clock": {**result["clock"], "tsc_hz": -3e9}}),
    }
    for name, text in hostile_results.items():
        path = tmp_path / f"{name}.json"
        path.write_text(text)
        assert main(["bench", "compare", str(bench), str(path)]) == contract.EXIT_BAD_INPUT, name
        assert str(path) in one_line(capsys.readouterr().err)
        assert main(["bench", "import", str(path), "--dump", str(FIRECRACKER)]) == \
            contract.EXIT_BAD_INPUT, name
        assert str(path) in one_line(capsys.readouterr().err)
    # A JSON report input is read as strictly as a dump (22.4).
    report = report_to_dict(build_report(snapshot()))
    report["timing"] = {**LATENCY.to_dict(), "cpuid_ticks": "@"}
    for number in ("1e999", "-5", str(10**400)):
        path = tmp_path / "report.json"
        path.write_text(json.dumps(report).replace('"@"', number))
        code, out = run(["fleet", str(path)])
        assert code == contract.EXIT_BAD_INPUT, number
        err = " ".join(out.split()) + capsys.readouterr().err
        assert "expected a nestprobe JSON report" in err
        assert "Traceback" not in err
    # UTF-16 cut to an odd number of bytes, with or without its byte-order mark (22.14).
    utf16 = SYSTEMINFO.encode("utf-16-le")
    for name, data in (("bom", codecs.BOM_UTF16_LE + utf16 + b"x"), ("no-bom", utf16 + b"x")):
        path = tmp_path / f"utf16-{name}.txt"
        path.write_bytes(data)
        assert run(["--from", str(path)]) == (contract.EXIT_BAD_INPUT, ""), name
        assert "odd number of bytes" in one_line(capsys.readouterr().err)
    # Two tools' outputs in one paste that contradict each other (22.3).
    paste = tmp_path / "two-tools.txt"
    paste.write_text(SYSTEMINFO + "\n" + COREINFO_NO_HYPERVISOR)
    assert run(["check", "wsl2", "--from", str(paste)]) == (contract.EXIT_BAD_INPUT, "")
    err = one_line(capsys.readouterr().err)
    assert "systeminfo:Hyper-V Requirements" in err
    assert "coreinfo:HYPERVISOR" in err


def check_exit_7(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(pipeline, "load", broken)
    assert run(["--from", str(FIRECRACKER)])[0] == contract.EXIT_INTERNAL
    assert one_line(capsys.readouterr().err) == "nestprobe: internal error: RuntimeError: a bug\n"
    monkeypatch.setenv("NESTPROBE_DEBUG", "1")
    assert run(["--from", str(FIRECRACKER)])[0] == contract.EXIT_INTERNAL
    assert "Traceback" in capsys.readouterr().err


def check_exit_8(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    bench = tmp_path / "result.json"
    bench.write_text(json.dumps(bench_result()))
    for args in (["--from", str(FIRECRACKER)], ["--help"], ["--version"],
                 ["report", "--format", "prometheus", "--from", str(FIRECRACKER)],
                 ["bench", "compare", str(bench)], ["fleet", "--jobs", "1", str(FIRECRACKER)]):
        with Path("/dev/full").open("w") as full:
            proc = run_cli(*args, stdout=full)
        assert proc.returncode == contract.EXIT_OUTPUT, args
        err = one_line(proc.stderr.decode())
        assert err.endswith("cannot write the output: no space left on device\n")
    # A full device as --output (a device is written to, never replaced), and help or the
    # version to a closed stdout (22.10, 22.14).
    proc = run_cli("fleet", str(FIRECRACKER), "--output", "/dev/full")
    assert proc.returncode == contract.EXIT_OUTPUT
    assert "no space left on device" in one_line(proc.stderr.decode())
    assert Path("/dev/full").is_char_device()
    for args in (["--version"], ["--help"], ["fleet", "--help"]):
        proc = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-m",
                               "nestprobe", *args], stderr=subprocess.PIPE, timeout=60,
                              env=dict(os.environ, PYTHONPATH=str(REPO)), check=False)
        assert proc.returncode == contract.EXIT_OUTPUT, args
        assert one_line(proc.stderr.decode()).endswith("standard output is closed\n")


def _ready(scenario: str, path: Path, *extra: str) -> tuple[int, dict[str, object]]:
    """``check --ready`` and the readiness the JSON of the same input carries."""
    code = run(["check", scenario, "--ready", "-q", "--from", str(path), *extra])[0]
    json_code, out = run(["check", scenario, "--ready", "--json", "--from", str(path)])
    assert json_code == code
    readiness = json.loads(out)["verdicts"][scenario]["readiness"]
    assert isinstance(readiness, dict)
    return code, readiness


def check_exit_9(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # The hypervisor is off in the boot entry (unmet in this OS): its step, elevated + restart.
    code, ready = _ready("hyperv", WIN_OFF)
    assert (code, ready["state"]) == (contract.EXIT_AFTER_STEPS, "after-steps")
    assert [s["id"] for s in ready["steps"]] == ["windows-hypervisor-launch"]  # type: ignore[index]
    assert ready["elevated"] is True
    assert ready["restart"] is True
    assert ready["pending"] == []
    # Plain check keeps its meaning: supported.
    assert run(["check", "hyperv", "-q", "--from", str(WIN_OFF)])[0] == contract.EXIT_OK


def check_exit_10(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # A CPUID dump of a Hyper-V root: the edition is unknown (only winver on it can say).
    code, ready = _ready("hyperv", HVROOT)
    assert (code, ready["state"]) == (contract.EXIT_NEEDS_CONFIRMATION, "needs-confirmation")
    assert "windows-edition" in [p["id"] for p in ready["pending"]]  # type: ignore[index]
    # An Azure guest: the host and the person who knows the VM must confirm.
    code, ready = _ready("hyperv", AZURE)
    assert code == contract.EXIT_NEEDS_CONFIRMATION
    layers = {p["layer"] for p in ready["pending"]}  # type: ignore[index]
    assert "person" in layers
    assert layers <= {"outer-hypervisor", "cloud", "firmware", "host-os", "this-os", "person"}


def check_ready(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, ready = _ready("hyperv", WIN_ROOT)  # Hyper-V runs: every condition met
    assert (code, ready) == (contract.EXIT_OK, {"state": "ready", "elevated": False,
                                                "restart": False, "steps": [], "pending": []})
    # Other statuses keep their codes under --ready: blocked 1, unsupported 3, eval-only 4.
    assert _ready("wsl2", FIRECRACKER)[0] == contract.EXIT_BLOCKED
    assert _ready("third-party", AZURE)[0] == contract.EXIT_UNSUPPORTED
    assert _ready("azure-local", AZURE)[0] == contract.EXIT_EVALUATION_ONLY
    assert _ready("wsl2", FIRECRACKER)[1]["state"] == "not-supported"
    # Every verdict of every report carries it, --ready or not.
    code, out = run(["--json", "--from", str(WIN_OFF)])
    states = {s: v["readiness"]["state"] for s, v in json.loads(out)["verdicts"].items()}
    assert states["hyperv"] == "after-steps"
    assert states["azure-local"] == "needs-confirmation"  # validated hardware: a person
    # --ready belongs to check; the codes are new ones.
    assert run(["--ready", "--from", str(WIN_OFF)])[0] == contract.EXIT_USAGE
    capsys.readouterr()
    taken = {v for k, v in vars(contract).items() if k.startswith("EXIT_") and k not in (
        "EXIT_AFTER_STEPS", "EXIT_NEEDS_CONFIRMATION")}
    assert not taken & {contract.EXIT_AFTER_STEPS, contract.EXIT_NEEDS_CONFIRMATION}


def check_exit_130(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    for name in ("load", "start_probe"):
        with monkeypatch.context() as patch:
            patch.setattr(pipeline, name, interrupted)
            argv = ["--from", str(FIRECRACKER)] if name == "load" else ["--no-timing"]
            assert run(argv) == (contract.EXIT_INTERRUPTED, "")
            assert capsys.readouterr().err == ""

    def wait_interrupted() -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:  # Ctrl-C while waiting for the probe's CPUID thread
        patch.setattr(background, "in_background", lambda *_call: wait_interrupted)
        assert run(["--no-timing"]) == (contract.EXIT_INTERRUPTED, "")
        assert capsys.readouterr().err == ""
    # The real signal, in a real process: tests/cli/test_hostile.py (Ctrl-C during bench, a read);
    # here Ctrl-C (SIGINT to the whole process group, as a terminal sends it) while pooled
    # fleet workers wait on a FIFO whose writer never writes (issue 22.9).
    if not hasattr(os, "mkfifo"):
        return
    for n in range(20):
        (tmp_path / f"m{n:02}.dump").write_text(own_dump(snapshot()))
    fifo = tmp_path / "silent"
    os.mkfifo(fifo)
    writer = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nestprobe", "fleet", str(fifo), str(tmp_path), "--jobs",
             "2"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
            env=dict(os.environ, PYTHONPATH=str(REPO)))
        time.sleep(3)  # start-up and the fork: the workers are waiting by now
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        os.close(writer)
    assert proc.returncode == contract.EXIT_INTERRUPTED
    assert err == b""


def _strict(text: str) -> dict[str, object]:
    def refuse(name: str) -> None:
        raise ValueError(name)

    data: dict[str, object] = json.loads(text, parse_constant=refuse)
    return data


def check_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    hostile = tmp_path / "hostile.dump"
    hostile.write_text(own_dump(hostile_snapshot()))
    for argv in (["--json", "--no-timing"], ["--json"], ["--json", "--from", str(hostile)],
                 ["check", "wsl2", "--json", "--from", str(AZURE)]):
        code, out = run(argv)
        assert code in contract.STATUS_EXIT.values()
        assert out.isascii()
        assert out.count("\n") == out.rstrip("\n").count("\n") + 1  # one document, one newline
        validator.validate(_strict(out))


def check_escaped(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    hostile = tmp_path / f"hostile{ESCAPES.replace(chr(0), '')}.dump"
    hostile.write_text(own_dump(hostile_snapshot()))
    for argv in (["--from", str(hostile)], ["-v", "--from", str(hostile)],
                 ["check", "hyperv", "--from", str(hostile)]):
        code, out = run(argv)
        assert code in contract.STATUS_EXIT.values()
        assert no_control(out), argv
    assert no_control(json.loads(run(["--json", "--from", str(hostile)])[1])["answer"])
    hostile.write_text("CPU 0:\n" + ESCAPES.replace("\x00", "") + "\n")
    assert run(["--from", str(hostile)])[0] == contract.EXIT_BAD_INPUT
    assert no_control(one_line(capsys.readouterr().err))
    # fleet's table: file names, fixes from JSON-report inputs, unreadable paths (22.6).
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    for name in HOSTILE_NAMES:
        write_name(fleet, name, own_dump(snapshot()))
    (fleet / f"report{ESCAPES.replace(chr(0), '')}.json").write_text(json.dumps(hostile_report()))
    write_name(fleet, b"broken\x1b[2J", "not a dump\n")
    code, table = run(["fleet", str(fleet), "--names", "0"])
    assert code == contract.EXIT_OK
    assert no_control(table), table
    assert "Could not read (1)" in table
    assert "step \\x1b[2J" in table


def check_encoding(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    hostile = tmp_path / "unicode.dump"
    hostile.write_text(own_dump(hostile_snapshot("\u2603 caf\u00e9 \u2014 \U0001f600")))
    for env in ({"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0"}, {"PYTHONIOENCODING": "cp437"},
                {"PYTHONIOENCODING": "cp850"}, {"PYTHONIOENCODING": "cp1252"}):
        proc = run_cli("-v", "--from", str(hostile), env=env)
        assert proc.returncode == contract.EXIT_OK, (env, proc.stderr)
        assert proc.stderr == b""
        proc.stdout.decode(env.get("PYTHONIOENCODING", "ascii"))


def check_safe_inputs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Each kind of path ends in a report or exit 6 within seconds (details: test_fuzz_inputs)."""
    from fuzz_inputs import INPUT_KINDS, made_input

    good = FIRECRACKER.read_bytes()
    for kind in INPUT_KINDS:
        for data in (good, b"CPU 0:\n\x00\xff" * 3):
            with made_input(kind, tmp_path / kind / str(len(data)), data) as path:
                if path is None:
                    continue
                started = time.monotonic()
                code, out = run(["--from", path])
                assert time.monotonic() - started < 10, kind
            err = capsys.readouterr().err
            assert (code, err == "") in ((contract.EXIT_OK, True),
                                         (contract.EXIT_BAD_INPUT, False)), (kind, err)
            if code == contract.EXIT_OK:
                assert data == good, kind
                assert out.startswith("No:"), kind
    # UTF-16 without a byte-order mark is text, not "binary" (22.14).
    paste = tmp_path / "utf16.txt"
    paste.write_bytes(SYSTEMINFO.encode("utf-16-le"))
    code, out = run(["--from", str(paste)])
    assert code == contract.EXIT_OK
    assert nestprobe.load(paste).snapshot.os.files["systeminfo:Host Name"].text == "DESK-01"


def check_library(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Report.from_dict: the same frozen Report back, strictly
    # (tests/model/test_report_from_dict.py).
    report = nestprobe.load(FIRECRACKER)
    assert Report.from_dict(report_to_dict(report)) == report
    with pytest.raises(ReportFormatError):
        Report.from_dict(report_to_dict(report) | {"colour": "blue"})
    for cpu, error in ((True, TypeError), ("1", TypeError), (0.0, TypeError), (-1, ValueError)):
        with pytest.raises(error, match="cpu must be"):
            nestprobe.load(tmp_path / "not-read", cpu=cpu)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="path must be"):
        nestprobe.load(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(CpuNotInDumpError):
        nestprobe.load(FIRECRACKER, cpu=1)
    assert issubclass(CpuNotInDumpError, DumpFormatError)
    if hasattr(os, "sched_getaffinity"):
        with pytest.raises(CpuSelectionError):
            nestprobe.probe(timing=False, cpu=max(os.sched_getaffinity(0)) + 1)
        cpu = min(os.sched_getaffinity(0))
        assert nestprobe.probe(timing=False, cpu=cpu).snapshot.origin.cpu == cpu


def check_immutable(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    report = nestprobe.load(FIRECRACKER)
    with pytest.raises(TypeError):
        report.assessment.environment.dmi["sys_vendor"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        report.snapshot.cpuid.leaves.clear()  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        report.verdicts = None  # type: ignore[misc,assignment]
    with pytest.raises(AttributeError):
        report.snapshot.__init__("ok", CpuidTable({(0, 0): Registers(0, 0, 0, 0)}),
                                 OsFacts("x", "y"))  # type: ignore[misc]
    assert hash(report) == hash(nestprobe.load(FIRECRACKER))
    assert hash(build_report(snapshot())) == hash(build_report(snapshot()))
    # No way around it through dict's own methods (issue 22.14).
    dmi = report.assessment.environment.dmi
    with pytest.raises(TypeError):
        dict.__setitem__(dmi, "sys_vendor", "x")  # type: ignore[index]
    assert hash(report) == hash(nestprobe.load(FIRECRACKER))


def check_fleet_inputs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    every = "hyperv=" + ",".join(STATUSES)
    with special_tree(tmp_path) as paths:
        started = time.monotonic()
        code, table = run(["fleet", str(paths["tree"]), "--require", every])
        assert time.monotonic() - started < 30
    assert code == contract.EXIT_BLOCKED  # every unread input falls short
    flat = " ".join(table.split())
    assert flat.startswith("nestprobe fleet: 2 machines assessed")  # dc1/good, dc2/linked
    for name in ("fifo", "socket", "null", "dangling", "loop"):
        if name in paths:
            assert f"{paths[name]}:" in flat, name
    assert "dc2/linked" in flat
    capsys.readouterr()
    # /proc/self: links to / and to pipes, files that never end: listed, never a hang.
    if Path("/proc/self/fd").is_dir():
        proc = subprocess.run([sys.executable, "-m", "nestprobe", "fleet", "/proc/self"],
                              capture_output=True, cwd=tmp_path, timeout=120, check=False,
                              env=dict(os.environ, PYTHONPATH=str(REPO)))
        assert proc.returncode in (contract.EXIT_OK, contract.EXIT_BAD_INPUT)
        assert b"Traceback" not in proc.stderr
        assert b"internal error" not in proc.stdout
    # fleet - reads standard input; a JSON report with its keys sorted (jq -S) is read.
    proc = subprocess.run([sys.executable, "-m", "nestprobe", "fleet", "-", "--format",
                           "jsonl"], input=own_dump(snapshot()).encode(), capture_output=True,
                          timeout=60, check=False, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.returncode == contract.EXIT_OK, proc.stderr
    [record] = strict_lines(proc.stdout.decode())
    assert (record["machine"], record["input"]) == ("stdin", "-")
    sorted_report = tmp_path / "sorted.json"
    sorted_report.write_text(json.dumps(report_to_dict(build_report(snapshot())), sort_keys=True))
    code, out = run(["fleet", str(sorted_report), "--format", "jsonl"])
    assert code == contract.EXIT_OK
    assert "error" not in strict_lines(out)[0]


def _sigterm_leaves_no_temporary_file(tmp_path: Path) -> None:
    """SIGTERM while the output is being written leaves no temporary file (nor the output)."""
    if hasattr(os, "mkfifo"):
        silent = tmp_path / "silent"
        os.mkfifo(silent)
        writer = os.open(silent, os.O_RDWR | os.O_NONBLOCK)
        target = tmp_path / "sigterm" / "out.prom"
        target.parent.mkdir()
        try:
            proc = subprocess.Popen([sys.executable, "-m", "nestprobe", "fleet", str(silent),
                                     "--output", str(target)], stderr=subprocess.PIPE,
                                    env=dict(os.environ, PYTHONPATH=str(REPO)))
            time.sleep(2)
            proc.terminate()
            proc.communicate(timeout=30)
        finally:
            os.close(writer)
        assert proc.returncode == -signal.SIGTERM
        assert list(target.parent.iterdir()) == []


def check_fleet_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    dump = tmp_path / "m.dump"
    dump.write_text(own_dump(snapshot()))
    # A regular file: replaced whole, keeping its mode (and, as root, its owner).
    out = tmp_path / "out.prom"
    out.write_text("old\n")
    out.chmod(0o640)
    if IS_ROOT:
        os.chown(out, 4321, 4321)
    assert run(["fleet", str(dump), "--format", "prometheus", "--output", str(out)]) == (0, "")
    info = out.stat()
    assert stat.S_IMODE(info.st_mode) == 0o640
    if IS_ROOT:
        assert (info.st_uid, info.st_gid) == (4321, 4321)
    assert out.read_text().startswith("# HELP nestprobe_verdict")
    # A symbolic link stays a link; its target gets the output.
    link = tmp_path / "link.prom"
    link.symlink_to(out)
    assert run(["fleet", str(dump), "--format", "csv", "--output", str(link)])[0] == 0
    assert link.is_symlink()
    assert out.read_text().startswith("machine,input,")
    # A FIFO is written to, not replaced; as root, a character device (a private copy
    # of /dev/null's) too.
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "out.fifo"
        os.mkfifo(fifo)
        got: list[bytes] = []
        reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
        reader.start()
        assert run(["fleet", str(dump), "--output", str(fifo)])[0] == 0
        reader.join(timeout=30)
        assert stat.S_ISFIFO(fifo.stat().st_mode)
        assert got[0].startswith(b"nestprobe fleet:")
    if IS_ROOT and hasattr(os, "mknod"):
        null = tmp_path / "null"
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        assert run(["fleet", str(dump), "--output", str(null)])[0] == 0
        assert stat.S_ISCHR(null.stat().st_mode)
    _sigterm_leaves_no_temporary_file(tmp_path)
    # --jobs: at most one process per available core, whatever is asked.
    from nestprobe.fleet import pool
    from nestprobe.fleet.inputs import Input

    started: list[int] = []

    def recorder(processes: int, **kwargs: object) -> None:
        started.append(processes)
        raise RuntimeError("counted")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pool.multiprocessing, "Pool", recorder)
        with pytest.raises(RuntimeError, match="counted"):
            list(pool.assess_all([Input(str(dump), f"m{n}") for n in range(200)], workers=1000))
    assert started == [pool.available_cpus()] or pool.available_cpus() == 1


def check_formats(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from nestprobe.fleet.inputs import collect
    from nestprobe.fleet.render import FORMULA_STARTS, csv_row
    from nestprobe.fleet.work import assess

    fleet = tmp_path / "fleet"
    fleet.mkdir()
    for name in HOSTILE_NAMES:
        write_name(fleet, name, own_dump(snapshot()))
    (fleet / "lying.json").write_text(json.dumps(hostile_report()))
    outputs = {fmt: run(["fleet", str(fleet), "--format", fmt]) for fmt in
               ("table", "csv", "jsonl", "prometheus")}
    assert all(code == contract.EXIT_OK for code, _ in outputs.values())
    machines = len(HOSTILE_NAMES) + 1
    # CSV: every row comes back as written; no cell starts a formula; no control character.
    rows = csv_rows(outputs["csv"][1])
    assert len(rows) == machines + 1
    assert all(len(r) == len(rows[0]) for r in rows)
    for row in rows[1:]:
        assert not any(cell.startswith(FORMULA_STARTS) for cell in row), row
        assert all(no_control(cell) for cell in row)
    inputs, _ = collect([str(fleet)])
    assert rows[1:] == [csv_row(assess(item)) for item in inputs]
    # JSON lines: standard JSON, ASCII.
    assert len(strict_lines(outputs["jsonl"][1])) == machines
    assert outputs["jsonl"][1].isascii()
    # Prometheus: one series per machine and name, machine labels unique and stable
    # (m\xff and m\xfe differ only in an undecodable byte).
    series = prometheus_series(outputs["prometheus"][1])
    assert len(series) == len(set(series))
    assert len([s for s in series if s.startswith("nestprobe_verdict{")]) == 5 * machines
    assert outputs["prometheus"] == run(["fleet", str(fleet), "--format", "prometheus"])
    assert no_control(outputs["table"][1])


CHECKS: dict[str, Callable[..., None]] = {
    "exit-0": check_exit_0, "exit-1": check_exit_1, "exit-2": check_exit_2,
    "exit-3": check_exit_3, "exit-4": check_exit_4, "exit-5": check_exit_5,
    "exit-6": check_exit_6, "exit-7": check_exit_7, "exit-8": check_exit_8,
    "exit-9": check_exit_9, "exit-10": check_exit_10, "exit-130": check_exit_130,
    "ready": check_ready, "json": check_json, "escaped": check_escaped,
    "encoding": check_encoding, "safe-inputs": check_safe_inputs, "library": check_library,
    "immutable": check_immutable, "fleet-inputs": check_fleet_inputs,
    "fleet-output": check_fleet_output, "formats": check_formats,
}


def test_every_row_has_a_test() -> None:
    assert sorted(readme_rows()) == sorted(CHECKS)


def test_exit_rows_match_the_codes() -> None:
    """Each exit row's bold number is the constant the code uses."""
    names = {0: "EXIT_OK", 1: "EXIT_BLOCKED", 2: "EXIT_USAGE", 3: "EXIT_UNSUPPORTED",
             4: "EXIT_EVALUATION_ONLY", 5: "EXIT_UNKNOWN", 6: "EXIT_BAD_INPUT",
             7: "EXIT_INTERNAL", 8: "EXIT_OUTPUT", 9: "EXIT_AFTER_STEPS",
             10: "EXIT_NEEDS_CONFIRMATION", 130: "EXIT_INTERRUPTED"}
    for row, promise in readme_rows().items():
        if row.startswith("exit-"):
            code = int(row.removeprefix("exit-"))
            assert promise.startswith(f"**{code}**"), row
            assert getattr(contract, names[code]) == code


#: Rows whose check is written in POSIX terms; the promise holds on Windows by other tests.
POSIX_ONLY_ROWS = {
    "encoding": "the check decodes its children as POSIX locales do (not verified under wine)",
    "escaped": "Windows file names cannot hold the control characters this check writes",
    "fleet-inputs": "the tree holds FIFOs, sockets, device links and chmod-000 directories: "
                    "POSIX files (Windows has none of them)",
    "fleet-output": "owner and mode bits, /dev/null and FIFOs as --output are POSIX's",
    "formats": "file names of undecodable bytes and control characters are POSIX's "
               "(Windows names are UTF-16)",
}


@pytest.mark.parametrize("row", sorted(CHECKS))
def test_contract_row(row: str, capsys: pytest.CaptureFixture[str], tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    check = CHECKS[row]
    if sys.platform == "win32" and row in POSIX_ONLY_ROWS:
        pytest.skip(POSIX_ONLY_ROWS[row])
    if "monkeypatch" in check.__code__.co_varnames[: check.__code__.co_argcount]:
        check(capsys, tmp_path, monkeypatch)
    else:
        check(capsys, tmp_path)
