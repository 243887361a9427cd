"""``nestprobe bench``: statistics, the raw and result formats, bounded reading, compare
arithmetic, the plot's labelling and the CLI. No timing is asserted: every sample here is
synthetic, so each figure has one right answer."""

from __future__ import annotations

import argparse
import builtins
import io
import json
import os
import sys
import threading
import xml.etree.ElementTree as ET
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nestprobe.bench import cli, compare, result, stats
from nestprobe.bench.plan import EMULATED_GUEST, METRICS, PLANS, SERIES, SuitePlan
from nestprobe.bench.raw import RawFormatError, RawSeries, RawSuite
from nestprobe.output.jsonreport import report_to_dict
from nestprobe.sources.load import parse_snapshot

SCHEMA = json.loads(resources.files("nestprobe.bench").joinpath("bench.schema.json")
                    .read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

#: sha256 of the canonical schema per schema_version: a change of the result's shape must
#: bump schema_version (result.py and the schema's const) and add a line, never edit one.
#: v3: the guest metrics (guest.io_exit, guest.cpuid_exit: a VM created here, issue 19)
#: and the plan's guest_exits / guest_cpuids.
SCHEMA_DIGESTS = {
    2: "09beb3bdc3cc0980e9dec42364fe02aa7b9412a09d1f0282c7ba8f8dd2b73242",
    3: "4b3361e6ef673e28847c2f15eac5c1148096249161c3a1f8184136e72aa9d486",
}

TINY = SuitePlan("tiny", batches=3, gap_us=0, cpuid_rounds=4, cpuid_warmup=0, floor_samples=4,
                 register_iterations=10, register_samples=4, getppid_calls=2,
                 getppid_samples=4, warmup=0, touch_pages=4, chase_bytes=4 << 20,
                 chase_pages=64, chase_steps=8, chase_samples=4, chase_warmup_laps=1, seed=1)

#: A KVM guest on AMD, as nestprobe's dump format: leaf 0 (max 0x10), leaf 1 with the
#: hypervisor bit, and the KVM signature at 0x40000000 (max leaf 0x40000001).
KVM_DUMP = """nestprobe-dump 1
machine x86_64
system Linux
cpuid-status ok
cpuid 0x00000000 0x00000000 eax=0x00000010 ebx=0x68747541 ecx=0x444d4163 edx=0x69746e65
cpuid 0x00000001 0x00000000 eax=0x00a10f11 ebx=0x00000800 ecx=0x80000000 edx=0x00000000
cpuid 0x40000000 0x00000000 eax=0x40000001 ebx=0x4b4d564b ecx=0x564b4d56 edx=0x0000004d
end
"""
#: npt_tsc_leaves() as the KVM_DUMP machine answers it.
KVM_TSC_LEAVES = (0x10, 0, 0, 0, 0, 1, 0x40000001, 0)
TSC_HZ = 2e9  # clock_start/clock_end below span 2e9 ticks in 1e9 ns


def series(name: str, per_batch: list[int], plan: SuitePlan = TINY) -> RawSeries:
    """``name`` whose batch b holds ``per_batch[b]`` in every sample."""
    count = plan.per_batch(name)
    return RawSeries(name, plan.ops(name), "ok", None, {},
                     tuple((v,) * count for v in per_batch))


def raw_suite(scale: float = 1.0, **overrides: RawSeries) -> RawSuite:
    """Floors of 50 ticks; every metric's batch b costs ``scale * (1000 + 100 b)`` net per
    operation (so the estimate is ``1000 * scale``)."""
    made: dict[str, RawSeries] = {}
    for name in SERIES:
        if name.startswith("floor."):
            made[name] = series(name, [50] * TINY.batches)
        else:
            ops = TINY.ops(name)
            made[name] = series(name, [round(50 + scale * (1000 + 100 * b) * ops)
                                       for b in range(TINY.batches)])
    made["tlb.4k"] = replace(made["tlb.4k"], facts={"bytes": 4 << 20, "huge_kib": 0})
    made["tlb.huge"] = replace(made["tlb.huge"], facts={"bytes": 4 << 20, "huge_kib": 4096})
    made.update({k.replace("_", "."): v for k, v in overrides.items()})
    return RawSuite(writer="nestprobe", plan=TINY, pinned_cpu=1, rdtscp=True,
                    tsc_quantum_ticks=1, tsc_min_step_ticks=30, tsc_leaves=KVM_TSC_LEAVES,
                    clock_start=(0, 0), clock_end=(2_000_000_000, 1_000_000_000),
                    wall_ns=5_000_000, series=made)


def build(scale: float = 1.0, label: str | None = None, **overrides: RawSeries) -> dict[str, Any]:
    snapshot = parse_snapshot(KVM_DUMP)
    return result.build_result(raw_suite(scale, **overrides), snapshot, label=label)


def test_schema_is_pinned_to_its_version() -> None:
    import hashlib

    version = SCHEMA["properties"]["schema_version"]["const"]
    assert version == result.SCHEMA_VERSION
    assert SCHEMA["properties"]["format"]["const"] == result.FORMAT
    digest = hashlib.sha256(json.dumps(SCHEMA, sort_keys=True).encode()).hexdigest()
    assert digest == SCHEMA_DIGESTS[version]
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


# ---- stats ----------------------------------------------------------------------------


def test_quantile_function_is_nearest_rank() -> None:
    values = list(range(1, 201))
    q = stats.quantile_function(values)
    assert len(q) == 101
    assert (q[0], q[10], q[50], q[99], q[100]) == (1, 20, 100, 198, 200)


def test_summary_is_net_per_operation() -> None:
    batches = [[1050, 1050, 2050, 9050], [850, 1050, 1050, 1050]]
    summary = stats.summarise(batches, floor=50.0, ops=10)
    assert summary.batch_p10 == (100.0, 80.0)
    assert summary.estimate == 80.0  # the quieter batch's p10
    assert summary.median == 100.0
    assert (summary.minimum, summary.maximum) == (80.0, 900.0)
    assert summary.samples == 8
    # below the floor counts as zero, never negative
    assert stats.summarise([[10, 60]], floor=50.0, ops=1).minimum == 0.0


def test_ratio_interval_spans_every_batch_pairing() -> None:
    r = stats.ratio(100.0, [100.0, 125.0], 300.0, [300.0, 330.0])
    assert r is not None
    assert r.value == pytest.approx(3.0)
    assert r.low == pytest.approx(300 / 125)
    assert r.high == pytest.approx(3.3)
    assert stats.ratio(0.0, [0.0], 5.0, [5.0]) is None


@given(st.lists(st.floats(1, 1e6), min_size=1, max_size=20),
       st.lists(st.floats(0, 1e6), min_size=1, max_size=20))
def test_ratio_of_minima_lies_in_its_interval(a: list[float], b: list[float]) -> None:
    r = stats.ratio(min(a), a, min(b), b)
    assert r is not None
    assert r.low <= r.value * (1 + 1e-9)
    assert r.value <= r.high * (1 + 1e-9)


# ---- raw format -----------------------------------------------------------------------


def test_raw_round_trips_through_json() -> None:
    raw = raw_suite()
    again = RawSuite.from_dict(json.loads(json.dumps(raw.to_dict())))
    assert again == raw


@pytest.mark.parametrize(("path", "value", "message"), [
    (("format",), "nestprobe-bench", "not a nestprobe-bench-raw"),
    (("plan", "batches"), 0, "at least 1"),
    (("plan", "extra"), 1, "exactly"),
    (("metrics", "cpuid.basic", "ops"), 7, "the plan says 1"),
    (("metrics", "cpuid.basic", "status"), "fine", "status"),
    (("metrics", "cpuid.basic", "batches"), [[1, 2, 3, 4]], "holds 1 batches"),
    (("metrics", "tlb.4k", "facts", "colour"), 1, "may hold only"),
    (("tsc_leaves",), [1, 2], "list of 8"),
    (("clock_start",), [1, -2], "non-negative"),
    (("wall_ns",), True, "non-negative integer"),
])
def test_raw_rejects_what_is_not_one(path: tuple[str, ...], value: object,
                                     message: str) -> None:
    doc = raw_suite().to_dict()
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(RawFormatError, match=message):
        RawSuite.from_dict(doc)


def test_raw_rejects_a_short_batch_and_a_missing_series() -> None:
    doc = raw_suite().to_dict()
    doc["metrics"]["tlb.huge"]["batches"][1] = [5, 5]
    with pytest.raises(RawFormatError, match="list of 4"):
        RawSuite.from_dict(doc)
    doc = raw_suite().to_dict()
    del doc["metrics"]["control.getppid"]
    with pytest.raises(RawFormatError, match="exactly"):
        RawSuite.from_dict(doc)


def test_raw_latency_feeds_the_probes_estimator() -> None:
    latency = raw_suite().latency()
    assert latency is not None
    assert latency.plan.leaves == (0x0, 0x40000000, 0x80000000)
    assert latency.tsc_hz == pytest.approx(TSC_HZ)
    assert latency.tsc_hz_source == "calibrated:CLOCK_MONOTONIC_RAW"
    assert len(latency.cpuid) == TINY.batches
    assert latency.cpuid[2][1] == (1250,) * TINY.cpuid_rounds  # batch 2, hypervisor leaf


# ---- result ---------------------------------------------------------------------------


def test_result_validates_and_carries_the_figures() -> None:
    doc = build(label="kvm-guest")
    VALIDATOR.validate(doc)
    assert (doc["format"], doc["schema_version"], doc["label"]) == (
        "nestprobe-bench", 3, "kvm-guest")
    assert set(doc["metrics"]) == {m.name for m in METRICS}
    basic = doc["metrics"]["cpuid.basic"]
    assert basic["floor_ticks"] == 50.0
    assert basic["batch_p10_ticks"] == [1000.0, 1100.0, 1200.0]
    assert basic["ticks"]["estimate"] == 1000.0
    assert basic["ns"]["estimate"] == pytest.approx(500.0)  # 1,000 ticks at 2 GHz
    register = doc["metrics"]["control.register"]
    assert register["ops_per_sample"] == 10
    assert register["ticks"]["estimate"] == 1000.0  # per iteration, floor taken off first
    assert doc["clock"]["tsc_hz"] == pytest.approx(TSC_HZ)


def test_result_labels_itself_with_the_assessment() -> None:
    doc = build()
    assert doc["hypervisor"]["vendor"] == "kvm"
    assert doc["hypervisor"]["emulated"] is False
    level = doc["level"]
    assert level["at_least"] == 1
    # 1,000 net ticks at 2 GHz = 500 ns = 1,300 ticks at the bands' 2.6 GHz reference:
    # the l1-hardware band, judged on the suite's own CPUID series
    assert {"source": "timing:band", "value": "l1-hardware"}.items() <= next(
        e for e in level["evidence"] if e["source"] == "timing:band").items()
    assert level["likely"] == 1


def test_tlb_ratio_is_paired_by_batch_and_knows_granted_huge_pages() -> None:
    small = series("tlb.4k", [50 + 8 * v for v in (3000, 3300, 3600)])
    doc = build(tlb_4k=replace(small, facts={"bytes": 4 << 20, "huge_kib": 0}))
    ratio = doc["derived"]["tlb.ratio"]
    assert ratio["status"] == "ok"
    assert ratio["huge_page_share"] == 1.0
    assert ratio["batch_ratios"] == [3.0, 3.0, 3.0]
    assert ratio["value"] == 3.0
    assert doc["metrics"]["tlb.4k"]["huge_page_share"] == 0.0
    huge = replace(raw_suite().series["tlb.huge"], facts={"bytes": 4 << 20, "huge_kib": 2048})
    assert build(tlb_huge=huge)["derived"]["tlb.ratio"]["status"] == "not-granted"
    unknown = replace(huge, facts={"bytes": 4 << 20, "huge_kib": -1})
    assert build(tlb_huge=unknown)["derived"]["tlb.ratio"]["status"] == "unknown"


def test_unsupported_series_stay_in_the_result_with_their_reason() -> None:
    gone = RawSeries("control.getppid", 2, "unsupported", "not available on this platform",
                     {}, ())
    doc = build(control_getppid=gone)
    VALIDATOR.validate(doc)
    entry = doc["metrics"]["control.getppid"]
    assert (entry["status"], entry["ticks"], entry["quantiles_ticks"]) == (
        "unsupported", None, [])
    assert entry["detail"] == "not available on this platform"


def test_import_refuses_a_dump_of_another_machine(tmp_path: Path) -> None:
    raw = tmp_path / "raw.json"
    raw.write_text(json.dumps(raw_suite().to_dict()))
    good = tmp_path / "good.dump"
    good.write_text(KVM_DUMP)
    doc = result.import_raw(str(raw), str(good), label="x")
    assert doc["assessed_from"] == "dump:good.dump"
    assert doc["hypervisor"]["vendor"] == "kvm"
    other = tmp_path / "other.dump"
    other.write_text(KVM_DUMP.replace("eax=0x00000010", "eax=0x0000000d"))
    with pytest.raises(result.BenchFormatError, match=r"CPUID.0x0:EAX was 0x10"):
        result.import_raw(str(raw), str(other))


# ---- bounded reading ------------------------------------------------------------------


def write(tmp_path: Path, name: str, doc: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def test_load_result_accepts_a_result(tmp_path: Path) -> None:
    loaded = result.load_result(write(tmp_path, "a.json", build()))
    assert loaded["metrics"]["cpuid.basic"]["ticks"]["estimate"] == 1000.0


@pytest.mark.parametrize(("doc", "message"), [
    ({"schema_version": 1, "machine": {}, "cpu": {}, "hypervisor": {}, "level": {}},
     "not a nestprobe bench result"),  # the CPUID-only v1 format had no "format" key
    ({"format": "nestprobe-bench", "schema_version": 1}, "schema_version 1"),
    ({"format": "nestprobe-bench", "schema_version": 2}, "missing object"),  # still read
    ({"format": "nestprobe-bench", "schema_version": 3}, "missing object"),
    ({"format": "nestprobe-bench", "schema_version": 4}, "reads 2 and 3"),
    ([1, 2], "not a nestprobe bench result"),
])
def test_load_result_refuses_other_json(tmp_path: Path, doc: object, message: str) -> None:
    with pytest.raises(result.BenchFormatError, match=message):
        result.load_result(write(tmp_path, "x.json", doc))


def test_load_result_refuses_a_report(tmp_path: Path) -> None:
    from nestprobe.pipeline import build_report

    report = report_to_dict(build_report(parse_snapshot(KVM_DUMP)))
    with pytest.raises(result.BenchFormatError, match="not a nestprobe bench result"):
        result.load_result(write(tmp_path, "report.json", report))


def test_load_result_refuses_a_metric_without_figures(tmp_path: Path) -> None:
    doc = build()
    doc["metrics"]["tlb.4k"]["ticks"] = None
    with pytest.raises(result.BenchFormatError, match="lacks its figures"):
        result.load_result(write(tmp_path, "x.json", doc))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_bounded_read_does_not_hang_on_a_fifo_without_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            result.load_result(fifo)
            outcome.append(None)
        except result.BenchFormatError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "reading a FIFO with no writer blocked"
    assert isinstance(outcome[0], result.BenchFormatError)
    assert "no writer" in str(outcome[0])


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_bounded_read_refuses_devices_directories_and_big_files(tmp_path: Path) -> None:
    # The one input reader's refusals, as BenchFormatErrors in its plain words.
    with pytest.raises(result.BenchFormatError, match="found a character device"):
        result.load_result("/dev/zero")
    with pytest.raises(result.BenchFormatError, match="found a directory"):
        result.load_result(tmp_path)
    big = tmp_path / "big.json"
    with big.open("wb") as handle:
        handle.truncate(result.MAX_RESULT_BYTES + 1)
    with pytest.raises(result.BenchFormatError, match="a bench result of at most 8,388,608"):
        result.load_result(big)
    with pytest.raises(result.BenchFormatError, match="found no such file"):
        result.load_result(tmp_path / "missing.json")
    assert result.read_bounded(write(tmp_path, "s.json", [1]), 3) == b"[1]"
    with pytest.raises(result.BenchFormatError, match="at most 2 bytes"):
        result.read_bounded(tmp_path / "s.json", 2)


# ---- compare --------------------------------------------------------------------------


def test_compare_keeps_the_order_given_and_labels_every_run() -> None:
    runs = [compare.run_from("a.json", build(label="one")),
            compare.run_from("runs/two.json", build(2.0))]
    table = compare.compare_table(runs)
    lines = table.splitlines()
    assert lines[0] == "| | 1. one | 2. two |"
    assert "| hypervisor | kvm | kvm |" in lines
    assert "| nesting level | L≥1 | L≥1 |" in lines
    assert "1. one: kvm, L≥1" in lines
    reverse = compare.compare_table(runs[::-1]).splitlines()
    assert reverse[0] == "| | 1. two | 2. one |"


def test_compare_arithmetic_per_metric() -> None:
    runs = [compare.run_from("a.json", build()), compare.run_from("b.json", build(2.0))]
    table = {row.key: row for row in compare.rows(runs)}
    basic = table["cpuid.basic"]
    assert basic.unit == "ns/CPUID"
    first, second = basic.cells
    assert first.value == pytest.approx(500.0)
    assert first.ratio is None
    assert second.ratio is not None
    assert second.ratio.value == pytest.approx(2.0)
    # batches 2000/2200/2400 against 1000/1100/1200 ticks: [2000/1200, 2400/1000]
    assert second.ratio.low == pytest.approx(2000 / 1200)
    assert second.ratio.high == pytest.approx(2.4)
    assert compare.cell_text(second) == "1,000 (2.00× [1.67–2.40])"
    # the derived 4 KiB / huge-page ratio is the same in both runs: 1×
    derived = table["tlb.ratio"].cells[1]
    assert derived.ratio is not None
    assert derived.ratio.value == pytest.approx(1.0)


def test_one_run_is_summarised_with_its_spread() -> None:
    doc = build(label="solo")
    doc["metrics"]["control.getppid"] |= {"status": "unsupported", "ticks": None}
    text = compare.summary_table(compare.run_from("x.json", doc))
    lines = text.splitlines()
    assert lines[0] == "solo: kvm, L≥1 (CPUID band l1-hardware), plan tiny"
    # batches 1000/1100/1200 ticks per CPUID at 2 GHz: estimate 500 ns, median 550 ns
    assert "| CPUID exit, basic leaf 0x0 | CPUID | 500 | 550 | 600 |" in lines
    assert "| getppid() system call | call | unsupported | | |" in lines
    assert "4 KiB / huge-page load: 1.00× (batches 1.00–1.00)" in lines


def test_compare_falls_back_to_ticks_when_a_rate_is_unknown() -> None:
    slow = build(2.0)
    slow["clock"]["tsc_hz"] = None
    runs = [compare.run_from("a.json", build()), compare.run_from("b.json", slow)]
    basic = next(r for r in compare.rows(runs) if r.key == "cpuid.basic")
    assert basic.unit == "ticks/CPUID"
    assert basic.cells[0].value == pytest.approx(1000.0)


def test_level_text_says_what_the_evidence_fixes() -> None:
    doc = build()
    doc["level"] |= {"level": 2, "confidence": "certain"}
    assert compare.level_text(doc) == "L2 (certain)"
    doc["level"] |= {"level": None, "at_least": 1, "likely": 2, "confidence": "medium"}
    assert compare.level_text(doc) == "L≥1, likely L2 (medium)"
    doc["hypervisor"] |= {"vendor": "qemu", "emulated": True}
    assert compare.hypervisor_text(doc) == "qemu (emulated)"
    doc["hypervisor"] |= {"vendor": None, "detected": False}
    assert compare.hypervisor_text(doc) == "no hypervisor seen"


# ---- plot -----------------------------------------------------------------------------


def svg_texts(path: Path) -> list[str]:
    """Every text run of an SVG, in document order."""
    return [t.strip() for t in ET.parse(path).getroot().itertext() if t.strip()]


def test_plot_labels_runs_in_order_with_their_level(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from nestprobe.bench.plot import legend_label, plot

    emulated = build(3.0, label="tcg")
    emulated["hypervisor"] |= {"vendor": "qemu", "emulated": True}
    runs = [compare.run_from("a.json", build(label="host")),
            compare.run_from("b.json", emulated)]
    out = tmp_path / "cmp.svg"
    plot(runs, out)
    texts = svg_texts(out)
    labels = [legend_label(i, r) for i, r in enumerate(runs, 1)]
    assert labels == ["1. host — kvm, L≥1", "2. tcg — qemu (emulated), L≥1"]
    assert [t for t in texts if t in labels] == labels  # legend order = given order
    for metric in METRICS:
        assert metric.title in texts
    assert "How much each run costs relative to run 1" in texts
    assert "3.00×" in texts  # run 2's ratio, annotated in the summary panel
    assert any(t.startswith("l1-hardware") for t in texts)  # a CPUID band is shaded
    png = tmp_path / "cmp.png"
    plot(runs, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_marks_a_run_at_the_timers_floor(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from nestprobe.bench.plot import plot

    free = build()
    for name in ("cpuid.basic", "cpuid.hypervisor", "cpuid.extended"):
        entry = free["metrics"][name]
        entry["ticks"]["estimate"] = 0.0
        entry["batch_p10_ticks"] = [0.0, 0.0, 0.0]
        entry["quantiles_ticks"] = [0.0] * 101
    runs = [compare.run_from("a.json", build()), compare.run_from("tcg.json", free)]
    out = tmp_path / "floor.svg"
    plot(runs, out)
    texts = svg_texts(out)
    assert texts.count("◀ run 2: at the timer's floor") == 3
    assert "≈0×" in texts


# ---- the CLI --------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="nestprobe")
    cli.register(top.add_subparsers(dest="command"))
    return top


def test_register_parses_bench_compare_and_import() -> None:
    args = parser().parse_args(["bench", "--output", "x.json", "--thorough", "--label", "vm"])
    assert (args.output, args.thorough, args.label, args.handler) == (
        "x.json", True, "vm", cli.run_bench_command)
    args = parser().parse_args(["bench", "compare", "a.json", "b.json", "--plot", "p.svg"])
    assert (args.results, args.plot, args.handler) == (
        ["a.json", "b.json"], "p.svg", cli.run_compare_command)
    args = parser().parse_args(["bench", "import", "r.json", "--dump", "m.dump"])
    assert (args.raw, args.dump, args.handler) == ("r.json", "m.dump", cli.run_import_command)


def test_compare_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "good.json", build())
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    for inputs in ([str(bad)], [str(good), str(bad)], ["/dev/null"], [str(tmp_path)]):
        args = parser().parse_args(["bench", "compare", *inputs])
        assert args.handler(args, io.StringIO()) == cli.EXIT_BAD_INPUT
    assert "nestprobe: error:" in capsys.readouterr().err
    args = parser().parse_args(["bench", "compare", str(good), str(good)])
    out = io.StringIO()
    assert args.handler(args, out) == cli.EXIT_OK
    assert "(1.00× [0.83–1.20])" in out.getvalue()


def test_top_level_cli_routes_bench(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from nestprobe.cli import main

    assert main(["bench", "compare", "/dev/null"]) == cli.EXIT_BAD_INPUT
    good = write(tmp_path, "good.json", build(label="solo"))
    out = io.StringIO()
    assert main(["bench", "compare", str(good)], out) == cli.EXIT_OK
    # The handler writes through the CLI's stdout wrapper (here the stream main was given).
    assert "solo: kvm" in out.getvalue()
    assert capsys.readouterr().out == ""


def test_import_command_exit_codes(tmp_path: Path) -> None:
    raw = write(tmp_path, "raw.json", raw_suite().to_dict())
    dump = tmp_path / "m.dump"
    dump.write_text(KVM_DUMP)
    out_file = tmp_path / "r.json"
    args = parser().parse_args(["bench", "import", str(raw), "--dump", str(dump),
                                "-o", str(out_file), "--label", "guest"])
    table = io.StringIO()
    assert args.handler(args, table) == cli.EXIT_OK
    assert result.load_result(out_file)["label"] == "guest"
    assert table.getvalue().startswith("guest: kvm, L≥1 (CPUID band l1-hardware), plan tiny")
    for bad_raw, bad_dump in ((dump, dump), (raw, raw)):
        args = parser().parse_args(["bench", "import", str(bad_raw), "--dump", str(bad_dump)])
        assert args.handler(args, io.StringIO()) == cli.EXIT_BAD_INPUT


def test_plot_without_matplotlib_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "good.json", build())
    real_import = builtins.__import__

    def no_matplotlib(name: str, *a: Any, **k: Any) -> Any:
        if name.startswith("matplotlib"):
            raise ModuleNotFoundError("No module named 'matplotlib'")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    args = parser().parse_args(["bench", "compare", str(good), "--plot",
                                str(tmp_path / "p.png")])
    out = io.StringIO()
    assert args.handler(args, out) == cli.EXIT_UNAVAILABLE
    assert "| CPUID exit, basic leaf 0x0 | CPUID | 500 |" in out.getvalue()  # still printed
    assert "nestprobe[plot]" in capsys.readouterr().err
    assert not (tmp_path / "p.png").exists()


def test_plans_fit_their_budgets() -> None:
    """What each plan asks for, not how long it takes: the default plan stays small."""
    default, thorough, lab = PLANS["default"], PLANS["thorough"], PLANS["lab"]
    assert default.chase_bytes >= 5 * 3072 * 4096  # 5x a 3,072-entry 4 KiB TLB's reach
    assert thorough.batches >= 3 * default.batches
    assert lab.chase_bytes * 2 < 64 << 20  # two buffers fit a 256 MiB lab guest


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX mode bits (Windows keeps 0o666)")
def test_import_output_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 22.10: `bench import -o` replaces the file whole, keeping its mode; a disk that
    fills while writing leaves the old file and no temporary one (exit 8); a directory or a
    missing directory as -o is a usage error (exit 2)."""
    import errno
    import os
    import stat

    from nestprobe.cli import main
    from nestprobe.model.contract import EXIT_OUTPUT

    raw = write(tmp_path, "raw.json", raw_suite().to_dict())
    dump = tmp_path / "m.dump"
    dump.write_text(KVM_DUMP)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "r.json"
    target.write_text("previous result\n")
    target.chmod(0o600)
    argv = ["bench", "import", str(raw), "--dump", str(dump), "-o", str(target)]
    assert main(argv, io.StringIO()) == cli.EXIT_OK
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert result.load_result(target)["format"] == "nestprobe-bench"

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    target.write_text("previous result\n")
    monkeypatch.setattr(os, "fsync", full)
    assert main(argv, io.StringIO()) == EXIT_OUTPUT
    assert "no space left on device" in capsys.readouterr().err
    assert target.read_text() == "previous result\n"
    assert sorted(p.name for p in out_dir.iterdir()) == ["r.json"]
    monkeypatch.undo()
    for bad in (tmp_path, tmp_path / "missing" / "r.json"):
        assert main([*argv[:-1], str(bad)], io.StringIO()) == cli.EXIT_USAGE
        assert "cannot write --output" in capsys.readouterr().err


def test_a_version_2_result_compares_with_a_version_3_one(tmp_path: Path) -> None:
    """Version 3 only added the guest metrics: an older result still compares, showing none."""
    from nestprobe.bench import compare

    new = build(label="v3")
    old = json.loads(json.dumps(new))
    old["schema_version"] = 2
    for name in ("guest.io_exit", "guest.cpuid_exit"):
        del old["metrics"][name]
    paths = []
    for name, doc in (("old.json", old), ("new.json", new)):
        path = tmp_path / name
        path.write_text(json.dumps(doc))
        paths.append(path)
    runs = [compare.run_from(str(p), result.load_result(p)) for p in paths]
    table = compare.compare_table(runs)
    assert "I/O exit of a VM created here" in table


def test_an_emulated_created_guest_labels_its_figures() -> None:
    """The guest metrics of a run whose created guest ran emulated (collect.py: its loop
    EMULATED_MIN times this OS's or slower) say so, as the run's emulated CPU is labelled."""
    note = f"{EMULATED_GUEST}: its loop took 13,540x this OS's time"
    raw = raw_suite()
    labelled = {name: replace(raw.series[name], detail=note)
                for name in ("guest.io_exit", "guest.cpuid_exit")}
    doc = result.build_result(replace(raw, series={**raw.series, **labelled}),
                              parse_snapshot(KVM_DUMP), label="pvm")
    VALIDATOR.validate(doc)
    plain = build(label="kvm")
    for name in ("guest.io_exit", "guest.cpuid_exit"):
        assert doc["metrics"][name]["title"].endswith("(emulated)")
        assert doc["metrics"][name]["detail"] == note
        assert not plain["metrics"][name]["title"].endswith("(emulated)")
    run = compare.Run("pvm", doc)
    assert "its created guest emulated" in compare.run_title(1, run)
    assert "its created guest emulated" not in compare.run_title(2, compare.Run("kvm", plain))
    table = compare.summary_table(run)
    assert "| I/O exit of a VM created here (emulated) | exit |" in table


def test_a_chase_state_of_minus_one_is_not_a_negative_figure() -> None:
    """advice -1 is "no such advice on this platform", huge_kib -1 "unknown" (csrc/np_bench.h):
    every Windows run says both,
    and its result must load; any other negative number is still refused."""
    from nestprobe.bench.result import _negative

    facts = {"metrics": {"tlb.4k": {"facts": {"advice": -1, "huge_kib": -1, "bytes": 4096}}}}
    assert _negative(facts) is None
    assert _negative({"metrics": {"tlb.4k": {"facts": {"advice": -2}}}}) == \
        "metrics.tlb.4k.facts.advice"
    assert _negative({"metrics": {"tlb.4k": {"facts": {"advice": -1, "bytes": -1}}}}) == \
        "metrics.tlb.4k.facts.bytes"
