"""Issue 11, row by row: each input an adversarial user tried, and the contract it now keeps.

| row | input | contract |
| 1 | bench compare /dev/zero, a 500 MB file, an endless pipe | input cap; exit 6 |
| 2 | a FIFO with no writer (--from, check, load(), bench compare) | exit 6 at once; a pipe
|   | with a writer still works; Ctrl-C while a writer stalls exits 130 |
| 3 | ESC sequences in a container-manager fact (and everywhere) | escaped everywhere |
| 4 | NaN, Infinity, 1e400, negative ticks or frequency in a latency line | exit 6; JSON
|   | output is standard JSON |
| 5 | a cpuid -r file cut inside a value | exit 6 |
| 6 | LC_ALL=C PYTHONUTF8=0, cp437/cp850/cp1252 | any encoding works |
| 7 | stdout closed or full | exit 8, one line |
| 8 | SIGINT during bench or a read | quiet 130 |
| 9 | --cpu -1 / --cpu 99 | exit 2; live --cpu N honoured |
| 10 | load(path, cpu=True) / cpu="1" | TypeError/ValueError in words |
| 11 | mutating a Report | immutable all the way down; hashable |
| 12 | contradictory options; --from - | usage errors; stdin is read |
| 13 | a signature rejected as invalid | evidence says what and why |
| 14 | error wording | plain words, no Python byte reprs |
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import DUMPS
from hostile import (
    ESCAPES,
    bench_result,
    hostile_snapshot,
    latency_json,
    no_control,
    own_dump,
    pipe_with_writer,
    run_cli,
    snapshot,
    with_latency_payload,
)

import nestprobe
from nestprobe.cli import main
from nestprobe.model.contract import (
    EXIT_BAD_INPUT,
    EXIT_BLOCKED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_OUTPUT,
    EXIT_USAGE,
    STATUS_EXIT,
)
from nestprobe.model.errors import CpuNotInDumpError, CpuSelectionError, DumpFormatError
from nestprobe.model.record import FrozenMap, Record
from nestprobe.model.snapshot import CpuidTable, FileFact, OsFacts, Registers, Snapshot
from nestprobe.output.answer import answer
from nestprobe.output.jsonreport import render_json
from nestprobe.output.text import render_text, render_verbose
from nestprobe.pipeline import build_report
from nestprobe.sources.inputfile import MAX_INPUT_BYTES, read_input
from nestprobe.sources.load import load_snapshot, parse_snapshot

FIRECRACKER = DUMPS / "firecracker-t2.txt"
LINUX = sys.platform.startswith("linux")

#: FIFOs, /dev/fd pipes, device nodes and signals are POSIX: under Windows CPython the rows of
#: this table are covered by tests/test_contract_table.py and the Windows stage's smoke run.
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX inputs (FIFOs, /dev)")


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    return main(argv, out=out), out.getvalue()


def strict_json(text: str) -> Any:
    def refuse(name: str) -> None:
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


@pytest.fixture
def good_result(tmp_path: Path) -> Path:
    path = tmp_path / "good.json"
    path.write_text(json.dumps(bench_result()))
    return path


# ------------------------------------------------------------------ 1: the input cap


def test_bench_compare_refuses_dev_zero_unopened(good_result: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    assert main(["bench", "compare", str(good_result), "/dev/zero"]) == EXIT_BAD_INPUT
    assert time.monotonic() - started < 5
    err = capsys.readouterr().err
    assert "/dev/zero" in err
    assert "character device" in err


def test_bench_compare_refuses_a_500_mb_file_unread(tmp_path: Path, good_result: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    huge = tmp_path / "huge.json"
    with huge.open("wb") as stream:
        stream.truncate(500 << 20)  # sparse: refused by its size, never read
    assert main(["bench", "compare", str(good_result), str(huge)]) == EXIT_BAD_INPUT
    assert "at most 8,388,608 bytes" in capsys.readouterr().err


def test_an_endless_pipe_stops_at_the_cap() -> None:
    with pipe_with_writer(b"x" * 65536, forever=True) as path, \
            pytest.raises(DumpFormatError, match="a longer stream") as info:
        read_input(path)
    assert info.value.expected.endswith(f"at most {MAX_INPUT_BYTES:,} bytes (8 MiB)")


def test_the_cap_is_the_same_for_from_and_bench(tmp_path: Path) -> None:
    big = tmp_path / "big"
    with big.open("wb") as stream:
        stream.truncate(MAX_INPUT_BYTES + 1)
    messages = []
    for call in (lambda: load_snapshot(str(big)), lambda: read_input(str(big), what="x")):
        with pytest.raises(DumpFormatError) as info:
            call()
        messages.append(info.value.found)
    assert messages == [f"{MAX_INPUT_BYTES + 1:,} bytes"] * 2


# ------------------------------------------------------------------ 2: FIFOs never block


def test_fifo_without_writer_is_bad_input_at_once(fifo: Path, good_result: Path) -> None:
    started = time.monotonic()
    assert run(["--from", str(fifo)])[0] == EXIT_BAD_INPUT
    assert run(["check", "hyperv", "--from", str(fifo)])[0] == EXIT_BAD_INPUT
    assert main(["bench", "compare", str(good_result), str(fifo)]) == EXIT_BAD_INPUT
    with pytest.raises(DumpFormatError, match="no writer"):
        nestprobe.load(fifo)
    assert time.monotonic() - started < 10


def test_a_pipe_with_a_writer_is_read(corpus_dumps: Path) -> None:
    """``--from <(cmd)``: bash hands over /dev/fd/N, a pipe whose writer is cmd."""
    with pipe_with_writer(FIRECRACKER.read_bytes()) as path:
        code, out = run(["--from", path])
    assert code == EXIT_OK
    assert out.startswith("No: this OS is a guest of KVM")


def test_a_named_fifo_with_a_writer_is_read(fifo: Path, corpus_dumps: Path) -> None:
    writer = subprocess.Popen(["sh", "-c", f'cat "{FIRECRACKER}" > "{fifo}"'])
    time.sleep(0.3)  # the writer waits in open() for a reader: it is connected
    try:
        assert nestprobe.load(fifo).snapshot.origin.format == "cpuid-r"
    finally:
        writer.wait(timeout=10)


@pytest.mark.skipif(not LINUX, reason="signals and FIFOs as on Linux")
def test_ctrl_c_while_a_writer_stalls_is_130_and_quiet(fifo: Path) -> None:
    stall = subprocess.Popen(["sh", "-c", f'exec 3>"{fifo}"; sleep 20'])
    try:
        time.sleep(0.3)
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent.parent))
        proc = subprocess.Popen([sys.executable, "-m", "nestprobe", "--from", str(fifo)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        time.sleep(1.5)  # the import and the wait for data
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        stall.kill()
        stall.wait()
    assert proc.returncode == EXIT_INTERRUPTED
    assert err == b""
    assert out == b""


# ------------------------------------------------------------------ 3: escaped everywhere


@pytest.mark.parametrize("path", ["/run/host/container-manager", "/run/systemd/container"])
def test_container_manager_escapes_reach_no_terminal(path: str, tmp_path: Path) -> None:
    dump = tmp_path / "esc.dump"
    dump.write_text(own_dump(snapshot({path: FileFact("ok", f"docker{ESCAPES}\n")})))
    report = nestprobe.load(dump)
    assert report.assessment.environment.container is not None  # it was read as a name
    for argv in (["--from", str(dump)], ["-v", "--from", str(dump)],
                 ["check", "wsl2", "--from", str(dump)]):
        code, out = run(argv)
        assert code in STATUS_EXIT.values()
        assert no_control(out), argv
    assert "\\x1b" in render_verbose(report)  # shown, as an escape


def test_every_text_field_is_escaped_in_every_rendering() -> None:
    report = build_report(hostile_snapshot())
    for text in (render_text(report), render_verbose(report), answer(report),
                 render_text(report, colour=False, width=60)):
        assert no_control(text)
    data = render_json(report)
    assert data.isascii()
    assert no_control(data)
    assert no_control(strict_json(data)["answer"])


def test_error_messages_escape_the_path_and_the_line(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "evil\x1b[2J\rname"
    bad.write_text("CPU 0:\n   0x00000000 0x00: eax=\x1b]0;t\x07\n")
    assert main(["--from", str(bad)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert no_control(err)
    assert "evil\\x1b[2J\\rname" in err
    assert err.count("\n") == 1


# ------------------------------------------------------------------ 4: non-finite numbers


@pytest.mark.parametrize(("changes", "why"), [
    ({"cpuid_ticks": "NaN"}, "NaN is not a number"),
    ({"median_ticks": "Infinity"}, "Infinity is not a number"),
    ({"p99_ticks": "-Infinity"}, "-Infinity is not a number"),
    ({"cpuid_ticks": "1e400"}, "finite"),
    ({"cpuid_ticks": -9000.0}, ">= 0"),
    ({"baseline_ticks": -1}, ">= 0"),
    ({"tsc_hz": -2.4e9}, ">= 1"),
    ({"tsc_hz": 0}, ">= 1"),
    ({"tsc_hz": 1e-300}, ">= 1"),
    ({"samples": -5}, ">= 0"),
    ({"pinned_cpu": -1}, ">= 0"),
    ({"leaves": [0, 1, -1]}, ">= 0"),
    ({"leaves": [2**32]}, "below 2**32"),
    ({"wall_ns": 2**64}, "below 2**64"),
])
def test_hostile_latency_numbers_are_malformed(changes: dict[str, object], why: str,
                                                tmp_path: Path) -> None:
    text = with_latency_payload(latency_json(**changes))
    with pytest.raises(DumpFormatError, match=r"latency|LatencyRecord") as info:
        parse_snapshot(text, "lat.dump")
    assert why in str(info.value)
    dump = tmp_path / "lat.dump"
    dump.write_text(text)
    assert run(["--json", "--from", str(dump)])[0] == EXIT_BAD_INPUT


def test_json_output_is_always_standard_json() -> None:
    for report in (build_report(snapshot()), build_report(hostile_snapshot()), nestprobe.probe()):
        data = strict_json(render_json(report))
        assert data["timing"] is None or all(
            isinstance(v, int | float | str | list | type(None)) for v in data["timing"].values())


def test_the_likely_level_cannot_be_moved_by_negative_ticks() -> None:
    from nestprobe.model.latency import LatencyRecord

    with pytest.raises(ValueError, match="cpuid_ticks must be a finite number >= 0"):
        LatencyRecord(**{**snapshot().latency.to_dict(), "cpuid_ticks": -1e9})  # type: ignore[union-attr]


# ------------------------------------------------------------------ 5: a value cut short


def test_cpuid_r_cut_inside_a_value_is_malformed(tmp_path: Path) -> None:
    cut = tmp_path / "cut.txt"
    cut.write_text(
        "CPU 0:\n"
        "   0x00000000 0x00: eax=0x0000000d ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69\n"
        "   0x40000000 0x00: eax=0x40000001 ebx=0x4b4d564b ecx=0x564b4d56 edx=0x76482\n")
    with pytest.raises(DumpFormatError) as info:
        load_snapshot(str(cut))
    assert info.value.line == 3
    assert run(["--from", str(cut)])[0] == EXIT_BAD_INPUT


def test_own_dump_cut_inside_a_value_is_malformed() -> None:
    lines = own_dump().splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("cpuid "))
    lines[index] = lines[index][:-3]  # edx=0x49656e69 -> edx=0x49656
    with pytest.raises(DumpFormatError, match="cpuid 0xLEAF") as info:
        parse_snapshot("\n".join(lines) + "\n")
    assert info.value.line == index + 1


# ------------------------------------------------------------------ 6: any encoding


@pytest.mark.parametrize("env", [
    {"LC_ALL": "C", "PYTHONUTF8": "0", "LANG": "C"},
    {"PYTHONIOENCODING": "cp437"},
    {"PYTHONIOENCODING": "cp850"},
    {"PYTHONIOENCODING": "cp1252"},
    {"PYTHONIOENCODING": "ascii"},
], ids=["C-locale", "cp437", "cp850", "cp1252", "ascii"])
def test_any_encoding_works(env: dict[str, str], tmp_path: Path) -> None:
    dump = tmp_path / "hostile.dump"
    dump.write_text(own_dump(hostile_snapshot("caf\u00e9 \u2014 \u2603 \u00b5s")))
    encoding = env.get("PYTHONIOENCODING", "ascii")
    for args in ([], ["-v"], ["check", "wsl2"], ["--from", str(dump), "-v"]):
        proc = run_cli(*args, *(["--no-timing"] if "--from" not in args else []), env=env)
        assert proc.returncode in STATUS_EXIT.values(), proc.stderr
        assert b"Error" not in proc.stderr
        proc.stdout.decode(encoding)  # what the stream promised
    bad = run_cli("--from", str(tmp_path / "n\u00e9ant.dump"), env=env)
    assert bad.returncode == EXIT_BAD_INPUT
    assert bad.stderr.decode(encoding).startswith("nestprobe: error: ")


# ------------------------------------------------------------------ 7: stdout closed or full


def shell(command: str) -> subprocess.CompletedProcess[bytes]:
    """``command`` in sh, where ``NP`` stands for this checkout's ``python -m nestprobe``."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent.parent), NP_PY=sys.executable)
    return subprocess.run(["sh", "-c", command.replace("NP", '"$NP_PY" -m nestprobe')],
                          capture_output=True, env=env, timeout=60, check=False)


@pytest.mark.skipif(not LINUX, reason="fd juggling as on Linux")
def test_closed_stdout_is_exit_8_with_one_line() -> None:
    proc = shell(f'NP --from "{FIRECRACKER}" >&-')
    assert proc.returncode == EXIT_OUTPUT
    assert proc.stderr == b"nestprobe: error: cannot write the output: standard output is closed\n"
    quiet = shell(f'NP check hyperv -q --from "{FIRECRACKER}" >&-')
    assert quiet.returncode == EXIT_BLOCKED  # nothing to write: the verdict stands
    assert quiet.stderr == b""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
@pytest.mark.parametrize("args", [[], ["--json"], ["-v"], ["dump", "--no-timing"]])
def test_full_stdout_is_exit_8_with_one_line(args: list[str]) -> None:
    extra = ["--from", str(FIRECRACKER)] if args in ([], ["--json"], ["-v"]) else []
    with Path("/dev/full").open("w") as full:
        proc = run_cli(*args, *extra, stdout=full)
    assert proc.returncode == EXIT_OUTPUT
    assert proc.stderr == b"nestprobe: error: cannot write the output: no space left on device\n"


def test_a_reader_that_stops_early_is_not_an_error() -> None:
    """``nestprobe | head``: the reader is gone before nestprobe writes (EPIPE)."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent.parent))
    proc = subprocess.Popen([sys.executable, "-m", "nestprobe", "-v", "--from", str(FIRECRACKER)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    proc.stdout.close()  # long before the report is written
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_OK
    assert err == b""


# ------------------------------------------------------------------ 8: SIGINT


@pytest.mark.skipif(not LINUX, reason="signals as on Linux")
def test_ctrl_c_during_bench_is_130_and_quiet() -> None:
    """SIGINT 0.2 s into ``bench --thorough`` (imports done first, so it lands in the run)."""
    code = ("import os, signal, threading\n"
            "from nestprobe.cli import main\n"
            "threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()\n"
            "raise SystemExit(main(['bench', '--thorough']))\n")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent.parent))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env,
                          timeout=120, check=False)
    if proc.returncode == 3:
        pytest.skip("no CPUID here: the bench ends before it measures")
    assert proc.returncode == EXIT_INTERRUPTED, proc.stderr
    assert proc.stderr == b""
    assert proc.stdout == b""


# ------------------------------------------------------------------ 9: --cpu


def test_cpu_that_is_no_cpu_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--cpu", "-1", "--no-timing"]) == EXIT_USAGE
    assert main(["--cpu", "x", "--no-timing"]) == EXIT_USAGE
    assert main(["--cpu", "99", "--from", str(FIRECRACKER)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "a CPU number is 0 or more, not -1" in err
    assert "CPU 99 (the dump has CPUs 0)" in err
    if hasattr(os, "sched_getaffinity"):
        beyond = max(os.sched_getaffinity(0)) + 99
        assert main(["--cpu", str(beyond), "--no-timing"]) == EXIT_USAGE
        assert f"CPU {beyond} is not one this process may run on" in capsys.readouterr().err


def test_a_malformed_dump_is_bad_input_even_with_a_wrong_cpu(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("CPU 0:\n   0x0 0x00: eax=0x1\n")
    assert run(["--cpu", "5", "--from", str(bad)])[0] == EXIT_BAD_INPUT


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity here")
def test_live_cpu_is_honoured() -> None:
    """The probe runs on the CPU asked for: leaf 1 EBX[31:24] is that CPU's APIC id."""
    allowed = sorted(os.sched_getaffinity(0))
    apic: dict[int, int] = {}
    for cpu in allowed[:2]:
        report = nestprobe.probe(cpu=cpu)
        assert report.snapshot.origin.cpu == cpu
        assert report.snapshot.latency is None or report.snapshot.latency.pinned_cpu == cpu
        leaf1 = report.snapshot.cpuid.raw(1)
        if leaf1 is None:
            pytest.skip("no CPUID here")
        apic[cpu] = leaf1.ebx >> 24
    assert os.sched_getaffinity(0) == set(allowed)  # put back
    if len(apic) == 2:
        assert len(set(apic.values())) == 2, apic
    code, out = run(["--json", "--cpu", str(allowed[-1])])
    assert code == EXIT_OK
    assert json.loads(out)["source"]["cpu"] == allowed[-1]


# ------------------------------------------------------------------ 10: load() arguments


@pytest.mark.parametrize(("cpu", "error", "words"), [
    (True, TypeError, "not bool True"),
    ("1", TypeError, "not str '1'"),
    (1.0, TypeError, "not float 1.0"),
    (None, TypeError, "not NoneType"),
    (-1, ValueError, "0 or more"),
])
def test_load_validates_cpu_before_reading(cpu: object, error: type[Exception], words: str,
                                           tmp_path: Path) -> None:
    with pytest.raises(error, match="cpu must be") as info:
        nestprobe.load(tmp_path / "does-not-exist", cpu=cpu)  # type: ignore[arg-type]
    assert words in str(info.value)
    if cpu is not None:  # probe(cpu=None) means: wherever the scheduler runs it
        with pytest.raises(error, match="cpu must be"):
            nestprobe.probe(cpu=cpu)  # type: ignore[arg-type]


def test_load_validates_path() -> None:
    with pytest.raises(TypeError, match="path must be a str or a path object, not int"):
        nestprobe.load(3)  # type: ignore[arg-type]


def test_a_cpu_the_dump_lacks_is_its_own_error() -> None:
    with pytest.raises(CpuNotInDumpError) as info:
        nestprobe.load(FIRECRACKER, cpu=3)
    assert isinstance(info.value, DumpFormatError)
    assert isinstance(info.value, CpuSelectionError)


# ------------------------------------------------------------------ 11: immutable


def _mutables(value: object, path: str = "r") -> list[str]:
    """Paths of every mutable container inside ``value``."""
    if isinstance(value, Record):
        return [m for spec in type(value).__record_fields__
                for m in _mutables(getattr(value, spec.name), f"{path}.{spec.name}")]
    if isinstance(value, FrozenMap):
        return [m for k, v in value.items() for m in _mutables(k, path) + _mutables(v, path)]
    if isinstance(value, dict | list | set | bytearray):
        return [f"{path}: {type(value).__name__}"]
    if isinstance(value, tuple | frozenset):
        return [m for item in value for m in _mutables(item, path)]
    return []


def _reports() -> list[nestprobe.Report]:
    reports = [nestprobe.probe(timing=False), build_report(hostile_snapshot())]
    if DUMPS.is_dir():
        reports += [nestprobe.load(p) for p in sorted(DUMPS.iterdir())]
    return reports


def test_reports_are_immutable_all_the_way_down() -> None:
    for report in _reports():
        assert _mutables(report) == []
        hash(report)
    r = nestprobe.load(FIRECRACKER)
    attempts = [
        lambda: r.assessment.environment.dmi.__setitem__("sys_vendor", "x"),
        r.snapshot.cpuid.leaves.clear,
        lambda: r.snapshot.os.files.pop("x", None),
        lambda: r.snapshot.cpuid.leaves.update({(0, 0): Registers(0, 0, 0, 0)}),
        lambda: r.assessment.hypervisor.interfaces[0].decoded.setdefault("x", {}),
    ]
    for attempt in attempts:
        with pytest.raises(TypeError, match="immutable"):
            attempt()
    with pytest.raises(AttributeError, match="immutable"):
        r.snapshot.os.files = {}  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        del r.assessment.nesting.level  # type: ignore[misc]
    with pytest.raises(AttributeError, match="already initialised"):
        r.snapshot.__init__("ok", CpuidTable(), OsFacts("x", "y"))  # type: ignore[misc]
    leaves = r.snapshot.cpuid.leaves
    leaves.__init__({(9, 9): Registers(1, 2, 3, 4)})  # type: ignore[misc]  # a no-op
    assert (9, 9) not in leaves
    assert nestprobe.load(FIRECRACKER) == r
    assert hash(nestprobe.load(FIRECRACKER)) == hash(r)


def test_mutable_containers_given_to_records_are_frozen() -> None:
    from collections import OrderedDict, defaultdict

    files: defaultdict[str, FileFact] = defaultdict(lambda: FileFact("absent"))
    files["/a"] = FileFact("ok", "x")
    facts = OsFacts("Linux", "x86_64", files=files)
    table = CpuidTable(OrderedDict({(0, 0): Registers(0, 0, 0, 0)}))
    files["/b"] = FileFact("ok", "y")  # the caller's object, not the record's
    assert type(facts.files) is FrozenMap
    assert type(table.leaves) is FrozenMap
    assert "/b" not in facts.files
    hash(Snapshot("ok", table, facts))


# ------------------------------------------------------------------ 12: options


@pytest.mark.parametrize(("argv", "words"), [
    (["--thorough", "--no-timing"], "choose one"),
    (["--from", str(FIRECRACKER), "--thorough"], "--thorough measures this machine"),
    (["check", "wsl2", "--json", "-q"], "-q prints nothing and --json"),
    (["check", "wsl2", "-v", "-q"], "-q prints nothing and --verbose"),
    (["--json", "-v"], "the JSON always holds everything"),
    (["dump", "--thorough", "--no-timing"], "choose one"),
])
def test_contradictory_options_are_usage_errors(argv: list[str], words: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(argv)
    assert code == EXIT_USAGE
    assert out == ""
    err = capsys.readouterr().err
    assert words in err
    assert err.count("\n") == 1


def test_from_dash_reads_stdin() -> None:
    with FIRECRACKER.open("rb") as stdin:
        proc = run_cli("--json", "--from", "-", stdin=stdin)
    assert proc.returncode == EXIT_OK, proc.stderr
    data = json.loads(proc.stdout)
    assert data["source"]["path"] == "<stdin>"
    assert data["source"]["format"] == "cpuid-r"
    empty = run_cli("--from", "-")  # stdin is /dev/null: nothing to read
    assert empty.returncode == EXIT_BAD_INPUT
    assert b"<stdin>" in empty.stderr


def test_from_with_no_timing_leaves_the_dumps_measurement_out(tmp_path: Path) -> None:
    dump = tmp_path / "timed.dump"
    dump.write_text(own_dump())
    timed = json.loads(run(["--json", "--from", str(dump)])[1])
    untimed = json.loads(run(["--json", "--from", str(dump), "--no-timing"])[1])
    assert timed["timing"] is not None
    assert untimed["timing"] is None


# ------------------------------------------------------------------ 13: rejected signatures


@pytest.mark.parametrize(("eax", "reason"), [
    (0xFFFFFFFF, "maximum leaf 0xffffffff lies past 0x400000ff"),
    (0x3FFFFFFF, "maximum leaf 0x3fffffff lies below its base 0x40000000"),
])
def test_a_rejected_signature_leaves_evidence(eax: int, reason: str) -> None:
    table = dict(snapshot().cpuid.leaves)
    table[(0x40000000, 0)] = Registers(eax, 0x4B4D564B, 0x564B4D56, 0x4D)
    report = build_report(snapshot(cpuid=CpuidTable(table)))
    hv = report.assessment.hypervisor
    assert hv.interfaces == ()
    found = [e for e in hv.evidence if "ignored" in e.claim]
    assert len(found) == 1
    assert reason in found[0].claim
    assert 'signature "KVMKVMKVM\\x00\\x00\\x00" at 0x40000000' in found[0].claim
    assert found[0].source == "CPUID.0x40000000:EAX"
    assert found[0].value == f"{eax:#010x}"
    assert "ignored" in render_verbose(report)


def test_junk_at_a_base_on_bare_metal_is_not_reported() -> None:
    table = dict(snapshot().cpuid.leaves)
    table[(1, 0)] = Registers(0x906EA, 0, 0, 0)
    table[(0x40000000, 0)] = Registers(0x00000D60, 0x00000340, 0x3F, 0xFF)  # leaf 0xD echo
    report = build_report(snapshot(cpuid=CpuidTable(table)))
    assert not [e for e in report.assessment.hypervisor.evidence if "ignored" in e.claim]


# ------------------------------------------------------------------ 14: plain words


def test_error_wording_has_no_python_reprs(tmp_path: Path) -> None:
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"CPU 0:\n\xc8a\x00\x01")
    with pytest.raises(DumpFormatError) as info:
        load_snapshot(str(binary))
    message = str(info.value)
    assert "b'" not in message
    assert "byte 0xc8 at offset 7 is not UTF-8" in message
    assert "no code page reads the file" in message  # it holds NUL bytes: no text encoding
    assert message.startswith(f"{binary}:2: expected text (UTF-8, UTF-16 or a Windows code page")
    utf16 = tmp_path / "odd.txt"
    utf16.write_bytes(b"\xff\xfeA\x00\x00\xd8")  # a UTF-16 BOM, then a lone surrogate
    with pytest.raises(DumpFormatError, match="not UTF-16") as info:
        load_snapshot(str(utf16))
    for path, words in ((tmp_path / "missing", "found no such file"),
                        (tmp_path, "found a directory")):
        with pytest.raises(DumpFormatError, match=words):
            load_snapshot(str(path))


def test_found_text_is_quoted_and_escaped() -> None:
    error = DumpFormatError("p", 3, "a record", "x\x1b[31m\u202e" + "y" * 200)
    assert str(error).startswith('p:3: expected a record, found "x\\x1b[31m\\u202e')
    assert str(error).endswith('..."')
    assert "'" not in str(error)
    import pickle

    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error)
    assert again.quote is True


def test_bench_compare_escapes_what_the_results_hold(tmp_path: Path) -> None:
    hostile = bench_result()
    hostile["label"] = "run" + ESCAPES
    hostile["cpu"].update(vendor=ESCAPES, brand=ESCAPES)
    hostile["hypervisor"].update(vendor="kvm" + ESCAPES, product=ESCAPES)
    hostile["machine"].update(arch=ESCAPES)
    path = tmp_path / f"r{ESCAPES.replace(chr(0), '')}.json"
    path.write_text(json.dumps(hostile))
    code, out = run(["bench", "compare", str(path)])
    assert code == EXIT_OK
    assert "\\x1b" in out  # shown, escaped
    assert no_control(out)


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="no pseudo-terminals here")
def test_from_dash_refuses_a_terminal_instead_of_waiting() -> None:
    import pty

    leader, follower = pty.openpty()
    try:
        started = time.monotonic()
        proc = run_cli("--from", "-", stdin=follower, timeout=30)
    finally:
        os.close(follower)
        os.close(leader)
    assert time.monotonic() - started < 20
    assert proc.returncode == EXIT_BAD_INPUT
    assert proc.stderr == (b"nestprobe: error: <stdin>: expected a dump piped to standard input "
                           b"(--from - reads a pipe or file), found a terminal\n")
