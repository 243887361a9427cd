"""The one strict JSON reader for documents that come from elsewhere (JSON reports, bench
results): standard JSON only, with the numeric rules the dump reader applies.

Refused, each with a sentence: ``NaN``/``Infinity`` and numbers that overflow to them
(``1e999``), integers outside the unsigned/signed 64-bit range (``10**400``: nothing a
report or a bench file counts is that large, and Python would otherwise carry it into
arithmetic), a key given twice in one object (which of the two would count is up to the
parser), and nesting deeper than the interpreter's recursion bound (the C scanner
checks it; a 100,000-deep document is refused, not a crash). Key order is free, as JSON defines
it: a document passed through ``jq -S`` reads the same.
"""

from __future__ import annotations

import json
import math
from typing import Any

#: Integers must lie in [-2**63, 2**64): every count, tick and register fits.
INT_LOW = -(2**63)
INT_LIMIT = 2**64
_DIGITS = len(str(INT_LIMIT)) + 1
#: Up to 18 characters (a sign counts) every integer lies within the range.
_SHORT = len(str(-INT_LOW))


class StrictJsonError(ValueError):
    """What is wrong with a document, in words; ``line`` when the parser knows it."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def _int(text: str) -> int:
    if len(text) < _SHORT:  # the common case: fits whatever its digits
        return int(text)
    if len(text.lstrip("-")) > _DIGITS:
        raise StrictJsonError(f"an integer below 2**64, found one of {len(text)} digits")
    value = int(text)
    if not INT_LOW <= value < INT_LIMIT:
        raise StrictJsonError("an integer below 2**64, found a larger one")
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise StrictJsonError(f"a finite number, found {text[:40]}")
    return value


def _constant(name: str) -> Any:
    raise StrictJsonError(f"standard JSON numbers, found {name}")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise StrictJsonError(f"each key once per object, found {twice!r} twice")
    return data


def loads(text: str) -> Any:
    """``text`` as JSON under the rules above; :class:`StrictJsonError` says why not."""
    try:
        return json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant,
                          object_pairs_hook=_pairs)
    except StrictJsonError:
        raise
    except json.JSONDecodeError as exc:
        raise StrictJsonError(f"JSON ({exc.msg} at column {exc.colno})", exc.lineno) from None
    except (ValueError, RecursionError) as exc:  # int() digit limits, a C stack bound
        raise StrictJsonError(f"JSON ({exc})") from None
