"""The gates that leave modules unimported (issue 21, cold start) leave nothing out.

A Windows module is imported only when ``OsFacts.holds_windows_facts`` says so, the verdicts'
only when ``Facts.has_windows`` does, VMware's timing decoder only when an interface's range
reaches base+0x10. Each gate is right only if what it skips would have said nothing: these
tests ask the skipped code itself, on every input the tests have (the repository's fixtures,
and the corpus where it is beside the clone), and on the key vocabulary.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, every_dump, every_windows_paste

import nestprobe
from nestprobe.assess.windows import assess_windows
from nestprobe.decode import dmi
from nestprobe.decode.bits import decode_leaf
from nestprobe.decode.interfaces import decode_interface, scan, specs_for
from nestprobe.decode.winreport import TOOLS, Readiness, read_readiness, reported_cpu
from nestprobe.model import oskeys, winfacts
from nestprobe.model.errors import NestprobeError
from nestprobe.model.evidence import Evidence
from nestprobe.model.record import replace
from nestprobe.model.snapshot import FileFact, OsFacts, Snapshot
from nestprobe.model.verdicts import SCENARIOS
from nestprobe.pipeline import load_snapshot
from nestprobe.verdicts.situation import situate
from nestprobe.verdicts.windows import PERMITTING, windows_steps


def _inputs() -> list[Path]:
    own = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.name != "README.md")
    return sorted({*own, *every_dump(), *every_windows_paste()})


def _snapshots() -> list[Snapshot]:
    found = []
    for path in _inputs():
        try:
            found.append(load_snapshot(path))
        except NestprobeError:
            continue  # an input refused on purpose (tests/cli/test_hostile.py)
    return found


SNAPSHOTS = _snapshots()
WITHOUT_WINDOWS = [s for s in SNAPSHOTS if not s.os.holds_windows_facts()]


def test_the_inputs_hold_both_kinds() -> None:
    assert WITHOUT_WINDOWS
    assert len(WITHOUT_WINDOWS) < len(SNAPSHOTS)


def test_linux_keys_are_absolute_paths_and_windows_keys_are_not() -> None:
    assert all(path.startswith("/") for path in oskeys.WATCHED_PATHS)
    windows = [*winfacts.WINDOWS_PATHS, *oskeys.READ_PATHS, oskeys.PASTE_ENCODING,
               oskeys.SYSTEMINFO_READING, oskeys.MSINFO32_READING, oskeys.SYSTEMINFO_SENTENCE,
               *(f"{tool}:label" for tool in TOOLS)]
    for path in windows:
        assert OsFacts("unknown", "x86_64", {path: FileFact("ok", "1")}).holds_windows_facts()


def test_the_gate_asks_the_keys_and_the_os() -> None:
    linux = {path: FileFact("absent") for path in oskeys.WATCHED_PATHS}
    assert not OsFacts("Linux", "x86_64", linux).holds_windows_facts()
    assert not OsFacts("unknown", "x86_64").holds_windows_facts()
    assert OsFacts("Windows", "x86_64").holds_windows_facts()
    assert OsFacts("Linux", "x86_64", {**linux, oskeys.CURRENT_BUILD: FileFact("ok", "22631")}
                   ).holds_windows_facts()


@pytest.mark.parametrize("snapshot", WITHOUT_WINDOWS, ids=lambda s: s.origin.path or "?")
def test_windows_readers_find_nothing_where_the_gate_is_closed(snapshot: Snapshot) -> None:
    facts = snapshot.os
    evidence: list[Evidence] = []
    assert assess_windows(facts, evidence) is None
    assert not evidence
    assert read_readiness(facts) == Readiness(tools=())
    assert reported_cpu(facts) is None
    out: dict[str, tuple[str, str]] = {}
    dmi._read_windows(facts, out)
    assert out == {}


@pytest.mark.parametrize("snapshot", [s for s in SNAPSHOTS if s.cpuid_status == "ok"],
                         ids=lambda s: s.origin.path or "?")
def test_the_timing_gate_drops_no_decodable_leaf(snapshot: Snapshot) -> None:
    table = snapshot.cpuid
    for found in scan(table):
        vendor = found.known.vendor_id if found.known is not None else None
        every = {spec.name: decode_leaf(spec, regs)
                 for spec in specs_for(vendor, found.interface, timing=True)
                 if (regs := table.get(found.base + spec.offset, spec.subleaf)) is not None}
        assert decode_interface(table, found) == every


def test_no_windows_step_without_windows_words() -> None:
    """verdicts/windows.py is skipped when the win_* words are "n/a": none of its steps can
    match them, whatever the OS and the status."""
    linux = next(s for s in WITHOUT_WINDOWS if s.cpuid_status == "ok")
    assessment = nestprobe.assess_snapshot(linux).assessment
    assert not assessment.facts.has_windows
    situation = replace(situate(assessment), os="windows")
    for scenario in SCENARIOS:
        for status in PERMITTING:
            assert windows_steps(scenario, situation, status) == ()


def test_has_windows_follows_the_windows_part() -> None:
    for snapshot in SNAPSHOTS:
        assessment = nestprobe.assess_snapshot(snapshot).assessment
        assert assessment.facts.has_windows == (assessment.environment.windows is not None)
