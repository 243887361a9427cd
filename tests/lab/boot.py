"""Boot one guest: QEMU with a timeout, the serial console captured to a log file."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import host

#: Console on the first UART, kernel messages included (a hung boot then shows where);
#: panic reboots and -no-reboot turns that into a QEMU exit. /init mutes the kernel.
BASE_APPEND = "console=ttyS0 panic=-1"


@dataclass(frozen=True, slots=True)
class Machine:
    """How to start one guest: accelerator, CPU model and size."""

    cpu: str
    accel: str = "tcg"
    memory_mib: int = 256
    smp: int = 1


@dataclass(frozen=True, slots=True)
class Boot:
    tag: str
    log: str  # serial console, \r removed
    returncode: int | None  # None when the timeout killed QEMU
    seconds: float
    stderr: str

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    def tail(self, lines: int = 40) -> str:
        """The end of the console and QEMU's stderr, for failure messages."""
        text = "\n".join(self.log.splitlines()[-lines:])
        return f"--- serial tail ({self.tag}) ---\n{text}\n--- qemu stderr ---\n{self.stderr}"


def _text(value: bytes | str | None) -> str:
    # TimeoutExpired carries bytes even when the run asked for text.
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value or ""


def command(
    machine: Machine, vmlinuz: Path, initrd: Path, log: Path, append: str
) -> list[str]:
    qemu = host.qemu()
    if qemu is None:
        raise FileNotFoundError(host.QEMU)
    return [
        str(qemu), "-accel", machine.accel, "-cpu", machine.cpu,
        "-m", str(machine.memory_mib), "-smp", str(machine.smp),
        "-nodefaults", "-display", "none", "-no-reboot", "-net", "none",
        "-serial", f"file:{log}",
        "-kernel", str(vmlinuz), "-initrd", str(initrd),
        "-append", f"{BASE_APPEND} {append}".strip(),
    ]


def boot(
    tag: str,
    machine: Machine,
    *,
    vmlinuz: Path,
    initrd: Path,
    logdir: Path,
    timeout_s: float,
    extra_append: Sequence[str] = (),
) -> Boot:
    """Run the guest to its own reboot (or the timeout) and return its console."""
    logdir.mkdir(parents=True, exist_ok=True)
    log = logdir / f"{tag}.log"
    log.unlink(missing_ok=True)
    append = " ".join([f"nplab_tag={tag}", *extra_append])
    argv = command(machine, vmlinuz, initrd, log, append)
    start = time.monotonic()
    returncode: int | None
    try:
        done = subprocess.run(
            argv, check=False, capture_output=True, text=True, timeout=timeout_s,
            stdin=subprocess.DEVNULL,
        )
        returncode, stderr = done.returncode, done.stderr
    except subprocess.TimeoutExpired as expired:
        returncode = None
        stderr = f"{_text(expired.stderr)}\n[killed after {timeout_s:.0f} s]"
    seconds = time.monotonic() - start
    text = log.read_bytes().decode(errors="replace").replace("\r", "") if log.exists() else ""
    return Boot(tag, text, returncode, seconds, stderr)
