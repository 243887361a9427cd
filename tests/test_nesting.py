"""Nesting level rules over snapshots and HypervisorFacts built here."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nestprobe.assess.bands import CONFIDENCE_ORDER
from nestprobe.assess.identity import assess_hypervisor
from nestprobe.assess.nesting import assess_nesting
from nestprobe.model.assessment import HypervisorFacts, HypervisorInterface, Nesting
from nestprobe.model.latency import LatencyRecord
from nestprobe.model.record import replace
from nestprobe.model.snapshot import CpuidStatus, CpuidTable, OsFacts, Registers, Snapshot

HV_INTERFACE = 0x31237648  # "Hv#1"


def sig(text: str) -> tuple[int, int, int]:
    a, b, c = struct.unpack("<3I", text.encode().ljust(12, b"\0"))
    return a, b, c


def table(*, hv_max: int | None = None, signature: str = "", extra: dict[int, Registers] | None
          = None, bit: bool = True) -> CpuidTable:
    leaves = {
        (0, 0): Registers(0x1C, *sig("AuthenticAMD")),
        (1, 0): Registers(0x00A10F11, 0, (1 << 31) if bit else 0, 0),
    }
    if hv_max is not None:
        leaves[(0x40000000, 0)] = Registers(hv_max, *sig(signature))
    for leaf, regs in (extra or {}).items():
        leaves[(leaf, 0)] = regs
    return CpuidTable(leaves)


def snapshot(cpuid: CpuidTable, latency: LatencyRecord | None = None,
             status: CpuidStatus = "ok") -> Snapshot:
    return Snapshot(cpuid_status=status, cpuid=cpuid if status == "ok" else CpuidTable(),
                    os=OsFacts(system="Linux", machine="x86_64"), latency=latency)


def latency(ticks: float, *, median: float | None = None,
            tsc_hz: float | None = 2.6e9) -> LatencyRecord:
    return LatencyRecord(
        cpuid_ticks=ticks + 26, median_ticks=median if median is not None else ticks + 80,
        p99_ticks=ticks * 1.3, baseline_ticks=26.0, tsc_hz=tsc_hz,
        tsc_hz_source="calibrated:CLOCK_MONOTONIC_RAW" if tsc_hz else None,
        tsc_quantum_ticks=26, samples=360, batches=3, leaves=(0, 1, 0x40000000), pinned_cpu=1,
    )


def facts(*, bit: bool | None = True, detected: bool = True, vendor: str | None = "kvm",
          interfaces: tuple[HypervisorInterface, ...] = (), partition: str | None = None,
          emulated: bool = False) -> HypervisorFacts:
    return HypervisorFacts(bit=bit, detected=detected, vendor=vendor, interfaces=interfaces,
                           partition=partition, emulated=emulated)  # type: ignore[arg-type]


KVM_IF = HypervisorInterface(base=0x40000000, max_leaf=0x40000001, signature="KVMKVMKVM\\x00"
                             "\\x00\\x00", vendor_id="kvm")
KVM_TABLE = table(hv_max=0x40000001, signature="KVMKVMKVM")
KVM = facts(interfaces=(KVM_IF,))
BARE_TABLE = table(bit=False)
BARE = facts(bit=False, detected=False, vendor=None)


def hyperv_table(*, root: bool, nested: bool, hv_max: int = 0x4000000A) -> CpuidTable:
    privileges = (1 | (1 << 12)) if root else 0  # CreatePartitions, CpuManagement
    return table(hv_max=hv_max, signature="Microsoft Hv", extra={
        0x40000001: Registers(HV_INTERFACE, 0, 0, 0),
        0x40000003: Registers(0x2FFF, privileges, 0, 0),
        0x40000004: Registers((1 << 12) if nested else 0, 0, 0, 0),
    })


def hyperv(table: CpuidTable) -> HypervisorFacts:
    """Hyper-V facts as identity reads them: 0x40000003/4 are read there, once."""
    return assess_hypervisor(snapshot(table))


def sources(result: Nesting) -> dict[str, object]:
    return {e.source: e.value for e in result.evidence}


# ---- no hypervisor ---------------------------------------------------------------------


def test_bare_metal_is_level_zero_high_not_certain() -> None:
    result = assess_nesting(snapshot(BARE_TABLE), BARE)
    assert (result.level, result.at_least, result.likely) == (0, 0, 0)
    assert result.confidence == "high"
    assert sources(result)["CPUID.0x1:ECX[31]"] is False


def test_bare_metal_timing_agrees() -> None:
    result = assess_nesting(snapshot(BARE_TABLE, latency(90)), BARE)
    assert result.level == 0
    assert sources(result)["timing:band"] == "bare-metal"


def test_hidden_bit_with_vm_like_timing_unfixes_the_level() -> None:
    result = assess_nesting(snapshot(BARE_TABLE, latency(9000)), BARE)
    assert result.level is None
    assert result.at_least == 0  # timing never proves a hypervisor
    assert result.likely == 2
    assert result.confidence == "low"
    assert any("hide" in e.claim for e in result.evidence)


# ---- Hyper-V root partition -----------------------------------------------------------


def test_root_partition_is_level_zero_even_with_exit_latency() -> None:
    snap = snapshot(hyperv_table(root=True, nested=False), latency(1200))
    result = assess_nesting(snap, hyperv(snap.cpuid))
    assert (result.level, result.at_least, result.likely) == (0, 0, 0)
    assert result.confidence == "high"
    found = sources(result)
    assert found["CPUID.0x40000003:EBX[12]"] == 1
    assert found["CPUID.0x40000004:EAX[12]"] == 0


def test_root_partition_of_a_nested_hypervisor_is_level_one() -> None:
    snap = snapshot(hyperv_table(root=True, nested=True), latency(9000))
    result = assess_nesting(snap, hyperv(snap.cpuid))
    assert (result.level, result.at_least, result.likely) == (1, 1, 1)
    assert sources(result)["CPUID.0x40000004:EAX[12]"] == 1


def test_guest_of_a_nested_hyperv_is_at_least_two() -> None:
    snap = snapshot(hyperv_table(root=False, nested=True), latency(1200))
    result = assess_nesting(snap, hyperv(snap.cpuid))
    assert result.level is None
    assert result.at_least == 2
    assert result.likely == 2  # L1-like timing cannot pull it below what CPUID proves
    assert result.confidence == "low"


def test_nested_bit_past_the_range_maximum_is_not_read() -> None:
    snap = snapshot(hyperv_table(root=False, nested=True, hv_max=0x40000003))
    result = assess_nesting(snap, hyperv(snap.cpuid))
    assert result.at_least == 1
    assert "CPUID.0x40000004:EAX[12]" not in sources(result)


# ---- guests and timing ----------------------------------------------------------------


def test_kvm_guest_at_nine_thousand_ticks_is_likely_level_two() -> None:
    """This development machine: a KVM guest whose CPUID costs ~9,000 ticks."""
    result = assess_nesting(snapshot(KVM_TABLE, latency(8996)), KVM)
    assert result.level is None
    assert result.at_least == 1
    assert result.likely == 2
    assert result.confidence == "medium"
    found = sources(result)
    assert found["timing:cpuid_ticks"] == 8996 + 26
    assert found["timing:band"] == "nested"
    assert found["timing:cpuid_ns"] == pytest.approx(8996 / 2.6, abs=0.1)
    assert found["CPUID.0x40000000:EBX,ECX,EDX"] == KVM_IF.signature


def test_kvm_guest_with_l1_timing_is_likely_level_one() -> None:
    result = assess_nesting(snapshot(KVM_TABLE, latency(1050)), KVM)
    assert (result.level, result.at_least, result.likely) == (None, 1, 1)
    assert result.confidence == "medium"


def test_replayed_dump_without_latency_claims_only_what_cpuid_shows() -> None:
    result = assess_nesting(snapshot(KVM_TABLE, None), KVM)
    assert (result.level, result.at_least, result.likely) == (None, 1, 1)
    assert result.confidence == "low"
    assert sources(result)["timing:cpuid_ticks"] is None


def test_emulator_timing_is_ignored() -> None:
    tcg = facts(vendor="qemu", emulated=True,
                interfaces=(replace(KVM_IF, signature="TCGTCGTCGTCG", vendor_id="qemu"),))
    result = assess_nesting(snapshot(KVM_TABLE, latency(25_000)), tcg)
    assert result.likely == 1
    assert "timing:band" not in sources(result)
    assert any("emulator" in e.claim for e in result.evidence)


def test_guest_with_bare_metal_timing_trusts_cpuid() -> None:
    result = assess_nesting(snapshot(KVM_TABLE, latency(80)), KVM)
    assert (result.at_least, result.likely, result.confidence) == (1, 1, "low")


def test_noisy_measurement_lowers_confidence() -> None:
    result = assess_nesting(snapshot(KVM_TABLE, latency(9000, median=30_000)), KVM)
    assert result.likely == 2
    assert result.confidence == "low"


def test_os_signal_only_guest() -> None:
    dmi_only = facts(bit=False, vendor="oracle")
    result = assess_nesting(snapshot(BARE_TABLE), dmi_only)
    assert result.at_least == 1
    assert result.level is None


# ---- CPUID unavailable ----------------------------------------------------------------


@pytest.mark.parametrize("status", ["not-x86", "faulting", "no-extension"])
def test_no_cpuid(status: CpuidStatus) -> None:
    unknown = assess_nesting(snapshot(CpuidTable(), status=status),
                             facts(bit=None, detected=False, vendor=None))
    assert (unknown.level, unknown.at_least, unknown.likely) == (None, 0, None)
    assert unknown.confidence == "none"
    signalled = assess_nesting(snapshot(CpuidTable(), status=status),
                               facts(bit=None, detected=True, vendor="xen"))
    assert (signalled.at_least, signalled.likely) == (1, 1)
    assert sources(signalled)["CPUID"] == status


# ---- timing never claims more than CPUID ------------------------------------------------

CASES = [
    (BARE_TABLE, BARE),
    (KVM_TABLE, KVM),
    *((t, hyperv(t)) for t in (hyperv_table(root=True, nested=False),
                               hyperv_table(root=True, nested=True),
                               hyperv_table(root=False, nested=True))),
]


@given(st.sampled_from(CASES), st.floats(0, 200_000), st.floats(1, 5),
       st.one_of(st.none(), st.floats(0.2e9, 8e9)))
def test_timing_never_raises_level_or_at_least(
    case: tuple[CpuidTable, HypervisorFacts], ticks: float, spread: float, hz: float | None
) -> None:
    cpuid, hv = case
    without = assess_nesting(snapshot(cpuid), hv)
    timed = assess_nesting(snapshot(cpuid, latency(ticks, median=ticks * spread, tsc_hz=hz)), hv)
    assert timed.at_least == without.at_least
    assert timed.level in (without.level, None)
    assert timed.likely is not None
    assert timed.likely >= timed.at_least
    assert timed.confidence in CONFIDENCE_ORDER


# ---- end to end with the identity engineer's facts ------------------------------------


@pytest.mark.native
def test_live_machine_is_consistent() -> None:
    identity = pytest.importorskip("nestprobe.assess.identity")
    from nestprobe.sources.live import live_snapshot

    snap = live_snapshot(timing=True)
    if snap.cpuid_status != "ok":
        pytest.skip("CPUID unavailable")
    hv = identity.assess_hypervisor(snap)
    result = assess_nesting(snap, hv)
    if hv.bit:
        assert result.at_least >= 1
        assert result.level is None or hv.partition == "root"
    if snap.latency is not None and not hv.emulated:
        assert "timing:band" in sources(result)


def test_an_emulator_without_hypervisor_bit_claims_no_level() -> None:
    """Windows-on-ARM's x86 emulator shows no hypervisor bit; that is not bare metal."""
    from conftest import DUMPS

    from nestprobe.assess.identity import assess_hypervisor
    from nestprobe.sources.load import load_snapshot

    dump = DUMPS / "instlatx64-woa-x86emu-AuthenticAMD0600F01_X1_x64_CPUID.txt"
    if not dump.exists():
        pytest.skip("corpus not found")
    snapshot = load_snapshot(str(dump))
    hypervisor = assess_hypervisor(snapshot)
    assert hypervisor.emulated
    nesting = assess_nesting(snapshot, hypervisor)
    assert nesting.level is None
    assert nesting.confidence == "none"


# ---- a hypervisor that hides itself, a Xen dom0 ----------------------------------------


def test_a_hidden_hypervisor_fixes_no_level() -> None:
    """The corpus's VirtualBox legacy guests read as level 0 before: now nothing is fixed."""
    table = CpuidTable({(0, 0): Registers(0xD, *sig("GenuineIntel")),
                        (1, 0): Registers(0x000306C3, 0, 0x56DA220B, 0x178BF9FF)})
    hidden = replace(BARE, hidden=True)
    result = assess_nesting(snapshot(table), hidden)
    assert (result.level, result.at_least, result.likely) == (None, 0, 1)
    assert result.confidence == "low"
    assert assess_nesting(snapshot(table), BARE).level == 0  # without the witness: level 0


def test_xen_dom0_is_the_control_domain() -> None:
    from nestprobe.model.assessment import Environment

    dom0 = Environment(os="Linux", machine="x86_64", xen_domain="dom0")
    xen = facts(vendor="xen")
    result = assess_nesting(snapshot(table()), xen, dom0)
    # A dom0 can itself be nested and nothing in it shows whether: no level is fixed.
    assert (result.level, result.at_least, result.confidence) == (None, 0, "medium")
