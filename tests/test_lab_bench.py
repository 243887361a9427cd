"""The bench suite at every level the lab has: a TCG L1 and a KVM L2 inside it.

One boot: the L1 (TCG, SVM exposed, kvm_amd nested=1) dumps and runs the static
nestprobe-bench, then boots one L2 under KVM that does the same. The host imports each
raw run with the dump of the same guest and checks that the results label themselves
(hypervisor, level) and that compare and plot keep the runs' order and labels. Under
TCG every figure is an emulation figure; none is asserted. Results land in
.lab-cache/bench/results/ (the README's lab comparison is made from them).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from lab import build, configs, console, host, initramfs
from lab.boot import Boot, boot
from lab.run import L1_MACHINE

from nestprobe.bench import compare, result
from nestprobe.bench.plan import LAB, METRICS

pytestmark = pytest.mark.lab

RUN = host.CACHE / "bench"
L2 = configs.NESTED[0]  # l2-host: SVM and NPT passed through
#: The L2 also runs the bench: more room than the plain lab's L2 timeout, which a loaded
#: host (other labs on the same 2 cores) has been seen to exceed.
L2_TIMEOUT_S = 2 * configs.L2_TIMEOUT_S
GUESTS = (initramfs.NestedGuest(L2.name, L2.cpu, L2_TIMEOUT_S),)
L1_TIMEOUT_S = 180 + L2_TIMEOUT_S


@pytest.fixture(scope="module")
def l1_boot() -> Boot:
    reason = build.missing()
    if reason is not None:
        pytest.skip(reason)
    from nestprobe.sources.osfacts import WATCHED_PATHS

    # guest_kvm: the L2 loads kvm_amd as well, so the guest metrics run at both levels.
    artifacts = build.build(RUN, WATCHED_PATHS, GUESTS, bench_plan=LAB.name, guest_kvm=True)
    booted = boot(configs.L1.name, L1_MACHINE, vmlinuz=artifacts.kernel.vmlinuz,
                  initrd=artifacts.l1, logdir=RUN / "logs", timeout_s=L1_TIMEOUT_S)
    assert not booted.timed_out, booted.tail()
    return booted


def _console_of(tag: str, booted: Boot) -> str:
    if tag == configs.L1.name:
        return booted.log
    guest = console.guests(booted.log).get(tag)
    assert guest is not None, f"the L1 never started {tag}\n{booted.tail()}"
    # busybox timeout stops QEMU with SIGTERM, which QEMU answers with exit 0: a guest
    # that ran into its timeout shows only in its seconds.
    assert guest.seconds is not None
    assert guest.seconds < L2_TIMEOUT_S, f"{tag} hit its {L2_TIMEOUT_S} s timeout"
    assert guest.rc == 0, f"{tag} exited {guest.rc}\n{guest.text[-3000:]}"
    return guest.text


@pytest.fixture(scope="module")
def results(l1_boot: Boot) -> dict[str, Path]:
    """Guest tag -> its imported bench result, L1 first."""
    made = {}
    for tag in (configs.L1.name, L2.name):
        blocks = console.dumps(_console_of(tag, l1_boot))
        for name in (tag, f"{tag}.bench"):
            assert name in blocks, f"no block {name}\n{l1_boot.tail()}"
            assert blocks[name].rc == 0, f"{name} exited {blocks[name].rc}\n{blocks[name].text}"
        dump = RUN / "dumps" / f"{tag}.dump"
        raw = RUN / "raw" / f"{tag}.json"
        for path, block in ((dump, blocks[tag]), (raw, blocks[f"{tag}.bench"])):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.text)
        doc = result.import_raw(str(raw), str(dump), label=f"lab {tag}")
        out = RUN / "results" / f"{tag}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, indent=1) + "\n")
        made[tag] = out
    return made


def _load(path: Path) -> dict[str, Any]:
    return result.load_result(path)


def test_suite_runs_at_every_level(results: dict[str, Path]) -> None:
    from importlib import resources

    import jsonschema

    schema = json.loads(resources.files("nestprobe.bench").joinpath("bench.schema.json")
                        .read_text())
    for tag, path in results.items():
        doc = _load(path)
        jsonschema.Draft202012Validator(schema).validate(doc)
        assert (doc["runner"], doc["plan"]["name"]) == ("nestprobe-bench-c", LAB.name), tag
        for metric in METRICS:
            entry = doc["metrics"][metric.name]
            assert entry["status"] == "ok", (tag, metric.name, entry["detail"])
            assert entry["samples"] == LAB.batches * LAB.per_batch(metric.name)
        assert doc["metrics"]["tlb.4k"]["huge_page_share"] == 0.0, tag  # 4 KiB really


def test_results_label_their_level(results: dict[str, Path]) -> None:
    l1, l2 = _load(results[configs.L1.name]), _load(results[L2.name])
    # The L1 is TCG: QEMU, emulated, so its timing is ignored by the assessment.
    assert (l1["hypervisor"]["vendor"], l1["hypervisor"]["emulated"]) == ("qemu", True)
    assert not any(e["source"] == "timing:band" for e in l1["level"]["evidence"])
    # The L2 sees one KVM: at least one level, never a proven two (docs/lab.md).
    assert (l2["hypervisor"]["vendor"], l2["hypervisor"]["emulated"]) == ("kvm", False)
    for doc in (l1, l2):
        assert doc["level"]["at_least"] == 1
        assert doc["level"]["level"] in (None, 1)


def test_compare_orders_and_labels_the_levels(results: dict[str, Path]) -> None:
    runs = [compare.run_from(str(p), _load(p)) for p in results.values()]
    table = compare.compare_table(runs).splitlines()
    assert table[0] == "| | 1. lab l1 | 2. lab l2-host |"
    assert table[2].startswith("| hypervisor | qemu (emulated) | kvm |")
    flipped = compare.compare_table(runs[::-1]).splitlines()
    assert flipped[0] == "| | 1. lab l2-host | 2. lab l1 |"
    assert flipped[2].startswith("| hypervisor | kvm | qemu (emulated) |")
    rows = {row.key: row for row in compare.rows(runs)}
    assert rows["cpuid.basic"].cells[0].ratio is None
    assert rows["control.register"].cells[1].ratio is not None


def test_plot_labels_the_levels_in_order(results: dict[str, Path], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from nestprobe.bench.plot import legend_label, plot

    runs = [compare.run_from(str(p), _load(p)) for p in results.values()][::-1]
    out = tmp_path / "levels.svg"
    plot(runs, out)
    texts = [t.strip() for t in ET.parse(out).getroot().itertext() if t.strip()]
    labels = [legend_label(i, r) for i, r in enumerate(runs, 1)]
    assert labels[0].startswith("1. lab l2-host — kvm, L≥1")
    assert labels[1] == "2. lab l1 — qemu (emulated), L≥1"
    assert [t for t in texts if t in labels] == labels
