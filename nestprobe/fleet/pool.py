"""Spread the per-file work over the machine's cores, in processes (the work is CPU-bound
Python: threads would share one interpreter lock).

Results come back in input order, a chunk at a time, so output is the same on every run
and memory stays bounded by what the caller keeps.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator, Sequence

from nestprobe.fleet.inputs import STDIN, Input
from nestprobe.fleet.record import Result
from nestprobe.fleet.work import assess, assess_batch

#: Below this many inputs, starting processes costs more than it saves.
INLINE_BELOW = 16
#: Inputs per round trip: large enough to amortise pickling, small enough to balance
#: the load (one InstLatx64 dump costs as much as ten of nestprobe's own).
MAX_CHUNK = 32


def available_cpus() -> int:
    """The cores this process may run on (its affinity), not the machine's total."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def _warm() -> None:
    """Import the whole report path once, before forking, so no worker pays for it."""
    import nestprobe.output.jsonreport  # noqa: F401
    from nestprobe import pipeline

    pipeline.warm_up()


def max_workers() -> int:
    """More processes than cores only add memory and start-up: ``--jobs`` is capped here."""
    return available_cpus()


def _worker_start() -> None:
    """Ctrl-C is the parent's to handle (it stops the pool, exit 130, nothing printed);
    SIGTERM is how the pool stops a worker, so it must not run the parent's handler."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def assess_all(
    inputs: Sequence[Input], *, keep_line: bool = False, workers: int | None = None
) -> Iterator[Result]:
    """Every input's result, in input order (standard input is read here, in this process)."""
    workers = min(max(1, workers or available_cpus()), max_workers())
    if workers == 1 or len(inputs) < INLINE_BELOW:
        for item in inputs:
            yield assess(item, keep_line)
        return
    stdin = {n: assess(item, keep_line) for n, item in enumerate(inputs) if item.path == STDIN}
    rest = [item for item in inputs if item.path != STDIN]
    _warm()
    chunk = max(1, min(MAX_CHUNK, len(rest) // (workers * 8)))
    batches = [(tuple(rest[i : i + chunk]), keep_line) for i in range(0, len(rest), chunk)]
    with multiprocessing.Pool(min(workers, len(batches)), initializer=_worker_start) as pool:
        position = 0
        for results in pool.imap(assess_batch, batches):
            for result in results:
                while position in stdin:
                    yield stdin.pop(position)
                    position += 1
                yield result
                position += 1
        yield from stdin.values()
