"""The QEMU lab (issue #6): real guests under TCG, and real L2 guests under KVM inside one.

Each guest runs the static nestprobe-dump between markers on its serial console; the
host cuts the dump out, loads it with nestprobe.load and compares the report with the
configuration table (tests/lab/configs.py). Run: python -m pytest tests/lab/test_lab.py -m lab
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

if sys.platform == "win32":
    pytest.skip("the QEMU lab runs on a Linux host (fcntl, /dev/kvm, qemu-system-x86)",
                allow_module_level=True)

from lab import build, configs, console, host, kvmhost, verify
from lab.boot import Boot, Machine, boot
from lab.run import run_all

pytestmark = pytest.mark.lab

RUN = host.CACHE / "run"
#: The whole set of boots took ~75 s on 2 cores; this guards the CI budget, not speed.
BOOTS_BUDGET_S = 480


@pytest.fixture(scope="session")
def artifacts() -> build.Artifacts:
    reason = build.missing()
    if reason is not None:
        pytest.skip(reason)
    from nestprobe.sources.osfacts import WATCHED_PATHS

    return build.build(RUN, WATCHED_PATHS, configs.nested_guests())


@pytest.fixture(scope="session")
def boots(artifacts: build.Artifacts) -> tuple[dict[str, Boot], float]:
    start = time.monotonic()
    results = run_all(artifacts, RUN / "logs")
    wall = time.monotonic() - start
    timings: dict[str, float | int | None] = {
        tag: round(result.seconds, 1) for tag, result in results.items()
    }
    l1_log = results[configs.L1.name].log
    timings |= {f"{tag} (in L1)": b.seconds for tag, b in console.guests(l1_log).items()}
    (RUN / "timings.json").write_text(json.dumps({"wall": round(wall, 1), **timings}, indent=1))
    return results, wall


def _dump(result: Boot, tag: str, log: str) -> Path:
    """The dump block ``tag`` from ``log``, saved as a file for nestprobe.load."""
    assert not result.timed_out, f"{result.tag} timed out\n{result.tail()}"
    block = console.dumps(log).get(tag)
    assert block is not None, f"no dump from {tag}\n{result.tail()}"
    assert block.rc == 0, f"nestprobe-dump exited {block.rc} in {tag}\n{block.text[-2000:]}"
    path = RUN / "dumps" / f"{tag}.dump"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(block.text)
    return path


def _check(path: Path, expect: configs.Expect) -> None:
    import nestprobe

    report = nestprobe.load(str(path))
    wrong = verify.lab_facts(report.snapshot, expect)
    wrong += verify.assessment(report.assessment, expect)
    wrong += verify.conditions(report.verdicts)
    assert not wrong, f"{path.name}:\n  " + "\n  ".join(wrong)
    # The CLI replaying the same dump must render exactly the library's report.
    cli = subprocess.run(
        [sys.executable, "-m", "nestprobe", "report", "--from", str(path), "--json"],
        cwd=host.REPO, check=False, capture_output=True, text=True, timeout=60,
    )
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout) == json.loads(json.dumps(nestprobe.report_to_dict(report)))


@pytest.mark.parametrize("config", configs.FLAT, ids=lambda c: c.name)
def test_flat_guest(config: configs.Config, boots: tuple[dict[str, Boot], float]) -> None:
    result = boots[0][config.name]
    _check(_dump(result, config.name, result.log), config.expect)
    assert result.returncode == 0, result.tail()


def test_l1_hosts_kvm(boots: tuple[dict[str, Boot], float]) -> None:
    import nestprobe

    result = boots[0][configs.L1.name]
    assert "@@NPLAB-INSMOD-FAILED" not in result.log, result.tail()
    dump = _dump(result, configs.L1.name, result.log)
    _check(dump, configs.L1.expect)
    assert console.finished(result.log), result.tail()
    # This L1 runs KVM guests (the L2 tests): its report must not call that impossible.
    guests = console.guests(result.log)
    if any(g.rc == 0 for g in guests.values()):
        third_party = nestprobe.load(str(dump)).verdicts["third-party"]
        assert third_party.status != "blocked", third_party.reasons[-1].claim


@pytest.mark.parametrize("config", configs.NESTED, ids=lambda c: c.name)
def test_nested_guest(config: configs.Config, boots: tuple[dict[str, Boot], float]) -> None:
    l1 = boots[0][configs.L1.name]
    guest = console.guests(l1.log).get(config.name)
    assert guest is not None, f"the L1 never started {config.name}\n{l1.tail()}"
    assert guest.rc == 0, f"L2 {config.name} exited {guest.rc}\n{guest.text[-3000:]}"
    assert console.finished(guest.text), f"L2 {config.name} did not finish\n{guest.text[-3000:]}"
    _check(_dump(l1, config.name, guest.text), config.expect)


def test_boots_within_budget(boots: tuple[dict[str, Boot], float]) -> None:
    assert boots[1] < BOOTS_BUDGET_S, (RUN / "timings.json").read_text()


def _host_flags() -> tuple[str, set[str]]:
    vendor, flags = "", set[str]()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "vendor_id":
            vendor = value.strip()
        elif key.strip() == "flags":
            return vendor, set(value.split())
    return vendor, flags


def test_direct_kvm_guest(artifacts: build.Artifacts) -> None:
    """One guest straight on this machine's /dev/kvm, where that is real VMX/SVM KVM."""
    reason = kvmhost.blocker()
    if reason is not None:
        pytest.skip(reason)
    vendor, flags = _host_flags()
    nested = kvmhost.nested_exposed()
    expect = configs.Expect(
        cpu_vendor=vendor, bit=True, interfaces=((configs.TCG_BASE, "kvm"),), detected=True,
        vendor="kvm", emulated=False, vmx=nested and "vmx" in flags,
        svm=nested and "svm" in flags, exposed=nested, slat=None, at_least=(1,),
        # On a host that is itself a VM the guest is at least two deep: unprovable.
        true_level=2 if "hypervisor" in flags else 1, provable=1,
    )
    result = boot("kvm-direct", Machine("host", accel="kvm"), vmlinuz=artifacts.kernel.vmlinuz,
                  initrd=artifacts.flat, logdir=RUN / "logs", timeout_s=120)
    _check(_dump(result, "kvm-direct", result.log), expect)


def test_fleet_over_the_corpus_and_the_lab(
    boots: tuple[dict[str, Boot], float], tmp_path: Path
) -> None:
    """`nestprobe fleet` over the corpus plus every dump the lab's guests wrote (the static
    dumper's output, as a fleet collection brings it back): one machine each, all read."""
    from conftest import dumps_folder

    dumps = dumps_folder()  # the corpus, else the repository's snapshots of it
    results = boots[0]
    l1_log = results[configs.L1.name].log
    lab = tmp_path / "lab"
    lab.mkdir()
    logs = {c.name: results[c.name].log for c in (*configs.FLAT, configs.L1)}
    logs |= {tag: guest.text for tag, guest in console.guests(l1_log).items()}
    for tag, log in logs.items():
        block = console.dumps(log).get(tag)
        if block is not None and block.rc == 0:  # the tests above say why one is missing
            (lab / f"{tag}.dump").write_text(block.text)
    assert len(list(lab.iterdir())) >= len(configs.FLAT)
    args = [sys.executable, "-m", "nestprobe", "fleet", str(dumps), str(lab)]
    jsonl = subprocess.run([*args, "--format", "jsonl"], cwd=host.REPO, capture_output=True,
                           text=True, timeout=300, check=False)
    assert jsonl.returncode == 0, jsonl.stderr
    records = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert not [r for r in records if "error" in r]
    names = {r["machine"] for r in records}
    assert {p.stem for p in lab.iterdir()} <= names
    assert len(names) == len(records) == len(list(dumps.iterdir())) + len(list(lab.iterdir()))
    table = subprocess.run(args, cwd=host.REPO, capture_output=True, text=True, timeout=300,
                           check=False)
    assert table.stdout.startswith(f"nestprobe fleet: {len(records)} machines assessed\n")
    assert "What to change, by layer and where:" in table.stdout
