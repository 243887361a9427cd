"""Boot every lab guest once, in parallel, and keep each console by tag."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import configs
from .boot import Boot, Machine, boot
from .build import Artifacts

FLAT_TIMEOUT_S = 90  # 5 s alone, up to 18 s measured on a loaded 2-core host
#: The L1 boots itself, then each L2 in turn, each bounded by the L2 timeout inside it.
L1_TIMEOUT_S = 180 + len(configs.NESTED) * configs.L2_TIMEOUT_S
#: One vCPU: as fast as two here (31 s vs 36 s for the whole L1) and it keeps
#: multi-threaded TCG out of the nested-SVM path; the flat guests get the other core.
L1_MACHINE = Machine(configs.L1.cpu, memory_mib=2048, smp=1)


@dataclass(frozen=True, slots=True)
class Job:
    tag: str
    machine: Machine
    initrd: Path
    timeout_s: float


def jobs(artifacts: Artifacts) -> list[Job]:
    """The L1 first: it is the longest, so the flat guests fill the other core around it."""
    return [
        Job(configs.L1.name, L1_MACHINE, artifacts.l1, L1_TIMEOUT_S),
        *(Job(c.name, Machine(c.cpu), artifacts.flat, FLAT_TIMEOUT_S) for c in configs.FLAT),
    ]


def run_all(artifacts: Artifacts, logdir: Path, workers: int | None = None) -> dict[str, Boot]:
    def one(job: Job) -> Boot:
        return boot(job.tag, job.machine, vmlinuz=artifacts.kernel.vmlinuz,
                    initrd=job.initrd, logdir=logdir, timeout_s=job.timeout_s)

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        return {result.tag: result for result in pool.map(one, jobs(artifacts))}
