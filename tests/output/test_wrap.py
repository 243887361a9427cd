"""The report's own word wrap gives what :func:`textwrap.wrap` gives with whole words
(nestprobe/output/wrap.py says why it is not textwrap)."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nestprobe.output.wrap import wrap

#: Words, runs of every whitespace textwrap knows, long words, hyphens, non-ASCII spaces.
PIECES = st.sampled_from(["a", "bb", "word", "x" * 30, "-", "re-run", " ", "  ", "\t", "\n",
                          "\r\n", "\x0b", "\x0c", "\xa0", "é", "日本", "\u2003"])


@given(st.lists(PIECES, max_size=40).map("".join), st.integers(1, 40),
       st.sampled_from(["", "  ", "    "]), st.sampled_from(["", "  ", "      "]))
def test_wrap_equals_textwrap(text: str, width: int, indent: str, subsequent: str) -> None:
    expected = textwrap.wrap(text, width=width, initial_indent=indent,
                             subsequent_indent=subsequent, break_on_hyphens=False,
                             break_long_words=False)
    assert wrap(text, width, indent, subsequent) == expected


@pytest.mark.parametrize("width", [0, -3])
def test_no_room_is_refused_as_textwrap_refuses_it(width: int) -> None:
    with pytest.raises(ValueError, match="invalid width"):
        textwrap.wrap("a b", width=width)
    with pytest.raises(ValueError, match="invalid width"):
        wrap("a b", width)
