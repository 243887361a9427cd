"""The JSON report's writer gives json.dumps's text (nestprobe/output/jsontext.py says why it
is not json.dumps)."""

from __future__ import annotations

import enum
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nestprobe.output.jsontext import dumps

SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
           | st.floats(allow_nan=False, allow_infinity=False)
           | st.text())  # any code point, lone surrogates included
KEYS = st.text() | st.integers() | st.booleans() | st.none() | st.floats(allow_nan=False,
                                                                         allow_infinity=False)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.lists(inner, max_size=4).map(tuple)
                      | st.dictionaries(KEYS, inner, max_size=4), max_leaves=30)


def _json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=True, allow_nan=False)


@given(VALUES)
def test_the_text_is_json_dumps_text(value: object) -> None:
    assert dumps(value) == _json(value)


#: The shapes the writer takes fast (a report's CPUID rows are lists of ints; its objects
#: are str keys over str and int leaves), which VALUES reaches only by chance.
REPORT_SHAPES = st.recursive(
    st.integers(-(2**70), 2**70) | st.text() | st.booleans()
    | st.lists(st.integers(-(2**70), 2**70), min_size=1, max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30)


@given(REPORT_SHAPES)
def test_the_reports_own_shapes_are_json_dumps_text(value: object) -> None:
    assert dumps(value) == _json(value)


class _Level(enum.IntEnum):
    TWO = 2


class _Word(str):
    pass


@pytest.mark.parametrize("value", [
    [1, True, 2], (3, 4), [_Level.TWO, 1], {"a": _Level.TWO, "b": True, "c": _Word("w")},
    [_Word("x"), 1], {_Word("k"): [1, 2]}, [[1, 2], [], {}, [3]],
])
def test_subclasses_take_jsons_own_path(value: object) -> None:
    assert dumps(value) == _json(value)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, [1, {"a": math.nan}],
                                 {math.inf: 1}])
def test_non_finite_numbers_are_refused_as_json_refuses_them(bad: object) -> None:
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        _json(bad)
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        dumps(bad)


@pytest.mark.parametrize("bad", [{1, 2}, object(), {(1, 2): 3}, b"bytes"])
def test_what_json_cannot_write_is_a_type_error_in_both(bad: object) -> None:
    with pytest.raises(TypeError):
        _json(bad)
    with pytest.raises(TypeError):
        dumps(bad)
