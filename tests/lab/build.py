"""Build the lab's artefacts once: the static dumper, the flat and the L1 initramfs."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import host, initramfs
from .kernel import KERNEL_TREE, Kernel, find_kernel

CSRC = host.REPO / "csrc"
#: What the L1 loads before booting its guests: AMD-V backend with nesting on.
L1_MODULES = (("kvm_amd", "nested=1"),)


@dataclass(frozen=True, slots=True)
class Artifacts:
    kernel: Kernel
    dumper: Path
    flat: Path  # every single-level guest and every L2
    l1: Path  # the nested-virtualization host guest
    bench: Path | None = None  # the static bench runner, when the guests run it


def find_lab_kernel() -> Kernel | None:
    """The cached Debian kernel tree (lab-setup.sh), else an installed kernel."""
    return find_kernel([host.CACHE / KERNEL_TREE, Path("/")])


def missing() -> str | None:
    """Why the lab cannot run here, or None when it can."""
    if host.qemu() is None:
        return f"{host.QEMU} not found (run .ci/lab-setup.sh as root)"
    if find_lab_kernel() is None:
        return f"no kernel in {host.CACHE / KERNEL_TREE} or /boot (run .ci/lab-setup.sh)"
    if host.busybox() is None:
        return "static busybox not found (apt-get install busybox-static)"
    return None


def tools(workdir: Path, *targets: str) -> list[Path]:
    """``make TARGET... STATIC=1`` on a copy of csrc/, so the shared tree is untouched."""
    src = workdir / "csrc"
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(CSRC, src, ignore=shutil.ignore_patterns(
        "nestprobe-dump", "nestprobe-bench", "*.o", "*.so"))
    subprocess.run(
        ["make", "-C", str(src), *targets, "STATIC=1"],
        check=True, capture_output=True, text=True,
    )
    return [src / target for target in targets]


def dumper(workdir: Path) -> Path:
    """The static nestprobe-dump (see :func:`tools`)."""
    return tools(workdir, "nestprobe-dump")[0]


def build(
    workdir: Path, files: Sequence[str], guests: Sequence[initramfs.NestedGuest],
    bench_plan: str | None = None, guest_kvm: bool = False,
) -> Artifacts:
    """Everything the boots need, under ``workdir``; ``files`` are dumped by every guest.

    With ``bench_plan`` every guest also runs the static nestprobe-bench with that plan
    after its dump (tests/test_lab_bench.py); the default lab leaves it out.
    ``guest_kvm``: the flat image (every L2) loads kvm_amd too, so an L2 with AMD-V can
    create a VM of its own (the bench's guest metrics one level deeper).
    """
    kernel = find_lab_kernel()
    busybox = host.busybox()
    if kernel is None or busybox is None:
        raise FileNotFoundError(missing())
    if bench_plan is None:
        binary, bench = dumper(workdir), None
    else:
        binary, bench = tools(workdir, "nestprobe-dump", "nestprobe-bench")
    flat_tree = initramfs.flat(busybox, binary, files,
                               bench=(bench, bench_plan) if bench and bench_plan else None)
    if guest_kvm:
        flat_tree = initramfs.with_modules(flat_tree, kernel, L1_MODULES)
    flat = flat_tree.write(workdir / "flat.cpio")
    l1 = initramfs.l1(flat_tree, kernel, flat, L1_MODULES, guests).write(workdir / "l1.cpio")
    return Artifacts(kernel, binary, flat, l1, bench)
