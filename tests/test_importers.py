"""Third-party dump importers against every corpus file, malformed inputs and fuzzing."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import DUMPS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nestprobe.model.errors import CpuNotInDumpError, DumpFormatError
from nestprobe.model.snapshot import Registers, Snapshot
from nestprobe.sources.importers import (
    aida64,
    cpuid_r,
    cpuinfo,
    fragments,
    hwloc,
    icbook,
    libcpuid,
    rjcp_xml,
)
from nestprobe.sources.importers.common import MAX_DUMP_BYTES, DumpText, decode_text
from nestprobe.sources.load import IMPORTERS, load_snapshot, parse_snapshot

CORPUS_FILES = sorted(os.listdir(DUMPS)) if DUMPS.is_dir() else []

# README section 1 "leaves parsed" for CPU 0, by row. The README's parser counted
# (leaf, subleaf) pairs where the format has a subleaf column (cpuid -r, RJCP, IC Book)
# but distinct leaf numbers where the subleaf is an annotation or array index
# (AIDA64 "[SL nn]", hwloc input ECX, libcpuid intel_fn4[i]); we always keep every
# pair, so for "leaves" rows our pair count is larger and the distinct-leaf count is
# what matches. Fragments: block [A] only. cpuinfo capture: no registers.
#: file -> (README row, README count, "pairs" | "leaves", our pair count)
README_COUNTS: dict[str, tuple[int, int, str, int]] = {
    "aws-xen-t2micro.txt": (1, 38, "pairs", 38),
    "aws-xen-c3large.txt": (2, 38, "pairs", 38),
    "rjcp-aws-xen-e5-2676v3.xml.txt": (3, 39, "pairs", 39),
    "firecracker-t2.txt": (4, 42, "pairs", 42),
    "firecracker-t2s.txt": (5, 42, "pairs", 42),
    "firecracker-t2cl.txt": (6, 42, "pairs", 42),
    "firecracker-c3.txt": (7, 42, "pairs", 42),
    "firecracker-t2a.txt": (8, 56, "pairs", 56),
    "firecracker-fingerprint-AMD_MILAN_6.1host.txt": (9, 61, "pairs", 61),
    "firecracker-fingerprint-AMD_GENOA_6.1host.txt": (10, 65, "pairs", 65),
    "firecracker-fingerprint-INTEL_SAPPHIRE_RAPIDS_6.1host.txt": (11, 60, "pairs", 60),
    "azure-hyperv-guest-nested-vmx.txt": (12, 54, "pairs", 54),
    "azure-tdx-cvm-hyperv.txt": (13, 79, "pairs", 79),
    "kvm-hostmodel-i7-8650u-nested-vmx.txt": (14, 44, "pairs", 44),
    "kvm-qemu-tcgmodel-on-kvm-vmx.txt": (15, 35, "pairs", 35),
    "rjcp-kvm-qnx-guest-nested-vmx-i7-6700T.xml.txt": (16, 47, "pairs", 47),
    "hwloc-qemu-kvm-qemu64-pu0.txt": (17, 23, "leaves", 33),
    # libcpuid: basic_cpuid[0..31] + ext_cpuid[0..31] = 64 leaves; intel_fn4[1..2] and
    # intel_fn11[1..2] add subleaves (their [0] repeats basic_cpuid, zero rows skipped).
    "libcpuid-qemu-cpu64-rhel6.txt": (18, 64, "leaves", 68),
    "virtualbox-kvm-paravirt-i7-4980hq.txt": (19, 34, "pairs", 34),
    "manusov-vbox-Centos_64-asus-n750jk.txt": (20, 29, "pairs", 29),
    "manusov-vbox-Ubuntu_32-asus-n750jk.txt": (21, 29, "pairs", 29),
    "manusov-vbox-Ubuntu_64-asus-n750jk.txt": (22, 29, "pairs", 29),
    "manusov-vbox-Win7_32-asus-n750jk.txt": (23, 34, "pairs", 34),
    "manusov-vbox-Win7_64-asus-n750jk.txt": (24, 34, "pairs", 34),
    "manusov-vbox-WinXP_32-asus-n750jk.txt": (25, 27, "pairs", 27),
    "manusov-vbox-WinXP_64-asus-n750jk.txt": (26, 27, "pairs", 27),
    "manusov-vbox-HOST-asus-n750jk-baremetal.txt": (27, 29, "pairs", 29),
    "baremetal-i7-6900k-negative.txt": (28, 40, "pairs", 40),
    "rjcp-vmware-workstation-i7-6600U.xml.txt": (29, 63, "pairs", 63),
    "rjcp-vmware-workstation-i7-6700K.xml.txt": (30, 63, "pairs", 63),
    "rjcp-vmware-esx-xeon-e5-2670v3.xml.txt": (31, 48, "pairs", 48),
    "instlatx64-hvroot-AuthenticAMD0700F01_K16_Kabini3_CPUID.txt": (32, 57, "leaves", 61),
    "instlatx64-hvroot-AuthenticAMD0800F12_K17_Zen_CPUID4.txt": (33, 55, "leaves", 60),
    "instlatx64-hvroot-AuthenticAMD0850F00_K17_Zen_CPUID3.txt": (34, 56, "leaves", 61),
    "instlatx64-hvroot-GenuineIntel00206E6_Beckton_CPUID2.txt": (35, 28, "leaves", 32),
    "instlatx64-hvroot-GenuineIntel00606C1_ICX_01v_CPUID.txt": (36, 50, "leaves", 63),
    "instlatx64-hvroot-GenuineIntel00A0654_CometLake_CPUID.txt": (37, 44, "leaves", 54),
    "instlatx64-hvroot-GenuineIntel00A0655_CometLake_CPUID3.txt": (38, 44, "leaves", 54),
    "instlatx64-hvroot-GenuineIntel00A0671_RocketLake_CPUID4.txt": (39, 49, "leaves", 69),
    "rjcp-hvroot-i7-2630QM.xml.txt": (40, 45, "pairs", 45),
    "rjcp-hvroot-surfacebook-i7-6600U.xml.txt": (41, 60, "pairs", 60),
    "rjcp-hvroot-i7-8565U.xml.txt": (42, 60, "pairs", 60),
    "instlatx64-woa-x86emu-Virtual_CPU_0000F4A_Snap850_CPUID.txt": (43, 21, "leaves", 22),
    "instlatx64-woa-x86emu-AuthenticAMD0600F01_X1_x64_CPUID.txt": (44, 22, "leaves", 24),
    "fragments-wsl2-qemuuser-hyperv-from-issues.txt": (45, 3, "pairs", 3),
    "utillinux-lscpu-vbox43-win7host-cpuinfo.txt": (46, 0, "pairs", 0),
}

#: Formats by file-name prefix (the corpus names say where each file came from).
EXPECTED_FORMAT = {
    "aws-": "cpuid-r", "azure-": "cpuid-r", "baremetal-": "cpuid-r", "firecracker-": "cpuid-r",
    "kvm-": "cpuid-r", "virtualbox-": "cpuid-r", "rjcp-": "rjcp-xml", "manusov-": "icbook",
    "instlatx64-": "aida64", "hwloc-": "hwloc", "libcpuid-": "libcpuid",
    "utillinux-": "cpuinfo", "fragments-": "fragments:A",
}

#: Multi-CPU files: number of logical CPUs each holds.
MULTI_CPU = {
    "instlatx64-hvroot-AuthenticAMD0700F01_K16_Kabini3_CPUID.txt": 4,
    "instlatx64-hvroot-AuthenticAMD0850F00_K17_Zen_CPUID3.txt": 8,
    "instlatx64-hvroot-GenuineIntel00206E6_Beckton_CPUID2.txt": 32,
    "instlatx64-hvroot-GenuineIntel00606C1_ICX_01v_CPUID.txt": 8,
    "instlatx64-hvroot-GenuineIntel00A0654_CometLake_CPUID.txt": 20,
    "instlatx64-hvroot-AuthenticAMD0800F12_K17_Zen_CPUID4.txt": 48,
    "rjcp-hvroot-i7-2630QM.xml.txt": 8,
    "rjcp-kvm-qnx-guest-nested-vmx-i7-6700T.xml.txt": 2,
    "rjcp-vmware-workstation-i7-6600U.xml.txt": 2,
}


def _expected_format(name: str) -> str:
    return next(fmt for prefix, fmt in EXPECTED_FORMAT.items() if name.startswith(prefix))


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_every_corpus_file_imports(corpus_dumps: Path, name: str) -> None:
    snap = load_snapshot(str(corpus_dumps / name))
    assert snap.origin.kind == "dump"
    assert snap.origin.path == str(corpus_dumps / name)
    assert snap.origin.cpu == 0
    assert snap.origin.format == _expected_format(name)
    assert snap.os.machine == "x86_64"
    if snap.origin.format == "cpuinfo":
        assert snap.cpuid_status == "absent"
        assert len(snap.cpuid) == 0
    else:
        assert snap.cpuid_status == "ok"
        assert len(snap.cpuid) > 0
        assert snap.os.system == "unknown"
        assert snap.os.files == {}  # third-party dumps did not look at OS files
    assert name in README_COUNTS, "new corpus file: add its README row to README_COUNTS"


@pytest.mark.parametrize("name", sorted(README_COUNTS))
def test_leaf_counts_match_the_readme(corpus_dumps: Path, name: str) -> None:
    row, readme, counted, ours = README_COUNTS[name]
    snap = load_snapshot(str(corpus_dumps / name))
    pairs = len(snap.cpuid)
    distinct = len({leaf for leaf, _sub in snap.cpuid.leaves})
    assert pairs == ours, f"README row {row}"
    assert (pairs if counted == "pairs" else distinct) == readme, f"README row {row}"


def test_first_leaf_values_are_the_printed_ones(corpus_dumps: Path) -> None:
    # Spot checks against the README's "leaf1 ecx" and "0x40000001 eax" columns.
    cases = {
        "aws-xen-t2micro.txt": (0xFFFA3203, 0x0004000B),
        "instlatx64-hvroot-GenuineIntel00206E6_Beckton_CPUID2.txt": (0x80B86381, 0x31237648),
        "rjcp-hvroot-i7-2630QM.xml.txt": (0x9E9AE383, 0x31237648),
        "manusov-vbox-Win7_32-asus-n750jk.txt": (0xDEDA220B, 0x31237648),
        "azure-hyperv-guest-nested-vmx.txt": (0xFEDA3223, 0x31237648),
    }
    for name, (ecx1, eax_hv1) in cases.items():
        table = load_snapshot(str(corpus_dumps / name)).cpuid
        leaf1 = table.raw(1)
        hv1 = table.raw(0x40000001)
        assert leaf1 is not None
        assert hv1 is not None
        assert (leaf1.ecx, hv1.eax) == (ecx1, eax_hv1), name
    hwloc_leaf4 = load_snapshot(str(corpus_dumps / "hwloc-qemu-kvm-qemu64-pu0.txt")).cpuid
    assert hwloc_leaf4.raw(4, 3) == Registers(0x801C163, 0x3C0003F, 0x3FFF, 6)
    aida = load_snapshot(str(corpus_dumps / README_FILE_AIDA)).cpuid
    assert aida.raw(0xD, 1) == Registers(0x0000000B, 0x00000340, 0, 0)


README_FILE_AIDA = "instlatx64-hvroot-AuthenticAMD0850F00_K17_Zen_CPUID3.txt"


@pytest.mark.parametrize(("name", "count"), sorted(MULTI_CPU.items()))
def test_multi_cpu_files_select_each_cpu(corpus_dumps: Path, name: str, count: int) -> None:
    path = str(corpus_dumps / name)
    cpu0 = load_snapshot(path)
    cpu1 = load_snapshot(path, cpu=1)
    assert cpu1.origin.cpu == 1
    # The APIC id (leaf 1 EBX[31:24]) differs per logical CPU, so the tables do too.
    leaf1_0, leaf1_1 = cpu0.cpuid.raw(1), cpu1.cpuid.raw(1)
    assert leaf1_0 is not None
    assert leaf1_1 is not None
    assert leaf1_0.ebx >> 24 != leaf1_1.ebx >> 24
    assert cpu0 != cpu1
    load_snapshot(path, cpu=count - 1)
    with pytest.raises(DumpFormatError, match=f"CPU {count}"):
        load_snapshot(path, cpu=count)


@pytest.mark.parametrize("name", ["aws-xen-t2micro.txt", "manusov-vbox-Win7_64-asus-n750jk.txt"])
def test_single_cpu_files_refuse_other_cpus(corpus_dumps: Path, name: str) -> None:
    with pytest.raises(CpuNotInDumpError):  # a DumpFormatError; the CLI exits 2 for it
        load_snapshot(str(corpus_dumps / name), cpu=1)
    with pytest.raises(ValueError, match="0 or more"):  # no CPU number: refused unread
        load_snapshot(str(corpus_dumps / name), cpu=-1)


def test_fragments_by_label(corpus_dumps: Path) -> None:
    path = str(corpus_dumps / "fragments-wsl2-qemuuser-hyperv-from-issues.txt")
    wsl2 = fragments.load_fragment(path, "A")
    assert wsl2.cpuid.raw(0x40000000) == Registers(0x4000000B, 0x7263694D, 0x666F736F, 0x76482074)
    tcg = fragments.load_fragment(path, "B")
    assert len(tcg.cpuid) == 2
    assert tcg.origin.format == "fragments:B"
    assert tcg.cpuid.raw(0x40000000) == Registers(0x40000001, 0x54474354, 0x43544743, 0x47435447)
    wsl1 = fragments.load_fragment(path, "E")
    assert wsl1.cpuid_status == "absent"
    flags = wsl1.os.text("/proc/cpuinfo")
    assert flags is not None
    assert flags.startswith("flags")
    assert "hypervisor" in flags.split()
    for label, what in (("C", "Kernel"), ("D", "hypervisor_id")):
        with pytest.raises(DumpFormatError, match=what) as info:
            fragments.load_fragment(path, label)
        assert info.value.line is not None
    with pytest.raises(DumpFormatError, match="A, B, C, D, E"):
        fragments.load_fragment(path, "Z")
    with pytest.raises(DumpFormatError, match="load_fragment"):
        load_snapshot(path, cpu=1)


def test_cpuinfo_capture_keeps_the_first_block(corpus_dumps: Path) -> None:
    snap = load_snapshot(str(corpus_dumps / "utillinux-lscpu-vbox43-win7host-cpuinfo.txt"))
    text = snap.os.text("/proc/cpuinfo")
    assert text is not None
    assert text.startswith("processor\t: 0\n")
    assert text.endswith("power management:\n")
    assert "80eecafe" not in text  # the PCI section is not a watched file
    assert snap.os.system == "Linux"
    assert snap.cpuid_detail


# ------------------------------------------------------------------ malformed inputs

R4 = "eax=0x00000001 ebx=0x00000002 ecx=0x00000003 edx=0x00000004"
MALFORMED: list[tuple[str, str, int | None, str]] = [
    # (name, text, line, fragment of 'expected')
    ("cpuid-r bad register",
     "CPU 0:\n   0x00000000 0x00: eax=0x00000001 ebx=0x00000002 ecx=0x00000003\n", 2, "0xLEAF"),
    # Prose after the data (a harness's end marker) is skipped now (issue 18.11); a cut
    # record is still refused, not dropped.
    ("cpuid-r cut record after data",
     "CPU:\n   0x00000000 0x00: " + R4 + "\n   0x00000001 0x00: eax=0x0000\n", 3, "0xLEAF"),
    ("cpuid-r repeated cpu",
     "CPU 0:\n   0x00000000 0x00: " + R4 + "\nCPU 0:\n", 3,
     "CPU 0 only once"),
    ("cpuid-r conflicting leaf",
     "   0x00000001 0x00: " + R4 + "\n   0x00000001 0x00: " + R4[:-1] + "5\n", 2,
     "same registers"),
    # Issue 11: a file cut inside a value was read as a small value (garbage signature).
    ("cpuid-r value cut short",
     "   0x00000000 0x00: eax=0x00000001 ebx=0x4b4d564b ecx=0x564b4d56 edx=0x76482\n", 1,
     "0xLEAF"),
    ("cpuid-r leaf cut short", "   0x4000 0x00: " + R4 + "\n", 1, "0xLEAF"),
    ("cpuid-r value too wide",
     "   0x00000001 0x00: eax=0x123456789 ebx=0x2 ecx=0x3 edx=0x4\n", 1, "0xLEAF"),
    ("aida64 short register",
     "CPUID 00000000: 0000000D-68747541-444D4163-69746E65\nCPUID 00000001: 00850F00-0008\n",
     2, "EAX-EBX-ECX-EDX"),
    ("aida64 record outside a cpu",
     "CPU#000 AffMask: 0x1\nCPUID 00000000: 0000000D-68747541-444D4163-69746E65\n"
     "------[ All CPUs ]------\nCPUID 00000001: 00000000-00000000-00000000-00000000\n",
     4, "inside a logical CPU"),
    ("rjcp unclosed",
     '<?xml version="1.0"?>\n<cpuid type="x86">\n<processor>\n'
     '<register eax="0" ecx="0">1,2,3,4</register>\n</processor>\n', 5, "</cpuid>"),
    ("rjcp bad register",
     '<cpuid type="x86">\n<processor>\n<register eax="0" ecx="0">1,2,3</register>\n',
     3, "RJCP CpuId XML element"),
    ("rjcp register outside processor",
     '<cpuid type="x86">\n<register eax="0" ecx="0">1,2,3,4</register>\n</cpuid>\n',
     2, "inside a <processor>"),
    ("icbook bad row",
     "  Function    Subfunction   Pass        EAX         EBX         ECX         EDX\n"
     "-------------------------------------------\n"
     "  00000000    00000000      00000000    0000000D    756E6547    6C65746E\n",
     3, "row"),
    ("icbook unclosed table",
     "  Function    Subfunction   Pass        EAX         EBX         ECX         EDX\n"
     "-------------------------------------------\n"
     "  00000000    00000000      00000000    0000000D    756E6547    6C65746E    49656E69\n",
     3, "closing"),
    ("hwloc bad line", "1 0 0 0 0 => 1f 756e6547 6c65746e 49656e69\n1 1 0 0 0 => 663\n", 2, "MASK"),
    ("libcpuid unknown array",
     "basic_cpuid[0]=00000004 756e6547 6c65746e 49656e69\nbogus[1]=00000000 0 0 0\n", 2, "ARRAY"),
    ("cpuinfo bad line", "processor\t: 0\nvendor_id\t: GenuineIntel\n!!!\n", 3, "name : value"),
    ("unknown format", "# comment\n\nhello world\n", 3, "known format"),
    ("empty", "", None, "known format"),
]


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [pytest.param(t, n, e, id=name) for name, t, n, e in MALFORMED],
)
def test_malformed_inputs_name_the_line(text: str, line: int | None, expected: str) -> None:
    with pytest.raises(DumpFormatError) as info:
        parse_snapshot(text, "bad.txt")
    assert info.value.path == "bad.txt"
    assert info.value.line == line
    assert expected in info.value.expected
    assert str(info.value).startswith("bad.txt")


def test_files_that_are_not_dumps(tmp_path: Path) -> None:
    with pytest.raises(DumpFormatError, match="directory"):
        load_snapshot(str(tmp_path))
    with pytest.raises(DumpFormatError, match="readable"):
        load_snapshot(str(tmp_path / "missing.txt"))
    binary = tmp_path / "garbage.bin"
    binary.write_bytes(b"CPU 0:\n\xff\xfe\x00\x01garbage")
    with pytest.raises(DumpFormatError) as info:
        load_snapshot(str(binary))
    assert info.value.line == 2
    nul = tmp_path / "has-nul.txt"  # not "nul.txt": on Windows that names the NUL device
    nul.write_bytes(b"CPU 0:\n\n\x00")
    with pytest.raises(DumpFormatError, match="NUL") as info:
        load_snapshot(str(nul))
    assert info.value.line == 3
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as stream:
        stream.truncate(MAX_DUMP_BYTES + 1)  # sparse: the size check must refuse it unread
    with pytest.raises(DumpFormatError, match="at most"):
        load_snapshot(str(huge))


def test_utf8_bom_and_utf16_are_read(corpus_dumps: Path, tmp_path: Path) -> None:
    source = (corpus_dumps / "aws-xen-t2micro.txt").read_text("utf-8")
    expected = load_snapshot(str(corpus_dumps / "aws-xen-t2micro.txt"))
    for encoding in ("utf-8-sig", "utf-16"):
        path = tmp_path / f"{encoding}.txt"
        path.write_bytes(source.encode(encoding))
        assert load_snapshot(str(path)) == expected


# ------------------------------------------------------------------ fuzzing

PARSERS = [pytest.param(i.parse, id=i.name) for i in IMPORTERS] + [
    pytest.param(fragments.parse, id="fragments-direct"),
]

_LINE_PIECES = st.sampled_from([
    "CPU 0:", "CPU:", "CPU 1:", "   0x00000000 0x00: eax=0x0000000d ebx=0x756e6547 ecx=0x6c65746e "
    "edx=0x49656e69", "   0x1: eax=0x1 ebx=0x2 ecx=0x3 edx=0x4", "CPU#000 AffMask: 0x1",
    "CPUID 00000000: 0000000D-68747541-444D4163-69746E65 [SL 00]", "------[ All CPUs ]------",
    "<cpuid type=\"x86\">", "<processor>", "</processor>", "</cpuid>",
    '<register eax="00000000" ecx="00000000">00000016,756E6547,6C65746E,49656E69</register>',
    "  Function    Subfunction   Pass        EAX         EBX         ECX         EDX",
    "---------------------------------", "basic_cpuid[0]=00000004 756e6547 6c65746e 49656e69",
    "1 0 0 0 0 => 1f 756e6547 6c65746e 49656e69", "processor\t: 0", "flags\t\t: fpu vme",
    "# PARTIAL DUMPS", "# [A] x", "=================== proc/cpuinfo", "nestprobe-dump 1", "",
])
_TEXTS = st.one_of(
    st.text(),
    st.lists(st.one_of(_LINE_PIECES, st.text(max_size=40)), max_size=30).map("\n".join),
)


@pytest.mark.parametrize("parse", PARSERS)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=_TEXTS, cpu=st.integers(0, 2))
def test_fuzz_each_importer_raises_only_dump_format_error(
    parse: Callable[[DumpText, int], Snapshot], text: str, cpu: int
) -> None:
    dump = DumpText.from_text(text, "fuzz")
    outcome = _outcome(lambda: parse(dump, cpu))
    if isinstance(outcome, DumpFormatError):
        assert outcome.path == "fuzz"
        assert outcome.line is None or 1 <= outcome.line <= max(1, len(dump.lines))
    else:
        assert outcome.origin.kind == "dump"


def _outcome(call: Callable[[], Snapshot]) -> Snapshot | DumpFormatError:
    """The call's Snapshot or its DumpFormatError; any other exception fails the test."""
    try:
        return call()
    except DumpFormatError as exc:
        return exc


@given(data=st.binary(max_size=400))
def test_fuzz_bytes_through_decode_and_load(data: bytes) -> None:
    outcome = _outcome(lambda: parse_snapshot(decode_text(data, "fuzz"), "fuzz"))
    assert isinstance(outcome, DumpFormatError | Snapshot)


def _corpus_texts() -> list[str]:
    return [(DUMPS / name).read_text("utf-8") for name in CORPUS_FILES]


@pytest.mark.skipif(not CORPUS_FILES, reason="corpus not found")
@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=300)
@given(
    index=st.integers(0, max(0, len(CORPUS_FILES) - 1)),
    deletions=st.lists(st.integers(0, 10_000), max_size=3),
    flips=st.lists(st.tuples(st.integers(0, 200_000), st.integers(1, 255)), max_size=4),
    cpu=st.integers(0, 2),
)
def test_fuzz_mutated_corpus_files(
    index: int, deletions: list[int], flips: list[tuple[int, int]], cpu: int
) -> None:
    lines = (DUMPS / CORPUS_FILES[index]).read_bytes().split(b"\n")
    for position in deletions:
        if lines:
            del lines[position % len(lines)]
    data = bytearray(b"\n".join(lines))
    for position, mask in flips:
        if data:
            data[position % len(data)] ^= mask
    outcome = _outcome(
        lambda: parse_snapshot(decode_text(bytes(data), "mutated"), "mutated", cpu=cpu)
    )
    if isinstance(outcome, DumpFormatError):
        assert outcome.path == "mutated"
    else:
        assert outcome.origin.cpu == cpu


def test_sniffers_pick_exactly_the_intended_format(corpus_dumps: Path) -> None:
    # Each corpus file is recognised by its own importer and by no earlier one.
    for name in CORPUS_FILES:
        dump = DumpText.from_text((corpus_dumps / name).read_text("utf-8"), name)
        first = next(i for i in IMPORTERS if i.sniff(dump))
        assert _expected_format(name).split(":")[0] == first.name, name


def test_importer_modules_are_registered() -> None:
    registered = {i.name for i in IMPORTERS}
    for module in (aida64, cpuid_r, cpuinfo, fragments, hwloc, icbook, libcpuid, rjcp_xml):
        assert module.FORMAT in registered
