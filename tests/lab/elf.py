"""Just enough ELF reading to tell a static executable from a dynamic one.

Every binary copied into a guest must either be static or travel with its loader and
libraries; a dynamic busybox or dumper would die in the initramfs with no message.
"""

from __future__ import annotations

import struct
from pathlib import Path

PT_INTERP = 3
_ELF64_LE = b"\x7fELF\x02\x01"


def is_static(path: Path) -> bool:
    """True for an x86-64 ELF with no program interpreter (PT_INTERP) segment."""
    data = path.read_bytes()
    if not data.startswith(_ELF64_LE):
        raise ValueError(f"{path}: not a little-endian ELF64 file")
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for index in range(phnum):
        p_type, = struct.unpack_from("<I", data, phoff + index * phentsize)
        if p_type == PT_INTERP:
            return False
    return True
