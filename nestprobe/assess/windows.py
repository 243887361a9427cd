"""This Windows, from its recorded facts: release, edition, installed virtualization
components, VBS/HVCI configuration, memory, processors and processor features.

Reads the live facts (registry, Win32, raw SMBIOS; sources/windows_facts.py) and, where a
pasted Windows tool is all there is, what that tool printed (decode/winreport.py). Called
from :mod:`nestprobe.assess.environment`; its evidence joins the environment's. A fact
that was not recorded stays None ("unknown"), never "absent".
"""

from __future__ import annotations

from nestprobe.decode import winbuild, winpaths, winreport
from nestprobe.model.assessment import ComponentState, WindowsFacts
from nestprobe.model.evidence import Evidence, Topic
from nestprobe.model.snapshot import FileState, OsFacts
from nestprobe.model.typeshim import Any

#: BcdOSLoaderInteger_HypervisorLaunchType values (bcdedit: Off = 0, Auto = 1).
LAUNCH_TYPES = {"0": "off", "1": "auto"}
#: PROCESSOR_ARCHITECTURE_* (winnt.h), for the evidence.
ARCHITECTURES = {"0": "x86", "5": "ARM", "6": "IA64", "9": "AMD64", "12": "ARM64"}
WSL_SERVICES = ("LxssManager", "WslService")
_STATE: dict[FileState, ComponentState] = {
    "dir": "installed", "ok": "installed", "absent": "absent", "unreadable": "unreadable",
}


def _int(text: str | None) -> int | None:
    return int(text.strip()) if text is not None and text.strip().isdigit() else None


def _live(facts: OsFacts) -> bool:
    return any(facts.state(path) is not None for path in winpaths.READ_PATHS)


def assess_windows(facts: OsFacts, evidence: list[Evidence]) -> WindowsFacts | None:
    """WindowsFacts for a Windows snapshot (live or pasted), None for any other OS."""
    tools = winreport.tools_in(facts)
    if _live(facts):
        return _from_live(facts, evidence)
    if tools:
        return _from_paste(facts, tools, evidence)
    if facts.system == "Windows":
        evidence.append(Evidence("Windows, but no Windows facts were recorded",
                                 winpaths.CURRENT_BUILD, "unknown"))
        return WindowsFacts(source="none")
    return None


def _release(facts: OsFacts, evidence: list[Evidence]) -> dict[str, Any]:
    """Build, UBR, edition and installation type (the build decides the release name)."""
    build = _int(facts.text(winpaths.CURRENT_BUILD))
    ubr = _int(facts.text(winpaths.UBR))
    edition_id = _text(facts, winpaths.EDITION_ID)
    installation = _text(facts, winpaths.INSTALLATION_TYPE)
    product = _text(facts, winpaths.PRODUCT_NAME)
    edition = winbuild.edition_of_id(edition_id)
    server = winbuild.is_server(installation, edition)
    release = winbuild.release_name(build, server)
    if build is not None:
        full = f"{build}.{ubr}" if ubr is not None else str(build)
        named = f" (ProductName says {product!r})" if product else ""
        evidence.append(Evidence(f"Windows build {full}: {release}{named}",
                                 winpaths.CURRENT_BUILD, str(build), about="build"))
    else:
        evidence.append(Evidence("Windows build unknown", winpaths.CURRENT_BUILD,
                                 _shown(facts, winpaths.CURRENT_BUILD), about="build"))
    evidence.append(Evidence(f"edition {edition} (EditionID)", winpaths.EDITION_ID,
                             _shown(facts, winpaths.EDITION_ID), about="edition"))
    if installation is not None:
        evidence.append(Evidence(f"installation type {installation}",
                                 winpaths.INSTALLATION_TYPE, installation, about="edition"))
    return {"build": build, "ubr": ubr, "release": release, "product_name": product,
            "display_version": _text(facts, winpaths.DISPLAY_VERSION),
            "edition_id": edition_id, "edition": edition,
            "installation_type": installation, "server": server}


def _components(facts: OsFacts, evidence: list[Evidence]) -> dict[str, Any]:
    """Installed components (their service keys) and the VBS/HVCI/launch configuration."""
    components: dict[str, ComponentState] = {}
    for name, what in winpaths.SERVICE_COMPONENTS.items():
        state = facts.state(winpaths.service(name))
        components[name] = _STATE.get(state, "unknown") if state is not None else "unknown"
        evidence.append(Evidence(f"{what}: {components[name]}", winpaths.service(name),
                                 state or "unknown"))
    wsl_states = [components[name] for name in WSL_SERVICES]
    wsl = True if "installed" in wsl_states else (
        False if all(s == "absent" for s in wsl_states) else None)
    return {
        "components": components, "hyperv_installed": _installed(components["vmms"]),
        "wsl_installed": wsl,
        "vbs_configured": _flag(facts, winpaths.VBS, "virtualization-based security configured",
                                evidence),
        "hvci_configured": _flag(facts, winpaths.HVCI, "memory integrity (HVCI) configured",
                                 evidence),
        # wine has no BCD store: unknown, whatever its registry answers
        "hypervisor_launch": "unknown" if winpaths.under_wine(facts) else _launch(facts, evidence),
    }


def _machine(facts: OsFacts, evidence: list[Evidence]) -> dict[str, Any]:
    """Memory, processors, architecture, and Windows' SLAT and firmware switches."""
    memory = _int(facts.text(winpaths.TOTAL_PHYS))
    if memory is not None:
        evidence.append(Evidence(f"physical memory {memory / (1 << 30):.1f} GiB",
                                 winpaths.TOTAL_PHYS, memory, about="memory"))
    processors = _int(facts.text(winpaths.ACTIVE_PROCESSORS))
    if processors is not None:
        evidence.append(Evidence(f"{processors} logical processors (all groups)",
                                 winpaths.ACTIVE_PROCESSORS, processors, about="cpus"))
    arch_code = _text(facts, winpaths.NATIVE_ARCH)
    architecture = ARCHITECTURES.get(arch_code or "", arch_code)
    if arch_code is not None:
        evidence.append(Evidence(f"native architecture {architecture}", winpaths.NATIVE_ARCH,
                                 arch_code))
    readiness = winreport.read_readiness(facts)
    for label, about, reported in _readiness_lines(readiness):
        if reported is not None:
            evidence.append(Evidence(f"Windows reports {label}: {_yes(reported.value)}",
                                     reported.source, reported.shown, about=about))
    return {"memory_bytes": memory, "logical_processors": processors,
            "architecture": architecture,
            "slat": readiness.slat.value if readiness.slat else None,
            "firmware_virtualization": readiness.firmware.value if readiness.firmware else None}


def _guest_parameters(facts: OsFacts, evidence: list[Evidence]) -> dict[str, str]:
    """What the Hyper-V host's data exchange says of this VM and its host."""
    guest = {
        name: text.strip()
        for name, path in (("HostName", winpaths.GUEST_HOST_NAME),
                           ("VirtualMachineName", winpaths.GUEST_VM_NAME),
                           ("PhysicalHostNameFullyQualified", winpaths.GUEST_PHYSICAL_HOST))
        if (text := facts.text(path))
    }
    for name, value in guest.items():
        evidence.append(Evidence(f"Hyper-V guest parameter {name} (from the host's data "
                                 "exchange)", winpaths.GUEST_KEY + name, value))
    return guest


def _from_live(facts: OsFacts, evidence: list[Evidence]) -> WindowsFacts:
    """The registry and Win32 facts (live or replayed), in the order the evidence lists them."""
    return WindowsFacts(
        source="probe", **_release(facts, evidence), **_components(facts, evidence),
        **_machine(facts, evidence), guest_parameters=_guest_parameters(facts, evidence),
        **_under_wine(facts, evidence))


def _under_wine(facts: OsFacts, evidence: list[Evidence]) -> dict[str, Any]:
    """Under wine: its version (its stubs are left unknown where they are read)."""
    return {"wine": _wine(facts, evidence)}


def _wine(facts: OsFacts, evidence: list[Evidence]) -> str | None:
    """wine's version when these facts are wine's (HKLM\\SOFTWARE\\Wine, ntdll's
    wine_get_version); then its stubbed answers (IsProcessorFeaturePresent 20/21, SMBIOS,
    the BCD store) are unknown, not false."""
    if not winpaths.under_wine(facts):
        return None
    version = _text(facts, winpaths.WINE_VERSION) or "unknown version"
    source = winpaths.WINE_VERSION if facts.state(winpaths.WINE_VERSION) == "ok" else (
        winpaths.WINE_KEY)
    evidence.append(Evidence(
        f"this Windows is wine {version}: SLAT, firmware virtualization, SMBIOS and the "
        "hypervisor launch setting are wine's stubs, so unknown", source, version))
    return version


def _from_paste(facts: OsFacts, tools: tuple[str, ...], evidence: list[Evidence]) -> WindowsFacts:
    caption = winreport.reported_caption(facts)
    built = winreport.reported_build(facts)
    edition = winbuild.edition_of_caption(caption[0]) if caption else "unknown"
    server = winbuild.is_server(None, edition)
    build = built[0] if built else None
    if caption is not None:
        evidence.append(Evidence(f"edition {edition} (product name)", caption[1], caption[0],
                                 about="edition"))
    if built is not None:
        evidence.append(Evidence(f"Windows build {build}: "
                                 f"{winbuild.release_name(build, server)}", built[1], build,
                                 about="build"))
    memory = winreport.reported_memory(facts)
    if memory is not None:
        evidence.append(Evidence(f"physical memory {memory[0] / (1 << 30):.1f} GiB",
                                 memory[1], memory[0], about="memory"))
    for path, what in ((winreport.READING, "systeminfo read by"),
                       (winreport.MSINFO_READING, "msinfo32 read by"),
                       (winreport.ENCODING, "the pasted file's bytes read as")):
        if (how := facts.text(path)) is not None and how != "labels in en":
            evidence.append(Evidence(f"{what} {how}", path, how.split(" (")[0]))
    readiness = winreport.read_readiness(facts)
    for label, about, reported in _readiness_lines(readiness):
        if reported is not None:
            evidence.append(Evidence(f"{reported.source.split(':')[0]} reports {label}: "
                                     f"{_yes(reported.value)}", reported.source, reported.shown,
                                     about=about))
    evidence.append(Evidence("installed components, VBS and the hypervisor launch setting are "
                             f"not in this {'/'.join(tools)} output", "/".join(tools), "unknown"))
    return WindowsFacts(
        source="/".join(tools),
        build=build,
        release=winbuild.release_name(build, server),
        product_name=caption[0] if caption else None,
        edition=edition,
        server=server,
        memory_bytes=memory[0] if memory else None,
        slat=readiness.slat.value if readiness.slat else None,
        firmware_virtualization=readiness.firmware.value if readiness.firmware else None,
    )


def _readiness_lines(
        readiness: winreport.Readiness,
) -> tuple[tuple[str, Topic, winreport.Reported | None], ...]:
    """Windows' SLAT and firmware words, with the fact each bears on."""
    return (("SLAT", "slat", readiness.slat),
            ("virtualization enabled in firmware", "firmware", readiness.firmware))


def _text(facts: OsFacts, path: str) -> str | None:
    text = facts.text(path)
    return text.strip() if text is not None and text.strip() else None


def _shown(facts: OsFacts, path: str) -> str:
    text = facts.text(path)
    return text.strip() if text is not None else facts.state(path) or "unknown"


def _installed(state: ComponentState) -> bool | None:
    return {"installed": True, "absent": False}.get(state)


def _yes(value: bool | None) -> str:
    return "not displayed" if value is None else "yes" if value else "no"


def _flag(facts: OsFacts, path: str, what: str, evidence: list[Evidence]) -> bool | None:
    state = facts.state(path)
    if state is None:
        return None
    if state == "absent":
        evidence.append(Evidence(f"{what}: no (value not set)", path, "absent"))
        return False
    number = _int(facts.text(path))
    if number is None:
        evidence.append(Evidence(f"{what}: unknown", path, _shown(facts, path)))
        return None
    evidence.append(Evidence(f"{what}: {'yes' if number else 'no'}", path, number))
    return bool(number)


def _launch(facts: OsFacts, evidence: list[Evidence]) -> str | None:
    state = facts.state(winpaths.BCD_LAUNCH)
    if state is None:
        return None
    if state == "unreadable":
        evidence.append(Evidence("hypervisorlaunchtype unknown: the BCD store is readable by "
                                 "administrators only (or there is none)", winpaths.BCD_LAUNCH,
                                 "unreadable"))
        return "unknown"
    if state == "absent":
        evidence.append(Evidence("hypervisorlaunchtype not set in the default boot entry",
                                 winpaths.BCD_LAUNCH, "absent"))
        return "not-set"
    value = (facts.text(winpaths.BCD_LAUNCH) or "").strip()
    launch = LAUNCH_TYPES.get(value, "unknown")
    evidence.append(Evidence(f"hypervisorlaunchtype {launch.capitalize()} in the default boot "
                             "entry", winpaths.BCD_LAUNCH, value))
    return launch
