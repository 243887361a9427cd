"""Timing: statistics, TSC frequency choice, affinity restore, the native sampler, bands."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nestprobe.assess import bands
from nestprobe.model.latency import LatencyRecord
from nestprobe.model.record import replace
from nestprobe.sources import latency as measure
from nestprobe.sources.latency import (
    MIN_CALIBRATION_NS,
    QUICK,
    Plan,
    RawLatency,
    batch_estimate,
    percentile,
    pinned,
    summarise,
    tsc_frequency,
)

HAS_AFFINITY = hasattr(os, "sched_getaffinity")


def native_or_skip() -> tuple[Any, Any]:
    from nestprobe import native

    pair = native.load_lib()
    if pair is None or native.cpuid_status()[0] != "ok":
        pytest.skip("needs the compiled extension and runnable CPUID")
    return pair.ffi, pair.lib


# ---- statistics ------------------------------------------------------------------------


def test_percentile_nearest_rank() -> None:
    values = list(range(1, 101))  # 1..100
    assert percentile(values, 10) == 10
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile(values, 0) == 1
    assert percentile([7], 10) == 7


def test_percentile_of_nothing_raises() -> None:
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 10)


@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=300), st.floats(0, 100))
def test_percentile_is_a_sample_and_bounded(values: list[int], q: float) -> None:
    got = percentile(values, q)
    assert got in values
    assert min(values) <= got <= max(values)


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=200))
def test_percentile_monotone_in_q(values: list[int]) -> None:
    qs = [0, 10, 25, 50, 75, 90, 99, 100]
    got = [percentile(values, q) for q in qs]
    assert got == sorted(got)


def test_batch_estimate_ignores_a_disturbed_batch_and_outliers() -> None:
    quiet = [9000 + i for i in range(100)]  # p10 = 9009
    disturbed = [12000 + i for i in range(100)]  # a noisy host episode: every sample higher
    spiky = [9100 + i for i in range(90)] + [10**7] * 10  # preemptions in the top decile
    assert batch_estimate([disturbed, quiet, spiky]) == 9009
    # a few impossibly low samples (below p10) do not drag the estimate down
    lows = [5] * 5 + [9050] * 95
    assert batch_estimate([lows]) == 9050


def test_batch_estimate_needs_samples() -> None:
    with pytest.raises(ValueError, match="no batch"):
        batch_estimate([[], []])


def _raw(cpuid: list[list[list[int]]], baseline: list[list[int]]) -> RawLatency:
    plan = replace(QUICK, batches=len(cpuid), leaves=tuple(range(len(cpuid[0]))))
    return RawLatency(
        plan=plan,
        baseline=tuple(tuple(b) for b in baseline),
        cpuid=tuple(tuple(tuple(leaf) for leaf in batch) for batch in cpuid),
        tsc_hz=2.6e9,
        tsc_hz_source="calibrated:CLOCK_MONOTONIC_RAW",
        tsc_quantum_ticks=26,
        tsc_min_step_ticks=26,
        pinned_cpu=1,
        wall_ns=1234,
    )


def test_summarise_pools_leaves_per_batch_and_never_uses_the_mean() -> None:
    batch_a = [[1000 + 10 * i for i in range(10)], [2000 + 10 * i for i in range(10)]]
    batch_b = [[900 + 10 * i for i in range(10)], [5000] * 10]
    raw = _raw([batch_a, batch_b], [[26] * 20, [52] * 20])
    record = summarise(raw)
    pooled_a = sorted(batch_a[0] + batch_a[1])
    pooled_b = sorted(batch_b[0] + batch_b[1])
    assert record.cpuid_ticks == min(pooled_a[1], pooled_b[1])  # p10 of 20 = 2nd value
    every = sorted(pooled_a + pooled_b)
    assert record.median_ticks == every[19]
    assert record.p99_ticks == every[39]
    assert record.baseline_ticks == 26
    assert record.samples == 40
    assert record.batches == 2
    assert record.mode == "quick"
    assert record.wall_ns == 1234
    mean = sum(every) / len(every)
    assert mean not in (record.cpuid_ticks, record.median_ticks)


# ---- TSC frequency --------------------------------------------------------------------


def _leaves(
    d: int = 0, n: int = 0, crystal: int = 0, base_mhz: int = 0, khz: int = 0
) -> list[int]:
    return [0x1C, d, n, crystal, base_mhz, 1, 0x40000010 if khz else 0, khz]


CAL = (0, 0, 2_600_000_000 // 100, 10_000_000)  # 26 M ticks in 10 ms: 2.6 GHz


def test_tsc_frequency_prefers_hypervisor_leaf_then_crystal_then_calibration_then_base() -> None:
    everything = _leaves(d=2, n=200, crystal=25_000_000, base_mhz=2100, khz=2_995_000)
    assert tsc_frequency(everything, CAL) == (2_995_000e3, "CPUID.0x40000010:EAX")
    crystal = _leaves(d=2, n=200, crystal=25_000_000, base_mhz=2100)
    assert tsc_frequency(crystal, CAL) == (2_500_000_000, "CPUID.0x15:EAX,EBX,ECX")
    no_crystal = _leaves(d=2, n=200, crystal=0, base_mhz=2100)
    hz, source = tsc_frequency(no_crystal, CAL)
    assert source == "calibrated:CLOCK_MONOTONIC_RAW"
    assert hz == pytest.approx(2.6e9)
    assert tsc_frequency(no_crystal, None) == (2100e6, "CPUID.0x16:EAX")
    assert tsc_frequency([], None) == (None, None)


def test_tsc_frequency_rejects_short_windows_and_junk() -> None:
    short = (0, 0, 26_000, 10_000)  # 10 µs window: too short to trust
    assert tsc_frequency(_leaves(), short) == (None, None)
    junk = _leaves(khz=5)  # 5 kHz "TSC": junk from a broken leaf
    assert tsc_frequency(junk, None) == (None, None)


# ---- affinity -------------------------------------------------------------------------


@pytest.fixture
def restore_affinity() -> Iterator[set[int]]:
    if not HAS_AFFINITY:
        pytest.skip("no sched_getaffinity here")
    before = os.sched_getaffinity(0)
    yield before
    os.sched_setaffinity(0, before)


def test_pinned_restores_affinity(restore_affinity: set[int]) -> None:
    with pinned() as cpu:
        assert cpu in restore_affinity
        assert os.sched_getaffinity(0) == {cpu}
    assert os.sched_getaffinity(0) == restore_affinity


def test_pinned_restores_affinity_on_error(restore_affinity: set[int]) -> None:
    seen: list[set[int]] = []

    def fail_while_pinned() -> None:
        with pinned():
            seen.append(os.sched_getaffinity(0))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_while_pinned()
    assert len(seen[0]) == 1
    assert os.sched_getaffinity(0) == restore_affinity


def test_pinned_to_a_forbidden_cpu_runs_unpinned(restore_affinity: set[int]) -> None:
    missing = max(restore_affinity) + 4096
    with pinned(missing) as cpu:
        assert cpu is None
        assert os.sched_getaffinity(0) == restore_affinity
    assert os.sched_getaffinity(0) == restore_affinity


@pytest.mark.skipif(sys.platform == "win32",
                    reason="Windows pins through the C core (tests/native/test_native_os.py)")
def test_pinned_without_affinity_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_setaffinity", raising=False)
    with pinned() as cpu:
        assert cpu is None


def test_pinned_falls_back_when_restore_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[set[int]] = []

    def setter(_pid: int, cpus: set[int]) -> None:
        calls.append(set(cpus))
        if len(calls) == 2:  # the restore: a CPU went offline meanwhile
            raise OSError(22, "Invalid argument")

    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "sched_setaffinity", setter, raising=False)
    with pinned() as cpu:
        assert cpu == 1
    assert calls[0] == {1}
    assert calls[1] == {0, 1}
    assert len(calls) == 3
    assert len(calls[2]) >= 1  # never left pinned to one CPU by our hand


@pytest.mark.native
def test_measure_latency_restores_affinity_when_sampling_fails(
    restore_affinity: set[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    native_or_skip()

    def broken(*_args: object) -> None:
        assert len(os.sched_getaffinity(0)) == 1  # it was pinned when it failed
        raise RuntimeError("sampler failed")

    monkeypatch.setattr(measure, "_sample_batch", broken)
    with pytest.raises(RuntimeError, match="sampler failed"):
        measure.measure_latency()
    assert os.sched_getaffinity(0) == restore_affinity


# ---- unavailable CPUID ------------------------------------------------------------------


@pytest.mark.parametrize("status", ["faulting", "not-x86", "no-extension"])
def test_measure_latency_none_when_cpuid_unusable(
    status: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nestprobe import native

    monkeypatch.setattr(native, "cpuid_status", lambda: (status, "test"))
    assert measure.measure_latency() is None
    assert measure.collect() is None


def test_measure_latency_none_under_real_cpuid_faulting() -> None:
    """ARCH_SET_CPUID 0 makes CPUID fault (SIGSEGV); the probe must notice, not crash."""
    if sys.platform != "linux" or os.uname().machine != "x86_64":
        pytest.skip("arch_prctl CPUID faulting is x86-64 Linux only")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(158, 0x1012, 0) != 0:  # SYS_arch_prctl, ARCH_SET_CPUID, 0
        pytest.skip(f"CPUID faulting unsupported here (errno {ctypes.get_errno()})")
    libc.syscall(158, 0x1012, 1)
    script = textwrap.dedent("""
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        assert libc.syscall(158, 0x1012, 0) == 0
        from nestprobe.sources.latency import measure_latency
        print(measure_latency())
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"


# ---- the native sampler and a real measurement ----------------------------------------


@pytest.mark.native
def test_native_sampler_layout_and_rejects_null() -> None:
    ffi, lib = native_or_skip()
    leaves = ffi.new("uint32_t[]", [0, 0x40000000])
    rounds = 50
    out = ffi.new("uint64_t[]", rounds * 3)
    assert lib.npt_sample(leaves, 2, 5, rounds, out) == lib.NPT_OK
    rows = [list(out[r * 3 : r * 3 + 3]) for r in range(rounds)]
    baseline = sorted(r[0] for r in rows)
    cpuid0 = sorted(r[1] for r in rows)
    assert all(v > 0 for r in rows for v in r)
    # CPUID serialises and (in a VM) exits: it can never beat the empty bracket
    assert cpuid0[rounds // 2] > baseline[rounds // 2]
    assert lib.npt_sample(ffi.NULL, 2, 0, rounds, out) == lib.NPT_EINVAL
    assert lib.npt_sample(leaves, 2, 0, rounds, ffi.NULL) == lib.NPT_EINVAL
    gcd, step = ffi.new("uint64_t *"), ffi.new("uint64_t *")
    assert lib.npt_tsc_granularity(0, gcd, step) == lib.NPT_EINVAL
    assert lib.npt_tsc_granularity(100, gcd, step) == lib.NPT_OK
    assert step[0] == 0 or step[0] % gcd[0] == 0


@pytest.mark.native
def test_native_tsc_leaves_agree_with_cpuid() -> None:
    from nestprobe import native

    ffi, lib = native_or_skip()
    out = ffi.new("uint32_t[8]")
    assert lib.npt_tsc_leaves(out) == lib.NPT_OK
    assert out[0] == native.cpuid(0).eax
    assert out[5] == (native.cpuid(1).ecx >> 31) & 1


@pytest.mark.native
def test_measure_latency_live(restore_affinity: set[int]) -> None:
    native_or_skip()
    record = measure.measure_latency()
    assert record is not None
    assert os.sched_getaffinity(0) == restore_affinity
    assert record.pinned_cpu in restore_affinity
    assert record.samples == QUICK.batches * QUICK.rounds * len(QUICK.leaves)
    assert record.batches == QUICK.batches
    assert record.baseline_ticks <= record.cpuid_ticks <= record.median_ticks <= record.p99_ticks
    assert record.wall_ns is not None
    assert record.wall_ns > 0
    if record.tsc_quantum_ticks is not None:
        assert record.cpuid_ticks % record.tsc_quantum_ticks == 0
    assert LatencyRecord.from_dict(record.to_dict()) == record


@pytest.mark.native
def test_collect_reports_progress() -> None:
    native_or_skip()
    seen: list[tuple[int, int]] = []
    plan = Plan(name="tiny", batches=3, rounds=5, warmup=1, gap_s=0.0, leaves=(0,))
    raw = measure.collect(plan, progress=lambda done, total: seen.append((done, total)))
    assert raw is not None
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert [len(b) for b in raw.baseline] == [5, 5, 5]
    assert len(raw.leaf_samples(0)) == 15


def _sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every sleep the sampler asks for, recorded (and still slept)."""
    import time

    slept: list[float] = []
    real = time.sleep

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        real(seconds)

    monkeypatch.setattr(measure.time, "sleep", sleep)
    return slept


def _busy(seconds: float) -> None:
    import time

    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _tiny_sampler(*, batches: int = 1, gap_s: float = 0.0) -> measure.Sampler:
    """A sampler of a tiny plan (five rounds of leaf 0 a batch), pinned nowhere."""
    native_or_skip()
    sampler = measure.start(Plan(name="tiny", batches=batches, rounds=5, warmup=1,
                                 gap_s=gap_s, leaves=(0,)), None)
    assert sampler is not None
    return sampler


@pytest.mark.native
def test_sampler_sleeps_only_the_gap_the_callers_work_left(
        monkeypatch: pytest.MonkeyPatch) -> None:
    sampler = _tiny_sampler(batches=3, gap_s=0.05)
    monkeypatch.setattr("nestprobe.native.tsc_leaves", lambda: [0, 1, 2, 3] + [0] * 3 + [2_000_000])
    slept = _sleeps(monkeypatch)
    sampler.batch()
    _busy(0.06)  # more than the gap: no sleep before the next batch
    sampler.batch()
    assert slept == []
    raw = sampler.finish()  # the third batch is owed at once: nearly the whole gap is slept
    assert len(slept) == 1
    assert 0.03 < slept[0] <= 0.05
    assert raw.tsc_hz_source == "CPUID.0x40000010:EAX"  # stated: no calibration window
    assert len(raw.cpuid) == 3


@pytest.mark.native
def test_sampler_time_is_its_own_not_the_work_between_batches() -> None:
    sampler = _tiny_sampler(batches=2)
    sampler.batch()
    _busy(0.05)
    raw = sampler.finish()
    assert 0 < raw.wall_ns < 50_000_000


@pytest.mark.native
def test_sampler_without_a_stated_tsc_frequency_waits_out_the_calibration_window(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    sampler = _tiny_sampler()
    monkeypatch.setattr("nestprobe.native.tsc_leaves", lambda: [0x16] + [0] * 7)
    slept = _sleeps(monkeypatch)
    raw = sampler.finish()
    # The window was waited out (with its margin), by sleeping what the batch left of it,
    # never more: how much that is depends on how long the batch took on a busy machine.
    assert time.perf_counter_ns() - sampler._opened_ns >= MIN_CALIBRATION_NS
    assert slept
    assert 0 < sum(slept) <= (MIN_CALIBRATION_NS * 1.02) / 1e9
    assert raw.tsc_hz_source is not None
    assert raw.tsc_hz_source.startswith("calibrated:")


@pytest.mark.native
def test_sampler_without_a_first_clock_pair_does_not_wait_to_calibrate(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(measure, "_clock_pair", lambda: None)  # the first pair is missing
    sampler = _tiny_sampler()
    monkeypatch.setattr("nestprobe.native.tsc_leaves", lambda: [0x16] + [0] * 7)
    slept = _sleeps(monkeypatch)
    raw = sampler.finish()
    assert slept == []
    assert raw.tsc_hz_source is None


@pytest.mark.native
def test_sampler_takes_no_more_batches_than_its_plan() -> None:
    sampler = _tiny_sampler(batches=2)
    for _ in range(4):
        sampler.batch()
    raw = sampler.finish()
    assert len(raw.cpuid) == len(raw.baseline) == 2
    assert summarise(raw).batches == 2


@pytest.mark.native
@pytest.mark.parametrize("begun", [False, True], ids=["live_snapshot", "start_live_snapshot"])
def test_live_quick_timing_runs_between_the_probe_steps(monkeypatch: pytest.MonkeyPatch,
                                                        begun: bool) -> None:
    """The CPUID walk and /dev/kvm's ioctls are the batches' gaps. Begun (the CLI's way),
    the pinned part runs in a thread of its own and the caller's thread reads the OS facts
    meanwhile; otherwise all of it runs in the caller's, the OS facts last."""
    import _thread

    from nestprobe import native
    from nestprobe.sources import live

    native_or_skip()
    order: list[tuple[str, int]] = []

    def note(step: str) -> None:
        order.append((step, _thread.get_ident()))

    sample, walk = native.timing_sample, native.read_cpuid_table
    monkeypatch.setattr(native, "timing_sample", lambda *a: note("batch") or sample(*a))
    monkeypatch.setattr(native, "read_cpuid_table", lambda: note("walk") or walk())
    from nestprobe.sources import osfacts

    facts, kvm = osfacts.collect_os_facts, osfacts.kvm_fact
    monkeypatch.setattr(osfacts, "collect_os_facts",
                        lambda root, **how: note("os") or facts(root, **how))
    monkeypatch.setattr(osfacts, "kvm_fact", lambda *a: note("kvm") or kvm(*a))
    snapshot = (live.start_live_snapshot(timing=True)() if begun
                else live.live_snapshot(timing=True))
    caller = _thread.get_ident()
    pinned_steps = ["batch", "walk", "batch", "kvm", "batch"]
    if begun:
        assert [step for step, thread in order if thread == caller] == ["os"]
        pinned = {thread for step, thread in order if step != "os"}
        assert len(pinned) == 1
        assert caller not in pinned
        assert [step for step, _ in order if step != "os"] == pinned_steps
    else:
        assert order == [(step, caller) for step in [*pinned_steps, "os"]]
    assert snapshot.os.kvm == kvm(osfacts.this_system(), True)
    assert snapshot.latency is not None
    assert snapshot.latency.batches == QUICK.batches
    assert snapshot.latency.samples == QUICK.batches * QUICK.rounds * len(QUICK.leaves)


# ---- record ---------------------------------------------------------------------------


def _record(**changes: object) -> LatencyRecord:
    base = LatencyRecord(
        cpuid_ticks=9022.0, median_ticks=9100.0, p99_ticks=11000.0, baseline_ticks=26.0,
        tsc_hz=2.596e9, tsc_hz_source="calibrated:CLOCK_MONOTONIC_RAW", tsc_quantum_ticks=26,
        samples=360, batches=3, leaves=(0, 1, 0x40000000), pinned_cpu=1,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_record_round_trip_and_old_dumps_still_load() -> None:
    record = _record(mode="thorough", wall_ns=5)
    assert LatencyRecord.from_dict(record.to_dict()) == record
    old = record.to_dict()
    del old["mode"], old["wall_ns"]  # written before those fields existed
    assert LatencyRecord.from_dict(old) == _record()
    with pytest.raises(ValueError, match="unknown latency fields"):
        LatencyRecord.from_dict({**record.to_dict(), "mean": 1})


def test_record_net_ticks_and_ns() -> None:
    record = _record()
    assert record.net_ticks == 9022.0 - 26.0
    assert record.ns(2596.0) == pytest.approx(1000.0)
    assert _record(tsc_hz=None).ns(100.0) is None
    assert _record(cpuid_ticks=20.0, baseline_ticks=26.0).net_ticks == 0.0


# ---- bands ----------------------------------------------------------------------------


def test_bands_are_contiguous_and_cited() -> None:
    assert bands.BANDS[0].low == 0
    for below, above in zip(bands.BANDS, bands.BANDS[1:], strict=False):
        assert below.high == above.low
        assert below.likely <= above.likely
    assert bands.BANDS[-1].high is None
    # every band rests on at least one published figure, not only on nestprobe's own [D]
    # boundaries (the keys are checked against docs/sources.md in test_sources_doc.py)
    for band in bands.BANDS:
        assert any(not part.strip().startswith("[D]") for part in band.source.split(";")), band


@pytest.mark.parametrize(
    ("ticks", "band", "likely"),
    [(108, "bare-metal", 0), (1_050, "l1-hardware", 1), (1_600, "l1-hardware", 1),
     (4_000, "l1-slow", 1), (8_304, "nested", 2), (9_022, "nested", 2),
     (18_890, "nested", 2), (45_000, "very-slow", 2)],
)
def test_published_figures_land_in_their_bands(ticks: int, band: str, likely: int) -> None:
    call = bands.classify(_record(cpuid_ticks=ticks + 26.0, median_ticks=ticks + 60.0,
                                  tsc_hz=bands.REFERENCE_TSC_HZ))
    assert call.band.name == band
    assert call.likely == likely
    assert not call.noisy


def test_classify_rescales_by_tsc_frequency() -> None:
    # 1,000 ns of exit: 2,600 ticks at 2.6 GHz (l1-slow) but 1,000 ticks on a 1 GHz TSC.
    slow_tsc = bands.classify(_record(cpuid_ticks=1026.0, median_ticks=1030.0, tsc_hz=1e9))
    assert slow_tsc.rescaled
    assert slow_tsc.reference_ticks == pytest.approx(2600.0)
    assert slow_tsc.band.name == "l1-slow"
    raw = bands.classify(_record(cpuid_ticks=1026.0, median_ticks=1030.0, tsc_hz=None))
    assert not raw.rescaled
    assert raw.band.name == "l1-hardware"


def test_classify_lowers_confidence_when_noisy() -> None:
    quiet = bands.classify(_record())
    noisy = bands.classify(_record(median_ticks=20_000.0))
    assert quiet.confidence == "medium"
    assert noisy.noisy
    assert noisy.confidence == "low"
    assert bands.lower("low", 5) == "none"
