"""Records from their JSON rendering: the inverse of ``output.jsonreport.jsonable``.

A record's JSON object has one key per field (the field names are the report's keys), so
one walk over the field annotations rebuilds any model type: records from objects,
tuples from arrays, mappings from objects, scalars as they are. The document has been
validated against its schema first (:mod:`nestprobe.model.schema`); what the schema
leaves open (the ``decoded`` leaves) is checked here against the annotation, so nothing
but the declared types can enter a record.
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, Literal, TypeVar, get_args, get_origin

from nestprobe.model import typeshim
from nestprobe.model.record import Record, fields

_R = TypeVar("_R", bound=Record)


class ShapeError(ValueError):
    """A value that does not fit the type its field declares."""


#: typing's own forms, in place of the run-time stand-ins of ``model/typeshim`` (which keep
#: ``typing`` off the cold start): an annotation read here must mean what mypy reads.
_TYPING_FORMS = {name: getattr(typing, name) for name in ("Any", "ClassVar", "Final", "Literal")}


@cache
def _namespace(module: str) -> dict[str, Any]:
    """The module's names, with typing's forms for typeshim's stand-ins and a real TypeVar
    for each ``T = TypeVar("T")`` (typeshim's TypeVar is its name at run time)."""
    names = dict(vars(sys.modules[module]))
    names.update({k: TypeVar(k) for k, v in names.items() if isinstance(v, str) and v == k})
    names.update(_TYPING_FORMS)
    return names


@cache
def _hints(cls: type[Record]) -> dict[str, Any]:
    """Each field's annotation, evaluated where its class was defined."""
    hints: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        own = vars(klass).get("__annotations__", {})
        namespace = _namespace(klass.__module__)
        for spec in fields(cls):
            if spec.name in own:
                kind = own[spec.name]
                # Our own annotations, written as source text (postponed evaluation).
                hints[spec.name] = eval(kind, namespace) if isinstance(kind, str) else kind
    return hints


def build(cls: type[_R], data: object, path: str = "",
          subst: Mapping[Any, Any] | None = None) -> _R:
    """A ``cls`` from its JSON object; :class:`ShapeError` names the key that does not fit.
    ``subst`` gives a generic record's type variables (``Fact[bool]``: T is bool)."""
    if not isinstance(data, Mapping):
        raise ShapeError(f"{path or 'the document'}: expected an object")
    hints = _hints(cls)
    names = {spec.name for spec in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ShapeError(f"{path}.{unknown[0]}: is not a field of {cls.__name__}")
    values = {name: convert(_bound(hints[name], subst), value,
                            f"{path}.{name}" if path else name)
              for name, value in data.items()}
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ShapeError(f"{path or cls.__name__}: {exc}") from None


def _parameters(cls: type[Record]) -> tuple[Any, ...]:
    """A generic record's type variables: typing's, or those its ``Generic[...]`` base names
    (typeshim's TypeVar is the variable's name at run time)."""
    params = getattr(cls, "__parameters__", ())
    if params:
        return tuple(params)
    names = _namespace(cls.__module__)
    for base in getattr(cls, "__orig_bases__", ()):
        if get_origin(base) is not None and not issubclass(get_origin(base), Record):
            return tuple(names.get(a, a) if isinstance(a, str) else a for a in get_args(base))
    return ()


def _bound(hint: Any, subst: Mapping[Any, Any] | None) -> Any:
    if isinstance(hint, TypeVar):
        return (subst or {}).get(hint, Any)
    return hint


def convert(hint: Any, value: object, path: str) -> Any:  # noqa: PLR0911,PLR0912 (a case table)
    """``value`` as the type ``hint`` declares, or :class:`ShapeError`."""
    origin = get_origin(hint)
    if hint is Any:
        return value
    if isinstance(origin, type) and issubclass(origin, Record):  # a generic record: Fact[int]
        params = _parameters(origin)
        return build(origin, value, path, dict(zip(params, get_args(hint), strict=False)))
    if origin in (typing.Union, types.UnionType):
        return _union(get_args(hint), value, path)
    if origin is Literal or origin is typeshim.Literal:  # the latter: an alias made at import
        if value in get_args(hint) and type(value) in {type(a) for a in get_args(hint)}:
            return value
        raise ShapeError(f"{path}: expected one of {', '.join(map(str, get_args(hint)))}")
    if origin is tuple:
        args = get_args(hint)
        if not isinstance(value, list | tuple):
            raise ShapeError(f"{path}: expected an array")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(convert(args[0], v, f"{path}[{i}]") for i, v in enumerate(value))
        if len(args) != len(value):
            raise ShapeError(f"{path}: expected {len(args)} items")
        pairs = enumerate(zip(args, value, strict=True))
        return tuple(convert(a, v, f"{path}[{i}]") for i, (a, v) in pairs)
    if origin in (Mapping, dict, typing.Mapping):
        key_type, value_type = get_args(hint)
        if not isinstance(value, Mapping):
            raise ShapeError(f"{path}: expected an object")
        return {convert(key_type, k, path): convert(value_type, v, f"{path}.{k}")
                for k, v in value.items()}
    if isinstance(hint, type) and issubclass(hint, Record):
        return build(hint, value, path)
    if hint is type(None):
        if value is None:
            return None
        raise ShapeError(f"{path}: expected null")
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        raise ShapeError(f"{path}: expected a number")
    if hint in (str, int, bool):
        if type(value) is hint:
            return value
        raise ShapeError(f"{path}: expected {hint.__name__}")
    raise ShapeError(f"{path}: no JSON reading for {hint!r}")


def _union(options: tuple[Any, ...], value: object, path: str) -> Any:
    errors: list[str] = []
    for option in options:
        try:
            return convert(option, value, path)
        except ShapeError as exc:
            errors.append(str(exc))
    raise ShapeError(errors[-1] if errors else f"{path}: no type fits")
