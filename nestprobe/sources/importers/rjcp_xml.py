"""RJCP CpuId XML (jcurl/RJCP.DLL.CpuId, README "The XML File Format")::

    <?xml version="1.0" encoding="utf-8"?>
    <cpuid type="x86">
      <processor>
        <register eax="00000000" ecx="00000000">00000016,756E6547,6C65746E,49656E69</register>
      </processor>
    </cpuid>

``eax`` is the leaf and ``ecx`` the subleaf; one ``<processor>`` per logical CPU, in
order. The file is scanned with a fixed token grammar rather than a general XML
parser: no entities, no DTDs, linear time, and an exact line for every error.
"""

from __future__ import annotations

from nestprobe.model.lazyre import lazy_compile
from nestprobe.model.snapshot import Registers, Snapshot
from nestprobe.sources.importers.common import (
    CpuBlocks,
    DumpText,
    Importer,
    LeafCollector,
    cpuid_snapshot,
)

FORMAT = "rjcp-xml"

_H8 = r"[0-9a-fA-F]{1,8}"
_TOKEN = lazy_compile(
    r"(?P<space>\s+)"
    r"|(?P<decl><\?xml[^<>]*\?>)"
    r"|(?P<comment><!--(?:(?!-->)[^<>])*-->)"
    r"|(?P<root><cpuid(?:\s+[a-zA-Z]+=\"[^\"<>]*\")*\s*>)"
    r"|(?P<root_end></cpuid\s*>)"
    r"|(?P<cpu><processor(?:\s+[a-zA-Z]+=\"[^\"<>]*\")*\s*>)"
    r"|(?P<cpu_end></processor\s*>)"
    r"|(?P<reg><register\s+eax=\"(?P<leaf>{h})\"\s+ecx=\"(?P<sub>{h})\"\s*>"
    r"\s*(?P<eax>{h})\s*,\s*(?P<ebx>{h})\s*,\s*(?P<ecx>{h})\s*,\s*(?P<edx>{h})\s*</register\s*>)"
    .replace("{h}", _H8)
)
_ROOT_TYPE = lazy_compile(r'type="([^"]*)"')


def sniff(dump: DumpText) -> bool:
    head = "\n".join(dump.lines[:60])
    return "<cpuid" in head and ("<processor" in head or "<register" in head)


def parse(dump: DumpText, cpu: int) -> Snapshot:  # noqa: PLR0912 (a case table, read top to bottom)
    text = "\n".join(dump.lines)
    blocks = CpuBlocks(dump)
    current: LeafCollector | None = None
    in_root = closed = False
    pos = 0
    line = 1
    while pos < len(text):
        if text.startswith("#", pos) and (pos == 0 or text[pos - 1] == "\n"):
            end = text.find("\n", pos)  # our corpus headers: '#' comment lines
            end = len(text) if end < 0 else end
            pos = end
            continue
        match = _TOKEN.match(text, pos)
        if match is None:
            found = text[pos : text.find("\n", pos) if "\n" in text[pos:] else len(text)]
            raise dump.error(line, "an RJCP CpuId XML element (cpuid, processor, register)", found)
        kind = match.lastgroup
        if kind != "space" and closed:
            raise dump.error(line, "nothing after </cpuid>", match.group(0))
        if kind == "root":
            if in_root:
                raise dump.error(line, "one <cpuid> root", match.group(0))
            kind_attr = _ROOT_TYPE.search(match.group(0))
            if kind_attr is not None and kind_attr.group(1) != "x86":
                raise dump.error(line, '<cpuid type="x86">', match.group(0))
            in_root = True
        elif kind == "root_end":
            if not in_root or current is not None:
                raise dump.error(line, "</processor> before </cpuid>", match.group(0))
            closed = True
        elif kind == "cpu":
            if not in_root or current is not None:
                raise dump.error(line, "<processor> directly inside <cpuid>", match.group(0))
            current = blocks.start(line, len(blocks.blocks))
        elif kind == "cpu_end":
            if current is None:
                raise dump.error(line, "</processor> after a <processor>", match.group(0))
            current = None
        elif kind == "reg":
            if current is None:
                raise dump.error(line, "<register> inside a <processor>", match.group(0))
            leaf, sub, eax, ebx, ecx, edx = (
                int(match.group(name), 16) for name in ("leaf", "sub", "eax", "ebx", "ecx", "edx")
            )
            current.add(line, leaf, sub, Registers(eax, ebx, ecx, edx))
        line += match.group(0).count("\n")
        pos = match.end()
    if not closed:
        raise dump.error(len(dump.lines) or None, "</cpuid> closing the document")
    leaves = blocks.select(cpu, "<register> elements")
    return cpuid_snapshot(leaves, path=dump.path, fmt=FORMAT, cpu=cpu)


IMPORTER = Importer(FORMAT, sniff, parse, "RJCP CpuId XML")
