"""Environment: who this OS is inside, from OS files only (WSL, container, Xen domain, DMI),
and on Windows which Windows it is (:mod:`nestprobe.assess.windows`).

Reads :class:`~nestprobe.model.snapshot.OsFacts` and nothing else: CPUID-derived identity is
:mod:`nestprobe.assess.identity`'s job. A path the source never looked at
(``OsFacts.state(path) is None``, e.g. a dump without it) is reported as ``unknown``,
never as ``absent``.
"""

from __future__ import annotations

from nestprobe.decode.dmi import DMI_DIR, read_dmi_sourced
from nestprobe.model.assessment import Confidence, Environment, HypervisorFacts, WindowsFacts
from nestprobe.model.evidence import Evidence, EvidenceValue
from nestprobe.model.lazyre import IGNORECASE, LazyPattern, lazy_compile
from nestprobe.model.oskeys import HV_BALLOON_DEVICE
from nestprobe.model.record import Record
from nestprobe.model.snapshot import OsFacts, Snapshot

OSRELEASE = "/proc/sys/kernel/osrelease"
XEN_DIR = "/proc/xen"
XEN_CAPABILITIES = "/proc/xen/capabilities"
XEN_FEATURES = "/sys/hypervisor/properties/features"
HYPERVISOR_TYPE = "/sys/hypervisor/type"
#: "PV", "HVM" or "PVH" (Linux drivers/xen/sys-hypervisor.c guest_type_show).
XEN_GUEST_TYPE = "/sys/hypervisor/guest_type"
MEMINFO = "/proc/meminfo"
#: Processors present, as a range list "0-3,8" (Documentation/ABI/testing/sysfs-devices-system-cpu).
CPUS_PRESENT = "/sys/devices/system/cpu/present"
#: The Microsoft hypervisor's root partition runs Windows ("must have at least one parent,
#: or root, partition, running Windows": Virtualization-Documentation
#: virtualization/hyper-v-on-windows/reference/hyper-v-architecture.md); Linux runs there
#: only on MSHV (Linux drivers/hv/mshv_root, "running as root partition").
ROOT_RUNS_WINDOWS = (
    "MicrosoftDocs/Virtualization-Documentation virtualization/hyper-v-on-windows/reference/"
    "hyper-v-architecture.md"
)
#: xen/include/public/features.h: XENFEAT_dom0 11 (systemd virt.c detect_vm_xen_dom0).
XENFEAT_DOM0 = 11
#: Longest evidence value quoted from a file.
QUOTE_MAX = 200

#: WSL kernels name themselves in osrelease: WSL1 "4.4.0-19041-Microsoft",
#: WSL2 "5.15.x-microsoft-standard-WSL2" (systemd virt.c detect_container, citing
#: github.com/Microsoft/WSL/issues/423#issuecomment-221627364).
WSL_PATTERN = lazy_compile(r"microsoft|wsl", IGNORECASE)

#: The container manager's own statement, most authoritative first (systemd virt.c
#: detect_container: /run/host/container-manager, /run/systemd/container, then PID 1's
#: $container). Each holds a name such as "docker", "podman", "lxc", "oci".
MANAGER_FILES: tuple[str, ...] = ("/run/host/container-manager", "/run/systemd/container")
PID1_ENVIRON = "/proc/1/environ"


class CgroupRule(Record):
    container: str
    pattern: LazyPattern
    source: str


#: Cgroup paths container runtimes create; runtime-specific rows before "kubepods".
CGROUP_RULES: tuple[CgroupRule, ...] = (
    CgroupRule("docker", lazy_compile(r"/docker[/-]", needles=("/docker",)),
               "MOBY daemon/oci_linux.go WithCgroups: cgroupfs /docker/<id>, systemd "
               "docker-<id>.scope; VW tests/docker"),
    CgroupRule("podman", lazy_compile(r"/libpod-"),
               "VW tests/podman: machine.slice/libpod-<id>.scope"),
    CgroupRule("crio", lazy_compile(r"/crio-"),
               "CRIO internal/config/cgmgr/systemd.go: crio-<id>.scope"),
    CgroupRule("containerd", lazy_compile(r"/cri-containerd-"),
               "RUNC docs/systemd.md: <slice>:cri-containerd:<id> becomes "
               "cri-containerd-<id>.scope, the prefix of containerd's CRI plugin [S]"),
    CgroupRule("lxc", lazy_compile(r"/lxc[/.]|/lxc\.payload", needles=("/lxc",)),
               "LXC src/lxc/cgroups/cgroup.h: lxc.payload.<name> (>=4.0), "
               "/lxc/<name> before 4.0 [U]"),
    CgroupRule("kubernetes", lazy_compile(r"/kubepods"),
               "K8S pkg/kubelet/cm/node_container_manager_linux.go: kubepods "
               "(kubepods.slice with systemd)"),
)
CGROUP_FILES: tuple[str, ...] = ("/proc/self/cgroup", "/proc/1/cgroup")

#: Marker files a runtime drops into the container's root (systemd virt.c
#: detect_container_files). Weak: "the /.dockerenv file could inadvertently end up in a
#: file system image" (same file) — e.g. a VM root file system built from a Docker image.
MARKER_FILES: tuple[tuple[str, str], ...] = (
    ("/run/.containerenv", "podman"),  # containers/podman issues 6192, 3586
    ("/.dockerenv", "docker"),  # moby/moby issue 18355
)

#: Every path the container conclusion reads, for the "nothing found" evidence.
CONTAINER_SIGNALS: tuple[str, ...] = (
    *MANAGER_FILES, PID1_ENVIRON, *CGROUP_FILES, *(path for path, _ in MARKER_FILES),
)



def assess_environment(
    snapshot: Snapshot, hypervisor: HypervisorFacts | None = None,
) -> Environment:
    """WSL, container, Xen domain, DMI identity and size from the snapshot's OS files.

    ``hypervisor`` lets CPUID speak where the OS did not report itself: a Hyper-V root
    partition is Windows unless it is Linux on MSHV.
    """
    facts = snapshot.os
    evidence: list[Evidence] = [Evidence("machine", "uname:machine", facts.machine)]
    os_name, confidence = _os(facts.system, hypervisor, evidence)
    wsl = _wsl(facts, os_name, evidence[-1], evidence)
    windows = _windows(facts, evidence)
    container: str | None = None
    xen_domain: str | None = None
    xen_mode: str | None = None
    if windows is None:  # Linux containers and Xen domains are Linux-side notions
        container = _container(facts, evidence)
        xen_domain = _xen_domain(facts, evidence)
        xen_mode = _xen_mode(facts, xen_domain, hypervisor, evidence)
    dmi = _dmi(facts, evidence)
    if windows is None:
        _balloon(facts, evidence)
    # On Windows the size comes from its own facts (GlobalMemoryStatusEx, the active
    # processor count, or a paste's memory line); assess_windows put their evidence.
    memory = _memory(facts, evidence) if windows is None else windows.memory_bytes
    vcpus = _vcpus(facts, evidence) if windows is None else windows.logical_processors
    return Environment(
        os=os_name,
        machine=facts.machine,
        os_confidence=confidence,
        wsl=wsl,
        container=container,
        xen_domain=xen_domain,
        xen_mode=xen_mode,
        dmi=dmi,
        memory_bytes=memory,
        vcpus=vcpus,
        evidence=tuple(evidence),
        windows=windows,
    )


def _windows(facts: OsFacts, evidence: list[Evidence]) -> WindowsFacts | None:
    """This Windows (assess/windows.py), where the snapshot holds Windows facts; elsewhere
    None, as assess_windows would say, without importing the Windows modules."""
    if not facts.holds_windows_facts():
        return None
    from nestprobe.assess.windows import assess_windows

    return assess_windows(facts, evidence)


def _os(
    system: str, hypervisor: HypervisorFacts | None, evidence: list[Evidence],
) -> tuple[str, Confidence]:
    if system and system.lower() != "unknown":
        evidence.append(Evidence("operating system", "uname:sysname", system))
        return system, "certain"
    if hypervisor is not None and hypervisor.partition == "root":
        evidence.append(Evidence(
            "operating system not recorded; a Hyper-V root partition runs Windows (almost "
            f"always: Linux can be the root only on MSHV) ({ROOT_RUNS_WINDOWS})",
            "CPUID.0x40000003:EBX[12]", "Windows"))
        return "Windows", "high"
    evidence.append(Evidence("operating system not recorded in this snapshot",
                             "uname:sysname", "unknown"))
    return "unknown", "none"


def observed(facts: OsFacts, path: str) -> EvidenceValue:
    """What a path showed: its (stripped, shortened) text, its state, or ``unknown``."""
    state = facts.state(path)
    if state is None:
        return "unknown"
    if state != "ok":
        return state
    text = (facts.text(path) or "").strip()
    return text if len(text) <= QUOTE_MAX else text[: QUOTE_MAX - 3] + "..."


def _wsl(
    facts: OsFacts, os_name: str, os_evidence: Evidence, evidence: list[Evidence],
) -> bool | None:
    release = facts.text(OSRELEASE)
    value = observed(facts, OSRELEASE)
    if release is None:
        if os_name == "Windows":
            evidence.append(Evidence("not WSL: this OS is Windows itself", os_evidence.source,
                                     os_evidence.value, about="wsl"))
            return False
        evidence.append(Evidence("WSL unknown: kernel release not read", OSRELEASE, value,
                                 about="wsl"))
        return None
    if WSL_PATTERN.found_in(release):
        evidence.append(Evidence("WSL kernel (release names Microsoft/WSL)", OSRELEASE, value,
                                 about="wsl"))
        return True
    evidence.append(Evidence("not a WSL kernel", OSRELEASE, value, about="wsl"))
    return False


def _container(facts: OsFacts, evidence: list[Evidence]) -> str | None:  # noqa: PLR0911, PLR0912 (a case table, read top to bottom)
    for path in MANAGER_FILES:
        name = _first_word(facts.text(path))
        if name:
            evidence.append(Evidence(f"container manager says {name}", path, name))
            return name

    environ = facts.text(PID1_ENVIRON)
    if environ is not None:
        for entry in environ.split("\0"):
            if entry.startswith("container="):
                name = _first_word(entry.removeprefix("container="))
                if not name:  # systemd: an empty $container means "not in a container"
                    evidence.append(Evidence("PID 1 says: no container", PID1_ENVIRON, entry))
                    return None
                evidence.append(Evidence(f"PID 1 runs in {name}", PID1_ENVIRON, entry))
                return name

    for path in CGROUP_FILES:
        text = facts.text(path)
        if text is None:
            continue
        lines: list[str] | None = None
        for rule in CGROUP_RULES:
            # A rule's pattern is unanchored and matches within a line (test_osfacts pins
            # both), so a line matches only where the whole text does: one search of the
            # text passes over a rule that no line matches (all of them, most machines).
            if not rule.pattern.found_in(text):
                continue
            lines = text.splitlines() if lines is None else lines
            line = next((ln for ln in lines if rule.pattern.found_in(ln)), None)
            if line is not None:
                evidence.append(Evidence(f"cgroup of a {rule.container} container "
                                         f"({rule.source})", path, line.strip()))
                return rule.container

    for path, name in MARKER_FILES:
        if facts.state(path) not in ("ok", "dir"):
            continue
        leftover = _root_cgroups_v1(facts)
        if leftover is not None:
            evidence.append(Evidence(
                f"{path} exists but PID 1 sits in the root of every cgroup-v1 hierarchy, "
                f"where {name} would have put it in its own: a marker left in the image, "
                "not a container", leftover, observed(facts, leftover)))
            return None
        evidence.append(Evidence(f"{name} marker file exists", path, observed(facts, path)))
        return name

    looked = [p for p in CONTAINER_SIGNALS if facts.state(p) is not None]
    if not looked:
        evidence.append(Evidence("container unknown: no container signal was looked at",
                                 "/proc/self/cgroup", "unknown"))
    else:
        evidence.append(Evidence("no container signal", ",".join(looked),
                                 "; ".join(f"{p}={facts.state(p)}" for p in looked)))
    return None


def _root_cgroups_v1(facts: OsFacts) -> str | None:
    """The cgroup file showing only cgroup-v1 hierarchies at "/", if any.

    Docker and Podman place a container in its own cgroup; on cgroup v1 they share the
    host's cgroup namespace by default, so the container's PID 1 sees /docker/<id> or
    libpod-<id>. All-root v1 paths therefore mean the marker is not theirs. On cgroup v2
    ("0::/" only) a private namespace also shows "/", so v2 proves nothing.
    """
    for path in ("/proc/1/cgroup", "/proc/self/cgroup"):
        text = facts.text(path)
        if not text:
            continue
        lines = [ln.split(":", 2) for ln in text.splitlines() if ln.strip()]
        v1 = [parts for parts in lines if len(parts) == 3 and parts[0] != "0"]
        if v1 and all(parts[2] == "/" for parts in lines if len(parts) == 3):
            return path
    return None


def _xen_domain(facts: OsFacts, evidence: list[Evidence]) -> str | None:
    features = facts.text(XEN_FEATURES)
    if features is not None:
        try:
            bits = int(features.split()[0], 16) if features.split() else None
        except ValueError:
            bits = None
        if bits is not None:
            dom0 = bool(bits >> XENFEAT_DOM0 & 1)
            evidence.append(Evidence(
                f"Xen features: XENFEAT_dom0 (bit {XENFEAT_DOM0}) {'set' if dom0 else 'clear'}",
                XEN_FEATURES, observed(facts, XEN_FEATURES)))
            return "dom0" if dom0 else "domU"

    capabilities = facts.text(XEN_CAPABILITIES)
    if capabilities is not None:
        caps = [c.strip() for c in capabilities.split(",")]
        if "control_d" in caps:
            evidence.append(Evidence("Xen control domain (control_d)", XEN_CAPABILITIES,
                                     observed(facts, XEN_CAPABILITIES)))
            return "dom0"
        evidence.append(Evidence("Xen domain without control_d", XEN_CAPABILITIES,
                                 observed(facts, XEN_CAPABILITIES)))
        return "domU"

    if facts.state(XEN_DIR) in ("dir", "ok"):
        evidence.append(Evidence("/proc/xen present: a Xen domain", XEN_DIR, "dir"))
        return "domU"

    if (facts.text(HYPERVISOR_TYPE) or "").strip() == "xen":
        evidence.append(Evidence("Xen guest kernel interface", HYPERVISOR_TYPE, "xen"))
        return "domU"

    states = (facts.state(XEN_DIR), facts.state(HYPERVISOR_TYPE))
    if states == (None, None):
        evidence.append(Evidence("Xen domain unknown: not looked at", XEN_DIR, "unknown"))
    else:
        evidence.append(Evidence("no Xen domain interface", f"{XEN_DIR},{HYPERVISOR_TYPE}",
                                 f"{observed(facts, XEN_DIR)}; {observed(facts, HYPERVISOR_TYPE)}"))
    return None


def _xen_mode(
    facts: OsFacts, xen_domain: str | None, hypervisor: HypervisorFacts | None,
    evidence: list[Evidence],
) -> str | None:
    """PV, PVH or HVM: the kernel says so (Linux >= 4.12), or a domU shows no Xen CPUID."""
    text = (facts.text(XEN_GUEST_TYPE) or "").strip().lower()
    if text in ("pv", "pvh", "hvm"):
        evidence.append(Evidence(f"Xen {text.upper()} domain (the kernel's own statement)",
                                 XEN_GUEST_TYPE, text.upper()))
        return text
    if xen_domain == "domU" and hypervisor is not None and not any(
            i.vendor_id == "xen" for i in hypervisor.interfaces):
        # HVM and PVH domains see Xen's CPUID leaves; user-space CPUID in a PV domain reads
        # the CPU below Xen (xen-devel "Detecting whether dom0 is in a VM", 2023-07).
        evidence.append(Evidence("Xen domain whose CPUID shows no Xen signature: a PV domain",
                                 XEN_DIR, "domU"))
        return "pv"
    return None


def _memory(facts: OsFacts, evidence: list[Evidence]) -> int | None:
    """MemTotal: what this kernel manages, a little under what the VM was given."""
    text = facts.text(MEMINFO)
    if text is None:
        return None
    # "MemTotal:       16384000 kB" (fs/proc/meminfo.c), read without re (see model/lazyre.py)
    line = next((ln for ln in text.splitlines() if ln.startswith("MemTotal:")), None)
    rest = "" if line is None else line[len("MemTotal:"):]
    number = rest.lstrip()
    digits = number[:len(number) - len(number.lstrip("0123456789"))]
    if not rest[:1].isspace() or not digits or not number[len(digits):].lstrip().startswith("kB"):
        return None
    total = int(digits) * 1024
    evidence.append(Evidence(f"memory managed by this OS: {total / 2**30:.1f} GiB",
                             f"{MEMINFO}:MemTotal", total, about="memory"))
    return total


def _vcpus(facts: OsFacts, evidence: list[Evidence]) -> int | None:
    text = facts.text(CPUS_PRESENT)
    if text is None:
        return None
    count = 0
    for part in text.strip().split(","):
        lo, _, hi = part.partition("-")
        if not lo.strip().isdigit() or (hi and not hi.strip().isdigit()):
            return None
        count += (int(hi) - int(lo) + 1) if hi else 1
    evidence.append(Evidence(f"{count} processors present", CPUS_PRESENT, text.strip(),
                             about="cpus"))
    return count


def _balloon(facts: OsFacts, evidence: list[Evidence]) -> None:
    """Whether the Dynamic Memory device is bound to hv_balloon (only when recorded)."""
    state = facts.state(HV_BALLOON_DEVICE)
    if state == "dir":
        evidence.append(Evidence(
            "hv_balloon is bound to the VMBus Dynamic Memory device: the host's Dynamic Memory "
            "protocol reaches this guest (whether it is on is the host's VM setting)",
            HV_BALLOON_DEVICE, "dir"))
    elif state == "absent":
        evidence.append(Evidence("no Dynamic Memory device bound to hv_balloon",
                                 HV_BALLOON_DEVICE, "absent"))


def _dmi(facts: OsFacts, evidence: list[Evidence]) -> dict[str, str]:
    read = read_dmi_sourced(facts)
    evidence.extend(Evidence(f"DMI {key}", source, value) for key, (value, source) in read.items())
    dmi = {key: value for key, (value, _) in read.items()}
    if not dmi:
        evidence.append(_no_dmi(facts))
    return dmi


def _no_dmi(facts: OsFacts) -> Evidence:
    """No identity read, named where this OS keeps it: a Windows report shows no Linux path."""
    sample = DMI_DIR + "sys_vendor"
    if not facts.holds_windows_facts():
        return Evidence("no DMI identity read", sample, observed(facts, sample))
    from nestprobe.decode import winpaths

    windows = facts.system == "Windows"
    sample = winpaths.BIOS_KEY + "SystemManufacturer" if windows else sample
    if winpaths.under_wine(facts):
        return Evidence("SMBIOS identity unknown: under wine these are wine's answers, not "
                        "this machine's firmware", sample, "wine")
    return Evidence("no SMBIOS identity read" if windows else "no DMI identity read", sample,
                    observed(facts, sample))


def _first_word(text: str | None) -> str:
    """A container name: the first word of a one-line file, lower-cased, bounded."""
    if not text:
        return ""
    words = text.strip().split()
    return words[0].lower()[:64] if words else ""
