"""The report people read (issue 11, item 2): the answer on the first line, one entry per
group of verdicts, conditions still to confirm, what to change; one screen (24 rows of
80 columns) for every corpus dump, this machine and any report at all; -v for the rest."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from conftest import REPO, dump_path, every_dump, every_windows_paste
from hostile import hostile_snapshot, no_control
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nestprobe
from nestprobe.cli import main
from nestprobe.model.evidence import Evidence
from nestprobe.model.record import replace
from nestprobe.model.verdicts import (
    CONDITION_STATES,
    LAYERS,
    SCENARIOS,
    STATUSES,
    Condition,
    Remediation,
    Verdict,
    Verdicts,
)
from nestprobe.output.answer import answer
from nestprobe.output.text import (
    SCREEN_ROWS,
    WIDTH,
    group_verdicts,
    open_conditions,
    render_text,
    render_verbose,
    rows,
)
from nestprobe.pipeline import build_report

#: The corpus dumps (or, in a clone without ../shared, the repository's snapshots of them).
CORPUS = every_dump()
#: What Windows users paste (Coreinfo, systeminfo, ...), read as `report --from` reads it.
WINDOWS = every_windows_paste()


def _reports() -> list[tuple[str, nestprobe.Report]]:
    return ([("live", nestprobe.probe())] + [(p.name, nestprobe.load(p)) for p in CORPUS]
            + [(p.name, nestprobe.load(p)) for p in WINDOWS])


def _check_screen(name: str, report: nestprobe.Report, width: int = WIDTH) -> list[str]:
    text = render_text(report, width=width)
    lines = text.splitlines()
    assert rows(lines, width) <= SCREEN_ROWS, f"{name}: {rows(lines, width)} rows\n{text}"
    first = textwrap.wrap(answer(report), width, break_on_hyphens=False,
                          break_long_words=False)[0]
    assert lines[0] == first, name
    assert lines[0].startswith(("Yes", "No", "Cannot tell", "Only")), name
    return lines


def test_every_corpus_dump_and_this_machine_fit_one_screen_answer_first() -> None:
    assert CORPUS or pytest.skip("corpus not found")
    assert WINDOWS or pytest.skip("Windows pastes not found")
    for name, report in _reports():
        lines = _check_screen(name, report)
        entries = [line for line in lines if line.split(" for ")[0] in
                   ("SUPPORTED", "EVALUATION ONLY", "UNSUPPORTED (may work)", "BLOCKED",
                    "UNKNOWN")]
        named = [s for line in entries for s in
                 line.split(" for ", 1)[1].split(":", 1)[0].split(", ")]
        assert sorted(named) == sorted(SCENARIOS), (name, entries)  # each verdict once
        assert lines[-1].startswith(("Evidence, caveats", "Shortened to fit"))


def test_scenarios_that_share_a_reason_are_one_entry() -> None:
    report = nestprobe.load(dump_path("firecracker-t2.txt"))
    groups = group_verdicts(report)
    assert len(groups) == 1
    assert groups[0].scenarios == SCENARIOS
    text = render_text(report).replace("\n    ", " ")  # unwrap the reason
    assert text.count("This OS runs in a VM (KVM)") == 1
    assert "BLOCKED for hyperv, wsl2, hyperv-containers, azure-local, third-party:" in text


def test_conditions_are_listed_once_with_their_scenarios() -> None:
    report = nestprobe.load(dump_path("azure-hyperv-guest-nested-vmx.txt"))
    items = open_conditions(report)
    texts = [i.condition.text for i in items]
    assert len(texts) == len(set(texts))
    text = render_text(report)
    assert "Still to confirm:" in text
    wsl_only = next(i for i in items if "Virtual Machine Platform" in i.condition.text)
    assert wsl_only.scenarios == ("wsl2",)
    assert "[wsl2]" in text


def test_states_are_rendered_as_they_come() -> None:
    """met conditions only with -v; unmet says so; unknown with where to confirm."""
    report = nestprobe.load(dump_path("azure-hyperv-guest-nested-vmx.txt"))
    verdict = report.verdicts["wsl2"]
    conditions = (
        Condition("patched", "the host is patched", "met", (Evidence("ok", "x", 1),)),
        Condition("memory-static", "dynamic memory is off", "unmet", (), None),
        Condition("memory-4g", "the VM has 4 GB", "unknown", (), "Hyper-V Manager > Memory"),
    )
    items = tuple(replace(v, conditions=conditions) if v is verdict else v
                  for v in report.verdicts)
    changed = replace(report, verdicts=Verdicts(items))
    text = render_text(changed)
    assert "the host is patched" not in text
    # an unmet condition is not "still to confirm": it has its own heading (issue 18.14)
    assert "Not met (the changes below address them):" in text
    assert "dynamic memory is off" in text.split("Still to confirm:")[0]
    assert "not met:" not in text
    assert "the VM has 4 GB (confirm: Hyper-V Manager > Memory)" in text
    verbose = render_verbose(changed)
    assert "condition [met] the host is patched" in verbose
    assert "condition [unknown] the VM has 4 GB; confirm: Hyper-V Manager > Memory" in verbose


def test_what_to_change_follows_the_verdicts() -> None:
    report = nestprobe.load(dump_path("firecracker-t2.txt"))
    lines = render_text(report).splitlines()
    where = lines.index("What to change, and where:")
    assert lines[where + 1].startswith("  [outer-hypervisor] on the KVM host (L0)")
    assert any("modprobe kvm_intel" in line for line in lines[where:])
    assert "BIOS" not in "\n".join(lines)


def test_verbose_has_the_evidence_the_default_leaves_out() -> None:
    for name, report in _reports()[:6]:
        default = render_text(report)
        verbose = render_verbose(report)
        a = report.assessment
        for e in (*a.hypervisor.evidence, *a.virtualization.evidence, *a.nesting.evidence):
            assert e.claim[:30] in verbose, (name, e.claim)
        assert "Evidence:" in verbose
        assert "Evidence:" not in default
        for verdict in report.verdicts:
            assert f"{verdict.scenario}: " in verbose
            for caveat in verdict.caveats:
                assert caveat[:30] in verbose.replace("\n      ", " ")
            for fix in verdict.remediation:
                assert f"(source: {fix.source[:20]}" in verbose.replace("\n      ", " ")


def test_the_cli_switches_with_v() -> None:
    import io

    path = str(dump_path("firecracker-t2.txt"))
    short, full = io.StringIO(), io.StringIO()
    assert main(["--from", path], out=short) == 0
    assert main(["--from", path, "-v"], out=full) == 0
    assert "Evidence:" in full.getvalue()
    assert full.getvalue().count("\n") > 2 * short.getvalue().count("\n")


# ------------------------------------------------------------------ any report fits

_WIDE_AND_COMBINING = "\u4e2d\u6587\u5b57 \u0301x"
_TEXT = st.one_of(st.text(st.characters(codec="utf-8"), min_size=1, max_size=300),
                  st.text(_WIDE_AND_COMBINING, min_size=1, max_size=200))


@st.composite
def _verdicts(draw: st.DrawFn) -> Verdicts:
    items = []
    for scenario in SCENARIOS:
        conditions = draw(st.lists(st.builds(
            Condition, _TEXT, _TEXT, st.sampled_from(CONDITION_STATES), st.just(()),
            st.one_of(st.none(), _TEXT)), max_size=6))
        fixes = draw(st.lists(st.builds(
            Remediation, st.sampled_from(LAYERS), _TEXT,
            st.lists(_TEXT, max_size=8).map(tuple), _TEXT), max_size=3))
        options = draw(st.lists(st.builds(
            Remediation, st.sampled_from(LAYERS), _TEXT,
            st.lists(_TEXT, max_size=8).map(tuple), _TEXT, _TEXT), max_size=2))
        items.append(Verdict(scenario, draw(st.sampled_from(STATUSES)),
                             (Evidence(draw(_TEXT), "rule", None),), tuple(conditions),
                             tuple(draw(st.lists(_TEXT, max_size=3))), tuple(fixes),
                             "rule", "source", tuple(options)))
    return Verdicts(tuple(items))


_BASE = build_report(hostile_snapshot())


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(verdicts=_verdicts(), width=st.integers(60, 100))
def test_fuzz_any_report_fits_one_screen_and_shows_no_control(verdicts: Verdicts,
                                                              width: int) -> None:
    report = replace(_BASE, verdicts=verdicts)
    text = render_text(report, width=width)
    assert rows(text.splitlines(), width) <= SCREEN_ROWS
    assert no_control(text)
    assert text.startswith(answer(report)[:20])
    assert no_control(render_verbose(report))


# ------------------------------------------------------------------ colour and help


def _run_on_pty(args: list[str], env: dict[str, str]) -> bytes:
    """Run the CLI with a pseudo-terminal as stdout; what it wrote there."""
    import pty

    leader, follower = pty.openpty()
    full_env = {**os.environ, "PYTHONPATH": str(REPO), "TERM": "xterm"}
    full_env.pop("NO_COLOR", None)
    full_env.update(env)
    proc = subprocess.Popen([sys.executable, "-m", "nestprobe", *args], stdout=follower,
                            stderr=subprocess.PIPE, env=full_env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks)


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="no pseudo-terminals here")
def test_colour_only_on_a_terminal_and_never_with_no_color() -> None:
    path = str(dump_path("firecracker-t2.txt"))
    on_tty = _run_on_pty(["--from", path], {})
    assert b"\x1b[1;31mBLOCKED\x1b[0m" in on_tty
    assert b"\x1b[" not in _run_on_pty(["--from", path], {"NO_COLOR": "1"})
    assert b"\x1b[" not in _run_on_pty(["--from", path], {"TERM": "dumb"})
    piped = subprocess.run([sys.executable, "-m", "nestprobe", "--from", path],
                           capture_output=True, env=dict(os.environ, PYTHONPATH=str(REPO)),
                           check=False, timeout=60)
    assert b"\x1b" not in piped.stdout
    assert render_text(nestprobe.load(path), colour=True).count("\x1b[0m") >= 2


def test_top_level_help_shows_the_common_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--json", "--from FILE", "-v, --verbose", "--cpu N", "check SCENARIO",
                   "--no-timing", "--thorough", "130 interrupted"):
        assert option in out, option
    for scenario in SCENARIOS:
        assert scenario in out


def test_check_leads_with_the_answer(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(dump_path("firecracker-t2.txt"))
    assert main(["check", "wsl2", "--from", path]) == 1
    out = capsys.readouterr().out
    assert out.startswith("No: this OS is a guest of KVM")
    assert "wsl2: BLOCKED" in out
    assert "fix [outer-hypervisor]" in out


def test_options_are_offered_for_other_goals_never_as_fixes() -> None:
    """A Hyper-V root whose answer is yes: turning the hypervisor off (for VirtualBox) is an
    option under its own heading, after the verdicts, and -v gives it in full."""
    report = nestprobe.load(dump_path("instlatx64-hvroot-GenuineIntel00A0654_CometLake_CPUID.txt"))
    options = [o for v in report.verdicts for o in v.options]
    assert options
    assert all(o.goal for o in options)
    lines = render_text(report).splitlines()
    assert lines[0].startswith("Yes")
    assert "What to change, and where:" not in lines
    start = lines.index("Options for other goals (nothing above needs them):")
    assert any("hypervisorlaunchtype off" in line for line in lines[start:])
    assert any(line.strip().startswith("for: ") for line in lines[start:])
    verbose = render_verbose(report)
    assert f"(for: {options[0].goal[:20]}" in verbose.replace("\n      ", " ")


def test_a_status_with_conditions_to_confirm_says_if_confirmed() -> None:
    report = nestprobe.load(dump_path("azure-hyperv-guest-nested-vmx.txt"))
    assert report.verdicts["hyperv"].to_confirm
    text = render_text(report)
    assert "SUPPORTED for hyperv, wsl2, hyperv-containers: if confirmed:" in text
    assert "hyperv: SUPPORTED, if " in render_verbose(report)
