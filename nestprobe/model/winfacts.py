"""The Windows facts a probe records: each pseudo-path, and what the reader asks for it.

In the order a dump lists them (read by sources/windows_facts.py; the C dumper's list,
csrc/np_winfacts.h, must be the same: a test compares them). The keys themselves are the
model's vocabulary (model/oskeys.py); this table is apart from them because only a Windows
probe and the Windows tests need it, not a check on Linux.
"""

from __future__ import annotations

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
from nestprobe.model.record import Record
from nestprobe.model.typeshim import Literal, Sequence

#: How a Windows fact is read: a registry value, a key's existence, a firmware table, a
#: Win32 call, the BCD store.
WinFactKind = Literal["value", "key", "firmware", "winapi", "bcd"]


class WinFact(Record):
    """One recorded Windows fact: its pseudo-path and what the reader is asked for."""

    path: str
    kind: WinFactKind
    key: str  # registry key under HKLM, firmware provider, or Win32 function
    name: str = ""  # registry value name, or the function's argument / field


def _values(key: str, names: Sequence[str]) -> tuple[WinFact, ...]:
    return tuple(WinFact(f"registry:HKLM\\{key}\\{n}", "value", key, n) for n in names)


def _services(names: Sequence[str]) -> tuple[WinFact, ...]:
    return tuple(
        WinFact(f"registry:HKLM\\{SERVICES_KEY}\\{n}", "key", f"{SERVICES_KEY}\\{n}")
        for n in names
    )


#: Every Windows fact, in the order a dump lists them.
WINDOWS_FACTS: tuple[WinFact, ...] = (
    # Build, UBR, edition and installation type (ProductName says "Windows 10" on Windows 11:
    # the build decides, see decode/winbuild.py).
    *_values(CURRENT_VERSION_KEY, ("CurrentBuild", "UBR", "EditionID", "InstallationType",
                                   "ProductName", "DisplayVersion")),
    # SMBIOS identity as Windows copied it at boot (fallback for the raw table).
    *_values(BIOS_REG_KEY, ("SystemManufacturer", "SystemProductName", "SystemVersion",
                            "BIOSVendor", "BIOSVersion", "BaseBoardManufacturer")),
    # Hyper-V data exchange (KVP) from the host, present in Hyper-V guests with the
    # integration services.
    *_values(GUEST_PARAMETERS_KEY, ("HostName", "VirtualMachineName",
                                    "PhysicalHostNameFullyQualified")),
    # Installed virtualization components: a service key exists once its feature is on.
    # vmms: Hyper-V management; hvservice / HvHost: the hypervisor; vmcompute: the Host
    # Compute Service (containers, WSL2); LxssManager / WslService: WSL; vmbus: VMBus.
    *_services(("vmms", "hvservice", "HvHost", "vmcompute", "LxssManager", "WslService",
                "vmbus")),
    # VBS / HVCI configuration (the running state is WMI-only: Win32_DeviceGuard).
    *_values(DEVICE_GUARD_KEY, ("EnableVirtualizationBasedSecurity",)),
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
