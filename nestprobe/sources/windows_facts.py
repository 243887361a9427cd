"""Windows facts: the pseudo-paths a Windows probe records, and how each is read.

On Windows the OS facts are registry values, the raw SMBIOS table and a few Win32
calls, not files. They travel in the same ``OsFacts.files`` map (path -> FileFact) and
the same ``file`` dump records, under pseudo-paths: ``registry:HKLM\\<key>\\<value>``,
``firmware:RSMB``, ``winapi:<function>[:<argument or field>]`` and ``bcd:...``. Their
list is the model's vocabulary (:mod:`nestprobe.model.oskeys`; the C dumper,
``nestprobe-dump.exe``, must record the same; docs/dump-format.md "Windows facts" is the
contract); this module turns what a :class:`WindowsReader` answers into FileFacts. The
live reader (winreg + ctypes, no WMI, no child process, no administrator) is
:mod:`nestprobe.sources.winlive`; tests and replays need no reader at all, because the
facts are already recorded.

Text of a value: REG_SZ/REG_EXPAND_SZ as the string, REG_DWORD/REG_QWORD in decimal,
REG_MULTI_SZ one string per line, REG_BINARY as lower-case hex. A missing key or value
is ``absent``, access denied is ``unreadable``; a service key that exists is ``dir``.
"""

from __future__ import annotations

from collections.abc import Callable

from nestprobe.model.oskeys import (
    BIOS_REG_KEY,
    CURRENT_VERSION_KEY,
    DEVICE_GUARD_KEY,
    GUEST_PARAMETERS_KEY,
    HVCI_KEY,
    PF_SECOND_LEVEL_ADDRESS_TRANSLATION,
    PF_VIRT_FIRMWARE_ENABLED,
    SERVICES_KEY,
)
from nestprobe.model.snapshot import FileFact
from nestprobe.model.typeshim import Protocol
from nestprobe.model.winfacts import WINDOWS_FACTS, WINDOWS_PATHS, WinFact, WinFactKind

#: Registry value types (winnt.h) and how their data is written as text.
REG_SZ = 1
REG_EXPAND_SZ = 2
REG_BINARY = 3
REG_DWORD = 4
REG_MULTI_SZ = 7
REG_QWORD = 11

#: GetSystemFirmwareTable provider 'RSMB' (raw SMBIOS) as the DWORD Windows compares.
RSMB = 0x52534D42
#: GetActiveProcessorCount(ALL_PROCESSOR_GROUPS): every group, not just the caller's.
ALL_PROCESSOR_GROUPS = 0xFFFF

#: GetNativeSystemInfo wProcessorArchitecture (winnt.h PROCESSOR_ARCHITECTURE_*) -> the name
#: Windows itself uses (%PROCESSOR_ARCHITECTURE%), which normalise_machine() understands.
PROCESSOR_ARCHITECTURES: dict[int, str] = {0: "x86", 5: "ARM", 6: "IA64", 9: "AMD64", 12: "ARM64"}

#: The fact list and its pseudo-paths are the model's vocabulary (model/oskeys.py).
Kind = WinFactKind
CURRENT_VERSION = CURRENT_VERSION_KEY
GUEST_PARAMETERS = GUEST_PARAMETERS_KEY
SERVICES = SERVICES_KEY
DEVICE_GUARD = DEVICE_GUARD_KEY
BIOS_KEY = BIOS_REG_KEY
#: Re-exported from the model for the readers and tests that import them from here.
__all__ = [
    "ALL_PROCESSOR_GROUPS", "BIOS_KEY", "CURRENT_VERSION", "DEVICE_GUARD", "GUEST_PARAMETERS",
    "HVCI_KEY", "PF_SECOND_LEVEL_ADDRESS_TRANSLATION", "PF_VIRT_FIRMWARE_ENABLED",
    "PROCESSOR_ARCHITECTURES", "REG_BINARY", "REG_DWORD", "REG_EXPAND_SZ", "REG_MULTI_SZ",
    "REG_QWORD", "REG_SZ", "RSMB", "SERVICES", "WINDOWS_FACTS", "WINDOWS_PATHS", "Kind",
    "WinFact", "WindowsReader", "collect_windows_facts", "error_state", "registry_text",
]


def registry_text(data: object, value_type: int) -> str | None:
    """The text a registry value is recorded as, or None for a type this format has no
    text for (the fact is then ``unreadable``)."""
    if value_type in (REG_SZ, REG_EXPAND_SZ) and isinstance(data, str):
        return data
    if value_type in (REG_DWORD, REG_QWORD) and isinstance(data, int):
        return str(data)
    if value_type == REG_MULTI_SZ and isinstance(data, list):
        return "\n".join(str(item) for item in data)
    if value_type == REG_BINARY and isinstance(data, bytes | bytearray):
        return bytes(data).hex()
    return None


def error_state(exc: BaseException) -> FileFact:
    """FileNotFoundError (ERROR_FILE_NOT_FOUND) is absent; everything else, access denied
    first of all, is unreadable."""
    return FileFact("absent") if isinstance(exc, FileNotFoundError) else FileFact("unreadable")


class WindowsReader(Protocol):
    """What a Windows probe can be asked. Every method returns a state, never raises."""

    def value(self, key: str, name: str) -> FileFact: ...

    def key(self, key: str) -> FileFact: ...

    def firmware_table(self, provider: str) -> FileFact: ...

    def winapi(self, function: str, argument: str) -> FileFact: ...

    def bcd_launch_type(self) -> FileFact: ...


def _reader_call(reader: WindowsReader, fact: WinFact) -> Callable[[], FileFact]:
    if fact.kind == "value":
        return lambda: reader.value(fact.key, fact.name)
    if fact.kind == "key":
        return lambda: reader.key(fact.key)
    if fact.kind == "firmware":
        return lambda: reader.firmware_table(fact.key)
    if fact.kind == "winapi":
        return lambda: reader.winapi(fact.key, fact.name)
    return reader.bcd_launch_type


def collect_windows_facts(reader: WindowsReader) -> dict[str, FileFact]:
    """Every fact of :data:`WINDOWS_FACTS` as ``reader`` answers it.

    A reader that raises anyway (a ctypes signature the running Windows lacks, say) gives
    ``unreadable`` for that fact: the probe never crashes on one fact.
    """
    out: dict[str, FileFact] = {}
    for fact in WINDOWS_FACTS:
        try:
            out[fact.path] = _reader_call(reader, fact)()
        except Exception:
            out[fact.path] = FileFact("unreadable")
    return out
