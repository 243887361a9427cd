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


class _Parsed:
    """One text's first processor block as ``{name: value}`` (the first of a repeated name
    kept), and the word sets made from it."""

    __slots__ = ("fields", "text", "words")

    def __init__(self, text: str) -> None:
        self.text = text
        self.fields: dict[str, str] = {}
        for line in _first_block(text):
            name, sep, value = line.partition(":")
            if sep:
                self.fields.setdefault(name.strip(), value.strip())
        self.words: dict[str, frozenset[str] | None] = {}

    def word_set(self, key: str) -> frozenset[str] | None:
        if key not in self.words:
            value = self.fields.get(key)
            self.words[key] = frozenset(value.split()) if value is not None else None
        return self.words[key]


#: The text parsed last: an assessment asks ~8 times about one /proc/cpuinfo (vendor, model
#: name, family, model, flags three times, vmx flags); each ask parsed it again.
_LAST = [_Parsed("")]


def _parsed(text: str) -> _Parsed:
    last = _LAST[0]
    if last.text is text or last.text == text:
        return last
    last = _LAST[0] = _Parsed(text)
    return last


def field(text: str, key: str) -> str | None:
    """The value of ``key`` in the first processor block, or None when absent."""
    return _parsed(text).fields.get(key)


def flags(text: str) -> frozenset[str] | None:
    return _parsed(text).word_set("flags")


def vmx_flags(text: str) -> frozenset[str] | None:
    """The ``vmx flags`` line; None when the kernel did not print one."""
    return _parsed(text).word_set("vmx flags")
