"""Text from a dump or the machine, made safe to show to a person.

A dump can hold anything (ESC sequences, CR, BEL, bidi overrides, bytes that are not
UTF-8); printed raw, such text can move the cursor, recolour or rewrite a terminal and
forge lines of a report. Every renderer and every error message passes such text
through :func:`escape`, which keeps printable characters and spells the rest as
backslash escapes. It is the one definition, shared by the model's error messages and
the output layer.
"""

from __future__ import annotations

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: ``surrogateescape`` keeps an undecodable byte B as the lone surrogate U+DC00+B.
_SURROGATE_BYTES = range(0xDC80, 0xDD00)


def escape_char(ch: str) -> str:
    """One character as a backslash escape (a byte kept by surrogateescape as ``\\xNN``)."""
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    if code in _SURROGATE_BYTES:
        return f"\\x{code - 0xDC00:02x}"  # the byte the file held
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape(text: str) -> str:
    """``text`` with every non-printable character as ``\\n``, ``\\xNN``, ``\\uNNNN``...

    Printable means :meth:`str.isprintable`: control characters (C0, C1, DEL), format
    characters (bidi overrides, zero-width joiners), separators other than the space and
    lone surrogates are all escaped.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else escape_char(ch) for ch in text)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the cut marked with ``...``."""
    return text if len(text) <= limit else text[: max(limit - 3, 0)] + "..."


def quoted(text: str, limit: int = 80) -> str:
    """``text`` escaped, cut, in double quotes: how a message shows what a file held."""
    return '"' + shorten(escape(text), limit) + '"'
