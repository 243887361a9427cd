"""Firecracker's CPU templates and fingerprints: the guest's CPUID as JSON bitmaps.

Shape (firecracker-microvm/firecracker ``docs/cpu_templates/schema.json``,
``src/cpu-template-helper/src/fingerprint/mod.rs``, the fingerprints under
``tests/data/cpu_template_helper/``; FC-TMPL)::

    {"cpuid_modifiers": [{"leaf": "0x1", "subleaf": "0x0", "flags": 0,
      "modifiers": [{"register": "eax", "bitmap": "0b0000...0001"}, ...]}, ...]}

A fingerprint (``cpu-template-helper fingerprint dump``) nests that under
``guest_cpu_config`` beside the host's kernel, microcode and BIOS versions; a template dump
(``cpu-template-helper template dump``) is the object itself. Leaves and subleaves are
strings holding an integer (hex with ``0x``, binary with ``0b``, or decimal). A bitmap is
``0b`` and 32 characters, most significant bit first: ``0``/``1``, or ``x`` where a custom
template leaves the bit as the host has it.

A leaf is recorded only when all four registers are given without ``x``: a template that
only masks some bits says what the guest will NOT see, not what it sees, so its partial
leaves are left out and said so; a template with no whole leaf is refused. The JSON may sit
in prose or a markdown fence (the first ``{`` to the end of the object is read).
"""

from __future__ import annotations

import json
import re

from nestprobe.model.errors import DumpFormatError
from nestprobe.model.record import replace
from nestprobe.model.snapshot import Registers, Snapshot
from nestprobe.sources.importers.common import DumpText, Importer, LeafCollector, cpuid_snapshot

FORMAT = "firecracker"
_REGISTERS = ("eax", "ebx", "ecx", "edx")
_BITMAP = re.compile(r"^0b[01x]{32}$")
_LEAF_AT = re.compile(r'"leaf"\s*:')
_MAX_TEXT = 4 << 20


def sniff(dump: DumpText) -> bool:
    head = "\n".join(dump.lines[:400])
    return '"cpuid_modifiers"' in head and '"modifiers"' in head


def _document(dump: DumpText) -> tuple[dict[str, object], int]:
    """The JSON object and the 0-based offset in the text where it starts."""
    text = "\n".join(dump.lines)
    start = text.find("{")
    while start != -1:
        try:
            value, _end = json.JSONDecoder().raw_decode(text[:_MAX_TEXT], start)
        except json.JSONDecodeError as exc:
            if '"cpuid_modifiers"' not in text[start:]:
                break
            if exc.pos > start + 1:  # the object started here but is broken
                line = text.count("\n", 0, exc.pos) + 1
                raise dump.error(line, "Firecracker template JSON", exc.msg) from None
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            return value, start
        start = text.find("{", start + 1)
    raise dump.error(None, "a Firecracker CPU template or fingerprint (a JSON object)",
                     "no JSON object")


def _number(dump: DumpText, line: int, value: object, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFFFFFFFF:
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        try:
            number = (int(text[2:], 16) if text.startswith("0x") else
                      int(text[2:], 2) if text.startswith("0b") else int(text, 10))
        except ValueError:
            number = -1
        if 0 <= number <= 0xFFFFFFFF:
            return number
    raise dump.error(line, f"{what} as an integer string ('0x1', '1')", repr(value)[:40])


def parse(dump: DumpText, cpu: int) -> Snapshot:
    if cpu != 0:
        raise dump.cpu_error(None, "cpu=0 (a Firecracker template describes every vCPU alike)",
                             f"cpu={cpu}")
    document, start = _document(dump)
    config = document.get("guest_cpu_config", document)
    modifiers = config.get("cpuid_modifiers") if isinstance(config, dict) else None
    if not isinstance(modifiers, list):
        raise dump.error(None, "a 'cpuid_modifiers' list (x86_64 template)", "none")
    text = "\n".join(dump.lines)
    lines = [text.count("\n", 0, m.start()) + 1 for m in _LEAF_AT.finditer(text, start)]
    leaves = LeafCollector(dump)
    partial = 0
    for index, entry in enumerate(modifiers):
        line = lines[index] if index < len(lines) else None
        if not isinstance(entry, dict):
            raise dump.error(line, "a cpuid modifier object", type(entry).__name__)
        leaf = _number(dump, line or 0, entry.get("leaf"), "leaf")
        subleaf = _number(dump, line or 0, entry.get("subleaf", "0x0"), "subleaf")
        registers = _registers(dump, line, entry.get("modifiers"))
        if registers is None:
            partial += 1
            continue
        leaves.add(line or 0, leaf, subleaf, registers)
    if not leaves.leaves:
        raise DumpFormatError(dump.path, None, "a fingerprint or template dump with whole "
                              "leaves (all four registers, no 'x' bits)",
                              f"a custom CPU template that only masks bits ({partial} partial "
                              "leaves): it says what the guest will not see, not what it sees",
                              quote=False)
    snapshot = cpuid_snapshot(leaves.leaves, path=dump.path, fmt=FORMAT, cpu=0)
    if partial:
        detail = (f"{partial} leaves of the template only mask some bits ('x' = as the "
                  "host has it) and were left out")
        return replace(snapshot, cpuid_detail=detail)
    return snapshot


def _registers(dump: DumpText, line: int | None, modifiers: object) -> Registers | None:
    """The four registers when each is given whole, else None (a partial leaf)."""
    if not isinstance(modifiers, list):
        raise dump.error(line, "a 'modifiers' list", type(modifiers).__name__)
    values: dict[str, int] = {}
    for item in modifiers:
        if not isinstance(item, dict):
            raise dump.error(line, "a register modifier object", type(item).__name__)
        register = str(item.get("register", "")).lower()
        bitmap = str(item.get("bitmap", "")).replace("_", "")
        if register not in _REGISTERS or not _BITMAP.match(bitmap):
            raise dump.error(line, "'register': eax|ebx|ecx|edx and 'bitmap': '0b' and 32 of "
                             "0/1/x", f"{register!r} {bitmap[:40]!r}")
        if "x" in bitmap:
            return None
        values[register] = int(bitmap[2:], 2)
    if set(values) != set(_REGISTERS):
        return None
    return Registers(*(values[r] for r in _REGISTERS))


IMPORTER = Importer(FORMAT, sniff, parse, "Firecracker CPU template / fingerprint JSON")
