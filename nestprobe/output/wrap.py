"""Word wrapping for the text report: :func:`textwrap.wrap`'s result, without importing it.

:mod:`textwrap` compiles its regular expressions at import, which imports :mod:`re` (with
``enum``, ``functools`` and ``collections``: ~7 ms of ``nestprobe check``'s start, more than
half of the interpreter's own). The report wraps with whole words only (no hyphen breaks,
no long-word breaks), which is a few lines: the same chunks textwrap makes, filled the same
greedy way. tests/output/test_wrap.py checks it against textwrap on generated text.
"""

from __future__ import annotations

__all__ = ["wrap"]

#: The characters textwrap treats as whitespace (ASCII only; each becomes one space).
_SPACES = str.maketrans("\t\n\x0b\x0c\r", "     ")


def _chunks(text: str) -> list[str]:
    """Runs of spaces and runs of everything else, in order (textwrap's simple split):
    ``str.split(" ")`` leaves an empty piece for each space after the first of a run."""
    pieces = text.split(" ")
    chunks = [pieces[0]] if pieces[0] else []
    spaces = 0
    for piece in pieces[1:]:
        spaces += 1
        if piece:
            chunks += (" " * spaces, piece)
            spaces = 0
    if spaces:
        chunks.append(" " * spaces)
    return chunks


def wrap(text: str, width: int, indent: str = "", subsequent: str = "") -> list[str]:
    """``textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=subsequent,
    break_on_hyphens=False, break_long_words=False)``."""
    if width <= 0:
        raise ValueError(f"invalid width {width!r} (must be > 0)")
    printable = text.isprintable()  # then it holds no tab nor other whitespace to replace
    if not printable:
        text = text.expandtabs(8).translate(_SPACES)
    kept = text.rstrip(" ")
    if kept and len(kept) <= width - len(indent) and not kept[-1].isspace():
        # One line (most of a report's): every chunk up to the spaces that end it fits, and
        # the last is no whitespace textwrap would drop (str.strip's: "\xa0" is).
        return [indent + kept]
    if printable:  # a printable text's only whitespace is the space
        return _fill_spaced(text, width, indent, subsequent)
    return _fill_chunks(_chunks(text), width, indent, subsequent)


def _fill_spaced(text: str, width: int, indent: str, subsequent: str) -> list[str]:
    """:func:`_fill_chunks` for a text whose only whitespace is the space (a printable one:
    every line a report wraps): each line's end is found in the text (the last chunk
    boundary its room reaches), not by adding chunk after chunk."""
    size = len(text)
    lines: list[str] = []
    at = 0  # where the first chunk not placed yet starts
    while at < size:
        prefix = subsequent if lines else indent
        if lines and text[at] == " ":  # a line never starts with spaces
            at = size - len(text[at:].lstrip(" "))
            if at == size:
                break
        limit = at + width - len(prefix)  # the chunks ending at or before it fit
        if limit >= size:
            end = size
        elif limit <= at:
            end = at
        elif (text[limit - 1] == " ") != (text[limit] == " "):
            end = limit  # a chunk ends right there
        elif text[limit] == " ":
            end = len(text[:limit].rstrip(" "))  # inside spaces: before them
        else:
            end = text.rfind(" ", at, limit) + 1  # inside a word: before it (0: none)
        if end <= at:  # not even the first chunk fits: it stands alone
            if text[at] == " ":
                end = size - len(text[at:].lstrip(" "))
            else:
                found = text.find(" ", at)
                end = size if found < 0 else found
        line = text[at:end].rstrip(" ")  # the spaces that end a line go
        if line:
            lines.append(prefix + line)
        at = end
    return lines


def _fill_chunks(chunks: list[str], width: int, indent: str, subsequent: str) -> list[str]:
    """textwrap's greedy fill: as many chunks as fit on each line."""
    count = len(chunks)
    lines: list[str] = []
    at = 0  # the first chunk not placed yet
    while at < count:
        prefix = subsequent if lines else indent
        room = width - len(prefix)
        if lines and chunks[at].strip() == "":  # a line never starts with spaces
            at += 1
        first = at
        used = 0
        while at < count and used + len(chunks[at]) <= room:
            used += len(chunks[at])
            at += 1
        if at == first and at < count:
            at += 1  # a word longer than the line stands alone
        end = at
        if end > first and chunks[end - 1].strip() == "":
            end -= 1
        if end > first:
            lines.append(prefix + "".join(chunks[first:end]))
    return lines
