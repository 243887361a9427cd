"""The probe path's stand-ins (nestprobe/model/typeshim.py) behave as the standard library's
originals: named tuples as collections.namedtuple, contextmanager as contextlib's, and the
ABCs are the very classes collections.abc exports."""

from __future__ import annotations

import collections
import collections.abc
import contextlib
import copy
import pickle

import pytest

from nestprobe.model import typeshim
from nestprobe.model.snapshot import Registers


def test_operator_and_types_names_are_theirs() -> None:
    import operator
    import types

    assert typeshim.attrgetter is operator.attrgetter
    assert typeshim.index is operator.index
    assert typeshim.MappingProxyType is types.MappingProxyType
    assert typeshim.SimpleNamespace is types.SimpleNamespace


@pytest.mark.parametrize("value", [0.0, -0.0, 1e308, -1.7976931348623157e308, 5e-324,
                                   float("inf"), float("-inf"), float("nan")])
def test_isfinite_answers_as_math(value: float) -> None:
    import math

    assert typeshim.isfinite(value) is math.isfinite(value)


def test_abcs_are_collections_abc_own() -> None:
    for name in ("Callable", "ItemsView", "Iterable", "Iterator", "KeysView", "Mapping",
                 "Sequence", "ValuesView"):
        assert getattr(typeshim, name) is getattr(collections.abc, name)


class Point(typeshim.NamedTuple):
    """A docstring that stays."""

    x: int
    y: int = 7

    def total(self) -> int:
        return self.x + self.y


Twin = collections.namedtuple("Twin", ["x", "y"], defaults=[7])


def test_named_tuple_behaves_as_namedtuple() -> None:
    made, twin = Point(1), Twin(1)
    assert made == twin == (1, 7)
    assert (made.x, made.y, made.total()) == (1, 7, 8)
    assert Point(y=2, x=3) == Twin(y=2, x=3)
    assert repr(Point(1, 2)) == "Point(x=1, y=2)"
    assert repr(Twin(1, 2)) == "Twin(x=1, y=2)"
    assert Point._fields == Twin._fields == Point.__match_args__
    assert Point.__doc__ == "A docstring that stays."
    assert made._replace(y=3) == twin._replace(y=3) == (1, 3)
    assert type(made._replace(y=3)) is Point
    assert made._asdict() == twin._asdict() == {"x": 1, "y": 7}
    assert Point._make([4, 5]) == Twin._make([4, 5])
    assert Point._field_defaults == Twin._field_defaults == {"y": 7}
    with pytest.raises(TypeError):
        made._replace(z=1)
    with pytest.raises(TypeError):
        Point._make([1])
    assert pickle.loads(pickle.dumps(made)) == made
    assert type(pickle.loads(pickle.dumps(made))) is Point
    assert copy.deepcopy(made) == made
    with pytest.raises(AttributeError):
        made.x = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, 2, 3)  # type: ignore[call-arg]
    match made:
        case Point(1, y):
            assert y == 7
        case _:
            pytest.fail("positional match")


class Triple(typeshim.NamedTuple):
    a: int
    b: int
    c: int = 9


TripleTwin = collections.namedtuple("TripleTwin", ["a", "b", "c"], defaults=[9])

#: Call shapes: (positional, keywords). Every one is answered as namedtuple answers it.
CALLS: list[tuple[tuple[int, ...], dict[str, int]]] = [
    ((), {}), ((1,), {}), ((1, 2), {}), ((1, 2, 3), {}), ((1, 2, 3, 4), {}),
    ((1,), {"b": 2}), ((), {"a": 1, "b": 2}), ((), {"b": 2, "a": 1, "c": 3}),
    ((1, 2), {"c": 3}), ((1, 2), {"a": 5}), ((1,), {"b": 2, "d": 4}), ((), {"b": 2}),
    ((1, 2, 3), {"c": 4}), ((), {"d": 1}),
]


@pytest.mark.parametrize(("values", "named"), CALLS)
def test_named_tuple_calls_are_answered_as_namedtuple_answers_them(
        values: tuple[int, ...], named: dict[str, int]) -> None:
    def outcome(kind: type) -> object:
        try:
            return tuple(kind(*values, **dict(named)))
        except TypeError:
            return TypeError

    assert outcome(Triple) == outcome(TripleTwin)


def test_registers_pickle_and_unpack() -> None:
    regs = Registers(1, 2, 3, 4)
    assert pickle.loads(pickle.dumps(regs)) == regs
    eax, ebx, ecx, edx = regs
    assert (eax, ebx, ecx, edx, regs.ecx) == (1, 2, 3, 4, 3)


def _both(body: object) -> list[list[str]]:
    """Run ``body`` under each contextmanager; what happened, per implementation."""
    results = []
    for maker in (typeshim.contextmanager, contextlib.contextmanager):
        seen: list[str] = []

        def gen(seen: list[str] = seen) -> object:
            seen.append("enter")
            try:
                yield 5
            except KeyError:
                seen.append("caught")
            finally:
                seen.append("exit")

        manager = maker(gen)  # type: ignore[arg-type]
        try:
            with manager() as value:  # type: ignore[operator]
                seen.append(f"value {value}")
                body()  # type: ignore[operator]
        except Exception as exc:
            seen.append(f"raised {type(exc).__name__}")
        results.append(seen)
    return results


def _raise(exc: BaseException) -> object:
    def body() -> None:
        raise exc
    return body


@pytest.mark.parametrize("body", [
    lambda: None, _raise(KeyError(1)), _raise(ValueError(2)), _raise(StopIteration()),
], ids=["clean", "swallowed", "propagated", "stopiteration"])
def test_contextmanager_behaves_as_contextlib(body: object) -> None:
    ours, theirs = _both(body)
    assert ours == theirs


def test_contextmanager_refuses_what_contextlib_refuses() -> None:
    def never() -> object:
        return
        yield  # pragma: no cover

    def twice() -> object:
        yield 1
        yield 2

    for maker in (typeshim.contextmanager, contextlib.contextmanager):
        with pytest.raises(RuntimeError, match="didn't yield"), maker(never)():  # type: ignore[arg-type]
            pass
        with pytest.raises(RuntimeError, match="didn't stop"), maker(twice)():  # type: ignore[arg-type]
            pass
