"""Windows facts: the pseudo-paths a Windows probe records, and how each is read.

On Windows the OS facts are registry values, the raw SMBIOS table and a few Win32
calls, not files. They travel in the same ``OsFacts.files`` map (path -> FileFact) and
the same ``file`` dump records, under pseudo-paths: ``registry:HKLM\\<key>\\<value>``,
``firmware:RSMB``, ``winapi:<function>[:<argument or field>]`` and ``bcd:...``. This
module is the one list of them (the C dumper, ``nestprobe-dump.exe``, must record the
same; docs/dump-format.md "Windows facts" is the contract) and turns what a
:class:`WindowsReader` answers into FileFacts. The live reader (winreg + ctypes, no
WMI, no child process, no administrator) is :mod:`nestprobe.sources.winlive`; tests and
replays need no reader at all, because the facts are already recorded.

Text of a value: REG_SZ/REG_EXPAND_SZ as the string, REG_DWORD/REG_QWORD in decimal,
REG_MULTI_SZ one string per line, REG_BINARY as lower-case hex. A missing key or value
is ``absent``, access denied is ``unreadable``; a service key that exists is ``dir``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, Protocol

from nestprobe.model.record import Record
from nestprobe.model.snapshot import FileFact

#: Registry value types (winnt.h) and how their data is written as text.
REG_SZ = 1
REG_EXPAND_SZ = 2
REG_BINARY = 3
REG_DWORD = 4
REG_MULTI_SZ = 7
REG_QWORD = 11

CURRENT_VERSION = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion"
BIOS_KEY = r"HARDWARE\DESCRIPTION\System\BIOS"
GUEST_PARAMETERS = r"SOFTWARE\Microsoft\Virtual Machine\Guest\Parameters"
SERVICES = r"SYSTEM\CurrentControlSet\Services"
DEVICE_GUARD = r"SYSTEM\CurrentControlSet\Control\DeviceGuard"
HVCI_KEY = DEVICE_GUARD + r"\Scenarios\HypervisorEnforcedCodeIntegrity"

#: IsProcessorFeaturePresent arguments (winnt.h PF_*).
PF_SECOND_LEVEL_ADDRESS_TRANSLATION = 20
PF_VIRT_FIRMWARE_ENABLED = 21
#: GetSystemFirmwareTable provider 'RSMB' (raw SMBIOS) as the DWORD Windows compares.
RSMB = 0x52534D42
#: GetActiveProcessorCount(ALL_PROCESSOR_GROUPS): every group, not just the caller's.
ALL_PROCESSOR_GROUPS = 0xFFFF

#: GetNativeSystemInfo wProcessorArchitecture (winnt.h PROCESSOR_ARCHITECTURE_*) -> the name
#: Windows itself uses (%PROCESSOR_ARCHITECTURE%), which normalise_machine() understands.
PROCESSOR_ARCHITECTURES: dict[int, str] = {0: "x86", 5: "ARM", 6: "IA64", 9: "AMD64", 12: "ARM64"}

Kind = Literal["value", "key", "firmware", "winapi", "bcd"]


class WinFact(Record):
    """One recorded Windows fact: its pseudo-path and what the reader is asked for."""

    path: str
    kind: Kind
    key: str  # registry key under HKLM, firmware provider, or Win32 function
    name: str = ""  # registry value name, or the function's argument / field


def _values(key: str, names: Sequence[str]) -> tuple[WinFact, ...]:
    return tuple(WinFact(f"registry:HKLM\\{key}\\{n}", "value", key, n) for n in names)


def _services(names: Sequence[str]) -> tuple[WinFact, ...]:
    return tuple(
        WinFact(f"registry:HKLM\\{SERVICES}\\{n}", "key", f"{SERVICES}\\{n}") for n in names
    )


#: Every Windows fact, in the order a dump lists them.
WINDOWS_FACTS: tuple[WinFact, ...] = (
    # Build, UBR, edition and installation type (ProductName says "Windows 10" on Windows 11:
    # the build decides, see decode/winbuild.py).
    *_values(CURRENT_VERSION, ("CurrentBuild", "UBR", "EditionID", "InstallationType",
                               "ProductName", "DisplayVersion")),
    # SMBIOS identity as Windows copied it at boot (fallback for the raw table).
    *_values(BIOS_KEY, ("SystemManufacturer", "SystemProductName", "SystemVersion",
                        "BIOSVendor", "BIOSVersion", "BaseBoardManufacturer")),
    # Hyper-V data exchange (KVP) from the host, present in Hyper-V guests with the
    # integration services.
    *_values(GUEST_PARAMETERS, ("HostName", "VirtualMachineName",
                                "PhysicalHostNameFullyQualified")),
    # Installed virtualization components: a service key exists once its feature is on.
    # vmms: Hyper-V management; hvservice / HvHost: the hypervisor; vmcompute: the Host
    # Compute Service (containers, WSL2); LxssManager / WslService: WSL; vmbus: VMBus.
    *_services(("vmms", "hvservice", "HvHost", "vmcompute", "LxssManager", "WslService",
                "vmbus")),
    # VBS / HVCI configuration (the running state is WMI-only: Win32_DeviceGuard).
    *_values(DEVICE_GUARD, ("EnableVirtualizationBasedSecurity",)),
    *_values(HVCI_KEY, ("Enabled",)),
    WinFact("firmware:RSMB", "firmware", "RSMB"),
    WinFact(f"winapi:IsProcessorFeaturePresent:{PF_SECOND_LEVEL_ADDRESS_TRANSLATION}",
            "winapi", "IsProcessorFeaturePresent", str(PF_SECOND_LEVEL_ADDRESS_TRANSLATION)),
    WinFact(f"winapi:IsProcessorFeaturePresent:{PF_VIRT_FIRMWARE_ENABLED}",
            "winapi", "IsProcessorFeaturePresent", str(PF_VIRT_FIRMWARE_ENABLED)),
    WinFact("winapi:GlobalMemoryStatusEx:ullTotalPhys", "winapi", "GlobalMemoryStatusEx",
            "ullTotalPhys"),
    WinFact("winapi:GetActiveProcessorCount", "winapi", "GetActiveProcessorCount"),
    WinFact("winapi:GetNativeSystemInfo:wProcessorArchitecture", "winapi",
            "GetNativeSystemInfo", "wProcessorArchitecture"),
    # The default boot entry's hypervisorlaunchtype (BcdOSLoaderInteger_HypervisorLaunchType
    # 0x250000F0): 0 Off, 1 Auto. The BCD store is the registry hive HKLM\BCD00000000,
    # readable by administrators only: unreadable otherwise, never a child bcdedit.
    WinFact("bcd:{default}:hypervisorlaunchtype", "bcd", "BCD00000000", "250000F0"),
    # Wine: its own key, and ntdll's wine_get_version export (absent on Windows). Under
    # wine the processor-feature, SMBIOS and BCD answers are wine's stubs, not facts.
    WinFact(r"registry:HKLM\SOFTWARE\Wine", "key", r"SOFTWARE\Wine"),
    WinFact("winapi:wine_get_version", "winapi", "wine_get_version"),
)

#: The pseudo-paths alone, for the C dumper's list to be compared with.
WINDOWS_PATHS: tuple[str, ...] = tuple(f.path for f in WINDOWS_FACTS)

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
