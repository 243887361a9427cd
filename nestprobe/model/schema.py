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


def _type_ok(kind: str, value: object) -> bool:
    if kind not in _TYPES:
        raise ValueError(f"schema type {kind!r} is not supported")
    return _TYPES[kind](value)


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


class Validator:
    """Validates documents against one root schema (its ``$defs`` resolve ``$ref``)."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        check_schema(schema)
        self.root = schema

    def _ref(self, ref: str) -> Mapping[str, Any]:
        prefix = "#/$defs/"
        if not ref.startswith(prefix):
            raise ValueError(f"only local $defs references are supported, not {ref!r}")
        target: Mapping[str, Any] = self.root["$defs"][ref[len(prefix):]]
        return target

    def validate(self, value: object, schema: Mapping[str, Any] | None = None,
                 path: str = "") -> None:
        """Return when ``value`` is valid; else raise :class:`SchemaError` at the first fault."""
        schema = self.root if schema is None else schema
        if "$ref" in schema:
            self.validate(value, self._ref(schema["$ref"]), path)
        if "oneOf" in schema:
            self._one_of(value, schema["oneOf"], path)
        for part in schema.get("allOf", ()):
            self.validate(value, part, path)
        if "if" in schema:
            self._if(value, schema, path)
        if "const" in schema and not _same(value, schema["const"]):
            raise SchemaError(path, f"expected {_describe(schema['const'])}, "
                              f"found {_describe(value)}")
        if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
            options = ", ".join(str(o) for o in schema["enum"])
            raise SchemaError(path, f"expected one of {options}, found {_describe(value)}")
        if "type" in schema:
            kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(_type_ok(kind, value) for kind in kinds):
                raise SchemaError(path, f"expected {' or '.join(kinds)}, found {_describe(value)}")
        if _number(value):
            _bounds(value, schema, "", path)
        if isinstance(value, Mapping):
            self._object(value, schema, path)
        elif isinstance(value, list | tuple):
            _bounds(len(value), schema, " items", path)
            for index, item in enumerate(value if "items" in schema else ()):
                self.validate(item, schema["items"], f"{path}[{index}]")

    def _if(self, value: object, schema: Mapping[str, Any], path: str) -> None:
        try:
            self.validate(value, schema["if"], path)
        except SchemaError:
            branch = schema.get("else")
        else:
            branch = schema.get("then")
        if branch is not None:
            self.validate(value, branch, path)

    def _one_of(self, value: object, options: list[Mapping[str, Any]], path: str) -> None:
        errors: list[SchemaError] = []
        for option in options:
            try:
                self.validate(value, option, path)
            except SchemaError as exc:
                errors.append(exc)
        if len(errors) != len(options) - 1:
            if len(errors) == len(options):
                raise max(errors, key=lambda e: len(e.path))  # the deepest says the most
            raise SchemaError(path, "matches more than one of its alternatives")

    def _object(self, value: Mapping[Any, Any], schema: Mapping[str, Any], path: str) -> None:
        properties: Mapping[str, Any] = schema.get("properties", {})
        for key in schema.get("required", ()):
            if key not in value:
                raise SchemaError(path, f"expected the key {key!r}, found none")
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if not isinstance(key, str):
                raise SchemaError(where, "keys must be text")
            if key in properties:
                self.validate(item, properties[key], where)
            elif extra is False:
                raise SchemaError(where, "is not a key of this report")
            elif isinstance(extra, Mapping):
                self.validate(item, extra, where)


def _bounds(value: Any, schema: Mapping[str, Any], unit: str, path: str) -> None:
    """``minimum``/``maximum`` of a number, ``minItems``/``maxItems`` of an array's length."""
    low, high = ("minItems", "maxItems") if unit else ("minimum", "maximum")
    if low in schema and value < schema[low]:
        raise SchemaError(path, f"expected at least {schema[low]}{unit}, found {value}")
    if high in schema and value > schema[high]:
        raise SchemaError(path, f"expected at most {schema[high]}{unit}, found {value}")


def _same(value: object, expected: object) -> bool:
    """JSON equality: ``true`` is not ``1``."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return type(value) is type(expected) and value == expected
    return value == expected
