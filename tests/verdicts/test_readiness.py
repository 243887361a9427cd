"""verdicts/readiness.py: ready now, after steps in this OS, or only once someone confirms.

Every condition and this-OS remediation row has its classification; the states come out of
the records of real inputs (the Windows fixtures, corpus dumps, Windows pastes) as their
conditions are met, unmet in this OS, or unknown.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import CORPUS

import nestprobe
from nestprobe.cli import main
from nestprobe.model.record import replace
from nestprobe.model.report import Report
from nestprobe.model.verdicts import LAYERS, Condition, Verdict
from nestprobe.verdicts.conditions import CONDITIONS
from nestprobe.verdicts.readiness import (
    EXPLANATIONS,
    SETTLE,
    STEP_NEEDS,
    Readiness,
    readiness,
)
from nestprobe.verdicts.remediation import OPTION_GOALS, REMEDIATIONS

WINDOWS = Path(__file__).resolve().parents[1] / "fixtures" / "windows"
PASTES = CORPUS / "windows"


def load(path: Path) -> Report:
    return nestprobe.load(path)


def corpus_file(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"corpus file not found at {path}")
    return path


# ---- the tables cover their rows ------------------------------------------------------------


def test_every_condition_is_classified() -> None:
    assert sorted(SETTLE) == sorted(CONDITIONS)


def test_fixes_are_this_os_remediations() -> None:
    for cid, rule in SETTLE.items():
        assert rule.layer in (*LAYERS, "person"), cid
        for rid in (rule.fix, *rule.settled_by):
            if rid is not None:
                assert REMEDIATIONS[rid].layer == "this-os", (cid, rid)
        assert (rule.fix is None) == (not rule.settled_by), cid  # a fix, and what covers it
        if rule.fix is not None:
            assert rule.layer == "this-os", cid


def test_every_this_os_action_says_what_it_needs() -> None:
    this_os = {rid for rid, r in REMEDIATIONS.items()
               if r.layer == "this-os" and rid not in OPTION_GOALS}  # options are no steps
    assert set(STEP_NEEDS) | EXPLANATIONS == this_os
    assert not set(STEP_NEEDS) & EXPLANATIONS


@pytest.mark.parametrize("rid", sorted(STEP_NEEDS))
def test_needs_agree_with_the_words(rid: str) -> None:
    """Where an entry says "as Administrator" or "restart" in words, the table says so too."""
    where = REMEDIATIONS[rid].where
    if re.search(r"Administrator|as root|elevated", where):
        assert STEP_NEEDS[rid].elevated, rid
    if re.search(r"restart|reboot|log in again", where + " ".join(REMEDIATIONS[rid].steps)):
        assert STEP_NEEDS[rid].restart, rid


# ---- states from real inputs: met, unmet in this OS, unknown ---------------------------------


def test_met_everywhere_is_ready() -> None:
    """Hyper-V runs on this Windows 11 Pro: every condition of hyperv is met."""
    verdict = load(WINDOWS / "win11-pro-baremetal-hyperv-root.dump").verdicts["hyperv"]
    assert verdict.status == "supported"
    assert all(c.state == "met" for c in verdict.conditions)
    assert readiness(verdict) == Readiness("ready")


def test_unmet_in_this_os_is_after_steps() -> None:
    """The boot entry turns the hypervisor off; WSL is absent: steps in this Windows."""
    report = load(WINDOWS / "win11-enterprise-baremetal-hypervisor-off.dump")
    hyperv = readiness(report.verdicts["hyperv"])
    assert hyperv.state == "after-steps"
    (step,) = hyperv.steps
    assert (step.kind, step.id, step.conditions) == (
        "do", "windows-hypervisor-launch", ("hypervisor-launches",))
    assert step.elevated
    assert step.restart
    assert "bcdedit /set hypervisorlaunchtype auto" in step.commands
    wsl2 = readiness(report.verdicts["wsl2"])
    assert wsl2.state == "after-steps"
    install = next(s for s in wsl2.steps if s.id == "windows-wsl-install")
    assert set(install.conditions) == {"wsl-installed", "vm-platform"}
    # wsl --install does not undo hypervisorlaunchtype Off: its own fix, as a settle step.
    settle = next(s for s in wsl2.steps if s.kind == "settle")
    assert (settle.id, settle.fix) == ("hypervisor-launches", "windows-hypervisor-launch")
    assert "bcdedit /set hypervisorlaunchtype auto" in settle.commands


def test_unknown_in_this_os_is_a_step_with_its_check() -> None:
    """VMP's state needs an elevated query: WSL2 on a Hyper-V root is after that step."""
    verdict = load(WINDOWS / "win11-pro-baremetal-hyperv-root.dump").verdicts["wsl2"]
    ready = readiness(verdict)
    assert ready.state == "after-steps"
    (step,) = ready.steps
    assert (step.kind, step.id, step.fix, step.elevated) == (
        "settle", "vm-platform", "windows-vm-platform", True)
    assert step.commands[0].startswith("Get-WindowsOptionalFeature")


def test_unknown_elsewhere_needs_confirmation(corpus_dumps: Path) -> None:
    """A CPUID dump of an Azure guest: the host build, SLAT, which OS took it are unknown."""
    verdict = load(corpus_dumps / "azure-hyperv-guest-nested-vmx.txt").verdicts["hyperv"]
    ready = readiness(verdict)
    assert ready.state == "needs-confirmation"
    pending = {p.id: p.layer for p in ready.pending}
    assert pending["ws2019-vcpus"] == "outer-hypervisor"
    assert pending["windows-here"] == "person"
    # The hyperv-role condition is this OS's: a settle step, not a pending item.
    assert "hyperv-role" not in pending
    assert any(s.id == "hyperv-role" and s.kind == "settle" for s in ready.steps)


def test_paste_with_unmet_and_unknown() -> None:
    """systeminfo of a PC whose hypervisor is off: steps in this Windows, and a hypervisor
    hidden below (nothing in a paste rules it out) only a person can confirm."""
    verdict = load(corpus_file(PASTES / "systeminfo-baremetal-allyes-hp-n76-1.txt")
                   ).verdicts["hyperv"]
    ready = readiness(verdict)
    assert ready.state == "needs-confirmation"
    assert [p.id for p in ready.pending] == ["no-hidden-hypervisor"]
    by_id = {s.id: s for s in ready.steps}
    assert by_id["windows-hypervisor-launch"].conditions == ("hypervisor-launches",)
    assert by_id["windows-enable-hyperv"].conditions == ("hyperv-role",)


@pytest.mark.parametrize(("paste", "status", "code"), [
    ("systeminfo-baremetal-vtfwoff-docker-1.txt", "blocked", 1),  # firmware switch off
    ("systeminfo-hvroot-wsl-1.txt", "unknown", 5),  # root partition or guest: cannot tell
])
def test_paste_not_supported_keeps_its_code(paste: str, status: str, code: int) -> None:
    path = corpus_file(PASTES / paste)
    verdict = load(path).verdicts["hyperv"]
    assert verdict.status == status
    assert readiness(verdict) == Readiness("not-supported")
    assert main(["check", "hyperv", "--ready", "-q", "--from", str(path)]) == code


# ---- the rule itself, on records -------------------------------------------------------------


def _verdict(*conditions: Condition) -> Verdict:
    base = load(WINDOWS / "win11-pro-baremetal-hyperv-root.dump").verdicts["hyperv"]
    return replace(base, conditions=conditions, remediation=())


def test_an_unlisted_condition_is_never_ready() -> None:
    ready = readiness(_verdict(Condition(id="new-row", text="t", state="unknown")))
    assert ready.state == "needs-confirmation"
    assert ready.pending[0].layer == "person"


def test_an_advisory_condition_does_not_gate() -> None:
    ready = readiness(_verdict(Condition(id="hyperv-host-amd-own-vms", text="t", state="unmet")))
    assert ready.state == "ready"


def test_another_layers_remediation_on_a_supported_verdict_is_pending() -> None:
    verdict = replace(_verdict(), remediation=(REMEDIATIONS["wsl-nested"],))
    ready = readiness(verdict)
    assert ready.state == "needs-confirmation"
    assert ready.pending[0].layer == "host-os"


@pytest.mark.parametrize("status", ["blocked", "unsupported", "evaluation-only", "unknown"])
def test_other_statuses_are_not_supported(status: str) -> None:
    assert readiness(replace(_verdict(), status=status)).state == "not-supported"


def test_ready_means_nothing_left(corpus_dumps: Path) -> None:
    """Over every input here: ready only with every gating condition met and no step."""
    paths = [*WINDOWS.glob("*.dump"), *corpus_dumps.iterdir(), *PASTES.glob("*.txt")]
    seen: set[str] = set()
    for path in paths:
        for verdict in load(path).verdicts:
            ready = readiness(verdict)
            seen.add(ready.state)
            if ready.state == "ready":
                assert verdict.status == "supported"
                assert all(c.state == "met" or SETTLE[c.id].advisory
                           for c in verdict.conditions), path
                assert not [r for r in verdict.remediation if r.id not in EXPLANATIONS]
            if ready.state == "after-steps":
                assert ready.steps
                assert not ready.pending
    assert seen == {"ready", "after-steps", "needs-confirmation", "not-supported"}


def test_check_ready_prints_the_steps() -> None:
    import io

    out = io.StringIO()
    path = WINDOWS / "win11-enterprise-baremetal-hypervisor-off.dump"
    assert main(["check", "hyperv", "--ready", "--from", str(path)], out=out) == 9
    text = out.getvalue()
    assert "readiness: ready after steps in this OS (elevated, restart)" in text
    assert "step do windows-hypervisor-launch [elevated, restart]" in text
    assert "bcdedit /set hypervisorlaunchtype auto" in text
    out = io.StringIO()
    assert main(["check", "azure-local", "--ready", "--from", str(path)], out=out) == 10
    assert "pending [person] validated-hardware (unknown)" in out.getvalue()


def test_check_ready_with_verbose_prints_the_verdict_and_the_steps() -> None:
    """``-v`` writes the whole report first; the readiness follows it (a regression: its
    writer was imported only on the non-verbose path, an internal error, exit 7)."""
    import io

    out = io.StringIO()
    path = WINDOWS / "win11-enterprise-baremetal-hypervisor-off.dump"
    assert main(["check", "hyperv", "--ready", "-v", "--from", str(path)], out=out) == 9
    text = out.getvalue()
    assert "hyperv: " in text
    assert "readiness: ready after steps in this OS (elevated, restart)" in text
