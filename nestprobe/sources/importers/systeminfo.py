"""``systeminfo`` output, whole or filtered (``systeminfo | findstr ...``), in any language.

Layout (real pastes, docs/windows.md; hyper-v-requirements.md; winlang.py LAYOUT): ``Label:``
padded to a value column, the value after it, continuation lines indented (the processor
list, the Hyper-V requirement rows). The Hyper-V section is either four rows (``VM Monitor
Mode Extensions: Yes`` ...) or the sentence ``A hypervisor has been detected. Features
required for Hyper-V will not be displayed.`` Pastes are filtered, re-indented, bolded
(``**...**``) or edited (``Hyper-V Requirement:``); all are accepted.

Two ways to read a label, both recorded in ``systeminfo:reading``:

* by its words: the labels of winlang.py's languages (English, pt-BR, fr, es, de, ru,
  zh-CN, ja, ko, ...);
* by the layout: a whole output whose fields line up at one value column is read by their
  fixed order, anchored where the text shows it is systeminfo in any language (``System
  Type`` ends in ``-based PC``, ``OS Version`` is a build number, the requirements block is
  last). That is how a language without a table is read; a field whose known label
  disagrees with its place refuses the layout.

Records: ``systeminfo:<English label>`` = the value (continuation lines joined by a newline),
``systeminfo:Hyper-V Requirements/<English row>`` = the word as printed (``Yes``, ``Não``,
``Нет``; decode/winreport.py says which words mean what), and
``systeminfo:Hyper-V Requirements/hypervisor detected`` = the sentence, when the block holds
the sentence (known words, or by the layout: one line without a row's colon).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter

from nestprobe.model import oskeys
from nestprobe.model.record import Record
from nestprobe.model.snapshot import Snapshot
from nestprobe.sources.importers import winlang
from nestprobe.sources.importers.common import DumpText, Importer
from nestprobe.sources.importers.winpaste import machine_of, only_cpu_zero, paste_snapshot

FORMAT = "systeminfo"
PREFIX = "systeminfo:"
REQUIREMENTS = winlang.REQUIREMENTS
READING = oskeys.SYSTEMINFO_READING
SENTENCE = oskeys.SYSTEMINFO_SENTENCE
#: English labels as systeminfo prints them (Windows 10/11, Windows Server).
ENGLISH = (*winlang.ORDER, winlang.VBS, REQUIREMENTS)

_ITEM = re.compile(r"^\**\s*(?P<name>[^*]+?)\s*:\s*\**\s*(?P<value>[^*\s]+)\s*\**\s*$")
#: What systeminfo prints in every language (LAYOUT anchors).
_SYSTEM_TYPE = re.compile(r"^(?:x64|x86|X86|ARM64|ARM|Itanium)-based PC\b")
_VERSION = re.compile(r"^\d+\.\d+\.\d+\b")
_INDEXED = re.compile(r"^\[\d{2,3}\]\s*:")
_FENCE = re.compile(r"^\s*(?:```|~~~)")
#: A layout needs this many fields lined up at one column before it is trusted.
_MIN_ALIGNED = 12


def width(text: str) -> int:
    """Display columns: the console pads East Asian wide characters as two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


#: Wrappers a line is pasted in: list bullets ("- ", "- - ", "* ") and quotes around it.
_BULLETS = re.compile(r"^(?:[-*\u2022]\s+)+")
_QUOTES = "\"'`\u201c\u201d"


def _bare(line: str) -> str:
    """``line`` without the list bullets and quotes a note or a sentence put around it."""
    return _BULLETS.sub("", line.strip()).strip(_QUOTES).strip()


def _match_label(line: str) -> tuple[str, str, str] | None:
    """(English label, value, language) when ``line`` opens a field with a known label: the
    text before one of its first colons is a label of winlang.py (a label may hold a colon
    itself: "Virtual Memory: Max Size")."""
    raw = _bare(line)
    start = 0
    for _ in range(3):
        colon = raw.find(":", start)
        if colon <= 0:
            return None
        hit = winlang.label(raw[:colon])
        if hit is not None:
            return hit[0], raw[colon + 1:].strip(), hit[1]
        start = colon + 1
    return None


def _lone_row(line: str) -> tuple[str, str] | None:
    """(English row, word) of a requirement row pasted without its block (``systeminfo |
    findstr /C:"Virtualization"`` keeps one row: de-findstr in docs/sources.md SI-DE2)."""
    match = _ITEM.match(_bare(line))
    if match is None:
        return None
    row = winlang.row(match.group("name"))
    return (row[0], match.group("value")) if row is not None else None


#: Full-width colons (U+FF1A) a zh-CN paste may hold, read as ``": "`` (the same two display
#: columns, so a layout stays lined up): SI-ZHCN3.
_WIDE_COLON = "\uff1a"


def _from_csv(dump: DumpText) -> DumpText | None:
    """``systeminfo /FO CSV`` (SI-CSV): a row of quoted labels, then a row of values, a field's
    lines joined by commas. As the list layout it reads as: each field on its own line, the
    Hyper-V block's rows one per line (the commas between ``row: word`` items). None when no
    line of the text is such a header followed by its values."""
    for index, line in enumerate(dump.lines[:200]):
        if not line.lstrip().startswith('"') or index + 1 >= len(dump.lines):
            continue
        try:
            header = next(csv.reader([line.strip()]), [])
            values = next(csv.reader([dump.lines[index + 1].strip()]), [])
        except csv.Error:
            continue
        known = [winlang.label(label) for label in header]
        if len(header) != len(values) or sum(k is not None for k in known) < _MIN_ALIGNED:
            continue
        out: list[str] = []
        for label, value, hit in zip(header, values, known, strict=True):
            parts = [value]
            if hit is not None and hit[0] == REQUIREMENTS:
                parts = [part.strip() for part in value.split(",") if part.strip()]
            out.append(f"{label}: {parts[0] if parts else ''}")
            out.extend(f"    {part}" for part in parts[1:])
        lines = (*dump.lines[:index], *out, *dump.lines[index + 2:])
        return DumpText(dump.path, tuple(lines), dump.encoding, dump.encoding_how)
    return None


def _halfwidth(dump: DumpText) -> DumpText:
    if not any(_WIDE_COLON in line for line in dump.lines):
        return dump
    return DumpText(dump.path, tuple(line.replace(_WIDE_COLON, ": ") for line in dump.lines),
                    dump.encoding, dump.encoding_how)


def _label(line: str) -> tuple[str, str] | None:
    """(English label, value) when ``line`` opens a field with a known label, else None."""
    found = _match_label(line)
    return (found[0], found[1]) if found is not None else None


class _Field(Record):
    line: int  # 0-based index in the dump
    label: str  # as printed, without the colon
    lines: tuple[str, ...]  # the value's lines (first one, then continuations), stripped


def _value_column(lines: tuple[str, ...]) -> int | None:
    """The display column most unindented ``Label:`` lines put their value at."""
    counts: Counter[int] = Counter()
    for line in lines:
        if not line[:1].strip():
            continue
        seen = set()
        for match in re.finditer(r":( +)(?=\S)", line):
            seen.add(width(line[:match.end()]))
        counts.update(seen)
    if not counts:
        return None
    column, count = counts.most_common(1)[0]
    return column if count >= _MIN_ALIGNED else None


def _split_at(line: str, column: int) -> tuple[str, str] | None:
    """(label, value) of a field line whose value starts at display ``column``."""
    used = 0
    for index, char in enumerate(line):
        if used == column:
            head, value = line[:index], line[index:]
            label = head.rstrip()
            if head.endswith(" ") and label.endswith(":") and value[:1].strip():
                return label[:-1].rstrip(), value.rstrip()
            break
        used += 2 if unicodedata.east_asian_width(char) in "WF" else 1
    text = line.rstrip()
    if text.endswith(":") and width(text) <= column:
        return text[:-1].rstrip(), ""  # an empty value ("Registered Organization:")
    first = re.match(r"^([^:]+):\s+(\S.*)$", text)
    if first is not None and width(first.group(1)) >= column - 2:
        return first.group(1).rstrip(), first.group(2)  # a label longer than the column
    return None


def _opens_block(lines: tuple[str, ...], index: int) -> bool:
    """``lines[index]`` is ``Label: value`` with indented lines under it."""
    line = lines[index]
    following = lines[index + 1] if index + 1 < len(lines) else ""
    return (":" in line and not line[:1].isspace() and following[:1].isspace()
            and bool(following.strip()))


def _runs(lines: tuple[str, ...], column: int) -> list[list[_Field]]:
    """Runs of consecutive fields (a field line, then its indented continuations); anything
    else (a blank line, a prompt, prose, a fence) ends a run."""
    runs: list[list[tuple[int, str, list[str]]]] = [[]]
    current: list[str] | None = None
    for index, line in enumerate(lines):
        if line[:1].isspace() and line.strip() and current is not None and not _FENCE.match(line):
            current.append(line.strip())
            continue
        split = _split_at(line, column) if line.strip() and not line[:1].isspace() else None
        if split is None and current is not None and _opens_block(lines, index):
            # A label not padded to the column, with indented lines under it: the
            # Virtualization-based security block of newer builds, in any language.
            label, _, value = line.partition(":")
            split = (label.rstrip(), value.strip())
        if split is None:
            runs.append([])
            current = None
            continue
        current = [split[1]] if split[1] else []
        runs[-1].append((index, split[0], current))
    return [[_Field(i, label, tuple(parts)) for i, label, parts in run] for run in runs if run]


def _block_kind(field: _Field) -> str | None:
    """"rows" (four ``row: word`` lines), "sentence" (text without a row's colon), else None."""
    lines = [line for line in field.lines if line]
    if not lines:
        return None
    if len(lines) == 4 and all(_ITEM.match(line) for line in lines):
        return "rows"
    if len(lines) <= 2 and not any(":" in line or "\uff1a" in line for line in lines):
        return "sentence"
    return None


class Layout(Record):
    """Fields read by their place: English label -> the field."""

    fields: dict[str, _Field]
    requirements: str | None  # "rows", "sentence" or None (no requirements block)


def read_layout(dump: DumpText) -> Layout | None:
    """The systeminfo fields of ``dump`` by their fixed order, when the text is a whole
    output lined up at one value column and anchored (module docstring); else None."""
    lines = _dedent(dump.lines)
    column = _value_column(lines)
    if column is None:
        return None
    best = max(_runs(lines, column), key=len, default=[])
    if len(best) < len(winlang.ORDER):
        return None
    kind = _block_kind(best[-1])
    body = best[:-1] if kind is not None else best
    vbs: _Field | None = None
    if kind is not None and len(body) > len(winlang.ORDER):
        # Network Card(s) lists "[01]: ..."; the Virtualization-based security block does not.
        if not any(_INDEXED.match(line) for line in body[-1].lines):
            vbs = body[-1]
            body = body[:-1]
        body = body[-len(winlang.ORDER):]  # prose or a prompt line before the first field
    if len(body) != len(winlang.ORDER):
        return None  # a cut or filtered output: the fields cannot be counted
    fields = dict(zip(winlang.ORDER, body, strict=True))
    if not _anchored(fields):
        return None
    if vbs is not None:
        fields[winlang.VBS] = vbs
    if kind is not None:
        fields[REQUIREMENTS] = best[-1]
    return Layout(fields, kind)


def _dedent(lines: tuple[str, ...]) -> tuple[str, ...]:
    """The lines without the indentation a whole paste was given (a markdown list's code
    block, a quoted mail): the smallest indentation of its padded ``Label:`` lines."""
    indents = [len(line) - len(line.lstrip(" ")) for line in lines
               if _PADDED.match(line.lstrip(" "))]
    cut = min(indents, default=0)
    if not cut:
        return lines
    return tuple(line[cut:] if line[:cut].isspace() else line for line in lines)


def _anchored(fields: dict[str, _Field]) -> bool:
    def first(label: str) -> str:
        lines = fields[label].lines
        return lines[0] if lines else ""

    if not _SYSTEM_TYPE.match(first("System Type")) or not _VERSION.match(first("OS Version")):
        return False
    for english, field in fields.items():
        known = winlang.LABELS.get(winlang.normalize(field.label))
        if known is not None and known[0] != english:
            return False  # a known label in another place: not the order we know
    return True


def _labelled(dump: DumpText) -> tuple[dict[str, list[str]], Counter[str]]:
    """Fields by their known labels (any language), and the languages seen."""
    fields: dict[str, list[str]] = {}
    languages: Counter[str] = Counter()
    current: list[str] | None = None
    for line in dump.lines:
        if line.startswith("#"):
            continue
        if not line.strip():  # hand-picked pastes put blank lines between fields
            current = None
            continue
        found = _match_label(line)
        if found is not None:
            label, value, language = found
            languages[language] += 1
            current = fields.setdefault(label, []) if label not in fields else None
            if current is not None:
                current.append(value)
        elif current is not None and line[:1].isspace() and not _FENCE.match(line):
            current.append(line.strip())  # a continuation line, indented under the value
        else:
            current = None  # a prompt, a command line, prose: the field has ended
    return fields, languages


def sniff(dump: DumpText) -> bool:
    dump = _halfwidth(dump)
    if _from_csv(dump) is not None:
        return True
    fields = 0
    for line in dump.lines[:200]:
        if not line.strip() or line.startswith("#"):
            continue
        found = _label(line)
        if found is not None:
            if found[0] == REQUIREMENTS:
                return True
            fields += 1
        elif _lone_row(line) is not None:
            return True
    return fields >= 3 or (_padded(dump) and read_layout(dump) is not None)


_PADDED = re.compile(r"^\S[^:]{0,60}:\s{2,}\S")


def _padded(dump: DumpText) -> bool:
    """A cheap first look: the System Type value every language prints (``x64-based PC``)
    and ``Label:`` lines padded with spaces, as systeminfo pads them. The layout is only
    worked out for text that has both; other dumps pay next to nothing."""
    if not any("-based PC" in line for line in dump.lines):
        return False
    return sum(1 for line in dump.lines[:400] if _PADDED.match(line)) >= _MIN_ALIGNED


def _requirements(lines: list[str], by_place: bool) -> tuple[dict[str, str], str]:
    """The requirement rows (known names, or by their fixed place when all four are there)
    and how they were read."""
    out: dict[str, str] = {}
    rows = [m for line in lines if (m := _ITEM.match(line.strip())) is not None]
    placed = 0
    for index, match in enumerate(rows):
        name = winlang.row(match.group("name"))
        english = name[0] if name is not None else None
        if english is None and (by_place or len(rows) == len(winlang.ROWS)) and len(rows) == 4:
            english = winlang.ROWS[index]
            placed += 1
        if english is not None:
            out.setdefault(f"{PREFIX}{REQUIREMENTS}/{english}", match.group("value"))
    how = f"; {placed} requirement rows by their fixed order" if placed else ""
    return out, how


def parse(dump: DumpText, cpu: int) -> Snapshot:
    only_cpu_zero(dump, cpu, "systeminfo")
    wide = _halfwidth(dump)
    notes = "; full-width colons read as ':'" if wide is not dump else ""
    listed = _from_csv(wide)
    notes += "; the /FO CSV output read as its list" if listed is not None else ""
    dump = listed or wide
    labelled, languages = _labelled(dump)
    layout = read_layout(dump)
    fields: dict[str, list[str]] = {k: list(v) for k, v in labelled.items()}
    placed: list[str] = []
    if layout is not None:
        for english, field in layout.fields.items():
            if english not in fields:
                fields[english] = list(field.lines)
                placed.append(english)
    files: dict[str, str] = {}
    for label, parts in fields.items():
        files[PREFIX + label] = "\n".join(p for p in parts if p)
    rows_how = ""
    block = fields.get(REQUIREMENTS)
    if block is not None:
        value = "\n".join(p for p in block if p)
        rows, rows_how = _requirements(value.splitlines(), layout is not None)
        files.update(rows)
        language = winlang.sentence_language(value)
        by_layout = layout is not None and layout.requirements == "sentence"
        if not rows and (language is not None or by_layout):
            files[SENTENCE] = value
            if language is None:
                rows_how += "; the requirements block holds one sentence without rows (by layout)"
            elif winlang.LOST in language:
                languages[language] += 1
    else:
        lone = [found for line in dump.lines if (found := _lone_row(line)) is not None]
        for english, word in lone:
            files.setdefault(f"{PREFIX}{REQUIREMENTS}/{english}", word)
        if lone:
            rows_how += (f"; {len(lone)} requirement row(s) without their block "
                         "(a filtered output)")
    files[READING] = _reading(languages, placed, layout) + rows_how + notes
    return paste_snapshot(dump, files, fmt=FORMAT, tool="systeminfo",
                          holds="Windows' own report of this machine",
                          machine=machine_of(fields.get("System Type", [None])[0]))


def _reading(languages: Counter[str], placed: list[str], layout: Layout | None) -> str:
    named = ", ".join(code for code, _ in languages.most_common())
    parts = [f"labels in {named}"] if named else []
    if placed:
        every = len(placed) >= len(winlang.ORDER)
        parts.append(
            ("every field by its place in systeminfo's fixed order (labels in a language "
             "nestprobe has no table for)") if every else
            f"{len(placed)} fields by their place in systeminfo's fixed order ("
            + ", ".join(placed[:4]) + (", ..." if len(placed) > 4 else "") + ")")
    elif layout is not None and named:
        parts.append("the layout agrees")
    return "; ".join(parts) or "no label read"


IMPORTER = Importer(FORMAT, sniff, parse, "Windows systeminfo output (any language)")
