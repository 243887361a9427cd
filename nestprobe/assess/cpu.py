"""Who the CPU is, with evidence: vendor, brand, family/model, what the cited tables say.

Reads CPUID only through ``snapshot.cpuid.get`` and OS files only through ``snapshot.os``.
Where CPUID has no leaf 1, the kernel's /proc/cpuinfo and then a pasted Windows tool fill
in what they show. The hypervisor's assessment (assess/hypervisor.py) reads this to see a
hypervisor that hides.
"""

from __future__ import annotations

from nestprobe.assess import winreported
from nestprobe.decode import cpu, cpuinfo, cpumodels, masks
from nestprobe.model.assessment import CpuIdentity, MaskState
from nestprobe.model.evidence import Evidence, cpuid_source
from nestprobe.model.record import Record
from nestprobe.model.snapshot import Registers, Snapshot

CPUINFO = cpuinfo.PATH
BRAND = "CPUID.0x80000002-0x80000004"
#: Where the co-masked features were read (decode/masks.py MaskReading.source).
MASK_READ = "CPUID.0x1:ECX,EDX"


def cpuid_unavailable(snapshot: Snapshot) -> Evidence | None:
    if snapshot.cpuid_status == "ok" and len(snapshot.cpuid):
        return None
    why = snapshot.cpuid_detail or f"CPUID status {snapshot.cpuid_status}"
    return Evidence("CPUID unavailable: CPU facts cannot be told", "cpuid-status", why)


class _Seen(Record):
    """What one witness (CPUID, the kernel, a Windows tool) showed of the CPU."""

    vendor: str | None = None
    brand: str | None = None
    family: int | None = None
    model: int | None = None
    stepping: int | None = None
    brand_source: str = BRAND
    family_source: str = cpuid_source(1, "eax")


def _from_cpuid(snapshot: Snapshot, leaf1: Registers | None, ev: list[Evidence]) -> _Seen:
    """Step 1: leaf 0's vendor, the brand string, leaf 1's signature."""
    table = snapshot.cpuid
    vendor = family = model = stepping = None
    leaf0 = table.get(0)
    if leaf0 is not None:
        vendor = cpu.vendor(leaf0)
        ev.append(Evidence(f"CPU vendor {vendor}", "CPUID.0x0:EBX,EDX,ECX", vendor))
    brand = cpu.brand_of(table)
    if brand is not None:
        ev.append(Evidence("CPU brand string", BRAND, brand))
    if leaf1 is not None:
        sig = cpu.signature(leaf1)
        family, model, stepping = sig.family, sig.model, sig.stepping
        ev.append(Evidence(
            f"family {family:#x} model {model:#x} stepping {stepping}",
            cpuid_source(1, "eax"), f"{leaf1.eax:#010x}",
        ))
    return _Seen(vendor, brand, family, model, stepping)


def _from_kernel(snapshot: Snapshot, seen: _Seen, ev: list[Evidence]) -> _Seen:
    """Step 2: /proc/cpuinfo fills what CPUID did not show."""
    text = cpuinfo.x86_text(snapshot.os)
    if text is None:
        return seen
    vendor, brand, brand_source = seen.vendor, seen.brand, seen.brand_source
    if vendor is None and (v := cpuinfo.field(text, "vendor_id")) is not None:
        vendor = v
        ev.append(Evidence(f"CPU vendor {v} (kernel's view)", f"{CPUINFO}:vendor_id", v))
    if brand is None and (b := cpuinfo.field(text, "model name")) is not None:
        brand, brand_source = b, f"{CPUINFO}:model name"
        ev.append(Evidence("CPU brand (kernel's view)", brand_source, b))
    if seen.family is not None:
        return _Seen(vendor, brand, seen.family, seen.model, seen.stepping, brand_source,
                     seen.family_source)
    return _Seen(vendor, brand, _int(cpuinfo.field(text, "cpu family")),
                 _int(cpuinfo.field(text, "model")), seen.stepping, brand_source,
                 f"{CPUINFO}:cpu family")


def _from_windows_tool(snapshot: Snapshot, seen: _Seen, ev: list[Evidence]) -> _Seen:
    """Step 3 (no leaf 1): what a pasted Windows tool printed of the CPU."""
    rep = winreported.reported_cpu(snapshot.os)
    if rep is None:
        return seen
    vendor, brand, brand_source = seen.vendor, seen.brand, seen.brand_source
    if vendor is None and rep.vendor is not None:
        vendor = rep.vendor
        ev.append(Evidence(f"CPU vendor {vendor} (as a Windows tool printed it)",
                           rep.source, vendor))
    if brand is None and rep.brand is not None:
        brand, brand_source = rep.brand, rep.source
        ev.append(Evidence("CPU brand (as a Windows tool printed it)", rep.source, brand))
    if rep.family is None:
        return _Seen(vendor, brand, seen.family, seen.model, seen.stepping, brand_source,
                     seen.family_source)
    ev.append(Evidence(f"family {rep.family} model {rep.model} stepping {rep.stepping} "
                       "(decimal, as Windows prints them)", rep.source,
                       f"{rep.family}/{rep.model}/{rep.stepping}"))
    return _Seen(vendor, brand, rep.family, rep.model, rep.stepping, brand_source, rep.source)


def assess_cpu(snapshot: Snapshot) -> CpuIdentity:
    """Vendor, brand, family/model, and what the cited tables say about this CPU."""
    ev: list[Evidence] = []
    leaf1 = snapshot.cpuid.get(1)
    seen = _from_kernel(snapshot, _from_cpuid(snapshot, leaf1, ev), ev)
    if leaf1 is None:
        seen = _from_windows_tool(snapshot, seen, ev)
    if (why := cpuid_unavailable(snapshot)) is not None:
        ev.append(why)

    virtual = cpumodels.virtual_model(seen.brand)
    expected = _extension_expected(seen.vendor, seen.family, seen.model, seen.brand,
                                   brand_source=seen.brand_source,
                                   family_source=seen.family_source,
                                   virtual=virtual is not None, ev=ev)
    if virtual is not None:
        ev.append(Evidence(f"a CPU name only virtual CPUs carry: {virtual.product} "
                           f"({virtual.source})", seen.brand_source, seen.brand))
    mask = _feature_mask(snapshot, seen.vendor, leaf1 is not None, ev)
    return CpuIdentity(seen.vendor, seen.brand, seen.family, seen.model, seen.stepping,
                       expected, virtual is not None, mask, tuple(ev))


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.strip().isdigit() else None


def _extension_expected(
    vendor: str | None, family: int | None, model: int | None, brand: str | None,
    *, brand_source: str, family_source: str, virtual: bool, ev: list[Evidence],
) -> str | None:
    """"all" when the CPU's series has VT-x/AMD-V on every SKU (and the name is no virtual
    CPU's: ``virtual``), "most" by generation."""
    series = cpumodels.series_of(brand)
    if series is not None and not virtual:
        ev.append(Evidence(f"{series.name}: every SKU has "
                           f"{'VT-x' if series.extension == 'vmx' else 'AMD-V'} ({series.source})",
                           brand_source, brand))
        return "all"
    gen = cpumodels.generation_of(vendor, family, model)
    if gen is not None:
        ext = "VT-x" if gen.extension == "vmx" else "AMD-V"
        ev.append(Evidence(f"{gen.name}: {gen.coverage} SKUs have {ext} ({gen.source})",
                           family_source, f"family {family:#x} model {model or 0:#x}"))
        return gen.coverage
    return None


def _feature_mask(
    snapshot: Snapshot, vendor: str | None, raw: bool, ev: list[Evidence],
) -> MaskState | None:
    """The features hypervisors hide with VT-x: cleared (masked) or there (native).

    Raw CPUID decides; the kernel's flags (derived from the same leaf) must not contradict
    a "masked" reading, so a partial or synthetic leaf 1 cannot invent a hypervisor.
    """
    text = cpuinfo.x86_text(snapshot.os)
    flags = cpuinfo.flags(text) if text is not None else None
    kernel = masks.read_flags(flags, vendor, f"{CPUINFO}:flags") if flags is not None else None
    reading = masks.read_cpuid(snapshot.cpuid, vendor) if raw else kernel
    if reading is None:
        return None
    if reading.state == "masked" and kernel is not None and kernel.state == "native":
        ev.append(Evidence("CPUID lacks the features hypervisors hide, but the kernel reports "
                           "them: decides nothing", kernel.source, "mixed", about="mask"))
        return "mixed"
    if reading.state == "masked":
        claim = ("the features hypervisors hide together with VT-x/AMD-V are missing: "
                 f"{', '.join(reading.absent)} ({masks.MASK_SOURCE})")
    elif reading.state == "native":
        claim = ("the features hypervisors hide together with VT-x/AMD-V are present, as on "
                 f"hardware: {', '.join(reading.present)}")
    else:
        claim = (f"the features hypervisors hide together are partly present "
                 f"({', '.join(reading.present)}): decides nothing")
    ev.append(Evidence(claim, reading.source, reading.state, about="mask"))
    return reading.state
