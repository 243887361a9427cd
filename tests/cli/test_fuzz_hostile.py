"""Fuzz targets for the hostile-input classes of issue 11: non-finite numbers, short hex
values, control characters in every text field, FIFOs and special files as paths; and of
issue 22: fleet trees (special files, links, hostile names, JSON reports), JSON report
inputs, and every output format.

``HYPOTHESIS_PROFILE=fuzz python -m pytest -k fuzz`` runs them long; the default
profile (``quick``) runs each a hundred times.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from importlib import resources
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import jsonschema
import pytest
from fleet_hostile import (
    HOSTILE_NAMES,
    csv_rows,
    good_dump,
    hostile_report,
    prometheus_series,
    strict_lines,
)
from fuzz_inputs import INPUT_KINDS, made_input
from hostile import (
    LATENCY,
    hostile_snapshot,
    latency_json,
    no_control,
    own_dump,
    with_latency_payload,
)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nestprobe.model.errors import DumpFormatError
from nestprobe.model.snapshot import Snapshot
from nestprobe.model.verdicts import STATUSES
from nestprobe.output.answer import answer
from nestprobe.output.jsonreport import render_json, report_to_dict
from nestprobe.output.text import SCREEN_ROWS, render_text, render_verbose, rows
from nestprobe.pipeline import build_report
from nestprobe.sources.inputfile import read_input
from nestprobe.sources.load import load_snapshot, parse_snapshot

VALIDATOR = jsonschema.Draft202012Validator(json.loads(
    resources.files("nestprobe.output").joinpath("report.schema.json").read_text()))
#: No input may take longer than this to be read or refused.
DEADLINE_S = 10


@contextmanager
def deadline(seconds: int = DEADLINE_S) -> Iterator[None]:
    """Fail (instead of hanging the suite) when the body blocks."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"blocked for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _outcome(call: Callable[[], object]) -> object:
    """What ``call`` returns, or the DumpFormatError it raises (anything else fails)."""
    try:
        return call()
    except DumpFormatError as exc:
        return exc


def _strict_json(text: str) -> object:
    def refuse(name: str) -> None:
        raise AssertionError(f"non-standard JSON: {name}")

    return json.loads(text, parse_constant=refuse)


# ------------------------------------------------------------------ FIFOs and special files


#: Fleet trees and output names built of raw bytes, FIFOs and sockets are POSIX's: Windows
#: file names are UTF-16 and it has no special files of these kinds.
POSIX_NAMES = pytest.mark.skipif(sys.platform == "win32",
                                 reason="byte file names, FIFOs and sockets are POSIX's")


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(kind=st.sampled_from(INPUT_KINDS), data=st.binary(max_size=3000),
       bench=st.booleans())
def test_fuzz_any_path_is_read_or_refused_never_blocks(kind: str, data: bytes,
                                                        bench: bool) -> None:
    with TemporaryDirectory() as tmp, made_input(kind, Path(tmp), data) as path:
        if path is None:
            return
        with deadline():
            outcome = _outcome(lambda: read_input(path, what="a bench result") if bench
                               else load_snapshot(path))
        if isinstance(outcome, DumpFormatError):
            assert no_control(str(outcome))
            assert "b'" not in str(outcome)
        else:
            assert isinstance(outcome, bytes if bench else Snapshot)


# ------------------------------------------------------------------ non-finite numbers

_RAW_NUMBERS = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "-0.0",
                                "1E309", "-5", "0", "1e-400", "18446744073709551616"])
_NUMBERS = st.one_of(st.floats(), st.integers(-(2**70), 2**70), _RAW_NUMBERS.map(str))
_FIELDS = [name for name, value in LATENCY.to_dict().items() if not isinstance(value, str)]


@given(changes=st.dictionaries(st.sampled_from(_FIELDS), _NUMBERS, min_size=1, max_size=4))
def test_fuzz_non_finite_latency_numbers(changes: dict[str, object]) -> None:
    payload = latency_json(**changes)  # json.dumps writes NaN/Infinity for non-finite floats
    snap = _outcome(lambda: parse_snapshot(with_latency_payload(payload), "fuzz"))
    if isinstance(snap, DumpFormatError):
        assert snap.path == "fuzz"
        return
    assert isinstance(snap, Snapshot)
    assert snap.latency is not None
    assert snap.latency.problem() == ""
    _strict_json(render_json(build_report(snap)))


# ------------------------------------------------------------------ short hex values

_HEX_WIDTH = st.integers(1, 10)


@given(widths=st.lists(_HEX_WIDTH, min_size=6, max_size=6), value=st.integers(0, 2**32 - 1),
       own=st.booleans())
def test_fuzz_hex_values_of_the_wrong_width_are_malformed(widths: list[int], value: int,
                                                          own: bool) -> None:
    def hexa(width: int) -> str:
        return "0x" + f"{value:0{width}x}"[-width:]

    leaf, sub, eax, ebx, ecx, edx = (hexa(w) for w in widths)
    if own:
        lines = own_dump().splitlines()
        record = f"cpuid {leaf} {sub} eax={eax} ebx={ebx} ecx={ecx} edx={edx}"
        text = "\n".join([*lines[:4], record, *lines[4:]]) + "\n"
        valid = all(w == 8 for w in widths)
    else:
        text = (f"CPU 0:\n   0x00000000 0x00: eax=0x00000001 ebx=0x756e6547 ecx=0x6c65746e "
                f"edx=0x49656e69\n   {leaf} {sub}: eax={eax} ebx={ebx} ecx={ecx} edx={edx}\n")
        valid = widths[0] == 8 and 2 <= widths[1] <= 8 and all(w == 8 for w in widths[2:])
    outcome = _outcome(lambda: parse_snapshot(text, "fuzz"))
    if isinstance(outcome, DumpFormatError):
        # A well-formed record may still repeat an earlier leaf with other registers.
        repeats = "one record per" in outcome.expected or "same registers" in outcome.expected
        assert not valid or repeats, outcome
    else:
        assert valid, text


# ------------------------------------------------------------------ control characters

_CONTROL_TEXT = st.one_of(
    st.text(st.characters(max_codepoint=0x9F), min_size=1),
    st.text(min_size=1),
    st.binary(min_size=1).map(lambda b: b.decode("utf-8", errors="surrogateescape")),
    st.sampled_from(["\x1b[2J", "\x1b]0;t\x07", "\r", "\u202e", "\x9b31m", "\x00", "\n\n"]),
)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(text=_CONTROL_TEXT, width=st.integers(60, 100))
def test_fuzz_control_characters_in_every_text_field(text: str, width: int) -> None:
    snap = parse_snapshot(own_dump(hostile_snapshot(text)), "fuzz")  # through a dump
    report = build_report(snap)
    default = render_text(report, width=width)
    assert rows(default.splitlines(), width) <= SCREEN_ROWS
    for rendered in (default, render_verbose(report), answer(report)):
        assert no_control(rendered)
    data = render_json(report)
    assert data.isascii()
    parsed = _strict_json(data)
    assert isinstance(parsed, dict)
    VALIDATOR.validate(parsed)
    assert no_control(str(parsed["answer"]))


def test_deadline_catches_a_block() -> None:
    """The watchdog the path fuzzing relies on does fire."""
    if not hasattr(signal, "SIGALRM") or sys.platform == "win32":
        pytest.skip("no SIGALRM here")
    import time

    try:
        with deadline(1):
            time.sleep(3)
    except TimeoutError:
        return
    raise AssertionError("deadline did not fire")


# ------------------------------------------------------------------ fleet inputs (issue 22)

#: One entry of a generated results tree: what it is, and its name's bytes.
_ENTRY_KINDS = ("dump", "hostile-dump", "garbage", "report", "lying-report", "bad-report",
                "fifo", "socket", "dir-link", "loop-link", "dangling", "dev-link", "subdir")
_NAME_BYTES = st.one_of(
    st.binary(min_size=1, max_size=12),
    st.sampled_from(HOSTILE_NAMES),
    st.text(min_size=1, max_size=8).map(lambda t: t.encode("utf-8", "surrogatepass")),
).map(lambda b: b.replace(b"/", b"_").replace(b"\x00", b"_").lstrip(b".") or b"x")
_REPORT_MUTATIONS = st.sampled_from([
    ("timing.cpuid_ticks", "1e999"), ("timing.tsc_hz", "-2.5e9"), ("nesting.at_least", "-1"),
    ("nesting.at_least", "1" + "0" * 400), ("nesting.level", '"two"'), ("answer", "NaN"),
    ("source.cpu", "true"), ("cpu.vendor", "[" * 2000 + "]" * 2000), ("extra", "1"),
])


def _report_text(kind: str, mutation: tuple[str, str], text: str) -> str:
    if kind == "report":
        return json.dumps(report_to_dict(build_report(hostile_snapshot(text))), sort_keys=True)
    if kind == "lying-report":
        return json.dumps(hostile_report(text))
    path, token = mutation
    data = report_to_dict(build_report(hostile_snapshot(text)))
    *parents, last = path.split(".")
    target = data
    for key in parents:
        target = target.setdefault(key, {}) if target.get(key) is not None else {}
    target[last] = "@@mutated@@"
    return json.dumps(data).replace('"@@mutated@@"', token)


def _make_entry(root: Path, kind: str, name: bytes, *, text: str,
                mutation: tuple[str, str], stack: ExitStack) -> None:
    path = os.path.join(os.fsencode(root), name + (b".json" if "report" in kind else b".dump"))
    if os.path.lexists(path):
        return
    if kind in ("dump", "hostile-dump", "garbage") or "report" in kind:
        data = {"dump": good_dump(), "hostile-dump": good_dump(text or "x"),
                "garbage": text or "x"}.get(kind) or _report_text(kind, mutation, text)
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as stream:
            stream.write(data)
    elif kind == "fifo" and hasattr(os, "mkfifo"):
        os.mkfifo(path)
        writer = os.open(path, os.O_RDWR | os.O_NONBLOCK)  # connected, silent
        stack.callback(os.close, writer)
    elif kind == "socket" and hasattr(socket, "AF_UNIX") and len(path) < 100:
        sock = socket.socket(socket.AF_UNIX)
        stack.callback(sock.close)
        sock.bind(path)
    elif kind == "dir-link":
        os.symlink(os.fsencode(root.parent / "elsewhere"), path)
    elif kind == "loop-link":
        os.symlink(os.fsencode(root), path)
    elif kind == "dangling":
        os.symlink(b"/nonexistent/nothing", path)
    elif kind == "dev-link":
        os.symlink(b"/dev/zero", path)
    elif kind == "subdir":
        os.mkdir(path)
        with open(os.path.join(path, b"inner.dump"), "w", encoding="utf-8") as stream:
            stream.write(good_dump())


_ENTRIES = st.lists(st.tuples(st.sampled_from(_ENTRY_KINDS), _NAME_BYTES), min_size=1,
                    max_size=6)


def _lists_unread(fmt: str, text: str) -> bool:
    if fmt == "table":
        return "unreadable" in text.split("\n", 1)[0]
    if fmt == "csv":
        rows = csv_rows(text)
        return any(row[rows[0].index("error")] for row in rows[1:])
    if fmt == "jsonl":
        return any("error" in record for record in strict_lines(text))
    return "nestprobe_input_unreadable{" in text


def _check_fleet_output(fmt: str, text: str, code: int) -> None:
    assert code in (0, 1, 6)
    assert no_control(text)
    if fmt == "csv":
        rows = csv_rows(text)
        assert all(len(row) == len(rows[0]) for row in rows)
        for row in rows[1:]:
            assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), row
    elif fmt == "jsonl":
        for record in strict_lines(text):
            assert record["machine"]
        assert text.isascii()
    elif fmt == "prometheus":
        series = prometheus_series(text)
        assert len(series) == len(set(series)), "duplicate series"


@POSIX_NAMES
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
          deadline=None)
@given(entries=_ENTRIES, text=_CONTROL_TEXT, mutation=_REPORT_MUTATIONS,
       fmt=st.sampled_from(["table", "csv", "jsonl", "prometheus"]),
       require=st.booleans())
# Found by the 20,000-example run: a FIFO listed under its escaped path took the name an
# input already had (m\xff.dump holds a backslash; m<0xff>.dump an undecodable byte).
@example(entries=[("garbage", b"m\\xff"), ("report", b"m\xff"), ("fifo", b"m\xff")],
         text="0", mutation=("timing.cpuid_ticks", "1e999"), fmt="prometheus", require=False)
def test_fuzz_fleet_trees_with_special_files_and_hostile_names(
    entries: list[tuple[str, bytes]], text: str, mutation: tuple[str, str], fmt: str,
    require: bool,
) -> None:
    """Any tree of dumps, JSON reports (valid, lying, malformed), FIFOs with a silent writer,
    sockets, links (to directories, loops, devices, nowhere) under any names: the run ends
    within the deadline, every output format stays well-formed and escaped, and with
    --require every unread input fails it."""
    import io as _io

    from nestprobe.cli import main

    with TemporaryDirectory() as tmp, ExitStack() as stack:
        base = Path(tmp)
        (base / "elsewhere").mkdir()
        (base / "elsewhere" / "linked.dump").write_text(good_dump())
        root = base / "results"
        root.mkdir()
        for kind, name in entries:
            _make_entry(root, kind, name, text=text, mutation=mutation, stack=stack)
        argv = ["fleet", str(root), "--format", fmt, "--names", "0"]
        if require:
            argv += ["--require", "hyperv=" + ",".join(STATUSES)]
        out = _io.StringIO()
        with deadline():
            code = main(argv, out=out)
        _check_fleet_output(fmt, out.getvalue(), code)
        if require and _lists_unread(fmt, out.getvalue()):
            assert code in (1, 6)  # an input that proves nothing fails the requirement


# ------------------------------------------------------------------ JSON report inputs


_JSON_TOKENS = st.sampled_from(["NaN", "Infinity", "-1", "1e999", "-1e999", "1" + "0" * 30,
                                "true", "null", '"text"', "[]", "{}", "0.5", '"\\u001b[2J"',
                                '"\\udcff"', "18446744073709551616", "-0.0"])


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(text=_CONTROL_TEXT, picks=st.lists(st.integers(0, 10_000), min_size=1, max_size=4),
       tokens=st.lists(_JSON_TOKENS, min_size=4, max_size=4), drop=st.booleans(),
       sort=st.booleans())
def test_fuzz_json_report_inputs_are_read_strictly(
    text: str, picks: list[int], tokens: list[str], drop: bool, sort: bool
) -> None:
    """A report with any of its values replaced by a hostile token (or a key dropped) is
    either the same kind of Report back (and then renders as valid, standard JSON) or a
    ReportFormatError/StrictJsonError: never another exception, never Infinity out."""
    from nestprobe.model.report import Report, ReportFormatError
    from nestprobe.model.strictjson import StrictJsonError, loads

    data = report_to_dict(build_report(hostile_snapshot(text)))
    leaves: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in list(items):
            if isinstance(value, dict | list) and value:
                walk(value)
            else:
                leaves.append((node, key))

    walk(data)
    for n, pick in enumerate(picks):
        node, key = leaves[pick % len(leaves)]
        if drop and n == 0 and isinstance(node, dict):
            del node[key]
        else:
            node[key] = f"@@{n}@@"
    raw = json.dumps(data, sort_keys=sort)
    for n, token in enumerate(tokens):
        raw = raw.replace(f'"@@{n}@@"', token)
    try:
        report = Report.from_dict(loads(raw))
    except (ReportFormatError, StrictJsonError):
        return  # refused in words (a DumpFormatError, escaped, when fleet reads the file)
    rendered = render_json(report)
    VALIDATOR.validate(_strict_json(rendered))
    assert Report.from_dict(loads(rendered)) == report


# ------------------------------------------------------------------ every output format


@POSIX_NAMES
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(text=_CONTROL_TEXT, name=_NAME_BYTES, width=st.integers(60, 100))
def test_fuzz_every_output_format_is_escaped_and_well_formed(text: str, name: bytes,
                                                             width: int) -> None:
    """The report's text, verbose, JSON and Prometheus renderings and the fleet's table,
    CSV, JSON lines and Prometheus of a machine with hostile text in every field and a
    hostile file name."""
    from nestprobe.fleet.inputs import machine_name
    from nestprobe.fleet.record import machine_from_report
    from nestprobe.fleet.render import WRITERS
    from nestprobe.fleet.summary import Summary
    from nestprobe.model.safetext import escape
    from nestprobe.output.prometheus import metrics_from_report, render_prometheus

    report = build_report(parse_snapshot(own_dump(hostile_snapshot(text)), "fuzz"))
    for rendered in (render_text(report, width=width), render_verbose(report)):
        assert no_control(rendered)
    VALIDATOR.validate(_strict_json(render_json(report)))
    single = render_prometheus([metrics_from_report(report)])
    assert len(prometheus_series(single)) == len(set(prometheus_series(single)))
    path = os.fsdecode(name)
    machine = machine_from_report(report, escape(machine_name(path)), path, keep_line=True)
    for fmt, writer_of in WRITERS.items():
        import io as _io

        out = _io.StringIO()
        writer = writer_of(out, 0)
        summary = Summary(())
        summary.add(machine)
        writer.add(machine)
        writer.finish(summary)
        _check_fleet_output(fmt, out.getvalue(), 0)


# ------------------------------------------------------------------ the proof record

_PROOF_DUMP = (Path(__file__).resolve().parents[1] / "fixtures" / "proof"
               / "lab-l1-tcg-kvm-amd.dump").read_text()
_PROOF_LINE = next(x for x in _PROOF_DUMP.splitlines() if x.startswith("proof "))
_PROOF = json.loads(_PROOF_LINE[len("proof "):])
_JUNK = st.one_of(
    _NUMBERS, st.text(max_size=20), st.booleans(), st.none(),
    st.lists(st.one_of(st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=3)),
             max_size=5000),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(changes=st.dictionaries(st.sampled_from([*_PROOF, "extra"]), _JUNK, max_size=5),
       drop=st.lists(st.sampled_from(list(_PROOF)), max_size=3),
       raw=st.sampled_from(["", "NaN", "1e400", "[" * 3000, "{}", '"x"', "-0"]))
def test_fuzz_proof_record(changes: dict[str, object], drop: list[str], raw: str) -> None:
    data = {k: v for k, v in (_PROOF | changes).items() if k not in drop}
    payload = json.dumps(data)
    if raw and "exits" in data:
        payload = payload.replace(f'"exits": {json.dumps(data["exits"])}', f'"exits": {raw}', 1)
    text = _PROOF_DUMP.replace(_PROOF_LINE, f"proof {payload}")
    with deadline():
        snap = _outcome(lambda: parse_snapshot(text, "fuzz"))
    if isinstance(snap, DumpFormatError):
        assert snap.path == "fuzz"
        return
    assert isinstance(snap, Snapshot)
    assert snap.proof is not None
    report = build_report(snap)
    rendered = _strict_json(render_json(report))
    VALIDATOR.validate(rendered)
    assert no_control(render_text(report))
