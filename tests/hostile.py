"""Hostile inputs and a CLI runner, shared by the contract tests (issue 11).

Every builder returns real input for the real entry points: own-format dump texts with
one field made hostile, FIFOs, pipes with and without writers, special files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nestprobe.model.latency import LatencyRecord
from nestprobe.model.snapshot import (
    CpuidTable,
    FileFact,
    KvmDevice,
    OsFacts,
    Registers,
    Snapshot,
)
from nestprobe.sources.dumpfile import format_dump

REPO = Path(__file__).resolve().parent.parent
#: Every control character class a terminal acts on: CSI (clear, move), OSC (title),
#: CR (overwrite the line), BEL, backspace, C1 CSI, bidi override, NUL.
ESCAPES = "\x1b[2J\x1b[31mRED\x1b]0;pwned\x07\rFAKE\x08\x9b1m\u202eevil\x00"
CONTROL = {chr(c) for c in range(0x20)} - {"\n"} | {"\x7f", "\x9b", "\u202e"}

KVM_GUEST = CpuidTable({
    (0, 0): Registers(0x10, 0x756E6547, 0x6C65746E, 0x49656E69),  # GenuineIntel
    (1, 0): Registers(0x906EA, 0, 1 << 31, 0),  # hypervisor bit, no VMX
    (0x40000000, 0): Registers(0x40000001, 0x4B4D564B, 0x564B4D56, 0x4D),  # KVMKVMKVM
    (0x40000001, 0): Registers(0, 0, 0, 0),
    (0x80000000, 0): Registers(0x80000008, 0, 0, 0),
})

LATENCY = LatencyRecord(
    cpuid_ticks=9022.0, median_ticks=9100.5, p99_ticks=12000.0, baseline_ticks=40.0,
    tsc_hz=2.45e9, tsc_hz_source="cpuid:0x40000010", tsc_quantum_ticks=1,
    samples=2000, batches=20, leaves=(0, 1, 0x40000000), pinned_cpu=0,
)


def snapshot(files: dict[str, FileFact] | None = None, **fields: Any) -> Snapshot:
    """A KVM guest with VT-x hidden; ``files`` and ``fields`` replace parts of it."""
    values: dict[str, Any] = {
        "cpuid_status": "ok",
        "cpuid": KVM_GUEST,
        "os": OsFacts(system="Linux", machine="x86_64", files=files or {},
                      kvm=KvmDevice("absent", error="ENOENT")),
        "latency": LATENCY,
    }
    values.update(fields)
    return Snapshot(**values)


def hostile_snapshot(text: str = ESCAPES) -> Snapshot:
    """``text`` in every text field a snapshot has (and the files the report reads)."""
    files = {
        path: FileFact("ok", text + "\n")
        for path in ("/run/host/container-manager", "/run/systemd/container",
                     "/sys/class/dmi/id/sys_vendor", "/sys/class/dmi/id/product_name",
                     "/sys/hypervisor/type", "/proc/sys/kernel/osrelease",
                     "/sys/module/kvm_amd/parameters/nested")
    }
    files[text] = FileFact("ok", text)
    latency = LatencyRecord(**{**LATENCY.to_dict(), "tsc_hz_source": text,
                               "leaves": LATENCY.leaves})
    return snapshot(
        files,
        os=OsFacts(system=text, machine=text, files=files,
                   kvm=KvmDevice("error", error=text)),
        cpuid_detail=text,
        latency=latency,
    )


def own_dump(snap: Snapshot | None = None) -> str:
    return format_dump(snap if snap is not None else snapshot())


def with_latency_payload(payload: str) -> str:
    """A valid own-format dump whose latency record is ``payload`` verbatim."""
    lines = [line for line in own_dump().splitlines() if not line.startswith("latency ")]
    return "\n".join([*lines[:-1], f"latency {payload}", "end"]) + "\n"


def latency_json(**changes: object) -> str:
    """The LATENCY record as JSON text with ``changes``; values given as str are raw JSON
    tokens (``NaN``, ``1e400``), so non-standard numbers can be written."""
    data = LATENCY.to_dict()
    raw: dict[str, str] = {}
    for name, value in changes.items():
        if isinstance(value, str):
            raw[name] = value
            data[name] = f"@@{name}@@"
        else:
            data[name] = value
    text = json.dumps(data)
    for name, token in raw.items():
        text = text.replace(f'"@@{name}@@"', token)
    return text


def run_cli(
    *args: str, stdin: Any = subprocess.DEVNULL, env: dict[str, str] | None = None,
    stdout: Any = subprocess.PIPE, timeout: float = 60, text: bool = False,
) -> subprocess.CompletedProcess[Any]:
    """``python -m nestprobe ARGS`` in a fresh process (the console entry point's path)."""
    full_env = dict(os.environ, PYTHONPATH=str(REPO))
    full_env.pop("NO_COLOR", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "nestprobe", *args], stdin=stdin, stdout=stdout,
        stderr=subprocess.PIPE, env=full_env, timeout=timeout, check=False, cwd=str(REPO),
        text=text,
    )


@contextmanager
def pipe_with_writer(data: bytes, *, forever: bool = False) -> Iterator[str]:
    """A ``/dev/fd/N`` path to a pipe whose writer thread writes ``data`` (repeated
    forever when ``forever``), as ``--from <(cmd)`` hands nestprobe."""
    read_fd, write_fd = os.pipe()
    if forever:  # whole pipe buffers at a time: an endless writer, not a slow one
        data = data * (65536 // max(len(data), 1) + 1)

    def write() -> None:
        try:
            while True:
                os.write(write_fd, data)
                if not forever:
                    break
        except OSError:
            pass  # the reader closed its end
        finally:
            os.close(write_fd)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    try:
        yield f"/dev/fd/{read_fd}"
    finally:
        os.close(read_fd)
        thread.join(timeout=10)


def no_control(text: str) -> bool:
    """True when ``text`` holds no character a terminal would act on (newlines allowed)."""
    return not (set(text) & CONTROL) and all(
        ch == "\n" or ch.isprintable() for ch in text
    )


def bench_result() -> dict[str, Any]:
    """A valid bench result (schema 2): the synthetic run tests/bench/test_bench_result.py builds,
    assessed from its KVM dump, so compare gets past the first file to the one on trial."""
    from test_bench_result import build

    return build()
