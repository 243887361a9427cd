"""Writing to a console, a pipe or a file: never fails for its encoding, colour only on
a terminal, and a failing stream becomes one :class:`OutputError`.

Encoding: ``LC_ALL=C`` (ASCII), a Windows console or redirection in cp1252, cp437 or
cp850, ``PYTHONIOENCODING=latin-1`` ... cannot encode every character a report holds.
Characters the stream's encoding lacks become ASCII look-alikes (``—`` -> ``-``,
``…`` -> ``...``) or ``\\uXXXX`` escapes, so the text degrades instead of raising.

Colour: only when the stream is a terminal, ``NO_COLOR`` is unset or empty
(https://no-color.org) and ``TERM`` is not ``dumb``; on Windows only in terminals that
announce ANSI support (Windows Terminal sets ``WT_SESSION``).
"""

from __future__ import annotations

import codecs
import io
import os
import sys

from nestprobe.model.safetext import escape_char
from nestprobe.model.typeshim import Mapping, TextIO

#: Typographic characters the report uses, as ASCII.
_ASCII_LOOKALIKES = {
    "\u2014": "-", "\u2013": "-", "\u2026": "...", "\u2265": ">=", "\u2264": "<=",
    "\u00d7": "x", "\u00b5": "u", "\u2192": "->", "\u2190": "<-", "\u2018": "'",
    "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00b7": ".", "\u2022": "*",
    "\u00a0": " ", "\u2248": "~", "\u00b1": "+/-", "\u2713": "ok", "\u2717": "x",
}

ANSI = {
    "bold": "\x1b[1m",
    "green": "\x1b[1;32m",
    "red": "\x1b[1;31m",
    "yellow": "\x1b[1;33m",
    "magenta": "\x1b[1;35m",
    "dim": "\x1b[2m",
}
RESET = "\x1b[0m"


class OutputError(Exception):
    """The output stream refused a write (closed, full, failing). Not a broken pipe."""


def _encoding_of(stream: object) -> str | None:
    name = getattr(stream, "encoding", None)
    if not isinstance(name, str):
        return None  # an in-memory text stream takes any str
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "ascii"


def _fallback(ch: str) -> str:
    return _ASCII_LOOKALIKES.get(ch) or escape_char(ch)


def fit_encoding(text: str, encoding: str | None) -> str:
    """``text`` with every character ``encoding`` cannot encode replaced by ASCII."""
    if encoding is None or text.isascii():
        return text
    try:
        text.encode(encoding)
        return text
    except UnicodeEncodeError:
        pass
    out: list[str] = []
    for ch in text:
        try:
            ch.encode(encoding)
            out.append(ch)
        except UnicodeEncodeError:
            out.append(_fallback(ch))
    return "".join(out)


def wants_colour(stream: object, env: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, honouring NO_COLOR and TERM=dumb."""
    env = os.environ if env is None else env
    if env.get("NO_COLOR", "") != "" or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        if isatty is None or not isatty():
            return False
    except (OSError, ValueError):
        return False
    return sys.platform != "win32" or "WT_SESSION" in env or "TERM" in env


def terminal_width(stream: object, default: int) -> int:
    """The terminal's width when ``stream`` is one (clamped to 60..100), else ``default``."""
    fileno = getattr(stream, "fileno", None)
    try:
        if fileno is None or not os.isatty(fileno()):
            return default
        columns = os.get_terminal_size(fileno()).columns
    except (OSError, ValueError, AttributeError):
        return default
    return max(60, min(columns, 100))


class Console:
    """One output stream, written safely. ``stream`` None means stdout was closed."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self.encoding = _encoding_of(stream)

    def write(self, text: str) -> None:
        """Write ``text``; OutputError if the stream fails (BrokenPipeError passes)."""
        if self.stream is None:
            raise OutputError("standard output is closed")
        safe = fit_encoding(text, self.encoding)
        try:
            self.stream.write(safe)
        except BrokenPipeError:
            raise
        except UnicodeEncodeError:  # an encoding that lied about itself: ASCII always works
            self._write_ascii(safe)
        except (OSError, ValueError) as exc:  # ValueError: write to a closed file
            raise OutputError(_describe(exc)) from None

    def _write_ascii(self, text: str) -> None:
        assert self.stream is not None
        try:
            self.stream.write(fit_encoding(text, "ascii"))
        except BrokenPipeError:
            raise
        except (OSError, ValueError) as exc:
            raise OutputError(_describe(exc)) from None

    def flush(self) -> None:
        if self.stream is None:
            return
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise
        except (OSError, ValueError) as exc:
            raise OutputError(_describe(exc)) from None


def _describe(exc: Exception) -> str:
    if isinstance(exc, OSError):
        from nestprobe.model.errors import describe_os_error

        return describe_os_error(exc)
    return "the stream is closed"


class ConsoleStream(io.TextIOBase):
    """A :class:`Console` as a text stream, for code that takes one (``nestprobe bench``)."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self._console = console

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._console.write(text)
        return len(text)

    def flush(self) -> None:
        self._console.flush()

    def close(self) -> None:
        # io's close() flushes first, and the collector closes a dropped wrapper whenever
        # it runs, maybe after its owner closed the stream: closing is no write the CLI owes
        # (main() flushes the console itself), so a failing flush here is not raised.
        try:  # noqa: SIM105 (contextlib stays off the check path: tests/cli/test_cold_start.py)
            super().close()
        except OutputError:
            pass
