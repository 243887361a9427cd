"""OS facts: the watched files, read through one replaceable root.

``root="/"`` is the live machine; a test directory (or a materialised fixture) stands
in for it otherwise, as ``distro.LinuxDistribution(root_dir=...)`` does. Every path is
read, never written; a missing, unreadable or directory path is a state, not an
exception. ``/dev/kvm`` is probed (:mod:`nestprobe.sources.kvmdev`), and only live.
On Windows the live facts are registry values and Win32 answers under pseudo-paths
(:mod:`nestprobe.sources.windows_facts`); no Linux path is read there (under wine, drive
Z: would reach the Linux host's /proc).

Paths are joined under ``root`` lexically: a symlink inside a test root that points
to an absolute path is followed on the host, as ``open()`` would follow it. Fixture
roots built by the tests contain no symlinks.
"""

from __future__ import annotations

import os
import stat
import sys

from nestprobe.model.oskeys import WATCHED_PATHS  # the vocabulary is the model's
from nestprobe.model.record import FrozenMap
from nestprobe.model.snapshot import FileFact, KvmDevice, OsFacts
from nestprobe.sources.kvmdev import probe_kvm_device

#: /proc/cpuinfo repeats one block per CPU; the flags are identical, so keep the first.
CPUINFO_PATH = "/proc/cpuinfo"
#: PID 1's environment may hold secrets; only ``container=`` entries are kept, NUL-ended.
ENVIRON_PATH = "/proc/1/environ"
#: No watched file is legitimately larger; a bigger one is read up to this and cut.
READ_CAP = 1 << 20

#: uname -m / platform.machine() spellings -> the Linux name.
#: Windows reports AMD64/x86/ARM64; BSDs report amd64/i386/arm64.
MACHINE_ALIASES: dict[str, str] = {
    "amd64": "x86_64",
    "x64": "x86_64",
    "em64t": "x86_64",
    "x86": "i686",
    "i386": "i686",
    "i486": "i686",
    "i586": "i686",
    "i86pc": "i686",
    "arm64": "aarch64",
}


def normalise_machine(machine: str) -> str:
    """``AMD64`` -> ``x86_64``, ``i386`` -> ``i686``, ``arm64`` -> ``aarch64``; else lower case."""
    lowered = machine.strip().lower()
    return MACHINE_ALIASES.get(lowered, lowered)


def this_system() -> str:
    """``platform.system()`` without ``platform``: on Windows it queries WMI (and spawns a
    process under wine), so take the answer from ``sys.platform`` and ``os.uname``."""
    if sys.platform == "win32":
        return "Windows"
    return os.uname().sysname


def this_machine() -> str:
    """``platform.machine()``, normalised, without WMI or a child process."""
    if sys.platform == "win32":
        from nestprobe.sources.winlive import live_machine

        name = live_machine()
        if name == "unknown":  # the call failed: fall back to what Windows told the process
            name = os.environ.get("PROCESSOR_ARCHITEW6432") or os.environ.get(
                "PROCESSOR_ARCHITECTURE", "unknown")
        return normalise_machine(name)
    return normalise_machine(os.uname().machine)


def collect_os_facts(
    root: str | os.PathLike[str] = "/",
    *,
    system: str | None = None,
    machine: str | None = None,
    kvm: bool = True,
) -> OsFacts:
    """Read every path in :data:`WATCHED_PATHS` under ``root``; never raises, never writes.

    ``system``/``machine`` default to this interpreter's platform when ``root`` is the
    file system root (``/``; ``C:\\`` on Windows); under another root they default to
    ``"Linux"`` (a root directory is a Linux tree) and ``"unknown"``. On a system other
    than Linux no path is read and ``/dev/kvm`` is reported as ``not-linux``; the live
    Windows root reads the Windows facts instead. ``/dev/kvm`` is probed only for the
    live root with ``kvm=True``; otherwise :attr:`OsFacts.kvm` is None (not looked at).
    """
    root_path = os.path.abspath(os.fspath(root))
    live = root_path == os.path.abspath(os.sep)
    if system is None:
        system = this_system() if live else "Linux"
    if machine is None:
        machine = this_machine() if live else "unknown"
    else:
        machine = normalise_machine(machine)

    if system != "Linux":
        files: dict[str, FileFact] = {}
        if live and system == "Windows" and sys.platform == "win32":
            from nestprobe.sources.winlive import live_windows_facts

            files = live_windows_facts()
        return OsFacts(
            system=system,
            machine=machine,
            files=files,
            kvm=kvm_fact(system, live) if kvm else None,
        )

    # A FrozenMap from the start: given a dict, the record would walk its ~33 values to
    # freeze them, each a FileFact already immutable.
    linux_files: FrozenMap[str, FileFact] = FrozenMap(
        {path: read_fact(root_path, path) for path in WATCHED_PATHS})
    return OsFacts(system=system, machine=machine, files=linux_files,
                   kvm=kvm_fact(system, live) if kvm else None)


def kvm_fact(system: str, live: bool) -> KvmDevice | None:
    """What :attr:`OsFacts.kvm` holds when ``/dev/kvm`` is looked at: ``not-linux`` on
    another system, the device's answer on this machine's Linux, None (not looked at)
    for a Linux tree under another root. The live probe calls it in its pinned part's
    thread (sources/live.py), where the ioctls fill the latency batches' gap."""
    if system != "Linux":
        return KvmDevice(state="not-linux")
    return probe_kvm_device() if live else None


#: The states without text, one record each (immutable): most watched paths are absent on
#: any one machine, and each read made its own.
_ABSENT = FileFact("absent")
_DIR = FileFact("dir")
_UNREADABLE = FileFact("unreadable")


def read_fact(root: str, path: str) -> FileFact:
    """One watched path under ``root``: its text, or the state that explains its absence."""
    relative = path.lstrip("/")
    # The live root joins as a string does (os.path.join's answer, without its call).
    full = "/" + relative if root == "/" else os.path.join(root, relative)
    try:
        info = os.stat(full)
        if stat.S_ISDIR(info.st_mode):
            return _DIR
        if not stat.S_ISREG(info.st_mode):
            # A FIFO or device where a file is expected: opening it could block or act.
            return _UNREADABLE
        data = _read_capped(full)
    except (FileNotFoundError, NotADirectoryError):
        return _ABSENT
    except IsADirectoryError:  # replaced by a directory between stat and open
        return _DIR
    except OSError:  # PermissionError and anything else the kernel refuses (EIO, EINVAL ...)
        return _UNREADABLE
    text = data.decode("utf-8", errors="surrogateescape")
    if path == CPUINFO_PATH:
        text = first_cpuinfo_block(text)
    elif path == ENVIRON_PATH:
        text = container_entries(text)
    return FileFact("ok", text)


#: O_NONBLOCK: a path swapped for a FIFO after stat must not hang the probe. Windows has
#: neither flag (nor FIFOs in the file system); O_BINARY keeps its bytes as they are.
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOINHERIT", 0))


def _read_capped(full: str) -> bytes:
    fd = os.open(full, _OPEN_FLAGS)
    try:
        chunks: list[bytes] = []
        size = 0
        while size < READ_CAP:
            chunk = os.read(fd, min(65536, READ_CAP - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def first_cpuinfo_block(text: str) -> str:
    """The first ``processor`` block of /proc/cpuinfo (blocks are separated by a blank line)."""
    block, sep, _rest = text.partition("\n\n")
    return block + "\n" if sep else text


def container_entries(environ: str) -> str:
    """Only the ``container=`` entries of a NUL-separated environment, each NUL-terminated."""
    return "".join(entry + "\0" for entry in environ.split("\0") if entry.startswith("container="))
