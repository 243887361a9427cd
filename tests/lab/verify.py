"""Compare what nestprobe concluded from a guest's dump with what its configuration must give."""

from __future__ import annotations

from operator import attrgetter

from nestprobe.model.assessment import Assessment
from nestprobe.model.snapshot import Snapshot
from nestprobe.model.verdicts import Verdicts

from .configs import Expect


def _flags(snapshot: Snapshot) -> set[str]:
    text = snapshot.os.text("/proc/cpuinfo") or ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return set(value.split())
    return set()


def lab_facts(snapshot: Snapshot, expect: Expect) -> list[str]:
    """The guest is configured as intended: the kernel's own view agrees with the table.

    Checked on /proc/cpuinfo, not on nestprobe's decoding, so a wrong QEMU option shows
    up as a lab problem rather than as a probe bug.
    """
    flags = _flags(snapshot)
    wrong = []
    if snapshot.cpuid_status != "ok":
        wrong.append(f"cpuid-status {snapshot.cpuid_status}")
    if not flags:
        wrong.append("no flags line in /proc/cpuinfo")
    for flag, want in (("hypervisor", expect.bit), ("svm", expect.svm), ("vmx", expect.vmx)):
        if (flag in flags) != want:
            wrong.append(f"/proc/cpuinfo flag {flag!r} present={flag in flags}, want {want}")
    if expect.svm and expect.slat is not None and ("npt" in flags) != expect.slat:
        wrong.append(f"/proc/cpuinfo flag 'npt' present={'npt' in flags}, want {expect.slat}")
    return wrong


#: Report field (attribute path on the Assessment) -> the Expect field it must equal.
FIELDS: tuple[tuple[str, str], ...] = (
    ("cpu.vendor", "cpu_vendor"),
    ("hypervisor.bit", "bit"),
    ("hypervisor.detected", "detected"),
    ("hypervisor.vendor", "vendor"),
    ("hypervisor.emulated", "emulated"),
    ("hypervisor.partition", "partition"),
    ("virtualization.vmx", "vmx"),
    ("virtualization.svm", "svm"),
    ("virtualization.exposed", "exposed"),
    ("virtualization.kvm_backend", "kvm_backend"),
    ("virtualization.kvm_nested_param", "kvm_nested_param"),
    ("virtualization.slat", "slat"),
)


def assessment(a: Assessment, expect: Expect) -> list[str]:
    """Every field of ``expect`` against the report; an empty list means all agree."""
    wrong = []
    for path, name in FIELDS:
        got, want = attrgetter(path)(a), getattr(expect, name)
        if name == "slat" and want is None:
            continue  # not asserted for this configuration
        if got != want:
            wrong.append(f"{path}: got {got!r}, want {want!r}")
    interfaces = tuple((i.base, i.vendor_id) for i in a.hypervisor.interfaces)
    if interfaces != expect.interfaces:
        got, want = _hex(interfaces), _hex(expect.interfaces)
        wrong.append(f"hypervisor.interfaces: got {got}, want {want}")
    return wrong + nesting(a, expect)


def _hex(interfaces: tuple[tuple[int, str | None], ...]) -> str:
    return "(" + ", ".join(f"{base:#x} {vendor}" for base, vendor in interfaces) + ")"


def nesting(a: Assessment, expect: Expect) -> list[str]:
    """No over-claim: at_least within what is provable, level only when true and provable."""
    nest = a.nesting
    wrong = []
    if nest.at_least not in expect.at_least:
        wrong.append(f"nesting.at_least: got {nest.at_least}, want one of {expect.at_least}")
    if nest.at_least > expect.provable:
        wrong.append(f"nesting.at_least {nest.at_least} exceeds what the dump can prove "
                     f"({expect.provable})")
    allowed: set[int | None] = {None}
    if expect.provable >= expect.true_level:
        allowed.add(expect.true_level)
    if nest.level not in allowed:
        wrong.append(f"nesting.level: got {nest.level}, the evidence allows only {allowed} "
                     f"(true level {expect.true_level}, provable {expect.provable})")
    if nest.likely is not None and nest.likely < nest.at_least:
        wrong.append(f"nesting.likely {nest.likely} below at_least {nest.at_least}")
    if nest.confidence == "certain" and nest.level != expect.true_level:
        wrong.append(f"nesting confidence 'certain' with level {nest.level}")
    return wrong


def conditions(verdicts: Verdicts) -> list[str]:
    """Every guest's verdicts carry checked conditions: a state each, with the evidence that
    decided it or where to confirm it, and no firmware fix first without positive evidence."""
    wrong = []
    if not any(v.conditions for v in verdicts):
        wrong.append("no verdict carries a condition")
    for verdict in verdicts:
        for c in verdict.conditions:
            if c.state not in ("met", "unmet", "unknown"):
                wrong.append(f"{verdict.scenario}: condition {c.id} state {c.state!r}")
            elif c.state == "unknown" and not c.confirm:
                wrong.append(f"{verdict.scenario}: condition {c.id} unknown, nowhere to confirm")
            elif c.state != "unknown" and not c.evidence:
                wrong.append(f"{verdict.scenario}: condition {c.id} {c.state} without evidence")
        if verdict.remediation and verdict.remediation[0].layer == "firmware":
            wrong.append(f"{verdict.scenario}: firmware first in a VM")
    return wrong
