"""Facts carry their own evidence (issue 17): every assessment's facts, over every input the
tests have (the repository's fixtures; the corpus where it is beside the clone)."""

from __future__ import annotations

from collections.abc import Callable
from typing import get_args

import pytest
from report_digest import inputs

from nestprobe.model.evidence import Evidence, EvidenceKind, kind_of
from nestprobe.model.fact import Fact
from nestprobe.model.facts import Facts
from nestprobe.model.record import fields
from nestprobe.model.report import Report
from nestprobe.model.verdicts import HEADLINE_CASES

INPUTS = list(inputs())


def _parts(report: Report) -> set[Evidence]:
    a = report.assessment
    found = {e for part in (a.cpu, a.hypervisor, a.virtualization, a.environment, a.nesting)
             for e in part.evidence}
    if a.hypervisor.hyperv is not None:
        found |= set(a.hypervisor.hyperv.evidence)
    return found


@pytest.mark.parametrize(("name", "make"), INPUTS, ids=[n for n, _ in INPUTS])
def test_every_fact_cites_only_evidence_its_assessment_recorded(
        name: str, make: Callable[[], Report]) -> None:
    report = make()
    recorded = _parts(report)
    for spec in fields(Facts):
        fact = getattr(report.assessment.facts, spec.name)
        assert isinstance(fact, Fact)
        invented = [e for e in fact.evidence if e not in recorded]
        assert not invented, f"{name}: {spec.name} cites {invented}"


@pytest.mark.parametrize(("name", "make"), INPUTS, ids=[n for n, _ in INPUTS])
def test_every_observation_says_its_kind(name: str, make: Callable[[], Report]) -> None:
    """The kind vocabulary covers every source the stages below write."""
    report = make()
    unnamed = [e.source for e in _parts(report) if e.kind == "derived"]
    assert not unnamed, f"{name}: sources without a kind: {unnamed}"
    assert report.verdicts.headline.case in HEADLINE_CASES
    assert report.verdicts.headline.case != "unknown"


@pytest.mark.parametrize(("source", "kind"), [
    ("CPUID.0x1:ECX[5]", "cpuid"), ("/proc/cpuinfo:flags", "os-file"),
    ("ioctl(/dev/kvm, KVM_GET_API_VERSION)", "kvm"), ("timing:band", "timing"),
    ("registry:HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\EditionID", "registry"),
    ("winapi:GetActiveProcessorCount", "winapi"), ("bcd:{default}:hypervisorlaunchtype", "bcd"),
    ("DMI.1:Product Name", "smbios"), ("systeminfo:OS Name", "paste"),
    ("msinfo32:Total Physical Memory", "paste"), ("uname:sysname", "os"),
    ("cpuid-status", "status"), ("MS-ENABLE", "derived"),
])
def test_kind_follows_from_the_source(source: str, kind: EvidenceKind) -> None:
    assert kind in get_args(EvidenceKind)
    assert kind_of(source) == kind
    assert Evidence("c", source, 1).kind == kind
    assert Evidence("c", source, 1, kind="document").kind == "document"  # a producer may say


def test_kind_is_not_in_the_json_rendering_nor_in_equality() -> None:
    a = Evidence("c", "CPUID.0x1:ECX[5]", 1)
    b = Evidence("c", "CPUID.0x1:ECX[5]", 1, kind="derived")
    assert a == b
    assert a.to_dict() == {"claim": "c", "source": "CPUID.0x1:ECX[5]", "value": 1}


def test_a_fact_narrows_its_evidence_by_kind() -> None:
    cpuid, kernel = Evidence("vmx", "CPUID.0x1:ECX[5]", 1), Evidence("f", "/proc/cpuinfo", "x")
    fact = Fact(True, (cpuid, kernel))
    assert fact.of_kind("cpuid") == (cpuid,)
    assert fact.of_kind("os-file", "cpuid") == (cpuid, kernel)


#: Headline cases that name what this machine is, and the matrix rules (by id prefix) that
#: decide the verdicts for that same case: the two must never disagree.
SAME_CASE: dict[tuple[str, ...], tuple[str, ...]] = {
    ("dom0", "dom0-nested"): ("xen-dom0",),
    ("xen-pv",): ("xen-pv",),
    ("emulated", "emulated-software"): ("emulator",),
    ("root-or-guest",): ("root-or-guest",),
    ("root-partition",): ("hyperv-root",),
}


def headline_agrees_with_verdicts(report: Report) -> list[str]:
    case = report.verdicts.headline.case
    rules = [v.rule for v in report.verdicts]
    wrong = []
    for cases, prefixes in SAME_CASE.items():
        ruled = [r.startswith(prefixes) for r in rules]
        if case in cases and not all(ruled):
            wrong.append(f"headline {case} but rules {rules}")
        if case not in cases and any(ruled):
            wrong.append(f"rules {rules} but headline {case}")
    return wrong


@pytest.mark.parametrize(("name", "make"), INPUTS, ids=[n for n, _ in INPUTS])
def test_the_headline_and_the_verdicts_name_the_same_case(
        name: str, make: Callable[[], Report]) -> None:
    assert not headline_agrees_with_verdicts(make())
