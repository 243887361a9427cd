"""README "The contract": one test per row, and no row without its test.

The table is read from the README itself, so a promise added there without a check here
(or a check for a promise the README no longer makes) fails ``test_every_row_has_a_test``.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from conftest import DUMPS, REPO
from hostile import ESCAPES, bench_result, hostile_snapshot, no_control, own_dump, run_cli, snapshot

import nestprobe
from nestprobe import pipeline
from nestprobe.cli import main
from nestprobe.model import contract
from nestprobe.model.errors import CpuNotInDumpError, CpuSelectionError, DumpFormatError
from nestprobe.model.snapshot import CpuidTable, OsFacts, Registers, Snapshot
from nestprobe.pipeline import build_report

FIRECRACKER = DUMPS / "firecracker-t2.txt"
AZURE = DUMPS / "azure-hyperv-guest-nested-vmx.txt"
HVROOT = DUMPS / "instlatx64-hvroot-GenuineIntel00A0654_CometLake_CPUID.txt"
WINDOWS = Path(__file__).resolve().parent / "fixtures" / "windows"
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
    capsys.readouterr()


def check_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    usage = [["--no-such-option"], ["check", "no-such-scenario"], ["--thorough", "--no-timing"],
             ["--from", str(FIRECRACKER), "--thorough"], ["check", "wsl2", "-q", "--json"],
             ["-v", "--json"], ["--cpu", "-1"], ["--cpu", "7", "--from", str(FIRECRACKER)],
             ["report", "--json", "--format", "prometheus"],
             ["report", "-v", "--format", "json"]]
    if hasattr(os, "sched_getaffinity"):
        usage.append(["--no-timing", "--cpu", str(max(os.sched_getaffinity(0)) + 1)])
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

    for name in ("load", "probe"):
        with monkeypatch.context() as patch:
            patch.setattr(pipeline, name, interrupted)
            argv = ["--from", str(FIRECRACKER)] if name == "load" else ["--no-timing"]
            assert run(argv) == (contract.EXIT_INTERRUPTED, "")
            assert capsys.readouterr().err == ""
    # The real signal, in a real process: tests/test_hostile.py (Ctrl-C during bench, a read).


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


def check_library(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
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


CHECKS: dict[str, Callable[..., None]] = {
    "exit-0": check_exit_0, "exit-1": check_exit_1, "exit-2": check_exit_2,
    "exit-3": check_exit_3, "exit-4": check_exit_4, "exit-5": check_exit_5,
    "exit-6": check_exit_6, "exit-7": check_exit_7, "exit-8": check_exit_8,
    "exit-9": check_exit_9, "exit-10": check_exit_10, "exit-130": check_exit_130,
    "ready": check_ready, "json": check_json, "escaped": check_escaped,
    "encoding": check_encoding, "safe-inputs": check_safe_inputs, "library": check_library,
    "immutable": check_immutable,
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
}


@pytest.mark.parametrize("row", sorted(CHECKS))
def test_contract_row(row: str, capsys: pytest.CaptureFixture[str], tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch, corpus_dumps: Path) -> None:
    check = CHECKS[row]
    if sys.platform == "win32" and row in POSIX_ONLY_ROWS:
        pytest.skip(POSIX_ONLY_ROWS[row])
    if "monkeypatch" in check.__code__.co_varnames[: check.__code__.co_argcount]:
        check(capsys, tmp_path, monkeypatch)
    else:
        check(capsys, tmp_path)
