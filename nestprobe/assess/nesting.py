"""Nesting level: how many VMs this OS runs inside, and how sure we are.

``level`` is set only when the evidence fixes it; ``at_least`` is what CPUID (or the OS)
proves; ``likely`` is the best estimate, which CPUID exit latency may raise but never
lower below ``at_least``. Timing never raises ``level`` or ``at_least``.

Rules (TLFS-NV levels, TLFS-FD HV_X64_HYPERV_NESTED; the rest [D]; keys in docs/sources.md):

* no hypervisor (bit clear, no signature, no OS signal): level 0 as CPUID shows it,
  confidence high, not certain (VirtualBox's legacy paravirt mode hides the bit);
  a VM-like exit latency then unfixes the level.
* positive evidence of a hypervisor that hides itself (identity's ``hidden``: the
  co-masked features on a CPU that has VT-x/AMD-V, a virtual-only CPU name, VM-like
  exit latency): no level, at least 0, likely 1, low confidence.
* a Xen dom0 is Xen's control domain: no level is fixed, at least 0, likely 0, medium
  (Xen sets the hypervisor bit nested or not, so nothing shows whether Xen itself is
  nested; xen-devel "Detecting whether dom0 is in a VM", 2023). When another product's
  signature reaches a PV dom0's CPUID (Xen does not always intercept a PV kernel's
  CPUID), Xen runs on that product: at least 1.
* Hyper-V root partition: level 0, unless 0x40000004.EAX[12] (HV_X64_HYPERV_NESTED)
  says the hypervisor is itself inside a Hyper-V partition: then this root is a
  Windows host inside a VM, level 1.
* a guest: at least 1; at least 2 when its Microsoft hypervisor reports itself nested.
* under a CPU emulator (QEMU TCG) exit timing means nothing and is ignored.
* a VM created here (``--prove``) that ran at CPU speed is a witness one level down: its
  CPUID exits read against the same bands (assess/proof.py) put its guest at band.likely,
  so this OS one level above. Ranked below CPUID, like this OS's own timing: it may raise
  ``likely`` (and so unfix a level CPUID read as 0: a hypervisor that hides itself but
  passes VT-x is found out), never ``level`` nor ``at_least``; where it says less than
  CPUID proves, CPUID wins.
* replayed dumps carry their LatencyRecord or none; without one, likely = at_least.
"""

from __future__ import annotations

from nestprobe.assess.bands import BANDS, BandCall, classify, lower
from nestprobe.assess.hypervisor import HIDDEN_WITNESS_SOURCES
from nestprobe.decode.signatures import vendor_name
from nestprobe.model.assessment import (
    Confidence,
    Environment,
    HypervisorFacts,
    HypervisorInterface,
    Nesting,
)
from nestprobe.model.evidence import Evidence, cpuid_source
from nestprobe.model.latency import LatencyRecord
from nestprobe.model.proof import ProofAssessment
from nestprobe.model.record import replace
from nestprobe.model.snapshot import Snapshot


def hyperv_nested(hypervisor: HypervisorFacts) -> tuple[bool, Evidence] | None:
    """HV_X64_HYPERV_NESTED as assess/hyperv.py read it, or None when the leaf is absent."""
    hv = hypervisor.hyperv
    if hv is None or hv.nested is None:
        return None
    from nestprobe.assess.hyperv import NESTED_BIT  # imported already: it read hv.nested

    source = cpuid_source(hv.base + 4, "eax", NESTED_BIT)
    return hv.nested, next(e for e in hv.evidence if e.source == source)


def root_evidence(hypervisor: HypervisorFacts) -> list[Evidence]:
    """CreatePartitions and CpuManagement (0x40000003.EBX[0], [12]): Linux's root rule."""
    hv = hypervisor.hyperv
    if hv is None:
        return [*hypervisor.evidence]
    wanted = (cpuid_source(hv.base + 3, "ebx", 0), cpuid_source(hv.base + 3, "ebx", 12))
    return [e for e in hv.evidence if e.source in wanted]


def guest_evidence(hypervisor: HypervisorFacts) -> list[Evidence]:
    """The signature that shows a hypervisor, or the identity evidence when none does."""
    if hypervisor.interfaces:
        first = hypervisor.interfaces[0]
        who = vendor_name(hypervisor.vendor) or "a hypervisor"
        return [Evidence(f"this OS is a guest of {who}",
                         f"CPUID.{first.base:#x}:EBX,ECX,EDX", first.signature)]
    return [*hypervisor.evidence]


def timing_evidence(record: LatencyRecord, call: BandCall) -> list[Evidence]:
    """The measured figures behind a timing conclusion."""
    found = [
        Evidence("CPUID exit latency (min over batches of p10)", "timing:cpuid_ticks",
                 record.cpuid_ticks),
        Evidence("empty-bracket baseline", "timing:baseline_ticks", record.baseline_ticks),
        Evidence("median CPUID latency", "timing:median_ticks", record.median_ticks),
    ]
    if call.net_ns is not None:
        found.append(Evidence("net CPUID exit latency in ns", "timing:cpuid_ns",
                              round(call.net_ns, 1)))
    if record.tsc_hz is not None:
        found.append(Evidence(f"TSC frequency ({record.tsc_hz_source})", "timing:tsc_hz",
                              round(record.tsc_hz)))
    band = call.band
    upper = f"{band.high:,.0f}" if band.high is not None else "∞"
    found.append(Evidence(
        f"latency band {band.name} ({band.low:,.0f}-{upper} ticks at 2.6 GHz): "
        f"{band.meaning}; suggests level {call.likely}, confidence {call.confidence}"
        + ("; lowered: samples were noisy" if call.noisy else ""),
        "timing:band", band.name,
    ))
    return found


def _no_cpuid(snapshot: Snapshot, hypervisor: HypervisorFacts,
              environment: Environment | None) -> Nesting:
    detail = snapshot.cpuid_detail or f"CPUID status {snapshot.cpuid_status}"
    status = Evidence(f"CPUID is not available: {detail}", "CPUID", snapshot.cpuid_status,
                      kind="status")
    if environment is not None and environment.xen_domain == "dom0":
        # /sys/hypervisor shows Xen, which a dom0 always has: no level from it (18.12).
        return _dom0(hypervisor, environment, status, [status])
    evidence = [status, *hypervisor.evidence]
    if hypervisor.partition == "root-or-guest":  # level 0 if the root partition, else >= 1
        return Nesting(level=None, at_least=0, likely=None, confidence="none",
                       evidence=tuple(evidence))
    if hypervisor.partition == "root":
        # A paste's root partition (physical DMI names and a hypervisor reported): level 0
        # rests on DMI naming hardware, as for a root seen through CPUID without Hyper-V's
        # leaves (_guest); never "at least 1", which would put the host inside a VM.
        return Nesting(level=0, at_least=0, likely=0, confidence="medium",
                       evidence=tuple(evidence))
    if hypervisor.detected:  # an OS signal (DMI, /sys/hypervisor) still shows a hypervisor
        return Nesting(level=None, at_least=1, likely=1, confidence="low",
                       evidence=tuple(evidence))
    if hypervisor.hidden:  # the kernel's view shows a hypervisor's mask
        return Nesting(level=None, at_least=0, likely=1, confidence="low",
                       evidence=tuple(evidence))
    return Nesting(level=None, at_least=0, likely=None, confidence="none",
                   evidence=tuple(evidence))


def _timing(
    snapshot: Snapshot, hypervisor: HypervisorFacts
) -> tuple[BandCall | None, list[Evidence]]:
    """The band call when timing may speak, with the evidence either way."""
    record = snapshot.latency
    if record is None:
        return None, [Evidence("no exit-latency measurement in this snapshot",
                               "timing:cpuid_ticks", None)]
    if hypervisor.emulated:
        return None, [Evidence("timing ignored: a CPU emulator's latency says nothing about "
                               "nesting", "timing:cpuid_ticks", record.cpuid_ticks)]
    call = classify(record)
    return call, timing_evidence(record, call)


def _below_xen(hypervisor: HypervisorFacts) -> HypervisorInterface | None:
    """Another product's signature under Xen (assess/hypervisor.py ``_xen_on_top``)."""
    if hypervisor.vendor != "xen":
        return None
    return next((i for i in hypervisor.interfaces if i.vendor_id not in (None, "xen")), None)


def _dom0(hypervisor: HypervisorFacts, environment: Environment, bit: Evidence,
          timed: list[Evidence]) -> Nesting:
    """Xen's control domain: no level the evidence cannot fix (a dom0 can itself be nested);
    at least 1 when CPUID shows another hypervisor below Xen."""
    dom0 = next((e for e in environment.evidence if e.source.startswith(
        ("/proc/xen", "/sys/hypervisor"))), bit)
    below = _below_xen(hypervisor)
    if below is not None:
        return Nesting(level=None, at_least=1, likely=1, confidence="medium", evidence=(
            dom0, Evidence(f"Xen's control domain, and Xen runs on another hypervisor: "
                           f"{below.vendor_id}'s signature reaches this PV kernel's CPUID",
                           f"CPUID.{below.base:#x}:EBX,ECX,EDX", below.signature), *timed))
    return Nesting(level=None, at_least=0, likely=0, confidence="medium", evidence=(
        dom0, Evidence("Xen's control domain; whether Xen itself runs in a VM nothing in a "
                       "dom0 shows (Xen sets the hypervisor bit either way): no level fixed",
                       "/proc/xen/capabilities", "dom0"), *timed))


def _unseen(hypervisor: HypervisorFacts, call: BandCall | None, bit: Evidence,
            timed: list[Evidence]) -> Nesting:
    """No hypervisor shows itself: level 0 unless timing or an emulator says otherwise."""
    evidence = [bit, Evidence("no hypervisor signature at any base and no OS signal",
                              "CPUID.0x40000000:EBX,ECX,EDX", None), *timed]
    if call is not None and call.likely > 0:
        evidence.append(Evidence(
            "CPUID shows no hypervisor but CPUID exits like a VM: a hypervisor may hide "
            "the bit (VirtualBox legacy paravirtualization does)", "timing:band",
            call.band.name))
        return Nesting(level=None, at_least=0, likely=call.likely,
                       confidence=lower(call.confidence), evidence=tuple(evidence))
    if hypervisor.emulated:
        # An emulator's CPUID describes the emulated CPU, not the machine it runs on.
        evidence.append(Evidence("CPU emulator: its CPUID says nothing about the machine "
                                 "underneath", "CPUID.0x0:EBX,EDX,ECX", True))
        return Nesting(level=None, at_least=0, likely=None, confidence="none",
                       evidence=tuple(evidence))
    return Nesting(level=0, at_least=0, likely=0, confidence="high", evidence=tuple(evidence))


def _guest(hypervisor: HypervisorFacts, call: BandCall | None, bit: Evidence,
           timed: list[Evidence]) -> Nesting:
    """A Hyper-V root (level 0, or 1 inside a VM) or a guest (at least 1; timing may say
    more, never less)."""
    nested = hyperv_nested(hypervisor)
    nested_evidence = [nested[1]] if nested is not None else []
    if hypervisor.partition == "root":
        evidence = [bit, *root_evidence(hypervisor), *nested_evidence, *timed]
        # TLFS: an "L2 Root" (Windows with Hyper-V inside a VM): its guests are level 2.
        level = 1 if nested is not None and nested[0] else 0
        # Without the hypervisor's leaves (a paste), level 0 rests on DMI naming hardware.
        sure: Confidence = "high" if hypervisor.hyperv is not None else "medium"
        return Nesting(level=level, at_least=level, likely=level, confidence=sure,
                       evidence=tuple(evidence))
    at_least = 2 if nested is not None and nested[0] else 1
    evidence = [bit, *guest_evidence(hypervisor), *nested_evidence, *timed]
    if call is None:
        # CPUID alone: the proven minimum, no more (most guests are L1, but nothing says so).
        confidence: Confidence = "medium" if at_least == 2 else "low"
        return Nesting(level=None, at_least=at_least, likely=at_least, confidence=confidence,
                       evidence=tuple(evidence))
    if call.likely < at_least:
        evidence.append(Evidence(
            f"timing suggests level {call.likely}, below what CPUID proves; CPUID wins",
            "timing:band", call.band.name))
        return Nesting(level=None, at_least=at_least, likely=at_least, confidence="low",
                       evidence=tuple(evidence))
    return Nesting(level=None, at_least=at_least, likely=call.likely,
                   confidence=call.confidence, evidence=tuple(evidence))


def _witnessed(nesting: Nesting, proof: ProofAssessment | None, seen: bool) -> Nesting:
    """``nesting`` with the created guest's exits as a witness ranked below CPUID: it may
    raise ``likely`` where no hypervisor shows itself (``seen``), never what CPUID fixed."""
    if proof is None or proof.witness is None:
        return nesting
    band = next(b for b in BANDS if b.name == proof.witness)
    here = max(band.likely - 1, 0)  # the created guest is one level below this OS
    timed = tuple(e for e in proof.evidence if e.kind == "timing")
    fixed = seen and nesting.level is not None and here != nesting.level
    if here < nesting.at_least or fixed:
        return replace(nesting, evidence=(*nesting.evidence, *timed, Evidence(
            f"the created guest's exits suggest this OS is at level {here}, not what CPUID "
            "shows; CPUID wins", "proof:witness", band.name, kind="timing")))
    if here == 0 or (nesting.likely is not None and here <= nesting.likely):
        return replace(nesting, evidence=(*nesting.evidence, *timed))
    return Nesting(level=None, at_least=nesting.at_least, likely=here,
                   confidence=lower(band.confidence), evidence=(*nesting.evidence, *timed, Evidence(
                       f"the created guest's exits suggest this OS is at level {here}: a "
                       "hypervisor runs below it, whether or not it shows itself (a witness "
                       "ranked below CPUID: the level is unfixed, never raised)",
                       "proof:witness", band.name, kind="timing")))


def assess_nesting(
    snapshot: Snapshot, hypervisor: HypervisorFacts, environment: Environment | None = None,
    proof: ProofAssessment | None = None,
) -> Nesting:
    """The nesting level of the OS that took ``snapshot``, with evidence (``proof``: a VM
    created here, whose exits are a witness one level down)."""
    return _witnessed(_nesting(snapshot, hypervisor, environment), proof, hypervisor.detected)


def _nesting(snapshot: Snapshot, hypervisor: HypervisorFacts,
             environment: Environment | None) -> Nesting:
    if snapshot.cpuid_status != "ok":
        return _no_cpuid(snapshot, hypervisor, environment)
    call, timed = _timing(snapshot, hypervisor)
    bit = Evidence("hypervisor bit", cpuid_source(0x1, "ECX", 31), hypervisor.bit)
    if hypervisor.hidden:
        witnesses = [e for e in hypervisor.evidence if e.source in HIDDEN_WITNESS_SOURCES]
        return Nesting(level=None, at_least=0, likely=1, confidence="low",
                       evidence=(bit, *witnesses, *timed, Evidence(
                           "no hypervisor shows itself, but one hides: no level can be fixed",
                           "CPUID.0x40000000:EBX,ECX,EDX", None)))
    if environment is not None and environment.xen_domain == "dom0":
        return _dom0(hypervisor, environment, bit, timed)
    if not hypervisor.detected:
        return _unseen(hypervisor, call, bit, timed)
    return _guest(hypervisor, call, bit, timed)
