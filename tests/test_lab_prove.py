"""The proof (``--prove``) against real hypervisors: the QEMU lab's guests create VMs.

Two boots, one after the other (the lab is CPU-heavy and the machine is shared):

- the L1 (TCG ``EPYC,+svm``, ``kvm_amd nested=1``): its static ``nestprobe-dump --prove``
  creates a VM through /dev/kvm. It must run, count its exits, measure the round trips, run
  its loop at that OS's speed, and ``nestprobe check third-party --from DUMP --prove`` must
  exit 0 with the proof in ``--json``. Inside it one L2 (``-cpu host`` under the L1's KVM)
  loads kvm_amd too and tries the proof one level deeper; whatever it gets is checked to
  explain itself (a valid record, a verdict that names the step), not asserted to run.
- ``amd-nosvm`` (TCG ``EPYC,-svm``) tries to load kvm_amd (which refuses without SVM), so
  /dev/kvm is absent: the proof says so and the check exits non-zero.

The guests carry no Python: the dumper writes the ``proof`` record and the host replays each
dump through the real CLI, as ``report --from`` does for any dump. Under TCG every figure is
an emulation figure; none is asserted, they are printed (docs/lab.md has the measured ones).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lab import build, configs, console, host, initramfs
from lab.boot import Boot, Machine, boot
from lab.run import FLAT_TIMEOUT_S, L1_MACHINE

from nestprobe.model.contract import STATUS_EXIT

pytestmark = pytest.mark.lab

RUN = host.CACHE / "prove"
L2 = configs.NESTED[0]  # l2-host: SVM and NPT passed through
L2_TIMEOUT_S = 2 * configs.L2_TIMEOUT_S
L1_TIMEOUT_S = 180 + L2_TIMEOUT_S
NOSVM = next(c for c in configs.FLAT if c.name == "amd-nosvm")
#: kvm_amd with nesting on, in every guest of this test (it refuses to load without SVM).
MODULES = build.L1_MODULES


@pytest.fixture(scope="module")
def boots() -> dict[str, Boot]:
    reason = build.missing()
    if reason is not None:
        pytest.skip(reason)
    from nestprobe.sources.osfacts import WATCHED_PATHS

    kernel = build.find_lab_kernel()
    busybox = host.busybox()
    assert kernel is not None
    assert busybox is not None
    dumper = build.dumper(RUN)
    flat = initramfs.flat(busybox, dumper, WATCHED_PATHS, prove=True)
    with_kvm = initramfs.with_modules(flat, kernel, MODULES)
    flat_image = with_kvm.write(RUN / "flat-kvm.cpio")
    guests = (initramfs.NestedGuest(L2.name, L2.cpu, L2_TIMEOUT_S),)
    l1_image = initramfs.l1(with_kvm, kernel, flat_image, MODULES, guests).write(RUN / "l1.cpio")
    logs = RUN / "logs"
    booted = {
        NOSVM.name: boot(NOSVM.name, Machine(NOSVM.cpu), vmlinuz=kernel.vmlinuz,
                         initrd=flat_image, logdir=logs, timeout_s=FLAT_TIMEOUT_S),
        configs.L1.name: boot(configs.L1.name, L1_MACHINE, vmlinuz=kernel.vmlinuz,
                              initrd=l1_image, logdir=logs, timeout_s=L1_TIMEOUT_S),
    }
    for tag, one in booted.items():
        assert not one.timed_out, one.tail()
        assert console.finished(one.log), f"{tag} did not finish\n{one.tail()}"
    return booted


def _dump_of(tag: str, log: str) -> Path:
    blocks = console.dumps(log)
    assert tag in blocks, f"no dump of {tag}\n{log[-3000:]}"
    block = blocks[tag]
    assert block.rc == 0, f"{tag}'s dumper exited {block.rc}\n{block.text[-2000:]}"
    path = RUN / "dumps" / f"{tag}.dump"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(block.text)
    return path


def _check(dump: Path) -> tuple[int, dict[str, Any]]:
    """``nestprobe check third-party --from DUMP --prove --json``: exit code and JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "nestprobe", "check", "third-party", "--from", str(dump),
         "--prove", "--json"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def _show(tag: str, proof: dict[str, Any]) -> None:
    """The figures, for the README and docs/lab.md (never asserted)."""
    keys = ("state", "outcome", "step", "speed_ratio", "guest_ns_per_iteration",
            "native_ns_per_iteration", "io_round_trip_ticks", "io_round_trip_ns",
            "cpuid_round_trip_ticks", "cpuid_round_trip_ns", "witness")
    print(f"\n[{tag}] " + ", ".join(f"{k}={proof[k]}" for k in keys))
    print(f"[{tag}] exits={proof['record']['exits']} wall_ns={proof['record']['wall_ns']}")


def test_nested_capable_guest_proves_it(boots: dict[str, Boot]) -> None:
    code, report = _check(_dump_of(configs.L1.name, boots[configs.L1.name].log))
    proof = report["proof"]
    _show(configs.L1.name, proof)
    record = proof["record"]
    assert (record["platform"], record["outcome"], record["step"]) == ("kvm", "ran", "done")
    assert record["value_seen"] == record["value_sent"]
    # Two value/CPUID exits, a start and an end per round, every I/O and batch exit, the halt.
    rounds = len(record["guest_loop_ticks"])
    expected = 2 + 2 * rounds + len(record["io_ticks"]) + len(record["batch_ticks"]) + 1
    assert record["exits"] == expected
    assert len(record["io_ticks"]) == 200
    assert len(record["batch_ticks"]) == 20
    assert proof["io_round_trip_ticks"] > 0
    assert proof["cpuid_round_trip_ticks"] > 0
    assert proof["state"] == "proven", proof["summary"]
    verdict = report["verdicts"]["third-party"]
    assert (verdict["status"], verdict["rule"]) == ("supported", "proof-ran")
    assert code == STATUS_EXIT["supported"] == 0


def test_guest_without_svm_names_what_refused(boots: dict[str, Boot]) -> None:
    log = boots[NOSVM.name].log
    assert "@@NPLAB-INSMOD-FAILED /lib/modules/kvm_amd.ko" in log  # no SVM, no kvm_amd
    code, report = _check(_dump_of(NOSVM.name, log))
    proof = report["proof"]
    _show(NOSVM.name, proof)
    assert (proof["state"], proof["outcome"], proof["step"]) == ("unavailable", "unavailable",
                                                                 "open")
    assert proof["error"] == "ENOENT"
    assert "/dev/kvm does not exist" in proof["meaning"]
    assert report["verdicts"]["third-party"]["status"] == "blocked"
    assert code != 0


def test_one_level_deeper_explains_itself(boots: dict[str, Boot]) -> None:
    guest = console.guests(boots[configs.L1.name].log).get(L2.name)
    assert guest is not None, boots[configs.L1.name].tail()
    code, report = _check(_dump_of(L2.name, guest.text))
    proof = report["proof"]
    _show(L2.name, proof)
    print(f"[{L2.name}] check exit {code}: {proof['summary']}; {proof['meaning']}")
    assert proof["state"] in ("proven", "emulated", "inconclusive", "failed", "unavailable")
    assert proof["summary"]
    assert proof["meaning"]
    first = report["verdicts"]["third-party"]["reasons"][0]
    assert first["source"] == "proof:kvm"
    assert first["value"] == proof["state"]
