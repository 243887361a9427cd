"""What Windows' own tools said about virtualization readiness, from their recorded lines.

The paste importers (sources/importers/coreinfo.py, systeminfo.py, getcomputerinfo.py,
msinfo32.py) record each line they understood as a pseudo-path with the value as printed:
``coreinfo:VMX`` = ``-``, ``systeminfo:Hyper-V Requirements/Virtualization Enabled In
Firmware`` = ``No`` (labels canonicalised to English, values as printed, ``Não``
included), ``get-computerinfo:HyperVisorPresent`` = ``True``, ``msinfo32:Hyper-V - VM
Monitor Mode Extensions`` = ``Yes``. The live Windows probe records the same two
processor features through IsProcessorFeaturePresent. This module reads them back into
one :class:`Readiness`, each value with the pseudo-path it came from.

What the tools mean (sources):
  HVREQ  MicrosoftDocs/Virtualization-Documentation .../reference/hyper-v-requirements.md:
         the four requirement lines, and on a running Hyper-V host "A hypervisor has been
         detected. Features required for Hyper-V will not be displayed."
  CORE   Sysinternals Coreinfo (MicrosoftDocs/sysinternals coreinfo.md): HYPERVISOR, VMX,
         SVM are the CPUID bits (1:ECX[31], 1:ECX[5], 0x80000001:ECX[2]); ``-v`` adds
         EPT (Intel, from the VMX capability MSRs) / NPT (AMD) for SLAT.
  GCI    Get-ComputerInfo: HyperVisorPresent (Win32_ComputerSystem) and the four
         HyperVRequirement* properties (Win32_Processor), empty when a hypervisor is present.
  CORPUS the truths of the Windows paste corpus ("How the truths were judged"): inside any VM and
         on a Windows host running its hypervisor (root partition) alike, systeminfo prints
         the "hypervisor detected" sentence; the four-line list means this OS saw no
         hypervisor bit (bare metal, or a VM that hides it).
  PF     winnt.h PF_SECOND_LEVEL_ADDRESS_TRANSLATION (20), PF_VIRT_FIRMWARE_ENABLED (21).
"""

from __future__ import annotations

from nestprobe.decode import winpaths
from nestprobe.model import oskeys
from nestprobe.model.lazyre import IGNORECASE, lazy_compile
from nestprobe.model.record import Record
from nestprobe.model.snapshot import OsFacts

TOOLS = ("coreinfo", "systeminfo", "get-computerinfo", "msinfo32")

#: The sentence that replaces the requirement list, per language seen (HVREQ; pt-BR from
#: public systeminfo outputs; zh-TW from Microsoft's translation; the others SI-<language>).
#: The systeminfo importer also records the sentence under SENTENCE when it knows it is one.
HYPERVISOR_DETECTED = lazy_compile(
    r"A hypervisor has been detected|Hipervisor detectado|偵測到 Hypervisor|已偵測到 Hypervisor"
    r"|Un hyperviseur a été détecté|Se detectó un hipervisor|Es wurde ein Hypervisor erkannt"
    r"|Er is een hypervisor gedetecteerd|ハイパーバイザーが検出されました"
    r"|하이퍼바이저가 검색되었습니다", IGNORECASE)


class Word(Record):
    """A printed yes/no word and what it means, with the outputs that show it."""

    word: str
    value: bool
    source: str


#: Yes/no words as Windows' tools print them, each seen in a cited output (docs/sources.md).
#: A word means the same in every language listed (a test checks no word is both); a word
#: not listed is unknown, never guessed: a mis-decoded "Não" is not "Não" and stays unknown.
YES_NO: tuple[Word, ...] = (
    Word("*", True, "CORE"), Word("-", False, "CORE"),
    Word("1", True, "PF"), Word("0", False, "PF"),
    Word("yes", True, "HVREQ"), Word("no", False, "HVREQ; SI-ES; SI-IT"),
    Word("true", True, "GCI"), Word("false", False, "GCI"),
    Word("sim", True, "CORPUS; SI-PTBR"), Word("não", False, "CORPUS; SI-PTBR"),
    Word("nao", False, "CORPUS (a paste typed without the tilde)"),
    Word("oui", True, "SI-FR"), Word("non", False, "SI-FR"),
    Word("ja", True, "SI-DE; SI-NL"), Word("nein", False, "SI-DE"), Word("nee", False, "SI-NL"),
    Word("sí", True, "SI-ES"), Word("sì", True, "SI-IT"),
    Word("да", True, "SI-RU"), Word("нет", False, "SI-RU"),
    Word("是", True, "SI-ZHCN; SI-ZHTW"), Word("否", False, "SI-ZHCN; SI-ZHTW"),
    Word("はい", True, "SI-JA"), Word("いいえ", False, "SI-JA"),
    Word("예", True, "SI-KO2"), Word("아니요", False, "SI-KO2"), Word("아니오", False, "SI-KO2"),
)
_MEANING = {w.word: w.value for w in YES_NO}
_TRUE = frozenset(w for w, v in _MEANING.items() if v)
_FALSE = frozenset(w for w, v in _MEANING.items() if not v)

REQUIREMENTS = "systeminfo:Hyper-V Requirements"
#: How the systeminfo importer read the labels (words of a language, or the layout).
READING = oskeys.SYSTEMINFO_READING
MSINFO_READING = oskeys.MSINFO32_READING
#: How a pasted file's bytes were read when not UTF-8 (sources/importers/textcodec.py).
ENCODING = oskeys.PASTE_ENCODING
#: The requirements block held the hypervisor sentence (the importer knew it as one).
SENTENCE = oskeys.SYSTEMINFO_SENTENCE

#: Meaning -> where each tool prints it, first found wins.
PATHS: dict[str, tuple[str, ...]] = {
    "hypervisor": ("coreinfo:HYPERVISOR", "get-computerinfo:HyperVisorPresent"),
    "vmx": ("coreinfo:VMX",),
    "svm": ("coreinfo:SVM",),
    "vm_monitor": (f"{REQUIREMENTS}/VM Monitor Mode Extensions",
                   "get-computerinfo:HyperVRequirementVMMonitorModeExtensions",
                   "msinfo32:Hyper-V - VM Monitor Mode Extensions"),
    "firmware": (winpaths.PF_FIRMWARE,
                 f"{REQUIREMENTS}/Virtualization Enabled In Firmware",
                 "get-computerinfo:HyperVRequirementVirtualizationFirmwareEnabled",
                 "msinfo32:Hyper-V - Virtualization Enabled in Firmware"),
    "slat": (winpaths.PF_SLAT, "coreinfo:EPT", "coreinfo:NPT", "coreinfo:NP",
             f"{REQUIREMENTS}/Second Level Address Translation",
             "get-computerinfo:HyperVRequirementSecondLevelAddressTranslation",
             "msinfo32:Hyper-V - Second Level Address Translation Extensions"),
}
#: Lines that exist only when the tool saw no hypervisor (the requirement list itself).
LIST_LINES = tuple(p for key in ("vm_monitor", "firmware", "slat") for p in PATHS[key]
                   if not p.startswith("winapi:") and not p.startswith("coreinfo:"))
#: Where the "hypervisor detected" sentence is recorded.
SENTENCE_PATHS = (REQUIREMENTS, "msinfo32:Hyper-V", SENTENCE)

_SIGNATURE = lazy_compile(
    r"^(?:Intel64|AMD64|EM64T|x86|ARM64)\s+Family\s+(\d+)\s+Model\s+(\d+)\s+Stepping\s+(\d+)"
    r",?\s+(\w+)")
_BUILD = lazy_compile(r"^\s*(\d+)\.(\d+)\.(\d+)")


#: Memory units as printed (fr Mo/Go: SI-FR; ru МБ: SI-RU) -> the English unit.
_UNITS = {"MB": "MB", "GB": "GB", "KB": "KB", "TB": "TB", "Mo": "MB", "Go": "GB", "Ko": "KB",
          "To": "TB", "МБ": "MB", "ГБ": "GB", "КБ": "KB"}


class Reported(Record):
    """One fact as a Windows tool printed it."""

    value: bool | None  # None: printed empty ("not displayed")
    source: str  # the pseudo-path
    shown: str  # the text as printed


class Readiness(Record):
    """The virtualization facts Windows' tools reported, where any did."""

    tools: tuple[str, ...]  # which tools' lines are recorded ("coreinfo", "systeminfo", ...)
    hypervisor: Reported | None = None
    vmx: Reported | None = None
    svm: Reported | None = None
    vm_monitor: Reported | None = None  # the CPU has VT-x/AMD-V (VMMonitorModeExtensions)
    firmware: Reported | None = None
    slat: Reported | None = None
    hidden: bool = False  # the requirements were withheld because a hypervisor is present

    @property
    def pasted(self) -> bool:
        return bool(self.tools)


def _value(text: str) -> bool | None:
    word = text.strip()
    if word not in ("*", "-"):  # Coreinfo's marks; elsewhere ** is a paste's markdown bold
        word = word.strip("*").strip()
    word = word.lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return None


def _first(facts: OsFacts, paths: tuple[str, ...]) -> Reported | None:
    for path in paths:
        text = facts.text(path)
        if text is not None:
            return Reported(_value(text), path, text.strip())
    return None


def tools_in(facts: OsFacts) -> tuple[str, ...]:
    """The paste tools whose lines the snapshot holds."""
    found = {path.split(":", 1)[0] for path in facts.files if ":" in path}
    return tuple(tool for tool in TOOLS if tool in found)


def read_readiness(facts: OsFacts) -> Readiness:
    """What the recorded Windows tool lines (or the live processor features) say. Under
    wine, IsProcessorFeaturePresent answers 0 for SLAT and firmware virtualization whatever
    the machine has: those stubs are left out (unknown), never read as "no"."""
    stubbed = {winpaths.PF_SLAT, winpaths.PF_FIRMWARE} if winpaths.under_wine(facts) else set()
    found = {key: _first(facts, tuple(p for p in paths if p not in stubbed))
             for key, paths in PATHS.items()}
    hypervisor = found["hypervisor"]
    hidden = False
    if hypervisor is None:
        for path in SENTENCE_PATHS:
            text = facts.text(path)
            if text is not None and (path == SENTENCE or HYPERVISOR_DETECTED.search(text)):
                hypervisor = Reported(True, path, text.strip())
                hidden = True
                break
    if hypervisor is None:
        listed = next((p for p in LIST_LINES if facts.text(p) is not None), None)
        if listed is not None:
            # The requirement list is printed only when Windows sees no hypervisor (CORPUS).
            hypervisor = Reported(False, listed, (facts.text(listed) or "").strip())
    elif hypervisor.value and not hypervisor.source.startswith("coreinfo:"):
        hidden = True
    return Readiness(
        tools=tools_in(facts),
        hypervisor=hypervisor,
        vmx=found["vmx"],
        svm=found["svm"],
        vm_monitor=found["vm_monitor"],
        firmware=found["firmware"],
        slat=found["slat"],
        hidden=hidden,
    )


class ReportedCpu(Record):
    vendor: str | None
    family: int | None
    model: int | None
    stepping: int | None
    brand: str | None
    source: str


def reported_cpu(facts: OsFacts) -> ReportedCpu | None:
    """The processor a Windows tool named: Coreinfo's signature line, systeminfo's
    ``[01]: Intel64 Family 6 Model 158 Stepping 12 GenuineIntel ~3696 Mhz``, msinfo32's
    Processor row (brand only)."""
    brand = facts.text("coreinfo:cpu")
    for path in ("coreinfo:signature", "systeminfo:Processor(s)", "msinfo32:Processor"):
        text = facts.text(path)
        if text is None:
            continue
        import re  # here: only pastes reach this (model/lazyre.py on re's cost)

        for line in text.splitlines():
            parts = re.split(r"\]\s*:", line, maxsplit=1)  # "[01]: ..." ("[01] : ..." in fr)
            body = parts[1] if len(parts) == 2 else line
            match = _SIGNATURE.match(body.strip())
            if match is not None:
                family, model, stepping = (int(match.group(i)) for i in (1, 2, 3))
                return ReportedCpu(match.group(4), family, model, stepping,
                                   brand.strip() if brand else None, path)
        if path == "msinfo32:Processor":
            return ReportedCpu(None, None, None, None, text.split(",")[0].strip(), path)
    if brand:
        return ReportedCpu(None, None, None, None, brand.strip(), "coreinfo:cpu")
    return None


def reported_build(facts: OsFacts) -> tuple[int, str] | None:
    """The OS build a paste shows (``10.0.19045 N/A Build 19045``; msinfo32 ``Version``;
    Get-ComputerInfo ``OsBuildNumber``), with its pseudo-path."""
    for path in ("systeminfo:OS Version", "msinfo32:Version", "get-computerinfo:OsVersion"):
        text = facts.text(path)
        if text is not None and (match := _BUILD.match(text)) is not None:
            return int(match.group(3)), path
    text = facts.text("get-computerinfo:OsBuildNumber")
    if text is not None and text.strip().isdigit():
        return int(text.strip()), "get-computerinfo:OsBuildNumber"
    return None


def reported_caption(facts: OsFacts) -> tuple[str, str] | None:
    """The product name a paste shows (``Microsoft Windows 10 Home``), with its pseudo-path."""
    for path in ("systeminfo:OS Name", "msinfo32:OS Name", "get-computerinfo:OsName",
                 "get-computerinfo:WindowsProductName"):
        text = facts.text(path)
        if text:
            return text.strip(), path
    return None


def reported_memory(facts: OsFacts) -> tuple[int, str] | None:
    """Total physical memory in bytes as a paste shows it (``8,108 MB``, pt-BR ``8.108 MB``,
    fr ``16 305 Mo``, ru ``7 932 МБ``, msinfo32 ``4.00 GB``)."""
    for path in ("systeminfo:Total Physical Memory", "msinfo32:Installed Physical Memory (RAM)",
                 "msinfo32:Total Physical Memory"):
        text = facts.text(path)
        if text is None:
            continue
        import re  # here: only pastes reach this (model/lazyre.py on re's cost)

        match = re.match(r"^\s*([\d.,\s\u00a0\u202f]+?)\s*(MB|GB|KB|TB|Mo|Go|Ko|To|МБ|ГБ|КБ)"
                         r"(?!\w)", text)
        if match is None:
            continue
        number = re.sub(r"[\s\u00a0\u202f]", "", match.group(1))
        unit = _UNITS[match.group(2)]
        if unit == "GB" and re.fullmatch(r"\d+[.,]\d{1,2}", number):
            value = float(number.replace(",", "."))  # msinfo32: "4.00 GB" (decimal point)
        else:
            value = float(re.sub(r"[.,]", "", number))  # thousands separators
        scale = {"KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}[unit]
        return int(value * scale), path
    return None


#: What two tools' outputs in one paste must agree on, in words for the refusal.
_AGREE_ON = {"hypervisor": "whether a hypervisor is present", "vm_monitor": "VT-x/AMD-V",
             "firmware": "virtualization enabled in firmware", "slat": "SLAT"}


def _tool_of(path: str) -> str:
    return path.split(":", 1)[0]


def _per_tool(facts: OsFacts, tool: str) -> Readiness:
    """What one tool's lines alone say (the others' pseudo-files left out)."""
    own = {path: fact for path, fact in facts.files.items() if _tool_of(path) == tool}
    return read_readiness(OsFacts(facts.system, facts.machine, own))


def disagreements(facts: OsFacts) -> list[str]:
    """Where the outputs of two Windows tools in one paste contradict each other, in words
    (``systeminfo: a hypervisor is present (...); Coreinfo: not (...)``); [] when they
    agree or only one tool is there. Each fact is read per tool as read_readiness reads it,
    so a systeminfo's "hypervisor detected" sentence and Coreinfo's ``HYPERVISOR -``
    disagree, and so do two tools' OS builds."""
    tools = tools_in(facts)
    if len(tools) < 2:
        return []
    readings = {tool: _per_tool(facts, tool) for tool in tools}
    found: list[str] = []
    for key, words in _AGREE_ON.items():
        said = [(tool, getattr(r, key)) for tool, r in readings.items()]
        said = [(tool, rep) for tool, rep in said if rep is not None and rep.value is not None]
        if len({rep.value for _, rep in said}) > 1:
            found.append(f"{words}: " + "; ".join(
                f"{rep.source} says {rep.shown[:60]!r}" for _, rep in said))
    builds = {}
    for tool in tools:
        own = OsFacts(facts.system, facts.machine,
                      {p: f for p, f in facts.files.items() if _tool_of(p) == tool})
        build = reported_build(own)
        if build is not None:
            builds[tool] = build
    if len({number for number, _ in builds.values()}) > 1:
        found.append("the Windows build: " + "; ".join(
            f"{path} says {number}" for number, path in builds.values()))
    return found
