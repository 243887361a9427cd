"""Spread the per-file work over the machine's cores, in processes (the work is CPU-bound
Python: threads would share one interpreter lock).

Results come back in input order, a chunk at a time, so output is the same on every run.
Inputs are taken as they are met (``inputs.iter_inputs``): only the chunks in flight are
held, so memory stays bounded by what the caller keeps.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from collections.abc import Iterable, Iterator
from itertools import chain, islice

from nestprobe.fleet.inputs import STDIN, Input, Missing
from nestprobe.fleet.record import Result
from nestprobe.fleet.work import Item, assess, assess_batch, assess_item

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
    # What exists now lives as long as the run: the collector leaves it alone from here on,
    # in the workers too (no scan of the imported modules, no copy of their pages on write).
    gc.freeze()


def max_workers() -> int:
    """More processes than cores only add memory and start-up: ``--jobs`` is capped here."""
    return available_cpus()


def _worker_start() -> None:
    """Ctrl-C is the parent's to handle (it stops the pool, exit 130, nothing printed);
    SIGTERM is how the pool stops a worker, so it must not run the parent's handler. A
    worker reads input after input, whose reading leaves reference cycles: it runs with
    the cyclic collector on, however it was started (the installed script turns it off for
    one-shot commands; cli.collecting_garbage)."""
    gc.enable()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def assess_all(
    inputs: Iterable[Input | Missing], *, keep_line: bool = False, workers: int | None = None
) -> Iterator[Result]:
    """Every input's result, in input order; what cannot be read as an Unreadable where
    it was met (standard input is read here, in this process)."""
    workers = min(max(1, workers or available_cpus()), max_workers())
    stream = iter(inputs)
    # Enough inputs to size the chunks as a known list would (a long run: the largest).
    head = list(islice(stream, workers * 8 * MAX_CHUNK))
    ended = len(head) < workers * 8 * MAX_CHUNK
    if workers == 1 or (ended and len(head) < INLINE_BELOW):
        for item in chain(head, stream):
            yield assess_item(item, keep_line)
        return
    _warm()
    files = sum(1 for item in head if isinstance(item, Input) and item.path != STDIN)
    chunk = max(1, min(MAX_CHUNK, files // (workers * 8))) if ended else MAX_CHUNK
    batches = -(-len(head) // chunk) if ended else workers
    with multiprocessing.Pool(min(workers, batches), initializer=_worker_start) as pool:
        for results in pool.imap(assess_batch, _batches(chain(head, stream), chunk, keep_line)):
            yield from results


def _batches(items: Iterable[Input | Missing], chunk: int,
             keep_line: bool) -> Iterator[tuple[tuple[Item, ...], bool]]:
    """Chunks for the workers, made as the pool takes them; standard input is read here
    (a worker has none) and travels as its result."""
    batch: list[Item] = []
    for item in items:
        if isinstance(item, Input) and item.path == STDIN:
            batch.append(assess(item, keep_line))
        else:
            batch.append(item)
        if len(batch) == chunk:
            yield tuple(batch), keep_line
            batch = []
    if batch:
        yield tuple(batch), keep_line
