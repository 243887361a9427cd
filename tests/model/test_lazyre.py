"""Lazy patterns answer as :mod:`re` does, however they decide (nestprobe/model/lazyre.py):
literal alternatives without re, needles that skip the compile, the compiled pattern.

Every LazyPattern the package makes is checked, on strings generated from the pattern itself
(so they match), the same strings with one character dropped or changed (so many do not),
and strings made of the pattern's own characters."""

from __future__ import annotations

import gc
import importlib
import pkgutil
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nestprobe
from nestprobe.model.lazyre import LazyPattern, any_of, lazy_compile


def _every_pattern() -> list[LazyPattern]:
    for info in pkgutil.walk_packages(nestprobe.__path__, "nestprobe."):
        try:
            importlib.import_module(info.name)
        except ImportError:  # Windows-only modules on POSIX, and the reverse
            continue
    found = {id(o): o for o in gc.get_objects() if isinstance(o, LazyPattern)}
    return sorted(found.values(), key=lambda p: (p.pattern, p.flags))


PATTERNS = _every_pattern()


def test_the_package_patterns_were_found() -> None:
    assert len(PATTERNS) > 50
    # the kinds the probe path relies on are among them: guarded, spelled out, literal
    assert any(p.needles for p in PATTERNS)
    assert any(p.same_as is not None for p in PATTERNS)
    assert any(p.pattern == "bios|uefi|firmware" for p in PATTERNS)


def _variants(pattern: LazyPattern) -> st.SearchStrategy[str]:
    matching = st.from_regex(re.compile(pattern.pattern, pattern.flags), fullmatch=False)
    pool = sorted(set(pattern.pattern) | set("aA0 -.()\n"))
    return st.one_of(
        matching,
        st.tuples(matching, st.integers(0, 200), st.sampled_from(pool)).map(
            lambda t: t[0][:t[1]] + t[2] + t[0][t[1] + 1:]),
        st.tuples(matching, st.integers(0, 200)).map(lambda t: t[0][:t[1]] + t[0][t[1] + 1:]),
        st.text(st.sampled_from(pool), max_size=40),
    )


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.pattern[:40])
def test_a_pattern_answers_as_re(pattern: LazyPattern) -> None:
    compiled = re.compile(pattern.pattern, pattern.flags)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_variants(pattern))
    def check(text: str) -> None:
        assert pattern.found_in(text) == (compiled.search(text) is not None)
        for method in ("search", "match", "fullmatch"):
            ours, theirs = getattr(pattern, method)(text), getattr(compiled, method)(text)
            assert (ours is None) == (theirs is None), method
            if ours is not None:
                assert ours.span() == theirs.span()

    check()


def test_literal_alternatives_are_decided_without_compiling() -> None:
    words = lazy_compile(r"bios|uefi|firmware", 2)
    assert words.found_in("set in the BIOS")
    assert not words.found_in("nothing here")
    anchored = any_of("AMD EPYC", start=True, end=True)
    assert anchored.found_in("AMD EPYC")
    assert not anchored.found_in("AMD EPYC 7763")
    assert any_of("a.b(").found_in("xa.b(y")
    assert not any_of("a.b(").found_in("axb(")
    for pattern in (words, anchored):
        assert pattern._compiled is None


def test_needles_skip_the_compile_and_nothing_else() -> None:
    docker = lazy_compile(r"/docker[/-]", needles=("/docker",))
    assert docker.search("/system.slice/sshd.service") is None
    assert docker._compiled is None
    assert docker.search("0::/docker/abc") is not None


def test_non_ascii_goes_to_re() -> None:
    """Unicode case folding is re's: the long s matches "s" under IGNORECASE."""
    wsl = lazy_compile(r"microsoft|wsl", 2)
    assert wsl.found_in("W\u017fL") == (re.search(r"(?i)microsoft|wsl", "W\u017fL") is not None)
    guarded = lazy_compile(r"wsl", 2, needles=("wsl",))
    assert (guarded.search("W\u017fL") is None) == (re.search("(?i)wsl", "W\u017fL") is None)


def test_the_two_cases_the_property_test_found_go_as_re_says() -> None:
    """``$`` also matches before a final newline; ``\\d`` also matches Arabic-Indic digits."""
    anchored = any_of("AMD EPYC", start=True, end=True)
    assert anchored.found_in("AMD EPYC\n") == (re.search(anchored.pattern, "AMD EPYC\n")
                                              is not None)
    assert anchored.found_in("AMD EPYC\n")
    spelled = lazy_compile(r"AMD EPYC \d", same_as=any_of(*(f"AMD EPYC {d}" for d in "0123456789")))
    assert spelled.found_in("AMD EPYC \u0663")  # ARABIC-INDIC DIGIT THREE
    assert re.search(spelled.pattern, "AMD EPYC \u0663") is not None


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.text(st.sampled_from("ab^$|\\.()*?[]{}+ Zé"), max_size=6), max_size=4),
       start=st.booleans(), end=st.booleans(), folded=st.booleans())
def test_any_of_hands_over_what_parsing_its_pattern_would_find(
        texts: list[str], start: bool, end: bool, folded: bool) -> None:
    from nestprobe.model.lazyre import IGNORECASE, _literal_alternatives

    made = any_of(*texts, start=start, end=end, flags=IGNORECASE if folded else 0)
    parsed = _literal_alternatives(made.pattern, made.flags)
    handed = made._literals
    if handed is False:  # nothing handed over (none given, or not ASCII): parsed on use
        assert not texts or parsed is None
        return
    assert handed is not None
    if parsed is not None:
        for part in ("anywhere", "starts", "ends", "whole", "folded"):
            assert getattr(handed, part) == getattr(parsed, part), part
    # Where parsing gives up (it reads an escaped backslash before "$" as an escaped "$"),
    # what is handed over still answers as re does.
    compiled = re.compile(made.pattern, made.flags)
    for text in texts:
        for string in (text, f"x{text}", f"{text}y", f"x{text}\n", text.upper(), ""):
            assert handed.found_in(string) == bool(compiled.search(string)), string
