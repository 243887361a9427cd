"""nestprobe's own dump format v1: exact round-trip, the C tool's byte escapes, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nestprobe.model.errors import DumpFormatError
from nestprobe.model.latency import MODES, LatencyRecord
from nestprobe.model.record import fields
from nestprobe.model.snapshot import (
    CpuidStatus,
    CpuidTable,
    FileFact,
    FileState,
    KvmDevice,
    KvmDeviceState,
    OsFacts,
    Registers,
    Snapshot,
)
from nestprobe.sources.dumpfile import C_WRITER, format_dump, parse_dump, read_dump
from nestprobe.sources.load import load_snapshot, parse_snapshot

U32 = st.integers(0, 0xFFFFFFFF)
# Text as the probe can meet it: any code point, plus lone surrogates from
# surrogateescape-decoded bytes, plus control characters.
TEXT = st.one_of(
    st.text(),
    st.binary().map(lambda b: b.decode("utf-8", errors="surrogateescape")),
    st.text(alphabet=st.characters(max_codepoint=0x1F)),
)
HUGE_INT = st.integers(-(2**200), 2**200)
#: What a LatencyRecord may hold (model/latency.py): finite, non-negative, 64-bit.
COUNT = st.integers(0, 2**64 - 1)
NUMBER = st.one_of(
    st.floats(0, 2.0**64, exclude_max=True), COUNT
)
HZ = st.one_of(st.floats(1, 2.0**64, exclude_max=True),
               st.integers(1, 2**64 - 1))

REGISTERS = st.builds(Registers, U32, U32, U32, U32)
TABLES = st.builds(CpuidTable, st.dictionaries(st.tuples(U32, U32), REGISTERS, max_size=20))
FILES = st.dictionaries(
    TEXT,
    st.builds(
        FileFact, st.sampled_from(get_args(FileState)), st.one_of(st.none(), TEXT)
    ),
    max_size=6,
)
KVM = st.builds(
    KvmDevice,
    st.sampled_from(get_args(KvmDeviceState)),
    st.one_of(st.none(), HUGE_INT),
    st.one_of(st.none(), st.booleans()),
    st.one_of(st.none(), TEXT),
)
#: Fields added to LatencyRecord after v1 (with defaults) round-trip too.
_LATER_FIELDS = {
    "mode": st.sampled_from(MODES),
    "wall_ns": st.one_of(st.none(), COUNT),
}
LATENCY = st.builds(
    LatencyRecord,
    **{
        name: strategy for name, strategy in _LATER_FIELDS.items()
        if name in {f.name for f in fields(LatencyRecord)}
    },
    cpuid_ticks=NUMBER,
    median_ticks=NUMBER,
    p99_ticks=NUMBER,
    baseline_ticks=NUMBER,
    tsc_hz=st.one_of(st.none(), HZ),
    tsc_hz_source=st.one_of(st.none(), TEXT),
    tsc_quantum_ticks=st.one_of(st.none(), COUNT),
    samples=COUNT,
    batches=COUNT,
    leaves=st.lists(U32, max_size=5).map(tuple),
    pinned_cpu=st.one_of(st.none(), COUNT),
)
SNAPSHOTS = st.builds(
    Snapshot,
    cpuid_status=st.sampled_from(get_args(CpuidStatus)),
    cpuid=TABLES,
    os=st.builds(
        OsFacts, system=TEXT, machine=TEXT, files=FILES, kvm=st.one_of(st.none(), KVM)
    ),
    latency=st.one_of(st.none(), LATENCY),
    cpuid_detail=st.one_of(st.none(), TEXT),
    truncated=st.booleans(),
)


@given(SNAPSHOTS)
def test_round_trip_is_exact(snapshot: Snapshot) -> None:
    text = format_dump(snapshot)
    assert text.isascii()  # whatever the snapshot held
    back = parse_dump(text, "x.dump")
    assert back == snapshot
    # Field by field where == would be lenient (1 == 1.0, True == 1): same types too.
    assert type(back.truncated) is bool
    for path, fact in snapshot.os.files.items():
        assert back.os.files[path].text == fact.text
    if snapshot.latency is not None:
        assert back.latency is not None
        for name, value in snapshot.latency.to_dict().items():
            assert type(back.latency.to_dict()[name]) is type(value)
    assert back.origin.kind == "dump"
    assert back.origin.path == "x.dump"
    assert back.origin.format == "nestprobe"
    assert format_dump(back) == text  # and the text is canonical


def _live_like() -> Snapshot:
    return Snapshot(
        cpuid_status="ok",
        cpuid=CpuidTable({
            (0, 0): Registers(0x10, 0x68747541, 0x444D4163, 0x69746E65),
            (0x40000000, 0): Registers(0x40000001, 0x4B4D564B, 0x564B4D56, 0x4D),
        }),
        os=OsFacts(
            system="Linux",
            machine="x86_64",
            files={
                "/proc/cpuinfo": FileFact("ok", "processor\t: 0\nflags\t\t: fpu hypervisor\n"),
                "/sys/hypervisor/type": FileFact("absent"),
                "/proc/xen": FileFact("dir"),
                "/proc/1/cgroup": FileFact("unreadable"),
            },
            kvm=KvmDevice("usable", api_version=12, create_vm=True),
        ),
        latency=LatencyRecord(
            cpuid_ticks=9022.0, median_ticks=9100.5, p99_ticks=12000.0, baseline_ticks=40.0,
            tsc_hz=2.45e9, tsc_hz_source="cpuid:0x40000010", tsc_quantum_ticks=1,
            samples=2000, batches=20, leaves=(0, 1, 0x40000000), pinned_cpu=0,
        ),
    )


def test_documented_shape() -> None:
    text = format_dump(_live_like())
    lines = text.splitlines()
    assert lines[:4] == ["nestprobe-dump 1", "machine x86_64", "system Linux", "cpuid-status ok"]
    assert (
        "cpuid 0x00000000 0x00000000 eax=0x00000010 ebx=0x68747541 ecx=0x444d4163 edx=0x69746e65"
        in lines
    )
    assert 'file /proc/cpuinfo ok "processor\\t: 0\\nflags\\t\\t: fpu hypervisor\\n"' in lines
    assert "file /sys/hypervisor/type absent" in lines
    assert "kvm-device usable api=12 create-vm=1" in lines
    assert lines[-1] == "end"
    latency = next(line for line in lines if line.startswith("latency "))
    assert json.loads(latency[8:])["cpuid_ticks"] == 9022.0


def test_read_dump_and_load_snapshot_agree(tmp_path: Path) -> None:
    path = tmp_path / "box.dump"
    path.write_text("# captured by hand\n\n" + format_dump(_live_like()), "ascii")
    via_read = read_dump(str(path))
    via_load = load_snapshot(str(path))
    assert via_read == via_load == _live_like()
    assert via_load.origin.format == "nestprobe"
    assert via_load.origin.path == str(path)
    with pytest.raises(DumpFormatError, match="cpu=0"):
        load_snapshot(str(path), cpu=1)


def _c_tool_output(file_json: str) -> str:
    return (
        "nestprobe-dump 1\n"
        f"writer {C_WRITER}\n"
        "machine x86_64\nsystem Linux\ncpuid-status ok\n"
        "cpuid 0x00000000 0x00000000 eax=0x00000010 ebx=0x68747541 ecx=0x444d4163 edx=0x69746e65\n"
        f"file /sys/class/dmi/id/product_name ok {file_json}\n"
        "end\n"
    )


def test_c_tool_byte_escapes_decode_to_the_python_text() -> None:
    # The C tool escapes bytes >= 0x80 one by one: "é" (C3 A9) and a stray FF byte.
    raw = "Caf\u00e9 \xff\n".encode("utf-8", errors="surrogateescape")
    raw = b"Caf\xc3\xa9 \xff\n"
    escaped = '"' + "".join(
        chr(b) if 0x20 <= b < 0x80 and chr(b) not in '"\\' else f"\\u{b:04x}" for b in raw
    ) + '"'
    snap = parse_dump(_c_tool_output(escaped))
    expected = raw.decode("utf-8", errors="surrogateescape")
    assert snap.os.text("/sys/class/dmi/id/product_name") == expected == "Café \udcff\n"
    assert snap.os.kvm is None  # the standalone tool does not probe /dev/kvm
    assert snap.latency is None
    assert snap.os.state("/proc/cpuinfo") is None  # not looked


def test_c_tool_text_beyond_a_byte_is_rejected() -> None:
    with pytest.raises(DumpFormatError, match="byte escapes") as info:
        parse_dump(_c_tool_output('"\\u0100"'))
    assert info.value.line == 7


GOOD = format_dump(_live_like()).splitlines()

#: (id, edit of the good dump's lines, line of the error, fragment of 'expected')
BROKEN: list[tuple[str, Callable[[list[str]], list[str]], int | None, str]] = [
    ("no magic", lambda ls: ls[1:], 1, "nestprobe-dump 1"),
    ("future version", lambda ls: ["nestprobe-dump 2", *ls[1:]], 1, "version 1"),
    ("truncated", lambda ls: ls[:-1], len(GOOD) - 1, "'end'"),
    ("after end", lambda ls: [*ls, "cpuid 0x0 0x0 eax=0x0 ebx=0x0 ecx=0x0 edx=0x0"],
     len(GOOD) + 1, "nothing after"),
    ("bad cpuid", lambda ls: [*ls[:4], "cpuid 0x0 eax=0x1", *ls[4:]], 5, "cpuid 0xLEAF"),
    ("wide register", lambda ls: [*ls[:4], "cpuid 0x1 0x0 eax=0x100000000 ebx=0x0 ecx=0x0 "
     "edx=0x0", *ls[4:]], 5, "cpuid 0xLEAF"),
    ("repeated leaf", lambda ls: [*ls[:5], ls[4], *ls[5:]], 6, "one record per leaf"),
    ("header after records", lambda ls: [*ls[:6], "machine i686", *ls[6:]], 7, "in the header"),
    ("missing system", lambda ls: [ls[0], ls[1], *ls[3:]], 4, "'system'"),
    ("unknown record", lambda ls: [*ls[:6], "frobnicate 1", *ls[6:]], 7, "a header line"),
    ("bad status", lambda ls: [*ls[:3], "cpuid-status maybe", *ls[4:]], 4, "cpuid-status one"),
    ("bad file state", lambda ls: [*ls[:6], "file /x weird", *ls[6:]], 7, "file state"),
    ("unterminated text", lambda ls: [*ls[:6], 'file /x ok "abc', *ls[6:]], 7, "JSON string"),
    ("trailing space", lambda ls: [*ls[:6], "file /x absent ", *ls[6:]], 7, "trailing space"),
    # the inserted line comes first, so the writer's own /proc/xen line (now 10) repeats it
    ("repeated file", lambda ls: [*ls[:6], "file /proc/xen dir", *ls[6:]], 10, "one record per"),
    ("bad kvm", lambda ls: [*ls[:6], "kvm-device usable api=twelve", *ls[6:]], 7, "api=INTEGER"),
    ("latency not json", lambda ls: [*_no_latency(ls)[:-1], "latency {", "end"],
     len(GOOD) - 1, "JSON object"),
    ("latency wrong type", lambda ls: [*_no_latency(ls)[:-1], "latency " + json.dumps(
        {**_live_like().latency.to_dict(), "samples": 2.5}), "end"],  # type: ignore[union-attr]
     len(GOOD) - 1, "samples must be an integer"),
    ("two latencies", lambda ls: [*ls[:-1], ls[-2], "end"], len(GOOD), "one latency"),
]


def _no_latency(lines: list[str]) -> list[str]:
    return [line for line in lines if not line.startswith("latency ")]


@pytest.mark.parametrize(
    ("edit", "line", "expected"), [pytest.param(e, n, x, id=i) for i, e, n, x in BROKEN]
)
def test_malformed_dumps_name_line_and_expectation(
    edit: Callable[[list[str]], list[str]], line: int | None, expected: str
) -> None:
    text = "\n".join(edit(list(GOOD))) + "\n"
    with pytest.raises(DumpFormatError) as info:
        parse_dump(text, "broken.dump")
    assert info.value.path == "broken.dump"
    assert info.value.line == line, info.value
    assert expected in info.value.expected


def test_latency_missing_fields_are_named() -> None:
    lines = [line for line in GOOD if not line.startswith("latency")]
    text = "\n".join([*lines[:-1], 'latency {"cpuid_ticks": 1.0}', "end"]) + "\n"
    with pytest.raises(DumpFormatError, match="missing median_ticks"):
        parse_dump(text)


def test_deeply_nested_latency_is_an_error_not_a_crash() -> None:
    lines = [line for line in GOOD if not line.startswith("latency")]
    text = "\n".join([*lines[:-1], "latency " + "[" * 100_000, "end"]) + "\n"
    with pytest.raises(DumpFormatError, match="JSON object"):
        parse_dump(text)


def _outcome(text: str) -> Snapshot | DumpFormatError:
    try:
        return parse_dump(text, "fuzz")
    except DumpFormatError as exc:
        return exc


@given(st.text())
def test_fuzz_arbitrary_text(text: str) -> None:
    outcome = _outcome("nestprobe-dump 1\n" + text)
    assert isinstance(outcome, Snapshot | DumpFormatError)
    assert isinstance(_outcome(text), Snapshot | DumpFormatError)


@given(
    SNAPSHOTS,
    st.lists(st.integers(0, 1000), max_size=3),
    st.lists(st.tuples(st.integers(0, 10**6), st.characters()), max_size=3),
)
def test_fuzz_mutated_dumps(
    snapshot: Snapshot, deletions: list[int], replacements: list[tuple[int, str]]
) -> None:
    lines = format_dump(snapshot).splitlines()
    for position in deletions:
        del lines[position % len(lines)]
    text = list("\n".join(lines))
    for position, char in replacements:
        if text:
            text[position % len(text)] = char
    outcome = _outcome("".join(text))
    if isinstance(outcome, DumpFormatError):
        assert outcome.path == "fuzz"
    else:
        # A mutation that still parses must give a snapshot that round-trips itself.
        assert parse_dump(format_dump(outcome)) == outcome


def test_own_format_is_sniffed_before_importers() -> None:
    # A comment quoting a cpuid -r record must not make the file look like cpuid -r.
    text = "#    0x00000000 0x00: eax=0x1 ebx=0x2 ecx=0x3 edx=0x4\n" + format_dump(_live_like())
    assert parse_snapshot(text).origin.format == "nestprobe"


def test_latency_written_before_later_fields_still_loads() -> None:
    latency = _live_like().latency
    assert latency is not None
    declared = {f.name: f for f in fields(LatencyRecord)}
    optional = [n for n, f in declared.items() if n in _LATER_FIELDS]
    old = {k: v for k, v in latency.to_dict().items() if k not in optional}
    text = "\n".join([*_no_latency(GOOD)[:-1], "latency " + json.dumps(old), "end"]) + "\n"
    loaded = parse_dump(text).latency
    assert loaded is not None
    assert loaded.cpuid_ticks == latency.cpuid_ticks
    assert loaded == latency  # the defaults are what the writer would have written


def test_words_ending_in_a_newline_are_quoted() -> None:
    """Found by the long fuzz run: a bare-word regex ending in `$` accepted 'x\\n'."""
    from nestprobe.model.snapshot import CpuidTable, FileFact, OsFacts, Snapshot

    snap = Snapshot(
        "ok", CpuidTable({}),
        OsFacts(system="", machine="!\n", files={"!\n": FileFact("ok", None)}),
    )
    assert parse_dump(format_dump(snap), "x.dump") == snap


_HEADER = "nestprobe-dump 1\nmachine x86_64\nsystem Linux\ncpuid-status ok\n"


@pytest.mark.parametrize(("line", "expected"), [
    ("file /proc/x ok\x01", "expected a file state"),  # a control byte in a bare word
    ("file /proc/\x7fx ok \"a\"", "expected a path"),
    ("file /proc/x  ok", "expected one space after a path"),
    ("kvm-device usable  api=12", "expected one space after a kvm-device state"),
    ("file /proc/x ok \"a\" ", "expected no trailing space after the file text"),
])
def test_words_are_bare_and_one_space_apart(line: str, expected: str) -> None:
    """The reader's word rules (docs/dump-format.md "Values"), each with its own message."""
    with pytest.raises(DumpFormatError, match=expected) as caught:
        parse_dump(_HEADER + line + "\nend\n", "w.dump")
    assert caught.value.line == 5
