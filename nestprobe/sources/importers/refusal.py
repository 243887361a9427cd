"""Why a text no importer reads is refused: what was recognised in it, and what to do.

A refusal that quotes the first line ("found PS C:\\Users\\me> systeminfo") blames the prompt
when the cause is elsewhere. This module looks for what the text is (in this order) and
words the :class:`DumpFormatError` after it:

1. a systeminfo-style listing (``Label:`` lines padded to one value column) nestprobe could
   not read: labels in a language without a table, and not whole (cut, or filtered by
   ``findstr``), so the fixed order cannot be counted either;
2. Hyper-V requirement rows (``...: word`` under a label naming Hyper-V) in such a language;
3. an msinfo32-style table (``Item<TAB>Value`` rows) with unknown items;
4. lines of 8-digit hex words (a CPUID dump in a layout nestprobe does not read), and a
   Firecracker template of an aarch64 host (ARM registers, no CPUID);
5. otherwise: no line of a known format, naming the first line that is not a prompt, a
   command, a code fence or a comment.

When the bytes were not UTF-8 the refusal says which code page read them
(sources/importers/textcodec.py): a wrong code page is a cause a person can fix.
"""

from __future__ import annotations

import re

from nestprobe.model.errors import DumpFormatError
from nestprobe.sources.importers import systeminfo, winlang
from nestprobe.sources.importers.common import DumpText

#: What every systeminfo and Get-ComputerInfo can be asked for instead.
ASK_ENGLISH = ("or, in PowerShell, Get-ComputerInfo -Property CsManufacturer,CsModel,HyperV* "
               "(its property names are English in every language)")
_PROMPT = re.compile(
    r"^\s*(?:PS [A-Za-z]:\\[^>]*>|[A-Za-z]:\\[^>]*>|PS>|\$ |\S+@\S+[:~][^$#]*[$#] ?|```|~~~|#)")
_HEX8 = re.compile(r"\b(?:0x)?[0-9a-fA-F]{8}\b")
_HYPERV = re.compile(r"Hyper-V", re.IGNORECASE)


def refuse(dump: DumpText, formats: str) -> DumpFormatError:
    """The refusal of ``dump``, which no importer of ``formats`` recognised."""
    coded = "" if not dump.encoding or dump.encoding.startswith("utf-8") else (
        f" (the file's bytes were read as {dump.encoding}: {dump.encoding_how}; if that is "
        "not the code page it was written in, save it as UTF-8 and try again)")
    for recognise in (_firecracker_arm, _listing, _hyperv_rows, _msinfo_table, _hex_dump):
        found = recognise(dump)
        if found is not None:
            line, what, todo = found
            return DumpFormatError(dump.path, line, todo, what + coded, quote=False)
    first = next(((n, line.strip()) for n, line in enumerate(dump.lines, 1)
                  if line.strip() and not _PROMPT.match(line)), None)
    if first is None:
        prompt = next(((n, line.strip()) for n, line in enumerate(dump.lines, 1)
                       if line.strip() and not line.lstrip().startswith("#")), None)
        if prompt is None:
            return DumpFormatError(dump.path, None, f"a dump in a known format ({formats})",
                                   "no content" + coded)
        return DumpFormatError(
            dump.path, prompt[0], f"a dump in a known format ({formats}) after the command line",
            f"only prompts, commands or code fences ({prompt[1]!r}): the command's output is "
            "missing" + coded, quote=False)
    line, text = first
    return DumpFormatError(dump.path, line, f"a dump in a known format ({formats})",
                           text + coded, quote=not coded)


def _firecracker_arm(dump: DumpText) -> tuple[int, str, str] | None:
    head = "\n".join(dump.lines[:400])
    if '"reg_modifiers"' not in head or '"cpuid_modifiers"' in head:
        return None
    return (1, "a Firecracker template or fingerprint of an aarch64 host (reg_modifiers: ARM "
            "registers, no CPUID)",
            "an x86 machine's CPUID (a Firecracker fingerprint of an x86_64 host has "
            "cpuid_modifiers); nestprobe reads x86 CPUID only")


def _listing(dump: DumpText) -> tuple[int, str, str] | None:
    column = systeminfo._value_column(dump.lines)
    if column is None:
        return None
    runs = systeminfo._runs(dump.lines, column)
    best = max(runs, key=len, default=[])
    if len(best) < 8:
        return None
    whole = len(winlang.ORDER)
    labels = [field.label for field in best]
    hyperv = any(_HYPERV.search(label) for label in labels)
    state = (f"{len(best)} fields lined up at column {column}, "
             + ("the Hyper-V block last" if hyperv else "no Hyper-V block"))
    why = ("labels in a language nestprobe has no table for" if not any(
        winlang.normalize(label) in winlang.LABELS for label in labels)
        else "some labels nestprobe does not know")
    return (best[0].line + 1,
            f"a systeminfo-style listing ({state}; {why}; a whole systeminfo has {whole} "
            "fields and the Hyper-V block, and is read by their fixed order in any language)",
            "the whole systeminfo output, from its first line to the Hyper-V block, unfiltered "
            f"(no findstr) and not re-indented, {ASK_ENGLISH}")


def _hyperv_rows(dump: DumpText) -> tuple[int, str, str] | None:
    for number, line in enumerate(dump.lines, 1):
        if _HYPERV.search(line) and ":" in line and not line[:1].isspace():
            rows = [n for n in dump.lines[number:number + 4] if ":" in n and n[:1].isspace()]
            if rows:
                return (number, f"a Hyper-V requirements block in a language nestprobe has no "
                        f"table for ({len(rows) + 1} lines; its rows can only be read by their "
                        "order in a whole systeminfo output)",
                        f"the whole systeminfo output (not filtered by findstr) {ASK_ENGLISH}")
    return None


def _msinfo_table(dump: DumpText) -> tuple[int, str, str] | None:
    rows = [n for n, line in enumerate(dump.lines, 1) if line.count("\t") == 1
            and line.split("\t")[0].strip() and line.split("\t")[1].strip()]
    if len(rows) < 5:
        return None
    return (rows[0], f"an msinfo32-style table ({len(rows)} Item<TAB>Value rows) whose items "
            "nestprobe does not know (only its Hyper-V rows are read in every language)",
            "msinfo32's System Summary including its four Hyper-V rows, " + ASK_ENGLISH)


def _hex_dump(dump: DumpText) -> tuple[int, str, str] | None:
    rows = [n for n, line in enumerate(dump.lines, 1) if len(_HEX8.findall(line)) >= 4]
    if len(rows) < 2:
        return None
    return (rows[0], f"{len(rows)} lines of four or more 8-digit hex words, like a CPUID dump "
            "in a layout nestprobe does not read",
            "Todd Allen's `cpuid -r` output, a tycho `cpuid -d` or AIDA64 dump, or the output of "
            "nestprobe-dump (README: formats read)")
