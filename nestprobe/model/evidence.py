"""Evidence: the one shape every conclusion carries (``{claim, source, value}``)."""

from __future__ import annotations

from nestprobe.model.record import Record

#: A JSON-friendly scalar: what a register field, a file or a measurement showed.
EvidenceValue = str | int | float | bool | None


class Evidence(Record):
    """One observation behind a conclusion.

    ``source`` names where it was read, in a fixed vocabulary:
    ``CPUID.<leaf>:<REG>[<bit>]`` or ``CPUID.<leaf>:<REG>[<hi>:<lo>]`` for register
    fields (leaf in hex, e.g. ``CPUID.0x40000003:EBX[12]``), ``CPUID.<leaf>:EBX,ECX,EDX``
    for signatures, a file path (``/proc/cpuinfo:flags``), ``ioctl(/dev/kvm, ...)``,
    or ``timing:<what>`` for measurements. On Windows: a pseudo-path
    (``registry:HKLM\\...``, ``winapi:...``, ``bcd:...``; docs/dump-format.md) or
    ``DMI.<type>:<field>`` for a field of the raw SMBIOS table; from a pasted Windows tool,
    ``<tool>:<label>`` (``systeminfo:OS Name``, ``coreinfo:VMX``).
    """

    claim: str
    source: str
    value: EvidenceValue

    def __init__(self, claim: str, source: str, value: EvidenceValue) -> None:
        # The most created record (dozens per report): a direct __init__, not the generic one.
        setter = object.__setattr__
        setter(self, "claim", claim)
        setter(self, "source", source)
        setter(self, "value", value)

    def __eq__(self, other: object) -> bool:
        if type(other) is not Evidence:
            return NotImplemented
        return (self.claim == other.claim and self.source == other.source
                and self.value == other.value)

    def __hash__(self) -> int:
        return hash((self.claim, self.source, self.value))

    def to_dict(self) -> dict[str, EvidenceValue]:
        return {"claim": self.claim, "source": self.source, "value": self.value}


def cpuid_source(leaf: int, register: str, bit: int | None = None, hi: int | None = None) -> str:
    """Format a CPUID evidence source: ``CPUID.0x1:ECX[5]``, ``CPUID.0x8000000a:EAX[7:0]``."""
    where = f"CPUID.{leaf:#x}:{register.upper()}"
    if bit is None:
        return where
    if hi is None or hi == bit:
        return f"{where}[{bit}]"
    return f"{where}[{hi}:{bit}]"
