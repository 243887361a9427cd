"""Record, the model's value type: dataclass behaviour without dataclass's import cost."""

from __future__ import annotations

import copy
import pickle

import pytest

from nestprobe.model.record import FrozenMap, Record, field, fields, replace


class Point(Record):
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()
    extra: dict[str, object] = field(default_factory=dict)
    note: str = field(default="", compare=False)


def test_positional_keyword_and_defaults() -> None:
    assert Point(1) == Point(x=1) == Point(1, 0, (), {}, "")
    assert Point(1, y=2).y == 2
    assert [f.name for f in fields(Point)] == ["x", "y", "tags", "extra", "note"]
    assert fields(Point)[0].type == "int"


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "missing 'x'"),
        ((1, 2, (), {}, "", 9), {}, "takes 5 arguments"),
        ((1,), {"x": 2}, "twice"),
        ((1,), {"z": 3}, "unexpected arguments \\['z'\\]"),
    ],
)
def test_bad_calls_are_type_errors(args: tuple[object, ...], kwargs: dict[str, object],
                                   message: str) -> None:
    with pytest.raises(TypeError, match=message):
        Point(*args, **kwargs)  # type: ignore[arg-type,misc]


def test_immutable_all_the_way_down() -> None:
    p = Point(1, extra={"a": [1, {"b": [2]}]})
    with pytest.raises(AttributeError):
        p.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del p.x  # type: ignore[misc]
    assert isinstance(p.extra, FrozenMap)
    assert p.extra == {"a": (1, {"b": (2,)})}
    with pytest.raises(TypeError):
        p.extra["c"] = 1
    with pytest.raises(TypeError):
        p.extra.clear()
    inner = p.extra["a"]
    assert isinstance(inner, tuple)
    with pytest.raises(TypeError):
        inner[1]["b"] = 3  # type: ignore[index]
    assert hash(p) == hash(Point(1, extra={"a": [1, {"b": [2]}]}))


def test_equality_ignores_uncompared_fields_and_other_types() -> None:
    assert Point(1, note="a") == Point(1, note="b")
    assert hash(Point(1, note="a")) == hash(Point(1, note="b"))
    assert Point(1) != Point(2)

    class Other(Record):
        x: int

    assert Point(1) != Other(1)


def test_replace_copy_and_pickle_keep_the_value() -> None:
    p = Point(1, tags=("a",), extra={"k": 1})
    assert replace(p, y=5) == Point(1, 5, ("a",), {"k": 1})
    assert copy.copy(p) is p
    assert copy.deepcopy(p) is p
    back = pickle.loads(pickle.dumps(p))
    assert back == p
    assert isinstance(back.extra, FrozenMap)


def test_post_init_validates() -> None:
    class Positive(Record):
        n: int

        def __post_init__(self) -> None:
            if self.n <= 0:
                raise ValueError("n must be positive")

    assert Positive(1).n == 1
    with pytest.raises(ValueError, match="positive"):
        Positive(0)


def test_records_have_slots_not_dicts() -> None:
    assert not hasattr(Point(1), "__dict__")


def test_a_class_with_its_own_init_is_built_by_it_and_refuses_a_second_call() -> None:
    from nestprobe.model.evidence import Evidence
    from nestprobe.model.fact import Fact

    class Scaled(Record):
        n: int
        double: int

        def __init__(self, n: int) -> None:  # its own: double derived from n
            object.__setattr__(self, "n", n)
            object.__setattr__(self, "double", 2 * n)

    class Child(Scaled):
        pass

    made = Scaled(3)
    assert (made.n, made.double) == (3, 6)
    assert Child(4).double == 8  # inherited
    assert pickle.loads(pickle.dumps(Fact(1))) == Fact(1)
    for record in (made, Child(4), Fact([1]), Evidence("c", "CPUID.0x1:ECX[5]", 1)):
        before = repr(record)
        with pytest.raises(AttributeError, match="already initialised"):
            record.__init__(9)  # type: ignore[misc,call-arg]
        assert repr(record) == before
    assert Fact([1]).value == (1,)  # frozen by its own __init__ too


def test_an_own_init_may_delegate_to_the_generic_one() -> None:
    class A(Record):
        a: int
        b: int = 0

    class B(A):
        def __init__(self, a: int, b: int = 5) -> None:
            super().__init__(a=a, b=b)

    assert (B(1).a, B(1).b) == (1, 5)
    with pytest.raises(AttributeError, match="already initialised"):
        B(1).__init__(2)  # type: ignore[misc]


def test_a_subclass_that_adds_fields_is_built_with_them_and_runs_its_post_init() -> None:
    from nestprobe.model.fact import Fact

    class Extra(Fact[int]):
        extra: int = 3

    class Checked(Fact[int]):
        def __post_init__(self) -> None:
            if self.value < 0:
                raise ValueError("negative")

    assert Extra(1).extra == 3
    assert Extra(1, (), 4).extra == 4  # type: ignore[call-arg]
    made, args = Extra(1, (), 4).__reduce__()  # type: ignore[call-arg]  # what pickle calls
    assert made(*args) == Extra(1, (), 4)  # type: ignore[call-arg]
    assert Checked(1).value == 1  # built by Fact's own __init__ (no field added) ...
    with pytest.raises(ValueError, match="negative"):
        Checked(-1)  # ... then its __post_init__


def test_a_proxy_that_says_it_is_a_dict_is_frozen_however_it_was_seen_before() -> None:
    class Proxy:
        def __init__(self, target: object) -> None:
            self.target = target

        @property  # type: ignore[misc]
        def __class__(self) -> type:  # what wrapt-like proxies answer
            return type(self.target)

        def __getattr__(self, name: str) -> object:
            return getattr(self.target, name)

    class Holder(Record):
        v: object

    Holder(Proxy(5))  # seen first around an immutable value
    held = Holder(Proxy({"k": [1]})).v
    assert isinstance(held, FrozenMap)


def test_a_record_with_its_own_init_shows_its_signature() -> None:
    import inspect

    from nestprobe.model.evidence import Evidence

    assert list(inspect.signature(Evidence).parameters) == [
        "claim", "source", "value", "kind", "about"]
