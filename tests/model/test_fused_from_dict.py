"""The fused reading of a JSON report (model/fusedjson.py) against the exact one.

``Report.from_dict`` first tries one walk that checks and builds at once; when that walk
cannot vouch for a document, the exact reading (schema check, then typed build) decides
and words the refusal. So the fused walk must never accept what the exact reading
refuses, and must build the identical report (same classes all the way down, same
values, same JSON) whenever it accepts. Checked on every digest input and on documents
perturbed by hypothesis at a random place.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_digest import inputs

from nestprobe.model import readreport
from nestprobe.model.fromjson import forget
from nestprobe.model.fusedjson import Fuser, UnsureError
from nestprobe.model.readreport import _fused, read_exactly, report_validator
from nestprobe.model.record import FrozenMap, Record, field, fields, settle
from nestprobe.model.report import Report, ReportFormatError
from nestprobe.model.schema import Validator
from nestprobe.model.strictjson import loads
from nestprobe.output.jsonreport import render_json

INPUTS = dict(inputs())
DOCUMENTS = {name: loads(render_json(make())) for name, make in sorted(INPUTS.items())}


def _same_shape(a: object, b: object) -> None:
    """Equal, and of the same class at every level (a dict would equal a FrozenMap)."""
    assert type(a) is type(b)
    if isinstance(a, Record):
        for spec in fields(a):
            _same_shape(getattr(a, spec.name), getattr(b, spec.name))
    elif isinstance(a, FrozenMap | dict):
        assert isinstance(b, FrozenMap | dict)
        assert a.keys() == b.keys()
        for key in a:
            _same_shape(a[key], b[key])
    elif isinstance(a, tuple | list):
        assert isinstance(b, tuple | list)
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same_shape(x, y)
    else:
        assert a == b or (a != a and b != b)  # noqa: PLR0124 (NaN is itself)


def _exact(data: dict[str, Any]) -> Report | str:
    """``Report.from_dict`` as it reads without the fused walk (the exact reading only)."""
    made = readreport._FUSED[:]
    readreport._FUSED[:] = [None]
    try:
        return Report.from_dict(data)
    except ReportFormatError as exc:
        return f"refused: {exc}"
    finally:
        readreport._FUSED[:] = made


def _fused_read(data: dict[str, Any]) -> Report | None:
    fused = _fused(report_validator())
    assert fused is not None, "the shipped schema has a fused reading"
    try:
        return Report(*fused.read(data))
    except Exception:  # unsure, in any words: the exact reading decides
        return None
    finally:
        forget()


def _outcome(data: dict[str, Any]) -> Report | str:
    try:
        return Report.from_dict(data)
    except ReportFormatError as exc:
        return f"refused: {exc}"


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_fused_reading_builds_the_exact_report(name: str) -> None:
    data = DOCUMENTS[name]
    fast, exact = _fused_read(copy.deepcopy(data)), _exact(copy.deepcopy(data))
    assert isinstance(exact, Report)
    assert fast is not None, "a report nestprobe wrote is read in one walk"
    _same_shape(fast, exact)
    assert render_json(fast) == render_json(exact)
    _same_shape(Report.from_dict(data), exact)
    _same_shape(Report(*read_exactly(copy.deepcopy(data), report_validator())), exact)


def _places(value: object, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a document: the keys and indexes that reach it."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _places(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _places(item, (*path, index))
    return found


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.sampled_from([0, 1, -1]),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8),
    st.sampled_from(["yes", "no", "unknown", "n/a", "high", "VT-x", "hyperv", "cpuid", ""]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6)


def _perturb(data: dict[str, Any], choice: Any) -> dict[str, Any]:
    """``data`` changed at one place: a value replaced, a key removed or added, an array's
    item removed or repeated, or a value moved from another place."""
    places = _places(data)
    path = choice.draw(st.sampled_from(places[1:]))
    parent: Any = data
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    action = choice.draw(st.sampled_from(["replace", "remove", "add", "repeat", "move"]))
    if action == "replace":
        parent[last] = choice.draw(VALUES)
    elif action == "remove":
        del parent[last]
    elif action == "add" and isinstance(parent, dict):
        parent[choice.draw(st.text(max_size=8))] = choice.draw(VALUES)
    elif action == "repeat" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))
    else:
        source = choice.draw(st.sampled_from(places[1:]))
        moved: Any = copy.deepcopy(data)
        for step in source:
            moved = moved[step]
        parent[last] = moved
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(DOCUMENTS)), choice=st.data())
def test_fused_reading_never_accepts_more_nor_builds_otherwise(name: str, choice: Any) -> None:
    data = _perturb(copy.deepcopy(DOCUMENTS[name]), choice)
    exact = _exact(copy.deepcopy(data))
    fast = _fused_read(copy.deepcopy(data))
    if fast is not None:
        assert isinstance(exact, Report), f"fused accepted what the exact reading {exact}"
        _same_shape(fast, exact)
        assert render_json(fast) == render_json(exact)
    # Through from_dict, whichever reading answers: the same report or the same words.
    outcome = _outcome(copy.deepcopy(data))
    if isinstance(exact, Report):
        assert isinstance(outcome, Report)
        _same_shape(outcome, exact)
    else:
        assert outcome == exact


def test_perturbations_reach_both_readings() -> None:
    """The property above is not vacuous: perturbed documents are both accepted in one walk
    and refused (one of each, made here by hand)."""
    data = copy.deepcopy(DOCUMENTS[sorted(DOCUMENTS)[0]])
    data["facts"]["present"]["value"] = not data["facts"]["present"]["value"]
    assert _fused_read(copy.deepcopy(data)) is not None
    data["facts"]["present"]["value"] = 1
    assert _fused_read(copy.deepcopy(data)) is None
    assert str(_exact(data)).startswith("refused: facts.present.value")
    assert json.dumps(data)  # still a JSON document: the refusal is the model's


class _Sample(Record):
    """A record with every kind of field the written-out construction handles."""

    name: str
    items: tuple[int, ...]
    extra: Any  # handed over as it is, so settled (frozen) as a record's constructor does
    default: int = 7
    made: tuple[str, ...] = field(default_factory=lambda: ("a",))
    seen: list[int] = field(default_factory=list)  # a factory of a mutable value

    def __post_init__(self) -> None:
        if self.name == "bad":
            raise ValueError("a bad name")


_SAMPLE_SCHEMA = {"type": "object", "additionalProperties": False,
                  "required": ["name", "items", "extra"],
                  "properties": {"name": {"type": "string"},
                                 "items": {"type": "array", "items": {"type": "integer"}},
                                 "extra": {}}}


@pytest.mark.parametrize("extra", [1, None, [1, [2]], {"k": [3]}, "text"])
def test_written_out_construction_is_record_init(extra: object) -> None:
    build = Fuser(Validator(_SAMPLE_SCHEMA)).fuse(_SAMPLE_SCHEMA, _Sample)
    data = {"name": "n", "items": [1, 2], "extra": extra}
    made, normal = build(copy.deepcopy(data)), _Sample(**copy.deepcopy(data))
    _same_shape(made, normal)
    assert made == normal
    assert hash(made) == hash(normal)
    assert type(made.seen) is tuple  # settled as __init__ settles it
    assert made.seen == ()
    with pytest.raises(AttributeError):
        made.name = "x"  # type: ignore[misc]
    with pytest.raises(ValueError, match="a bad name"):  # __post_init__ runs
        build({"name": "bad", "items": [], "extra": 0})
    with pytest.raises(UnsureError):
        build({"name": "n", "items": [1], "extra": 0, "other": 1})
    # A field the JSON does not hold, given (as a verdict's scenario is): as the init takes it.
    _same_shape(build(copy.deepcopy(data), default=3, seen=[4]),
                _Sample(**copy.deepcopy(data), default=3, seen=[4]))
    with pytest.raises(UnsureError):  # the init would refuse a keyword it has no field for
        build(copy.deepcopy(data), other=1)


def test_settle_is_what_init_stores() -> None:
    for value in ([1, [2]], {"a": {"b": [1]}}, {1, 2}, bytearray(b"x"), (1,), "s", 3):
        assert _Sample("n", (), value).extra == settle(value)
        assert type(_Sample("n", (), value).extra) is type(settle(value))


@pytest.mark.parametrize("row", [[1, 0, 2, 3, 4, True], [1, 0, 2, 3, 4, -1], [1, 0, 2, 3, 4, 2**32],
                                 [1, 0, 2, 3, 4], [1, 0, 2, 3, 4, 5, 6], [1, 0, 2, 3, 4, 5.0],
                                 "row", None])
def test_cpuid_rows_the_schema_refuses_are_refused_in_its_words(row: object) -> None:
    data = copy.deepcopy(DOCUMENTS[sorted(DOCUMENTS)[0]])
    data["snapshot"]["cpuid"][0] = row
    assert _fused_read(copy.deepcopy(data)) is None
    exact = _exact(copy.deepcopy(data))
    assert str(exact).startswith("refused: snapshot.cpuid[0]")
    assert _outcome(data) == exact


def test_a_cpuid_leaf_given_twice_is_refused_in_the_readers_words() -> None:
    data = copy.deepcopy(DOCUMENTS[sorted(DOCUMENTS)[0]])
    data["snapshot"]["cpuid"].append(list(data["snapshot"]["cpuid"][0]))
    data["cpuid"]["leaves"] += 1
    assert _fused_read(copy.deepcopy(data)) is None
    assert str(_outcome(data)).startswith("refused: snapshot.cpuid: leaf ")
