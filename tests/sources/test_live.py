"""The live snapshot against this machine's own view of itself (/proc/cpuinfo)."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from nestprobe import native
from nestprobe.model.snapshot import CpuidTable, Snapshot
from nestprobe.sources import live

pytestmark = pytest.mark.live

CPUINFO = Path("/proc/cpuinfo")

#: (flag, leaf, register index, bit): Linux X86_FEATURE_* words 4, 4 and 6.
FLAG_BITS = (
    ("hypervisor", 0x1, 2, 31),
    ("vmx", 0x1, 2, 5),
    ("svm", 0x80000001, 2, 2),
)
#: The kernel clears these when firmware (or a hypervisor's MSR) disabled them.
MAY_BE_HIDDEN = frozenset({"vmx", "svm"})


def cpuinfo_flags() -> set[str]:
    if not CPUINFO.is_file():
        pytest.skip("no /proc/cpuinfo")
    for line in CPUINFO.read_text(encoding="utf-8", errors="replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return set(value.split())
    pytest.skip("/proc/cpuinfo has no flags line")


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return live.live_snapshot(timing=False)


def bit(table: CpuidTable, leaf: int, register: int, index: int) -> bool:
    regs = table.get(leaf)
    return regs is not None and bool(regs[register] >> index & 1)


@pytest.mark.parametrize(("flag", "leaf", "register", "index"), FLAG_BITS)
def test_cpuinfo_flags_agree_with_cpuid(
    snapshot: Snapshot, flag: str, leaf: int, register: int, index: int
) -> None:
    if snapshot.cpuid_status != "ok":
        pytest.skip(f"CPUID not available: {snapshot.cpuid_detail}")
    flags = cpuinfo_flags()
    has_bit = bit(snapshot.cpuid, leaf, register, index)
    if flag in flags:
        assert has_bit, f"/proc/cpuinfo shows {flag} but CPUID.{leaf:#x} bit {index} is clear"
    elif flag not in MAY_BE_HIDDEN:
        assert not has_bit, f"CPUID.{leaf:#x} bit {index} is set but /proc/cpuinfo lacks {flag}"


def test_live_snapshot_is_live_and_consistent(snapshot: Snapshot) -> None:
    assert snapshot.origin.kind == "live"
    assert snapshot.latency is None  # timing=False
    expected, _ = native.cpuid_status()
    if platform.machine().lower() not in {"x86_64", "amd64", "i686", "i386"}:
        expected = "not-x86"
    assert snapshot.cpuid_status == expected
    if expected == "ok":
        assert not snapshot.truncated
        assert snapshot.cpuid.get(0) is not None
        assert snapshot.cpuid_detail is None
    else:
        assert len(snapshot.cpuid) == 0
        assert snapshot.cpuid_detail
    assert snapshot.os.system == platform.system()


def test_live_snapshot_with_timing_never_raises() -> None:
    got = live.live_snapshot(timing=True)
    if got.cpuid_status != "ok":
        assert got.latency is None


def test_not_x86_machine_yields_empty_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("nestprobe.sources.osfacts.this_machine", lambda: "aarch64")
    got = live.live_snapshot(timing=True)
    assert got.cpuid_status == "not-x86"
    assert len(got.cpuid) == 0
    assert got.latency is None
    assert got.cpuid_detail is not None
    assert "aarch64" in got.cpuid_detail


@pytest.mark.parametrize(
    ("status", "detail"),
    [("faulting", native.FAULTING_DETAIL), ("no-extension", "not built")],
)
def test_cpuid_unavailable_is_a_state(
    monkeypatch: pytest.MonkeyPatch, status: str, detail: str
) -> None:
    monkeypatch.setattr("nestprobe.sources.osfacts.this_machine", lambda: "x86_64")
    monkeypatch.setattr(native, "cpuid_status", lambda: (status, detail))

    def must_not_run(*_: object, **__: object) -> None:
        raise AssertionError("CPUID or timing ran although the status said it cannot")

    monkeypatch.setattr(native, "read_cpuid_table", must_not_run)
    monkeypatch.setattr("nestprobe.sources.latency.measure_latency", must_not_run)
    monkeypatch.setattr(native, "timing_sample", must_not_run)
    got = live.live_snapshot(timing=True)
    assert (got.cpuid_status, got.cpuid_detail) == (status, detail)
    assert len(got.cpuid) == 0
    assert got.latency is None
