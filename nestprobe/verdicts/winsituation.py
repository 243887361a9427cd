"""The Windows part of the Situation: a few plain values from the assessment's facts.

Every field is ``n/a`` when this OS is not Windows and ``unknown`` when the facts were
not recorded (a paste shows no installed components, a non-administrator cannot read the
BCD store). Rules and the Windows remediation rows (verdicts/windows.py) match on them.
assess/facts.py decides the values and their evidence; the words are the model's.
"""

from __future__ import annotations

from typing import NamedTuple

from nestprobe.model.assessment import Assessment
from nestprobe.model.facts import (
    WinComponent,
    WinEdition,
    WinFirmware,
    WinLaunch,
    WinVbs,
    WinWsl2Build,
)

__all__ = ["WinComponent", "WinEdition", "WinFirmware", "WinLaunch", "WinVbs", "WinWsl2Build",
           "WindowsPart", "windows_part"]


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


def windows_part(a: Assessment) -> WindowsPart:
    """The ``win_*`` Situation fields (and the Hyper-V VM's name and host for the text)."""
    f = a.facts  # "n/a" and "" throughout when this OS is not Windows
    return WindowsPart(
        edition=f.win_edition.value,
        wsl2_build=f.win_build.value,
        hyperv=f.hyperv_role.value,
        wsl=f.wsl_installed.value,
        launch=f.win_launch.value,
        firmware=f.win_firmware.value,
        vbs=f.win_vbs.value,
        vm_name=f.vm_name.value,
        host_name=f.host_name.value,
    )
