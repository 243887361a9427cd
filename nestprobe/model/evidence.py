"""Evidence: the one shape every conclusion carries (``{claim, source, value}``)."""

from __future__ import annotations

from nestprobe.model.record import Record
from nestprobe.model.typeshim import Literal

#: A JSON-friendly scalar: what a register field, a file or a measurement showed.
EvidenceValue = str | int | float | bool | None

#: Where an observation came from, so nobody parses ``source`` to learn it:
#: ``cpuid`` a register field; ``os-file`` a file or directory read through the OS root;
#: ``kvm`` the /dev/kvm device asked, or the KVM modules' state (/sys/module/kvm*);
#: ``timing`` a measurement; ``msr`` a capability MSR as the kernel reports it (the
#: ``vmx flags`` line of /proc/cpuinfo, read from the IA32_VMX_* MSRs); ``registry``,
#: ``winapi``, ``bcd`` a Windows fact; ``smbios`` a field of the raw SMBIOS table;
#: ``paste`` a line a Windows tool printed; ``vm`` a VM created here (``--prove``: what
#: its guest did, the strongest evidence there is);
#: ``os`` what the OS says of itself (uname); ``status`` how the collection went;
#: ``document`` a rule's cited document (verdict reasons); ``derived`` anything else.
EvidenceKind = Literal["cpuid", "os-file", "kvm", "timing", "msr", "registry", "winapi", "bcd",
                       "smbios", "paste", "vm", "os", "status", "document", "derived"]

#: Which decided fact an observation bears on, as its producer says: assess/facts.py picks a
#: fact's evidence by it, so a new input format's observations reach their fact without a
#: table of that format's sources above ``decode/``. None: the producer does not say.
Topic = Literal["hypervisor", "vt", "slat", "firmware", "edition", "build", "memory", "cpus",
                "wsl", "mask", "version", "partition"]

#: Source prefix -> kind, first match wins (the vocabulary of :class:`Evidence`'s
#: docstring; the paste tools are the importers' ``<tool>:`` prefixes).
_KIND_PREFIXES: tuple[tuple[str, EvidenceKind], ...] = (
    ("CPUID", "cpuid"),
    ("ioctl(/dev/kvm", "kvm"),
    ("/dev/kvm", "kvm"),
    ("/sys/module/kvm", "kvm"),
    ("/proc/cpuinfo:vmx flags", "msr"),
    ("/", "os-file"),
    ("timing:", "timing"),
    ("registry:", "registry"),
    ("winapi:", "winapi"),
    ("bcd:", "bcd"),
    ("firmware:", "smbios"),
    ("DMI.", "smbios"),
    ("coreinfo", "paste"),
    ("systeminfo", "paste"),
    ("get-computerinfo", "paste"),
    ("msinfo32", "paste"),
    ("msinfo", "paste"),
    ("uname:", "os"),
    ("cpuid-status", "status"),
    ("proof:", "vm"),
)


#: Sources seen so far -> their kind: a report's ~140 evidence sources come from a small
#: vocabulary, and a fleet reads thousands of reports. Bounded: a hostile document's
#: sources stop being remembered, never grow memory.
_KINDS: dict[str, EvidenceKind] = {}
_KINDS_MAX = 8192


def kind_of(source: str) -> EvidenceKind:
    """The kind of a source in the vocabulary above; ``derived`` when none matches."""
    known = _KINDS.get(source)
    if known is not None:
        return known
    kind: EvidenceKind = "derived"
    for prefix, candidate in _KIND_PREFIXES:
        if source.startswith(prefix):
            kind = candidate
            break
    if len(_KINDS) < _KINDS_MAX and type(source) is str:
        _KINDS[source] = kind
    return kind


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

    ``kind`` says which of those it is (:data:`EvidenceKind`); a producer may name it, and
    otherwise it follows from ``source`` here, in one place. It is not part of the JSON
    rendering (schema 2's ``{claim, source, value}``), nor of equality: it is a function of
    the source. ``about`` (:data:`Topic`) is the fact the producer read it for; like
    ``kind`` it is neither rendered nor compared.
    """

    claim: str
    source: str
    value: EvidenceValue
    kind: EvidenceKind
    about: Topic | None

    def __init__(self, claim: str, source: str, value: EvidenceValue,
                 kind: EvidenceKind | None = None, about: Topic | None = None) -> None:
        # The most created record (dozens per report): a direct __init__, not the generic one.
        setter = object.__setattr__
        setter(self, "claim", claim)
        setter(self, "source", source)
        setter(self, "value", value)
        setter(self, "kind", kind if kind is not None else kind_of(source))
        setter(self, "about", about)

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
