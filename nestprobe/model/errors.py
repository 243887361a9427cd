"""Exceptions. Only loaders and explicit native calls raise; probing reports states."""

from __future__ import annotations

import errno
import stat

from nestprobe.model.safetext import escape, quoted


class NestprobeError(Exception):
    """Base class; never raised directly."""


class CpuidUnavailableError(NestprobeError, RuntimeError):
    """A raw CPUID was asked for where none can run (non-x86, faulting, no extension)."""


class DumpFormatError(NestprobeError, ValueError):
    """A dump file could not be read. Carries where and what was expected.

    The message is plain words safe for a terminal: the path and what the file held are
    escaped (:func:`~nestprobe.model.safetext.escape`), and ``found`` is quoted when it is
    text from the file (by default when a line is named) and shown as words when it
    describes the input ("a directory", "a FIFO with no writer").
    """

    def __init__(
        self, path: str, line: int | None, expected: str, found: str = "",
        *, quote: bool | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.expected = expected
        self.found = found
        self.quote = line is not None if quote is None else quote
        where = escape(path) + (f":{line}" if line is not None else "")
        detail = f"expected {expected}"
        if found:
            detail += f", found {quoted(found) if self.quote else escape(found)}"
        super().__init__(f"{where}: {detail}")

    def __reduce__(self) -> tuple[object, ...]:
        args = (self.path, self.line, self.expected, self.found, self.quote)
        return (_rebuild, (type(self), args))


def _rebuild(
    kind: type[DumpFormatError], args: tuple[str, int | None, str, str, bool]
) -> DumpFormatError:
    path, line, expected, found, quote = args
    return kind(path, line, expected, found, quote=quote)


class CpuSelectionError(NestprobeError, ValueError):
    """The logical CPU asked for is not one there is: not in the dump, or not one this
    process may run on. A usage error (exit 2), not a malformed input."""


class CpuNotInDumpError(DumpFormatError, CpuSelectionError):
    """``cpu=N`` names a CPU the (well-formed) dump does not record."""


class ReportFormatError(ValueError):
    """A document that is not a JSON report of this schema_version; the message says where
    (``Report.from_dict``)."""


#: OSError numbers in the words every error message uses (input files, output streams).
_ERRNO_WORDS = {
    errno.ENOENT: "no such file",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ELOOP: "a loop of symbolic links",
    errno.ENAMETOOLONG: "a name too long for the file system",
    errno.ENOTDIR: "a path through something that is not a directory",
    errno.EISDIR: "a directory",
    errno.ENXIO: "a device or socket that cannot be opened",
    errno.EBADF: "a closed file descriptor",
    errno.EIO: "an I/O error",
}


def describe_os_error(exc: OSError) -> str:
    """An OSError in plain words ("no such file"), never a Python repr."""
    if exc.errno in _ERRNO_WORDS:
        return _ERRNO_WORDS[exc.errno]
    return (exc.strerror or type(exc).__name__).lower()


def describe_file_mode(mode: int) -> str:
    """A file that is not a regular one, in the words refusals use ("a FIFO", "a socket"):
    one table for every reader of inputs (sources/inputfile.py, fleet/inputs.py)."""
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"
