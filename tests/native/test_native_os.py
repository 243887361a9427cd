"""The C core's OS-specific parts: the reference clock of the TSC calibration, and thread
pinning where Python has no sched_setaffinity (Windows). Each runs on its own OS and checks
the other OSes answer "not here"."""

from __future__ import annotations

import sys
import time

import pytest

from nestprobe import native
from nestprobe.sources import affinity, winaffinity
from nestprobe.sources import latency as measure

pytestmark = [
    pytest.mark.native,
    pytest.mark.skipif(native.cpuid_status()[0] != "ok", reason="CPUID/TSC do not run here"),
]
WINDOWS = sys.platform == "win32"


def clock_pair() -> tuple[int, int]:
    ffi, lib = native.load_lib() or (None, None)
    assert ffi is not None
    tsc, ns, span = ffi.new("uint64_t *"), ffi.new("uint64_t *"), ffi.new("uint64_t *")
    assert lib.npt_clock_pair(5, tsc, ns, span) == lib.NPT_OK
    return int(tsc[0]), int(ns[0])


def test_clock_name_is_this_os_reference_clock() -> None:
    ffi, lib = native.load_lib() or (None, None)
    assert ffi is not None
    name = ffi.string(lib.npt_clock_name()).decode()
    assert name == ("QueryPerformanceCounter" if WINDOWS else "CLOCK_MONOTONIC_RAW")


@pytest.mark.skipif(not WINDOWS, reason="QueryPerformanceCounter is Windows'")
def test_qpc_nanoseconds_agree_with_perf_counter() -> None:
    """Python's perf_counter_ns is QueryPerformanceCounter scaled to ns on Windows
    (CPython Python/pytime.c): it must bracket the C core's conversion."""
    for _ in range(5):
        before = time.perf_counter_ns()
        _, ns = clock_pair()
        after = time.perf_counter_ns()
        assert before - 1000 <= ns <= after + 1000  # rounding of two divisions: < 1 µs


@pytest.mark.skipif(WINDOWS or not hasattr(time, "CLOCK_MONOTONIC_RAW"),
                    reason="CLOCK_MONOTONIC_RAW is Linux's")
def test_monotonic_raw_nanoseconds_agree_with_time_module() -> None:
    for _ in range(5):
        before = time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW)
        _, ns = clock_pair()
        after = time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW)
        assert before <= ns <= after


def test_calibration_names_the_clock_it_used() -> None:
    raw = measure.collect(measure.QUICK)
    assert raw is not None
    if raw.tsc_hz_source is not None and raw.tsc_hz_source.startswith("calibrated:"):
        clock = "QueryPerformanceCounter" if WINDOWS else "CLOCK_MONOTONIC_RAW"
        assert raw.tsc_hz_source == f"calibrated:{clock}"


def test_two_clock_pairs_give_a_sane_tsc_rate() -> None:
    tsc0, ns0 = clock_pair()
    time.sleep(0.02)
    tsc1, ns1 = clock_pair()
    hz, source = measure.tsc_frequency([], (tsc0, ns0, tsc1, ns1), "ref")
    assert source == "calibrated:ref"
    assert hz is not None
    assert measure.SANE_TSC_HZ[0] <= hz <= measure.SANE_TSC_HZ[1]


# ---- thread affinity -------------------------------------------------------------------


@pytest.mark.skipif(WINDOWS, reason="checks the non-Windows answer")
def test_affinity_calls_answer_enotsup_off_windows() -> None:
    ffi, lib = native.load_lib() or (None, None)
    assert ffi is not None
    mask = ffi.new("uint64_t *")
    assert lib.npt_allowed_cpus(mask) == lib.NPT_ENOTSUP
    assert lib.npt_pin_thread(0, mask) == lib.NPT_ENOTSUP
    assert lib.npt_restore_thread(1) == lib.NPT_ENOTSUP
    assert winaffinity.allowed_cpus() is None
    assert winaffinity.pin_thread(0) is None
    assert native.allowed_cpu_mask() is None
    assert native.pin_thread(0) is None


def current_processor() -> int:
    import ctypes

    return int(ctypes.windll.kernel32.GetCurrentProcessorNumber())  # type: ignore[attr-defined]


@pytest.mark.skipif(not WINDOWS, reason="SetThreadAffinityMask is Windows'")
def test_windows_pinning_runs_on_the_cpu_and_restores_the_mask() -> None:
    allowed = winaffinity.allowed_cpus()
    assert allowed
    original = winaffinity.pin_thread(min(allowed))  # learn the thread's mask ...
    assert original is not None
    assert winaffinity.restore_thread(original)  # ... and put it back
    for cpu in sorted(allowed):
        with affinity.pinned(cpu) as where:
            assert where == cpu
            assert all(current_processor() == cpu for _ in range(20))
        probe = winaffinity.pin_thread(cpu)  # the mask before this pin: the restored one
        assert probe == original
        assert winaffinity.restore_thread(original)


@pytest.mark.skipif(not WINDOWS, reason="SetThreadAffinityMask is Windows'")
def test_windows_refuses_a_cpu_outside_the_process_mask() -> None:
    allowed = winaffinity.allowed_cpus()
    assert allowed
    outside = max(allowed) + 1
    assert winaffinity.pin_thread(outside) is None  # the OS says no; nothing changed
    with affinity.pinned(outside) as cpu:
        assert cpu is None
    assert winaffinity.pin_thread(64) is None  # past the 64-bit mask: refused before C


@pytest.mark.skipif(not WINDOWS, reason="the sampler pins through the C core on Windows")
def test_sampler_pins_on_windows() -> None:
    allowed = winaffinity.allowed_cpus()
    assert allowed
    raw = measure.collect(measure.QUICK)
    assert raw is not None
    assert raw.pinned_cpu == max(allowed)
    assert raw.tsc_hz is not None
