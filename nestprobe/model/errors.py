"""Exceptions. Only loaders and explicit native calls raise; probing reports states."""

from __future__ import annotations


class NestprobeError(Exception):
    """Base class; never raised directly."""


class CpuidUnavailableError(NestprobeError, RuntimeError):
    """A raw CPUID was asked for where none can run (non-x86, faulting, no extension)."""


class DumpFormatError(NestprobeError, ValueError):
    """A dump file could not be read. Carries where and what was expected."""

    def __init__(self, path: str, line: int | None, expected: str, found: str = "") -> None:
        self.path = path
        self.line = line
        self.expected = expected
        self.found = found
        where = f"{path}:{line}" if line is not None else path
        detail = f"expected {expected}"
        if found:
            shown = found if len(found) <= 80 else found[:77] + "..."
            detail += f", found {shown!r}"
        super().__init__(f"{where}: {detail}")

    def __reduce__(self) -> tuple[type[DumpFormatError], tuple[str, int | None, str, str]]:
        return (type(self), (self.path, self.line, self.expected, self.found))
