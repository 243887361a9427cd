"""The encodings Windows writes, told from the bytes and the language: one decoder for every
input file (the importers and :mod:`nestprobe.sources.inputfile`'s callers).

What writes what (WINENC): ``systeminfo > si.txt`` in cmd writes the console's OEM code
page (cp437 US, cp850 Western Europe and Brazil, cp852 Central Europe, cp857 Turkish,
cp866 Cyrillic, cp932/936/949/950 East Asia); Notepad and PowerShell 7 write UTF-8 (Notepad
with a BOM before Windows 10 1903); Windows PowerShell 5.1's ``>`` writes UTF-16LE with a
BOM; a file saved by a GUI tool in "ANSI" is cp1250/1251/1252. A paste copied through a
web page is UTF-8.

Order of decisions, each recorded in :attr:`Decoded.how`:

1. a BOM decides (UTF-8, UTF-16LE, UTF-16BE); UTF-16 with an odd number of bytes is a cut
   file, refused as such;
2. UTF-16 without a BOM shows as NUL bytes at every other offset (text of ASCII labels);
3. valid UTF-8 is UTF-8 (OEM and ANSI text with any byte above 0x7F is almost never valid
   UTF-8);
4. otherwise every OEM, DBCS and ANSI code page above is tried, and the one under which the
   text reads best wins: first by the words of the languages nestprobe reads (the labels and
   words of :mod:`nestprobe.sources.importers.winlang`), then by plausibility (letters, not
   box-drawing, symbols or control characters). A text no code page reads is refused.

A wrong code page can never turn a "Não" into a yes: a mis-decoded word is simply not one of
the known words, so it reads as unknown (decode/winreport.py).
"""

from __future__ import annotations

import codecs
import unicodedata
from collections.abc import Iterable

from nestprobe.model.record import Record

#: Code pages tried when the bytes are not UTF-8, in the order ties are broken.
OEM = ("cp850", "cp437", "cp852", "cp857", "cp866")
DBCS = ("cp932", "cp936", "cp949", "cp950")
ANSI = ("cp1252", "cp1250", "cp1251")
CODE_PAGES = OEM + DBCS + ANSI
#: How much of the input the UTF-16 sniffing and the scoring look at.
_SAMPLE = 1 << 16


class Decoded(Record):
    """A text and how it was read."""

    text: str
    encoding: str  # the codec used: "utf-8", "utf-8-sig", "utf-16-le", "cp850", ...
    how: str  # why: "UTF-8 BOM", "valid UTF-8", "cp850: 14 known words (cp1252: 3)", ...

    @property
    def plain(self) -> bool:
        """UTF-8 (with or without BOM): nothing worth telling a reader about."""
        return self.encoding in ("utf-8", "utf-8-sig", "ascii")


class Undecodable(Exception):  # noqa: N818 - a result the caller words, not a crash
    """Bytes no supported encoding reads: ``offset``/``line`` of the first bad byte where one
    encoding was certain, and a reason a person can act on."""

    def __init__(self, reason: str, offset: int | None = None, line: int | None = None,
                 bad: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset
        self.line = line
        self.bad = bad


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le``/``-be`` when NULs sit at every other offset, as in UTF-16 text of
    mostly ASCII characters; else None."""
    sample = data[:_SAMPLE]
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) // 2
    if odd >= half * 0.3 and even <= half * 0.05:
        return "utf-16-le"
    if even >= half * 0.3 and odd <= half * 0.05:
        return "utf-16-be"
    return None


def _bad_bytes(data: bytes, start: int, end: int) -> str:
    return " ".join(f"0x{b:02x}" for b in data[start:min(end, start + 4)])


_NOISE_CATEGORIES = ("Cc", "Co", "Cn", "Cs", "So", "Sk", "Sm")


def plausibility(text: str) -> float:
    """Share of the non-ASCII characters that read as letters or common punctuation; box
    drawing, symbols, control and private-use characters (what a wrong code page makes of
    letters) count against. 1.0 for pure ASCII."""
    total = 0
    good = 0
    for char in text[:_SAMPLE]:
        if char.isascii():
            continue
        total += 1
        category = unicodedata.category(char)
        if category.startswith(("L", "M", "N", "Zs", "P")) and category not in _NOISE_CATEGORIES:
            good += 1
    return 1.0 if total == 0 else good / total


def known_words(text: str, vocabulary: Iterable[str]) -> int:
    """How many of the vocabulary's words occur in ``text`` (each counted once)."""
    sample = text[:_SAMPLE]
    return sum(1 for word in vocabulary if word in sample)


def _vocabulary() -> frozenset[str]:
    from nestprobe.sources.importers import winlang

    return winlang.non_ascii_words()


def decode(data: bytes, vocabulary: Iterable[str] | None = None) -> Decoded:
    """The text of ``data`` and how it was read; :class:`Undecodable` if nothing reads it."""
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data, "utf-8-sig", "UTF-8 BOM")
    for bom, name in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            body = data[len(bom):]
            if len(body) % 2:
                raise Undecodable(
                    f"UTF-16 text (it starts with a {name[-2:].upper()} byte-order mark) with "
                    f"an odd number of bytes ({len(data):,}): the file was cut in the middle "
                    "of a character; save or copy it again whole")
            return _strict(body, name, f"UTF-16{name[-2:].upper()} BOM")
    guessed = _utf16_without_bom(data)
    if guessed is not None:
        body = data[:-1] if len(data) % 2 else data
        decoded = _strict(body, guessed, f"UTF-16{guessed[-2:].upper()} without BOM "
                                          "(NUL bytes at every other offset)")
        if len(data) % 2:
            raise Undecodable(
                f"UTF-16{guessed[-2:].upper()} text without a byte-order mark and with an odd "
                f"number of bytes ({len(data):,}): the file was cut; save or copy it again whole")
        return decoded
    try:
        return Decoded(data.decode("utf-8"), "utf-8", "valid UTF-8")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    words = frozenset(vocabulary) if vocabulary is not None else _vocabulary()
    scored: list[tuple[int, float, int, str, str]] = []
    for rank, name in enumerate(CODE_PAGES):
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            continue
        scored.append((known_words(text, words), plausibility(text), -rank, name, text))
    if not scored:
        raise _not_text(data, first_bad)
    scored.sort(reverse=True)
    hits, plausible, _, name, text = scored[0]
    if hits == 0 and plausible < 0.9:
        raise _not_text(data, first_bad)
    runner = scored[1] if len(scored) > 1 else None
    versus = f"; {runner[3]}: {runner[0]}" if runner is not None else ""
    why = (f"not UTF-8 (byte {_bad_bytes(data, first_bad, first_bad + 1)} at offset "
           f"{first_bad:,}); read as {name}: {hits} words of a language nestprobe reads"
           f"{versus}" if hits else
           f"not UTF-8; read as {name}, the code page under which it reads as letters "
           "(no word of a language nestprobe reads was found)")
    return Decoded(text, name, why)


def _strict(data: bytes, name: str, how: str) -> Decoded:
    try:
        text = data.decode(name)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1 if name.startswith("utf-8") else None
        bad = _bad_bytes(data, exc.start, exc.end)
        raise Undecodable(
            f"{how.split(' (', maxsplit=1)[0]} promised, but byte {bad} at offset {exc.start:,} "
            f"is not {name.upper()} (a binary file, or cut?)", exc.start, line, bad) from None
    return Decoded(text, name, how)


def _not_text(data: bytes, first_bad: int) -> Undecodable:
    line = data.count(b"\n", 0, first_bad) + 1
    return Undecodable(
        f"text in UTF-8, UTF-16 or a Windows code page ({', '.join(CODE_PAGES)}); byte "
        f"{_bad_bytes(data, first_bad, first_bad + 1)} at offset {first_bad:,} is not UTF-8 "
        "and no code page reads the file as words (a binary file?)",
        first_bad, line, _bad_bytes(data, first_bad, first_bad + 1))
