"""``typing``'s names for the probe path, without importing ``typing`` at run time.

Importing :mod:`typing` costs the cold start of ``nestprobe check`` more than most of
nestprobe's own modules (it pulls in ``re``'s compiler, ``contextlib``, ``functools``).
Every name here is typing's own for mypy and ruff (the ``TYPE_CHECKING`` branch); at run
time each is the least that keeps the module working: annotations are never evaluated
(``from __future__ import annotations``), ``Literal[...]`` keeps its values for
:func:`get_args` (typing's too), ``NamedTuple`` classes become :func:`collections.namedtuple` types.
``tests/cli/test_cold_start.py`` checks that the ``check`` path never imports ``typing``.
"""

from __future__ import annotations

# Not ``from typing import TYPE_CHECKING``: mypy and ruff treat any name TYPE_CHECKING as true.
TYPE_CHECKING = False

if TYPE_CHECKING:
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
    from collections import namedtuple as _namedtuple
    from types import GenericAlias as _GenericAlias

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

    class _NamedTupleMeta(type):
        """Turns ``class X(NamedTuple): a: int; b: str = ""`` into a namedtuple type with
        the class body's methods and docstring, as typing.NamedTuple does."""

        def __new__(mcls, name, bases, namespace):
            if bases == ():  # the base class itself
                return super().__new__(mcls, name, bases, namespace)
            annotations = namespace.get("__annotations__", {})
            names = list(annotations)
            defaults = [namespace[n] for n in names if n in namespace]
            made = _namedtuple(name, names, defaults=defaults,
                               module=namespace.get("__module__"))
            for key, value in namespace.items():
                if key not in names and key not in ("__module__", "__qualname__",
                                                    "__annotations__", "__classcell__"):
                    setattr(made, key, value)
            made.__annotations__ = annotations
            return made

    class NamedTuple(metaclass=_NamedTupleMeta):
        """Base of typed named tuples at run time (see :class:`_NamedTupleMeta`)."""

__all__ = [
    "TYPE_CHECKING",
    "Any",
    "ClassVar",
    "Final",
    "Generic",
    "Literal",
    "NamedTuple",
    "NoReturn",
    "Protocol",
    "TextIO",
    "TypeVar",
    "cast",
    "dataclass_transform",
    "get_args",
    "overload",
]
