"""The repository's own snapshots of the corpus dumps (tests/fixtures/corpus/, written by
tools/derive_corpus_fixtures.py) stand in for ../shared in a lone clone: each names its
public source, and where the corpus is beside the clone each gives the same report as the
dump it was read from (only the report's ``source`` differs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DUMPS, OWN_DUMPS, cases, own_dump

import nestprobe
from nestprobe.output.jsonreport import report_to_dict
from nestprobe.output.text import render_verbose

CORPUS = sorted(p.name for p in DUMPS.iterdir()) if DUMPS.is_dir() else []
OWN = sorted(OWN_DUMPS.glob("*.dump"))


@pytest.mark.parametrize("path", cases(OWN, "no own snapshots"), ids=lambda p: p.name)
def test_each_snapshot_names_its_public_source(path: Path) -> None:
    head = path.read_text(encoding="utf-8").split("nestprobe-dump 1", 1)[0]
    assert "# Public source: " in head
    source = head.split("# Public source: ", 1)[1].splitlines()[0]
    assert len(source) > 20, source  # a repository, path and commit, or a mail or thread
    assert nestprobe.load(path).snapshot.origin.format == "nestprobe"


@pytest.mark.parametrize("name", cases(CORPUS, f"corpus not found at {DUMPS}"))
def test_a_snapshot_gives_its_dumps_report(name: str) -> None:
    corpus = nestprobe.load(DUMPS / name)
    if not corpus.snapshot.cpuid:
        assert not own_dump(name).exists()  # no registers: nothing to carry over
        pytest.skip(f"{name} holds no registers; tests/fixtures/pastes/ stands in for it")
    assert own_dump(name).is_file(), "run python tools/derive_corpus_fixtures.py"
    own = nestprobe.load(own_dump(name))
    mine, theirs = report_to_dict(own), report_to_dict(corpus)
    mine.pop("source")
    theirs.pop("source")
    assert mine == theirs
    def text(report: nestprobe.Report) -> list[str]:  # all but the line naming the file
        return [line for line in render_verbose(report).split("\n")
                if not line.startswith("Source: dump ")]

    assert text(own) == text(corpus)


def test_no_snapshot_without_its_dump() -> None:
    if not CORPUS:
        pytest.skip(f"corpus not found at {DUMPS}")
    assert {p.name for p in OWN} <= {own_dump(n).name for n in CORPUS}
