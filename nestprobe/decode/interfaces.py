"""Scan the 256 hypervisor bases and decode each interface's vendor leaves.

Every leaf is read through :meth:`CpuidTable.get`, so nothing past an interface's
maximum leaf is decoded. Which tables apply is decided by the signature's vendor id
and by the base+1 interface id (``Hv#1`` leaves are Hyper-V's whoever publishes them).
"""

from __future__ import annotations

from nestprobe.decode import bhyve_acrn, hyperv, kvm, vmware, xen
from nestprobe.decode.bits import Decoded, LeafSpec, decode_leaf
from nestprobe.decode.signatures import (
    Signature,
    interface_text,
    lookup_signature,
    render_signature,
    signature_bytes,
)
from nestprobe.model.record import Record
from nestprobe.model.snapshot import CpuidTable

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


def specs_for(vendor_id: str | None, interface: str | None) -> tuple[LeafSpec, ...]:
    """The leaf tables that apply to one interface."""
    specs: list[LeafSpec] = []
    if interface == HV_INTERFACE_TEXT:
        specs += hyperv.LEAVES
    if vendor_id == "kvm" and interface != HV_INTERFACE_TEXT:
        specs += kvm.LEAVES
    elif vendor_id == "xen":
        specs += xen.LEAVES
    elif vendor_id == "bhyve":
        specs += bhyve_acrn.BHYVE_LEAVES
    elif vendor_id == "acrn":
        specs += bhyve_acrn.ACRN_LEAVES
    if vendor_id == "vmware":
        specs.append(vmware.FEATURES)
    elif vendor_id != "acrn":
        specs.append(vmware.TIMING)
    return tuple(specs)


def decode_interface(table: CpuidTable, found: FoundInterface) -> dict[str, Decoded]:
    """Decode every applicable leaf the gate lets through."""
    vendor_id = found.known.vendor_id if found.known is not None else None
    out: dict[str, Decoded] = {}
    for spec in specs_for(vendor_id, found.interface):
        regs = table.get(found.base + spec.offset, spec.subleaf)
        if regs is not None:
            out[spec.name] = decode_leaf(spec, regs)
    return out
