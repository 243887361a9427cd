"""sources/background.py: one call in a thread of its own, its outcome handed back."""

from __future__ import annotations

import _thread
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest

from nestprobe.sources import background
from nestprobe.sources.background import HANDOFF_S, in_background


def test_the_call_runs_in_another_thread_and_its_value_comes_back() -> None:
    caller = _thread.get_ident()
    result = in_background(_thread.get_ident)
    ran_in = result()
    assert ran_in != caller
    assert result() == ran_in  # every call of the result hands back the same value


def test_what_the_call_raises_is_raised_by_each_wait() -> None:
    error = KeyError("nope")

    def fails() -> None:
        raise error

    result = in_background(fails)
    for _ in range(2):
        with pytest.raises(KeyError) as caught:
            result()
        assert caught.value is error


def test_a_base_exception_is_handed_over_not_lost() -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        in_background(interrupted)()


def test_the_caller_goes_on_while_the_call_runs() -> None:
    release = threading.Event()
    result = in_background(lambda: release.wait(10))
    release.set()  # reached only because in_background returned before the call ended
    assert result() is True


def test_the_switch_interval_is_lowered_while_a_call_runs_then_restored() -> None:
    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.004)
        seen = in_background(sys.getswitchinterval)()
        assert seen == pytest.approx(HANDOFF_S)
        assert sys.getswitchinterval() == pytest.approx(0.004)
    finally:
        sys.setswitchinterval(before)


def test_overlapping_calls_restore_the_interval_the_first_one_found() -> None:
    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.004)
        first_may_end = threading.Event()
        first = in_background(lambda: first_may_end.wait(10))
        second = in_background(sys.getswitchinterval)
        assert second() == pytest.approx(HANDOFF_S)
        assert sys.getswitchinterval() == pytest.approx(HANDOFF_S)  # the first still runs
        first_may_end.set()
        assert first() is True
        assert sys.getswitchinterval() == pytest.approx(0.004)
    finally:
        sys.setswitchinterval(before)


def test_without_a_thread_the_call_runs_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object) -> int:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(background._thread, "start_new_thread", refuse)
    before = sys.getswitchinterval()
    caller = _thread.get_ident()
    result = in_background(_thread.get_ident)
    assert result() == caller
    assert sys.getswitchinterval() == before


def test_an_interrupted_start_restores_the_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_args: object) -> int:
        raise KeyboardInterrupt

    before = sys.getswitchinterval()
    monkeypatch.setattr(background._thread, "start_new_thread", interrupted)
    with pytest.raises(KeyboardInterrupt):
        in_background(lambda: None)
    assert sys.getswitchinterval() == before
    monkeypatch.undo()
    assert in_background(sys.getswitchinterval)() == pytest.approx(HANDOFF_S)
    assert sys.getswitchinterval() == before  # the count came back to nothing running


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "waited 10 s"
        time.sleep(0.001)


def test_an_interrupt_after_the_thread_started_ends_the_call_once() -> None:
    """Ctrl-C in ``launch`` after the thread started: the thread and the interrupted start
    each try to end the call; one does, so the next call still lowers the interval."""
    before = sys.getswitchinterval()
    release = threading.Event()

    def start_then_interrupted(start: Callable[[], None]) -> None:
        start()
        raise KeyboardInterrupt

    began = threading.Event()

    def call() -> None:
        began.set()
        release.wait(10)

    threads = _thread._count()
    with pytest.raises(KeyboardInterrupt):
        in_background(call, start_then_interrupted)
    wait_until(began.is_set)  # the thread has begun (and is counted)
    release.set()
    wait_until(lambda: _thread._count() == threads)  # it has ended, and all it does on its way
    assert background._RUNNING[0] == 0
    assert sys.getswitchinterval() == before
    assert in_background(sys.getswitchinterval)() == pytest.approx(HANDOFF_S)
    assert sys.getswitchinterval() == before


@pytest.mark.parametrize("error", [RuntimeError("launch failed"), RecursionError()])
def test_a_launch_that_fails_after_the_start_does_not_run_the_call_twice(
        error: RuntimeError) -> None:
    """Only a thread that could not start makes the call run here."""
    runs: list[int] = []
    release = threading.Event()

    def call() -> None:
        runs.append(_thread.get_ident())
        release.wait(10)

    def start_then_fail(start: Callable[[], None]) -> None:
        start()
        raise error

    threads = _thread._count()
    with pytest.raises(type(error)):
        in_background(call, start_then_fail)
    wait_until(lambda: bool(runs))  # the thread has begun (and is counted)
    release.set()
    wait_until(lambda: _thread._count() == threads)  # it has ended, and all it does on its way
    assert len(runs) == 1
    assert runs[0] != _thread.get_ident()
    assert background._RUNNING[0] == 0


def test_ctrl_c_interrupts_the_wait() -> None:
    """The wait wakes every _WAKE_S to let an interrupt through: a plain acquire is not
    interrupted on Windows before CPython 3.14, nor anywhere by interrupt_main(), which
    sends no signal, only sets the flag a real Ctrl-C sets."""
    release = threading.Event()
    result = in_background(lambda: release.wait(10))
    threading.Timer(0.2, _thread.interrupt_main).start()
    began = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            result()
        assert time.monotonic() - began < 5  # not when the call ended
    finally:
        release.set()
    assert result() is True


_FORK_DURING_A_CALL = r"""
import os, sys, threading
from nestprobe.sources.background import in_background
sys.setswitchinterval(0.004)
release = threading.Event()
result = in_background(lambda: release.wait(10))
pid = os.fork()
if pid == 0:
    ok = abs(sys.getswitchinterval() - 0.004) < 1e-9
    ok = ok and in_background(sys.getswitchinterval)() < 0.001
    ok = ok and abs(sys.getswitchinterval() - 0.004) < 1e-9
    os._exit(0 if ok else 1)
_, status = os.waitpid(pid, 0)
release.set()
result()
print(os.waitstatus_to_exitcode(status), sys.getswitchinterval())
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_child_forked_during_a_call_has_its_own_interval_back() -> None:
    done = subprocess.run([sys.executable, "-c", _FORK_DURING_A_CALL], capture_output=True,
                          text=True, check=True, timeout=60)
    child, parent_interval = done.stdout.split()
    assert child == "0", done.stderr
    assert float(parent_interval) == pytest.approx(0.004)


#: Records, in a fresh interpreter, every module first imported by a thread other than the
#: main one while a live probe runs.
_IMPORTS_BESIDE_MAIN = r"""
import builtins, sys, _thread
main = _thread.get_ident()
late = []
real = builtins.__import__

def spying(name, globals=None, locals=None, fromlist=(), level=0):
    if _thread.get_ident() == main or level:
        return real(name, globals, locals, fromlist, level)
    wanted = [name] + [f"{name}.{item}" for item in fromlist or () if item != "*"]
    absent = [m for m in wanted if m.startswith("nestprobe") and m not in sys.modules]
    found = real(name, globals, locals, fromlist, level)
    late.extend(m for m in absent if m in sys.modules)  # a name that is no module: out
    return found

builtins.__import__ = spying
import nestprobe.native
import nestprobe.sources.osfacts
import nestprobe.sources.proof
if sys.argv[1] == "other-machine":  # an aarch64 machine asked for a proof (run as a stub)
    nestprobe.sources.osfacts.this_machine = lambda: "aarch64"
    nestprobe.sources.proof.run_proof = lambda: nestprobe.native.load_lib() and None
from nestprobe.sources.live import start_live_snapshot
snapshot = start_live_snapshot(timing=True, prove=sys.argv[1] == "other-machine")()
print(snapshot.cpuid_status, "|", " ".join(late))
"""


@pytest.mark.parametrize("case", ["this-machine", "other-machine"])
def test_the_pinned_part_imports_nothing_in_its_thread(case: str) -> None:
    """Two threads importing the modules of one import cycle can each find the other's
    half-initialised: live.py imports what the pinned part calls before it starts it."""
    done = subprocess.run([sys.executable, "-c", _IMPORTS_BESIDE_MAIN, case],
                          capture_output=True, text=True, check=True, timeout=60)
    status, _, late = done.stdout.strip().partition("|")
    assert late.split() == [], f"imported by the pinned part's thread ({status.strip()})"


def test_the_library_probe_starts_no_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the CLI's begun probe (pipeline.start_probe) has imports to overlap; the
    library's probe() and live_snapshot() run in the caller's thread."""
    import nestprobe
    from nestprobe.sources import live

    def no_thread(*_args: object) -> int:
        raise AssertionError("a thread was started")

    monkeypatch.setattr(background._thread, "start_new_thread", no_thread)
    before = sys.getswitchinterval()
    assert live.live_snapshot(timing=True).origin.kind == "live"
    assert nestprobe.probe(timing=False).snapshot.origin.kind == "live"
    assert sys.getswitchinterval() == before
