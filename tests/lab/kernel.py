"""The distro kernel the guests boot, and the modules (with dependencies) an L1 loads.

The kernel comes from Debian's linux-image package unpacked into the cache by
``.ci/lab-setup.sh`` (``apt-get download`` + ``dpkg -x``), so nothing is installed into
the host's /boot. The package ships no modules.dep (depmod runs at install time), so
dependencies are read from each module's ``.modinfo`` ``depends=`` string.
"""

from __future__ import annotations

import gzip
import lzma
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

#: Trees searched for boot/vmlinuz-* with a matching lib/modules/<version>.
KERNEL_TREE = "kernel"
_DEPENDS = re.compile(rb"(?:^|\x00)depends=([^\x00]*)\x00")
_SUFFIXES = (".ko", ".ko.xz", ".ko.gz", ".ko.zst")


@dataclass(frozen=True, slots=True)
class Kernel:
    version: str
    vmlinuz: Path
    modules: Path  # lib/modules/<version>


def find_kernel(trees: Iterable[Path]) -> Kernel | None:
    """The newest kernel in the first tree that has both an image and its modules."""
    for tree in trees:
        images = sorted((tree / "boot").glob("vmlinuz-*"), reverse=True)
        for image in images:
            version = image.name.removeprefix("vmlinuz-")
            modules = tree / "lib" / "modules" / version
            if modules.is_dir() and image.stat().st_size > 0:
                return Kernel(version, image, modules)
    return None


def _canonical(name: str) -> str:
    return name.replace("-", "_")


def _index(kernel: Kernel) -> dict[str, Path]:
    index: dict[str, Path] = {}
    for suffix in _SUFFIXES:
        for path in kernel.modules.rglob(f"*{suffix}"):
            index.setdefault(_canonical(path.name.removesuffix(suffix)), path)
    return index


def module_bytes(path: Path) -> bytes:
    """The module as busybox insmod needs it: uncompressed."""
    data = path.read_bytes()
    if path.name.endswith(".xz"):
        return lzma.decompress(data)
    if path.name.endswith(".gz"):
        return gzip.decompress(data)
    if path.name.endswith(".zst"):
        return subprocess.run(
            ["zstd", "-dc"], input=data, check=True, capture_output=True
        ).stdout
    return data


def depends(data: bytes) -> list[str]:
    """The ``depends=`` list of an uncompressed module's .modinfo section."""
    match = _DEPENDS.search(data)
    if match is None:
        return []
    return [_canonical(name) for name in match.group(1).decode().split(",") if name]


def closure(kernel: Kernel, names: Iterable[str]) -> list[tuple[str, bytes]]:
    """``(name, uncompressed module)`` for ``names`` and their dependencies, dependencies first."""
    index = _index(kernel)
    ordered: list[tuple[str, bytes]] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        if name not in index:
            raise FileNotFoundError(f"module {name} not in {kernel.modules}")
        data = module_bytes(index[name])
        for dependency in depends(data):
            visit(dependency)
        ordered.append((name, data))

    for name in names:
        visit(_canonical(name))
    return ordered
