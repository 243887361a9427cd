"""The native CPUID core: the real CPU, and the same enumeration run against tables."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nestprobe import native
from nestprobe.model.errors import CpuidUnavailableError
from nestprobe.model.snapshot import KVM_SIGNATURE_REGS, CpuidTable, LeafKey, Registers
from nestprobe.native import tablewalk

# Every range header the walk may read before knowing whether the range exists.
HEADER_CANDIDATES = (
    0,
    0x20000000,
    *range(0x40000000, 0x4000FF01, 0x100),
    0x80000000,
    0x80860000,
    0xC0000000,
)
SUBLEAF_LEAVES = (4, 7, 0xB, 0xD, 0xF, 0x10, 0x12, 0x14, 0x17, 0x18, 0x1D, 0x1F, 0x20, 0x23,
                  0x24, 0x8000001D, 0x80000020, 0x80000026)
# Range leaves (basic + 4 plain ranges + 256 hypervisor ranges, 256 each) plus at most
# 63 extra sub-leaves for each leaf that has them.
QUERY_BOUND = 256 * (1 + 4 + 256) + 63 * len(SUBLEAF_LEAVES)
SUBLEAF_CAP = 64
BIG = QUERY_BOUND + 1000

requires_lib = pytest.mark.skipif(native.load_lib() is None, reason="extension not built")
requires_cpuid = pytest.mark.skipif(
    native.cpuid_status()[0] != "ok", reason="CPUID does not run here"
)
pytestmark = [pytest.mark.native, requires_lib]

U32 = st.integers(0, 0xFFFFFFFF)
REGS = st.builds(Registers, U32, U32, U32, U32)


# ---- the real CPU ------------------------------------------------------------------


def test_load_lib_gives_ffi_and_lib() -> None:
    loaded = native.load_lib()
    assert loaded is not None
    ffi, lib = loaded
    assert ffi.sizeof("np_leaf") == 24
    # Constants come from the compiled module (their one definition is csrc/np_cpuid.h).
    assert (lib.NP_OK, lib.NP_TRUNCATED) == (0, 1)
    assert lib.NP_ENOTSUP < 0
    assert lib.NP_EFAULTING < 0
    assert lib.NP_SUBLEAF_CAP == SUBLEAF_CAP


def test_a_native_snapshot_always_fits_a_dump() -> None:
    from nestprobe.sources.importers.common import MAX_LEAVES_PER_CPU

    loaded = native.load_lib()
    assert loaded is not None
    assert 0 < loaded.lib.NP_SNAPSHOT_CAPACITY <= MAX_LEAVES_PER_CPU


@requires_cpuid
def test_vendor_string_is_printable() -> None:
    regs = native.cpuid(0)
    vendor = b"".join(r.to_bytes(4, "little") for r in (regs.ebx, regs.edx, regs.ecx))
    assert len(vendor) == 12
    assert all(0x20 <= b < 0x7F for b in vendor), vendor


@requires_cpuid
def test_table_agrees_with_single_cpuid_calls(one_cpu: int) -> None:
    table, truncated = native.read_cpuid_table()
    assert not truncated
    for (leaf, subleaf), regs in table.items():
        assert native.cpuid(leaf, subleaf) == regs, (hex(leaf), subleaf)


@requires_cpuid
def test_agrees_with_pypi_cpuid_package(one_cpu: int) -> None:
    cpuid_pkg = pytest.importorskip("cpuid")
    table, _ = native.read_cpuid_table()
    # The package checks the range max itself and cannot read hypervisor leaves.
    compared = [
        (key, regs) for key, regs in table.items() if not 0x40000000 <= key[0] <= 0x4FFFFFFF
    ]
    assert any(leaf >= 0x80000000 for (leaf, _), _ in compared)
    for (leaf, subleaf), regs in compared:
        assert Registers(*cpuid_pkg.cpuid_count(leaf, subleaf)) == regs, (hex(leaf), subleaf)


@requires_cpuid
def test_real_table_is_within_ranges_and_complete() -> None:
    table, truncated = native.read_cpuid_table()
    assert not truncated
    for leaf, _ in table.leaves:
        assert table.in_range(leaf), hex(leaf)
    basic_max = table.range_max(0)
    assert basic_max is not None
    assert all((leaf, 0) in table.leaves for leaf in range(basic_max + 1))
    ext_max = table.range_max(0x80000000)
    if ext_max is not None:
        assert all((leaf, 0) in table.leaves for leaf in range(0x80000000, ext_max + 1))
    for base in table.hypervisor_bases():
        top = table.range_max(base)
        assert top is not None
        assert all((leaf, 0) in table.leaves for leaf in range(base, top + 1))


@requires_cpuid
def test_hypervisor_bit_matches_hypervisor_ranges() -> None:
    table, _ = native.read_cpuid_table()
    leaf1 = table.get(1)
    assert leaf1 is not None
    if not leaf1.ecx >> 31 & 1:
        pytest.skip("bare metal: no hypervisor bit")
    assert table.hypervisor_bases(), "hypervisor bit set but no valid 0x4000xx00 header read"


@requires_cpuid
def test_tiny_capacity_truncates_real_snapshot() -> None:
    full, _ = native.read_cpuid_table()
    table, truncated = native.read_cpuid_table(capacity=3)
    assert truncated
    assert len(table) == 3
    assert sorted(table.leaves) == sorted(full.leaves)[:3]  # basic leaves come first


@requires_cpuid
def test_sixteen_threads_read_identical_tables(one_cpu: int) -> None:
    results: list[tuple[CpuidTable, bool] | BaseException] = []
    barrier = threading.Barrier(16)
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        try:
            got: tuple[CpuidTable, bool] | BaseException = native.read_cpuid_table()
        except BaseException as exc:
            got = exc
        with lock:
            results.append(got)

    threads = [threading.Thread(target=worker) for _ in range(16)]  # inherit the pin
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 16
    assert all(isinstance(r, tuple) for r in results), results
    first = results[0]
    assert isinstance(first, tuple)
    assert not first[1]
    assert len(first[0]) > 2
    assert all(r == first for r in results)


def test_status_and_call_agree_in_subprocess_with_cpuid_faulting() -> None:
    """With CPUID faulting on, the status check must come before any CPUID (else SIGSEGV)."""
    script = """
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.syscall(158, 0x1012, 0) != 0:  # arch_prctl(ARCH_SET_CPUID, 0)
    sys.exit(77)
from nestprobe import native
from nestprobe.model.errors import CpuidUnavailableError
assert native.cpuid_status()[0] == "faulting", native.cpuid_status()
try:
    native.read_cpuid_table()
except CpuidUnavailableError:
    print("refused")
"""
    if not sys.platform.startswith("linux") or os.uname().machine != "x86_64":
        pytest.skip("ARCH_SET_CPUID is x86-64 Linux")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False, timeout=60)
    if done.returncode == 77:
        pytest.skip("this CPU/kernel cannot make CPUID fault (ARCH_SET_CPUID refused)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "refused"


# ---- the same enumeration against tables -------------------------------------------


def answer(table: dict[LeafKey, Registers], leaf: int, subleaf: int, intel: bool) -> Registers:
    """What the C table stand-in answers (independent restatement of its documented rule)."""
    found = table.get((leaf, subleaf))
    if found is not None:
        return found
    zero = Registers(0, 0, 0, 0)
    if not intel or (0, 0) not in table:
        return zero
    max_basic = table[(0, 0)].eax
    ext = table.get((0x80000000, 0))
    in_ext = ext is not None and 0x80000000 <= leaf <= ext.eax
    if leaf <= max_basic or in_ext:
        return zero
    return table.get((max_basic, subleaf)) or table.get((max_basic, 0)) or zero


def header_range(base: int, regs: Registers) -> int | None:
    """snapshot.py's own verdict on a header answer: the oracle for which ranges exist."""
    return CpuidTable({(base, 0): regs}).range_max(base)


@st.composite
def cpu_tables(draw: st.DrawFn) -> dict[LeafKey, Registers]:
    """Tables with plausible and hostile range maxima and sub-leaf answers."""
    entries: dict[LeafKey, Registers] = {}

    def put(leaf: int, subleaf: int, regs: Registers) -> None:
        entries.setdefault((leaf, subleaf), regs)

    basic_max = draw(st.one_of(st.integers(0, 0x28), st.sampled_from([0xFF, 0x100, 0xFFFFFFFF]),
                               U32))
    put(0, 0, draw(REGS)._replace(eax=basic_max))
    ext = 0x80000000
    ext_max = draw(st.one_of(st.integers(ext, ext + 0x28),
                             st.sampled_from([0, ext + 0xFF, ext + 0x100, 0xFFFFFFFF]), U32))
    if draw(st.booleans()):
        put(ext, 0, draw(REGS)._replace(eax=ext_max))
    for base in draw(st.lists(st.sampled_from([0x20000000, 0x80860000, 0xC0000000]),
                              max_size=3)):
        put(base, 0, draw(REGS)._replace(eax=draw(st.one_of(
            st.integers(base, base + 0x110), U32))))
    kvm = Registers(0, *KVM_SIGNATURE_REGS)
    for index in draw(st.lists(st.integers(0, 255), max_size=4)):
        base = 0x40000000 + index * 0x100
        shape = draw(st.sampled_from(["old-kvm", "max", "random"]))
        if shape == "old-kvm":
            regs = kvm
        elif shape == "max":
            regs = kvm._replace(eax=base + draw(st.integers(0, 0x110)))
        else:
            regs = draw(REGS)
        put(base, 0, regs)
    # Hostile sub-leaf lists: answers that never say "last one".
    for leaf in draw(st.lists(st.sampled_from(SUBLEAF_LEAVES), max_size=4)):
        hostile = Registers(0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
        for subleaf in range(draw(st.integers(1, 80))):
            put(leaf, subleaf, hostile)
    for (leaf, subleaf), regs in draw(st.lists(st.tuples(st.tuples(
            st.one_of(st.integers(0, 0x30), st.sampled_from(SUBLEAF_LEAVES),
                      st.integers(0x40000000, 0x40000210), st.integers(ext, ext + 0x30)),
            st.integers(0, 70)), REGS), max_size=40)):
        put(leaf, subleaf, regs)
    return entries


@given(table=cpu_tables(), intel=st.booleans())
def test_enumeration_is_bounded_and_never_reads_past_max(
    table: dict[LeafKey, Registers], intel: bool
) -> None:
    run = tablewalk.enumerate_from_table(
        list(table.items()), intel_out_of_range=intel, capacity=BIG, query_capacity=BIG
    )
    assert not run.truncated
    assert run.query_count <= QUERY_BOUND
    assert len(run.queries) == run.query_count
    keys = [key for key, _ in run.entries]
    assert len(keys) == len(set(keys)), "a leaf was recorded twice"
    for (leaf, subleaf), regs in run.entries:  # it recorded what the CPU said
        assert regs == answer(table, leaf, subleaf, intel)
    got = tablewalk.table_of(run)
    headers = set(HEADER_CANDIDATES)
    for leaf, _ in run.queries:  # nothing read past a maximum, except range headers
        assert leaf in headers or got.in_range(leaf), hex(leaf)
    for leaf, _ in keys:  # nothing recorded past a maximum
        assert got.in_range(leaf), hex(leaf)
    per_leaf = Counter(leaf for leaf, _ in keys)
    assert max(per_leaf.values()) <= SUBLEAF_CAP


@given(table=cpu_tables(), intel=st.booleans())
def test_enumeration_records_every_leaf_of_every_valid_range(
    table: dict[LeafKey, Registers], intel: bool
) -> None:
    run = tablewalk.enumerate_from_table(list(table.items()), intel_out_of_range=intel,
                                      capacity=BIG)
    recorded = {key for key, _ in run.entries}
    for base in HEADER_CANDIDATES:
        top = header_range(base, answer(table, base, 0, intel))
        if base == 0:
            assert top is not None
        if top is None:
            assert (base, 0) not in recorded, hex(base)
            continue
        missing = [hex(leaf) for leaf in range(base, top + 1) if (leaf, 0) not in recorded]
        assert not missing


@given(table=cpu_tables(), capacity=st.integers(0, 300))
def test_truncation_keeps_a_prefix_of_the_full_walk(
    table: dict[LeafKey, Registers], capacity: int
) -> None:
    full = tablewalk.enumerate_from_table(list(table.items()), capacity=BIG)
    cut = tablewalk.enumerate_from_table(list(table.items()), capacity=capacity)
    assert cut.truncated == (len(full.entries) > capacity)
    assert cut.entries == full.entries[:capacity]


def test_hostile_maxima_do_not_hang_or_overflow() -> None:
    every = Registers(0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    # Every hypervisor base claiming 0xFF leaves: the most the walk can ever ask.
    table = [((base, 0), Registers(base + 0xFF, 0, 0, 0))
             for base in range(0x40000000, 0x4000FF01, 0x100)]
    table += [((base, 0), every) for base in (0, 0x20000000, 0x80000000, 0x80860000)]
    table += [((0xC0000000, 0), Registers(0xC00000FF, 0, 0, 0))]
    table += [((leaf, sub), every) for leaf in SUBLEAF_LEAVES for sub in range(100)]
    run = tablewalk.enumerate_from_table(table, capacity=BIG, query_capacity=BIG)
    assert not run.truncated
    assert run.query_count <= QUERY_BOUND
    got = tablewalk.table_of(run)
    assert got.range_max(0) == 0xFF  # basic max 0xFFFFFFFF is capped at a range span
    assert got.range_max(0x80000000) is None  # 0xFFFFFFFF is no extended maximum
    assert len(got.hypervisor_bases()) == 256
    assert got.range_max(0xC0000000) == 0xC00000FF
    # Basic, 256 hypervisor ranges, 0xC0000000; 12 basic leaves walk to the sub-leaf cap,
    # the three bitmap leaves (0xF, 0x10, 0x23) stop at bit 31.
    bitmap_leaves = (0xF, 0x10, 0x23)
    walkers = [leaf for leaf in SUBLEAF_LEAVES if leaf < 0x100 and leaf not in bitmap_leaves]
    assert len(got) == 256 + 256 * 256 + 256 + len(walkers) * (SUBLEAF_CAP - 1) + 3 * 31
    assert sum(1 for leaf, _ in got.leaves if leaf == 4) == SUBLEAF_CAP


def table_walk(entries: dict[LeafKey, Registers]) -> dict[int, list[int]]:
    """Sub-leaves recorded per leaf."""
    run = tablewalk.enumerate_from_table(list(entries.items()))
    walked: dict[int, list[int]] = {}
    for (leaf, subleaf), _ in run.entries:
        walked.setdefault(leaf, []).append(subleaf)
    return walked


def regs(eax: int = 0, ebx: int = 0, ecx: int = 0, edx: int = 0) -> Registers:
    return Registers(eax, ebx, ecx, edx)


def test_subleaf_rules_follow_each_leaf() -> None:
    entries = {
        (0, 0): regs(0x24),
        # 4: three caches, then type 0 ends the list (the terminator is kept)
        (4, 0): regs(0x121), (4, 1): regs(0x122), (4, 2): regs(0x143), (4, 3): regs(0),
        (7, 0): regs(2),  # 7: EAX = max sub-leaf
        # 0xB: SMT, core, then level type 0
        (0xB, 0): regs(ecx=0x100), (0xB, 1): regs(ecx=0x201), (0xB, 2): regs(ecx=2),
        # 0xD: XCR0 bits 0,1,2,5 (EAX) and bit 33 (EDX); XSS bit 8 (sub 1 ECX)
        (0xD, 0): regs(eax=0x27, edx=0x2), (0xD, 1): regs(ecx=0x100),
        (0xF, 0): regs(edx=0x2),  # 0xF: EDX bitmap -> sub 1
        (0x10, 0): regs(ebx=0xA),  # 0x10: EBX bitmap -> subs 1, 3
        (0x12, 2): regs(0x1), (0x12, 3): regs(0x1),  # 0x12: 0, 1, EPC 2, 3, then 4 (type 0)
        (0x14, 0): regs(1),
        (0x1F, 0): regs(ecx=0x100),
        (0x23, 0): regs(0b1011),  # 0x23: EAX bitmap -> subs 1, 3
        (0x80000000, 0): regs(0x80000026),
        (0x8000001D, 0): regs(0x121),
        (0x80000020, 0): regs(ebx=0x6),  # EBX bitmap -> subs 1, 2
        (0x80000026, 0): regs(ecx=0x100), (0x80000026, 1): regs(ecx=0x200),
    }
    walked = table_walk(entries)
    assert walked[4] == [0, 1, 2, 3]
    assert walked[7] == [0, 1, 2]
    assert walked[0xB] == [0, 1, 2]
    assert walked[0xD] == [0, 1, 2, 5, 8, 33]
    assert walked[0xF] == [0, 1]
    assert walked[0x10] == [0, 1, 3]
    assert walked[0x12] == [0, 1, 2, 3, 4]
    assert walked[0x14] == [0, 1]
    assert walked[0x1F] == [0, 1]  # sub 1 answers zeros: level type 0 ends it
    assert walked[0x23] == [0, 1, 3]
    assert walked[0x24] == [0]
    assert walked[0x8000001D] == [0, 1]
    assert walked[0x80000020] == [0, 1, 2]
    assert walked[0x80000026] == [0, 1, 2]
    assert walked[5] == [0]
    assert max(walked) == 0x80000026


def test_old_kvm_header_with_eax_zero_means_one_more_leaf() -> None:
    entries = {
        (0, 0): regs(1),
        (0x40000100, 0): Registers(0, *KVM_SIGNATURE_REGS),
        (0x40000101, 0): regs(0x7EFB),
        (0x40000102, 0): regs(0xBAD),  # past the implied max: must not be read
        (0x40000000, 0): regs(0, 1, 2, 3),  # EAX 0 without the KVM signature: no range
    }
    run = tablewalk.enumerate_from_table(list(entries.items()), query_capacity=BIG)
    got = {key for key, _ in run.entries}
    assert (0x40000100, 0) in got
    assert (0x40000101, 0) in got
    assert all(leaf != 0x40000102 for leaf, _ in run.queries)
    assert (0x40000000, 0) not in got


def test_intel_out_of_range_junk_is_not_a_header() -> None:
    entries = {
        (0, 0): regs(0x16, 0x756E6547, 0x6C65746E, 0x49656E69),
        (0x16, 0): regs(0x0BB8, 0x1068, 0x64),
        (0x80000000, 0): regs(0x80000008),
    }
    run = tablewalk.enumerate_from_table(list(entries.items()), intel_out_of_range=True)
    leaves = {leaf for (leaf, _), _ in run.entries}
    assert leaves == set(range(0x17)) | set(range(0x80000000, 0x80000009))


def test_bad_arguments_are_refused_not_crashed() -> None:
    loaded = native.load_lib()
    assert loaded is not None
    ffi, lib = loaded
    count = ffi.new("size_t *")
    assert lib.np_cpuid_snapshot(ffi.NULL, 10, count) == lib.NP_EINVAL
    assert lib.np_cpuid_snapshot_from_table(ffi.NULL, 3, 0, ffi.NULL, 0, count) == lib.NP_EINVAL
    assert lib.np_cpuid(0, 0, ffi.NULL) == lib.NP_EINVAL
    # Zero capacity is legal: nothing fits, so the walk is truncated at once.
    assert lib.np_cpuid_snapshot_from_table(ffi.NULL, 0, 0, ffi.NULL, 0, count) == 1
    assert count[0] == 0


def test_status_without_extension_is_a_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native, "_load", lambda: (None, "not built"))
    assert native.cpuid_status() == ("no-extension", "not built")
    assert native.load_lib() is None
    with pytest.raises(CpuidUnavailableError, match="not built"):
        native.cpuid(0)
    with pytest.raises(CpuidUnavailableError):
        native.read_cpuid_table()


def test_bench_and_proof_reach_the_extension_through_the_core(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """native/bench.py and native/proof.py load nothing themselves: without the core's
    extension the samplers are unavailable and the proof run says so in its record."""
    from nestprobe.native import bench, proof

    monkeypatch.setattr(native, "_load", lambda: (None, "not built"))
    assert not bench.bench_available()
    with pytest.raises(RuntimeError, match="bench samplers"):
        bench.bench_floor(1)
    record = proof.prove()
    assert (record.outcome, record.platform) == ("no-extension", "none")


# ---- the standalone nestprobe-dump (same enumeration, no Python) ---------------------

CSRC = Path(__file__).resolve().parents[2] / "csrc"


def build_tool(directory: Path, *make_args: str) -> Path:
    """``make nestprobe-dump`` in a scratch copy of csrc/ (the repo stays untouched)."""
    if shutil.which("make") is None or shutil.which("cc") is None:
        pytest.skip("needs make and cc")
    for source in [CSRC / "Makefile", *CSRC.glob("*.h"), *CSRC.glob("*.c")]:
        shutil.copy(source, directory / source.name)
    done = subprocess.run(["make", "-s", "-C", str(directory), "nestprobe-dump", *make_args],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return directory / "nestprobe-dump"


@pytest.fixture(scope="module")
def tool(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tool(tmp_path_factory.mktemp("tool"))


@requires_cpuid
def test_dump_tool_cpuid_section_parses_to_the_native_table(tool: Path, one_cpu: int) -> None:
    from nestprobe.sources.dumpfile import parse_dump

    done = subprocess.run([str(tool)], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "nestprobe-dump 1"
    assert lines[-1] == "end"
    parsed = parse_dump(done.stdout, "nestprobe-dump")
    table, truncated = native.read_cpuid_table()  # same CPU: the child inherited the pin
    assert parsed.cpuid_status == "ok"
    assert parsed.truncated == truncated
    assert parsed.cpuid == table
    assert parsed.os.machine == platform_machine()
    assert parsed.os.system == platform.system()


def platform_machine() -> str:
    from nestprobe.sources.osfacts import normalise_machine

    return normalise_machine(platform.machine())


def test_dump_tool_file_records_read_like_the_python_probe(tool: Path, tmp_path: Path) -> None:
    from nestprobe.sources.dumpfile import parse_dump
    from nestprobe.sources.osfacts import read_fact

    odd = tmp_path / "odd"
    odd.write_bytes(b'caf\xc3\xa9 "q" \\ \x00\x01\x7f\t\r\n\xff\xfe end\n')
    locked = tmp_path / "locked"
    locked.write_text("secret\n", encoding="utf-8")
    locked.chmod(0)
    spaced = tmp_path / "with space"
    spaced.write_text("x\n", encoding="utf-8")
    paths = [str(odd), str(tmp_path), str(tmp_path / "missing"), "/proc/cpuinfo", str(spaced)]
    if os.geteuid() != 0:  # root reads mode-0 files anyway
        paths.append(str(locked))
    args = [a for p in paths for a in ("--file", p)]
    done = subprocess.run([str(tool), *args], capture_output=True, check=False, timeout=60)
    assert done.returncode in (0, 3)
    text = done.stdout.decode("ascii")  # every byte >= 0x80 went out as \u00XX
    parsed = parse_dump(text, "nestprobe-dump")
    for path in paths:
        assert parsed.os.files[path] == read_fact("/", path), path
    assert parsed.os.files[str(odd)].state == "ok"
    assert parsed.os.files[str(tmp_path)].state == "dir"
    assert parsed.os.files[str(tmp_path / "missing")].state == "absent"


def test_dump_tool_refuses_bad_arguments(tool: Path) -> None:
    for args in (["--bogus"], ["--file"], ["--file", "relative"], ["--file", "/a\tb"],
                 ["--file", "/caf\u00e9"], ["--list-facts", "--file", "/x"]):
        done = subprocess.run([str(tool), *args], capture_output=True, text=True, check=False,
                              timeout=60)
        assert done.returncode == 2, args
        assert done.stdout == ""
        assert "usage" in done.stderr


@pytest.mark.skipif(shutil.which("ldd") is None, reason="needs ldd")
def test_dump_tool_links_statically(tmp_path: Path) -> None:
    static = build_tool(tmp_path, "STATIC=1")
    ldd = subprocess.run(["ldd", str(static)], capture_output=True, text=True, check=False,
                         timeout=60)
    assert "not a dynamic executable" in ldd.stdout + ldd.stderr
    done = subprocess.run([str(static)], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode in (0, 3)
    assert done.stdout.splitlines()[-1] == "end"


@pytest.mark.skipif(
    shutil.which("aarch64-linux-gnu-gcc") is None or shutil.which("qemu-aarch64-static") is None,
    reason="needs an aarch64 cross compiler and qemu-user",
)
def test_dump_tool_on_non_x86_says_why_and_exits_3(tmp_path: Path) -> None:
    from nestprobe.sources.dumpfile import parse_dump

    cross = build_tool(tmp_path, "CC=aarch64-linux-gnu-gcc", "STATIC=1")
    done = subprocess.run(["qemu-aarch64-static", str(cross)], capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 3, done.stderr
    parsed = parse_dump(done.stdout, "nestprobe-dump")
    assert parsed.cpuid_status == "not-x86"
    assert parsed.os.machine == "aarch64"
    assert len(parsed.cpuid) == 0
    assert parsed.cpuid_detail is not None
