"""``nestprobe bench``: histogram/distribution arithmetic, result files, compare, the CLI."""

from __future__ import annotations

import argparse
import builtins
import importlib.util
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nestprobe.bench import cli as bench_cli
from nestprobe.bench import run as bench
from nestprobe.sources.latency import percentile


@given(st.lists(st.integers(0, 10**7), min_size=1, max_size=400),
       st.one_of(st.none(), st.integers(1, 64)))
def test_histogram_accounts_for_every_sample(samples: list[int], quantum: int | None) -> None:
    hist = bench.histogram(samples, quantum)
    assert sum(hist["counts"]) + hist["overflow"] == len(samples)
    assert hist["start"] == min(samples)
    assert hist["bin_ticks"] >= 1
    if quantum:
        assert hist["bin_ticks"] % quantum == 0
    # every sample up to p99 lands in a bin: only the tail can overflow
    top = percentile(samples, 99)
    assert hist["overflow"] <= sum(1 for s in samples if s > top)


def test_histogram_bins_follow_the_quantum() -> None:
    samples = [26 * k for k in range(340, 380)]  # a 26-tick TSC, as on the dev machine
    hist = bench.histogram(samples, quantum=26, bins=10)
    assert hist["bin_ticks"] % 26 == 0
    assert hist["counts"][0] > 0
    assert sum(hist["counts"]) + hist["overflow"] == len(samples)


def test_distribution_percentiles_and_ns() -> None:
    samples = list(range(1000, 2000))
    dist = bench.distribution(samples, quantum=None, tsc_hz=1e9)
    assert dist["count"] == 1000
    assert (dist["min"], dist["max"]) == (1000, 1999)
    assert dist["ticks"]["p10"] == 1099
    assert dist["ticks"]["p50"] == 1499
    assert dist["ns"]["p10"] == pytest.approx(1099.0)
    assert bench.distribution(samples, None, None)["ns"] is None


def result(level: dict[str, Any] | None = None, latency: object = None) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "machine": {"arch": "x86_64"},
        "cpu": {"vendor": "AuthenticAMD", "brand": "AMD EPYC"},
        "hypervisor": {"vendor": "kvm"},
        "level": level or {"level": None, "at_least": 1, "likely": 2, "confidence": "medium",
                           "evidence": [{"claim": "band", "source": "timing:band",
                                         "value": "nested"}]},
        "latency": latency,
    }


def test_load_result_rejects_what_is_not_a_result(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(result()))
    assert bench.load_result(good)["hypervisor"]["vendor"] == "kvm"
    for name, text in [("junk", "{"), ("other", json.dumps({"schema_version": 2})),
                       ("list", "[]"), ("partial", json.dumps({"schema_version": 1}))]:
        path = tmp_path / f"{name}.json"
        path.write_text(text)
        with pytest.raises(bench.BenchFormatError):
            bench.load_result(path)
    with pytest.raises(ValueError, match="not readable"):
        bench.load_result(tmp_path / "missing.json")


def test_compare_table_puts_levels_side_by_side() -> None:
    bare = result(level={"level": 0, "at_least": 0, "likely": 0, "confidence": "high",
                         "evidence": []})
    table = bench.compare_table([("a.json", result()), ("b.json", bare)])
    lines = table.splitlines()
    assert lines[0] == "| | a.json | b.json |"
    assert "| likely | 2 (medium) | 0 (high) |" in lines
    assert "| level | - | 0 |" in lines
    assert "| band | nested | - |" in lines


# ---- the CLI --------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="nestprobe")
    bench_cli.register(top.add_subparsers(dest="command"))
    return top


def test_register_parses_bench_and_compare() -> None:
    args = parser().parse_args(["bench", "--output", "x.json", "--thorough"])
    assert (args.output, args.thorough, args.handler) == ("x.json", True,
                                                          bench_cli.run_bench_command)
    args = parser().parse_args(["bench", "compare", "a.json", "b.json", "--plot", "p.png"])
    assert args.results == ["a.json", "b.json"]
    assert args.plot == "p.png"
    assert args.handler == bench_cli.run_compare_command


def test_compare_command_bad_input_exit_code(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    args = parser().parse_args(["bench", "compare", str(bad)])
    assert args.handler(args, io.StringIO()) == bench_cli.EXIT_BAD_INPUT


def test_plot_without_matplotlib_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(result()))
    real_import = builtins.__import__

    def no_matplotlib(name: str, *a: Any, **k: Any) -> Any:
        if name.startswith("matplotlib"):
            raise ModuleNotFoundError("No module named 'matplotlib'")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    args = parser().parse_args(["bench", "compare", str(good), "--plot", str(tmp_path / "p.png")])
    out = io.StringIO()
    assert args.handler(args, out) == bench_cli.EXIT_UNAVAILABLE
    assert "| likely | 2 (medium) |" in out.getvalue()  # the table still printed
    assert "nestprobe[plot]" in capsys.readouterr().err
    assert not (tmp_path / "p.png").exists()


@pytest.mark.native
def test_bench_end_to_end(tmp_path: Path) -> None:
    pytest.importorskip("nestprobe.assess.identity")
    from nestprobe import native

    if native.load_lib() is None or native.cpuid_status()[0] != "ok":
        pytest.skip("needs the compiled extension and runnable CPUID")
    out_file = tmp_path / "run.json"
    args = parser().parse_args(["bench", "--output", str(out_file)])
    assert args.handler(args) == bench_cli.EXIT_OK
    data = bench.load_result(out_file)
    latency = data["latency"]
    plan = bench.BENCH
    assert set(latency["leaves"]) == {f"{leaf:#x}" for leaf in plan.leaves}
    for dist in latency["leaves"].values():
        assert dist["count"] == plan.batches * plan.rounds
        assert dist["min"] <= dist["ticks"]["p10"] <= dist["ticks"]["p50"] <= dist["max"]
    assert latency["record"]["cpuid_ticks"] == min(latency["batch_p10_ticks"])
    assert data["level"]["at_least"] >= 0
    assert any(e["source"].startswith("timing:") for e in data["level"]["evidence"])
    table = bench.compare_table([("run", data)])
    assert "CPUID 0x40000000 p10 ticks" in table
    if importlib.util.find_spec("matplotlib") is not None:
        png = tmp_path / "p.png"
        compare = parser().parse_args(["bench", "compare", str(out_file), "--plot", str(png)])
        assert compare.handler(compare, io.StringIO()) == bench_cli.EXIT_OK
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
