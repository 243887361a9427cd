"""Environment: who this OS is inside, from OS files only (WSL, container, Xen domain, DMI),
and on Windows which Windows it is (:mod:`nestprobe.assess.windows`).

Reads :class:`~nestprobe.model.snapshot.OsFacts` and nothing else: CPUID-derived identity is
:mod:`nestprobe.assess.identity`'s job. A path the source never looked at
(``OsFacts.state(path) is None``, e.g. a dump without it) is reported as ``unknown``,
never as ``absent``.
"""

from __future__ import annotations

import re

from nestprobe.assess.windows import assess_windows
from nestprobe.decode.dmi import DMI_DIR, read_dmi_sourced
from nestprobe.model.assessment import Environment
from nestprobe.model.evidence import Evidence, EvidenceValue
from nestprobe.model.record import Record
from nestprobe.model.snapshot import OsFacts, Snapshot

OSRELEASE = "/proc/sys/kernel/osrelease"
XEN_DIR = "/proc/xen"
XEN_CAPABILITIES = "/proc/xen/capabilities"
XEN_FEATURES = "/sys/hypervisor/properties/features"
HYPERVISOR_TYPE = "/sys/hypervisor/type"
#: xen/include/public/features.h: XENFEAT_dom0 11 (systemd virt.c detect_vm_xen_dom0).
XENFEAT_DOM0 = 11
#: Longest evidence value quoted from a file.
QUOTE_MAX = 200

#: WSL kernels name themselves in osrelease: WSL1 "4.4.0-19041-Microsoft",
#: WSL2 "5.15.x-microsoft-standard-WSL2" (systemd virt.c detect_container, citing
#: github.com/Microsoft/WSL/issues/423#issuecomment-221627364).
WSL_PATTERN = re.compile(r"microsoft|wsl", re.IGNORECASE)

#: The container manager's own statement, most authoritative first (systemd virt.c
#: detect_container: /run/host/container-manager, /run/systemd/container, then PID 1's
#: $container). Each holds a name such as "docker", "podman", "lxc", "oci".
MANAGER_FILES: tuple[str, ...] = ("/run/host/container-manager", "/run/systemd/container")
PID1_ENVIRON = "/proc/1/environ"


class CgroupRule(Record):
    container: str
    pattern: re.Pattern[str]
    source: str


#: Cgroup paths container runtimes create; runtime-specific rows before "kubepods".
CGROUP_RULES: tuple[CgroupRule, ...] = (
    CgroupRule("docker", re.compile(r"/docker[/-]"),
               "MOBY daemon/oci_linux.go WithCgroups: cgroupfs /docker/<id>, systemd "
               "docker-<id>.scope; VW tests/docker"),
    CgroupRule("podman", re.compile(r"/libpod-"),
               "VW tests/podman: machine.slice/libpod-<id>.scope"),
    CgroupRule("crio", re.compile(r"/crio-"),
               "CRIO internal/config/cgmgr/systemd.go: crio-<id>.scope"),
    CgroupRule("containerd", re.compile(r"/cri-containerd-"),
               "RUNC docs/systemd.md: <slice>:cri-containerd:<id> becomes "
               "cri-containerd-<id>.scope, the prefix of containerd's CRI plugin [S]"),
    CgroupRule("lxc", re.compile(r"/lxc[/.]|/lxc\.payload"),
               "LXC src/lxc/cgroups/cgroup.h: lxc.payload.<name> (>=4.0), "
               "/lxc/<name> before 4.0 [U]"),
    CgroupRule("kubernetes", re.compile(r"/kubepods"),
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



def assess_environment(snapshot: Snapshot) -> Environment:
    """WSL, container, Xen domain and DMI identity from the snapshot's OS files."""
    facts = snapshot.os
    evidence: list[Evidence] = [
        Evidence("operating system", "uname:sysname", facts.system),
        Evidence("machine", "uname:machine", facts.machine),
    ]
    windows = assess_windows(facts, evidence)
    if windows is None:  # WSL, Linux containers and Xen domains are Linux-side notions
        wsl = _wsl(facts, evidence)
        container = _container(facts, evidence)
        xen_domain = _xen_domain(facts, evidence)
    else:
        wsl, container, xen_domain = False, None, None
    dmi = _dmi(facts, evidence)
    return Environment(
        os=facts.system,
        machine=facts.machine,
        wsl=wsl,
        container=container,
        xen_domain=xen_domain,
        dmi=dmi,
        evidence=tuple(evidence),
        windows=windows,
    )


def observed(facts: OsFacts, path: str) -> EvidenceValue:
    """What a path showed: its (stripped, shortened) text, its state, or ``unknown``."""
    state = facts.state(path)
    if state is None:
        return "unknown"
    if state != "ok":
        return state
    text = (facts.text(path) or "").strip()
    return text if len(text) <= QUOTE_MAX else text[: QUOTE_MAX - 3] + "..."


def _wsl(facts: OsFacts, evidence: list[Evidence]) -> bool:
    release = facts.text(OSRELEASE)
    value = observed(facts, OSRELEASE)
    if release is None:
        evidence.append(Evidence("WSL unknown: kernel release not read", OSRELEASE, value))
        return False
    if WSL_PATTERN.search(release):
        evidence.append(Evidence("WSL kernel (release names Microsoft/WSL)", OSRELEASE, value))
        return True
    evidence.append(Evidence("not a WSL kernel", OSRELEASE, value))
    return False


def _container(facts: OsFacts, evidence: list[Evidence]) -> str | None:
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
        for rule in CGROUP_RULES:
            line = next((ln for ln in text.splitlines() if rule.pattern.search(ln)), None)
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


def _dmi(facts: OsFacts, evidence: list[Evidence]) -> dict[str, str]:
    read = read_dmi_sourced(facts)
    evidence.extend(Evidence(f"DMI {key}", source, value) for key, (value, source) in read.items())
    dmi = {key: value for key, (value, _) in read.items()}
    if not dmi:
        sample = DMI_DIR + "sys_vendor"
        evidence.append(Evidence("no DMI identity read", sample, observed(facts, sample)))
    return dmi


def _first_word(text: str | None) -> str:
    """A container name: the first word of a one-line file, lower-cased, bounded."""
    if not text:
        return ""
    words = text.strip().split()
    return words[0].lower()[:64] if words else ""
