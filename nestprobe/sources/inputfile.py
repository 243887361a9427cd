"""The one reader of input files (``--from``, ``load()``, ``bench compare``): bounded, and
it never blocks on a path that has nothing to give.

What it accepts: a regular file, or a pipe/FIFO (``--from <(cmd)``, a named FIFO whose
writer is connected), or standard input for ``-``. What it refuses without opening:
directories, character and block devices (``/dev/zero``, ``/dev/tty``, a watchdog whose
open alone has an effect), sockets. What it refuses after opening: more than ``limit``
bytes (a regular file by its size, before reading; a stream as soon as it passes the
limit), a FIFO with no writer (opened non-blocking, so the open returns at once and the
first read says end-of-file instead of waiting for a writer that may never come), and a
terminal on standard input (nobody is going to type a dump).

A pipe whose writer is connected but slow is waited for, as ``cat`` would; Ctrl-C
interrupts the wait. Every refusal is a :class:`DumpFormatError` in plain words.
"""

from __future__ import annotations

import os
import select
import stat

from nestprobe.model.contract import MAX_INPUT_BYTES
from nestprobe.model.errors import DumpFormatError, describe_file_mode, describe_os_error

__all__ = ["MAX_INPUT_BYTES", "STDIN", "STDIN_LABEL", "describe_os_error", "read_input"]
#: The path that means standard input.
STDIN = "-"
STDIN_LABEL = "<stdin>"
_CHUNK = 1 << 16
_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO's open must not wait for a writer
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)  # Windows: no newline translation
)


def _kind(mode: int) -> str:
    """``file`` and ``pipe`` are read; anything else is refused in describe_file_mode's words."""
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISFIFO(mode):
        return "pipe"
    return describe_file_mode(mode)


def _too_big(path: str, limit: int, found: str, what: str) -> DumpFormatError:
    return DumpFormatError(
        path, None, f"{what} of at most {limit:,} bytes ({limit >> 20} MiB)", found, quote=False
    )


def _wait_readable(fd: int) -> None:
    """Sleep until the pipe has data or its writer closes (Ctrl-C interrupts)."""
    select.select([fd], [], [])


def _drain(fd: int, path: str, limit: int, what: str) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        try:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
        except BlockingIOError:  # a writer is connected and has not written yet
            _wait_readable(fd)
            continue
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise _too_big(path, limit, "a longer stream", what)


def _read_stdin(limit: int, what: str) -> bytes:
    try:
        info = os.fstat(0)
    except OSError:
        raise DumpFormatError(
            STDIN_LABEL, None, f"{what} on standard input", "standard input closed", quote=False
        ) from None
    if stat.S_ISCHR(info.st_mode) and os.isatty(0):
        raise DumpFormatError(
            STDIN_LABEL, None, f"{what} piped to standard input (--from - reads a pipe or file)",
            "a terminal", quote=False,
        )
    if stat.S_ISREG(info.st_mode) and info.st_size > limit:
        raise _too_big(STDIN_LABEL, limit, f"{info.st_size:,} bytes", what)
    try:
        return _drain(0, STDIN_LABEL, limit, what)
    except OSError as exc:
        raise DumpFormatError(
            STDIN_LABEL, None, f"{what} on standard input", describe_os_error(exc), quote=False
        ) from None


def read_input(path: str, *, limit: int = MAX_INPUT_BYTES, what: str = "a dump") -> bytes:
    """The bytes at ``path`` (``-``: standard input), at most ``limit`` of them.

    ``what`` names the expected content in messages ("a dump", "a bench result").
    Raises :class:`DumpFormatError` for anything it will not or cannot read.
    """
    if path == STDIN:
        return _read_stdin(limit, what)
    try:
        info = os.stat(path)
    except (OSError, ValueError) as exc:  # ValueError: an embedded NUL in the path
        found = describe_os_error(exc) if isinstance(exc, OSError) else "a NUL in the path"
        raise DumpFormatError(path, None, f"{what} that exists and is readable", found,
                              quote=False) from None
    kind = _kind(info.st_mode)
    if kind not in ("file", "pipe"):
        # Refused unopened: opening a device can block (a tty) or act (a watchdog).
        raise DumpFormatError(path, None, f"{what} in a regular file or a pipe", kind,
                              quote=False)
    if kind == "file" and info.st_size > limit:
        raise _too_big(path, limit, f"{info.st_size:,} bytes", what)
    try:
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        raise DumpFormatError(path, None, f"{what} that is readable", describe_os_error(exc),
                              quote=False) from None
    try:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
            raise DumpFormatError(path, None, f"{what} that stays put while it is opened",
                                  "a different file at that path", quote=False)
        data = _drain(fd, path, limit, what)
    except OSError as exc:
        raise DumpFormatError(path, None, f"{what} that is readable", describe_os_error(exc),
                              quote=False) from None
    finally:
        os.close(fd)
    if kind == "pipe" and not data:
        raise DumpFormatError(
            path, None, f"{what} from a pipe with a writer",
            "nothing to read (a FIFO with no writer, or a writer that wrote nothing)",
            quote=False,
        )
    return data
