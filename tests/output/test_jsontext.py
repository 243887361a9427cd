"""The JSON report's writer gives json.dumps's text (nestprobe/output/jsontext.py says why it
is not json.dumps)."""

from __future__ import annotations

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
