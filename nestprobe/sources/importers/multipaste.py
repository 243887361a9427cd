"""Several Windows tool outputs in one paste (systeminfo then Coreinfo, two systeminfo
runs, msinfo32 and systeminfo): every one is read, none is dropped (issue 22.3).

People answer "paste the output of systeminfo and coreinfo -v" with both in one file.
Reading only the first tool loses the second, and of two runs of one tool the first would
win silently. Here the text is cut into paragraphs (blank lines); a paragraph that one of
the Windows importers recognises on its own starts that tool's output. Paragraphs no
importer recognises alone are taken together: if an importer recognises them so
(hand-picked fields, one per paragraph) they are that tool's output, else they belong to
the output before them (Coreinfo's maps, prose). A recognised part of the tool already
being read continues it, unless it repeats a field that output already has: then it is
a second run.

Each output is parsed by its importer; their records (``<tool>:<label>`` pseudo-files)
are merged. A field two outputs both print must say the same in both, else the paste is
refused (exit 6) naming both places: which one is right cannot be told from the text.
Contradictions between different tools (systeminfo's "A hypervisor has been detected"
beside Coreinfo's ``HYPERVISOR -``) are found where their meaning is known
(decode/winreport.py ``disagreements``) and refused the same way by the pipeline.
"""

from __future__ import annotations

from nestprobe.model.errors import DumpFormatError
from nestprobe.model.snapshot import Snapshot
from nestprobe.sources.importers import coreinfo, getcomputerinfo, msinfo32, systeminfo
from nestprobe.sources.importers.common import DumpText, Importer
from nestprobe.sources.importers.winpaste import paste_snapshot

#: The Windows tools, in the order load.py sniffs them.
WINDOWS: tuple[Importer, ...] = (coreinfo.IMPORTER, systeminfo.IMPORTER,
                                 getcomputerinfo.IMPORTER, msinfo32.IMPORTER)
TOOL_NAMES = {coreinfo.FORMAT: "Coreinfo", systeminfo.FORMAT: "systeminfo",
              getcomputerinfo.FORMAT: "Get-ComputerInfo", msinfo32.FORMAT: "msinfo32"}
#: Beyond this many paragraphs a text is no paste a person made: read as one tool.
MAX_PARAGRAPHS = 400


class _Output:
    """One tool's output: its importer, its lines (numbered as in the file)."""

    def __init__(self, importer: Importer, first: int) -> None:
        self.importer = importer
        self.first = first
        self.lines: list[tuple[int, str]] = []

    def text(self, path: str, lines: list[tuple[int, str]] | None = None) -> DumpText:
        return DumpText(path, tuple(line for _, line in (lines or self.lines)))

    def files(self, path: str, lines: list[tuple[int, str]] | None = None) -> dict[str, str]:
        """What the importer records from these lines ({} when it understands none)."""
        try:
            snapshot = self.importer.parse(self.text(path, lines), 0)
        except DumpFormatError:
            return {}
        return {key: fact.text or "" for key, fact in snapshot.os.files.items()}


def _paragraphs(dump: DumpText) -> list[list[tuple[int, str]]]:
    paragraphs: list[list[tuple[int, str]]] = [[]]
    for number, line in enumerate(dump.lines, 1):
        if line.strip():
            paragraphs[-1].append((number, line))
        elif paragraphs[-1]:
            paragraphs.append([])
    return [p for p in paragraphs if p]


def _recogniser(path: str, paragraph: list[tuple[int, str]]) -> Importer | None:
    text = DumpText(path, tuple(line for _, line in paragraph))
    return next((importer for importer in WINDOWS if importer.sniff(text)), None)


def split(dump: DumpText) -> list[_Output]:
    """The tool outputs in ``dump``, in order (one, when it holds one)."""
    paragraphs = _paragraphs(dump)
    if len(paragraphs) > MAX_PARAGRAPHS:
        return []
    outputs: list[_Output] = []
    loose: list[tuple[int, str]] = []  # paragraphs no importer recognises on its own
    for paragraph in paragraphs:
        importer = _recogniser(dump.path, paragraph)
        if importer is None:
            loose += paragraph
            continue
        _place(dump.path, outputs, loose)
        loose = []
        _place(dump.path, outputs, paragraph, importer)
    _place(dump.path, outputs, loose)
    return outputs


def _place(path: str, outputs: list[_Output], lines: list[tuple[int, str]],
           importer: Importer | None = None) -> None:
    """Add ``lines`` to the output they continue, or start a new one: a run of loose
    paragraphs (fields a person picked, one per paragraph) counts when, read together,
    an importer recognises them."""
    if not lines:
        return
    importer = importer or _recogniser(path, lines)
    current = outputs[-1] if outputs else None
    if importer is None or (current is not None and importer is current.importer
                            and not _repeats(path, current, lines)):
        if current is not None:
            current.lines += lines
        return
    outputs.append(_Output(importer, lines[0][0]))
    outputs[-1].lines += lines


def _repeats(path: str, current: _Output, paragraph: list[tuple[int, str]]) -> bool:
    """``paragraph`` prints a field ``current`` already has: a second run of the tool."""
    return bool(set(current.files(path)) & set(current.files(path, paragraph)))


def parse(dump: DumpText, cpu: int) -> Snapshot | None:
    """The merged Snapshot of a paste holding several tool outputs; None when it holds one
    (the caller reads it as usual). DumpFormatError when two outputs disagree on a field."""
    outputs = split(dump)
    if len(outputs) < 2:
        return None
    merged: dict[str, str] = {}
    where: dict[str, _Output] = {}
    machine = None
    for output in outputs:
        snapshot = output.importer.parse(output.text(dump.path), cpu)
        if output.importer is systeminfo.IMPORTER and machine is None:
            machine = snapshot.os.machine
        for key, fact in snapshot.os.files.items():
            value = fact.text or ""
            if key in merged and merged[key].strip() != value.strip():
                first = where[key]
                raise DumpFormatError(
                    dump.path, output.first,
                    f"tool outputs of one machine that agree ({TOOL_NAMES[first.importer.name]}"
                    f" from line {first.first} and {TOOL_NAMES[output.importer.name]} from "
                    f"line {output.first} both print {key.split(':', 1)[1]!r})",
                    f"{merged[key].strip()[:60]!r} there, {value.strip()[:60]!r} here",
                    quote=False)
            merged.setdefault(key, value)
            where.setdefault(key, output)
    if len({o.importer for o in outputs}) == 1:
        return None  # runs of one tool that agree: read as one output, as before
    names = [TOOL_NAMES[o.importer.name] for o in outputs]
    tools = " and ".join(dict.fromkeys(names))
    formats = "+".join(dict.fromkeys(o.importer.name for o in outputs))
    kwargs = {"machine": machine} if machine else {}
    return paste_snapshot(dump, merged, fmt=formats, tool=tools,
                          holds=f"{len(outputs)} tool outputs, merged where they agree",
                          **kwargs)
