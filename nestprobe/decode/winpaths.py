"""The Windows pseudo-paths the decoders and assessments read.

The list a Windows probe records is :data:`nestprobe.sources.windows_facts.WINDOWS_PATHS`
(the contract with the C dumper); these are the ones read back, spelled the same way (a
test checks every one here is recorded there), as decode/dmi.py spells the Linux DMI
files that sources/osfacts.py reads. Paste importers record their own prefixes
(``systeminfo:``, ``coreinfo:``, ``get-computerinfo:``, ``msinfo32:``; decode/winreport.py).
"""

from __future__ import annotations

from nestprobe.model.snapshot import OsFacts

CURRENT_VERSION = r"registry:HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion" + "\\"
CURRENT_BUILD = CURRENT_VERSION + "CurrentBuild"
UBR = CURRENT_VERSION + "UBR"
EDITION_ID = CURRENT_VERSION + "EditionID"
INSTALLATION_TYPE = CURRENT_VERSION + "InstallationType"
PRODUCT_NAME = CURRENT_VERSION + "ProductName"
DISPLAY_VERSION = CURRENT_VERSION + "DisplayVersion"

BIOS_KEY = r"registry:HKLM\HARDWARE\DESCRIPTION\System\BIOS" + "\\"
GUEST_KEY = r"registry:HKLM\SOFTWARE\Microsoft\Virtual Machine\Guest\Parameters" + "\\"
GUEST_HOST_NAME = GUEST_KEY + "HostName"
GUEST_VM_NAME = GUEST_KEY + "VirtualMachineName"
GUEST_PHYSICAL_HOST = GUEST_KEY + "PhysicalHostNameFullyQualified"

SERVICES = r"registry:HKLM\SYSTEM\CurrentControlSet\Services" + "\\"
DEVICE_GUARD = r"registry:HKLM\SYSTEM\CurrentControlSet\Control\DeviceGuard" + "\\"
VBS = DEVICE_GUARD + "EnableVirtualizationBasedSecurity"
HVCI = DEVICE_GUARD + r"Scenarios\HypervisorEnforcedCodeIntegrity\Enabled"

RSMB = "firmware:RSMB"
PF_SLAT = "winapi:IsProcessorFeaturePresent:20"
PF_FIRMWARE = "winapi:IsProcessorFeaturePresent:21"
TOTAL_PHYS = "winapi:GlobalMemoryStatusEx:ullTotalPhys"
ACTIVE_PROCESSORS = "winapi:GetActiveProcessorCount"
NATIVE_ARCH = "winapi:GetNativeSystemInfo:wProcessorArchitecture"
BCD_LAUNCH = "bcd:{default}:hypervisorlaunchtype"
#: Wine's own registry key and ntdll export: present only when this "Windows" is wine.
WINE_KEY = r"registry:HKLM\SOFTWARE\Wine"
WINE_VERSION = "winapi:wine_get_version"

def under_wine(facts: OsFacts) -> bool:
    """Whether recorded Windows facts come from wine (its key or its ntdll export)."""
    return facts.state(WINE_KEY) == "dir" or facts.state(WINE_VERSION) == "ok"


#: The DMI key each BIOS-key value stands for (Windows copies them from SMBIOS at boot).
BIOS_VALUES: dict[str, str] = {
    "sys_vendor": "SystemManufacturer",
    "product_name": "SystemProductName",
    "product_version": "SystemVersion",
    "board_vendor": "BaseBoardManufacturer",
    "bios_vendor": "BIOSVendor",
    "bios_version": "BIOSVersion",
}

#: Service key -> the component whose installation creates it.
SERVICE_COMPONENTS: dict[str, str] = {
    "vmms": "Hyper-V Virtual Machine Management (the Hyper-V role)",
    "hvservice": "Hypervisor service (hvservice)",
    "HvHost": "HV Host Service",
    "vmcompute": "Host Compute Service (containers and WSL 2)",
    "LxssManager": "WSL (inbox LxssManager)",
    "WslService": "WSL (Store package WslService)",
    "vmbus": "VMBus",
}


def service(name: str) -> str:
    return SERVICES + name


def bios_value(name: str) -> str:
    return BIOS_KEY + name


#: Every pseudo-path above that a Windows probe records.
READ_PATHS: tuple[str, ...] = (
    CURRENT_BUILD, UBR, EDITION_ID, INSTALLATION_TYPE, PRODUCT_NAME, DISPLAY_VERSION,
    GUEST_HOST_NAME, GUEST_VM_NAME, GUEST_PHYSICAL_HOST, VBS, HVCI, RSMB, PF_SLAT,
    PF_FIRMWARE, TOTAL_PHYS, ACTIVE_PROCESSORS, NATIVE_ARCH, BCD_LAUNCH, WINE_KEY, WINE_VERSION,
    *(bios_value(v) for v in BIOS_VALUES.values()),
    *(service(s) for s in SERVICE_COMPONENTS),
)
