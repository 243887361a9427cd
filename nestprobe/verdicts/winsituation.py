"""The Windows part of the Situation: a few plain values from ``environment.windows``.

Every field is ``n/a`` when this OS is not Windows and ``unknown`` when the facts were
not recorded (a paste shows no installed components, a non-administrator cannot read the
BCD store). Rules and the Windows remediation rows (verdicts/windows.py) match on them.
"""

from __future__ import annotations

from collections.abc import Mapping

from nestprobe.decode import winbuild, winpaths
from nestprobe.model.assessment import WindowsFacts
from nestprobe.model.typeshim import Literal, NamedTuple, cast, get_args

WinEdition = Literal["home", "pro", "education", "enterprise", "server", "azure-local", "other",
                     "unknown", "n/a"]
#: "install": ``wsl --install`` works (19041+); "manual": WSL 2 with the manual steps
#: (18362.1049-19040); "too-old": no WSL 2 on this build.
WinWsl2Build = Literal["install", "manual", "too-old", "unknown", "n/a"]
WinComponent = Literal["installed", "absent", "unknown", "n/a"]
WinLaunch = Literal["auto", "off", "not-set", "unknown", "n/a"]
WinFirmware = Literal["enabled", "disabled", "unknown", "n/a"]
WinVbs = Literal["configured", "off", "unknown", "n/a"]

#: Evidence sources, by what they back (situation._EVIDENCE_FOR uses these as prefixes).
PASTE_HYPERVISOR = ("coreinfo:HYPERVISOR", "systeminfo:Hyper-V Requirements",
                    "get-computerinfo:HyperVisorPresent", "msinfo32:Hyper-V")
PASTE_VT = ("coreinfo:VMX", "coreinfo:SVM", "systeminfo:Hyper-V Requirements/VM Monitor",
            "get-computerinfo:HyperVRequirementVMMonitor", "msinfo32:Hyper-V - VM Monitor")
WINDOWS_IDENTITY = ("DMI.", "systeminfo:System M", "msinfo32:System M", "get-computerinfo:Cs")
WINDOWS_SLAT = (winpaths.PF_SLAT, "coreinfo:EPT", "coreinfo:NP",
                "systeminfo:Hyper-V Requirements/Second",
                "get-computerinfo:HyperVRequirementSecond", "msinfo32:Hyper-V - Second")
WINDOWS_FIRMWARE = (winpaths.PF_FIRMWARE, "systeminfo:Hyper-V Requirements/Virtualization",
                    "get-computerinfo:HyperVRequirementVirtualization",
                    "msinfo32:Hyper-V - Virtualization")
_EDITION_SOURCES = (winpaths.EDITION_ID, winpaths.INSTALLATION_TYPE, "systeminfo:OS Name",
                    "msinfo32:OS Name", "get-computerinfo:OsName")
_BUILD_SOURCES = (winpaths.CURRENT_BUILD, winpaths.UBR, "systeminfo:OS Version",
                  "msinfo32:Version", "get-computerinfo:Os")
WINDOWS_EVIDENCE: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "win_edition": ("environment", _EDITION_SOURCES),
    "win_wsl2_build": ("environment", _BUILD_SOURCES),
    "win_hyperv": ("environment", (winpaths.service("vmms"), winpaths.service("hvservice"))),
    "win_wsl": ("environment", (winpaths.service("LxssManager"),
                                winpaths.service("WslService"))),
    "win_launch": ("environment", (winpaths.BCD_LAUNCH,)),
    "win_firmware": ("virtualization", WINDOWS_FIRMWARE),
    "win_vbs": ("environment", (winpaths.VBS, winpaths.HVCI)),
}


def _component(value: bool | None) -> WinComponent:
    return "unknown" if value is None else "installed" if value else "absent"


def _wsl2_build(windows: WindowsFacts) -> WinWsl2Build:
    arm64 = windows.architecture == "ARM64"
    ok = winbuild.wsl2_build_ok(windows.build, windows.ubr, arm64=arm64)
    if ok is None:
        return "unknown"
    if not ok:
        return "too-old"
    assert windows.build is not None
    return "install" if windows.build >= winbuild.WSL_INSTALL_BUILD else "manual"


class WindowsPart(NamedTuple):
    edition: WinEdition = "n/a"
    wsl2_build: WinWsl2Build = "n/a"
    hyperv: WinComponent = "n/a"
    wsl: WinComponent = "n/a"
    launch: WinLaunch = "n/a"
    firmware: WinFirmware = "n/a"
    vbs: WinVbs = "n/a"
    vm_name: str = ""
    host_name: str = ""


_EDITIONS: frozenset[str] = frozenset(get_args(WinEdition))
_LAUNCHES: frozenset[str] = frozenset(get_args(WinLaunch))


def windows_part(windows: WindowsFacts | None) -> WindowsPart:
    """The ``win_*`` Situation fields (and the Hyper-V VM's name and host for the text)."""
    if windows is None:
        return WindowsPart()
    launch = windows.hypervisor_launch or "unknown"
    firmware: WinFirmware = ("unknown" if windows.firmware_virtualization is None else
                             "enabled" if windows.firmware_virtualization else "disabled")
    vbs: WinVbs = ("unknown" if windows.vbs_configured is None else
                   "configured" if windows.vbs_configured or windows.hvci_configured else "off")
    guest = windows.guest_parameters
    return WindowsPart(
        edition=cast("WinEdition", windows.edition if windows.edition in _EDITIONS else "other"),
        wsl2_build=_wsl2_build(windows),
        hyperv=_component(windows.hyperv_installed),
        wsl=_component(windows.wsl_installed),
        launch=cast("WinLaunch", launch if launch in _LAUNCHES else "unknown"),
        firmware=firmware,
        vbs=vbs,
        vm_name=guest.get("VirtualMachineName", ""),
        host_name=guest.get("PhysicalHostNameFullyQualified") or guest.get("HostName", ""),
    )
