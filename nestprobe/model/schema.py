"""A strict validator for the JSON Schema subset nestprobe's own schemas use.

The runtime must not depend on the ``jsonschema`` package, so reading a report back
(:meth:`nestprobe.model.report.Report.from_dict`) or a bench result checks it here.
Supported keywords: ``type``, ``enum``, ``const``, ``properties``, ``required``,
``additionalProperties``, ``items``, ``minItems``, ``maxItems``, ``minimum``, ``maximum``,
``oneOf``, ``allOf``, ``if``/``then``/``else`` and local ``$ref`` (``#/$defs/NAME``). A
schema that uses any other keyword is refused when it is loaded, so the subset can never
silently accept what the full validator would refuse (tests/model/test_report_from_dict.py runs
both on hostile reports).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

#: Keywords that only describe; they constrain nothing.
_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description"})
_CHECKED = frozenset({"type", "enum", "const", "properties", "required",
                      "additionalProperties", "items", "minItems", "maxItems", "minimum",
                      "maximum", "oneOf", "allOf", "if", "then", "else", "$ref"})


class SchemaError(ValueError):
    """Where a document departs from its schema (``path`` like ``verdicts.wsl2.status``)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path or 'the document'}: {reason}")
        self.path = path
        self.reason = reason


def _number(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


_TYPES: dict[str, Callable[[object], bool]] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": _number,
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list | tuple),
    "object": lambda v: isinstance(v, Mapping),
}


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)[:40]
    if isinstance(value, str):
        return repr(value[:40])
    return "an array" if isinstance(value, list | tuple) else "an object"


def check_schema(schema: object) -> None:
    """Raise ValueError when ``schema`` uses a keyword this validator does not implement."""
    if isinstance(schema, Mapping):
        unknown = set(schema) - _ANNOTATIONS - _CHECKED
        if unknown:
            raise ValueError(f"schema keywords not supported: {sorted(unknown)}")
        for key, sub in schema.items():
            if key in ("properties", "$defs"):
                for part in sub.values():
                    check_schema(part)
            elif key in ("items", "additionalProperties", "if", "then", "else"):
                check_schema(sub)
            elif key in ("oneOf", "allOf"):
                for part in sub:
                    check_schema(part)


#: A compiled schema node: returns when ``value`` is valid at ``path``, else raises.
Check = Callable[[object, str], None]


class Validator:
    """Validates documents against one root schema (its ``$defs`` resolve ``$ref``).

    Each schema node is compiled once, on first use, into a closure that checks its own
    keywords directly (:func:`_compile`): reading a report back runs one call per value,
    not a walk over keyword dictionaries. The checks, their order and their messages are
    those of the keyword walk they replace (tests/test_report_from_dict.py)."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        check_schema(schema)
        self.root = schema
        # id(node) -> (node, its check): the node is kept so its id stays its own.
        self._compiled: dict[int, tuple[object, Check]] = {}
        self._pending: set[int] = set()  # nodes being compiled: a $ref back to one waits

    def _ref(self, ref: str) -> Mapping[str, Any]:
        prefix = "#/$defs/"
        if not ref.startswith(prefix):
            raise ValueError(f"only local $defs references are supported, not {ref!r}")
        target: Mapping[str, Any] = self.root["$defs"][ref[len(prefix):]]
        return target

    def check(self, schema: Mapping[str, Any]) -> Check:
        """The compiled check of one node of this validator's schema (cached)."""
        known = self._compiled.get(id(schema))
        if known is not None and known[0] is schema:
            return known[1]
        self._pending.add(id(schema))
        try:
            compiled = _compile(self, schema)
        finally:
            self._pending.discard(id(schema))
        self._compiled[id(schema)] = (schema, compiled)
        return compiled

    def validate(self, value: object, schema: Mapping[str, Any] | None = None,
                 path: str = "") -> None:
        """Return when ``value`` is valid; else raise :class:`SchemaError` at the first fault."""
        self.check(self.root if schema is None else schema)(value, path)


def _sub(validator: Validator, schema: Mapping[str, Any]) -> Check:
    """A sub-schema's check: compiled now, or when first called if it is being compiled
    (a recursive ``$ref``)."""
    if id(schema) not in validator._pending:
        return validator.check(schema)
    compiled: list[Check] = []

    def check(value: object, path: str) -> None:
        if not compiled:
            compiled.append(validator.check(schema))
        compiled[0](value, path)
    return check


def _ref_check(validator: Validator, ref: str) -> Check:
    """A reference's check; one this validator cannot resolve fails when it is met."""
    try:
        return _sub(validator, validator._ref(ref))
    except (LookupError, TypeError, ValueError):
        pass
    compiled: list[Check] = []

    def check(value: object, path: str) -> None:
        if not compiled:
            compiled.append(validator.check(validator._ref(ref)))
        compiled[0](value, path)
    return check


#: The classes each type accepts outright (the test below decides for subclasses, and
#: whether a float is finite).
_EXACT: dict[str, tuple[type, ...]] = {
    "null": (type(None),), "boolean": (bool,), "integer": (int,), "number": (int,),
    "string": (str,), "array": (list, tuple), "object": (dict,),
}


def _type_check(kinds: list[str]) -> tuple[Check, frozenset[type]]:
    """The ``type`` check, and the classes it passes without a test (none when a kind is
    not supported: that is an error when the check runs, as before)."""
    message = f"expected {' or '.join(kinds)}, "
    tests = [_TYPES.get(kind) or _unsupported(kind) for kind in kinds]
    exact = frozenset(c for kind in kinds for c in _EXACT.get(kind, ())) \
        if all(kind in _TYPES for kind in kinds) else frozenset()

    def check(value: object, path: str) -> None:
        if type(value) in exact:
            return
        if not any(test(value) for test in tests):
            raise SchemaError(path, message + f"found {_describe(value)}")
    return check, exact


def _unsupported(kind: str) -> Callable[[object], bool]:
    def test(_value: object) -> bool:
        raise ValueError(f"schema type {kind!r} is not supported")
    return test


def _enum_check(options: list[Any]) -> Check:
    message = f"expected one of {', '.join(str(o) for o in options)}, "
    texts = frozenset(o for o in options if type(o) is str)

    def check(value: object, path: str) -> None:
        if type(value) is str and value in texts:
            return
        if not any(_same(value, option) for option in options):
            raise SchemaError(path, message + f"found {_describe(value)}")
    return check


def _const_check(expected: object) -> Check:
    message = f"expected {_describe(expected)}, "

    def check(value: object, path: str) -> None:
        if not _same(value, expected):
            raise SchemaError(path, message + f"found {_describe(value)}")
    return check


def _one_of_check(options: list[Check]) -> Check:
    def check(value: object, path: str) -> None:
        errors: list[SchemaError] = []
        for option in options:
            try:
                option(value, path)
            except SchemaError as exc:
                errors.append(exc)
        if len(errors) != len(options) - 1:
            if len(errors) == len(options):
                raise max(errors, key=lambda e: len(e.path))  # the deepest says the most
            raise SchemaError(path, "matches more than one of its alternatives")
    return check


def _if_check(condition: Check, then: Check | None, otherwise: Check | None) -> Check:
    def check(value: object, path: str) -> None:
        try:
            condition(value, path)
        except SchemaError:
            branch = otherwise
        else:
            branch = then
        if branch is not None:
            branch(value, path)
    return check


def _bounds_check(schema: Mapping[str, Any], unit: str, typed: Check | None = None,
                  exact: frozenset[type] = frozenset()) -> Callable[[Any, str], None] | None:
    """``minimum``/``maximum`` of a number, ``minItems``/``maxItems`` of an array's length;
    ``typed``, when given, is the node's own ``type`` check, run first."""
    low_key, high_key = ("minItems", "maxItems") if unit else ("minimum", "maximum")
    low, high = schema.get(low_key), schema.get(high_key)
    if low is None and high is None:
        return None

    def check(value: Any, path: str) -> None:
        if typed is not None and type(value) not in exact:
            typed(value, path)
        if low is not None and value < low:
            raise SchemaError(path, f"expected at least {low}{unit}, found {value}")
        if high is not None and value > high:
            raise SchemaError(path, f"expected at most {high}{unit}, found {value}")
    return check


#: The kinds of a leaf: a value of one of these has no part a sub-schema could check.
_SCALARS = frozenset({"null", "boolean", "integer", "number", "string"})


#: What a leaf passes on sight: the classes it takes whatever their value, the texts it
#: takes (``enum``), and the integers from ``low`` to ``high`` (``minimum``/``maximum``).
Leaf = tuple[frozenset[type], frozenset[str], float, float]
_NOTHING: Leaf = (frozenset(), frozenset(), 1, 0)


def _leaf(validator: Validator, schema: object, depth: int = 0) -> Leaf:  # noqa: PLR0911 (a case table)
    """What a node passes on sight (:data:`Leaf`). A node that checks more than a scalar's
    type, a text's membership or an integer's bounds passes nothing on sight; the caller
    then runs its check, which also words the refusal."""
    if not isinstance(schema, Mapping):
        return _NOTHING
    keys = schema.keys() - _ANNOTATIONS
    if keys == {"$ref"} and depth < 8:
        try:
            return _leaf(validator, validator._ref(schema["$ref"]), depth + 1)
        except (LookupError, TypeError, ValueError):
            return _NOTHING
    if keys == {"enum"} and isinstance(schema["enum"], list):
        return frozenset(), frozenset(o for o in schema["enum"] if type(o) is str), 1, 0
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if keys == {"type"} and isinstance(kinds, list) and _SCALARS.issuperset(kinds):
        return frozenset(c for kind in kinds for c in _EXACT[kind]), frozenset(), 1, 0
    low, high = schema.get("minimum", -math.inf), schema.get("maximum", math.inf)
    bounds = all(type(b) in (int, float) and not math.isnan(b) for b in (low, high))
    if kinds == ["integer"] and keys <= {"type", "minimum", "maximum"} and bounds:
        return frozenset(), frozenset(), low, high
    return _NOTHING


def _object_check(validator: Validator, schema: Mapping[str, Any],
                  typed: Check | None = None) -> Callable[[Any, str], None]:
    properties = {key: _sub(validator, sub)
                  for key, sub in schema.get("properties", {}).items()}
    # Leaves a value passes on sight: no call, and no path made, for most of a report.
    passing = {key: _leaf(validator, sub) for key, sub in schema.get("properties", {}).items()}
    required = tuple(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    extra_check = _sub(validator, extra) if isinstance(extra, Mapping) else None
    closed = extra is False

    def check(value: Mapping[Any, Any], path: str) -> None:
        if typed is not None and type(value) is not dict:
            typed(value, path)
        for key in required:
            if key not in value:
                raise SchemaError(path, f"expected the key {key!r}, found none")
        for key, item in value.items():
            if type(key) is not str and not isinstance(key, str):
                raise SchemaError(f"{path}.{key}" if path else f"{key}", "keys must be text")
            sub = properties.get(key)
            if sub is not None:
                kinds, texts, low, high = passing[key]
                kind = type(item)
                if not (kind in kinds or (kind is str and item in texts)
                        or (kind is int and low <= item <= high)):
                    sub(item, f"{path}.{key}" if path else key)
            elif closed:
                raise SchemaError(f"{path}.{key}" if path else key, "is not a key of this report")
            elif extra_check is not None:
                extra_check(item, f"{path}.{key}" if path else key)
    return check


def _array_check(validator: Validator, schema: Mapping[str, Any],
                 typed: Check | None = None) -> Callable[[Any, str], None]:
    length = _bounds_check(schema, " items")
    items = _sub(validator, schema["items"]) if "items" in schema else None
    kinds, texts, low, high = _leaf(validator, schema.get("items"))

    def check(value: Any, path: str) -> None:
        if typed is not None and type(value) is not list:
            typed(value, path)
        if length is not None:
            length(len(value), path)
        if items is None:
            return
        try:  # no item's path is made unless one is refused (a path only words errors)
            for item in value:
                kind = type(item)
                if not (kind in kinds or (kind is str and item in texts)
                        or (kind is int and low <= item <= high)):
                    items(item, path)
            return
        except SchemaError:
            pass  # again, with each item's path: the same refusal, named where it is
        for index, item in enumerate(value):
            items(item, f"{path}[{index}]")
    return check


def _compile(validator: Validator, schema: Mapping[str, Any]) -> Check:
    """One node's keywords as one closure, in the keyword walk's order: ``$ref``,
    ``oneOf``, ``allOf``, ``if``, ``const``, ``enum``, ``type``, then a number's bounds or
    an object's keys or an array's length and items."""
    steps: list[Check] = []
    if "$ref" in schema:
        steps.append(_ref_check(validator, schema["$ref"]))
    if "oneOf" in schema:
        steps.append(_one_of_check([_sub(validator, s) for s in schema["oneOf"]]))
    steps += [_sub(validator, part) for part in schema.get("allOf", ())]
    if "if" in schema:
        steps.append(_if_check(
            _sub(validator, schema["if"]),
            _sub(validator, schema["then"]) if schema.get("then") is not None else None,
            _sub(validator, schema["else"]) if schema.get("else") is not None else None))
    if "const" in schema:
        steps.append(_const_check(schema["const"]))
    if "enum" in schema:
        steps.append(_enum_check(list(schema["enum"])))
    if "type" not in schema:
        tail = _untyped_tail(validator, schema)
        if tail is not None:
            steps.append(tail)
    else:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        steps.append(_typed(validator, schema, list(kinds)))
    if not steps:
        return _accept
    if len(steps) == 1:
        return steps[0]
    if len(steps) == 2:
        first, second = steps

        def pair(value: object, path: str) -> None:
            first(value, path)
            second(value, path)
        return pair
    chain = tuple(steps)

    def every(value: object, path: str) -> None:
        for step in chain:
            step(value, path)
    return every


#: Keywords a node checks after its type: a number's bounds, an object's keys, an array's.
_STRUCTURAL = frozenset({"minimum", "maximum", "minItems", "maxItems", "items", "properties",
                         "required", "additionalProperties"})


def _ref_typed(validator: Validator, schema: Mapping[str, Any]) -> bool:
    """``schema`` refers to a node of one ``type``: a value that passes it is not an object,
    or is one whose keys that node has checked."""
    if "$ref" not in schema:
        return False
    try:
        kind = validator._ref(schema["$ref"]).get("type")
    except (LookupError, TypeError, ValueError):
        return False
    return isinstance(kind, str) or (isinstance(kind, list) and len(kind) == 1)


def _typed(validator: Validator, schema: Mapping[str, Any], kinds: list[str]) -> Check:
    """The ``type`` check with what follows it in one closure: once the value is of one of
    ``kinds``, only those kinds' own checks can apply (a string has no keys to check)."""
    typed, exact = _type_check(kinds)
    if kinds == ["object"]:
        return _object_check(validator, schema, typed)
    if kinds == ["array"]:
        return _array_check(validator, schema, typed)
    if kinds in (["integer"], ["number"]):
        return _bounds_check(schema, "", typed, exact) or typed
    numbers = _bounds_check(schema, "") if {"integer", "number"} & set(kinds) else None
    objects = _object_check(validator, schema) if "object" in kinds else None
    arrays = _array_check(validator, schema) if "array" in kinds else None
    if numbers is None and objects is None and arrays is None:
        return typed

    def check(value: object, path: str) -> None:
        typed(value, path)
        if numbers is not None and _number(value):
            numbers(value, path)
        if objects is not None and (type(value) is dict or isinstance(value, Mapping)):
            objects(value, path)
        elif arrays is not None and isinstance(value, list | tuple):
            arrays(value, path)
    return check


def _untyped_tail(validator: Validator, schema: Mapping[str, Any]) -> Check | None:
    """What a node without ``type`` checks after its other keywords: a number's bounds, an
    object's keys (which must be text, even where no properties are named), an array's
    length and items. A bare ``$ref`` to a node of one type leaves nothing to check."""
    if not _STRUCTURAL & schema.keys() and _ref_typed(validator, schema):
        return None
    numbers = _bounds_check(schema, "")
    objects = _object_check(validator, schema)
    arrays = _array_check(validator, schema)

    def tail(value: object, path: str) -> None:
        if numbers is not None and _number(value):
            numbers(value, path)
        if type(value) is dict or isinstance(value, Mapping):
            objects(value, path)
        elif isinstance(value, list | tuple):
            arrays(value, path)
    return tail


def _accept(value: object, path: str) -> None:
    """A node that constrains nothing."""


def _same(value: object, expected: object) -> bool:
    """JSON equality: ``true`` is not ``1``."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return type(value) is type(expected) and value == expected
    return value == expected
