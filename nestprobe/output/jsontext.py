"""The JSON report's text: ``json.dumps(value, indent=2, ensure_ascii=True, allow_nan=False)``,
the same bytes, without importing :mod:`json`.

:mod:`json` imports its decoder and scanner and with them :mod:`re` (``enum``,
``functools``, ``collections``): ~7.5 ms of ``nestprobe --json``'s start here, whose
interpreter starts in ~11 ms. Writing the report needs only json's C string quoting
(``_json.encode_basestring_ascii``, what ``json.encoder`` itself calls) and this walk;
where ``_json`` is missing (another Python implementation) :mod:`json` writes it.
tests/output/test_jsontext.py checks the text against json.dumps on generated values, and
the report digest covers every real report.
"""

from __future__ import annotations

from nestprobe.model.typeshim import Any, Callable, isfinite

_quote: Callable[[str], str] | None
try:
    from _json import encode_basestring_ascii as _quote
except ImportError:  # pragma: no cover (CPython always has it)
    _quote = None

__all__ = ["dumps"]

_INDENT = "  "


def dumps(value: Any) -> str:
    """``value`` as json.dumps writes it with indent=2, ASCII only, no NaN or Infinity
    (ValueError), lists and tuples as arrays, dicts in their order."""
    if _quote is None:  # pragma: no cover
        import json

        return json.dumps(value, indent=2, ensure_ascii=True, allow_nan=False)
    parts: list[str] = []
    _write(value, parts, "\n", _quote)
    return "".join(parts)


def _number(value: float) -> str:
    if not isfinite(value):
        raise ValueError("Out of range float values are not JSON compliant: " + repr(value))
    return float.__repr__(value)


def _scalar(value: Any) -> str | None:
    """The text of a scalar (None for a container); json's order of tests."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _number(value)
    return None


def _key(key: Any, quote: Callable[[str], str]) -> str:
    if isinstance(key, str):
        return quote(key)
    text = _scalar(key)
    if text is None:
        raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
    return quote(text)


def _write(value: Any, out: list[str], newline: str, quote: Callable[[str], str]) -> None:
    """Append ``value``'s text; ``newline`` is a line break and the current indent."""
    kind = type(value)
    if kind is str:
        out.append(quote(value))
        return
    if kind is dict and value:
        _write_object(value, out, newline, quote)
        return
    if (kind is list or kind is tuple) and value:
        _write_array(value, out, newline, quote)
        return
    _write_other(value, out, newline, quote)


def _write_object(value: dict[Any, Any], out: list[str], newline: str,
                  quote: Callable[[str], str]) -> None:
    inner = newline + _INDENT
    lead = "{" + inner
    after = "," + inner
    for key, item in value.items():
        out.append(lead + (quote(key) if type(key) is str else _key(key, quote)) + ": ")
        lead = after
        kind = type(item)
        # The common leaves written here: a report is ~1,800 values, most of them these.
        if kind is str:
            out.append(quote(item))
        elif kind is int:
            out.append(int.__repr__(item))
        else:
            _write(item, out, inner, quote)
    out.append(newline + "}")


def _write_array(value: list[Any] | tuple[Any, ...], out: list[str], newline: str,
                 quote: Callable[[str], str]) -> None:
    inner = newline + _INDENT
    after = "," + inner
    if all(type(item) is int for item in value):  # CPUID rows, leaf lists
        out.append("[" + inner + after.join(map(int.__repr__, value)) + newline + "]")
        return
    lead = "[" + inner
    for item in value:
        out.append(lead)
        lead = after
        _write(item, out, inner, quote)
    out.append(newline + "]")


def _write_other(value: Any, out: list[str], newline: str, quote: Callable[[str], str]) -> None:
    """Everything but a non-empty plain dict, list or tuple and a plain str: json's own
    tests, in its order (subclasses, scalars, empty containers)."""
    if isinstance(value, str):
        out.append(quote(value))
        return
    text = _scalar(value)
    if text is not None:
        out.append(text)
        return
    if isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        _write_array(value, out, newline, quote)
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        _write_object(value, out, newline, quote)
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
