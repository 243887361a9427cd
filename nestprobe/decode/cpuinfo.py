"""/proc/cpuinfo lines that matter here: ``flags`` and ``vmx flags`` of the first CPU.

Source keys: L-PROC (arch/x86/kernel/cpu/proc.c prints ``flags`` and, with
CONFIG_X86_VMX_FEATURE_NAMES, ``vmx flags``), L-VMXFEAT (names), L-FEATCTL / L-AMD
(the kernel clears ``vmx``/``svm`` when firmware disabled them).
"""

from __future__ import annotations

from nestprobe.model.snapshot import OsFacts

PATH = "/proc/cpuinfo"
#: vmx-flags names that mean SLAT (EPT) and the EPT-dependent features nesting needs.
VMX_SLAT = "ept"
VMX_NESTING_HELPERS = ("unrestricted_guest", "shadow_vmcs", "vpid", "ept_ad")


def x86_text(facts: OsFacts) -> str | None:
    """/proc/cpuinfo as read, but only where it can describe this OS's x86 CPU.

    On a known non-x86 machine an x86 cpuinfo is another machine's (qemu-user shows the
    host's), so none of its fields may stand as evidence about this OS.
    """
    return facts.text(PATH) if facts.may_be_x86 else None


def _first_block(text: str) -> list[str]:
    lines: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            if lines:
                break
            continue
        lines.append(line)
    return lines


def field(text: str, key: str) -> str | None:
    """The value of ``key`` in the first processor block, or None when absent."""
    for line in _first_block(text):
        name, sep, value = line.partition(":")
        if sep and name.strip() == key:
            return value.strip()
    return None


def flags(text: str) -> frozenset[str] | None:
    value = field(text, "flags")
    return frozenset(value.split()) if value is not None else None


def vmx_flags(text: str) -> frozenset[str] | None:
    """The ``vmx flags`` line; None when the kernel did not print one."""
    value = field(text, "vmx flags")
    return frozenset(value.split()) if value is not None else None
