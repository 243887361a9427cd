"""Scan the 256 hypervisor bases and decode each interface's vendor leaves.

Every leaf is read through :meth:`CpuidTable.get`, so nothing past an interface's
maximum leaf is decoded. Which tables apply is decided by the signature's vendor id
and by the base+1 interface id (``Hv#1`` leaves are Hyper-V's whoever publishes them).
"""

from __future__ import annotations

from nestprobe.decode.bits import Decoded, LeafSpec, decode_leaf
from nestprobe.decode.signatures import (
    TIMING_OFFSET,
    Signature,
    interface_text,
    lookup_signature,
    render_signature,
    signature_bytes,
)
from nestprobe.model.record import Record
from nestprobe.model.snapshot import (
    RANGE_SPAN,
    CpuidTable,
)

HV_INTERFACE_TEXT = "Hv#1"


class FoundInterface(Record):
    base: int
    max_leaf: int
    raw: bytes  # the 12 signature bytes as published
    signature: str  # rendered safely
    known: Signature | None
    interface: str | None  # base+1 EAX as text ("Hv#1") when printable


def scan(table: CpuidTable) -> list[FoundInterface]:
    """Every valid range header at 0x40000000..0x4000FF00, lowest base first."""
    found: list[FoundInterface] = []
    for base in table.hypervisor_bases():
        head = table.get(base)
        top = table.range_max(base)
        if head is None or top is None:
            continue
        raw = signature_bytes(head)
        one = table.get(base + 1)
        found.append(FoundInterface(
            base=base,
            max_leaf=top,
            raw=raw,
            signature=render_signature(raw),
            known=lookup_signature(raw),
            interface=interface_text(one.eax) if one is not None else None,
        ))
    return found


class RejectedHeader(Record):
    """A base leaf that publishes a signature but is no valid range header."""

    base: int
    max_leaf: int  # base+0 EAX as recorded
    signature: str  # rendered safely
    known: Signature | None
    reason: str  # why the range is not valid, in words


def _looks_like_text(raw: bytes) -> bool:
    """Printable ASCII padded with NUL/space and some letters: someone meant a name."""
    body = raw.rstrip(b"\0 ")
    return len(body) >= 4 and all(0x20 <= b < 0x7F for b in body)


def rejected(table: CpuidTable) -> list[RejectedHeader]:
    """Signatures :func:`scan` ignores because their maximum leaf is no valid range.

    :meth:`CpuidTable.range_max` accepts a base only when its EAX lies within
    base..base+0xFF (a range holds at most 256 leaves; KVM's EAX=0 quirk aside); junk
    answers (0xffffffff, a repeated basic leaf) fail that test. Only bases whose 12
    bytes are a known signature or readable text are reported: on bare metal, bases
    echo unrelated leaves.
    """
    out: list[RejectedHeader] = []
    for base in table.recorded_bases():
        head = table.raw(base)
        if head is None or table.range_max(base) is not None:
            continue
        raw = signature_bytes(head)
        known = lookup_signature(raw)
        if known is None and not _looks_like_text(raw):
            continue
        top = base + RANGE_SPAN - 1
        if head.eax > top:
            reason = (f"its maximum leaf {head.eax:#x} lies past {top:#x}, and a range holds "
                      f"at most {RANGE_SPAN} leaves")
        else:
            reason = f"its maximum leaf {head.eax:#x} lies below its base {base:#x}"
        out.append(RejectedHeader(base, head.eax, render_signature(raw), known, reason))
    return out


def specs_for(vendor_id: str | None, interface: str | None,
              timing: bool = True) -> tuple[LeafSpec, ...]:
    """The leaf tables that apply to one interface; ``timing``: its range reaches the
    generic timing leaf base+0x10. A vendor's decoder is imported only when its tables apply
    (its signature, or Hyper-V's interface id, is here)."""
    specs: list[LeafSpec] = []
    if interface == HV_INTERFACE_TEXT:
        from nestprobe.decode import hyperv

        specs += hyperv.LEAVES
    if vendor_id == "kvm" and interface != HV_INTERFACE_TEXT:
        from nestprobe.decode import kvm

        specs += kvm.LEAVES
    elif vendor_id == "xen":
        from nestprobe.decode import xen

        specs += xen.LEAVES
    elif vendor_id in ("bhyve", "acrn"):
        from nestprobe.decode import bhyve_acrn

        specs += bhyve_acrn.BHYVE_LEAVES if vendor_id == "bhyve" else bhyve_acrn.ACRN_LEAVES
    if vendor_id == "vmware" or (timing and vendor_id != "acrn"):
        from nestprobe.decode import vmware

        specs.append(vmware.FEATURES if vendor_id == "vmware" else vmware.TIMING)
    return tuple(specs)


def decode_interface(table: CpuidTable, found: FoundInterface) -> dict[str, Decoded]:
    """Decode every applicable leaf the gate lets through."""
    vendor_id = found.known.vendor_id if found.known is not None else None
    out: dict[str, Decoded] = {}
    timing = found.max_leaf >= found.base + TIMING_OFFSET
    for spec in specs_for(vendor_id, found.interface, timing):
        regs = table.get(found.base + spec.offset, spec.subleaf)
        if regs is not None:
            out[spec.name] = decode_leaf(spec, regs)
    return out
