"""Windows tool outputs written for the tests, in the strings real outputs print.

The labels, rows, sentences and yes/no words come from nestprobe's cited tables (winlang.py,
winreport.YES_NO: each language's source is in docs/sources.md, keys ``SI-<language>``); the
values (host names, vendors, dates) are invented. Nothing here is a copy of a third-party paste:
the layout is systeminfo's (labels padded to one value column, counted in display columns,
continuation lines indented to it), filled in by :func:`systeminfo`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from nestprobe.sources.importers import winlang

#: Values of the fields that every language prints the same way (numbers, names, paths).
VALUES: dict[str, str] = {
    "Host Name": "TESTPC-01",
    "OS Name": "Microsoft Windows 10 Pro",
    "OS Version": "10.0.19045 N/A Build 19045",
    "OS Manufacturer": "Microsoft Corporation",
    "OS Configuration": "Standalone Workstation",
    "OS Build Type": "Multiprocessor Free",
    "Registered Owner": "tester",
    "Registered Organization": "",
    "Product ID": "00330-80000-00000-AA000",
    "Original Install Date": "02/03/2024, 10:11:12",
    "System Boot Time": "05/06/2025, 07:08:09",
    "System Manufacturer": "Dell Inc.",
    "System Model": "Latitude 7420",
    "System Type": "x64-based PC",
    "Processor(s)": "1",
    "BIOS Version": "Dell Inc. 1.30.0, 12/01/2024",
    "Windows Directory": "C:\\Windows",
    "System Directory": "C:\\Windows\\system32",
    "Boot Device": "\\Device\\HarddiskVolume1",
    "System Locale": "xx;Test",
    "Input Locale": "xx;Test",
    "Time Zone": "(UTC+01:00) Test",
    "Total Physical Memory": "16,077 MB",
    "Available Physical Memory": "9,001 MB",
    "Virtual Memory: Max Size": "18,637 MB",
    "Virtual Memory: Available": "10,002 MB",
    "Virtual Memory: In Use": "8,635 MB",
    "Page File Location(s)": "C:\\pagefile.sys",
    "Domain": "WORKGROUP",
    "Logon Server": "\\\\TESTPC-01",
    "Hotfix(s)": "2",
    "Network Card(s)": "1",
}
#: Continuation lines under some fields (indented to the value column).
CONTINUATIONS: dict[str, tuple[str, ...]] = {
    "Processor(s)": ("[01]: Intel64 Family 6 Model 140 Stepping 1 GenuineIntel ~2995 Mhz",),
    "Hotfix(s)": ("[01]: KB5031356", "[02]: KB5032189"),
    "Network Card(s)": ("[01]: Intel(R) Ethernet Connection I219-LM", "      DHCP: x"),
}


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def language(code: str) -> winlang.Language:
    return next(lang for lang in winlang.LANGUAGES if lang.code == code)


def printed_labels(code: str) -> dict[str, str]:
    """English label -> the label ``code`` prints (first one listed)."""
    out: dict[str, str] = {}
    for printed, english in language(code).labels.items():
        out.setdefault(english, printed)
    return out


def printed_rows(code: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for printed, english in language(code).rows.items():
        out.setdefault(english, printed)
    return out


def systeminfo(labels: Mapping[str, str], *, rows: Mapping[str, str] | None = None,
               words: tuple[str, str, str, str] = ("Yes", "Yes", "Yes", "Yes"),
               sentence: str | None = None, values: Mapping[str, str] | None = None,
               vbs: str | None = None, requirements_label: str | None = None) -> str:
    """A whole systeminfo output: every field of winlang.ORDER with ``labels`` (English ->
    printed), then the requirements block: four ``rows`` with ``words``, or ``sentence``."""
    vals = {**VALUES, **(values or {})}
    req = requirements_label or labels[winlang.REQUIREMENTS]
    shown = [labels[e] for e in winlang.ORDER] + [req]
    column = max(width(label) + 1 for label in shown) + 1
    out: list[str] = []

    def field(label: str, value: str, more: tuple[str, ...] = ()) -> None:
        head = f"{label}:"
        out.append((head + " " * (column - width(head)) + value).rstrip())
        out.extend(" " * column + line for line in more)

    for english in winlang.ORDER:
        field(labels[english], vals[english], CONTINUATIONS.get(english, ()))
    if vbs is not None:
        out.append(f"{vbs}: Status: Running")
        out.append(" " * (width(vbs) + 2) + "Required Security Properties:")
    if sentence is not None:
        field(req, sentence)
    else:
        names = [(rows or {}).get(r, r) for r in winlang.ROWS]
        field(req, f"{names[0]}: {words[0]}",
              tuple(f"{name}: {word}" for name, word in zip(names[1:], words[1:], strict=True)))
    return "\n".join(out) + "\n"


def localized(code: str, *, words: tuple[str, str, str, str] | None = None,
              sentence: bool = False, values: Mapping[str, str] | None = None) -> str:
    """A whole systeminfo output in ``code`` (a language whose table lists every field)."""
    lang = language(code)
    yes = words or ("Yes",) * 4
    return systeminfo(printed_labels(code), rows=printed_rows(code), words=yes,  # type: ignore[arg-type]
                      sentence=lang.sentences[0] + " ..." if sentence else None, values=values)


#: Other tools' outputs in their documented layouts (docs/windows.md, the corpus README's
#: "Output formats seen"), values invented: what the property test wraps besides systeminfo.
GET_COMPUTERINFO = (
    "HyperVisorPresent                                 : False\n"
    "HyperVRequirementDataExecutionPreventionAvailable : True\n"
    "HyperVRequirementSecondLevelAddressTranslation    : True\n"
    "HyperVRequirementVirtualizationFirmwareEnabled    : False\n"
    "HyperVRequirementVMMonitorModeExtensions          : True\n")
MSINFO32 = (
    "OS Name\tMicrosoft Windows 11 Pro\nVersion\t10.0.22631 Build 22631\n"
    "System Manufacturer\tHP\nSystem Model\tHP EliteBook 840 G8\nSystem Type\tx64-based PC\n"
    "Hyper-V - VM Monitor Mode Extensions\tYes\n"
    "Hyper-V - Second Level Address Translation Extensions\tYes\n"
    "Hyper-V - Virtualization Enabled in Firmware\tNo\n"
    "Hyper-V - Data Execution Protection\tYes\n")
COREINFO = (
    "Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz\n"
    "Intel64 Family 6 Model 142 Stepping 10, GenuineIntel\n"
    "HYPERVISOR      -       Hypervisor is present\n"
    "VMX             *       Supports Intel hardware-assisted virtualization\n"
    "SVM             -       Supports AMD hardware-assisted virtualization\n")
