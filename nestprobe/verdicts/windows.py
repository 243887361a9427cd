"""This Windows' own steps, added to a verdict whose environment permits the scenario.

When the matrix says a scenario is supported (or may work) here, what is still missing is
often in this Windows: the feature is not installed, or it is installed and the Windows
hypervisor did not launch. The installed components (service keys) decide which; a paste
that does not show them gets both, each saying when it applies. Rows are data, matched on
the Situation like rules; a blocked verdict gets none (the blocking layer comes first).
"""

from __future__ import annotations

from nestprobe.model.record import Record
from nestprobe.model.verdicts import Scenario, Status
from nestprobe.verdicts.rules import When, matches, when
from nestprobe.verdicts.situation import Situation

#: Statuses whose environment lets the scenario run once this Windows is ready.
PERMITTING: frozenset[Status] = frozenset({"supported", "unsupported", "evaluation-only"})
_CLIENT = ("pro", "education", "enterprise", "other", "unknown")
_SERVER = ("server", "azure-local")
#: Places where the Windows hypervisor is not running in this OS (not its root partition).
_NOT_ROOT = ("bare-metal", "unseen", "vm", "hyperv-l1vh")


class WindowsStep(Record):
    id: str
    scenarios: tuple[Scenario, ...]
    when: When
    remediation: tuple[str, ...]


WINDOWS_STEPS: tuple[WindowsStep, ...] = (
    # Hyper-V isolated containers need the Hyper-V role too (system-requirements.md).
    WindowsStep("hyperv-feature", ("hyperv", "hyperv-containers"),
                when(os="windows", win_hyperv=("absent", "unknown"), win_edition=_CLIENT),
                ("windows-enable-hyperv",)),
    WindowsStep("hyperv-role", ("hyperv", "hyperv-containers"),
                when(os="windows", win_hyperv=("absent", "unknown"), win_edition=_SERVER),
                ("windows-install-hyperv-server",)),
    WindowsStep("hypervisor-launch", ("hyperv", "hyperv-containers"),
                when(os="windows", win_hyperv=("installed", "unknown"), place=_NOT_ROOT),
                ("windows-hypervisor-launch",)),
    WindowsStep("wsl-install", ("wsl2",),
                when(os="windows", win_wsl=("absent", "unknown"),
                     win_wsl2_build=("install", "unknown")),
                ("windows-wsl-install",)),
    WindowsStep("wsl-manual", ("wsl2",),
                when(os="windows", win_wsl=("absent", "unknown"), win_wsl2_build="manual"),
                ("windows-wsl-manual",)),
    WindowsStep("vm-platform", ("wsl2",),
                when(os="windows", win_wsl=("installed", "unknown"), place=_NOT_ROOT),
                ("windows-vm-platform",)),
    WindowsStep("containers-feature", ("hyperv-containers",),
                when(os="windows", win_edition=_CLIENT), ("windows-enable-containers",)),
    WindowsStep("containers-role", ("hyperv-containers",),
                when(os="windows", win_edition=_SERVER), ("windows-install-containers-server",)),
)


def windows_steps(scenario: Scenario, situation: Situation, status: Status) -> tuple[str, ...]:
    """Remediation ids of every row that applies, for a verdict of ``status``."""
    if status not in PERMITTING:
        return ()
    return tuple(rid for row in WINDOWS_STEPS
                 if scenario in row.scenarios and matches(row.when, situation)
                 for rid in row.remediation)
