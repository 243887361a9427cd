"""Replay == live: a dump replayed offline gives the report the live probe gave."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from nestprobe.output.jsonreport import report_to_dict
from nestprobe.pipeline import build_report
from nestprobe.sources.dumpfile import format_dump, parse_dump
from nestprobe.sources.live import live_snapshot


def _without_source(report: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in report.items() if k != "source"}


def test_snapshot_replays_to_the_same_report_in_process() -> None:
    snap = live_snapshot(timing=True)
    live = report_to_dict(build_report(snap))
    replayed = report_to_dict(build_report(parse_dump(format_dump(snap), "live.dump")))
    assert replayed["source"] == {
        "kind": "dump",
        "path": "live.dump",
        "format": "nestprobe",
        "cpu": 0,
    }
    assert _without_source(replayed) == _without_source(live)


def test_cli_dump_then_report_from_equals_live_json(tmp_path: pytest.TempPathFactory) -> None:
    """The issue's acceptance: `nestprobe dump > x && nestprobe report --from x --json` equals
    `nestprobe --json` apart from source and timing fields (timing is left out of both)."""
    from nestprobe.cli import main

    dump_out = io.StringIO()
    assert main(["dump", "--no-timing"], out=dump_out) == 0
    path = tmp_path / "x"  # type: ignore[operator]
    path.write_text(dump_out.getvalue(), encoding="utf-8")

    replay_out, live_out = io.StringIO(), io.StringIO()
    assert main(["report", "--from", str(path), "--json"], out=replay_out) == 0
    assert main(["--json", "--no-timing"], out=live_out) == 0
    replayed, live = json.loads(replay_out.getvalue()), json.loads(live_out.getvalue())
    assert replayed["source"]["kind"] == "dump"
    assert live["source"]["kind"] == "live"
    # Two probes are two readings: the raw snapshot differs (free memory in /proc/meminfo,
    # the APIC ID in CPUID.1:EBX of whichever CPU ran it); what the report decides does not.
    for report in (replayed, live):
        del report["snapshot"]
    assert _without_source(replayed) == _without_source(live)


def test_subprocess_entry_point_replays_too(tmp_path: pytest.TempPathFactory) -> None:
    dump = subprocess.run(
        [sys.executable, "-m", "nestprobe", "dump", "--no-timing"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = tmp_path / "d"  # type: ignore[operator]
    path.write_text(dump, encoding="utf-8")
    replay = subprocess.run(
        [sys.executable, "-m", "nestprobe", "report", "--from", str(path), "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(replay)["cpuid"]["leaves"] == dump.count("\ncpuid ")


def _without_timing(report: dict[str, object]) -> dict[str, object]:
    """Drop the fields a second measurement changes: the raw snapshot (a second reading),
    the facts (they cite the timing evidence too), timing, the timing evidence, and what the
    nesting assessment takes from the band (``likely``, ``confidence``; timing never moves
    ``level`` or ``at_least``). Under a loaded host two runs can land in different bands."""
    out = {k: v for k, v in report.items()
           if k not in ("source", "timing", "snapshot", "facts")}
    nesting = dict(report["nesting"])  # type: ignore[call-overload]
    nesting["evidence"] = [
        e for e in nesting["evidence"] if not str(e["source"]).startswith("timing:")
    ]
    for key in ("likely", "confidence"):
        nesting.pop(key, None)
    out["nesting"] = nesting
    return out


def test_timed_dump_replays_like_a_timed_live_run(tmp_path: pytest.TempPathFactory) -> None:
    """With timing on both sides, only the measurement itself differs between the runs."""
    from nestprobe.cli import main
    from nestprobe.native import cpuid_status

    if cpuid_status()[0] != "ok":
        pytest.skip("no CPUID here, so no latency to measure")
    dump_out, live_out, replay_out = io.StringIO(), io.StringIO(), io.StringIO()
    assert main(["dump"], out=dump_out) == 0
    assert "\nlatency {" in dump_out.getvalue()
    path = tmp_path / "timed"  # type: ignore[operator]
    path.write_text(dump_out.getvalue(), encoding="utf-8")
    assert main(["report", "--from", str(path), "--json"], out=replay_out) == 0
    assert main(["--json"], out=live_out) == 0
    replayed, live = json.loads(replay_out.getvalue()), json.loads(live_out.getvalue())
    assert replayed["timing"] is not None
    if _band_call(replayed) == _band_call(live):
        assert _without_timing(replayed) == _without_timing(live)
    else:
        # Two measurements on either side of a band edge (or one disturbed) may rightly
        # suggest different levels; what CPUID and the OS show must still be the same.
        for key in ("cpuid", "cpu", "environment"):
            assert replayed[key] == live[key], key
        assert replayed["hypervisor"]["interfaces"] == live["hypervisor"]["interfaces"]
        assert replayed["nesting"]["at_least"] == live["nesting"]["at_least"]


def _band_call(report: dict[str, object]) -> tuple[str, bool]:
    """The latency band a report's own measurement falls in, and whether it was noisy."""
    from nestprobe.assess.bands import classify
    from nestprobe.model.latency import LatencyRecord

    call = classify(LatencyRecord.from_dict(report["timing"]))  # type: ignore[arg-type]
    return call.band.name, call.noisy
