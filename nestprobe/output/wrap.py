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
    text = text.expandtabs(8).translate(_SPACES)
    kept = text.rstrip(" ")
    if kept and len(kept) <= width - len(indent) and not kept[-1].isspace():
        # One line (most of a report's): every chunk up to the spaces that end it fits, and
        # the last is no whitespace textwrap would drop (str.strip's: "\xa0" is).
        return [indent + kept]
    chunks = _chunks(text)
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
