"""Fuzz targets for the hostile-input classes of issue 11: non-finite numbers, short hex
values, control characters in every text field, FIFOs and special files as paths.

``HYPOTHESIS_PROFILE=fuzz python -m pytest -k fuzz`` runs them long; the default
profile (``quick``) runs each a hundred times.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from tempfile import TemporaryDirectory

import jsonschema
import pytest
from fuzz_inputs import INPUT_KINDS, made_input
from hostile import LATENCY, hostile_snapshot, no_control, own_dump, with_latency_payload
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nestprobe.model.errors import DumpFormatError
from nestprobe.model.snapshot import Snapshot
from nestprobe.output.answer import answer
from nestprobe.output.jsonreport import render_json
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
    data = LATENCY.to_dict()
    tokens: dict[str, str] = {}
    for name, value in changes.items():
        if isinstance(value, str):
            tokens[name] = value
            data[name] = f"@{name}@"
        else:
            data[name] = value
    payload = json.dumps(data)  # json.dumps writes NaN/Infinity for non-finite floats
    for name, token in tokens.items():
        payload = payload.replace(f'"@{name}@"', token)
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


# ------------------------------------------------------------------ the proof record

_PROOF_DUMP = (Path(__file__).resolve().parent / "fixtures" / "proof"
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
