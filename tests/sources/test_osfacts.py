"""collect_os_facts: every file state through a test root, a bare root, the live root, no writes."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import IS_ROOT

from nestprobe.assess.environment import assess_environment
from nestprobe.model.assessment import Environment
from nestprobe.model.snapshot import CpuidTable, FileFact, OsFacts, Snapshot
from nestprobe.sources.osfacts import (
    WATCHED_PATHS,
    collect_os_facts,
    container_entries,
    first_cpuinfo_block,
    normalise_machine,
)

REPO = Path(__file__).resolve().parents[2]
NOBODY = 65534

CPUINFO_TWO_CPUS = (
    "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu hypervisor\n\n"
    "processor\t: 1\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu hypervisor\n\n"
)


def put(root: Path, path: str, data: str | bytes) -> Path:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        target.write_text(data, newline="\n")  # a Linux tree, also when written on Windows
    else:
        target.write_bytes(data)
    return target


def test_watched_paths_match_the_architecture_doc() -> None:
    doc = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = doc.split("## OS files the probe reads", 1)[1].split("\n## ", 1)[0]
    for path in WATCHED_PATHS:
        if path.startswith("/sys/class/dmi/id/"):
            assert path.rsplit("/", 1)[1] in section
        else:
            assert f"`{path}`" in section or f"`{path}` (dir)" in section, path
    assert len(set(WATCHED_PATHS)) == len(WATCHED_PATHS)
    assert all(path.startswith("/") for path in WATCHED_PATHS)


def test_ok_absent_and_dir_states_through_a_test_root(tmp_path: Path) -> None:
    put(tmp_path, "/proc/sys/kernel/osrelease", "6.6.0-microsoft-standard-WSL2\n")
    put(tmp_path, "/.dockerenv", "")
    (tmp_path / "sys/module/kvm").mkdir(parents=True)
    (tmp_path / "proc/xen").mkdir(parents=True)

    facts = collect_os_facts(tmp_path, system="Linux", machine="x86_64")

    assert facts.state("/proc/sys/kernel/osrelease") == "ok"
    assert facts.text("/proc/sys/kernel/osrelease") == "6.6.0-microsoft-standard-WSL2\n"
    assert facts.state("/.dockerenv") == "ok"
    assert facts.text("/.dockerenv") == ""
    assert facts.state("/sys/module/kvm") == "dir"
    assert facts.text("/sys/module/kvm") is None
    assert facts.state("/proc/xen") == "dir"
    assert facts.state("/sys/hypervisor/type") == "absent"
    # Absent under a missing parent and a parent that is a file (ENOTDIR) alike.
    assert facts.state("/proc/xen/capabilities") == "absent"
    put(tmp_path, "/sys/module/kvm_amd", "a file where a directory is expected")
    again = collect_os_facts(tmp_path, system="Linux", machine="x86_64")
    assert again.state("/sys/module/kvm_amd/parameters/nested") == "absent"
    assert set(facts.files) == set(WATCHED_PATHS)
    assert facts.kvm is None  # not the live root: /dev/kvm is never probed


def test_directory_where_a_file_is_expected_is_dir_not_text(tmp_path: Path) -> None:
    (tmp_path / "proc/cpuinfo").mkdir(parents=True)
    facts = collect_os_facts(tmp_path, system="Linux", machine="x86_64")
    assert facts.state("/proc/cpuinfo") == "dir"
    assert facts.text("/proc/cpuinfo") is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this OS")
def test_fifo_is_unreadable_and_does_not_block(tmp_path: Path) -> None:
    target = tmp_path / "sys/hypervisor/type"
    target.parent.mkdir(parents=True)
    os.mkfifo(target)
    facts = collect_os_facts(tmp_path, system="Linux", machine="x86_64")
    assert facts.state("/sys/hypervisor/type") == "unreadable"


@pytest.fixture
def world_traversable_root() -> Iterator[Path]:
    # pytest's tmp_path lives under a 0700 directory nobody cannot enter.
    root = Path(tempfile.mkdtemp(prefix="nestprobe-osfacts-", dir="/tmp"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root)


NOBODY_SCRIPT = """
import json, os, sys
from nestprobe.sources.osfacts import collect_os_facts
os.setgroups([])
os.setgid({uid})
os.setuid({uid})
facts = collect_os_facts(sys.argv[1], system="Linux", machine="x86_64")
print(json.dumps({{p: [f.state, f.text] for p, f in facts.files.items()}}))
"""


def run_as_nobody(root: Path) -> dict[str, list[str | None]]:
    done = subprocess.run(
        [sys.executable, "-c", NOBODY_SCRIPT.format(uid=NOBODY), str(root)],
        capture_output=True, text=True, check=True, cwd=REPO, timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    result: dict[str, list[str | None]] = json.loads(done.stdout)
    return result


@pytest.mark.skipif(not IS_ROOT, reason="dropping to nobody needs root")
def test_permission_denied_is_unreadable_for_an_unprivileged_user(
    world_traversable_root: Path,
) -> None:
    root = world_traversable_root
    put(root, "/proc/sys/kernel/osrelease", "6.1.0\n").chmod(0o644)
    put(root, "/proc/1/cgroup", "0::/\n").chmod(0o000)  # file not readable
    hv = put(root, "/sys/hypervisor/type", "xen\n")
    hv.parent.chmod(0o700)  # directory not searchable
    for parent in (root / "proc", root / "proc/sys", root / "proc/sys/kernel", root / "proc/1",
                   root / "sys"):
        parent.chmod(0o755)

    seen = run_as_nobody(root)

    assert seen["/proc/sys/kernel/osrelease"] == ["ok", "6.1.0\n"]
    assert seen["/proc/1/cgroup"] == ["unreadable", None]
    assert seen["/sys/hypervisor/type"] == ["unreadable", None]
    assert seen["/sys/hypervisor/properties/features"] == ["unreadable", None]
    assert seen["/proc/xen"] == ["absent", None]


def test_root_without_proc_sys_dev(tmp_path: Path) -> None:
    facts = collect_os_facts(tmp_path, system="Linux", machine="x86_64", kvm=True)
    assert {fact.state for fact in facts.files.values()} == {"absent"}
    assert facts.kvm is None


def test_missing_root_is_all_absent_not_an_exception(tmp_path: Path) -> None:
    facts = collect_os_facts(tmp_path / "does-not-exist")
    assert {fact.state for fact in facts.files.values()} == {"absent"}
    assert (facts.system, facts.machine) == ("Linux", "unknown")


def test_cpuinfo_is_trimmed_to_its_first_processor_block(tmp_path: Path) -> None:
    put(tmp_path, "/proc/cpuinfo", CPUINFO_TWO_CPUS)
    text = collect_os_facts(tmp_path, system="Linux", machine="x86_64").text("/proc/cpuinfo")
    assert text == "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu hypervisor\n"
    assert first_cpuinfo_block("processor\t: 0\n") == "processor\t: 0\n"


def test_pid1_environment_keeps_only_container_entries(tmp_path: Path) -> None:
    put(tmp_path, "/proc/1/environ", "PATH=/bin\0AWS_SECRET=hunter2\0container=lxc\0HOME=/\0")
    text = collect_os_facts(tmp_path, system="Linux", machine="x86_64").text("/proc/1/environ")
    assert text == "container=lxc\0"
    assert container_entries("PATH=/bin\0") == ""


def test_undecodable_bytes_round_trip_through_surrogateescape(tmp_path: Path) -> None:
    raw = b"Vendor \xff\xfe\n"
    put(tmp_path, "/sys/class/dmi/id/sys_vendor", raw)
    text = collect_os_facts(tmp_path, system="Linux", machine="x86_64").text(
        "/sys/class/dmi/id/sys_vendor"
    )
    assert text is not None
    assert text.encode("utf-8", errors="surrogateescape") == raw


def test_reads_are_capped(tmp_path: Path) -> None:
    put(tmp_path, "/proc/modules", "x" * (3 << 20))
    text = collect_os_facts(tmp_path, system="Linux", machine="x86_64").text("/proc/modules")
    assert text is not None
    assert len(text) == 1 << 20


def test_non_linux_reads_nothing(tmp_path: Path) -> None:
    put(tmp_path, "/proc/cpuinfo", CPUINFO_TWO_CPUS)
    facts = collect_os_facts(tmp_path, system="Windows", machine="AMD64")
    assert facts.files == {}
    assert facts.kvm is not None
    assert facts.kvm.state == "not-linux"
    assert facts.machine == "x86_64"
    assert facts.state("/proc/cpuinfo") is None  # not looked at: unknown, not absent
    assert collect_os_facts(tmp_path, system="Darwin", kvm=False).kvm is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("AMD64", "x86_64"), ("amd64", "x86_64"), ("x86_64", "x86_64"), ("i386", "i686"),
     ("x86", "i686"), ("arm64", "aarch64"), ("aarch64", "aarch64"), ("ppc64le", "ppc64le")],
)
def test_machine_names_are_normalised(raw: str, expected: str) -> None:
    assert normalise_machine(raw) == expected


def snapshot_tree(root: Path) -> dict[str, tuple[int, int, int]]:
    return {
        str(path.relative_to(root)): (path.stat().st_mode, path.stat().st_size,
                                      path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
    }


def test_collecting_writes_nothing(tmp_path: Path) -> None:
    put(tmp_path, "/proc/cpuinfo", CPUINFO_TWO_CPUS)
    put(tmp_path, "/proc/1/environ", "container=docker\0")
    (tmp_path / "sys/module/kvm_intel/parameters").mkdir(parents=True)
    put(tmp_path, "/sys/module/kvm_intel/parameters/nested", "Y\n")
    before = snapshot_tree(tmp_path)
    root_mtime = tmp_path.stat().st_mtime_ns
    collect_os_facts(tmp_path, system="Linux", machine="x86_64")
    assert snapshot_tree(tmp_path) == before
    assert tmp_path.stat().st_mtime_ns == root_mtime


LIVE_SCRIPT = """
import builtins, io, json, os, sys
opened = []
real_open = os.open
def spy(path, *args, **kwargs):
    opened.append(os.fspath(path))
    return real_open(path, *args, **kwargs)
os.open = spy
from nestprobe.sources.osfacts import collect_os_facts
facts = collect_os_facts()
print(json.dumps({"opened": opened, "system": facts.system, "machine": facts.machine,
                  "kvm": None if facts.kvm is None else facts.kvm.state,
                  "states": {p: f.state for p, f in facts.files.items()}}))
"""


@pytest.mark.skipif(sys.platform == "win32",
                    reason="Linux's watched paths; Windows facts are issue 9 item 4")
def test_live_root_reads_only_watched_paths() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LIVE_SCRIPT], capture_output=True, text=True, check=True,
        cwd=REPO, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    seen = json.loads(done.stdout)
    allowed = {os.path.join("/", p.lstrip("/")) for p in WATCHED_PATHS} | {"/dev/kvm"}
    assert seen["opened"], "the live probe opened nothing at all"
    assert set(seen["opened"]) <= allowed
    assert seen["system"] == platform.system()
    assert set(seen["states"]) == set(WATCHED_PATHS)
    if platform.system() == "Linux":
        assert seen["states"]["/proc/sys/kernel/osrelease"] == "ok"
        assert seen["kvm"] in {"absent", "no-access", "error", "usable"}


def test_live_facts_agree_with_the_files() -> None:
    facts: OsFacts = collect_os_facts(kvm=False)
    assert facts.kvm is None
    if platform.system() != "Linux":
        pytest.skip("live file comparison needs Linux")
    assert facts.text("/proc/sys/kernel/osrelease") == Path(
        "/proc/sys/kernel/osrelease").read_text()
    assert facts.state("/sys/module/kvm") == ("dir" if Path("/sys/module/kvm").is_dir()
                                               else "absent")


# --- The environment assessment over these facts (nestprobe/assess/environment.py) ---

def env_of(files: dict[str, FileFact], system: str = "Linux") -> Environment:
    facts = OsFacts(system=system, machine="x86_64", files=files)
    return assess_environment(Snapshot(cpuid_status="ok", cpuid=CpuidTable(), os=facts))


def ok(text: str) -> FileFact:
    return FileFact(state="ok", text=text)


ABSENT = FileFact(state="absent")


@pytest.mark.parametrize(
    ("release", "wsl"),
    [("4.4.0-19041-Microsoft", True), ("5.15.153.1-microsoft-standard-WSL2", True),
     ("6.6.36.3-WSL2-custom", True), ("6.1.0-18-amd64", False), ("6.18.44-fc-v669", False)],
)
def test_wsl_from_the_kernel_release(release: str, wsl: bool) -> None:
    env = env_of({"/proc/sys/kernel/osrelease": ok(release + "\n")})
    assert env.wsl is wsl
    assert any(ev.source == "/proc/sys/kernel/osrelease" and ev.value == release
               for ev in env.evidence)


def test_files_not_looked_at_are_unknown_never_absent() -> None:
    env = env_of({})
    # WSL is a fact like the others: not read, so unknown (None), never a silent False.
    assert (env.wsl, env.container, env.xen_domain, dict(env.dmi)) == (None, None, None, {})
    values = [ev.value for ev in env.evidence if ev.source.startswith(("/proc", "/sys", "/."))]
    assert values
    assert "absent" not in values
    assert set(values) == {"unknown"}
    looked = env_of({"/proc/sys/kernel/osrelease": ABSENT, "/.dockerenv": ABSENT})
    assert "absent" in {ev.value for ev in looked.evidence}


def test_size_and_xen_mode_from_the_os_files() -> None:
    env = env_of({"/proc/meminfo": ok("MemTotal:        3990528 kB\nMemFree: 1 kB\n"),
                  "/sys/devices/system/cpu/present": ok("0-3,8\n"),
                  "/sys/hypervisor/guest_type": ok("PV\n"),
                  "/proc/xen/capabilities": ok("\n")})
    assert (env.memory_bytes, env.vcpus, env.xen_mode, env.xen_domain) == (
        3990528 * 1024, 5, "pv", "domU")
    assert any(ev.source == "/proc/meminfo:MemTotal" for ev in env.evidence)
    garbled = env_of({"/sys/devices/system/cpu/present": ok("zero\n"),
                      "/proc/meminfo": ok("nothing here\n")})
    assert (garbled.vcpus, garbled.memory_bytes) == (None, None)


def test_container_signals_in_order_of_authority() -> None:
    both = {"/run/systemd/container": ok("lxc\n"), "/.dockerenv": ok(""),
            "/proc/self/cgroup": ok("0::/\n")}
    assert env_of(both).container == "lxc"
    assert env_of({"/proc/1/environ": ok("container=podman\0")}).container == "podman"
    assert env_of({"/proc/1/environ": ok("container=\0"), "/.dockerenv": ok("")}).container \
        is None
    kube = "0::/kubepods.slice/kubepods-burstable.slice/cri-containerd-abc.scope\n"
    assert env_of({"/proc/self/cgroup": ok(kube)}).container == "containerd"
    assert env_of({"/proc/self/cgroup": ok("0::/kubepods/besteffort/pod1/x\n")}).container \
        == "kubernetes"
    assert env_of({"/proc/self/cgroup": ok("0::/system.slice/docker.service\n")}).container \
        is None
    assert env_of({"/run/.containerenv": ok("")}).container == "podman"


def test_cgroup_patterns_match_within_one_line_unanchored() -> None:
    # assess/environment.py searches a cgroup file whole before its lines: sound only while a
    # line that matches makes the whole text match (no anchor, nothing that spans lines).
    from nestprobe.assess.environment import CGROUP_RULES

    for rule in CGROUP_RULES:
        # Plain classes ([/.]: never a line break) and escaped dots aside: no anchor, no "."
        # (it matches "\r", a line break to splitlines), no escape (\n, \s, \A ...), no
        # negated class, no flag or lookaround group.
        source = re.sub(r"\[[^\]^\\]*\]", "", rule.pattern.pattern).replace("\\.", "")
        assert not any(token in source for token in ("^", "$", ".", "\\", "(?")), source
    text = "1:cpu:/\n0::/system.slice/docker-abc.scope\n"
    env = env_of({"/proc/self/cgroup": ok(text)})
    assert env.container == "docker"
    assert any(ev.value == "0::/system.slice/docker-abc.scope" for ev in env.evidence)


def test_dockerenv_left_in_a_vm_image_is_not_a_container() -> None:
    # This machine: a Firecracker VM whose root file system came from a Docker image.
    v1_root = "9:name=systemd:/\n8:pids:/\n1:cpu:/\n0::/\n"
    env = env_of({"/.dockerenv": ok(""), "/proc/1/cgroup": ok(v1_root)})
    assert env.container is None
    assert any("left in the image" in ev.claim for ev in env.evidence)
    # On cgroup v2 a private namespace also shows "/": the marker stands.
    assert env_of({"/.dockerenv": ok(""), "/proc/1/cgroup": ok("0::/\n")}).container == "docker"


@pytest.mark.parametrize(
    ("files", "domain"),
    [({"/sys/hypervisor/properties/features": ok("00000801\n")}, "dom0"),
     ({"/sys/hypervisor/properties/features": ok("00000001\n"),
       "/proc/xen/capabilities": ok("control_d\n")}, "domU"),
     ({"/proc/xen/capabilities": ok("control_d\n")}, "dom0"),
     ({"/proc/xen/capabilities": ok("\n"), "/proc/xen": FileFact(state="dir")}, "domU"),
     ({"/proc/xen": FileFact(state="dir")}, "domU"),
     ({"/sys/hypervisor/type": ok("xen\n")}, "domU"),
     ({"/sys/hypervisor/type": ok("s390\n"), "/proc/xen": ABSENT}, None)],
)
def test_xen_domain(files: dict[str, FileFact], domain: str | None) -> None:
    assert env_of(files).xen_domain == domain


def test_dmi_is_the_files_read_stripped() -> None:
    env = env_of({"/sys/class/dmi/id/sys_vendor": ok("Amazon EC2\n"),
                  "/sys/class/dmi/id/product_name": ok("m5.metal \n"),
                  "/sys/class/dmi/id/board_vendor": FileFact(state="unreadable")})
    assert dict(env.dmi) == {"sys_vendor": "Amazon EC2", "product_name": "m5.metal"}
    assert any(ev.source == "/sys/class/dmi/id/product_name" and ev.value == "m5.metal"
               for ev in env.evidence)


def test_environment_of_the_live_machine() -> None:
    facts = collect_os_facts(kvm=False)
    env = assess_environment(Snapshot(cpuid_status="ok", cpuid=CpuidTable(), os=facts))
    assert env.os == platform.system()
    assert env.machine == normalise_machine(platform.machine())
    assert env.evidence
