"""Contracts of the brief: import probes nothing; the probe never writes, needs no root,
spawns nothing and loads no modules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import IS_ROOT

REPO = Path(__file__).resolve().parents[2]

#: Runs code under an audit hook that records every write-mode open, file-system change
#: and process spawn, then prints them as JSON.
AUDIT_PRELUDE = textwrap.dedent(
    """
    import json, os, sys
    WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    seen = {"writes": [], "spawns": [], "reads": []}
    def hook(event, args):
        if event == "open":
            path, mode, flags = args
            path = str(path)
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & WRITE_FLAGS)
            (seen["writes"] if writing else seen["reads"]).append(path)
        elif event in ("os.mkdir", "os.remove", "os.rename", "os.rmdir", "os.truncate",
                       "os.chmod", "os.chown", "os.link", "os.symlink", "os.utime"):
            seen["writes"].append(f"{event}:{args[0]}")
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.fork"):
            seen["spawns"].append(event)
    sys.addaudithook(hook)
    """
)


def _audited(code: str, *, as_nobody: bool = False) -> dict[str, list[str]]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(REPO))
    if as_nobody:
        # This interpreter lives under /root, which nobody cannot read: warm every lazy import
        # with one probe first, then drop privileges and probe again as nobody.
        code = (
            "import nestprobe, nestprobe.output.jsonreport\n"
            "nestprobe.report_to_dict(nestprobe.probe())\n"
            "seen['writes'].clear(); seen['reads'].clear()\n"
            "os.setgroups([]); os.setgid(65534); os.setuid(65534)\n"
            "assert os.geteuid() == 65534\n" + code
        )
    proc = subprocess.run(
        [sys.executable, "-c", AUDIT_PRELUDE + code + "\nprint(json.dumps(seen))"],
        capture_output=True, text=True, env=env, cwd="/", check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_import_probes_nothing() -> None:
    seen = _audited("import nestprobe\nassert 'nestprobe._native' not in sys.modules")
    probed = [p for p in seen["reads"] if p.startswith(("/proc", "/sys", "/dev"))]
    assert probed == []
    assert seen["writes"] == []
    assert seen["spawns"] == []


def test_probe_writes_nothing_and_spawns_nothing() -> None:
    seen = _audited("import nestprobe\nr = nestprobe.probe()\nnestprobe.report_to_dict(r)")
    # /dev/kvm must be opened read-write for its ioctls; it is a device, not a file.
    assert [w for w in seen["writes"] if w != "/dev/kvm"] == []
    assert seen["spawns"] == []
    if sys.platform == "linux":  # the probe read the kernel's view (Windows: the registry)
        assert any(p.startswith("/proc/cpuinfo") for p in seen["reads"])


@pytest.mark.skipif(not IS_ROOT, reason="dropping to nobody needs root to start with")
def test_probe_needs_no_root() -> None:
    seen = _audited(
        "import nestprobe\nr = nestprobe.probe()\n"
        "assert r.snapshot.cpuid_status in ('ok', 'not-x86')\n"
        "kvm = r.snapshot.os.kvm\n"
        "assert kvm is None or kvm.state in ('absent', 'no-access', 'usable', 'error')\n"
        "assert not (os.path.exists('/dev/kvm') and os.stat('/dev/kvm').st_mode & 0o006 == 0"
        " and kvm.state != 'no-access')\n",
        as_nobody=True,
    )
    assert seen["writes"] in ([], ["/dev/kvm"])


def test_nothing_loads_kernel_modules() -> None:
    """The probe never runs modprobe/insmod: it spawns no process at all (see above) and
    opens no module-loading interface."""
    seen = _audited("import nestprobe\nnestprobe.probe(timing=False)")
    assert not [p for p in seen["reads"] + seen["writes"] if "modprobe" in p or "insmod" in p]
    assert seen["spawns"] == []


def test_probe_from_16_threads_is_identical() -> None:
    """Concurrent probes (installers may embed nestprobe in threaded code) agree exactly."""
    from concurrent.futures import ThreadPoolExecutor

    import nestprobe

    def one(_: int) -> str:
        report = nestprobe.report_to_dict(nestprobe.probe(timing=False))
        # The raw snapshot is each probe's own reading (the APIC IDs of the CPU the thread
        # ran on, free memory); everything decided from it must agree.
        del report["snapshot"]
        return json.dumps(report, sort_keys=True)

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(one, range(16)))
    assert len(set(results)) == 1


def test_affinity_is_restored_after_a_timed_probe() -> None:
    import nestprobe

    if sys.platform == "win32":  # the thread's mask, read by pinning once and restoring
        from nestprobe.sources import winaffinity

        def mask() -> int | None:
            previous = winaffinity.pin_thread(0)
            assert previous is not None
            assert winaffinity.restore_thread(previous)
            return previous

        before_mask = mask()
        nestprobe.probe(timing=True)
        assert mask() == before_mask
        return
    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity API on this platform")
    before = os.sched_getaffinity(0)
    nestprobe.probe(timing=True)
    assert os.sched_getaffinity(0) == before
