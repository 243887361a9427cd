"""``nestprobe fleet``: every corpus dump and JSON report becomes one machine whose record is
its own report's; bad inputs are listed with why and never stop the run; CSV and JSON lines
are as documented; --require sets the exit status; workers change nothing but speed."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, every_dump
from test_schema import VALIDATOR

import nestprobe
from nestprobe.cli import main
from nestprobe.fleet.inputs import Input, collect, iter_inputs
from nestprobe.fleet.pool import assess_all
from nestprobe.fleet.record import FLEET_KEYS
from nestprobe.fleet.render import CSV_COLUMNS
from nestprobe.model.contract import EXIT_BAD_INPUT, EXIT_BLOCKED, EXIT_OK, EXIT_USAGE
from nestprobe.model.verdicts import SCENARIOS, STATUSES
from nestprobe.output.jsonreport import SCHEMA_VERSION, render_json, report_to_dict

#: The corpus dumps, or in a clone without ../shared the repository's snapshots of them.
CORPUS_FILES = every_dump()


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = main(argv, out=out)
    return code, out.getvalue()


def stem(path: Path) -> str:
    return path.name.removesuffix(".txt").removesuffix(".dump")


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_corpus_counts_are_the_reports_counts(dumps: Path) -> None:
    code, table = run(["fleet", str(dumps)])
    assert code == EXIT_OK
    reports = [nestprobe.load(str(p)) for p in CORPUS_FILES]
    assert table.startswith(f"nestprobe fleet: {len(reports)} machines assessed\n")
    rows = {line.split()[0]: line.split()[1:] for line in table.splitlines()[3:8]}
    for scenario in SCENARIOS:
        counts = Counter(r.verdicts[scenario].status for r in reports)
        assert rows[scenario] == [str(counts[s]) for s in STATUSES], scenario
    assert "Could not read" not in table


def test_fixes_are_grouped_with_their_machines(dumps: Path) -> None:
    code, table = run(["fleet", str(dumps), "--names", "0"])
    assert code == EXIT_OK
    expected: dict[tuple[str, str, tuple[str, ...]], set[str]] = {}
    for path in CORPUS_FILES:
        for verdict in nestprobe.load(str(path)).verdicts:
            for fix in verdict.remediation:
                expected.setdefault((fix.layer, fix.where, fix.steps), set()).add(stem(path))
    blocks = table.split("\n\n")
    for (layer, where, steps), machines in expected.items():
        [block] = [b for b in blocks if b.strip().startswith(f"[{layer}] {where[:40]}")
                   and steps[0][:40] in b.replace("\n      | ", " ")]
        flat = " ".join(line.strip() for line in block.splitlines())
        assert f"{len(machines)} machine" in flat
        listed = re.search(r"\d+ machines?: (.*?) \|", flat)
        assert listed is not None
        assert set(listed.group(1).split(", ")) == machines
    # Layers in order: the outer hypervisor's fixes come before this OS's.
    layers = [b.strip().split("]")[0][1:] for b in blocks if b.strip().startswith("[")]
    from nestprobe.model.verdicts import LAYERS

    assert layers == sorted(layers, key=LAYERS.index)


def test_jsonl_records_are_the_json_reports(dumps: Path) -> None:
    code, text = run(["fleet", str(dumps), "--format", "jsonl"])
    assert code == EXIT_OK
    records = jsonl(text)
    assert [r["machine"] for r in records] == [stem(p) for p in CORPUS_FILES]
    for record, path in zip(records, CORPUS_FILES, strict=True):
        assert list(record)[:3] == list(FLEET_KEYS)
        assert record["input"] == str(path)
        report = {k: v for k, v in record.items() if k not in FLEET_KEYS}
        VALIDATOR.validate(report)
        assert report == json.loads(render_json(nestprobe.load(str(path))))


def test_csv_rows_are_the_documented_columns(dumps: Path) -> None:
    code, text = run(["fleet", str(dumps), "--format", "csv"])
    assert code == EXIT_OK
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == len(CORPUS_FILES)
    for row, path in zip(rows, CORPUS_FILES, strict=True):
        report = report_to_dict(nestprobe.load(str(path)))
        assert row["machine"] == stem(path)
        assert row["error"] == ""
        assert row["answer"] == report["answer"]
        assert row["source"] == report["source"]["format"]
        for scenario in SCENARIOS:
            assert row[scenario] == report["verdicts"][scenario]["status"]
        exposed = report["virtualization"]["exposed"]
        assert row["hwvirt_exposed"] == {True: "true", False: "false", None: ""}[exposed]
        level = report["nesting"]["level"]
        assert row["nesting_level"] == ("" if level is None else str(level))
        layers = {f["layer"] for v in report["verdicts"].values() for f in v["remediation"]}
        assert set(row["fix_layers"].split()) == layers


def test_readme_documents_every_csv_column() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("**CSV columns**", 1)[1].split("\n### ", 1)[0]
    documented = re.findall(r"^\| `([a-z0-9_-]+)` \|", section, re.MULTILINE)
    assert tuple(documented) == CSV_COLUMNS


def test_a_json_report_is_the_same_machine_as_its_dump(tmp_path: Path) -> None:
    """`nestprobe --json` files (UTF-8, or UTF-16 as PowerShell's `>` writes them) read like
    the dumps they were made from."""
    dumps, reports = tmp_path / "dumps", tmp_path / "reports"
    dumps.mkdir()
    reports.mkdir()
    for n, path in enumerate(CORPUS_FILES[:12]):
        shutil.copy(path, dumps / f"m{n}.dump")
        text = render_json(nestprobe.load(str(path))) + "\n"
        data = codecs.BOM_UTF16_LE + text.encode("utf-16-le") if n % 2 else text.encode()
        (reports / f"m{n}.json").write_bytes(data)
    _, from_dumps = run(["fleet", str(dumps), "--format", "csv"])
    _, from_reports = run(["fleet", str(reports), "--format", "csv"])
    rows_d = [r for r in csv.DictReader(io.StringIO(from_dumps)) if r.pop("input")]
    rows_r = [r for r in csv.DictReader(io.StringIO(from_reports)) if r.pop("input")]
    assert len(rows_d) == 12
    assert rows_d == rows_r


BAD_INPUTS: dict[str, bytes] = {
    "garbage.txt": b"this is not a dump\n",
    "empty.dump": b"",
    "binary.dump": bytes(range(256)) * 4,
    "truncated.dump": b"nestprobe-dump 1\nmachine x86_64\nsystem Linux\ncpuid-status ok\n",
    "not-a-report.json": b'{"hello": "world"}\n',
    # a report from a newer nestprobe
    "future.json": json.dumps({"schema_version": SCHEMA_VERSION + 1}).encode(),
    "broken.json": b'{"schema_version": 1, \n',
    "nan.json": b'{"schema_version": NaN}\n',
    "list.json": b"[1, 2, 3]\n",
    "deep.json": b"{" + b'"a":[' * 100_000 + b"]" * 100_000 + b"}",
}


def test_bad_inputs_are_listed_and_never_stop_the_run(tmp_path: Path) -> None:
    for name, data in BAD_INPUTS.items():
        (tmp_path / name).write_bytes(data)
    good = tmp_path / "good.dump"
    shutil.copy(CORPUS_FILES[0], good)
    # A report whose verdict lacks a status: shaped like a report, but not one.
    report = report_to_dict(nestprobe.load(str(good)))
    del report["verdicts"]["wsl2"]["status"]
    (tmp_path / "tampered.json").write_text(json.dumps(report))
    missing = tmp_path / "no-such-dir"
    code, table = run(["fleet", str(tmp_path), str(missing), "--format", "table"])
    assert code == EXIT_OK
    assert table.startswith("nestprobe fleet: 1 machine assessed, 12 inputs unreadable\n")
    unread = table.split("Could not read (12):\n", 1)[1]
    for name in [*BAD_INPUTS, "tampered.json", "no-such-dir"]:
        assert str(tmp_path / name) in unread, name
    assert "verdicts.wsl2: expected the key 'status'" in unread
    assert f"schema_version: expected {SCHEMA_VERSION}, found {SCHEMA_VERSION + 1}" in unread
    code, text = run(["fleet", str(tmp_path), "--format", "jsonl"])
    errors = {r["machine"]: r["error"] for r in jsonl(text) if "error" in r}
    assert set(errors) == {n.rsplit(".", 1)[0] for n in [*BAD_INPUTS, "tampered.json"]}
    assert all(error.startswith(str(tmp_path)) for error in errors.values())


def test_nothing_readable_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "garbage.txt").write_text("nope\n")
    assert run(["fleet", str(tmp_path)])[0] == EXIT_BAD_INPUT
    assert "no input could be read" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(["fleet", str(empty)])[0] == EXIT_BAD_INPUT
    assert "no input files" in capsys.readouterr().err


def test_require(dumps: Path, capsys: pytest.CaptureFixture[str]) -> None:
    statuses = {stem(p): nestprobe.load(str(p)).verdicts["wsl2"].status for p in CORPUS_FILES}
    code, table = run(["fleet", str(dumps), "--require", "wsl2=supported",
                       "--names", "0"])
    short = sorted(m for m, s in statuses.items() if s != "supported")
    assert short  # the corpus has machines that cannot run WSL2
    assert code == EXIT_BLOCKED
    assert f"wsl2=supported: {len(short)} machines fall short: {', '.join(short)}" in \
        " ".join(line.strip() for line in table.splitlines())
    assert f"{len(short)} of {len(statuses)} machines fall short" in capsys.readouterr().err
    every = ",".join(STATUSES)
    assert run(["fleet", str(dumps), "--require", f"wsl2={every}"])[0] == EXIT_OK
    # An unreadable input proves nothing: it falls short of any requirement.
    code, _ = run(["fleet", str(dumps), "/nonexistent", "--require", f"wsl2={every}"])
    assert code == EXIT_BLOCKED


@pytest.mark.parametrize("bad", ["wsl2", "wsl3=supported", "wsl2=maybe", "wsl2=", "=supported"])
def test_bad_requirement_is_a_usage_error(bad: str, dumps: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["fleet", str(dumps), "--require", bad])[0] == EXIT_USAGE
    assert "--require" in capsys.readouterr().err


def test_machine_names(tmp_path: Path) -> None:
    for rel in ["dc1/web-01.dump", "dc2/web-01.dump", "dc1/db.json", "dc1/.hidden.dump",
                ".git/config", "single.txt", "x.dump", "x.json"]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")
    inputs, missing = collect([str(tmp_path), str(tmp_path / "dc1" / "db.json"), "/nope"])
    names = {Path(i.path).relative_to(tmp_path).as_posix(): i.machine for i in inputs}
    assert names == {
        "dc1/web-01.dump": "dc1/web-01",
        "dc2/web-01.dump": "dc2/web-01",
        "dc1/db.json": "dc1/db",  # given twice (directory and file), read once
        "single.txt": "single",
        "x.dump": str(tmp_path / "x.dump"),  # x.dump and x.json would both be "x"
        "x.json": str(tmp_path / "x.json"),
    }
    assert [m.path for m in missing] == ["/nope"]


def test_inputs_are_taken_as_they_are_met(tmp_path: Path) -> None:
    """A directory is read while it is walked: the first input comes before the rest of the
    tree is listed (a directory removed meanwhile is listed as unreadable, its files never
    met)."""
    for rel in ["a/web-01.dump", "b/web-02.dump"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x\n")
    stream = iter_inputs([str(tmp_path)])
    first = next(stream)
    assert isinstance(first, Input)
    assert first.machine == "a/web-01"
    shutil.rmtree(tmp_path / "b")
    assert [(type(item).__name__, item.path) for item in stream] == [
        ("Missing", str(tmp_path / "b"))]


def test_a_file_is_read_once_under_its_own_name(tmp_path: Path) -> None:
    """A link met before the file it points to does not take the file's name; a file PATH
    given before the directory holding it keeps its own; names that repeat across PATHs
    name the later input by its path."""
    (tmp_path / "dc1").mkdir()
    (tmp_path / "dc1" / "b.dump").write_text("x\n")
    (tmp_path / "dc1" / "a.dump").symlink_to(tmp_path / "dc1" / "b.dump")
    inputs, missing = collect([str(tmp_path)])
    assert [(i.path, i.machine) for i in inputs] == [(str(tmp_path / "dc1" / "b.dump"), "dc1/b")]
    assert missing == []
    inputs, _ = collect([str(tmp_path / "dc1" / "b.dump"), str(tmp_path)])
    assert [i.machine for i in inputs] == ["b"]
    (tmp_path / "dc2").mkdir()
    (tmp_path / "dc2" / "b.dump").write_text("x\n")
    inputs, _ = collect([str(tmp_path / "dc1"), str(tmp_path / "dc2")])
    assert [i.machine for i in inputs] == ["b", str(tmp_path / "dc2" / "b.dump")]


def test_the_summary_names_what_the_output_shows(dumps: Path) -> None:
    """The summary counts every machine but keeps only the names an output shows: a run of
    any size holds at most ``keep`` names per fix and per requirement."""
    from nestprobe.fleet.record import machine_from_report
    from nestprobe.fleet.render import render_table
    from nestprobe.fleet.require import parse_requirement
    from nestprobe.fleet.summary import Summary

    report = next(r for r in map(nestprobe.load, map(str, CORPUS_FILES))
                  if any(v.remediation for v in r.verdicts))
    never = parse_requirement("wsl2=supported")
    summary = Summary((never,), keep=2)
    for n in range(5):
        summary.add(machine_from_report(report, f"m{n}", f"m{n}.dump"))
    group = summary.ordered_groups()[0]
    assert (group.machines.count, group.machines.names) == (5, ["m0", "m1"])
    if report.verdicts["wsl2"].status != "supported":
        assert (summary.short[never].count, summary.short[never].names) == (5, ["m0", "m1"])
    assert "5 machines: m0, m1, ... and 3 more (--names 0 lists all)" in render_table(summary, 2)


def test_hostname_recorded_in_a_dump(tmp_path: Path) -> None:
    text = CORPUS_FILES[0].read_text()
    snapshot = nestprobe.load(str(CORPUS_FILES[0])).snapshot
    from nestprobe.model.record import replace
    from nestprobe.model.snapshot import FileFact
    from nestprobe.sources.dumpfile import format_dump

    files = {**snapshot.os.files, "/proc/sys/kernel/hostname": FileFact("ok", "web-01.lan\n")}
    dump = format_dump(replace(snapshot, os=replace(snapshot.os, files=files)))
    (tmp_path / "inventory-name.dump").write_text(dump)
    (tmp_path / "plain.dump").write_text(text)
    _, out = run(["fleet", str(tmp_path), "--format", "csv"])
    rows = {r["machine"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["inventory-name"]["hostname"] == "web-01.lan"
    assert rows["plain"]["hostname"] == ""


def _replicated(tmp: Path, copies: int) -> list[Input]:
    inputs = []
    for n in range(copies):
        source = CORPUS_FILES[n % len(CORPUS_FILES)]
        path = tmp / f"m{n:05}.txt"
        os.link(source, path) if n >= len(CORPUS_FILES) else shutil.copy(source, path)
        inputs.append(Input(str(path), f"m{n:05}"))
    (tmp / "bad.txt").write_text("bad\n")
    return [*inputs, Input(str(tmp / "bad.txt"), "bad")]


def test_workers_change_nothing_but_speed(tmp_path: Path, dumps: Path) -> None:
    inputs = _replicated(tmp_path, 3 * len(CORPUS_FILES))
    serial = list(assess_all(inputs, keep_line=True, workers=1))
    parallel = list(assess_all(inputs, keep_line=True, workers=2))
    assert parallel == serial
    assert [r.machine for r in parallel] == [i.machine for i in inputs]


def test_output_file_is_written_whole(tmp_path: Path, dumps: Path) -> None:
    target = tmp_path / "out" / "fleet.prom"
    target.parent.mkdir()
    code, stdout = run(["fleet", str(dumps), "--format", "prometheus",
                        "--output", str(target)])
    assert code == EXIT_OK
    assert stdout == ""
    assert target.read_text().startswith("# HELP nestprobe_verdict ")
    if sys.platform != "win32":  # Windows has no permission bits to compare
        assert target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["fleet.prom"]  # no temporary left
    nowhere = tmp_path / "no-such-dir" / "fleet.prom"
    assert run(["fleet", str(dumps), "--output", str(nowhere)])[0] == EXIT_USAGE


def _fleet_on_a_terminal(args: list[str], timeout: float = 120) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal and stdout on a pipe."""
    import fcntl  # POSIX terminals: the caller skips on Windows
    import pty
    import select
    import struct
    import termios

    master, slave = pty.openpty()
    # A real terminal has a size; a fresh pty is 0x0, where tqdm draws a bar 0 columns wide.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "nestprobe", "fleet", *args],
                            stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    seen = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    stdout = proc.communicate(timeout=timeout)[0]
    os.close(master)
    return proc.returncode, stdout.decode(), seen.decode(errors="replace")


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal is POSIX (pty, termios)")
def test_progress_on_a_terminal_only(tmp_path: Path, dumps: Path) -> None:
    """Enough machines to take more than a second: the bar shows on the terminal (stderr),
    and stdout, piped, holds the table alone."""
    pytest.importorskip("tqdm", reason="tqdm is the optional progress bar (test extra)")
    _replicated(tmp_path, 800)
    start = time.monotonic()
    code, stdout, terminal = _fleet_on_a_terminal([str(tmp_path), "--jobs", "1"])
    took = time.monotonic() - start
    assert code == EXIT_OK
    assert stdout.startswith("nestprobe fleet: 800 machines assessed, 1 input unreadable\n")
    assert "\r" not in stdout
    assert "machine/s" not in stdout
    if took > 2:  # only a run that lasted past tqdm's one-second delay shows the bar
        assert "nestprobe fleet:" in terminal, terminal[-500:]
        assert re.search(r"\d+/801 ", terminal), terminal[-500:]
    piped = subprocess.run([sys.executable, "-m", "nestprobe", "fleet", str(tmp_path)],
                           capture_output=True, text=True, timeout=120, check=False)
    assert piped.returncode == EXIT_OK
    assert piped.stderr == ""
    assert piped.stdout == stdout


def test_fleet_imports_tqdm_only_when_it_runs() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, nestprobe.cli as c; c.main(['--version']);"
         "import nestprobe; nestprobe.load(sys.argv[1]);"
         "print('tqdm' in sys.modules)", str(CORPUS_FILES[0])],
        capture_output=True, text=True, timeout=60, check=True)
    assert probe.stdout.strip().endswith("False")



@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads a chmod-000 directory (tests/cli/test_contract_table.py "
                    "checks the same case by refusing the listing)")
def test_a_directory_nobody_may_read_is_listed_and_fails_require(tmp_path: Path) -> None:
    from hostile import own_dump, snapshot

    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "web-01.dump").write_text(own_dump(snapshot()))
    (tmp_path / "web-02.dump").write_text(own_dump(snapshot()))
    blocked.chmod(0)
    try:
        code, table = run(["fleet", str(tmp_path), "--require",
                           "hyperv=" + ",".join(STATUSES)])
    finally:
        blocked.chmod(0o755)
    assert code == EXIT_BLOCKED
    assert "a directory that cannot be read: permission denied" in " ".join(table.split())
