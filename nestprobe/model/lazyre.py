"""Regular expressions compiled when first used, not when their module is imported.

A module-level ``re.compile`` runs at import whether or not the run needs it: the probe
path's modules held ~50 of them, ~10 ms of ``nestprobe check``'s cold start on the
development VM, most for tables (CPU models, dump formats) a given machine never reaches.
``lazy_compile(...)`` takes the same arguments and offers the methods the code calls; the
pattern is compiled (and cached by :mod:`re`) on the first of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from nestprobe.model.typeshim import Any

__all__ = ["LazyPattern", "lazy_compile"]


#: The pattern methods the code calls; after the first, each is the compiled pattern's own.
_METHODS = ("findall", "finditer", "fullmatch", "match", "search", "split", "sub", "subn")


class LazyPattern:
    """A :class:`re.Pattern` made on first use; ``pattern`` and ``flags`` as given.

    The method slots start empty: the first call of any goes through ``__getattr__``, which
    compiles the pattern and fills every slot with the compiled pattern's bound method, so
    later calls cost what ``re.Pattern``'s do (the importers call ``match`` ~100,000 times
    over the corpus)."""

    __slots__ = ("_compiled", "flags", "pattern", *_METHODS)

    findall: Callable[..., list[Any]]
    finditer: Callable[..., Iterator[re.Match[str]]]
    fullmatch: Callable[..., re.Match[str] | None]
    match: Callable[..., re.Match[str] | None]
    search: Callable[..., re.Match[str] | None]
    split: Callable[..., list[str | Any]]
    sub: Callable[..., str]
    subn: Callable[..., tuple[str, int]]

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self.pattern, self.flags)
        return compiled

    def __getattr__(self, name: str) -> Any:
        if name not in _METHODS:
            raise AttributeError(name)
        compiled = self.compiled
        for method in _METHODS:
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)

    def __eq__(self, other: object) -> bool:  # as re.Pattern: same source, same flags
        if not isinstance(other, LazyPattern):
            return NotImplemented
        return (self.pattern, self.flags) == (other.pattern, other.flags)

    def __hash__(self) -> int:
        return hash((self.pattern, self.flags))

    def __repr__(self) -> str:
        return f"lazy_compile({self.pattern!r}, {self.flags!r})"


def lazy_compile(pattern: str, flags: int = 0) -> LazyPattern:
    """Like :func:`re.compile`, compiled when first used."""
    return LazyPattern(pattern, flags)
