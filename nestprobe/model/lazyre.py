"""Regular expressions compiled when first used, not when their module is imported.

A module-level ``re.compile`` runs at import whether or not the run needs it: the probe
path's modules held ~50 of them, ~10 ms of ``nestprobe check``'s cold start on the
development VM, most for tables (CPU models, dump formats) a given machine never reaches.
``lazy_compile(...)`` takes the same arguments and offers the methods the code calls; the
pattern is compiled (and cached by :mod:`re`) on the first of them.

Even :mod:`re` itself is imported only then: with ``enum``, ``functools`` and
``collections`` it costs ~7 ms, more than half of an interpreter's start, so the check
path imports it at all only when a string could match. ``needles`` says which plain
substrings every match contains (one of them at least): ``search``, ``match`` and
``fullmatch`` of an ASCII string holding none of them answer None without compiling.
:meth:`LazyPattern.found_in` answers "does it match anywhere" without :mod:`re` at all
when the pattern is only literal alternatives (``bios|uefi|firmware``, ``^AMD EPYC$``) or
was given their list (``same_as``), and through the needles otherwise.
tests/model/test_lazyre.py checks all of it against :mod:`re` on strings generated from
each pattern of the package.
"""

from __future__ import annotations

from nestprobe.model.typeshim import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import re
    from collections.abc import Callable, Iterator

__all__ = ["IGNORECASE", "LazyPattern", "any_of", "lazy_compile"]


#: The pattern methods the code calls; after the first, each is the compiled pattern's own.
_METHODS = ("findall", "finditer", "fullmatch", "match", "search", "split", "sub", "subn")
#: The methods a needle can answer: a string without one cannot match.
_GUARDED = ("fullmatch", "match", "search")
#: ``re.IGNORECASE``'s value, without importing re (its RegexFlag enum is the cost).
IGNORECASE = 2


class LazyPattern:
    """A :class:`re.Pattern` made on first use; ``pattern`` and ``flags`` as given.

    The method slots start empty: the first call of any goes through ``__getattr__``, which
    compiles the pattern and fills every slot with the compiled pattern's bound method, so
    later calls cost what ``re.Pattern``'s do (the importers call ``match`` ~100,000 times
    over the corpus)."""

    __slots__ = ("_compiled", "_literals", "flags", "needles", "pattern", "same_as", *_METHODS)

    findall: Callable[..., list[Any]]
    finditer: Callable[..., Iterator[re.Match[str]]]
    fullmatch: Callable[..., re.Match[str] | None]
    match: Callable[..., re.Match[str] | None]
    search: Callable[..., re.Match[str] | None]
    split: Callable[..., list[str | Any]]
    sub: Callable[..., str]
    subn: Callable[..., tuple[str, int]]

    def __init__(self, pattern: str, flags: int = 0, needles: tuple[str, ...] = (),
                 same_as: LazyPattern | None = None) -> None:
        self.pattern = pattern
        self.flags = int(flags)
        self.needles = needles
        self.same_as = same_as
        self._compiled: re.Pattern[str] | None = None
        self._literals: _Literals | bool | None = False  # False: not parsed yet
        if needles:
            folded = bool(self.flags & IGNORECASE) or pattern.startswith("(?i)")
            lowered = tuple(needle.lower() for needle in needles) if folded else needles
            for method in _GUARDED:
                setattr(self, method, self._guard(method, lowered, folded))

    def _guard(self, method: str, needles: tuple[str, ...], folded: bool
               ) -> Callable[..., re.Match[str] | None]:
        def guarded(string: str, *args: Any) -> re.Match[str] | None:
            # Only ASCII is decided here: Unicode case folding (the long s matches "s"
            # under IGNORECASE) is re's to decide.
            if string.isascii():
                seen = string.lower() if folded else string
                if not any(needle in seen for needle in needles):
                    return None
            found: re.Match[str] | None = getattr(self.compiled, method)(string, *args)
            return found

        return guarded

    def found_in(self, string: str) -> bool:
        """``bool(self.search(string))``, decided without :mod:`re` when it can be."""
        if self.same_as is not None and string.isascii():  # \d matches Arabic-Indic digits
            return self.same_as.found_in(string)
        literals = self._literals
        if literals is False:
            literals = self._literals = _literal_alternatives(self.pattern, self.flags)
        if literals is not None and string.isascii():
            return literals.found_in(string)  # type: ignore[union-attr]  # parsed just above
        return self.search(string) is not None

    @property
    def compiled(self) -> re.Pattern[str]:
        compiled = self._compiled
        if compiled is None:
            import re  # here: see the module's docstring

            compiled = self._compiled = re.compile(self.pattern, self.flags)
        return compiled

    def __getattr__(self, name: str) -> Any:
        if name not in _METHODS:
            raise AttributeError(name)
        compiled = self.compiled
        for method in _METHODS:
            if not (self.needles and method in _GUARDED):
                setattr(self, method, getattr(compiled, method))
        return getattr(self, name)

    def __eq__(self, other: object) -> bool:  # as re.Pattern: same source, same flags
        if not isinstance(other, LazyPattern):
            return NotImplemented
        return (self.pattern, self.flags) == (other.pattern, other.flags)

    def __hash__(self) -> int:
        return hash((self.pattern, self.flags))

    def __repr__(self) -> str:
        return f"lazy_compile({self.pattern!r}, {self.flags!r})"


class _Literals:
    """A pattern that is only literal alternatives, each maybe anchored (``^``/``$``),
    sorted by anchoring so a search is a few ``in``/``startswith`` calls."""

    __slots__ = ("anywhere", "ends", "folded", "starts", "whole")

    def __init__(self, alternatives: tuple[tuple[str, bool, bool], ...], folded: bool) -> None:
        self.anywhere = tuple(t for t, start, end in alternatives if not start and not end)
        self.starts = tuple(t for t, start, end in alternatives if start and not end)
        self.ends = tuple(t for t, start, end in alternatives if end and not start)
        self.whole = frozenset(t for t, start, end in alternatives if start and end)
        self.folded = folded

    def found_in(self, string: str) -> bool:
        seen = string.lower() if self.folded else string
        for text in self.anywhere:
            if text in seen:
                return True
        if self.starts and seen.startswith(self.starts):
            return True
        if self.ends or self.whole:
            # re's "$" also matches before a newline that ends the string.
            bare = seen[:-1] if seen.endswith("\n") else seen
            if self.ends and (seen.endswith(self.ends) or bare.endswith(self.ends)):
                return True
            return seen in self.whole or bare in self.whole
        return False


#: What re reads as special outside a class; a backslash before one makes it literal.
_SPECIAL = frozenset(".^$*+?{}[]()|\\")


def _literal_alternatives(pattern: str, flags: int) -> _Literals | None:
    """The alternatives of a pattern made only of literal text, else None (any class,
    group, repeat, or escape that is not a punctuation mark's)."""
    folded = bool(flags & IGNORECASE)
    if pattern.startswith("(?i)"):
        folded, pattern = True, pattern[4:]
    if flags & ~IGNORECASE:
        return None
    alternatives: list[tuple[str, bool, bool]] = []
    for part in _split_alternatives(pattern):
        if part is None:
            return None
        at_start, at_end = part.startswith("^"), part.endswith("$") and not part.endswith("\\$")
        body = part[1 if at_start else 0:len(part) - 1 if at_end else len(part)]
        text = _unescaped(body)
        if text is None or not text.isascii():
            return None
        alternatives.append((text.lower() if folded else text, at_start, at_end))
    return _Literals(tuple(alternatives), folded)


def _split_alternatives(pattern: str) -> list[str | None]:
    if "\\" not in pattern:  # nothing escaped: every | separates (the common case)
        return list(pattern.split("|"))
    parts: list[str | None] = []
    current: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == "|":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append(None if escaped else "".join(current))
    return parts


def _unescaped(body: str) -> str | None:
    if "\\" not in body:  # nothing escaped: literal unless a special character is in it
        return None if _SPECIAL.intersection(body) else body
    text: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            following = body[index + 1:index + 2]
            if not following or following.isalnum() or following == "_":
                return None  # \d, \b, \1 ...: not a literal
            text.append(following)
            index += 2
            continue
        if char in _SPECIAL:
            return None
        text.append(char)
        index += 1
    return "".join(text)


def any_of(*texts: str, start: bool = False, end: bool = False, flags: int = 0) -> LazyPattern:
    """A pattern matching any of ``texts`` as written (``start``/``end``: anchored there),
    which :meth:`LazyPattern.found_in` decides without :mod:`re`."""
    escaped = ("".join("\\" + char if char in _SPECIAL else char for char in text)
               for text in texts)
    made = LazyPattern("|".join(f"{'^' if start else ''}{text}{'$' if end else ''}"
                                for text in escaped), flags)
    # Its alternatives are the texts as given: handed over, not parsed back out of the
    # pattern a character at a time on its first search (what _literal_alternatives makes
    # of it; tests/model/test_lazyre.py compares the two).
    if texts and not flags & ~IGNORECASE and all(text.isascii() for text in texts):
        folded = bool(flags & IGNORECASE)
        made._literals = _Literals(
            tuple((text.lower() if folded else text, start, end) for text in texts), folded)
    return made


def lazy_compile(pattern: str, flags: int = 0, *, needles: tuple[str, ...] = (),
                 same_as: LazyPattern | None = None) -> LazyPattern:
    """Like :func:`re.compile`, compiled when first used. ``needles``: see the module;
    ``same_as``: literal alternatives (:func:`any_of`) that match exactly what ``pattern``
    matches (``AMD EPYC \\d`` is the ten ``AMD EPYC 0`` ... ``AMD EPYC 9``), which
    :meth:`LazyPattern.found_in` asks instead: the pattern stays what the docs show."""
    return LazyPattern(pattern, flags, needles, same_as)
