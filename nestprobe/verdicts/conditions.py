"""Conditions as checks: each documented prerequisite, decided from the evidence where it can be.

One row per prerequisite: which scenarios it concerns, when it applies (a ``when`` over
the :class:`~.situation.Situation`, as matrix rules have), the check that decides it
(a function of :data:`CHECKS`, by name), what an unmet state does to the verdict (the
status it sets at least, the fixes it brings, whether those fixes replace the rule's),
where to confirm it when the evidence cannot, and the document that states it.

A check returns met, unmet or unknown with the evidence that decided it. Rules attach
rows by id (``Rule.notes``); :data:`GLOBAL_CONDITIONS` attach wherever their ``when``
holds. This Windows' own facts (environment.windows: edition, build, installed
components, the firmware switch, memory and processors) decide the rows about it; on any
other OS those rows stay unknown, with where to look.
"""

from __future__ import annotations

from nestprobe.model.assessment import Assessment
from nestprobe.model.evidence import Evidence
from nestprobe.model.lazyre import lazy_compile
from nestprobe.model.record import Record, field
from nestprobe.model.typeshim import Callable, Mapping
from nestprobe.model.verdicts import WINDOWS_SCENARIOS, ConditionState, Scenario, Status
from nestprobe.verdicts import sources
from nestprobe.verdicts.rules import When, when
from nestprobe.verdicts.situation import Situation

ALL: tuple[Scenario, ...] = ("hyperv", "wsl2", "hyperv-containers", "azure-local", "third-party")
WIN = WINDOWS_SCENARIOS
HV_ROLE: tuple[Scenario, ...] = ("hyperv", "hyperv-containers", "azure-local")
GiB = 2**30
#: Windows builds (Microsoft's release information: RI10, RIWS).
WS2016 = 14393  # Windows Server 2016, Windows 10 1607: VM configuration version 8.0
WS2019 = 17763
WS2022 = 20348  # Windows Server 2022 (Windows 11 is 22000+): VM configuration version 9.3
#: MemTotal is what the kernel manages: a 4 GB VM shows about 3.8 GiB. At or above this
#: the 4 GB requirement holds; below UNDER_4GB it cannot; between, confirm on the host.
ENOUGH_FOR_4GB = 3.5 * GiB
UNDER_4GB = 3.0 * GiB
MAX_VCPUS_WS2019 = 225
#: Windows 8 (OSV): the first client Windows with Hyper-V; 10240: Windows 10 (RI10).
WIN8 = 9200
WIN10 = 10240
#: Client product names of Windows 8 and later (all have client Hyper-V; x64 and the
#: edition are checked apart), for a paste that names its Windows but shows no build.
CLIENT_HYPERV_NAMES = lazy_compile(r"\bWindows (?:8(?:\.1)?|10|11)\b")
#: Azure Local: "A minimum of 32 GB RAM per node" (AZURE_LOCAL_REQ). What Windows reports
#: is a little under what is installed: at or above this it holds, below the other it
#: cannot; between, confirm.
AZURE_LOCAL_MEMORY_MET = 30 * GiB
AZURE_LOCAL_MEMORY_UNMET = 24 * GiB
#: Editions that have the Hyper-V role (Install-Hyper-V.md: not Home).
HYPERV_EDITIONS = ("pro", "education", "enterprise", "server", "azure-local")


class Outcome(Record):
    state: ConditionState
    evidence: tuple[Evidence, ...] = ()
    claim: str = ""  # what the evidence showed, in words (becomes the reason when unmet)
    fix: tuple[str, ...] | None = None  # replaces the row's unmet_fix when the cause decides it


Check = Callable[[Assessment, Situation, "ConditionRow"], Outcome]


class ConditionRow(Record):
    """One prerequisite and how to decide it."""

    id: str
    scenarios: tuple[Scenario, ...]
    text: str
    check: str  # a key of CHECKS
    confirm: str  # where to look when the evidence cannot decide
    source: str
    when: When = field(default_factory=dict)
    #: where to look on Windows, when ``confirm`` names Linux tools (a Windows report never
    #: prints systemd-detect-virt, dmidecode, nproc or /proc paths)
    confirm_windows: str = ""
    threshold: int = 0  # the check's parameter (a build, a count), when it takes one
    unmet_status: Status | None = None  # the verdict is at least this when unmet
    unmet_fix: tuple[str, ...] = ()  # remediation ids ("@outer", "@resources" resolve)
    supersedes: bool = False  # the unmet fix replaces the rule's (which cannot help first)


# --------------------------------------------------------------------------- checks


def _hyperv_host_build(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    """0x40000002: the Microsoft hypervisor's build is the Hyper-V host's Windows build."""
    f = a.facts
    build = f.host_build.value
    if build is None or f.hypervisor.value != "microsoft":
        return Outcome("unknown", claim="the outer hypervisor's build is not visible from here")
    ev = f.host_build.evidence
    if f.hyperv_emulator.value is not None or f.identified.value != "high":
        return Outcome("unknown", ev, "the version leaf may be another hypervisor's emulation")
    if build >= row.threshold:
        return Outcome("met", ev, f"the Hyper-V host runs build {build} "
                                  f"(at least {row.threshold})")
    return Outcome("unmet", ev, f"the Hyper-V host runs build {build}, older than "
                                f"{row.threshold}, which this CPU's nesting requires")


def _implied_by_exposure(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    """Met when VT-x/AMD-V already reaches this VM: the outer layer only passes it on then."""
    if a.facts.exposed.value:
        return Outcome("met", tuple(e for e in a.facts.exposed.of_kind("cpuid") if e.value == 1),
                       "VT-x/AMD-V reaches this VM, which the outer layer allows only when "
                       "this holds")
    return Outcome("unknown")


def _azure_size(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    ev = a.facts.product_name.evidence
    if s.azure_size == "capable":
        return Outcome("met", ev, f"size {s.instance_type} is in a nested-capable family")
    if s.azure_size == "not-capable":
        return Outcome("unmet", ev, f"size {s.instance_type} is in a family whose size page "
                                    "says Nested Virtualization: Not Supported")
    return Outcome("unknown", ev)


def _ws2019_vcpus(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    f = a.facts
    vcpus, build, server = f.vcpus.value, f.win_build_number.value, f.win_server.value
    ev = f.vcpus.evidence
    named = f.win_release.value or f"build {build}"
    if build is not None and (server is False or build > WS2019):
        return Outcome("met", (*f.win_build.evidence, *ev),
                       f"this VM runs {named}, not Windows Server 2019 or earlier")
    if vcpus is None:
        return Outcome("unknown")
    if vcpus <= row.threshold:
        return Outcome("met", ev, f"{vcpus} vCPUs (at most {row.threshold})")
    if server and build is not None:
        return Outcome("unmet", (*f.win_build.evidence, *ev),
                       f"{vcpus} vCPUs under {named}: more "
                       f"than the {row.threshold} Windows Server 2019 and earlier allow")
    return Outcome("unknown", ev, f"{vcpus} vCPUs: too many if this VM runs Windows Server 2019 "
                                  "or earlier")


def _container_memory(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    memory = a.facts.memory.value
    ev = a.facts.memory.evidence
    if memory is None:
        return Outcome("unknown")
    if memory >= ENOUGH_FOR_4GB:
        return Outcome("met", ev, f"{memory / GiB:.1f} GiB managed by this OS (4 GB assigned "
                                  "shows about 3.8 GiB)")
    if memory < UNDER_4GB:
        return Outcome("unmet", ev, f"only {memory / GiB:.1f} GiB: less than the 4 GB a "
                                    "Hyper-V isolated container host needs")
    return Outcome("unknown", ev, f"{memory / GiB:.1f} GiB managed by this OS: the memory "
                                  "assigned may be just under or over 4 GB")


def _container_vcpus(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    vcpus = a.facts.vcpus.value
    ev = a.facts.vcpus.evidence
    if vcpus is None:
        return Outcome("unknown")
    if vcpus >= row.threshold:
        return Outcome("met", ev, f"{vcpus} processors")
    return Outcome("unmet", ev, f"{vcpus} processor(s): fewer than the {row.threshold} a Hyper-V "
                                "isolated container host needs")


def _root_partition(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    """The Windows hypervisor is running: this OS is its root partition. On Windows, a
    CPUID view without a root partition says it did not launch in this boot, and the BCD
    store's hypervisorlaunchtype Off says it never will."""
    if s.place == "hyperv-root":
        return Outcome("met", a.facts.partition.evidence,
                       "this OS is the Microsoft hypervisor's root partition: it launched")
    if s.os != "windows":
        return Outcome("unknown")
    launch = a.facts.win_launch.evidence
    if s.win_launch == "off":
        return Outcome("unmet", launch, "hypervisorlaunchtype is Off in the boot entry: the "
                                        "Windows hypervisor never starts")
    # Running, it would make this OS its root partition: CPUID would show the hypervisor
    # bit and "Microsoft Hv" with the root's privileges. A clear bit (CPUID, Coreinfo), a
    # tool's requirement list (shown only when Windows sees no hypervisor), or another
    # hypervisor's signature leaves read in a VM prove it is not running.
    absent = a.facts.hypervisor_absent
    other = s.place == "vm" and a.facts.signed.value
    if s.place in ("bare-metal", "unseen", "vm") and (absent.value or other):
        return Outcome("unmet", (*absent.evidence, *launch),
                       "this Windows is not the root partition of a Microsoft hypervisor: the "
                       "Windows hypervisor did not launch in this boot")
    return Outcome("unknown", launch)


def _windows_edition(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    """Windows Home cannot have the Hyper-V role; the other editions can."""
    ev = a.facts.win_edition.evidence
    if s.win_edition in HYPERV_EDITIONS:
        return Outcome("met", ev, f"this is Windows {s.win_edition}, which has the Hyper-V role")
    if s.win_edition == "home":
        windows = a.environment.windows
        # Windows 7/8 have no Settings page to upgrade the edition from: their path is the
        # product's own (a new installation), not Windows 10/11's Activation page.
        legacy = windows is not None and windows.build is not None and windows.build < WIN10
        return Outcome("unmet", ev, "this is Windows Home: the Hyper-V role cannot be installed "
                                    "on Home (WSL2 and the Virtual Machine Platform work there)",
                       fix=upgrade_fix(a) if legacy else None)
    return Outcome("unknown", ev)


def _wsl2_build(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    """WSL 2's build floor (winsituation: install, manual, too-old)."""
    ev = a.facts.win_build.evidence
    if s.win_wsl2_build == "install":
        return Outcome("met", ev, "this build takes wsl --install (19041 or later)")
    if s.win_wsl2_build == "manual":
        return Outcome("met", ev, "this build runs WSL 2 with the manual install steps "
                                  "(18362.1049-19040)")
    if s.win_wsl2_build == "too-old":
        return Outcome("unmet", ev, f"{_release(a)} predates WSL 2", fix=upgrade_fix(a))
    return Outcome("unknown", ev)


def _component(state: str, ev: tuple[Evidence, ...], what: str) -> Outcome:
    """An installed component, from its service key (live or replayed Windows facts)."""
    if state == "installed":
        return Outcome("met", ev, f"{what} is installed (its service key exists)")
    if state == "absent":
        return Outcome("unmet", ev, f"{what} is not installed (its service key is absent)")
    return Outcome("unknown", ev)


def _hyperv_role(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    return _component(s.win_hyperv, a.facts.hyperv_role.evidence, "the Hyper-V role (vmms)")


def _wsl_installed(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    return _component(s.win_wsl, a.facts.wsl_installed.evidence,
                      "WSL (LxssManager or WslService)")


def _firmware_on(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    """Windows' own word on the firmware switch (PF_VIRT_FIRMWARE_ENABLED, a tool's line)."""
    ev = a.facts.win_firmware.evidence
    if a.facts.firmware_disabled.value is True:
        return Outcome("unmet", ev, "Windows reports virtualization disabled in firmware")
    if a.facts.firmware_disabled.value is False:
        return Outcome("met", ev, "Windows reports virtualization enabled in firmware")
    return Outcome("unknown", ev, "this evidence shows the CPU's capability, not the "
                                  "firmware's switch")


def _never_visible(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    """Facts only this OS's configuration holds (installed components, policies)."""
    return Outcome("unknown")


def _slat(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    ev = a.facts.ept_npt.evidence
    if a.facts.slat.value is True:
        return Outcome("met", ev, "second-level address translation is available")
    if a.facts.slat.value is False:
        return Outcome("unmet", ev, "no second-level address translation (EPT/NPT), which "
                                    "Hyper-V requires")
    return Outcome("unknown", ev)


def _no_hidden_hypervisor(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    ev = a.facts.feature_mask.evidence
    if a.facts.feature_mask.value == "native":
        return Outcome("met", ev, "the CPU shows the features hypervisors hide together with "
                                  "VT-x/AMD-V: real hardware")
    return Outcome("unknown", ev)


def _kvm_device(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    state = a.facts.kvm.value
    ev = a.facts.kvm.of_kind("kvm")
    if state == "usable":
        return Outcome("met", ev, "/dev/kvm opens read-write and answers KVM's API")
    if state == "absent":
        return Outcome("unmet", ev, "/dev/kvm does not exist: no KVM module is loaded",
                       fix=("kvm-module",))
    if state == "no-access":
        return Outcome("unmet", ev, "/dev/kvm exists but this user cannot open it",
                       fix=("kvm-access",))
    return Outcome("unknown", ev)


def _windows_here(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    ev = a.facts.os.evidence
    confidence = a.facts.os_confidence.value
    if s.os == "windows":
        how = "reports itself" if confidence == "certain" else (
            f"inferred, {confidence} confidence")
        return Outcome("met", ev, f"this OS is Windows ({how})")
    return Outcome("unknown", ev, "the snapshot does not record which OS took it")


def _not_wsl(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    ev = a.facts.wsl_kernel.evidence
    if a.facts.wsl.value is False:
        return Outcome("met", ev)
    return Outcome("unknown", ev)


def _outer_is_hyperv(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    f = a.facts
    ev = f.hyperv_version.evidence
    if f.hypervisor.value == "microsoft" and f.identified.value == "high":
        return Outcome("met", ev, "the version leaf carries Microsoft's build and service "
                                  "numbers")
    return Outcome("unknown", ev, "another hypervisor may be presenting Hyper-V's interface")


def confirm_for(row: ConditionRow, s: Situation) -> str:
    """Where to confirm, in this OS's own tools."""
    return row.confirm_windows if s.os == "windows" and row.confirm_windows else row.confirm


def unmet_reason(row: ConditionRow, outcome: Outcome) -> str:
    """An unmet condition as a verdict's reason: what the evidence showed, never the
    condition's own text (which states the requirement and reads as its opposite)."""
    if outcome.claim:
        return outcome.claim[0].upper() + outcome.claim[1:]
    return f"Not met: {row.text}"


#: The remediation ids :func:`upgrade_fix` chooses from, one per product's upgrade path.
UPGRADE_FIXES = ("windows-feature-update", "windows-client-reinstall", "windows-server-upgrade")


def upgrade_fix(a: Assessment) -> tuple[str, ...]:
    """The way to a newer release that exists for this product: Windows Server moves by
    in-place upgrade or rebuild, Windows 10/11 by a feature update in Settings, older
    clients (no Settings app update to Windows 10/11) by a new installation."""
    windows = a.environment.windows
    update, reinstall, server = UPGRADE_FIXES
    if windows is not None and windows.server:
        return (server,)
    if windows is not None and windows.build is not None and windows.build < WIN10:
        return (reinstall,)
    return (update,)


def _release(a: Assessment) -> str:
    windows = a.environment.windows
    if windows is None:
        return "this Windows"
    return windows.release or (f"build {windows.build}" if windows.build else "this Windows")


def _windows_build(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    """This Windows' build against the row's floor (client and server alike)."""
    windows = a.environment.windows
    ev = a.facts.win_build.evidence
    if windows is None or windows.build is None:
        return Outcome("unknown", ev)
    if windows.build >= row.threshold:
        return Outcome("met", ev, f"{_release(a)} is build {windows.build} (at least "
                                  f"{row.threshold})")
    return Outcome("unmet", ev, f"{_release(a)} is build {windows.build}, older than the "
                                f"{row.threshold} this needs", fix=upgrade_fix(a))


def _client_hyperv(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:  # noqa: PLR0911 (a case table)
    """Client Hyper-V: Windows 8 (9200) or later, 64-bit; every Windows Server release
    nestprobe names has the Hyper-V role."""
    windows = a.environment.windows
    ev = a.facts.win_build.evidence
    if s.place == "hyperv-root" and a.hypervisor.hyperv is not None:
        return Outcome("met", a.facts.partition.evidence,
                       "the Microsoft hypervisor runs with this OS as its root: it has Hyper-V")
    if windows is None:
        return Outcome("unknown", ev)
    if windows.architecture is not None and windows.architecture not in ("AMD64", "x64"):
        return Outcome("unmet", a.facts.win_arch.evidence, f"{windows.architecture} Windows has no "
                       "Hyper-V: it needs 64-bit (x64) Windows", fix=("windows-client-reinstall",))
    if windows.server:
        return Outcome("met", ev, f"{_release(a)} has the Hyper-V role")
    if windows.build is None:
        # A product name without a build (a cut paste): Windows 8 and later name themselves.
        named = CLIENT_HYPERV_NAMES.search(windows.release or windows.product_name or "")
        if named:
            return Outcome("met", (*a.facts.win_edition.evidence, *ev),
                           f"this is {named.group(0)}, which has client Hyper-V")
        return Outcome("unknown", ev)
    if windows.build < row.threshold:
        return Outcome("unmet", ev, f"{_release(a)} has no client Hyper-V: it first shipped "
                       "in Windows 8 (build 9200)", fix=upgrade_fix(a))
    return Outcome("met", ev, f"{_release(a)} (build {windows.build}) has client Hyper-V")


def _dynamic_memory(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    """Linux shows whether hv_balloon drives the Dynamic Memory device; whether the host has
    Dynamic Memory on for this VM is the host's setting (Azure guests show the device too)."""
    bound = a.facts.dynamic_memory
    ev = bound.evidence
    if bound.value is False:
        return Outcome("met", ev, "no Dynamic Memory driver is bound in this VM: its memory "
                                  "does not change now either")
    if bound.value:
        return Outcome("unknown", ev, "hv_balloon drives the Dynamic Memory device here; "
                                      "whether Dynamic Memory is on is the host's setting")
    return Outcome("unknown")


def _azure_local_memory(a: Assessment, s: Situation, row: ConditionRow) -> Outcome:
    memory = a.environment.memory_bytes
    ev = a.facts.memory.evidence
    if memory is None:
        return Outcome("unknown")
    if memory >= AZURE_LOCAL_MEMORY_MET:
        return Outcome("met", ev, f"{memory / GiB:.1f} GiB of memory")
    if memory < AZURE_LOCAL_MEMORY_UNMET:
        return Outcome("unmet", ev, f"only {memory / GiB:.1f} GiB of memory: an Azure Local "
                                    "node needs at least 32 GB")
    return Outcome("unknown", ev, f"{memory / GiB:.1f} GiB reported: the installed memory may "
                                  "be just under or over 32 GB")


CHECKS: Mapping[str, Check] = {
    "hyperv-host-build": _hyperv_host_build,
    "implied-by-exposure": _implied_by_exposure,
    "azure-size": _azure_size,
    "ws2019-vcpus": _ws2019_vcpus,
    "container-memory": _container_memory,
    "container-vcpus": _container_vcpus,
    "root-partition": _root_partition,
    "windows-edition": _windows_edition,
    "wsl2-build": _wsl2_build,
    "hyperv-role": _hyperv_role,
    "wsl-installed": _wsl_installed,
    "firmware-on": _firmware_on,
    "not-visible": _never_visible,
    "slat": _slat,
    "no-hidden-hypervisor": _no_hidden_hypervisor,
    "kvm-device": _kvm_device,
    "windows-here": _windows_here,
    "not-wsl": _not_wsl,
    "outer-is-hyperv": _outer_is_hyperv,
    "windows-build": _windows_build,
    "client-hyperv": _client_hyperv,
    "azure-local-memory": _azure_local_memory,
    "dynamic-memory": _dynamic_memory,
}


# ----------------------------------------------------------------------------- rows

_HOST = "on the Hyper-V host: winver, or (Get-CimInstance Win32_OperatingSystem).BuildNumber"
_GET_VM = "on the Hyper-V host: Get-VM -Name <VM> | Select-Object Name, Version"

_ROWS: tuple[ConditionRow, ...] = (
    ConditionRow(
        "hyperv-host-intel", ALL,
        "The outer Hyper-V host runs Windows Server 2016 or Windows 10 version 1607 (build "
        "14393) or later: nested virtualization needs VM configuration version 8.0 (Intel "
        "VT-x with EPT)", "hyperv-host-build", _HOST,
        f"{sources.MS_ENABLE}; {sources.MS_VM_VERSIONS}",
        when(outer="hyperv", cpu=("intel", "other")), threshold=WS2016,
        unmet_status="blocked", unmet_fix=("hyperv-host-upgrade-intel",), supersedes=True),
    ConditionRow(
        "hyperv-host-amd", ALL,
        "The outer Hyper-V host runs Windows Server 2022 or Windows 11 (build 20348) or "
        "later: AMD nesting needs them and VM configuration version 9.3", "hyperv-host-build",
        _HOST, f"{sources.MS_ENABLE}; {sources.MS_VM_VERSIONS}",
        when(outer="hyperv", cpu="amd"), threshold=WS2022,
        unmet_status="blocked", unmet_fix=("hyperv-host-upgrade-amd",), supersedes=True),
    ConditionRow(
        "hyperv-host-amd-own-vms", ("hyperv",),
        "For this AMD host's own VMs to get nested virtualization, it runs Windows Server 2022 "
        "or Windows 11 (build 20348) or later; older hosts say 'this platform does not support "
        "nested virtualization' (Hyper-V itself runs here either way)", "hyperv-host-build",
        "winver on this host", f"{sources.MS_ENABLE}; {sources.MS_VM_VERSIONS}",
        when(place="hyperv-root", cpu="amd"), threshold=WS2022),
    ConditionRow(
        "vm-version-intel", ALL,
        "This VM's configuration version is 8.0 or higher", "implied-by-exposure", _GET_VM,
        f"{sources.MS_ENABLE}; {sources.MS_VM_VERSIONS}",
        when(outer="hyperv", cpu=("intel", "other"))),
    ConditionRow(
        "vm-version-amd", ALL,
        "This VM's configuration version is 9.3 or higher", "implied-by-exposure", _GET_VM,
        sources.MS_ENABLE, when(outer="hyperv", cpu="amd")),
    ConditionRow(
        "outer-is-hyperv", ALL,
        "The outer hypervisor is Microsoft Hyper-V itself, not another hypervisor presenting "
        "Hyper-V's interface", "outer-is-hyperv",
        "ask the administrator of the host, or run systemd-detect-virt / check the VM's "
        "hardware vendor in its firmware (DMI)", sources.LINUX_MSHYPERV, when(outer="hyperv"),
        confirm_windows="ask the administrator of the host, or read systeminfo's System "
        "Manufacturer and System Model (Microsoft Corporation / Virtual Machine on "
        "Hyper-V)"),
    ConditionRow(
        "azure-standard", ALL,
        "The Azure VM's Security type is Standard (not Trusted Launch)", "implied-by-exposure",
        "az vm show -g <RG> -n <VM> --query securityProfile.securityType",
        sources.MS_ENABLE, when(cloud="azure")),
    ConditionRow(
        "azure-size", ALL,
        "The Azure VM's size page says 'Nested Virtualization: Supported'", "azure-size",
        "the Feature support table of this size's page under "
        "learn.microsoft.com/azure/virtual-machines/sizes", sources.AZURE_SIZES,
        when(cloud="azure"), unmet_status="blocked", unmet_fix=("azure-resize",)),
    ConditionRow(
        "ws2019-vcpus", WIN,
        "If this first-level VM runs Windows Server 2019 or earlier, it has 225 vCPUs or "
        "fewer", "ws2019-vcpus",
        "in this VM: the Windows version (winver) and the processor count "
        "(Get-CimInstance Win32_ComputerSystem).NumberOfLogicalProcessors",
        sources.MS_ENABLE, when(place="vm", outer="hyperv"), threshold=MAX_VCPUS_WS2019,
        unmet_status="unsupported", unmet_fix=("vcpus-225",)),
    ConditionRow(
        "container-host-memory", ("hyperv-containers",),
        "The container host has at least 4 GB of memory", "container-memory",
        "the memory assigned to this machine (on a Hyper-V host: Get-VMMemory -VMName <VM>)",
        sources.MS_CONTAINERS, unmet_status="blocked", unmet_fix=("@resources",)),
    ConditionRow(
        "container-host-vcpus", ("hyperv-containers",),
        "The container host has at least 2 virtual processors", "container-vcpus",
        "the processor count of this machine (nproc)",
        sources.MS_CONTAINERS, threshold=2, unmet_status="blocked", unmet_fix=("@resources",),
        confirm_windows="the processor count of this machine: (Get-CimInstance "
        "Win32_ComputerSystem).NumberOfLogicalProcessors"),
    ConditionRow(
        "hypervisor-launches", WIN,
        "The Windows hypervisor launches at boot (bcdedit hypervisorlaunchtype Auto)",
        "root-partition", "bcdedit /enum | findstr -i hypervisorlaunchtype",
        sources.WSL_TROUBLESHOOTING,
        confirm_windows="in a Command Prompt as Administrator: bcdedit /enum {current} "
        "(hypervisorlaunchtype Auto)"),
    ConditionRow(
        "windows-edition", ("hyperv", "hyperv-containers"),
        "This Windows edition can have the Hyper-V role (Pro, Enterprise, Education or Server; "
        "not Home), which Hyper-V isolated containers need too", "windows-edition",
        "winver, or Settings > System > About (Edition)", sources.MS_INSTALL_HYPERV,
        when(os="windows"), unmet_status="blocked", unmet_fix=("windows-upgrade-edition",)),
    ConditionRow(
        "windows-wsl2-build", ("wsl2",),
        "This Windows build runs WSL 2: x64 Windows 10 version 1903 (build 18362.1049) or "
        "later, ARM64 version 2004 (build 19041), Windows 11, or Windows Server 2022 or later",
        "wsl2-build", "winver (the OS build)",
        f"{sources.WSL_INSTALL_MANUAL}; {sources.WSL_SERVER}", when(os="windows"),
        unmet_status="blocked", unmet_fix=("windows-feature-update",)),
    ConditionRow(
        "windows-hyperv-build", ("hyperv",),
        "This Windows has Hyper-V: Windows 8 (build 9200) or later, 64-bit, or Windows "
        "Server", "client-hyperv", "winver (the version and OS build) and Settings > System > "
        "About (System type)", f"{sources.MS_HYPERV_REQ}; {sources.MS_INSTALL_HYPERV}",
        when(os="windows"), threshold=WIN8, unmet_status="blocked",
        unmet_fix=("windows-client-reinstall",)),
    ConditionRow(
        "windows-containers-build", ("hyperv-containers",),
        "This Windows runs Windows containers: Windows 10 version 1607 / Windows Server "
        "2016 (build 14393) or later", "windows-build", "winver (the OS build)",
        sources.MS_CONTAINERS, when(os="windows"), threshold=WS2016, unmet_status="blocked",
        unmet_fix=("windows-feature-update",)),
    ConditionRow(
        "nested-guest-build", ("hyperv", "hyperv-containers"),
        "Hyper-V inside a VM needs a Windows 10 / Windows Server 2016 (build 14393) or later "
        "guest", "windows-build", "winver in this VM",
        f"{sources.MS_NESTING_2016}; {sources.MS_VM_VERSIONS}", when(os="windows", place="vm"),
        threshold=WS2016, unmet_status="blocked", unmet_fix=("windows-feature-update",)),
    ConditionRow(
        "azure-local-memory", ("azure-local",),
        "An Azure Local node has at least 32 GB of memory (and TPM 2.0, Secure Boot, two "
        "listed network adapters)", "azure-local-memory",
        "the installed memory (systeminfo: Total Physical Memory)", sources.AZURE_LOCAL_REQ,
        when(place=("bare-metal", "unseen")), unmet_status="blocked"),
    ConditionRow(
        "hyperv-dynamic-memory", WIN,
        "This VM's memory stops changing once Hyper-V runs inside it (Dynamic Memory and "
        "runtime resize stop): on the host, give it fixed memory: Set-VMMemory -VMName <VM> "
        "-DynamicMemoryEnabled $false", "dynamic-memory",
        "on the host: Get-VMMemory -VMName <VM> | Select-Object DynamicMemoryEnabled (in "
        "this guest, hv_balloon bound to the VMBus device of class "
        "{525074dc-8985-46e2-8057-a307dc18a502} means the host's Dynamic Memory protocol "
        "reaches it; Azure guests show it too)",
        f"{sources.MS_NESTED}; {sources.MS_NESTING_2016}; {sources.LINUX_HV_BALLOON}",
        when(outer="hyperv", place="vm"),
        confirm_windows="on the Hyper-V host: Get-VMMemory -VMName <VM> | Select-Object "
        "DynamicMemoryEnabled (in this VM, the Hyper-V Dynamic Memory integration "
        "service shows in Device Manager > System devices)"),
    ConditionRow(
        "wsl-installed", ("wsl2",),
        "WSL is installed in this Windows (wsl --install; its service LxssManager or "
        "WslService exists)", "wsl-installed", "wsl --status", sources.WSL_INSTALL,
        when(os="windows")),
    ConditionRow(
        "firmware-enabled", ALL,
        "VT-x/AMD-V is switched on in the firmware (the CPU having it is not enough)",
        "firmware-on",
        "systeminfo (Hyper-V Requirements: Virtualization Enabled In Firmware), or Task "
        "Manager > Performance > CPU (Virtualization)", sources.MS_HYPERV_REQ,
        when(os="windows", place=("bare-metal", "unseen"), exposed=True),
        unmet_status="blocked", unmet_fix=("firmware-enable",)),
    ConditionRow(
        "root-partition-or-guest", ALL,
        "This Windows is the root partition of its own running hypervisor (the Hyper-V host), "
        "not a guest VM", "not-visible",
        "on a physical PC whose Windows hypervisor runs (Hyper-V, WSL2, Windows Sandbox, "
        "Memory integrity) this Windows is the root partition; in a VM, systeminfo's System "
        "Manufacturer and System Model name the hypervisor (Microsoft Corporation / Virtual "
        "Machine, VMware, QEMU, innotek / VirtualBox); nestprobe run on that machine reads it "
        "from CPUID", sources.MS_HYPERV_REQ, when(place="root-or-guest")),
    ConditionRow(
        "hyperv-role", HV_ROLE,
        "The Hyper-V role is installed in this Windows", "hyperv-role",
        "Get-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V (client) or "
        "Get-WindowsFeature Hyper-V (server)", sources.MS_CONTAINERS),
    ConditionRow(
        "vm-platform", ("wsl2",),
        "The Virtual Machine Platform optional component is enabled", "not-visible",
        "Get-WindowsOptionalFeature -Online -FeatureName VirtualMachinePlatform",
        sources.WSL_TROUBLESHOOTING),
    ConditionRow(
        "slat", WIN,
        "Second-level address translation (EPT/NPT) is available, as Hyper-V requires",
        "slat", "systeminfo (Hyper-V Requirements) or coreinfo -v", sources.MS_HYPERV_REQ,
        when(exposed=True), unmet_status="blocked"),
    ConditionRow(
        "validated-hardware", ("azure-local",),
        "Production Azure Local runs on validated physical hardware (the Azure Local "
        "catalog)", "not-visible",
        "this machine's model in the Azure Local solutions catalog "
        "(azurestackhcisolutions.azure.microsoft.com)", sources.MS_NESTED),
    ConditionRow(
        "no-hidden-hypervisor", ALL,
        "No hypervisor hides below this OS (none is visible from here); if one does, its "
        "vendor's support statement applies instead", "no-hidden-hypervisor",
        "systemd-detect-virt, or the machine's hardware vendor (dmidecode -s "
        "system-product-name)", sources.NESTPROBE,
        when(place=("bare-metal", "unseen")),
        confirm_windows="systeminfo's System Manufacturer and System Model (a physical "
        "vendor and model, not Virtual Machine, VMware, VirtualBox or QEMU)"),
    ConditionRow(
        "kvm-device", ("third-party",),
        "/dev/kvm (or the hypervisor's own driver) is present and this user can open it "
        "read-write", "kvm-device", "ls -l /dev/kvm; id -nG (the kvm group)",
        sources.KVM_ACCESS, when(os=("linux", "unknown")), unmet_status="blocked",
        unmet_fix=("kvm-access",)),
    ConditionRow(
        "wsl-windows-11", ("third-party",),
        "The Windows host runs Windows 11 and .wslconfig keeps nestedVirtualization=true (the "
        "default)", "implied-by-exposure",
        "on the Windows host: winver, and %UserProfile%\\.wslconfig", sources.WSL_CONFIG),
    ConditionRow(
        "aws-nested-enabled", ALL,
        "The instance is C8i/M8i/R8i (or a flex/d variant) running with "
        "CpuOptions.NestedVirtualization=enabled", "implied-by-exposure",
        "aws ec2 describe-instances --instance-ids <id> --query "
        "'Reservations[].Instances[].CpuOptions'", sources.AWS_NESTED),
    ConditionRow(
        "gcp-nested-enabled", ALL,
        "The VM was created with --enable-nested-virtualization on an Intel machine series "
        "and the org policy constraints/compute.disableNestedVirtualization is not enforced",
        "implied-by-exposure",
        "gcloud compute instances describe <NAME> --format='value(advancedMachineFeatures)'",
        sources.GCP_NESTED),
    ConditionRow(
        "windows-here", WIN,
        "This OS is Windows (the Windows scenarios run in Windows)", "windows-here",
        "which OS the snapshot came from: the dump records none", sources.NESTPROBE,
        when(os=("windows", "unknown"))),
    ConditionRow(
        "not-wsl-utility-vm", WIN,
        "This OS is not the WSL2 utility VM (Windows cannot be installed there)", "not-wsl",
        "uname -r (a WSL2 kernel's release ends in -microsoft-standard-WSL2)",
        sources.WSL_FAQ, when(outer="hyperv", os=("linux", "unknown"))),
)

CONDITIONS: Mapping[str, ConditionRow] = {row.id: row for row in _ROWS}
#: Checked on every verdict whose scenario and situation they fit, whatever the rule.
GLOBAL_CONDITIONS: tuple[str, ...] = (
    "hyperv-host-intel", "hyperv-host-amd", "hyperv-host-amd-own-vms", "outer-is-hyperv",
    "no-hidden-hypervisor", "windows-here", "not-wsl-utility-vm", "kvm-device",
    "windows-edition", "windows-wsl2-build", "firmware-enabled", "windows-hyperv-build",
    "windows-containers-build", "nested-guest-build", "azure-local-memory",
)
