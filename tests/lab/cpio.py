"""A minimal ``newc`` cpio writer: the initramfs format the kernel unpacks.

Written here rather than shelling out to cpio(1) so an archive is built from a plain
mapping (archive path -> entry) with fixed mtimes, uid 0 and no host metadata leaking in.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

TRAILER = "TRAILER!!!"


@dataclass(frozen=True, slots=True)
class Entry:
    """One archive member: a directory, a regular file or a symlink."""

    path: str  # inside the archive, no leading slash
    mode: int  # full st_mode: type bits + permissions
    data: bytes = b""  # file content, or the symlink target


def directory(path: str) -> Entry:
    return Entry(path, stat.S_IFDIR | 0o755)


def file(path: str, data: bytes, executable: bool = False) -> Entry:
    return Entry(path, stat.S_IFREG | (0o755 if executable else 0o644), data)


def symlink(path: str, target: str) -> Entry:
    return Entry(path, stat.S_IFLNK | 0o777, target.encode())


def _header(ino: int, entry: Entry, name: bytes) -> bytes:
    fields = (ino, entry.mode, 0, 0, 1, 0, len(entry.data), 0, 0, 0, 0, len(name) + 1, 0)
    return b"070701" + b"".join(b"%08x" % value for value in fields)


def _pad(out: BinaryIO, length: int) -> None:
    out.write(b"\0" * (-length % 4))


def write(out: BinaryIO, entries: Iterable[Entry]) -> None:
    """Write ``entries`` (parents before children) and the trailer to ``out``."""
    for ino, entry in enumerate([*entries, Entry(TRAILER, 0)], start=1):
        name = entry.path.lstrip("/").encode()
        header = _header(ino, entry, name)
        out.write(header + name + b"\0")
        _pad(out, len(header) + len(name) + 1)
        out.write(entry.data)
        _pad(out, len(entry.data))
