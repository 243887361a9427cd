"""Robust figures for one series, and ratios between runs with an interval from the batches.

The estimator is the CPUID sampler's (model/timing.py; source keys PAOLONI, NP-DEV): each
batch's 10th percentile, then the minimum over batches, because host contention moves
even a single batch's minimum. Median and p99 stand beside it; a mean never appears.
Every figure is *net*: the bracket's own floor is taken off each sample before it is
divided by the operations it timed, so a bare-metal CPUID and a loop of 1,000 register
operations are both reported per operation and without the TSC reads around them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from nestprobe.model.timing import batch_estimate, percentile

#: Points of the stored quantile function: p0, p1, ..., p100.
QUANTILES = 101
ESTIMATE_PERCENTILE = 10.0


@dataclass(frozen=True, slots=True)
class Summary:
    """One series, net TSC ticks per operation."""

    samples: int
    floor_ticks: float  # what was taken off each sample (its bracket's floor estimate)
    estimate: float  # min over batches of each batch's p10
    median: float
    p99: float
    minimum: float
    maximum: float
    batch_p10: tuple[float, ...]
    quantiles: tuple[float, ...]  # nearest-rank p0..p100 of every sample


def floor_ticks(batches: Sequence[Sequence[int]]) -> float:
    """A bracket's floor: the same estimator applied to the empty bracket's samples."""
    return batch_estimate(batches, ESTIMATE_PERCENTILE)


def net_per_op(batches: Sequence[Sequence[int]], floor: float, ops: int) -> list[list[float]]:
    """Each sample minus ``floor``, per operation; never below zero."""
    return [[max(s - floor, 0.0) / ops for s in batch] for batch in batches]


def quantile_function(values: Sequence[float], points: int = QUANTILES) -> list[float]:
    """Nearest-rank quantiles at ``points`` evenly spaced levels (every one a real sample)."""
    ordered = sorted(values)
    n = len(ordered)
    out = []
    for i in range(points):
        q = 100.0 * i / (points - 1)
        rank = max(math.ceil(q / 100.0 * n), 1)
        out.append(ordered[min(rank, n) - 1])
    return out


def summarise(batches: Sequence[Sequence[int]], floor: float, ops: int) -> Summary:
    net = net_per_op(batches, floor, ops)
    every = [v for batch in net for v in batch]
    lows = [percentile(batch, ESTIMATE_PERCENTILE) for batch in net if batch]
    return Summary(
        samples=len(every),
        floor_ticks=floor,
        estimate=min(lows),
        median=percentile(every, 50),
        p99=percentile(every, 99),
        minimum=min(every),
        maximum=max(every),
        batch_p10=tuple(lows),
        quantiles=tuple(quantile_function(every)),
    )


@dataclass(frozen=True, slots=True)
class Ratio:
    """``value`` = b / a of two estimates; ``low``-``high`` spans every batch pairing."""

    value: float
    low: float
    high: float


def ratio(a: float, a_batches: Sequence[float], b: float,
          b_batches: Sequence[float]) -> Ratio | None:
    """b relative to a, with the interval [min b / max a, max b / min a] over the batches.

    None when a figure of ``a`` is zero (a net cost below the timer's floor has no ratio).
    Because the estimates are minima of the batch values, ``value`` lies in the interval.
    """
    if a <= 0 or not a_batches or not b_batches or min(a_batches) <= 0:
        return None
    return Ratio(b / a, min(b_batches) / max(a_batches), max(b_batches) / min(a_batches))


def paired_ratios(a_batches: Sequence[float], b_batches: Sequence[float]) -> list[float] | None:
    """Batch-by-batch a/b of two series taken in the same batches (interleaved)."""
    if len(a_batches) != len(b_batches) or not a_batches or min(b_batches) <= 0:
        return None
    return [x / y for x, y in zip(a_batches, b_batches, strict=True)]
