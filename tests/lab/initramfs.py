"""Guest images: one flat initramfs shared by every single-level guest, and the L1 image.

The flat image holds static busybox, the static dumper, /init and the list of files to
dump. The L1 image adds what running a nested guest takes: the kvm modules (with
dependencies, uncompressed), qemu-system-x86_64 with its shared libraries and loader,
the firmware, the kernel, the flat image as the L2's initramfs, and the L2 table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import cpio, elf, host
from .kernel import Kernel, closure

INIT = Path(__file__).with_name("init") / "init.sh"


@dataclass
class Tree:
    """Archive members by path, with parent directories added on demand."""

    entries: dict[str, cpio.Entry] = field(default_factory=dict)

    def _parents(self, path: str) -> None:
        for parent in reversed(PurePosixPath(path).parents):
            name = str(parent)
            if name != "." and name not in self.entries:
                self.entries[name] = cpio.directory(name)

    def add(self, entry: cpio.Entry) -> None:
        self._parents(entry.path)
        self.entries[entry.path] = entry

    def dir(self, path: str) -> None:
        self.add(cpio.directory(path.lstrip("/")))

    def file(self, path: str, data: bytes, executable: bool = False) -> None:
        self.add(cpio.file(path.lstrip("/"), data, executable))

    def host_file(self, path: str, source: Path, executable: bool = False) -> None:
        self.file(path, source.read_bytes(), executable)

    def write(self, out: Path) -> Path:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        with tmp.open("wb") as stream:
            cpio.write(stream, self.entries.values())
        tmp.replace(out)
        return out


def _require_static(path: Path) -> None:
    if not elf.is_static(path):
        raise RuntimeError(f"{path} is dynamically linked; the guest has no libc")


def flat(busybox: Path, dumper: Path, files: Sequence[str],
         bench: tuple[Path, str] | None = None, prove: bool = False) -> Tree:
    """The image every single-level guest (and each L2) boots.

    ``bench`` = (static nestprobe-bench, plan name): /init then runs it after the dump.
    ``prove``: the dumper also runs the proof (a tiny VM, ``nestprobe-dump --prove``).
    """
    _require_static(busybox)
    _require_static(dumper)
    if bench is not None:
        _require_static(bench[0])
    tree = Tree()
    for name in ("proc", "sys", "dev", "tmp", "sbin"):
        tree.dir(name)
    tree.host_file("bin/busybox", busybox, executable=True)
    tree.add(cpio.symlink("bin/sh", "busybox"))
    tree.host_file("bin/nestprobe-dump", dumper, executable=True)
    tree.host_file("init", INIT, executable=True)
    tree.file("lab/files", "".join(f"{path}\n" for path in files).encode())
    if bench is not None:
        tree.host_file("bin/nestprobe-bench", bench[0], executable=True)
        tree.file("lab/bench", f"{bench[1]}\n".encode())
    if prove:
        tree.file("lab/prove", b"1\n")
    return tree


def with_modules(base: Tree, kernel: Kernel, modules: Iterable[tuple[str, str]]) -> Tree:
    """``base`` plus kernel modules (dependencies first) that /init loads before the dump;
    ``modules`` is (name, insmod params)."""
    tree = Tree(dict(base.entries))
    params = dict(modules)
    lines = []
    for name, data in closure(kernel, params):
        path = f"lib/modules/{name}.ko"
        tree.file(path, data)
        lines.append(f"/{path} {params.get(name, '')}".rstrip())
    tree.file("lab/modules", "".join(f"{line}\n" for line in lines).encode())
    return tree


@dataclass(frozen=True, slots=True)
class NestedGuest:
    """One L2 boot inside the L1: its marker tag, its timeout and its -cpu model."""

    tag: str
    cpu: str
    timeout_s: int


def l1(
    base: Tree,
    kernel: Kernel,
    l2_image: Path,
    modules: Iterable[tuple[str, str]],
    guests: Sequence[NestedGuest],
) -> Tree:
    """``base`` plus KVM, QEMU and an L2 table; ``modules`` is (name, insmod params)."""
    tree = with_modules(base, kernel, modules)

    qemu = host.qemu()
    if qemu is None:
        raise FileNotFoundError(host.QEMU)
    tree.host_file("usr/bin/qemu-system-x86_64", qemu, executable=True)
    for library in host.shared_libraries(qemu):
        tree.host_file(str(library), library.resolve(), executable=True)
    for name, source in host.firmware().items():
        tree.host_file(f"usr/share/qemu/{name}", source)

    tree.host_file("lab/vmlinuz", kernel.vmlinuz)
    tree.host_file("lab/l2.cpio", l2_image)
    table = "".join(f"{g.tag} {g.timeout_s} {g.cpu}\n" for g in guests)
    tree.file("lab/l2", table.encode())
    return tree
