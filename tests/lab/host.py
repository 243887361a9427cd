"""Where the lab's tools and build products live on the host, and why one may be missing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: Build products (kernel tree, initramfs images, serial logs); git-ignored.
CACHE = Path(os.environ.get("NESTPROBE_LAB_CACHE", REPO / ".lab-cache"))
QEMU = "qemu-system-x86_64"
#: Debian's busybox-static package installs a static /bin/busybox.
BUSYBOX_CANDIDATES = (Path("/bin/busybox"), Path("/usr/bin/busybox"))
#: Firmware a KVM-accelerated `-kernel` boot reads: SeaBIOS and the linuxboot option ROM.
FIRMWARE = ("bios-256k.bin", "linuxboot_dma.bin", "linuxboot.bin", "kvmvapic.bin")
FIRMWARE_DIRS = (Path("/usr/share/qemu"), Path("/usr/share/seabios"))


def qemu() -> Path | None:
    found = shutil.which(QEMU)
    return Path(found) if found else None


def busybox() -> Path | None:
    return next((path for path in BUSYBOX_CANDIDATES if path.is_file()), None)


def firmware() -> dict[str, Path]:
    """Firmware file name -> host path, for every file of FIRMWARE that exists."""
    found: dict[str, Path] = {}
    for name in FIRMWARE:
        path = next((d / name for d in FIRMWARE_DIRS if (d / name).is_file()), None)
        if path is not None:
            found[name] = path
    return found


_LDD_LINE = re.compile(r"(?:=>\s*)?(/\S+)\s+\(0x[0-9a-f]+\)")


def shared_libraries(binary: Path) -> list[Path]:
    """The libraries and loader ``ldd`` resolves for ``binary`` (absolute paths, in order)."""
    out = subprocess.run(
        ["ldd", str(binary)], check=True, capture_output=True, text=True
    ).stdout
    libraries = []
    for line in out.splitlines():
        if "not found" in line:
            raise RuntimeError(f"{binary}: unresolved library: {line.strip()}")
        match = _LDD_LINE.search(line)
        if match:
            libraries.append(Path(match.group(1)))
    return libraries
