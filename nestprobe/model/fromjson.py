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
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Literal, TypeVar, get_args, get_origin

from nestprobe.model import typeshim
from nestprobe.model.record import FrozenMap, Record, fields

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


#: A compiled converter: ``(value, path) -> the value as its type``, or ShapeError.
Convert = Callable[[object, str], Any]


def build(cls: type[_R], data: object, path: str = "",
          subst: Mapping[Any, Any] | None = None) -> _R:
    """A ``cls`` from its JSON object; :class:`ShapeError` names the key that does not fit.
    ``subst`` gives a generic record's type variables (``Fact[bool]``: T is bool)."""
    result: _R = _record(cls, tuple(subst.items()) if subst else ())(data, path)
    return result


def convert(hint: Any, value: object, path: str) -> Any:
    """``value`` as the type ``hint`` declares, or :class:`ShapeError`."""
    return converter(hint)(value, path)


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


#: Converters made so far, by hint; records by (class, substitution). Keys carry the repr:
#: run-time ``Literal[1]`` and ``Literal[True]`` are equal aliases, and must not share.
_CONVERTERS: dict[tuple[Any, str], Convert] = {}
_RECORDS: dict[tuple[type[Record], tuple[tuple[Any, Any], ...], str], Convert] = {}


def converter(hint: Any) -> Convert:
    """The converter of ``hint``, made once: the per-value work is one direct call, with the
    case analysis of the type done here."""
    key = (hint, repr(hint))
    try:
        return _CONVERTERS[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable hint: made each time, never kept
        return _make(hint)
    made = _CONVERTERS[key] = _make(hint)
    return made


#: Records of flat objects (scalars only) made so far in this document, by their exact
#: values and types (``1``, ``True`` and ``1.0`` are equal, and not the same value): a report
#: cites the same evidence in many facts and verdicts (~150 evidence objects, ~25
#: distinct), and one immutable record serves them all. :func:`forget` empties it after
#: each document, so nothing is carried from one report to the next; bounded besides.
_MEMO: dict[tuple[object, ...], Any] = {}
MEMO_MAX = 4096


def _remember(key: tuple[object, ...], made: Any) -> None:
    if len(_MEMO) >= MEMO_MAX:
        _MEMO.clear()
    _MEMO[key] = made


#: A flat object's memo key: who built it, its items, the types of its values.
MemoKey = tuple[object, tuple[tuple[str, Any], ...], tuple[type, ...]]


def recall(owner: object, data: dict[str, Any]) -> tuple[MemoKey | None, Any]:
    """``(key, record)``: the record ``owner`` already built for this flat object in this
    document (None when not yet), and the key to remember a new one under; ``(None, None)``
    for an object with an array or object inside (not flat: never remembered)."""
    key: MemoKey = (owner, tuple(data.items()), tuple(map(type, data.values())))
    try:
        return key, _MEMO.get(key)
    except TypeError:  # unhashable inside
        return None, None


def forget() -> None:
    """Empty the memo of flat records: one document's are no use to the next."""
    _MEMO.clear()


def _record(cls: type[Record], subst: tuple[tuple[Any, Any], ...]) -> Convert:
    """The converter of a record class under a generic substitution; its fields' converters
    are made on first use, so a record may contain itself."""
    key = (cls, subst, repr(subst))
    known = _RECORDS.get(key)
    if known is not None:
        return known
    fields_of: list[Any] = []  # [converters, passing types (by field), all scalars]

    def field_converters() -> dict[str, Convert]:
        hints = _hints(cls)
        mapping = dict(subst)
        bound = {spec.name: _bound(hints[spec.name], mapping) for spec in fields(cls)}
        made = {name: converter(hint) for name, hint in bound.items()}
        passing = {name: passes(hint) for name, hint in bound.items()}
        # A record of scalars only (an evidence): worth remembering by its values.
        scalars = all(passing[name] or _is_literal(hint) for name, hint in bound.items())
        fields_of.extend((made, passing, scalars))
        return made

    def build_record(data: object, path: str) -> Any:
        table = fields_of[0] if fields_of else field_converters()
        key = None
        if type(data) is not dict and not isinstance(data, Mapping):
            raise ShapeError(f"{path or 'the document'}: expected an object")
        if fields_of[2] and type(data) is dict:
            # The same object met again in this document: its record, already checked.
            key, known = recall(build_record, data)
            if known is not None:
                return known
        if not table.keys() >= data.keys():
            unknown = sorted(set(data) - table.keys())
            raise ShapeError(f"{path}.{unknown[0]}: is not a field of {cls.__name__}")
        passing = fields_of[1]
        values = dict(data)
        for name, value in values.items():
            # A value its converter would hand back as it is needs no call, nor a path.
            if type(value) not in passing[name]:
                values[name] = table[name](value, f"{path}.{name}" if path else name)
        try:
            made = cls(**values)
        except (TypeError, ValueError) as exc:
            raise ShapeError(f"{path or cls.__name__}: {exc}") from None
        if key is not None and float not in key[2]:  # 0.0 == -0.0: a float is not a key
            _remember(key, made)
        return made

    _RECORDS[key] = build_record
    return build_record


def _make(hint: Any) -> Convert:  # noqa: PLR0911 (a case table)
    """One converter for ``hint``, by the cases of the annotation reader."""
    origin = get_origin(hint)
    if hint is Any:
        return _identity
    if isinstance(origin, type) and issubclass(origin, Record):  # a generic record: Fact[int]
        params = _parameters(origin)
        return _record(origin, tuple(zip(params, get_args(hint), strict=False)))
    if origin in (typing.Union, types.UnionType):
        options = get_args(hint)
        if len(options) == 2 and options[1] is type(None):
            return _optional(converter(options[0]))
        return _union(tuple(converter(option) for option in options))
    if origin is Literal or origin is typeshim.Literal:  # the latter: an alias made at import
        return _literal(get_args(hint))
    if origin is tuple:
        return _tuple(get_args(hint))
    if origin in (Mapping, dict, typing.Mapping):
        return _mapping(*get_args(hint))
    if isinstance(hint, type) and issubclass(hint, Record):
        return _record(hint, ())
    if hint is type(None):
        return _none
    if hint is float:
        return _float
    if hint in (str, int, bool):
        return _exact(hint)

    def unreadable(value: object, path: str) -> Any:
        raise ShapeError(f"{path}: no JSON reading for {hint!r}")
    return unreadable


#: Every type a JSON value can have (what ``Any`` passes as it is).
_JSON_TYPES: frozenset[type] = frozenset({str, int, float, bool, type(None), list, dict})


def passes(hint: Any) -> frozenset[type]:
    """The types whose every value ``converter(hint)`` returns unchanged: a caller may skip
    the call for them (the converter would accept the value and hand it back)."""
    if hint is Any:
        return _JSON_TYPES
    if hint in (str, int, bool, type(None)):
        one: frozenset[type] = frozenset({hint})
        return one
    if hint is float:
        return frozenset({int, float})
    if get_origin(hint) in (typing.Union, types.UnionType):
        # The first option that accepts a scalar returns it as it is (no option converts one).
        empty: frozenset[type] = frozenset()
        return empty.union(*(passes(option) - {list, dict} for option in get_args(hint)))
    return frozenset()


def _is_literal(hint: Any) -> bool:
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return all(passes(option) or _is_literal(option) for option in get_args(hint))
    return origin is Literal or origin is typeshim.Literal


def _identity(value: object, path: str) -> Any:
    return value


def _none(value: object, path: str) -> Any:
    if value is None:
        return None
    raise ShapeError(f"{path}: expected null")


def _float(value: object, path: str) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise ShapeError(f"{path}: expected a number")


def _exact(kind: type) -> Convert:
    reason = f": expected {kind.__name__}"

    def exact(value: object, path: str) -> Any:
        if type(value) is kind:
            return value
        raise ShapeError(path + reason)
    return exact


def _literal(args: tuple[Any, ...]) -> Convert:
    kinds = {type(a) for a in args}
    reason = f": expected one of {', '.join(map(str, args))}"

    def literal(value: object, path: str) -> Any:
        if value in args and type(value) in kinds:
            return value
        raise ShapeError(path + reason)
    return literal


def _tuple(args: tuple[Any, ...]) -> Convert:
    if len(args) == 2 and args[1] is Ellipsis:
        item = converter(args[0])

        def repeated(value: object, path: str) -> Any:
            if not isinstance(value, list | tuple):
                raise ShapeError(f"{path}: expected an array")
            try:  # no item's path is made unless one is refused (a path only words errors)
                return tuple([item(v, path) for v in value])
            except ShapeError:
                pass  # again, with each item's path: the same refusal, named where it is
            return tuple([item(v, f"{path}[{i}]") for i, v in enumerate(value)])
        return repeated
    items = tuple(converter(a) for a in args)
    reason = f": expected {len(args)} items"

    def fixed(value: object, path: str) -> Any:
        if not isinstance(value, list | tuple):
            raise ShapeError(f"{path}: expected an array")
        if len(items) != len(value):
            raise ShapeError(path + reason)
        return tuple([c(v, f"{path}[{i}]") for i, (c, v) in enumerate(zip(items, value,
                                                                          strict=True))])
    return fixed


def _frozen(hint: Any) -> bool:
    """``converter(hint)`` only ever returns immutable values (what a record would freeze
    comes out frozen already)."""
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return all(_frozen(option) for option in get_args(hint))
    if origin is tuple:
        return all(_frozen(a) for a in get_args(hint) if a is not Ellipsis)
    if origin in (Mapping, dict, typing.Mapping):
        return all(_frozen(a) for a in get_args(hint))
    if isinstance(origin, type) and issubclass(origin, Record):
        return True
    return hint is not Any and (bool(passes(hint)) or _is_literal(hint) or (
        isinstance(hint, type) and issubclass(hint, Record)))


def _mapping(key_type: Any, value_type: Any) -> Convert:
    key, item = converter(key_type), converter(value_type)
    # Made frozen here when its values come out frozen: the record keeps it as it is,
    # without walking it again.
    made = FrozenMap if _frozen(key_type) and _frozen(value_type) else dict

    def mapping(value: object, path: str) -> Any:
        if type(value) is not dict and not isinstance(value, Mapping):
            raise ShapeError(f"{path}: expected an object")
        try:  # no value's path is made unless one is refused (a path only words errors)
            return made({key(k, path): item(v, path) for k, v in value.items()})
        except ShapeError:
            pass  # again, with each value's path: the same refusal, named where it is
        return made({key(k, path): item(v, f"{path}.{k}") for k, v in value.items()})
    return mapping


def _union(options: tuple[Convert, ...]) -> Convert:
    def union(value: object, path: str) -> Any:
        errors: list[str] = []
        for option in options:
            try:
                return option(value, path)
            except ShapeError as exc:
                errors.append(str(exc))
        raise ShapeError(errors[-1] if errors else f"{path}: no type fits")
    return union


def _optional(first: Convert) -> Convert:
    """``X | None`` as :func:`_union` reads it, without its exception for every null: no
    converter turns null into anything but null or an error, and when ``X`` refuses a
    value the error given is the last option's, null's."""
    def optional(value: object, path: str) -> Any:
        if value is None:
            return None
        try:
            return first(value, path)
        except ShapeError:
            raise ShapeError(f"{path}: expected null") from None
    return optional
