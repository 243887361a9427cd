
"""The raw SMBIOS table Windows returns for GetSystemFirmwareTable('RSMB', 0), decoded into
the DMI identity fields Linux shows under /sys/class/dmi/id.

Sources: DMTF DSP0134 (SMBIOS Reference Specification 3.x) section 6.1.2 structure layout and
string sets, section 7.1 BIOS Information (type 0), 7.2 System Information (type 1), 7.3
Baseboard Information (type 2), 7.4 System Enclosure (type 3); the RawSMBIOSData header
(Used20CallingMethod, major, minor, DmiRevision, DWORD Length) from Microsoft's
GetSystemFirmwareTable documentation; the type/offset -> name map from Linux
drivers/firmware/dmi_scan.c ``dmi_decode`` (the first structure of a type wins, as in
``dmi_save_ident``).

Total on arbitrary bytes: a truncated or malformed table gives the fields decoded
before the damage, never an exception.
"""

from __future__ import annotations

from nestprobe.model.record import Record

#: RawSMBIOSData header: 4 bytes of version, then the table length as a DWORD.
RAW_HEADER = 8
END_OF_TABLE = 127


class SmbiosField(Record):
    key: str  # the /sys/class/dmi/id name (decode/dmi.py ALL_KEYS)
    type: int  # SMBIOS structure type
    offset: int  # offset of the string index in the formatted area
    name: str  # the field's name in DSP0134


#: The identity fields nestprobe reads (no serial numbers, no UUID).
FIELDS: tuple[SmbiosField, ...] = (
    SmbiosField("bios_vendor", 0, 0x04, "Vendor"),
    SmbiosField("bios_version", 0, 0x05, "Version"),
    SmbiosField("sys_vendor", 1, 0x04, "Manufacturer"),
    SmbiosField("product_name", 1, 0x05, "Product Name"),
    SmbiosField("product_version", 1, 0x06, "Version"),
    SmbiosField("board_vendor", 2, 0x04, "Manufacturer"),
    SmbiosField("chassis_vendor", 3, 0x04, "Manufacturer"),
    SmbiosField("chassis_asset_tag", 3, 0x08, "Asset Tag Number"),
)
FIELD_BY_KEY = {f.key: f for f in FIELDS}


class Structure(Record):
    type: int
    formatted: bytes  # the formatted area, header included
    strings: tuple[bytes, ...]

    def string(self, offset: int) -> str | None:
        """The string a BYTE index at ``offset`` names: "" for index 0, None if the
        structure is too short or the index points past its string set."""
        if offset >= len(self.formatted):
            return None
        index = self.formatted[offset]
        if index == 0:
            return ""
        if index > len(self.strings):
            return None
        return self.strings[index - 1].decode("utf-8", errors="surrogateescape").strip()


class RawSmbios(Record):
    major: int | None
    minor: int | None
    structures: tuple[Structure, ...]

    @property
    def version(self) -> str | None:
        return None if self.major is None else f"{self.major}.{self.minor}"


def parse_raw(data: bytes) -> RawSmbios:
    """Split a RawSMBIOSData buffer into structures (stopping at type 127 or damage)."""
    if len(data) < RAW_HEADER:
        return RawSmbios(None, None, ())
    length = int.from_bytes(data[4:8], "little")
    table = data[RAW_HEADER : RAW_HEADER + length]
    return RawSmbios(data[1], data[2], tuple(_structures(table)))


def _structures(table: bytes) -> list[Structure]:
    out: list[Structure] = []
    pos = 0
    while pos + 4 <= len(table):
        kind, length = table[pos], table[pos + 1]
        if length < 4 or pos + length > len(table):
            break  # a formatted area shorter than its header, or cut off
        formatted = table[pos : pos + length]
        end = table.find(b"\x00\x00", pos + length)
        if end < 0:
            break  # no string-set terminator: the table is truncated
        raw_strings = table[pos + length : end]
        strings = tuple(raw_strings.split(b"\x00")) if raw_strings else ()
        out.append(Structure(kind, formatted, strings))
        if kind == END_OF_TABLE:
            break
        pos = end + 2
    return out


def identity(raw: RawSmbios) -> dict[str, str]:
    """DMI key -> value for every field of :data:`FIELDS` the table has (first wins)."""
    out: dict[str, str] = {}
    for field in FIELDS:
        for structure in raw.structures:
            if structure.type != field.type:
                continue
            value = structure.string(field.offset)
            if value is not None:
                out[field.key] = value
            break  # Linux dmi_save_ident: the first structure of a type decides
    return out


def decode_hex(text: str) -> RawSmbios:
    """The recorded ``firmware:RSMB`` text (lower-case hex) decoded; garbage gives nothing."""
    try:
        data = bytes.fromhex(text.strip())
    except ValueError:
        return RawSmbios(None, None, ())
    return parse_raw(data)
