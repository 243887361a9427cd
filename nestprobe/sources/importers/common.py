"""Shared plumbing for dump readers: bounded file reading, leaf collection, Snapshot building.

Every reader turns anything it cannot use into :class:`DumpFormatError` naming the
file, the 1-based line and what was expected; nothing else escapes. Work and memory
are bounded by :data:`MAX_DUMP_BYTES` (checked before reading) and
:data:`MAX_LEAVES_PER_CPU` / :data:`MAX_CPUS` (checked while parsing).
"""

from __future__ import annotations

from collections.abc import Callable

from nestprobe.model.errors import CpuNotInDumpError, DumpFormatError
from nestprobe.model.record import Record
from nestprobe.model.snapshot import (
    CpuidTable,
    FileFact,
    LeafKey,
    Origin,
    OsFacts,
    Registers,
    Snapshot,
)
from nestprobe.sources.importers import textcodec
from nestprobe.sources.inputfile import MAX_INPUT_BYTES, STDIN, STDIN_LABEL, read_input

#: The input cap (the one reader, :mod:`nestprobe.sources.inputfile`, enforces it).
MAX_DUMP_BYTES = MAX_INPUT_BYTES
#: A CPUID range holds at most 256 leaves and real subleaf fans are small (0xD: 64);
#: 4096 answers per CPU is far beyond any real machine and bounds a hostile file.
MAX_LEAVES_PER_CPU = 4096
#: Logical CPU blocks a multi-CPU dump may hold before it is refused.
MAX_CPUS = 4096
#: CPUID registers and leaf numbers are 32-bit.
U32_MAX = 0xFFFFFFFF

DEFAULT_MACHINE = "x86_64"
DEFAULT_SYSTEM = "unknown"


class DumpText(Record):
    """A dump's decoded text split into lines (line ``n`` is ``lines[n - 1]``)."""

    path: str
    lines: tuple[str, ...]
    #: How the bytes were read (sources/importers/textcodec.py); "" for text given as str.
    encoding: str = ""
    encoding_how: str = ""

    @classmethod
    def from_text(cls, text: str, path: str = "<string>", encoding: str = "",
                  encoding_how: str = "") -> DumpText:
        # Split on LF only (CRLF tolerated) so line numbers match what editors show;
        # str.splitlines would also split on VT, FF, U+2028 and friends.
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return cls(path, tuple(line.removesuffix("\r") for line in lines), encoding,
                   encoding_how)

    def error(self, line: int | None, expected: str, found: str = "") -> DumpFormatError:
        return DumpFormatError(self.path, line, expected, found)

    def cpu_error(self, line: int | None, expected: str, found: str) -> CpuNotInDumpError:
        """The dump is fine but has no CPU by the number asked for (a usage error)."""
        return CpuNotInDumpError(self.path, line, expected, found, quote=False)


def read_bytes(path: str) -> bytes:
    """The file's bytes through the one bounded, never-blocking reader."""
    return read_input(path, limit=MAX_DUMP_BYTES, what="a dump")


def decode_bytes(data: bytes, path: str) -> textcodec.Decoded:
    """The text of ``data`` in whatever encoding Windows or a web page wrote it
    (sources/importers/textcodec.py), else a DumpFormatError saying what was recognised."""
    try:
        decoded = textcodec.decode(data)
    except textcodec.Undecodable as exc:
        raise DumpFormatError(path, exc.line, "text (UTF-8, UTF-16 or a Windows code page)",
                              exc.reason, quote=False) from None
    text = decoded.text
    if "\x00" in text:
        # Binary garbage decodes as UTF-8 surprisingly often; no text dump holds NUL.
        nul = text.index("\x00")
        raise DumpFormatError(path, text.count("\n", 0, nul) + 1, "text without NUL bytes",
                              "a NUL byte (a binary file?)", quote=False)
    return decoded


def decode_text(data: bytes, path: str) -> str:
    """The text of ``data`` (:func:`decode_bytes`)."""
    return decode_bytes(data, path).text


def read_dump_text(path: str) -> DumpText:
    """The decoded text at ``path`` (``-``: standard input, shown as ``<stdin>``)."""
    label = STDIN_LABEL if path == STDIN else path
    decoded = decode_bytes(read_bytes(path), label)
    return DumpText.from_text(decoded.text, label, decoded.encoding, decoded.how)


def parse_hex(dump: DumpText, line: int, token: str, what: str, limit: int = U32_MAX) -> int:
    """``token`` as hex (optional 0x), within ``limit``, else a DumpFormatError."""
    digits = token[2:] if token[:2] in ("0x", "0X") else token
    if not digits or len(digits) > 16 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise dump.error(line, f"{what} in hex", token)
    value = int(digits, 16)
    if value > limit:
        raise dump.error(line, f"{what} at most {limit:#x}", token)
    return value


def parse_dec(dump: DumpText, line: int, token: str, what: str, limit: int) -> int:
    if not token.isascii() or not token.isdigit() or len(token) > 12:
        raise dump.error(line, f"{what} as a decimal number", token)
    value = int(token)
    if value > limit:
        raise dump.error(line, f"{what} at most {limit}", token)
    return value


class LeafCollector:
    """Leaves of one logical CPU, bounded; a repeated key must repeat the same answer."""

    __slots__ = ("_dump", "_lines", "leaves")

    def __init__(self, dump: DumpText) -> None:
        self._dump = dump
        self.leaves: dict[LeafKey, Registers] = {}
        self._lines: dict[LeafKey, int] = {}

    def add(self, line: int, leaf: int, subleaf: int, regs: Registers) -> None:
        key = (leaf, subleaf)
        old = self.leaves.get(key)
        if old is not None:
            if old != regs:
                first = self._lines.get(key)
                raise self._dump.error(
                    line,
                    f"the same registers as the earlier CPUID {leaf:#x}/{subleaf:#x}"
                    + (f" on line {first} (" + " ".join(f"{r:08x}" for r in old) + ")"
                       if first else ""),
                    " ".join(f"{r:08x}" for r in regs),
                )
            return
        if len(self.leaves) >= MAX_LEAVES_PER_CPU:
            raise self._dump.error(line, f"at most {MAX_LEAVES_PER_CPU} leaves per CPU")
        self.leaves[key] = regs
        self._lines[key] = line

    def add_hex(
        self, line: int, leaf: str, subleaf: str | None, registers: tuple[str, str, str, str]
    ) -> None:
        """A record whose fields a format's pattern already matched as hex digits."""
        regs = Registers(*(int(value, 16) for value in registers))
        self.add(line, int(leaf, 16), int(subleaf, 16) if subleaf is not None else 0, regs)


class CpuBlocks:
    """Per-CPU leaf collectors in file order, keyed by the CPU number the dump prints."""

    __slots__ = ("_dump", "blocks")

    def __init__(self, dump: DumpText) -> None:
        self._dump = dump
        self.blocks: dict[int, LeafCollector] = {}

    def start(self, line: int, cpu: int) -> LeafCollector:
        if cpu in self.blocks:
            raise self._dump.error(line, f"CPU {cpu} only once", self._dump.lines[line - 1])
        if len(self.blocks) >= MAX_CPUS:
            raise self._dump.error(line, f"at most {MAX_CPUS} CPU blocks")
        block = LeafCollector(self._dump)
        self.blocks[cpu] = block
        return block

    def select(self, cpu: int, what: str = "CPUID records") -> dict[LeafKey, Registers]:
        """The leaves of ``cpu``; a DumpFormatError if absent or empty."""
        if not any(block.leaves for block in self.blocks.values()):
            raise self._dump.error(None, what, "none")
        block = self.blocks.get(cpu)
        if block is None:
            have = ", ".join(str(c) for c in sorted(self.blocks)[:16])
            raise self._dump.cpu_error(None, f"CPU {cpu} (the dump has CPUs {have})", f"cpu={cpu}")
        if not block.leaves:
            raise self._dump.error(None, f"CPUID records for CPU {cpu}", "an empty block")
        return block.leaves


def cpuid_snapshot(
    leaves: dict[LeafKey, Registers],
    *,
    path: str,
    fmt: str,
    cpu: int,
    machine: str = DEFAULT_MACHINE,
    system: str = DEFAULT_SYSTEM,
) -> Snapshot:
    """A Snapshot of recorded CPUID answers with no OS facts (the source did not look)."""
    return Snapshot(
        cpuid_status="ok",
        cpuid=CpuidTable(dict(leaves)),
        os=OsFacts(system=system, machine=machine),
        origin=Origin(kind="dump", path=path, format=fmt, cpu=cpu),
    )


def cpuinfo_snapshot(
    cpuinfo: str, *, path: str, fmt: str, detail: str, system: str = "Linux"
) -> Snapshot:
    """A Snapshot holding only a /proc/cpuinfo text: CPUID itself was not recorded."""
    return Snapshot(
        cpuid_status="absent",
        cpuid=CpuidTable({}),
        os=OsFacts(
            system=system,
            machine=DEFAULT_MACHINE,
            files={"/proc/cpuinfo": FileFact("ok", cpuinfo)},
        ),
        cpuid_detail=detail,
        origin=Origin(kind="dump", path=path, format=fmt, cpu=0),
    )


Sniffer = Callable[[DumpText], bool]
Parser = Callable[[DumpText, int], Snapshot]


class Importer(Record):
    """One third-party format: a cheap recogniser and a parser for one logical CPU."""

    name: str
    sniff: Sniffer
    parse: Parser
    description: str


_QUOTE = "> "


def unquote(dump: DumpText) -> DumpText:
    """A dump quoted in a mail reply (``> `` before its lines, ``>> `` twice) without the
    quoting, line numbers unchanged; a reply's own prose around it stays as it is. Text with
    fewer than three quoted lines is left alone."""
    for _ in range(4):  # nested replies
        quoted = [line for line in dump.lines if line.startswith(">")]
        if len(quoted) < 3:
            return dump
        lines = tuple(line[2:] if line.startswith(_QUOTE) else
                      line[1:] if line.startswith(">") else line for line in dump.lines)
        dump = DumpText(dump.path, lines, dump.encoding, dump.encoding_how)
    return dump


def first_content_line(dump: DumpText, limit: int = 200) -> tuple[int, str] | None:
    """The first line that is neither blank nor a ``#`` comment, within ``limit`` lines:
    what every sniffer looks at (a format's magic or banner comes first)."""
    for number, text in enumerate(dump.lines[:limit], start=1):
        if text.strip() and not text.startswith("#"):
            return number, text
    return None
