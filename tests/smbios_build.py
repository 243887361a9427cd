"""Build raw SMBIOS tables (the RawSMBIOSData buffer GetSystemFirmwareTable('RSMB') returns)
for tests and for the Windows fixtures' ``firmware:RSMB`` records.

Layout: DMTF DSP0134 §6.1.2 (header: type, length, handle; formatted area; string set ended
by a double NUL) and §7.1-7.4 for the type 0-3 offsets; the 8-byte RawSMBIOSData header
(Used20CallingMethod, major, minor, DmiRevision, DWORD Length) from Microsoft's
GetSystemFirmwareTable documentation. Serial numbers and UUIDs are zeros.
"""

from __future__ import annotations

from dataclasses import dataclass


def structure(kind: int, handle: int, formatted: bytes, strings: list[str]) -> bytes:
    """One structure: 4-byte header + ``formatted`` (the bytes after the header) + strings."""
    head = bytes([kind, 4 + len(formatted)]) + handle.to_bytes(2, "little")
    tail = b"".join(s.encode() + b"\x00" for s in strings) + b"\x00" if strings else b"\x00\x00"
    return head + formatted + tail


def raw_smbios(structures: list[bytes], major: int = 3, minor: int = 4) -> bytes:
    """The RawSMBIOSData buffer: header, the structures, an end-of-table (type 127)."""
    table = b"".join(structures) + structure(127, 0xFEFF, b"", [])
    return bytes([0, major, minor, 0]) + len(table).to_bytes(4, "little") + table


@dataclass(frozen=True)
class Identity:
    bios_vendor: str
    bios_version: str
    sys_vendor: str
    product_name: str
    product_version: str
    board_vendor: str
    chassis_vendor: str
    chassis_asset_tag: str


def identity_table(ident: Identity) -> bytes:
    """Types 0, 1, 2 and 3 carrying ``ident`` in the fields decode/smbios.py reads."""
    bios = structure(0, 0, bytes([1, 2, 0x00, 0xF0, 3, 0xFF]) + bytes(8) + bytes(2)
                     + bytes([0xFF, 0xFF, 0xFF, 0xFF]),
                     [ident.bios_vendor, ident.bios_version, "01/01/2024"])
    system = structure(1, 1, bytes([1, 2, 3, 4]) + bytes(16) + bytes([6, 5, 6]),
                       [ident.sys_vendor, ident.product_name, ident.product_version,
                        "0000-0000-0000", "SKU", "Family"])
    board = structure(2, 2, bytes([1, 2, 3, 4, 0]), [ident.board_vendor, "Board", "1.0", "0"])
    chassis = structure(3, 3, bytes([1, 3, 2, 3, 4, 3, 3, 3, 2]),
                        [ident.chassis_vendor, "1.0", "0000-0000", ident.chassis_asset_tag])
    return raw_smbios([bios, system, board, chassis])
