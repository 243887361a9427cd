"""probe_kvm_device: every state for real (absent, no-access, error, usable)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import IS_ROOT

if sys.platform == "win32":
    pytest.skip("/dev/kvm and its ioctls are Linux's (fcntl)", allow_module_level=True)

from nestprobe.model.snapshot import KVM_API_VERSION
from nestprobe.sources.kvmdev import errno_name, probe_kvm_device

REPO = Path(__file__).resolve().parents[2]
KVM = Path("/dev/kvm")
NOBODY = 65534


def is_kvm_node() -> bool:
    try:
        return stat.S_ISCHR(KVM.stat().st_mode)
    except OSError:
        return False


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def test_missing_path_is_absent(tmp_path: Path) -> None:
    device = probe_kvm_device(str(tmp_path / "kvm"))
    assert device.state == "absent"
    assert device.error == "ENOENT"
    assert device.api_version is None
    assert device.create_vm is None


def test_path_under_a_file_is_absent(tmp_path: Path) -> None:
    (tmp_path / "dev").write_text("")
    assert probe_kvm_device(str(tmp_path / "dev" / "kvm")).state == "absent"


def test_dev_null_is_error_enotty() -> None:
    device = probe_kvm_device("/dev/null")
    assert device.state == "error"
    assert device.error == "ENOTTY"
    assert device.api_version is None


def test_regular_file_is_error_and_unchanged(tmp_path: Path) -> None:
    fake = tmp_path / "kvm"
    fake.write_bytes(b"not a kvm device")
    mtime = fake.stat().st_mtime_ns
    device = probe_kvm_device(str(fake))
    assert device.state == "error"
    assert device.error == "ENOTTY"
    assert fake.read_bytes() == b"not a kvm device"
    assert fake.stat().st_mtime_ns == mtime


def test_directory_is_error_eisdir(tmp_path: Path) -> None:
    device = probe_kvm_device(str(tmp_path))
    assert device.state == "error"
    assert device.error == "EISDIR"


def test_every_fd_is_closed(tmp_path: Path) -> None:
    before = open_fds()
    probe_kvm_device("/dev/null")
    probe_kvm_device(str(tmp_path / "missing"))
    if is_kvm_node():
        probe_kvm_device()
    assert open_fds() == before


def test_errno_names() -> None:
    assert errno_name(13) == "EACCES"
    assert errno_name(None) == "EUNKNOWN"
    assert errno_name(99999) == "99999"


NOBODY_SCRIPT = """
import json, os, sys
from nestprobe.sources.kvmdev import probe_kvm_device
os.setgroups([])
os.setgid({uid})
os.setuid({uid})
d = probe_kvm_device(sys.argv[1])
print(json.dumps([d.state, d.error, d.api_version, d.create_vm]))
"""


@pytest.mark.skipif(not IS_ROOT, reason="dropping to nobody needs root")
def test_unprivileged_user_gets_no_access() -> None:
    if not is_kvm_node():
        pytest.skip("no /dev/kvm on this machine")
    mode = KVM.stat().st_mode
    if mode & stat.S_IROTH and mode & stat.S_IWOTH:
        pytest.skip("/dev/kvm is world read-write here: nobody can open it")
    done = subprocess.run(
        [sys.executable, "-c", NOBODY_SCRIPT.format(uid=NOBODY), str(KVM)],
        capture_output=True, text=True, check=True, cwd=REPO, timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert json.loads(done.stdout) == ["no-access", "EACCES", None, None]


@pytest.mark.skipif(not IS_ROOT, reason="the live device is root-only here")
def test_live_device_is_usable_as_root() -> None:
    if not is_kvm_node():
        pytest.skip("no /dev/kvm on this machine")
    device = probe_kvm_device()
    assert device.state == "usable"
    assert device.api_version == KVM_API_VERSION
    assert device.create_vm is not None
    # create_vm False must say why; True must not carry an error.
    assert (device.error is None) == device.create_vm
