"""Table-driven register decoding: the shapes every vendor table is written in.

A leaf's layout is data (:class:`LeafSpec`: named flags and fields, each with its
source key, defined in docs/sources.md); :func:`decode_leaf` turns one CPUID answer into
``{field: value}``. Total by construction: only shifts and masks on ints.
"""

from __future__ import annotations

from nestprobe.model.evidence import EvidenceValue
from nestprobe.model.record import Record
from nestprobe.model.snapshot import Registers
from nestprobe.model.typeshim import Literal, Mapping

Reg = Literal["eax", "ebx", "ecx", "edx"]
REGS: tuple[Reg, ...] = ("eax", "ebx", "ecx", "edx")
#: One decoded leaf: field name -> value (flags as a list of set names).
Decoded = dict[str, EvidenceValue | tuple[str, ...]]

MASK32 = 0xFFFFFFFF


def reg(regs: Registers, name: Reg) -> int:
    return int(getattr(regs, name)) & MASK32


def bit(value: int, n: int) -> bool:
    return bool((value >> n) & 1)


def bits(value: int, lo: int, hi: int) -> int:
    """``value[hi:lo]`` inclusive."""
    return (value >> lo) & ((1 << (hi - lo + 1)) - 1)


class Flag(Record):
    """One named bit, spelled as its source spells it."""

    register: Reg
    bit: int
    name: str
    source: str

    def __init__(self, register: Reg, bit: int, name: str, source: str) -> None:
        # The vendors' tables hold hundreds, made when a decoder is first imported (a check
        # imports some): a direct __init__, as Evidence's; every field is a str or an int,
        # which the generic one would store as it is.
        setter = object.__setattr__
        setter(self, "register", register)
        setter(self, "bit", bit)
        setter(self, "name", name)
        setter(self, "source", source)


class Field(Record):
    """A multi-bit field ``register[hi:lo]``; ``hex`` renders it as a hex string."""

    register: Reg
    lo: int
    hi: int
    name: str
    source: str
    hex: bool = False


class LeafSpec(Record):
    """The layout of one leaf. ``offset`` is relative to the interface base for
    hypervisor leaves, the absolute leaf number otherwise."""

    offset: int
    name: str
    source: str
    flags: tuple[Flag, ...] = ()
    fields: tuple[Field, ...] = ()
    subleaf: int = 0

    def flag(self, name: str) -> Flag:
        for f in self.flags:
            if f.name == name:
                return f
        raise KeyError(name)


def flag_table(register: Reg, source: str, names: Mapping[int, str]) -> tuple[Flag, ...]:
    """Build a flag tuple from ``{bit: name}`` for one register and one source."""
    return tuple(Flag(register, b, n, source) for b, n in sorted(names.items()))


#: A leaf's layout as decode_leaf walks it: its fields as (name, register, lo, mask, hex),
#: and per register that has flags, in REGS order, (register, [(name, bit)], the bits a
#: flag or field names).
_Plan = tuple[tuple[tuple[str, Reg, int, int, bool], ...],
              tuple[tuple[Reg, tuple[tuple[str, int], ...], int], ...]]
#: Plans by id(spec), each kept with its spec (so the id stays its own): the tables' specs
#: are module constants, read on every report; specs made on the fly stop being added.
_PLANS: dict[int, tuple[LeafSpec, _Plan]] = {}
_PLANS_MAX = 1024


def _plan(spec: LeafSpec) -> _Plan:
    kept = _PLANS.get(id(spec))
    if kept is not None and kept[0] is spec:
        return kept[1]
    fields = tuple((f.name, f.register, f.lo, (1 << (f.hi - f.lo + 1)) - 1, f.hex)
                   for f in spec.fields)
    known: dict[Reg, int] = dict.fromkeys(REGS, 0)
    for f in spec.fields:
        if f.hi >= f.lo:
            known[f.register] |= ((1 << (f.hi - f.lo + 1)) - 1) << f.lo
    for flag in spec.flags:
        known[flag.register] |= 1 << flag.bit
    flagged = tuple(
        (r, tuple((f.name, f.bit) for f in spec.flags if f.register == r), known[r])
        for r in REGS if any(f.register == r for f in spec.flags))
    plan = (fields, flagged)
    if len(_PLANS) < _PLANS_MAX:
        _PLANS[id(spec)] = (spec, plan)
    return plan


def decode_leaf(spec: LeafSpec, regs: Registers) -> Decoded:
    """Raw registers (hex), every field, and per register the names of set flags.

    Set bits no row names are listed as ``bitN`` so nothing a hypervisor publishes
    is silently dropped.
    """
    fields, flagged = _plan(spec)
    values = {r: reg(regs, r) for r in REGS}
    out: Decoded = {r: f"{value:#010x}" for r, value in values.items()}
    for name, register, lo, mask, hexed in fields:
        value = (values[register] >> lo) & mask
        out[name] = f"{value:#x}" if hexed else value
    for r, flags, known in flagged:
        value = values[r]
        names = [name for name, n in flags if (value >> n) & 1]
        unnamed = value & ~known
        if unnamed:
            names += [f"bit{n}" for n in range(32) if (unnamed >> n) & 1]
        out[f"{r}_flags"] = tuple(names)
    return out


def safe_text(raw: bytes) -> str:
    """Printable ASCII as is; every other byte (and the backslash) as ``\\xNN``.

    Hostile signatures (control characters, invalid UTF-8) stay one line, valid JSON
    and unambiguous: the rendering can be reversed byte for byte.
    """
    if not raw.translate(None, _SHOWN_AS_IS):  # every byte printable: the common case
        return raw.decode("ascii")
    return "".join(
        chr(b) if 0x20 <= b < 0x7F and b != 0x5C else f"\\x{b:02x}" for b in raw
    )


#: The bytes :func:`safe_text` keeps as they are: printable ASCII but the backslash.
_SHOWN_AS_IS = bytes(b for b in range(0x20, 0x7F) if b != 0x5C)


def regs_bytes(*values: int) -> bytes:
    """Registers packed little-endian, in the order given (signatures, brand strings)."""
    return b"".join((v & MASK32).to_bytes(4, "little") for v in values)
