"""Record: the frozen, slotted, typed value class every model type is made of.

Why not ``@dataclass(frozen=True, slots=True)``: dataclasses generate ``__init__``,
``__eq__``, ``__hash__`` ... as source text and ``exec`` it, once per class, at import.
With ~40 model types that was most of the cold start of ``nestprobe check`` (~2-4 ms a
class on the development VM). A :class:`Record` is built by one generic constructor instead
(its metaclass's ``__call__``), so defining a class costs about what defining a plain class
costs; mypy sees it as a dataclass through :func:`typing.dataclass_transform` (PEP 681).

Records are immutable all the way down: a ``dict`` given to a field is stored as a
:class:`FrozenMap` and a ``list`` as a ``tuple`` (recursively), so a report can be hashed
and shared between threads, and nobody downstream can change what the probe saw.
"""

from __future__ import annotations

from nestprobe.model.typeshim import (
    TYPE_CHECKING,
    Any,
    Callable,
    ClassVar,
    ItemsView,
    Iterator,
    KeysView,
    Mapping,
    MappingProxyType,
    NoReturn,
    TypeVar,
    ValuesView,
    attrgetter,
    dataclass_transform,
    overload,
)

__all__ = ["MISSING", "FrozenMap", "Record", "field", "fields", "replace"]

_T = TypeVar("_T")
_K = TypeVar("_K")
_V = TypeVar("_V")
_R = TypeVar("_R", bound="Record")


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
_MUTABLE = (dict, list, set, bytearray)
_MUTABLE_TYPES = frozenset(_MUTABLE)
# Types taken as they are without an isinstance walk (the common case, kept cheap).
_FROZEN: frozenset[type] = frozenset({str, int, float, bool, type(None), bytes, tuple, frozenset})


class FrozenMap(Mapping[_K, _V]):
    """A read-only mapping that can be hashed.

    Not a ``dict`` subclass: a subclass could always be changed through
    ``dict.__setitem__(m, k, v)`` (which also changed its hash). The items live in a
    :class:`types.MappingProxyType` over a private dict nothing else holds, so no method
    reaches them for writing; ``get`` is the proxy's own (C speed: the CPUID table's
    lookups go through it). ``==`` with plain dicts holds as for any Mapping; renderers
    turn it into a dict (``jsonable``).
    """

    __slots__ = ("_items", "get")
    _items: MappingProxyType[_K, _V]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if hasattr(self, "_items"):
            raise AttributeError("FrozenMap is immutable: already initialised")
        items: MappingProxyType[_K, _V] = MappingProxyType(dict(*args, **kwargs))
        object.__setattr__(self, "_items", items)
        object.__setattr__(self, "get", items.get)

    def __getitem__(self, key: _K) -> _V:
        return self._items[key]

    def __iter__(self) -> Iterator[_K]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def keys(self) -> KeysView[_K]:
        return self._items.keys()

    def values(self) -> ValuesView[_V]:
        return self._items.values()

    def items(self) -> ItemsView[_K, _V]:
        return self._items.items()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._items == other._items
        if isinstance(other, Mapping):
            return self._items == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("FrozenMap is immutable")

    # dict's changing methods, refused in words rather than missing.
    __setitem__ = _refuse
    __delitem__ = _refuse
    __ior__ = _refuse
    clear = _refuse
    pop = _refuse
    popitem = _refuse
    setdefault = _refuse
    update = _refuse

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise TypeError("FrozenMap is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise TypeError("FrozenMap is immutable")

    def __reduce__(self) -> tuple[type[FrozenMap[_K, _V]], tuple[dict[_K, _V]]]:
        return (type(self), (dict(self._items),))

    def __copy__(self) -> FrozenMap[_K, _V]:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> FrozenMap[_K, _V]:
        return self

    def __repr__(self) -> str:
        return f"FrozenMap({dict(self._items)!r})"


def _frozen_map(items: dict[Any, Any]) -> FrozenMap[Any, Any]:
    """A FrozenMap over ``items``, a dict made for it that nothing else holds (no copy)."""
    made: FrozenMap[Any, Any] = object.__new__(FrozenMap)
    proxy = MappingProxyType(items)
    object.__setattr__(made, "_items", proxy)
    object.__setattr__(made, "get", proxy.get)
    return made


def freeze(value: Any) -> Any:
    """``value`` with every dict, list, set and bytearray inside made immutable.

    Subclasses count (an ``OrderedDict`` or ``defaultdict`` becomes a FrozenMap), so no
    mutable container can ride into a record under another name. Tuples and FrozenMaps
    are taken as they are: the model builds them only from frozen parts, and walking
    every evidence tuple again would cost each record a scan.
    """
    kind = type(value)
    if kind is FrozenMap or kind is tuple:
        return value
    if isinstance(value, dict):
        taken = _TAKEN  # scalars and records as they are, without a call each
        return _frozen_map({k: v if type(v) in taken else freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    if isinstance(value, set):
        return frozenset(value)
    if isinstance(value, bytearray):
        return bytes(value)
    return value


#: Types whose values a field takes as they are (by exact type): the immutable builtins,
#: then each other type the first time one of its values is stored and it is no mutable
#: container (the records themselves, FrozenMap), so building a record tests most values
#: with one set lookup. Bounded: classes made on the fly (tests) must not pile up here.
_TAKEN: set[type] = set(_FROZEN)
_TAKEN_MAX = 4096


def settle(value: Any) -> Any:
    """``value`` as a record's constructor stores it in a field: frozen when mutable (what a
    fast construction that sets the slots itself must do to each value, to build the same)."""
    kind = type(value)
    if kind in _TAKEN:
        return value
    if kind in _MUTABLE_TYPES or isinstance(value, _MUTABLE):
        return freeze(value)
    # (not a type whose values may say they are of another: a proxy's __class__)
    if len(_TAKEN) < _TAKEN_MAX and value.__class__ is kind and not issubclass(kind, _MUTABLE):
        _TAKEN.add(kind)
    return value


#: Values :func:`settle` returns as they are, whatever they hold (by exact type).
SETTLED = _FROZEN


class Field:
    """What :func:`field` declares: a default or a factory, and whether ``==`` looks."""

    __slots__ = ("compare", "default", "default_factory", "name", "type")

    def __init__(
        self,
        default: Any = MISSING,
        default_factory: Callable[[], Any] | None = None,
        compare: bool = True,
    ) -> None:
        self.name = ""
        self.type = ""  # the annotation as written (a string under postponed evaluation)
        self.default = default
        self.default_factory = default_factory
        self.compare = compare

    def __repr__(self) -> str:
        return f"Field({self.name!r})"


@overload
def field(*, default: _T, compare: bool = True) -> _T: ...
@overload
def field(*, default_factory: Callable[[], _T], compare: bool = True) -> _T: ...
@overload
def field(*, compare: bool = True) -> Any: ...
def field(
    *,
    default: Any = MISSING,
    default_factory: Callable[[], Any] | None = None,
    compare: bool = True,
) -> Any:
    """A field with a factory for its default, or one that ``==`` and ``hash`` ignore."""
    return Field(default, default_factory, compare)


def _annotations(namespace: dict[str, Any]) -> dict[str, Any]:
    annotations = namespace.get("__annotations__")
    if annotations is None and "__annotate__" in namespace:  # Python 3.14+ (PEP 649)
        annotations = namespace["__annotate__"](1)
    return annotations or {}


_new_object = object.__new__
_set_slot = object.__setattr__


def _inherited(cls: type, name: str) -> Any:
    """``cls``'s attribute ``name`` through its MRO, None when none has it (getattr with a
    default would raise and catch an AttributeError for each class that has none)."""
    for klass in cls.__mro__:
        found = klass.__dict__.get(name)
        if found is not None:
            return found
    return None


def _fill(cls: Any, made: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:  # noqa: PLR0912 (a case table, read top to bottom)
    """Set ``made``'s slots from a call's arguments by its class's plan, then run its
    ``__post_init__``: one pass over the plan, no per-field lookups, and a call without
    keywords (the tables' rows) skips every keyword test."""
    plan = cls.__record_plan__
    count = len(args)
    if count > len(plan):
        raise TypeError(f"{cls.__name__}() takes {len(plan)} arguments")
    setter = _set_slot
    taken = _TAKEN
    for (name, _default, _factory), given in zip(plan, args, strict=False):
        if kwargs and name in kwargs:
            raise TypeError(f"{cls.__name__}() got an argument twice")
        setter(made, name, given if type(given) in taken else settle(given))
    if kwargs:
        pop = kwargs.pop
        for name, default, factory in plan[count:]:
            value = pop(name, MISSING)
            if value is MISSING:
                if default is not MISSING:
                    value = default  # settled once, when the class was made
                elif factory is None:
                    raise TypeError(f"{cls.__name__}() missing {name!r}")
                else:
                    value = factory()
            setter(made, name, value if type(value) in taken else settle(value))
        if kwargs:
            raise TypeError(
                f"{cls.__name__}() got unexpected arguments {sorted(kwargs)}")
    elif count < len(plan):
        for name, default, factory in plan[count:]:
            if default is not MISSING:
                setter(made, name, default)
            elif factory is None:
                raise TypeError(f"{cls.__name__}() missing {name!r}")
            else:
                value = factory()
                setter(made, name, value if type(value) in taken else settle(value))
    post_init = cls.__record_post_init__
    if post_init is not None:
        post_init(made)


class _RecordMeta(type):
    # Runs once per model class at import (~75 on the check path): one pass over the
    # annotations, the per-class tables built from it.
    def __new__(
        mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> _RecordMeta:
        specs: list[Field] = []
        for base in bases:
            specs += getattr(base, "__record_fields__", ())
        slots: list[str] = []
        pop = namespace.pop
        for field_name, annotation in _annotations(namespace).items():
            kind = annotation if isinstance(annotation, str) else repr(annotation)
            if kind.startswith("ClassVar"):
                continue
            declared = pop(field_name, MISSING)
            spec = declared if isinstance(declared, Field) else Field(declared)
            spec.name = field_name
            spec.type = kind
            slots.append(field_name)
            specs.append(spec)
        namespace["__slots__"] = tuple(slots)
        namespace["__record_fields__"] = tuple(specs)
        names = [spec.name for spec in specs]
        namespace["__match_args__"] = tuple(names)
        compared = [spec.name for spec in specs if spec.compare]
        getter = attrgetter(*compared) if compared else (lambda _: ())
        # attrgetter of one name returns the value itself, not a 1-tuple
        namespace["__record_key__"] = (
            (lambda record: (getter(record),)) if len(compared) == 1 else getter
        )
        # What the constructor walks, precomputed once per class: (name, default, factory).
        # A default is settled here, once: every record of the class then shares the frozen
        # form; so is an empty container's factory (dict, list, set): it would only make an
        # empty container for the record to freeze into the same empty value each time.
        namespace["__record_plan__"] = tuple([
            (spec.name, settle(spec.default_factory()), None)
            if spec.default_factory in _MUTABLE else
            (spec.name, settle(spec.default), spec.default_factory)
            for spec in specs])
        own = namespace.pop("__init__", None) if bases else None
        cls = super().__new__(mcls, name, bases, namespace, **kwargs)
        cls.__record_post_init__ = _inherited(cls, "__post_init__")  # type: ignore[attr-defined]
        # A class with an __init__ of its own (Evidence, Fact: the most made) is built by
        # it, and keeps Record's as its __init__, which refuses a second call as for every
        # record: its own is moved aside, where only the constructor calls it. A subclass
        # that adds no field is built by it too; one that adds fields, by the generic
        # constructor (the inherited one knows nothing of them). Record's own (bases: none)
        # refuses, or fills a fresh record for a subclass's own that delegates to it.
        if bases:
            if own is None and not slots:  # no field of its own: the parent's may build it
                own = _inherited(cls, "__record_own_init__")
            cls.__record_own_init__ = own  # type: ignore[attr-defined]
        return cls

    if not TYPE_CHECKING:  # mypy checks calls against the fields (dataclass_transform)

        def __call__(cls, *args, **kwargs):
            # Every record is made here (~400 rows at import, ~150 per check), never by
            # type.__call__, which would call __init__ on a fresh object and on a record
            # alike, so that it would have to ask which it got: asking an unset slot raises
            # (an exception per record). A class's own __init__ builds it; _fill the rest.
            made = _new_object(cls)
            own = cls.__record_own_init__
            if own is not None:
                own(made, *args, **kwargs)
                post_init = cls.__record_post_init__
                if post_init is not None:
                    post_init(made)
                return made
            _fill(cls, made, args, kwargs)
            return made

        @property
        def __signature__(cls):
            # What inspect.signature shows (help(), IDEs): an own __init__'s parameters, as
            # a class whose own __init__ type.__call__ calls shows them; None: inspect's
            # usual answer. inspect is imported only when asked (never on the check path).
            own = cls.__dict__.get("__record_own_init__")
            if own is None:
                return None
            import inspect

            parameters = list(inspect.signature(own).parameters.values())[1:]
            return inspect.Signature(parameters)


@dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
class Record(metaclass=_RecordMeta):
    """Base of every model type: declare fields as annotations, as with a dataclass."""

    __slots__ = ()
    __record_fields__: ClassVar[tuple[Field, ...]] = ()
    __record_key__: ClassVar[Callable[[Any], tuple[object, ...]]]
    __record_plan__: ClassVar[tuple[tuple[str, Any, Callable[[], Any] | None], ...]] = ()
    __record_post_init__: ClassVar[Callable[[Any], None] | None] = None
    __record_own_init__: ClassVar[Callable[..., None] | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # A record is built by its class's call (_RecordMeta.__call__), which never calls
        # this: a call here is a subclass's own __init__ delegating (super().__init__) on a
        # fresh record, or a second call, which would rewrite the slots others share.
        cls = type(self)
        plan = cls.__record_plan__
        if plan and hasattr(self, plan[0][0]):
            raise AttributeError(f"{cls.__name__} is immutable: already initialised")
        _fill(cls, self, args, kwargs)

    def _compared(self) -> tuple[object, ...]:
        return type(self).__record_key__(self)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Record)
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._compared()))

    def __repr__(self) -> str:
        parts = ", ".join(f"{s.name}={getattr(self, s.name)!r}" for s in self.__record_fields__)
        return f"{type(self).__name__}({parts})"

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot delete {name!r}")

    def __reduce__(self) -> tuple[type[Record], tuple[object, ...]]:
        return (type(self), tuple(getattr(self, s.name) for s in self.__record_fields__))

    def __copy__(self: _R) -> _R:
        return self

    def __deepcopy__(self: _R, memo: dict[int, object]) -> _R:
        return self


def fields(record: Record | type[Record]) -> tuple[Field, ...]:
    """The declared fields, in order (like :func:`dataclasses.fields`)."""
    return record.__record_fields__


def replace(record: _R, **changes: Any) -> _R:
    """A copy of ``record`` with ``changes`` applied (like :func:`dataclasses.replace`)."""
    values = {s.name: getattr(record, s.name) for s in record.__record_fields__}
    values.update(changes)
    return type(record)(**values)


def iter_items(record: Record) -> Iterator[tuple[str, object]]:
    """``(name, value)`` for every field, in order: what renderers walk."""
    for spec in record.__record_fields__:
        yield spec.name, getattr(record, spec.name)


def is_record(value: object) -> bool:
    return isinstance(value, Record)
