"""The proof record, its dump line, what it means, and what it does to the verdict.

Inputs are real proof runs (tests/fixtures/proof: this development machine's PVM /dev/kvm,
the QEMU lab's L1 and its SVM-less guest) and records built field by field from them.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from nestprobe.assess.proof import (
    CPU_SPEED_MAX,
    EMULATED_MIN,
    FIX_WHP,
    assess_proof,
    round_trips,
    speed,
)
from nestprobe.decode.masks import INTEL_MASK
from nestprobe.model.errors import DumpFormatError
from nestprobe.model.proof import ProofRecord
from nestprobe.model.record import replace
from nestprobe.model.report import Report
from nestprobe.model.snapshot import CpuidTable, OsFacts, Registers, Snapshot
from nestprobe.output.answer import answer
from nestprobe.output.jsonreport import report_to_dict
from nestprobe.output.text import render_text, render_verbose
from nestprobe.pipeline import build_report, load
from nestprobe.sources.dumpfile import format_dump, parse_dump
from nestprobe.sources.load import load_snapshot

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "proof"
PVM = FIXTURES / "pvm-dev.dump"
LAB_L1 = FIXTURES / "lab-l1-tcg-kvm-amd.dump"
LAB_NOSVM = FIXTURES / "lab-amd-nosvm.dump"
#: The installed package's schema (the Windows stage tests the wheel, not this tree).
SCHEMA = jsonschema.Draft202012Validator(json.loads(
    resources.files("nestprobe.output").joinpath("report.schema.json").read_text("utf-8")))


def _record(path: Path) -> ProofRecord:
    proof = load_snapshot(str(path)).proof
    assert proof is not None
    return proof


# ---- the record and its dump line -----------------------------------------------------


@pytest.mark.parametrize("path", [PVM, LAB_L1, LAB_NOSVM], ids=lambda p: p.name)
def test_dump_round_trip_keeps_the_proof(path: Path) -> None:
    snapshot = load_snapshot(str(path))
    again = parse_dump(format_dump(snapshot))
    assert again.proof == snapshot.proof
    assert ProofRecord.from_dict(json.loads(json.dumps(snapshot.proof.to_dict()))) == again.proof  # type: ignore[union-attr]


@pytest.mark.parametrize(("change", "problem"), [
    ({"outcome": "exploded"}, "outcome must be one of"),
    ({"step": 3}, "step must be one of"),
    ({"exits": -1}, "exits must be an integer in"),
    ({"exits": True}, "exits must be an integer in"),
    ({"exits": 1.5}, "exits must be an integer in"),
    ({"io_ticks": [1, "2"]}, "io_ticks must be a list"),
    ({"io_ticks": [2**64]}, "io_ticks must be a list"),
    ({"guest_loop_ticks": [1] * 17}, "holds at most 16"),
    ({"error": 2**63}, "error must be an integer in"),
    ({"surprise": 1}, "unknown surprise"),
])
def test_malformed_proof_records_are_refused_by_name(change: dict[str, object],
                                                     problem: str) -> None:
    data = _record(LAB_L1).to_dict() | change
    with pytest.raises(ValueError, match=problem):
        ProofRecord.from_dict(data)
    text = format_dump(load_snapshot(str(LAB_L1)))
    line = next(x for x in text.splitlines() if x.startswith("proof "))
    with pytest.raises(DumpFormatError, match="ProofRecord"):
        parse_dump(text.replace(line, "proof " + json.dumps(data)))


def test_proof_record_needs_its_three_words() -> None:
    with pytest.raises(ValueError, match="missing platform"):
        ProofRecord.from_dict({"outcome": "ran", "step": "done"})
    with pytest.raises(ValueError, match="JSON object"):
        ProofRecord.from_dict([1, 2])


def test_a_second_proof_line_or_bad_json_is_a_format_error() -> None:
    text = format_dump(load_snapshot(str(LAB_NOSVM)))
    line = next(x for x in text.splitlines() if x.startswith("proof "))
    with pytest.raises(DumpFormatError, match="one proof record"):
        parse_dump(text.replace(line, f"{line}\n{line}"))
    for bad in ("proof {", "proof [1]", 'proof {"exits": NaN}', "proof " + "[" * 100000):
        with pytest.raises(DumpFormatError):
            parse_dump(text.replace(line, bad))


# ---- what it means ----------------------------------------------------------------------


def test_pvm_run_is_emulated_and_names_pvm() -> None:
    report = load(PVM)
    proof = report.assessment.proof
    assert proof is not None
    assert proof.state == "emulated"
    assert proof.speed_ratio is not None
    assert proof.speed_ratio >= EMULATED_MIN
    assert "kvm_pvm" in proof.meaning
    assert "PVM" in proof.meaning
    assert "cannot run ordinary VMs" in proof.meaning
    verdict = report.verdicts["third-party"]
    assert (verdict.status, verdict.rule) == ("blocked", "proof-emulated")
    assert verdict.reasons[0].value == "emulated"
    assert "emulated" in render_text(report)


def test_lab_l1_run_is_proven_with_emulation_caveat() -> None:
    report = load(LAB_L1)
    proof = report.assessment.proof
    assert proof is not None
    assert proof.state == "proven"
    assert proof.speed_ratio is not None
    assert proof.speed_ratio <= CPU_SPEED_MAX
    assert "emulation figures" in proof.meaning  # the L1 is a TCG guest
    assert proof.witness is None  # an emulated OS's round trips witness nothing
    assert proof.io_round_trip_ticks
    assert proof.cpuid_round_trip_ticks
    verdict = report.verdicts["third-party"]
    assert (verdict.status, verdict.rule, verdict.remediation) == ("supported", "proof-ran", ())


def test_lab_guest_without_svm_keeps_its_verdict_and_says_why() -> None:
    report = load(LAB_NOSVM)
    without = build_report(replace(report.snapshot, proof=None))
    proof = report.assessment.proof
    assert proof is not None
    assert (proof.state, proof.step, proof.error) == ("unavailable", "open", "ENOENT")
    assert report.verdicts["third-party"].status == without.verdicts["third-party"].status
    assert report.verdicts["third-party"].reasons[0].source == "proof:kvm"


def test_speed_comes_from_ticks_and_round_trips_from_medians() -> None:
    record = _record(LAB_L1)
    ratio, guest_ns, native_ns = speed(record)
    assert ratio == min(record.guest_loop_ticks) / min(record.native_loop_ticks)
    assert guest_ns is not None
    assert native_ns is not None
    assert guest_ns / native_ns == pytest.approx(ratio)
    io, cpuid = round_trips(record)
    ordered = sorted(record.io_ticks)
    assert io == (ordered[99] + ordered[100]) / 2
    assert cpuid is not None
    assert cpuid > 0


def _as(record: ProofRecord, **changes: object) -> ProofRecord:
    return ProofRecord.from_dict(record.to_dict() | changes)


def test_failures_explain_themselves_and_change_an_exposed_verdict() -> None:
    base = _record(LAB_L1)
    report = load(LAB_L1)  # SVM exposed in this guest
    cases = {
        "fail-entry": ({"outcome": "fail-entry", "step": "run", "detail": 0x80000021},
                       "hardware_entry_failure_reason 0x80000021"),
        "shutdown": ({"outcome": "shutdown", "step": "run"}, "triple-faulted"),
        "timeout": ({"outcome": "timeout", "step": "run"}, "2000 ms watchdog"),
        "internal": ({"outcome": "internal-error", "step": "run", "detail": 1}, "suberror 1"),
        "refused": ({"outcome": "refused", "step": "create-vm", "error": 12},
                    "KVM_CREATE_VM failed (ENOMEM)"),
        "eacces": ({"outcome": "refused", "step": "open", "error": 13}, "may not open it"),
        "value": ({"outcome": "wrong-value", "step": "run", "value_seen": 0},
                  "translation is broken"),
    }
    for name, (changes, words) in cases.items():
        snapshot = replace(report.snapshot, proof=_as(base, **changes))
        failed = build_report(snapshot)
        proof = failed.assessment.proof
        assert proof is not None, name
        assert proof.state == "failed", name
        assert words in proof.meaning, (name, proof.meaning)
        verdict = failed.verdicts["third-party"]
        assert (verdict.status, verdict.rule) == ("blocked", "proof-failed"), name
        SCHEMA.validate(report_to_dict(failed))


def test_windows_without_the_platform_gets_its_fix() -> None:
    base = _record(LAB_NOSVM)
    record = _as(base, platform="whp", outcome="unavailable", step="load-library", error=126)
    proof = assess_proof(record)
    assert proof.state == "unavailable"
    assert proof.fix == FIX_WHP
    assert proof.error == "Win32 error 126"
    report = build_report(replace(load_snapshot(str(LAB_NOSVM)), proof=record))
    fixes = report.verdicts["third-party"].remediation
    assert fixes[0].id == "windows-hypervisor-platform"
    assert FIX_WHP in fixes[0].steps
    no_hv = assess_proof(_as(base, platform="whp", outcome="no-hypervisor",
                             step="get-capability", error=0))
    assert no_hv.state == "unavailable"
    assert "hypervisorlaunchtype" in (no_hv.fix or "")


def test_ran_without_a_native_loop_is_inconclusive() -> None:
    record = _as(_record(LAB_L1), native_loop_ticks=[], native_loop_ns=[])
    assert assess_proof(record).state == "inconclusive"
    slow = _as(_record(LAB_L1), guest_loop_ticks=[x * 5 for x in _record(LAB_L1).guest_loop_ticks])
    assert assess_proof(slow).state == "inconclusive"


def test_witness_reads_the_created_guests_exits_one_level_down() -> None:
    base = _record(LAB_L1)
    hz = base.tsc_hz
    assert hz is not None
    io = int(sorted(base.io_ticks)[100])

    def with_cpuid(ticks: int) -> str | None:
        batch = [io + ticks * base.cpuid_per_batch] * len(base.batch_ticks)
        return assess_proof(_as(base, batch_ticks=batch)).witness

    scale = hz / 2.6e9
    assert with_cpuid(int(1_100 * scale)) == "l1-hardware"  # LKML-NOAPIC's L1 CPUID exit
    assert with_cpuid(int(12_000 * scale)) == "nested"  # inside L-EVMCS's L2 figures


# ---- the headline: proof beats inference ------------------------------------------------


VMX, HV_BIT = 1 << 5, 1 << 31
#: Leaf 1's features physical Intel CPUs report with VT-x (decode/masks.py): no mask shows.
_NATIVE_ECX = sum(1 << b.bit for b in INTEL_MASK if b.register == "ecx")
_NATIVE_EDX = sum(1 << b.bit for b in INTEL_MASK if b.register == "edx")


def _sig(text: str) -> tuple[int, int, int]:
    b, c, d = struct.unpack("<3I", text.encode().ljust(12, b"\0"))
    return b, c, d


def _built(*, ecx1: int, signature: str | None = None, ebx3: int = 0) -> Snapshot:
    """An Intel snapshot with VT-x's companions native; ``signature``: a hypervisor's
    (``Microsoft Hv`` with ``Hv#1`` and 0x40000003's privileges ``ebx3``)."""
    leaves = {(0, 0): Registers(0x16, *_sig("GenuineIntel")),
              (1, 0): Registers(0x50654, 0, ecx1 | _NATIVE_ECX, _NATIVE_EDX)}
    if signature is not None:
        hv1 = 0x31237648 if signature == "Microsoft Hv" else 0
        leaves[(0x40000000, 0)] = Registers(0x40000006, *_sig(signature))
        leaves[(0x40000001, 0)] = Registers(hv1, 0, 0, 0)
        leaves[(0x40000003, 0)] = Registers(0, ebx3, 0, 0)
    return Snapshot(cpuid_status="ok", cpuid=CpuidTable(leaves),
                    os=OsFacts(system="Linux", machine="x86_64", files={}))


#: A KVM guest VT-x reaches (exposed, not emulated), and a machine CPUID shows as bare metal.
KVM_GUEST = _built(ecx1=VMX | HV_BIT, signature="KVMKVMKVM")
BARE = _built(ecx1=VMX)


def test_a_proof_at_cpu_speed_where_cpuid_hides_the_extension_says_vms_run_here() -> None:
    """The PVM machine's CPUID (AMD-V not passed) with a run at CPU speed: the headline is
    "proven", names what CPUID claimed, and third-party is supported."""
    snapshot = replace(load_snapshot(str(PVM)), proof=_record(LAB_L1))
    without = build_report(replace(snapshot, proof=None))
    report = build_report(snapshot)
    headline = report.verdicts.headline
    assert without.verdicts.headline.case == "not-passed"
    assert (headline.case, headline.answer, headline.claimed) == ("proven", "yes", "not-passed")
    words = answer(report)
    assert words.startswith("Yes, proven: a VM created here ran its guest at CPU speed")
    assert "CPUID does not show AMD-V reaching this OS" in words
    assert report.verdicts["third-party"].rule == "proof-ran"
    assert report.assessment.facts.proof.value is report.assessment.proof
    assert {e.kind for e in headline.evidence} >= {"vm", "cpuid"}


def test_an_emulated_proof_never_says_this_machine_runs_ordinary_vms() -> None:
    for snapshot in (load_snapshot(str(PVM)),  # AMD-V not passed, /dev/kvm is PVM
                     replace(load_snapshot(str(LAB_L1)), proof=_record(PVM))):  # exposed
        report = build_report(snapshot)
        headline = report.verdicts.headline
        assert (headline.case, headline.answer) == ("proof-emulated", "no")
        words = answer(report)
        assert words.startswith("No: a VM created here ran, but emulated")
        assert "cannot run ordinary VMs" in words
        assert not re.search(r"\b(Yes|can host|can run VMs|proven)\b", words), words
        assert report.verdicts["third-party"].status == "blocked"
    assert "PVM" in answer(load(PVM))


@pytest.mark.parametrize(("changes", "call", "words"), [
    ({"outcome": "fail-entry", "step": "run", "detail": 0x80000021}, "KVM_RUN",
     "hardware_entry_failure_reason 0x80000021"),
    ({"outcome": "refused", "step": "create-vm", "error": 1}, "KVM_CREATE_VM: EPERM",
     "KVM_CREATE_VM failed (EPERM)"),
    ({"outcome": "internal-error", "step": "run", "detail": 1}, "KVM_RUN", "suberror 1"),
])
def test_a_failed_proof_where_cpuid_says_exposed_is_nesting_switched_on_but_broken(
        changes: dict[str, object], call: str, words: str) -> None:
    """A KVM guest VT-x reaches, not emulated; the lab's record, failing as named."""
    snapshot = replace(KVM_GUEST, proof=_as(_record(LAB_L1), **changes))
    report = build_report(snapshot)
    headline = report.verdicts.headline
    assert report.assessment.facts.exposed.value is True
    assert (headline.case, headline.answer, headline.proof_call) == ("proof-failed", "no", call)
    text = answer(report)
    assert text.startswith("No: nesting is switched on but broken")
    assert call in text
    assert words in text
    assert report.verdicts["third-party"].rule == "proof-failed"


def test_a_refused_dev_kvm_is_this_os_s_to_fix_not_broken_nesting() -> None:
    snapshot = replace(KVM_GUEST, proof=_as(_record(LAB_L1), outcome="refused",
                                                  step="open", error=13))
    report = build_report(snapshot)
    headline = report.verdicts.headline
    assert (headline.case, headline.layer) == ("proof-failed", "this-os")
    assert "open(/dev/kvm): EACCES" in answer(report)
    assert "broken" not in answer(report)


def test_a_failed_proof_where_nothing_is_exposed_keeps_the_inferred_case() -> None:
    report = load(LAB_NOSVM)
    assert report.verdicts.headline.case == "emulated"
    assert report.verdicts.headline.claimed is None


def test_the_proof_is_a_fact_of_kind_vm_and_absent_without_prove() -> None:
    report = load(PVM)
    fact = report.assessment.facts.proof
    assert fact.value is not None
    assert fact.value.state == "emulated"
    assert fact.of_kind("vm")
    assert fact.evidence[0].source == "proof:kvm"
    plain = build_report(replace(load_snapshot(str(PVM)), proof=None))
    assert plain.assessment.facts.proof.value is None
    assert plain.verdicts.headline.case == "not-passed"


# ---- the created guest's exits as a nesting witness ------------------------------------


def _witnessed(cpuid_ref_ticks: int, snapshot: Snapshot) -> Report:
    """``snapshot`` with the lab record rescaled so its CPUID exit costs ``cpuid_ref_ticks``
    at the bands' 2.6 GHz reference (a run at CPU speed on a not-emulated OS)."""
    base = _record(LAB_L1)
    hz = base.tsc_hz
    assert hz is not None
    io = int(sorted(base.io_ticks)[100])
    ticks = int(cpuid_ref_ticks * hz / 2.6e9)
    batch = [io + ticks * base.cpuid_per_batch] * len(base.batch_ticks)
    return build_report(replace(snapshot, proof=_as(base, batch_ticks=batch)))


def test_nested_exits_of_the_created_guest_find_a_hidden_hypervisor_below_cpuid() -> None:
    """No hypervisor bit, VT-x exposed (native features): CPUID says level 0. A created
    guest whose exits cost nested figures unfixes it (likely 1), never raising at_least."""
    bare = BARE
    assert build_report(bare).assessment.nesting.level == 0
    hidden = _witnessed(12_000, bare)
    nesting = hidden.assessment.nesting
    assert (nesting.level, nesting.at_least, nesting.likely) == (None, 0, 1)
    assert nesting.confidence in ("low", "none")
    assert any(e.source == "proof:witness" and e.kind == "timing" for e in nesting.evidence)
    assert hidden.verdicts.headline.hides_below
    assert "a hypervisor that shows itself nowhere runs below this OS" in answer(hidden)
    single = _witnessed(1_100, bare).assessment.nesting
    assert (single.level, single.at_least, single.likely) == (0, 0, 0)


def test_the_witness_ranks_below_cpuid() -> None:
    """CPUID shows a guest (the lab L1's signature, as KVM): single-level exits of the
    created guest never lower what CPUID proves; nested ones never fix a level."""
    guest = KVM_GUEST
    cpuid_only = build_report(guest).assessment.nesting
    low = _witnessed(1_100, guest).assessment.nesting
    assert (low.level, low.at_least, low.likely) == (
        cpuid_only.level, cpuid_only.at_least, cpuid_only.likely)
    assert any("CPUID wins" in e.claim for e in low.evidence)
    high = _witnessed(12_000, guest).assessment.nesting
    assert high.level is None
    assert high.at_least == cpuid_only.at_least


def test_the_witness_never_unfixes_a_level_cpuid_fixed() -> None:
    """A Hyper-V root partition (0x40000003 CreatePartitions + CpuManagement): level 0 by
    CPUID; a created guest with nested-looking exits leaves it at 0, saying CPUID wins."""
    root = _built(ecx1=HV_BIT, signature="Microsoft Hv", ebx3=1 | 1 << 12)
    assert build_report(root).assessment.nesting.level == 0
    nesting = _witnessed(12_000, root).assessment.nesting
    assert (nesting.level, nesting.at_least, nesting.likely) == (0, 0, 0)
    assert any("CPUID wins" in e.claim for e in nesting.evidence)


def test_an_emulated_os_s_exits_witness_nothing() -> None:
    report = load(LAB_L1)
    assert report.assessment.proof is not None
    assert report.assessment.proof.witness is None
    assert not any(e.source == "proof:witness" for e in report.assessment.nesting.evidence)


# ---- the command line --------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nestprobe", *args], capture_output=True,
                          text=True, check=False, timeout=120)


@pytest.mark.parametrize(("path", "code", "state"), [
    (LAB_L1, 0, "proven"), (PVM, 1, "emulated"), (LAB_NOSVM, 1, "unavailable"),
])
def test_check_replays_the_dumps_proof(path: Path, code: int, state: str) -> None:
    done = _cli("check", "third-party", "--from", str(path), "--prove", "--json")
    assert done.returncode == code, done.stderr
    report = json.loads(done.stdout)
    SCHEMA.validate(report)
    assert report["schema_version"] == 3
    assert report["proof"]["state"] == state
    assert report["proof"]["record"] == _record(path).to_dict()


def test_prove_with_a_dump_without_proof_says_so(tmp_path: Path) -> None:
    plain = tmp_path / "plain.dump"
    plain.write_text(format_dump(replace(load_snapshot(str(PVM)), proof=None)))
    done = _cli("report", "--from", str(plain), "--prove", "--json")
    assert done.returncode == 0
    assert json.loads(done.stdout)["proof"] is None
    assert "carries no proof record" in done.stderr


def test_without_prove_a_live_report_has_no_proof() -> None:
    done = _cli("--json", "--no-timing")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["proof"] is None


@pytest.mark.skipif(sys.platform != "linux", reason="the live KVM proof is Linux's")
def test_live_prove_is_in_text_json_and_dump(tmp_path: Path) -> None:
    done = _cli("--json", "--no-timing", "--prove")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    SCHEMA.validate(report)
    assert report["proof"]["record"]["platform"] == "kvm"
    dump = tmp_path / "live.dump"
    made = _cli("dump", "--no-timing", "--prove")
    assert made.returncode == 0, made.stderr
    dump.write_text(made.stdout)
    assert load_snapshot(str(dump)).proof is not None
    text = _cli("--from", str(dump), "-v")
    assert "Proof" in text.stdout
    assert "Proof:" in render_verbose(load(dump)) or "Proof " in render_verbose(load(dump))


@pytest.mark.skipif(not shutil.which("make") or not shutil.which("cc") or sys.platform != "linux",
                    reason="builds the standalone dumper")
def test_standalone_dumper_writes_the_same_record(tmp_path: Path) -> None:
    from nestprobe.native.proof import DEFAULT_PROOF_PLAN

    src = tmp_path / "csrc"
    shutil.copytree(ROOT / "csrc", src, ignore=shutil.ignore_patterns(
        "nestprobe-dump", "nestprobe-bench", "*.exe", "*.o", "*.so"))
    subprocess.run(["make", "-C", str(src), "nestprobe-dump"], check=True, capture_output=True)
    done = subprocess.run([str(src / "nestprobe-dump"), "--prove"], capture_output=True,
                          text=True, check=True, timeout=60)
    record = parse_dump(done.stdout).proof
    assert record is not None
    plan = DEFAULT_PROOF_PLAN
    assert (record.limit_ms, record.value_sent, record.loop_iterations,
            record.cpuid_per_batch) == (plan.limit_ms, plan.value, plan.loop_iterations,
                                        plan.cpuid_per_batch)
    if record.outcome == "ran":
        assert len(record.guest_loop_ticks) == plan.loop_rounds
        assert len(record.io_ticks) == plan.io_exits
        assert len(record.batch_ticks) == plan.cpuid_batches


def test_a_nested_witness_where_no_hypervisor_shows_says_one_hides() -> None:
    base = _record(LAB_L1)
    hz = base.tsc_hz
    assert hz is not None
    io = int(sorted(base.io_ticks)[100])
    batch = [io + int(12_000 * hz / 2.6e9) * base.cpuid_per_batch] * len(base.batch_ticks)
    record = _as(base, batch_ticks=batch)
    hidden = assess_proof(record, hypervisor_seen=False)
    assert hidden.witness == "nested"
    assert "one hides below it" in (hidden.witness_text or "")
    assert "hides" not in (assess_proof(record).witness_text or "")


def test_a_whp_partition_that_ran_speaks_for_the_windows_hypervisor() -> None:
    proof = assess_proof(_as(_record(LAB_L1), platform="whp"))
    assert proof.state == "proven"
    assert "the Windows hypervisor runs VMs here" in proof.meaning
    assert proof.summary.startswith("proven: a WHP partition")


def test_a_locked_dev_kvm_where_amd_v_is_exposed_is_blocked_with_its_fix() -> None:
    report = load(LAB_L1)
    record = _as(_record(LAB_L1), outcome="refused", step="open", error=13)
    locked = build_report(replace(report.snapshot, proof=record))
    verdict = locked.verdicts["third-party"]
    assert (verdict.status, verdict.rule) == ("blocked", "proof-failed")
    assert verdict.remediation[0].id == "kvm-access"
    assert "group that owns /dev/kvm" in locked.assessment.proof.fix  # type: ignore[union-attr,operator]
