"""The OS-fact key vocabulary: every path and pseudo-path a probe records, in one place.

Linux facts are files read through one root (:data:`WATCHED_PATHS`, read by
sources/osfacts.py). Windows facts are registry values, the raw SMBIOS table and Win32
answers recorded under pseudo-paths (the keys here; the list of them and how each is read,
``WINDOWS_FACTS``, in model/winfacts.py: only a Windows probe needs it). The read-back
names below (``CURRENT_BUILD``, ``PF_SLAT``, ...) are the pseudo-paths the decoders look
up, spelled once (``decode/winpaths.py`` re-exports them). Paste importers record their
own ``<tool>:<label>`` keys (decode/winreport.py).
"""

from __future__ import annotations

# ------------------------------------------------------------------------- Linux

#: Linux's VMBus device for Hyper-V Dynamic Memory under the hv_balloon driver, when bound:
#: class HV_DM_GUID {525074dc-8985-46e2-8057-a307dc18a502} (include/linux/hyperv.h), the
#: instance Hyper-V gives it (lsvmbus -vv on Hyper-V and Azure guests).
HV_BALLOON_DEVICE = "/sys/bus/vmbus/drivers/hv_balloon/1eccfd72-4b41-45ef-b73a-4a6e44c12924"

#: Every file the probe reads (docs/architecture.md, "OS files the probe reads").
#: The ``(dir)`` entries are looked at for existence only: their state is "dir".
WATCHED_PATHS: tuple[str, ...] = (
    "/proc/cpuinfo",
    "/proc/sys/kernel/osrelease",
    "/proc/modules",
    "/proc/xen",  # (dir)
    "/proc/xen/capabilities",
    "/sys/hypervisor/type",
    "/sys/hypervisor/properties/features",
    "/sys/hypervisor/guest_type",  # PV / HVM / PVH: decides what a Xen domain may use
    "/proc/meminfo",  # MemTotal, for the Hyper-V container host condition
    "/sys/devices/system/cpu/present",  # processors, for the vCPU conditions
    "/sys/class/dmi/id/sys_vendor",
    "/sys/class/dmi/id/product_name",
    "/sys/class/dmi/id/product_version",
    "/sys/class/dmi/id/board_vendor",
    "/sys/class/dmi/id/bios_vendor",
    "/sys/class/dmi/id/bios_version",
    "/sys/class/dmi/id/chassis_asset_tag",
    "/sys/class/dmi/id/chassis_vendor",
    "/sys/module/kvm",  # (dir)
    "/sys/module/kvm_intel",  # (dir)
    "/sys/module/kvm_amd",  # (dir)
    "/sys/module/kvm_pvm",  # (dir)
    "/sys/module/kvm_intel/parameters/nested",
    "/sys/module/kvm_amd/parameters/nested",
    # Hyper-V's Dynamic Memory device (class HV_DM_GUID, instance 1eccfd72-...) bound to
    # hv_balloon (dir): the host's Dynamic Memory protocol reaches this guest.
    HV_BALLOON_DEVICE,
    "/proc/device-tree/hypervisor/compatible",
    "/.dockerenv",
    "/run/.containerenv",
    "/proc/1/cgroup",
    # The container manager's own statement, readable without root (systemd virt.c
    # detect_container: /run/host/container-manager, then /run/systemd/container).
    "/run/host/container-manager",
    "/run/systemd/container",
    # PID 1's $container (root only; only the container= entry is kept, see ENVIRON_PATH).
    "/proc/1/environ",
    # This process's cgroups: readable by anyone, and inside the container with us.
    "/proc/self/cgroup",
)

# ----------------------------------------------------------------------- Windows

#: Registry keys under HKLM, as the reader opens them.
CURRENT_VERSION_KEY = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion"
BIOS_REG_KEY = r"HARDWARE\DESCRIPTION\System\BIOS"
GUEST_PARAMETERS_KEY = r"SOFTWARE\Microsoft\Virtual Machine\Guest\Parameters"
SERVICES_KEY = r"SYSTEM\CurrentControlSet\Services"
DEVICE_GUARD_KEY = r"SYSTEM\CurrentControlSet\Control\DeviceGuard"
HVCI_KEY = DEVICE_GUARD_KEY + r"\Scenarios\HypervisorEnforcedCodeIntegrity"

#: IsProcessorFeaturePresent arguments (winnt.h PF_*).
PF_SECOND_LEVEL_ADDRESS_TRANSLATION = 20
PF_VIRT_FIRMWARE_ENABLED = 21


# The pseudo-paths read back by the decoders (each one is recorded above; a test checks).
CURRENT_VERSION = "registry:HKLM\\" + CURRENT_VERSION_KEY + "\\"
CURRENT_BUILD = CURRENT_VERSION + "CurrentBuild"
UBR = CURRENT_VERSION + "UBR"
EDITION_ID = CURRENT_VERSION + "EditionID"
INSTALLATION_TYPE = CURRENT_VERSION + "InstallationType"
PRODUCT_NAME = CURRENT_VERSION + "ProductName"
DISPLAY_VERSION = CURRENT_VERSION + "DisplayVersion"

BIOS_KEY = "registry:HKLM\\" + BIOS_REG_KEY + "\\"
GUEST_KEY = "registry:HKLM\\" + GUEST_PARAMETERS_KEY + "\\"
GUEST_HOST_NAME = GUEST_KEY + "HostName"
GUEST_VM_NAME = GUEST_KEY + "VirtualMachineName"
GUEST_PHYSICAL_HOST = GUEST_KEY + "PhysicalHostNameFullyQualified"

SERVICES = "registry:HKLM\\" + SERVICES_KEY + "\\"
DEVICE_GUARD = "registry:HKLM\\" + DEVICE_GUARD_KEY + "\\"
VBS = DEVICE_GUARD + "EnableVirtualizationBasedSecurity"
HVCI = DEVICE_GUARD + r"Scenarios\HypervisorEnforcedCodeIntegrity\Enabled"

RSMB = "firmware:RSMB"
PF_SLAT = f"winapi:IsProcessorFeaturePresent:{PF_SECOND_LEVEL_ADDRESS_TRANSLATION}"
PF_FIRMWARE = f"winapi:IsProcessorFeaturePresent:{PF_VIRT_FIRMWARE_ENABLED}"
TOTAL_PHYS = "winapi:GlobalMemoryStatusEx:ullTotalPhys"
ACTIVE_PROCESSORS = "winapi:GetActiveProcessorCount"
NATIVE_ARCH = "winapi:GetNativeSystemInfo:wProcessorArchitecture"
BCD_LAUNCH = "bcd:{default}:hypervisorlaunchtype"
#: Wine's own registry key and ntdll export: present only when this "Windows" is wine.
WINE_KEY = r"registry:HKLM\SOFTWARE\Wine"
WINE_VERSION = "winapi:wine_get_version"

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


#: Every read-back pseudo-path above that a Windows probe records.
READ_PATHS: tuple[str, ...] = (
    CURRENT_BUILD, UBR, EDITION_ID, INSTALLATION_TYPE, PRODUCT_NAME, DISPLAY_VERSION,
    GUEST_HOST_NAME, GUEST_VM_NAME, GUEST_PHYSICAL_HOST, VBS, HVCI, RSMB, PF_SLAT,
    PF_FIRMWARE, TOTAL_PHYS, ACTIVE_PROCESSORS, NATIVE_ARCH, BCD_LAUNCH, WINE_KEY, WINE_VERSION,
    *(bios_value(v) for v in BIOS_VALUES.values()),
    *(service(s) for s in SERVICE_COMPONENTS),
)


# ------------------------------------------------------------------------- pastes

#: Keys a paste importer records about the paste itself, besides its ``<tool>:<label>`` lines
#: (decode/winreport.py reads both): how the file's bytes were read when not UTF-8
#: (sources/importers/textcodec.py), how systeminfo's / msinfo32's labels were read (a
#: language's words, or the fixed order), and systeminfo's hypervisor sentence when the
#: importer knew the requirements block held it.
PASTE_ENCODING = "paste:encoding"
SYSTEMINFO_READING = "systeminfo:reading"
MSINFO32_READING = "msinfo32:reading"
SYSTEMINFO_SENTENCE = "systeminfo:Hyper-V Requirements/hypervisor detected"
