"""Spread the per-file work over the machine's cores, in processes (the work is CPU-bound
Python: threads would share one interpreter lock).

Results come back in input order, a chunk at a time, so output is the same on every run
and memory stays bounded by what the caller keeps.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence

from nestprobe.fleet.inputs import Input
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


def assess_all(
    inputs: Sequence[Input], *, keep_line: bool = False, workers: int | None = None
) -> Iterator[Result]:
    """Every input's result, in input order."""
    workers = max(1, workers or available_cpus())
    if workers == 1 or len(inputs) < INLINE_BELOW:
        for item in inputs:
            yield assess(item, keep_line)
        return
    _warm()
    chunk = max(1, min(MAX_CHUNK, len(inputs) // (workers * 8)))
    batches = [(tuple(inputs[i : i + chunk]), keep_line) for i in range(0, len(inputs), chunk)]
    with multiprocessing.Pool(min(workers, len(batches))) as pool:
        for results in pool.imap(assess_batch, batches):
            yield from results
