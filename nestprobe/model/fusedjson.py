"""One walk that checks a JSON report against its schema and builds its records at once.

``Report.from_dict`` reads strictly in two walks over the same values: the schema check
(:mod:`nestprobe.model.schema`), then the typed build (:mod:`nestprobe.model.fromjson`).
Here the two are compiled together, per pair of schema node and annotated type, so each
value is visited once and a leaf that both would hand back as it is costs no call.

This path only ever *vouches*: it returns a record when every check the two walks make
has passed, and raises :class:`UnsureError` (or whatever a check raised) otherwise. It never
words a refusal: ``Report.from_dict`` then reads the document again the exact way, which
refuses it with the same exception and message as ever (or, where this path was only
more cautious than needed, builds it). A node or type it has no fused form for is checked
and built by the exact walks themselves, so no keyword or type is read another way.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args, get_origin

from nestprobe.model import fromjson, typeshim
from nestprobe.model.record import MISSING, SETTLED, Record, fields, settle
from nestprobe.model.schema import _ANNOTATIONS, _EXACT, Validator, _leaf

#: A fused node: the value, checked and built, or an exception (never a worded refusal);
#: a record's takes the values of fields not in its JSON as keywords.
Build = Callable[..., Any]
#: What a field passes on sight: classes, texts (when ``str`` is not among the classes),
#: and integers in ``[low, high]`` (when ``int`` is not), each of which both walks would
#: accept and hand back unchanged; then the fused build of anything else.
Plan = tuple[frozenset[type], frozenset[str], float, float, Build]


#: The array builds whose every item is built (none passes on sight), with the item's build:
#: a record's straight-line code calls that build itself.
_ITEMS: dict[Build, Build] = {}


class UnsureError(Exception):
    """This path cannot vouch for the value: the exact walks decide, and word it."""


_SCALAR_KINDS = frozenset({"null", "boolean", "integer", "number", "string"})
_RECORD_KEYS = frozenset({"type", "properties", "required", "additionalProperties"})


def _resolve(validator: Validator, node: Mapping[str, Any]) -> Mapping[str, Any]:
    """A node that is only a ``$ref`` (and words) is the node it refers to."""
    for _ in range(8):
        if node.keys() - _ANNOTATIONS != {"$ref"}:
            break
        node = validator._ref(node["$ref"])
    return node


def _schema_passes(validator: Validator, node: Mapping[str, Any]) -> tuple[
        frozenset[type], frozenset[str], float, float]:
    """What the schema node's check passes on sight: :func:`schema._leaf`, and the scalar
    classes of a bare ``type`` that also allows arrays or objects (a fact's value)."""
    classes, texts, low, high = _leaf(validator, node)
    kinds = node.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if not classes and node.keys() - _ANNOTATIONS == {"type"} and isinstance(kinds, list) \
            and all(kind in _EXACT for kind in kinds):
        classes = frozenset(c for kind in kinds if kind in _SCALAR_KINDS for c in _EXACT[kind])
    return classes, texts, low, high


def _literal_texts(hint: Any) -> frozenset[str]:
    """The texts a ``Literal`` (or an optional one) converter hands back unchanged."""
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        found: frozenset[str] = frozenset()
        return found.union(*(_literal_texts(option) for option in get_args(hint)))
    if origin is Literal or origin is typeshim.Literal:
        return frozenset(a for a in get_args(hint) if type(a) is str)
    return frozenset()


def closed(node: Mapping[str, Any]) -> tuple[frozenset[str], frozenset[str]] | None:
    """A closed object node's required keys and allowed keys; None for any other node
    (one with keywords beyond an object's keys, or open to other keys)."""
    if node.keys() - _ANNOTATIONS <= _RECORD_KEYS and node.get("type") == "object" \
            and node.get("additionalProperties") is False:
        return frozenset(node.get("required", ())), frozenset(node.get("properties", {}))
    return None


class Fuser:
    """The fused builds of one validator's schema, made once per (node, type)."""

    def __init__(self, validator: Validator) -> None:
        self.validator = validator
        # (id(node), hint, repr(hint)) -> (node, its build): the node kept so its id stays.
        self._made: dict[tuple[int, Any, str], tuple[object, Build]] = {}

    def resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        return _resolve(self.validator, node)

    def fuse(self, node: Mapping[str, Any], hint: Any) -> Build:
        """The fused build of values at ``node`` that become a ``hint``."""
        key = (id(node), hint, repr(hint))
        known = self._made.get(key)
        if known is not None and known[0] is node:
            return known[1]
        late: list[Build] = []  # a record that contains itself: its build, when made

        def forward(value: Any) -> Any:
            return late[0](value)
        self._made[key] = (node, forward)
        made = self._make(node, hint)
        late.append(made)
        self._made[key] = (node, made)
        return made

    def plan(self, node: Mapping[str, Any], hint: Any) -> Plan:
        """A field's :data:`Plan`: what passes on sight, by both walks, and the rest's build."""
        classes, texts, low, high = _schema_passes(self.validator, _resolve(self.validator, node))
        passing = fromjson.passes(hint)
        literal = _literal_texts(hint)
        if str not in passing:
            texts = (literal if str in classes else texts & literal)
        elif str in classes:
            texts = frozenset()
        if int not in passing or int in classes:
            low, high = 1, 0
        return classes & passing, texts, low, high, self.fuse(node, hint)

    def _make(self, node: Mapping[str, Any], hint: Any) -> Build:
        # A bare $ref to a node of one type checks what that node checks (schema._ref_typed).
        target = _resolve(self.validator, node)
        keys = target.keys() - _ANNOTATIONS
        record = get_origin(hint) or hint
        if isinstance(record, type) and issubclass(record, Record) and keys <= _RECORD_KEYS \
                and target.get("type") == "object" and target.get("additionalProperties") is False:
            return self.record(target, hint)
        args = get_args(hint)
        if keys <= _RECORD_KEYS and isinstance(target.get("type"), list) \
                and sorted(target["type"]) == ["null", "object"] \
                and target.get("additionalProperties") is False \
                and get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 2 \
                and type(None) in args:
            # An object or null (and its type X | None): null as it is, an object as an X.
            inner = self._make({**target, "type": "object"}, next(
                a for a in args if a is not type(None)))

            def optional(value: Any) -> Any:
                return None if value is None else inner(value)
            return optional
        if get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis \
                and keys == {"type", "items"} and target["type"] == "array":
            return self._array(target["items"], args[0])
        return self._exact(node, hint)

    def _exact(self, node: Mapping[str, Any], hint: Any) -> Build:
        """No fused form: the exact check, then the exact converter (their errors stand)."""
        check, convert = self.validator.check(node), fromjson.converter(hint)

        def exact(value: Any) -> Any:
            check(value, "")
            return convert(value, "")
        return exact

    def _array(self, items: Mapping[str, Any], hint: Any) -> Build:
        classes, texts, low, high, build = self.plan(items, hint)
        if not classes and not texts and low > high:  # items of records: each one built
            def records(value: Any) -> Any:
                if type(value) is not list:
                    raise UnsureError
                return tuple([build(item) for item in value])
            _ITEMS[records] = build
            return records

        def array(value: Any) -> Any:
            if type(value) is not list:
                raise UnsureError
            return tuple([item if (type(item) in classes or (type(item) is str and item in texts)
                                   or (type(item) is int and low <= item <= high))
                          else build(item) for item in value])
        return array

    def record(self, node: Mapping[str, Any], hint: Any,
               dropped: frozenset[str] = frozenset()) -> Build:
        """A record from an object of a closed node; ``dropped`` keys are checked, not kept
        (a verdict's derived ``readiness``)."""
        cls, hints = field_hints(hint)
        properties: Mapping[str, Any] = node.get("properties", {})
        plans = {name: self.plan(properties[name], hints[name])
                 for name in hints if name in properties}
        checks = {name: self.validator.check(properties[name])
                  for name in dropped if name in properties}
        allowed = frozenset(plans) | frozenset(checks)
        required = frozenset(node.get("required", ()))
        flat = not dropped and all(_flat(kind) for kind in hints.values())
        return _record_build(cls, plans, checks, (required, allowed), flat=flat)


def _flat(hint: Any) -> bool:
    """A field whose values are all scalars (an evidence's): its record may be remembered."""
    return bool(fromjson.passes(hint)) or fromjson._is_literal(hint)


def field_hints(hint: Any) -> tuple[type[Record], dict[str, Any]]:
    """The record class of ``hint`` and each field's annotation, its type variables bound
    as :func:`fromjson._record` binds them."""
    origin = get_origin(hint)
    cls: type[Record] = origin if isinstance(origin, type) else hint
    subst = dict(zip(fromjson._parameters(cls), get_args(hint), strict=False)) if origin else {}
    declared = fromjson._hints(cls)
    return cls, {spec.name: fromjson._bound(declared[spec.name], subst) for spec in fields(cls)}


def _record_build(cls: type[Record], plans: dict[str, Plan], checks: dict[str, Any],
                  keys: tuple[frozenset[str], frozenset[str]], *, flat: bool) -> Build:
    required, allowed = keys
    if required == allowed:
        return _straight(cls, plans, checks, flat=flat)

    def record(data: Any, **given: Any) -> Any:
        if type(data) is not dict:
            raise UnsureError
        key = None
        if flat:  # the same flat object met again in this document: its record
            key, known = fromjson.recall(record, data)
            if known is not None:
                return known
        if not (required <= data.keys() and allowed >= data.keys()):
            raise UnsureError
        values = given
        for name, value in data.items():
            plan = plans.get(name)
            if plan is None:  # a key checked, not kept (and a text, as the schema asks)
                if type(name) is not str:
                    raise UnsureError
                checks[name](value, "")
                continue
            kind = type(value)
            if kind in plan[0] or (kind is str and value in plan[1]) \
                    or (kind is int and plan[2] <= value <= plan[3]):
                values[name] = value
            else:
                values[name] = plan[4](value)
        made = cls(**values)
        if key is not None and float not in key[2]:  # 0.0 == -0.0
            fromjson._remember(key, made)
        return made
    return record


def _passes_test(index: int, plan: Plan) -> str:
    """The source of ``plan``'s pass-on-sight test of ``v<index>`` (its type ``k``)."""
    classes, texts, low, high, _ = plan
    tests = [f"k is c{index}" if len(classes) == 1 else f"k in c{index}"] if classes else []
    if texts:
        tests.append(f"(k is str and v{index} in t{index})")
    if low <= high:
        tests.append(f"(k is int and lo{index} <= v{index} <= hi{index})")
    return " or ".join(tests) or "False"


def _field_lines(index: int, plan: Plan, scope: dict[str, Any]) -> list[str]:
    """The source that makes ``a<index>`` of ``v<index>``: as it is when it passes on sight,
    each item built when it is an array of records, else by the field's fused build."""
    classes, texts, low, high, build = plan
    scope.update({f"c{index}": next(iter(classes)) if len(classes) == 1 else classes,
                  f"t{index}": texts, f"lo{index}": low, f"hi{index}": high, f"b{index}": build})
    value = f"v{index}"
    items = _ITEMS.get(build)
    if items is not None:
        scope[f"e{index}"] = items
        return [f"    a{index} = tuple([e{index}(x) for x in {value}]) "
                f"if type({value}) is list else b{index}({value})"]
    return [f"    k = type({value})",
            f"    a{index} = {value} if {_passes_test(index, plan)}"
            f" else b{index}({value})"]


def _straight(cls: type[Record], plans: dict[str, Plan], checks: dict[str, Any], *,
              flat: bool) -> Build:
    """:func:`_record_build` as straight-line code, for a node that requires every key it
    names (each a field, or a key ``checks`` checks only): one test per key, with its own
    constants, no loop."""
    names = list(plans)
    allowed = frozenset(names) | frozenset(checks)
    scope: dict[str, Any] = {"cls": cls, "allowed": allowed, "UnsureError": UnsureError,
                             "memo": fromjson._MEMO, "remember": fromjson._remember}
    lines = ["def record(data, **given):",
             "    if type(data) is not dict or data.keys() != allowed:",
             "        raise UnsureError"]
    for index, name in enumerate(sorted(checks)):  # checked, not kept
        scope[f"check{index}"] = checks[name]
        lines.append(f"    check{index}(data[{name!r}], '')")
    values = [f"v{index}" for index in range(len(names))]
    lines += [f"    {value} = data[{name!r}]" for value, name in zip(values, names, strict=True)]
    if flat:  # as in _record_build: the same flat object met again in this document (its
        # keys are the node's, all of them: its values and their types say which it is)
        kinds = [f"type({value})" for value in values]
        lines += [f"    kinds = ({', '.join(kinds)},)",
                  f"    key = (record, {', '.join(values)}, kinds)",
                  "    try:",
                  "        known = memo.get(key)",
                  "    except TypeError:",  # an array or object inside: not a flat object
                  "        key = None",
                  "    else:",
                  "        if known is not None:",
                  "            return known"]
    for index, name in enumerate(names):
        lines += _field_lines(index, plans[name], scope)
    lines += _construction(cls, names, scope)
    if flat:
        lines += ["    if key is not None and float not in kinds:",  # 0.0 == -0.0
                  "        remember(key, made)"]
    lines.append("    return made")
    exec("\n".join(lines), scope)  # our own source: the record's field names, checked
    made: Build = scope["record"]
    return made


def _construction(cls: type[Record], names: list[str], scope: dict[str, Any]) -> list[str]:
    """The source that makes ``made`` from ``a0``... (the values of ``names``) and ``given``
    (the values of fields not in the JSON): ``cls(**values)`` itself, or, for a class built
    by the generic constructor (record.py's ``_RecordMeta.__call__``), what that does written
    out: each slot set in the class's order, its value settled as :func:`record.settle` does,
    a field neither holds taking its default (none: unsure, where the constructor raises),
    then ``__post_init__``."""
    if cls.__record_own_init__ is not None:
        arguments = ", ".join(f"{name}=a{index}" for index, name in enumerate(names))
        return [f"    made = cls({arguments}, **given)"]
    scope.update({"new": object.__new__, "setter": object.__setattr__, "settle": settle,
                  "settled": SETTLED, "post": cls.__record_post_init__, "missing": MISSING})
    lines = ["    made = new(cls)"]
    for slot, (name, default, factory) in enumerate(cls.__record_plan__):
        if name in names:
            value = f"a{names.index(name)}"
            lines.append(f"    setter(made, {name!r}, {value} if type({value}) in settled "
                         f"else settle({value}))")
            continue
        scope[f"d{slot}"], scope[f"f{slot}"] = default, factory
        otherwise = ("raise UnsureError" if default is MISSING and factory is None else
                     f"v = settle(f{slot}())" if default is MISSING else f"v = settle(d{slot})")
        lines += [f"    v = given.pop({name!r}, missing)", "    if v is missing:",
                  f"        {otherwise}", "    else:", "        v = settle(v)",
                  f"    setter(made, {name!r}, v)"]
    lines += ["    if given:", "        raise UnsureError"]  # a keyword the init would refuse
    if cls.__record_post_init__ is not None:
        lines.append("    post(made)")
    return lines
