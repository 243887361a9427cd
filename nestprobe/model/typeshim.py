"""``typing``'s, ``collections.abc``'s and ``contextlib``'s names for the probe path,
without importing those modules at run time.

Importing :mod:`typing` costs the cold start of ``nestprobe check`` more than most of
nestprobe's own modules (it pulls in ``re``'s compiler, ``contextlib``, ``functools``), and
``collections`` (what ``collections.abc``, ``contextlib`` and ``functools`` import) with
``re`` and ``enum`` are ~7 ms of an interpreter start of ~11 ms here.
Every name here is the standard library's own for mypy and ruff (the ``TYPE_CHECKING``
branch); at run time each is the least that keeps the module working: annotations are never
evaluated (``from __future__ import annotations``), ``Literal[...]`` keeps its values for
:func:`get_args` (typing's too), ``NamedTuple`` classes are tuple types with named fields
(as :func:`collections.namedtuple` makes them), the ABCs are the very classes
``collections.abc`` re-exports (from ``_collections_abc``, which the interpreter's start
has already imported), :func:`contextmanager` runs a generator as contextlib's does, and
``attrgetter``, ``index``, ``MappingProxyType`` and ``SimpleNamespace`` are the objects
``operator`` and ``types`` hand out, and ``isfinite`` answers as ``math``'s (each of those
modules is ~0.5 ms of a cold start here).
``tests/cli/test_cold_start.py`` checks that the ``check`` path imports none of them;
tests/model/test_typeshim.py checks the stand-ins against the originals.
"""

from __future__ import annotations

# Not ``from typing import TYPE_CHECKING``: mypy and ruff treat any name TYPE_CHECKING as true.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import (
        Callable,
        ItemsView,
        Iterable,
        Iterator,
        KeysView,
        Mapping,
        Sequence,
        ValuesView,
    )
    from contextlib import contextmanager
    from math import isfinite
    from operator import attrgetter, index
    from types import MappingProxyType, SimpleNamespace
    from typing import (
        Any,
        ClassVar,
        Final,
        Generic,
        Literal,
        NamedTuple,
        NoReturn,
        Protocol,
        TextIO,
        TypeVar,
        cast,
        dataclass_transform,
        get_args,
        overload,
    )
else:
    import sys as _sys
    from _collections import _tuplegetter
    from _collections_abc import (
        Callable,
        ItemsView,
        Iterable,
        Iterator,
        KeysView,
        Mapping,
        Sequence,
        ValuesView,
    )

    # The C implementations operator.py re-exports; the types as types.py itself finds them.
    from _operator import attrgetter, index

    _FLOAT_MAX = _sys.float_info.max

    def isfinite(value):
        """math.isfinite without math (a shared library to load): NaN compares false."""
        return -_FLOAT_MAX <= value <= _FLOAT_MAX

    _GenericAlias = type(list[int])
    MappingProxyType = type(type.__dict__)
    SimpleNamespace = type(_sys.implementation)

    Any = ClassVar = Final = NoReturn = TextIO = object

    class Generic:
        """A generic base at run time: ``Generic[T]`` and ``Fact[int]`` are plain aliases
        (``types.GenericAlias``), so a reader of annotations (``model/fromjson``) still sees
        the arguments; as a base, the alias stands for the class itself."""

        __slots__ = ()

        def __class_getitem__(cls, params):
            return _GenericAlias(cls, params if isinstance(params, tuple) else (params,))

    class Protocol:
        """A structural type's base at run time: a plain base class."""

        __slots__ = ()

    class _LiteralForm:
        """``Literal[...]`` at run time: a generic alias holding the values, which both
        this module's and typing's ``get_args`` read."""

        __slots__ = ()

        def __getitem__(self, values):
            return _GenericAlias(self, values if isinstance(values, tuple) else (values,))

        def __repr__(self):
            return "Literal"

    Literal = _LiteralForm()

    def get_args(alias):
        return alias.__args__ if isinstance(alias, _GenericAlias) else ()

    def cast(_kind, value):
        return value

    def TypeVar(name, *_constraints, **_options):  # noqa: N802 (typing's name)
        return name

    def overload(function):
        return function

    def dataclass_transform(**_options):
        return lambda cls: cls

    def _bind(kind, names, defaults, values, named):
        """The field values of a call with keywords, defaults or a wrong count, refused
        as a function with these parameters refuses such a call."""
        count = len(names)
        if len(values) > count:
            raise TypeError(f"{kind}() takes {count} arguments but {len(values)} were given")
        bound = list(values)
        first_default = count - len(defaults)
        for position in range(len(values), count):
            field = names[position]
            if field in named:
                bound.append(named.pop(field))
            elif position >= first_default:
                bound.append(defaults[position - first_default])
            else:
                raise TypeError(f"{kind}() missing required argument {field!r}")
        for field in named:
            says = "multiple values for" if field in names else "an unexpected keyword"
            raise TypeError(f"{kind}() got {says} argument {field!r}")
        return tuple(bound)

    def _tuple_type(name, names, defaults, module):
        """A tuple type with named fields, as collections.namedtuple makes it (C field
        getters, pickling and repr). Its ``__new__`` is generic, not generated source
        (that was a compile per class at import, on the cold start)."""
        count = len(names)
        make_tuple = tuple.__new__

        def new(_cls, *values, **named):
            if named or len(values) != count:
                values = _bind(name, names, defaults, values, named)
            return make_tuple(_cls, values)

        shown = ", ".join(f"{field}=%r" for field in names)

        def represent(self):
            return f"{type(self).__name__}({shown % tuple(self)})"

        def new_arguments(self):  # what pickle passes back to __new__
            return tuple(self)

        def replaced(self, **changes):
            pairs = zip(names, self, strict=True)
            made = self._make(changes.pop(field, value) for field, value in pairs)
            if changes:
                raise TypeError(f"Got unexpected field names: {list(changes)!r}")
            return made

        def as_dict(self):
            return dict(zip(names, self, strict=True))

        def make(cls, iterable):
            made = tuple.__new__(cls, iterable)
            if len(made) != len(names):
                raise TypeError(f"Expected {len(names)} arguments, got {len(made)}")
            return made

        body = {"__slots__": (), "__new__": staticmethod(new), "__repr__": represent,
                "__getnewargs__": new_arguments, "_replace": replaced, "_asdict": as_dict,
                "_make": classmethod(make), "_fields": tuple(names), "_field_defaults": dict(
                    zip(names[len(names) - len(defaults):], defaults, strict=True)),
                "__match_args__": tuple(names), "__module__": module}
        for position, field in enumerate(names):
            body[field] = _tuplegetter(position, f"Alias for field number {position}")
        return type(name, (tuple,), body)

    class _NamedTupleMeta(type):
        """Turns ``class X(NamedTuple): a: int; b: str = ""`` into a tuple type with named
        fields and the class body's methods and docstring, as typing.NamedTuple does."""

        def __new__(mcls, name, bases, namespace):
            if bases == ():  # the base class itself
                return super().__new__(mcls, name, bases, namespace)
            annotations = namespace.get("__annotations__", {})
            names = list(annotations)
            defaults = [namespace[n] for n in names if n in namespace]
            made = _tuple_type(name, names, defaults, namespace.get("__module__"))
            for key, value in namespace.items():
                if key not in names and key not in ("__module__", "__qualname__",
                                                    "__annotations__", "__classcell__"):
                    setattr(made, key, value)
            made.__annotations__ = annotations
            return made

    class NamedTuple(metaclass=_NamedTupleMeta):
        """Base of typed named tuples at run time (see :class:`_NamedTupleMeta`)."""

    class _GeneratorContext:
        """What :func:`contextmanager` returns: contextlib's protocol, without its imports."""

        __slots__ = ("_generator",)

        def __init__(self, generator):
            self._generator = generator

        def __enter__(self):
            try:
                return next(self._generator)
            except StopIteration:
                raise RuntimeError("generator didn't yield") from None

        def __exit__(self, kind, value, traceback):
            if kind is None:
                try:
                    next(self._generator)
                except StopIteration:
                    return False
                raise RuntimeError("generator didn't stop")
            if value is None:
                value = kind()
            try:
                self._generator.throw(value)
            except StopIteration as exc:
                return exc is not value
            except RuntimeError as exc:
                # PEP 479 turned a StopIteration raised in the body into RuntimeError.
                if exc is value or (isinstance(value, StopIteration) and exc.__cause__ is value):
                    return False
                raise
            except BaseException as exc:
                if exc is not value:
                    raise
                return False
            raise RuntimeError("generator didn't stop after throw()")

    def contextmanager(function):
        def helper(*args, **kwargs):
            return _GeneratorContext(function(*args, **kwargs))

        helper.__name__ = function.__name__
        helper.__qualname__ = function.__qualname__
        helper.__doc__ = function.__doc__
        helper.__wrapped__ = function
        return helper

__all__ = [
    "TYPE_CHECKING",
    "Any",
    "Callable",
    "ClassVar",
    "Final",
    "Generic",
    "ItemsView",
    "Iterable",
    "Iterator",
    "KeysView",
    "Literal",
    "Mapping",
    "MappingProxyType",
    "NamedTuple",
    "NoReturn",
    "Protocol",
    "Sequence",
    "SimpleNamespace",
    "TextIO",
    "TypeVar",
    "ValuesView",
    "attrgetter",
    "cast",
    "contextmanager",
    "dataclass_transform",
    "get_args",
    "index",
    "isfinite",
    "overload",
]
