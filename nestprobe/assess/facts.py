"""The facts of an assessment, each with the evidence that decided it (model/facts.py).

Assess's parts keep one evidence list each (the JSON report's ``evidence[]``); this module
picks, for every fact the verdicts and the headline decide on, the observations behind it.

Selection by topic first: the producer of an observation says which fact it bears on
(``Evidence.about``: vt, slat, firmware, hypervisor, edition, build, memory, cpus, wsl, mask,
version), so a pasted tool's lines reach their facts without a table of its keys here: a new
paste format touches ``sources/`` and ``decode/`` (and the producer that reads it) only. The
rest is chosen by source prefix (CPUID fields, OS files, the live Windows facts' registry
paths); the machine's identity as DMI or a pasted tool names it is still a prefix table
(``WINDOWS_IDENTITY``). A part's evidence is narrowed to what bears on the fact; when none
of it is there the whole part stands behind it. DMI firmware strings are left out
everywhere but the firmware fact (quoted in a "no VT-x" reason they read as "fix your
BIOS").
"""

from __future__ import annotations

from nestprobe.assess.hypervisor import HIDDEN_WITNESS_SOURCES
from nestprobe.decode.signatures import vendor_name
from nestprobe.model import oskeys
from nestprobe.model.assessment import (
    Assessment,
    CpuIdentity,
    Environment,
    HypervisorFacts,
    Nesting,
    Virtualization,
    WindowsFacts,
)
from nestprobe.model.evidence import Evidence, Topic
from nestprobe.model.fact import Fact
from nestprobe.model.facts import (
    Facts,
    WinComponent,
    WinEdition,
    WinFirmware,
    WinLaunch,
    WinVbs,
    WinWsl2Build,
)
from nestprobe.model.lazyre import IGNORECASE, lazy_compile
from nestprobe.model.proof import ProofAssessment
from nestprobe.model.record import replace
from nestprobe.model.typeshim import Any, Mapping, get_args

#: A Windows machine's identity as DMI or a pasted tool names it (the hypervisor fact).
WINDOWS_IDENTITY = ("DMI.", "systeminfo:System M", "msinfo32:System M", "get-computerinfo:Cs")
HIDDEN_WITNESSES = tuple(sorted(HIDDEN_WITNESS_SOURCES))

#: Which part's evidence backs a fact: (part, source prefixes; none: the whole part).
EVIDENCE_FOR: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "present": ("hypervisor", ("CPUID.0x1:ECX[31]", "CPUID.0x40000000", "CPUID.0x40000003",
                               "hypervisor", *HIDDEN_WITNESSES)),
    "hypervisor": ("hypervisor", ("CPUID.0x40000000", "CPUID.0x40000001", "CPUID.0x40000002",
                                  "/sys/hypervisor", "/sys/class/dmi/id/sys_vendor",
                                  "/sys/class/dmi/id/product", *WINDOWS_IDENTITY,
                                  *HIDDEN_WITNESSES)),
    "cloud": ("hypervisor", ("/sys/class/dmi/id/sys_vendor", "/sys/class/dmi/id/product",
                             "/sys/class/dmi/id/chassis", "DMI.")),
    "cpu_vendor": ("cpu", ("CPUID.0x0:",)),
    "exposed": ("virtualization", ("CPUID.0x1:ECX[5]", "CPUID.0x80000001:ECX[2]",
                                   "/proc/cpuinfo", "vt")),
    "slat": ("virtualization", ("CPUID.0x8000000a", "/proc/cpuinfo", "slat")),
    "firmware_disabled": ("virtualization", ("/proc/cpuinfo", "CPUID.0x1:ECX[5]",
                                             "CPUID.0x80000001:ECX[2]", "firmware")),
    "kvm": ("virtualization", ("ioctl(/dev/kvm", "/dev/kvm", "/sys/module/kvm")),
    "software_nesting": ("virtualization", ("/sys/module/kvm_pvm", "/proc/modules")),
    "confidential": ("hypervisor", ("CPUID.0x4000000c", "CPUID.0x40000003:EBX[22]",
                                    "CPUID.0x8000001f", "CPUID.0x21")),
    "wsl": ("environment", ("/proc/sys/kernel/osrelease",)),
    "container": ("environment", ("/.dockerenv", "/run/.containerenv", "/proc/1/cgroup")),
    "xen_domain": ("environment", ("/proc/xen",)),
    "xen_mode": ("environment", ("/sys/hypervisor/guest_type", "/proc/xen")),
    "level": ("nesting", ()),
    "at_least": ("nesting", ()),
    "product": ("hypervisor", ()),
    "alternatives": ("hypervisor", ()),
    "identified": ("hypervisor", ()),
    "instance_type": ("hypervisor", ("/sys/class/dmi/id/product",)),
    "win_edition": ("environment", ("edition",)),
    "win_build": ("environment", ("build",)),
    "hyperv_role": ("environment", (oskeys.service("vmms"), oskeys.service("hvservice"))),
    "wsl_installed": ("environment", (oskeys.service("LxssManager"),
                                      oskeys.service("WslService"))),
    "win_launch": ("environment", (oskeys.BCD_LAUNCH,)),
    "win_firmware": ("virtualization", ("firmware",)),
    "win_vbs": ("environment", (oskeys.VBS, oskeys.HVCI)),
}
#: Facts whose evidence is exactly the matching observations (possibly none).
EXACT_FOR: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "memory": ("environment", ("memory",)),
    "vcpus": ("environment", ("cpus",)),
    "os": ("environment", ("uname:sysname", "CPUID.0x40000003")),
    "win_arch": ("environment", (oskeys.NATIVE_ARCH,)),
    "dynamic_memory": ("environment", (oskeys.HV_BALLOON_DEVICE,)),
}
#: The Windows facts are the exact matches too (a paste shows no components, say).
_WINDOWS_EXACT = ("win_edition", "win_build", "hyperv_role", "wsl_installed", "win_launch",
                  "win_firmware", "win_vbs")

_FIRMWARE_WORDS = lazy_compile(r"bios|uefi|firmware", IGNORECASE)
#: Its words (plain literals), looked for here in an ASCII text lower-cased: what the
#: pattern's found_in does, without its two calls per observation (~27 a report, 3/5 of
#: the firmware filter). re decides any other text (its case folding is Unicode's).
_FIRMWARE_TEXTS = tuple(_FIRMWARE_WORDS.pattern.split("|"))


def _names_firmware(text: str) -> bool:
    if not text.isascii():
        return _FIRMWARE_WORDS.found_in(text)
    seen = text.lower()
    for word in _FIRMWARE_TEXTS:  # noqa: SIM110 (a loop: any(<generator>) costs more here)
        if word in seen:
            return True
    return False


_TOPICS: frozenset[str] = frozenset(get_args(Topic))


#: A key tuple as a selection tests it: the set of its words (an observation's topic is
#: one of them) and its source prefixes, worked out once per tuple (the tables hold ~60).
_KEYS: dict[tuple[str, ...], tuple[frozenset[str], tuple[str, ...]]] = {}


def _keys(keys: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    known = _KEYS.get(keys)
    if known is None:
        known = _KEYS[keys] = (frozenset(keys), tuple(k for k in keys if k not in _TOPICS))
    return known


class _Parts:
    """The assessment's parts, by name, as the selection tables name them."""

    def __init__(self, cpu: CpuIdentity, hv: HypervisorFacts, virt: Virtualization,
                 env: Environment, nesting: Nesting) -> None:
        self.pools: Mapping[str, tuple[Evidence, ...]] = {
            "cpu": cpu.evidence, "hypervisor": hv.evidence, "virtualization": virt.evidence,
            "environment": env.evidence, "nesting": nesting.evidence,
        }
        self._plain: dict[str, tuple[Evidence, ...]] = {}
        #: What a selection chose, by (firmware words kept, part, keys): ~50 facts make ~25.
        self._chosen: dict[tuple[bool, str, tuple[str, ...]], tuple[Evidence, ...]] = {}

    def _without_firmware_words(self, part: str) -> tuple[Evidence, ...]:
        """The part's pool without firmware words, filtered once per part (not once per
        fact: ~30 facts read the same five pools)."""
        pool = self._plain.get(part)
        if pool is None:
            pool = self._plain[part] = tuple(
                e for e in self.pools[part]
                if not _names_firmware(f"{e.claim} {e.source}"))
        return pool

    def _select(self, whole: bool, part: str, keys: tuple[str, ...]) -> tuple[Evidence, ...]:
        """The evidence of the part (``whole``: firmware words too) that bears on a fact
        whose keys are topics (its producer's word) or source prefixes."""
        chosen = self._chosen.get((whole, part, keys))
        if chosen is None:
            pool = self.pools[part] if whole else self._without_firmware_words(part)
            words, prefixes = _keys(keys)
            chosen = self._chosen[whole, part, keys] = tuple(
                e for e in pool if e.about in words or e.source.startswith(prefixes))
        return chosen

    def reasons(self, name: str) -> tuple[Evidence, ...]:
        """The evidence behind a fact a verdict cites (EVIDENCE_FOR's rule)."""
        part, prefixes = EVIDENCE_FOR[name]
        # firmware evidence is the point of that fact only
        whole = name == "firmware_disabled"
        chosen = self._select(whole, part, prefixes) if prefixes else ()
        return chosen or (self.pools[part] if whole else self._without_firmware_words(part))

    def exact(self, part: str, prefixes: tuple[str, ...]) -> tuple[Evidence, ...]:
        return self._select(True, part, prefixes)

    def witness(self, name: str) -> tuple[Evidence, ...]:
        table = EXACT_FOR if name in EXACT_FOR else EVIDENCE_FOR
        return self.exact(*table[name])


# ------------------------------------------------------------------------- Windows


def _component(value: bool | None) -> WinComponent:
    return "unknown" if value is None else "installed" if value else "absent"


def _wsl2_build(windows: WindowsFacts) -> WinWsl2Build:
    from nestprobe.decode import winbuild  # Windows facts only (called with them)

    arm64 = windows.architecture == "ARM64"
    ok = winbuild.wsl2_build_ok(windows.build, windows.ubr, arm64=arm64)
    if ok is None:
        return "unknown"
    if not ok:
        return "too-old"
    assert windows.build is not None
    return "install" if windows.build >= winbuild.WSL_INSTALL_BUILD else "manual"


_EDITIONS: frozenset[str] = frozenset(get_args(WinEdition))
_LAUNCHES: frozenset[str] = frozenset(get_args(WinLaunch))


def _windows_values(windows: WindowsFacts) -> dict[str, Any]:
    """The words the Windows rules match on, from this Windows' facts."""
    launch = windows.hypervisor_launch or "unknown"
    firmware: WinFirmware = ("unknown" if windows.firmware_virtualization is None else
                             "enabled" if windows.firmware_virtualization else "disabled")
    vbs: WinVbs = ("unknown" if windows.vbs_configured is None else
                   "configured" if windows.vbs_configured or windows.hvci_configured else "off")
    return {
        "win_edition": windows.edition if windows.edition in _EDITIONS else "other",
        "win_build": _wsl2_build(windows),
        "hyperv_role": _component(windows.hyperv_installed),
        "wsl_installed": _component(windows.wsl_installed),
        "win_launch": launch if launch in _LAUNCHES else "unknown",
        "win_firmware": firmware,
        "win_vbs": vbs,
    }


#: The Hyper-V data exchange's value names (the host's KVP pool: guest_parameters).
_VM_NAME, _HOST_NAMES = "VirtualMachineName", ("PhysicalHostNameFullyQualified", "HostName")


def _windows_facts(windows: WindowsFacts | None, parts: _Parts) -> dict[str, Fact[Any]]:
    if windows is None:
        return {}
    values = _windows_values(windows)
    guest = windows.guest_parameters
    host = next((guest[k] for k in _HOST_NAMES if guest.get(k)), "")
    return {
        **{name: Fact(values[name], parts.witness(name)) for name in _WINDOWS_EXACT},
        "win_paste": Fact(None if windows.source in ("probe", "none") else windows.source),
        "win_name": Fact(windows.release or windows.product_name),
        "win_release": Fact(windows.release, parts.witness("win_build")),
        "win_server": Fact(windows.server, parts.witness("win_edition")),
        "win_build_number": Fact(windows.build),
        "vm_name": Fact(guest.get(_VM_NAME, "")),
        "host_name": Fact(host),
    }


# ---------------------------------------------------------------------- the rest


def _hypervisor_absent(hv: HypervisorFacts, parts: _Parts) -> Fact[bool]:
    """No hypervisor runs below: CPUID's bit is clear with nothing else showing one, or a
    pasted tool printed the Hyper-V requirement list (shown only when Windows sees none)."""
    pool = parts.pools["hypervisor"]
    pasted = any(e.about == "hypervisor" and e.kind == "paste" for e in pool)
    absent = (hv.bit is False and not hv.detected) or (not hv.detected and pasted)
    seen = parts.exact("hypervisor", ("CPUID.0x1:ECX[31]", "CPUID.0x40000000",
                                      "hypervisor"))
    return Fact(absent, seen)


def _hyperv_facts(hv: HypervisorFacts) -> tuple[Fact[int | None], Fact[Any]]:
    """The Hyper-V host's build (0x40000002) and the partition's privileges (0x40000003)."""
    hyperv = hv.hyperv
    if hyperv is None:  # a paste's physical machine names may still make it the root
        return Fact(None), Fact(hv.partition, _about(hv.evidence, "partition"))
    build = tuple(e for e in hyperv.evidence if e.source.startswith(f"CPUID.{hyperv.base + 2:#x}"))
    privileges = _about(hyperv.evidence, "partition")
    return Fact(hyperv.build, build), Fact(hv.partition, privileges)


def _about(part: tuple[Evidence, ...], topic: Topic) -> tuple[Evidence, ...]:
    """The observations their producer says bear on ``topic``."""
    return tuple(e for e in part if e.about == topic)


def _claimed(cpu: CpuIdentity, hv: HypervisorFacts, virt: Virtualization,
             env: Environment) -> dict[str, Fact[Any]]:
    """Facts whose witnesses are the observations about them, whatever their source."""
    hyperv = hv.hyperv.evidence if hv.hyperv is not None else ()
    return {
        "ept_npt": Fact(virt.slat, _about(virt.evidence, "slat")),
        "feature_mask": Fact(cpu.feature_mask,
                             _about(cpu.evidence, "mask")),
        "wsl_kernel": Fact(env.wsl, _about(env.evidence, "wsl")),
        "hyperv_version": Fact(hv.hyperv.version if hv.hyperv is not None else None,
                               _about(hyperv, "version")),
    }


#: CPUID leaf 0's vendor -> its extension's name (Hygon is AMD-derived).
_EXTENSIONS: Mapping[str, str] = {"GenuineIntel": "VT-x", "AuthenticAMD": "AMD-V",
                                  "HygonGenuine": "AMD-V"}


def _extension(cpu: CpuIdentity, virt: Virtualization) -> str:
    """The extension's name: the one CPUID shows, else the vendor's."""
    if virt.vmx:
        return "VT-x"
    if virt.svm:
        return "AMD-V"
    return _EXTENSIONS.get(cpu.vendor or "", "VT-x/AMD-V")


def _hidden_by(cpu: CpuIdentity) -> str:
    """What shows a hypervisor that hides itself (assess/hypervisor.py's witnesses)."""
    if cpu.feature_mask == "masked" and cpu.extension_expected is not None:
        return "mask"
    return "cpu-name" if cpu.virtual_model else "timing"


def _dynamic_memory(parts: _Parts) -> Fact[bool | None]:
    """hv_balloon bound to Hyper-V's Dynamic Memory device (environment's observation)."""
    seen = parts.witness("dynamic_memory")
    bound = next((e.value == "dir" for e in seen), None)
    return Fact(bound, seen)


def _product_name(env: Environment, hv: HypervisorFacts) -> Fact[str | None]:
    return Fact(env.dmi.get("product_name"),
                tuple(e for e in hv.evidence if e.source.endswith("product_name")))


def decide_facts(cpuid_status: str, *, cpu: CpuIdentity, hv: HypervisorFacts,
                 virt: Virtualization, env: Environment, nesting: Nesting,
                 proof: ProofAssessment | None = None) -> Facts:
    """Every decided field of the assessment as a Fact with its evidence."""
    parts = _Parts(cpu, hv, virt, env, nesting)
    host_build, partition = _hyperv_facts(hv)
    values: dict[str, object] = {
        "present": hv.detected, "hypervisor": hv.vendor, "cloud": hv.cloud,
        "instance_type": hv.instance_type, "confidential": hv.confidential,
        "level": nesting.level, "at_least": nesting.at_least, "product": hv.product,
        "alternatives": hv.alternatives, "identified": hv.identified, "cpu_vendor": cpu.vendor,
        "exposed": virt.exposed,
        "slat": virt.slat, "firmware_disabled": virt.firmware_disabled,
        "kvm": virt.kvm_device, "software_nesting": virt.software_nesting_only,
        "wsl": env.wsl, "container": env.container, "xen_domain": env.xen_domain,
        "xen_mode": env.xen_mode,
    }
    facts: dict[str, Any] = {
        name: Fact(value, parts.reasons(name)) for name, value in values.items()}
    facts.update({
        "memory": Fact(env.memory_bytes, parts.witness("memory")),
        "vcpus": Fact(env.vcpus, parts.witness("vcpus")),
        "os": Fact(env.os, parts.witness("os")),
        "os_confidence": Fact(env.os_confidence, parts.witness("os")),
        "extension": Fact(_extension(cpu, virt), parts.reasons("exposed")),
        "hidden_by": Fact(_hidden_by(cpu), parts.exact("hypervisor", HIDDEN_WITNESSES)),
        "win_arch": Fact(env.windows.architecture if env.windows else None,
                         parts.witness("win_arch")),
        "dynamic_memory": _dynamic_memory(parts),
        "win_wine": Fact(env.windows.wine if env.windows else None,
                         parts.exact("environment", (oskeys.WINE_VERSION, oskeys.WINE_KEY))),
        "cpuid_ok": Fact(cpuid_status == "ok",
                         parts.exact("cpu", ("cpuid-status",))),
        "raw_cpuid": Fact(virt.vmx is not None),
        "hypervisor_absent": _hypervisor_absent(hv, parts),
        "host_build": host_build,
        "partition": partition,
        "product_name": _product_name(env, hv),
        "hypervisor_name": Fact(vendor_name(hv.vendor), parts.reasons("hypervisor")),
        "emulated": Fact(hv.emulated, parts.reasons("present")),
        "hidden": Fact(hv.hidden, parts.exact("hypervisor", HIDDEN_WITNESSES)),
        "hyperv_emulator": Fact(hv.hyperv.emulator if hv.hyperv is not None else None,
                                _about(hv.hyperv.evidence if hv.hyperv else (), "version")),
        "signed": Fact(bool(hv.interfaces), tuple(
            e for e in hv.evidence if e.kind == "cpuid" and e.source.endswith(":EBX,ECX,EDX"))),
        "proof": Fact(proof, proof.evidence if proof is not None else ()),
        **_claimed(cpu, hv, virt, env),
        **_windows_facts(env.windows, parts),
    })
    return Facts(**facts)


def with_facts(a: Assessment, cpuid_status: str = "ok") -> Assessment:
    """``a`` with its facts decided from its parts (for an assessment built by hand)."""
    return replace(a, facts=decide_facts(cpuid_status, cpu=a.cpu, hv=a.hypervisor,
                                         virt=a.virtualization, env=a.environment,
                                         nesting=a.nesting, proof=a.proof))
