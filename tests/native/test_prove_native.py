"""The proof run's C core on this machine's real /dev/kvm (no stand-in hypervisor).

On the development machine /dev/kvm is kvm_pvm: the proof must run and be called emulated.
Where there is no /dev/kvm the same tests check that the run says so. The watchdog test runs
a guest that never exits; the leak test runs the proof 1,000 times and compares this
process's file descriptors and mappings before and after.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nestprobe import native
from nestprobe.assess.proof import assess_proof
from nestprobe.native.proof import ProofPlan, prove

ROOT = Path(__file__).resolve().parents[2]
CSRC = ROOT / "csrc"
KVM = Path("/dev/kvm")
PVM = Path("/sys/module/kvm_pvm")

linux_x86 = pytest.mark.skipif(
    sys.platform != "linux" or os.uname().machine != "x86_64", reason="the KVM path is Linux x86-64"
)
needs_extension = pytest.mark.skipif(native.load_lib() is None, reason="needs the C extension")
#: A light plan: every exit kind once, a short loop (the leak test runs it 1,000 times).
LIGHT = ProofPlan(limit_ms=2000, loop_iterations=100, loop_rounds=1, io_exits=2,
                  cpuid_batches=2, cpuid_per_batch=2)


def _kvm_opens() -> bool:
    try:
        os.close(os.open(KVM, os.O_RDWR))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not shutil.which("gcc") or not shutil.which("objcopy"),
                    reason="needs gcc and objcopy to assemble the guest")
@needs_extension
def test_guest_bytes_are_the_assembled_source(tmp_path: Path) -> None:
    obj, binary = tmp_path / "guest.o", tmp_path / "guest.bin"
    subprocess.run(["gcc", "-c", str(CSRC / "np_prove_guest.S"), "-o", str(obj)], check=True)
    subprocess.run(["objcopy", "-O", "binary", "-j", ".text", str(obj), str(binary)],
                   check=True)
    ffi, lib = native.load_lib()  # type: ignore[misc]
    size = int(lib.npp_guest_code(ffi.NULL, 0))
    buf = ffi.new("uint8_t[]", size)
    lib.npp_guest_code(buf, size)
    assert bytes(ffi.buffer(buf, size)) == binary.read_bytes()
    symbols = subprocess.run(["nm", str(obj)], capture_output=True, text=True, check=True).stdout
    never = next(int(line.split()[0], 16) for line in symbols.splitlines()
                 if line.endswith(" never"))
    assert int(lib.npp_guest_entry(lib.NPP_GUEST_NEVER_EXITS)) == never


@linux_x86
@needs_extension
def test_proof_runs_here_and_says_what_ran_it() -> None:
    record = prove()
    assert record.platform == "kvm"
    if not KVM.exists():
        assert (record.outcome, record.step, record.error) == ("unavailable", "open", 2)
        return
    if not _kvm_opens():
        assert (record.outcome, record.step) == ("refused", "open")
        return
    assert (record.outcome, record.step) == ("ran", "done"), record
    assert record.value_seen == record.value_sent
    assert len(record.io_ticks) == 200
    assert len(record.batch_ticks) == 20
    assert record.exits == 2 + 2 * 3 + 200 + 20 + 1  # value, CPUID, rounds, I/O, batches, hlt
    proof = assess_proof(record, software_backend="kvm_pvm" if PVM.is_dir() else None)
    if PVM.is_dir():
        # kvm_pvm emulates the guest: never proof of VT-x/AMD-V, and PVM is named.
        assert proof.state == "emulated", proof.summary
        assert "PVM" in proof.meaning
        assert "cannot run ordinary VMs" in proof.meaning
        assert proof.witness is None


@linux_x86
@needs_extension
@pytest.mark.skipif(not KVM.exists(), reason="needs /dev/kvm")
def test_a_guest_that_never_exits_ends_at_the_watchdog() -> None:
    if not _kvm_opens():
        pytest.skip("/dev/kvm does not open for this user")
    limit_ms = 200
    start = time.monotonic()
    record = prove(ProofPlan(limit_ms=limit_ms, never_exits=True))
    took = time.monotonic() - start
    assert (record.outcome, record.step) == ("timeout", "run"), record
    assert record.exits == 0
    # The watchdog's limit, plus setup/teardown and a loaded 2-core host's scheduling.
    assert took < limit_ms / 1000 + 2.0, took
    assert record.wall_ns >= limit_ms * 1_000_000


@linux_x86
@needs_extension
def test_the_watchdog_leaves_signals_as_it_found_them() -> None:
    number = signal.SIGRTMIN + 7
    calls: list[int] = []
    previous = signal.signal(number, lambda signum, frame: calls.append(signum))
    try:
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
        prove(ProofPlan(limit_ms=50, never_exits=True))
        prove(LIGHT)
        assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == mask
        os.kill(os.getpid(), number)  # the Python handler is the one installed again
        assert calls == [number]
    finally:
        signal.signal(number, previous)


def _fds() -> list[str]:
    return sorted(os.listdir("/proc/self/fd"))


def _maps() -> list[str]:
    # Addresses and names; the heap's end moves with Python's allocations, so [heap] is
    # compared by presence only.
    lines = Path("/proc/self/maps").read_text().splitlines()
    return sorted(line for line in lines if not line.endswith("[heap]"))


@linux_x86
@needs_extension
def test_a_thousand_runs_leak_no_fd_and_no_mapping() -> None:
    prove(LIGHT)  # first use: the extension and its pages are mapped
    prove(ProofPlan(limit_ms=20, never_exits=True))
    fds, maps = _fds(), _maps()
    outcomes = set()
    for i in range(1000):
        plan = ProofPlan(limit_ms=5, never_exits=True) if i % 100 == 0 else LIGHT
        outcomes.add(prove(plan).outcome)
    assert _fds() == fds
    assert _maps() == maps
    if KVM.exists() and _kvm_opens():
        assert outcomes == {"ran", "timeout"}


@needs_extension
def test_plans_outside_the_bounds_are_refused() -> None:
    for plan in (ProofPlan(limit_ms=0), ProofPlan(loop_rounds=17),
                 ProofPlan(io_exits=4097), ProofPlan(loop_iterations=0),
                 ProofPlan(value=2**32)):
        with pytest.raises(ValueError, match="out of bounds"):
            prove(plan)


@needs_extension
def test_bounds_and_names_match_the_c_core() -> None:
    from nestprobe.model import proof

    _, lib = native.load_lib()  # type: ignore[misc]
    assert (proof.MAX_ROUNDS, proof.MAX_SAMPLES) == (lib.NPP_MAX_ROUNDS, lib.NPP_MAX_SAMPLES)
    names = {native.load_lib().ffi.string(lib.npp_outcome_name(i)).decode()  # type: ignore[union-attr]
             for i in range(16)} - {""}
    assert names <= set(proof.OUTCOMES)
    assert len(names) == 10
    steps = {native.load_lib().ffi.string(lib.npp_step_name(i)).decode()  # type: ignore[union-attr]
             for i in range(40)} - {""}
    assert steps == set(proof.STEPS)
