"""One pinning module (sources/affinity.py) for the probe, the latency sampler and the bench:
the CPU a live snapshot names is the CPU that ran its CPUIDs."""

from __future__ import annotations

import _thread
import os
from collections.abc import Iterator
from typing import Any

import pytest

from nestprobe import native
from nestprobe.model.errors import CpuSelectionError
from nestprobe.model.snapshot import CpuidTable, OsFacts
from nestprobe.sources import affinity, live, osfacts

HAS_AFFINITY = hasattr(os, "sched_getaffinity") and hasattr(os, "sched_setaffinity")
needs_cpuid = pytest.mark.skipif(native.cpuid_status()[0] != "ok",
                                 reason="CPUID does not run here (no extension or not x86)")


@pytest.fixture
def allowed() -> Iterator[set[int]]:
    if not HAS_AFFINITY:
        pytest.skip("no sched_getaffinity here (Windows: tests/native/test_native_os.py)")
    before = set(os.sched_getaffinity(0))
    yield before
    assert os.sched_getaffinity(0) == before  # every path put the affinity back


def spy_cpuid(monkeypatch: pytest.MonkeyPatch) -> list[set[int]]:
    """Record the thread's affinity each time the live probe enumerates CPUID."""
    seen: list[set[int]] = []
    real = native.read_cpuid_table

    def spying(*args: Any, **kwargs: Any) -> tuple[CpuidTable, bool]:
        seen.append(set(os.sched_getaffinity(0)))
        return real(*args, **kwargs)

    monkeypatch.setattr(native, "read_cpuid_table", spying)
    return seen


def apic_id(table: CpuidTable) -> int:
    regs = table.get(0x1)
    assert regs is not None
    return regs[1] >> 24  # CPUID.1:EBX[31:24], the initial APIC id: differs per logical CPU


def apic_id_on(cpu: int) -> int:
    with affinity.running_on(cpu):
        return native.cpuid(0x1)[1] >> 24


@pytest.mark.native
@needs_cpuid
def test_without_cpu_the_origin_is_the_cpu_that_ran_cpuid(
    allowed: set[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = spy_cpuid(monkeypatch)
    snap = live.live_snapshot(timing=True)
    cpu = snap.origin.cpu
    assert cpu == affinity.pick_cpu(allowed)
    assert seen == [{cpu}]  # the enumeration ran pinned to exactly that CPU
    assert snap.latency is not None
    assert snap.latency.pinned_cpu == cpu
    assert apic_id(snap.cpuid) == apic_id_on(cpu)


@pytest.mark.native
@needs_cpuid
def test_with_cpu_every_cpuid_runs_there(allowed: set[int],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    seen = spy_cpuid(monkeypatch)
    for cpu in sorted(allowed):
        snap = live.live_snapshot(timing=True, cpu=cpu)
        assert snap.origin.cpu == cpu
        assert seen[-1] == {cpu}
        assert snap.latency is not None
        assert snap.latency.pinned_cpu == cpu
        assert apic_id(snap.cpuid) == apic_id_on(cpu)


@pytest.mark.native
@needs_cpuid
def test_apic_ids_tell_the_cpus_apart(allowed: set[int]) -> None:
    """The check above can fail: where there are two CPUs, their APIC ids differ."""
    if len(allowed) < 2:
        pytest.skip("one allowed CPU: nothing to tell apart")
    ids = {apic_id_on(cpu) for cpu in allowed}
    if len(ids) == 1:
        pytest.skip("this hypervisor reports the same initial APIC id on every vCPU")
    assert len(ids) == len(allowed)


def test_unpinnable_thread_records_no_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """No pinning call here: the probe runs, and its origin says no single CPU ran it."""
    monkeypatch.setattr(affinity, "allowed_cpus", lambda: None)
    snap = live.live_snapshot(timing=False)
    assert snap.origin.cpu is None
    with pytest.raises(CpuSelectionError, match="no way to pin"):
        live.live_snapshot(timing=False, cpu=0)


def test_unpinned_origin_renders_and_validates(monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    from importlib import resources

    import jsonschema

    from nestprobe.output.jsonreport import report_to_dict
    from nestprobe.output.text import render_verbose
    from nestprobe.pipeline import build_report

    monkeypatch.setattr(affinity, "allowed_cpus", lambda: None)
    report = build_report(live.live_snapshot(timing=False))
    data = report_to_dict(report)
    assert data["source"]["cpu"] is None
    schema = json.loads(resources.files("nestprobe.output").joinpath("report.schema.json")
                        .read_text())
    jsonschema.validate(data, schema)
    assert "not pinned to one CPU" in render_verbose(report)


def test_a_refused_pin_leaves_the_affinity_alone(allowed: set[int],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_pid: int, _cpus: set[int]) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setaffinity", refuse)
    with affinity.pinned() as cpu:
        assert cpu is None
    with (pytest.raises(CpuSelectionError, match="operation not permitted"),
          affinity.running_on(max(allowed))):
        pass


@pytest.mark.native
@needs_cpuid
@pytest.mark.parametrize("asked", ["none", "lowest"])
def test_the_cpuids_run_in_a_thread_of_their_own_beside_the_os_facts(
    allowed: set[int], monkeypatch: pytest.MonkeyPatch, asked: str
) -> None:
    """Begun (the CLI's way), the pinned part runs beside the caller (sources/background.py);
    the caller reads the OS facts meanwhile (they name no CPU) with its own mask, which no
    later thread or child of the caller could inherit narrowed (the fixture checks it after)."""
    caller = _thread.get_ident()
    cpuid_threads: list[int] = []
    real_read = native.read_cpuid_table

    cpuid_masks: list[set[int]] = []

    def reading(*args: Any, **kwargs: Any) -> tuple[CpuidTable, bool]:
        cpuid_threads.append(_thread.get_ident())
        cpuid_masks.append(set(os.sched_getaffinity(0)))
        return real_read(*args, **kwargs)

    facts_seen: list[tuple[int, set[int]]] = []
    real_facts = osfacts.collect_os_facts

    def facts(*args: Any, **kwargs: Any) -> OsFacts:
        facts_seen.append((_thread.get_ident(), set(os.sched_getaffinity(0))))
        return real_facts(*args, **kwargs)

    monkeypatch.setattr(native, "read_cpuid_table", reading)
    monkeypatch.setattr(osfacts, "collect_os_facts", facts)
    wanted = affinity.pick_cpu(allowed) if asked == "none" else min(allowed)
    snap = live.start_live_snapshot(timing=True, cpu=None if asked == "none" else wanted)()
    assert snap.origin.cpu == wanted
    assert cpuid_masks == [{wanted}]  # the CPU the snapshot names ran its CPUIDs
    assert len(cpuid_threads) == 1
    assert cpuid_threads[0] != caller
    assert facts_seen == [(caller, allowed)]


def spy_masks(monkeypatch: pytest.MonkeyPatch) -> list[set[int]]:
    """Record each mask the calling thread sets on itself (and still set it)."""
    sets: list[set[int]] = []
    real = os.sched_setaffinity

    def setting(pid: int, cpus: Any) -> None:
        if pid == 0 and _thread.get_ident() == caller:
            sets.append(set(cpus))
        real(pid, cpus)

    caller = _thread.get_ident()
    monkeypatch.setattr(os, "sched_setaffinity", setting)
    return sets


@pytest.mark.skipif(not HAS_AFFINITY, reason="a new thread takes its creator's mask on Linux")
def test_start_on_begins_the_thread_there_and_moves_the_caller_off(
        allowed: set[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """The thread is the target CPU's for good; the caller is sent to the other CPUs (which
    moves it there) and has its own mask back before start_on returns."""
    if len(allowed) < 2:
        pytest.skip("one allowed CPU: nowhere to move the caller")
    cpu = affinity.pick_cpu(allowed)
    sets = spy_masks(monkeypatch)
    seen: list[set[int]] = []
    done = _thread.allocate_lock()
    done.acquire()

    def body() -> None:
        seen.append(set(os.sched_getaffinity(0)))
        done.release()

    affinity.start_on(None, lambda: _thread.start_new_thread(body, ()) and None)
    assert sets == [{cpu}, allowed - {cpu}, allowed]
    assert set(os.sched_getaffinity(0)) == allowed  # whole again before the thread ends
    done.acquire()
    assert seen == [{cpu}]


@pytest.mark.skipif(not HAS_AFFINITY, reason="sched_setaffinity is the mechanism")
@pytest.mark.parametrize("error", [RuntimeError("can't start new thread"), KeyboardInterrupt()])
def test_start_on_leaves_the_caller_whole_when_the_start_fails(
        allowed: set[int], error: BaseException) -> None:
    def fails() -> None:
        raise error

    with pytest.raises(type(error)):
        affinity.start_on(None, fails)
    assert set(os.sched_getaffinity(0)) == allowed


@pytest.mark.skipif(not HAS_AFFINITY, reason="sched_setaffinity is the mechanism")
@pytest.mark.parametrize("which", ["the other CPUs", "the target"])
def test_start_on_puts_the_mask_back_when_a_move_is_refused(
        allowed: set[int], monkeypatch: pytest.MonkeyPatch, which: str) -> None:
    """A cpuset that refuses one of the two masks: the thread still starts, the caller's
    mask is whole, and what the OS refused is not raised."""
    if len(allowed) < 2:
        pytest.skip("one allowed CPU: nowhere to move the caller")
    cpu = affinity.pick_cpu(allowed)
    refused = allowed - {cpu} if which == "the other CPUs" else {cpu}
    real = os.sched_setaffinity

    def refuse_others(pid: int, cpus: Any) -> None:
        if set(cpus) == refused:
            raise OSError(22, "Invalid argument")
        real(pid, cpus)

    monkeypatch.setattr(os, "sched_setaffinity", refuse_others)
    started: list[int] = []
    affinity.start_on(None, lambda: started.append(1))
    assert started == [1]
    assert set(os.sched_getaffinity(0)) == allowed


@pytest.mark.skipif(not HAS_AFFINITY, reason="sched_setaffinity is the mechanism")
def test_start_on_asks_again_for_the_online_cpus_when_its_mask_is_refused(
        allowed: set[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """A CPU of the caller's mask went offline meanwhile: the OS refuses the mask, so the
    caller asks for what of it is online rather than stay on the other CPUs."""
    if len(allowed) < 2:
        pytest.skip("one allowed CPU: nowhere to move the caller")
    real = os.sched_setaffinity
    asked: list[set[int]] = []

    def refuse_once(pid: int, cpus: Any) -> None:
        asked.append(set(cpus))
        if set(cpus) == allowed and asked.count(allowed) == 1:
            raise OSError(22, "Invalid argument")
        real(pid, cpus)

    monkeypatch.setattr(os, "sched_setaffinity", refuse_once)
    affinity.start_on(None, lambda: None)
    assert asked[-2:] == [allowed, allowed & set(range(os.cpu_count() or 1))]
    assert set(os.sched_getaffinity(0)) == allowed


def test_start_on_moves_nothing_it_cannot(monkeypatch: pytest.MonkeyPatch) -> None:
    """One allowed CPU, a CPU not allowed, or a refused call: ``start`` runs, nothing moves."""
    started: list[int] = []
    if HAS_AFFINITY:
        sets = spy_masks(monkeypatch)
        affinity.start_on(10_000, lambda: started.append(1))
        monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0})
        affinity.start_on(None, lambda: started.append(2))
        assert sets == []
        monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})

        def refuse(_pid: int, _cpus: object) -> None:
            raise PermissionError(1, "Operation not permitted")

        monkeypatch.setattr(os, "sched_setaffinity", refuse)
        affinity.start_on(None, lambda: started.append(3))
        assert started == [1, 2, 3]
    else:
        affinity.start_on(None, lambda: started.append(1))
        assert started == [1]
