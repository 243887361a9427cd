"""One call run in a thread of its own while the caller goes on.

The live probe's pinned part (the CPUID walk, the latency batches, the /dev/kvm ioctls) is
mostly native code that releases the GIL: ~3 ms of a ~35 ms ``check`` here, which the
caller can spend importing the assessment and reading the OS facts instead of waiting
(sources/live.py). Only ``_thread`` is used: ``threading`` is not imported at an
interpreter's start and would cost a ``check`` more than the overlap saves.

While a call runs, the interpreter's switch interval is lowered to :data:`HANDOFF_S`: the
default 5 ms would let a caller busy in Python code keep the GIL that long each time the
call comes back from native code for a few lines of Python, so the call would finish long
after its native work did. The first call begun sets it, the last one ended puts back what
it was.
"""

from __future__ import annotations

import _thread
import os
import sys

from nestprobe.model.typeshim import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from typing import TypeVar

    T = TypeVar("T")

#: The switch interval while a background call runs (s): a handoff within 0.1 ms.
HANDOFF_S = 0.0001

#: [calls running, the interval they found], guarded by _GUARD.
_RUNNING: list[float] = [0, 0.0]
_GUARD = _thread.allocate_lock()

#: How often a caller waiting for the call wakes up (s): a lock's plain acquire cannot be
#: interrupted by Ctrl-C on Windows before CPython 3.14; a timed wait can.
_WAKE_S = 0.05


def _begin() -> None:
    with _GUARD:
        if not _RUNNING[0]:
            _RUNNING[1] = sys.getswitchinterval()
            sys.setswitchinterval(min(_RUNNING[1], HANDOFF_S))
        _RUNNING[0] += 1


def _end() -> None:
    with _GUARD:
        _RUNNING[0] -= 1
        if not _RUNNING[0]:
            sys.setswitchinterval(_RUNNING[1])


def _forked() -> None:
    """In a child forked while a call ran: that call's thread is not here to end it."""
    global _GUARD  # noqa: PLW0603 (the parent's lock may have been held at the fork)
    _GUARD = _thread.allocate_lock()
    if _RUNNING[0]:
        sys.setswitchinterval(_RUNNING[1])
    _RUNNING[0] = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


def in_background(call: Callable[[], T],
                  launch: Callable[[Callable[[], None]], None] | None = None,
                  ) -> Callable[[], T]:
    """Start ``call()`` in a new thread; the returned function waits for it and returns
    what it returned or raises what it raised (every time it is called, from any thread).
    Where no thread can be started, ``call`` runs here, before this returns. ``launch``,
    when given, is handed the function that starts the thread and calls it
    (affinity.start_on: where the thread begins)."""
    done = _thread.allocate_lock()
    done.acquire()
    outcome: list[tuple[bool, object]] = []
    unended = [True]  # popped by whichever ends this call: the thread, or an interrupted start

    def end() -> None:
        try:
            unended.pop()  # atomic: of two callers, one gets it
        except IndexError:
            return
        _end()

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as exc:
            outcome.append((False, exc))
        finally:
            end()
            done.release()

    started: list[bool] = []

    def start() -> None:
        _thread.start_new_thread(run, ())
        started.append(True)

    _begin()
    try:
        if launch is None:
            start()
        else:
            launch(start)
    except BaseException as exc:
        if isinstance(exc, RuntimeError) and not started:  # "can't start new thread"
            run()  # run it in this one
        else:  # Ctrl-C, MemoryError: the thread, if it started, ends the call too
            end()
            raise

    def result() -> T:
        while not done.acquire(True, _WAKE_S):
            pass
        done.release()
        ok, value = outcome[0]
        if not ok:
            raise value  # type: ignore[misc]  # a BaseException, stored by run()
        return value  # type: ignore[return-value]  # what call() returned

    return result
