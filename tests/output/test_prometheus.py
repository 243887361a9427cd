"""Prometheus textfile metrics: parsed back with prometheus-client's parser, checked value by
value against the JSON report, and served by a real node_exporter scraped over loopback."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
import services
from conftest import cases, every_dump

from nestprobe import __version__
from nestprobe.cli import main
from nestprobe.model.contract import EXIT_OK
from nestprobe.output.prometheus import (
    MachineMetrics,
    escape_label_value,
    render_prometheus,
)

parser = pytest.importorskip("prometheus_client.parser",
                             reason="prometheus-client is in the test extra")

HOSTILE = [
    'quote"inside',
    "back\\slash",
    "trailing backslash\\",
    "new\nline",
    "literal \\n not a newline",
    '\\"',
    "}{,=",
    'x"} 1\nnestprobe_verdict{machine="forged',
    "# HELP nestprobe_verdict forged",
    "ümlaut ✓ 机器",
    "",
    " spaces ",
    "tab\tinside",
]

Samples = dict[str, list[tuple[dict[str, str], float]]]


def parse(text: str) -> Samples:
    out: Samples = {}
    for family in parser.text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return out


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = main(argv, out=out)
    return code, out.getvalue()


def _metrics(labels: tuple[tuple[str, str], ...] = ()) -> MachineMetrics:
    return MachineMetrics(
        labels=labels, version=__version__,
        verdicts=(("hyperv", "blocked"), ("wsl2", "supported")),
        exposed=None, can_host_vms=True, level=2, at_least=1, likely=None,
        exit_ticks=1234.5, exit_seconds=None, cpu_vendor='Genuine"Intel', hypervisor="kvm",
        source="nestprobe")


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_label_values_survive_a_round_trip(value: str) -> None:
    text = render_prometheus([_metrics((("machine", value),))])
    samples = parse(text)
    verdicts = samples["nestprobe_verdict"]
    assert [labels["machine"] for labels, _ in verdicts] == [value, value]
    assert {labels["status"] for labels, _ in verdicts} == {"blocked", "supported"}
    # Nothing forged: exactly one sample per single-valued family.
    assert len(samples["nestprobe_hwvirt_exposed"]) == 1
    assert samples["nestprobe_info"][0][0]["cpu_vendor"] == 'Genuine"Intel'


def test_undecodable_file_name_bytes_become_replacement_characters() -> None:
    name = b"web-\xff-01".decode("utf-8", "surrogateescape")
    assert escape_label_value(name) == "web-\ufffd-01"
    text = render_prometheus([_metrics((("machine", name),))])
    text.encode("utf-8")  # would raise on a lone surrogate
    assert parse(text)["nestprobe_verdict"][0][0]["machine"] == "web-\ufffd-01"


def test_unknown_is_nan_and_known_values_are_exact() -> None:
    samples = parse(render_prometheus([_metrics()]))
    assert math.isnan(samples["nestprobe_hwvirt_exposed"][0][1])
    assert math.isnan(samples["nestprobe_nesting_level_likely"][0][1])
    assert math.isnan(samples["nestprobe_cpuid_exit_latency_seconds"][0][1])
    assert samples["nestprobe_can_host_vms"][0][1] == 1
    assert samples["nestprobe_nesting_level"][0][1] == 2
    assert samples["nestprobe_cpuid_exit_latency_ticks"][0][1] == 1234.5
    assert all(labels["version"] == __version__ for family in samples.values()
               for labels, _ in family)


def test_help_and_type_once_per_family() -> None:
    text = render_prometheus([_metrics((("machine", "a"),)), _metrics((("machine", "b"),))])
    helps = [line.split()[2] for line in text.splitlines() if line.startswith("# HELP")]
    types = [line.split()[2:] for line in text.splitlines() if line.startswith("# TYPE")]
    assert len(helps) == len(set(helps)) == len(types)
    assert all(kind == "gauge" for _, kind in types)


def _expected(report: dict[str, Any]) -> dict[str, float | None]:
    def num(value: bool | int | None) -> float | None:
        return None if value is None else float(value)

    timing = report["timing"]
    return {
        "nestprobe_hwvirt_exposed": num(report["virtualization"]["exposed"]),
        "nestprobe_can_host_vms": num(report["virtualization"]["can_host_vms"]),
        "nestprobe_nesting_level": num(report["nesting"]["level"]),
        "nestprobe_nesting_level_at_least": num(report["nesting"]["at_least"]),
        "nestprobe_nesting_level_likely": num(report["nesting"]["likely"]),
        "nestprobe_cpuid_exit_latency_ticks": timing and timing["cpuid_ticks"],
    }


def _same(value: float, expected: float | None) -> bool:
    return math.isnan(value) if expected is None else value == expected


@pytest.mark.parametrize("dump", cases(every_dump(), "no dumps: neither the corpus nor own"),
                         ids=lambda p: getattr(p, "name", "none"))
def test_report_metrics_match_the_json_report(dump: Path) -> None:
    code, text = run(["report", "--from", str(dump), "--format", "prometheus"])
    assert code == EXIT_OK
    code, js = run(["report", "--from", str(dump), "--json"])
    report = json.loads(js)
    samples = parse(text)
    verdicts = {labels["scenario"]: labels["status"]
                for labels, value in samples["nestprobe_verdict"] if value == 1}
    assert verdicts == {s: v["status"] for s, v in report["verdicts"].items()}
    for name, expected in _expected(report).items():
        [(labels, value)] = samples[name]
        assert "machine" not in labels  # one machine: node_exporter's instance names it
        assert _same(value, expected), (name, value, expected)
    fixes = {(labels["scenario"], labels["layer"])
             for labels, value in samples.get("nestprobe_fix_needed", []) if value == 1}
    assert fixes == {(s, f["layer"]) for s, v in report["verdicts"].items()
                     for f in v["remediation"]}
    [(info, _)] = samples["nestprobe_info"]
    assert info["hypervisor"] == (report["hypervisor"]["vendor"] or "")
    assert info["source"] == report["source"]["format"]


def test_live_report_metrics() -> None:
    import nestprobe
    from nestprobe.output.jsonreport import report_to_dict

    code, text = run(["report", "--format", "prometheus"])
    assert code == EXIT_OK
    samples = parse(text)
    assert len(samples["nestprobe_verdict"]) == 5
    report = report_to_dict(nestprobe.probe(timing=False))
    assert samples["nestprobe_info"][0][0]["source"] == "live"
    assert _same(samples["nestprobe_hwvirt_exposed"][0][1],
                 _expected(report)["nestprobe_hwvirt_exposed"])


def _hostile_fleet(tmp: Path, corpus: Path) -> list[str]:
    """Corpus dumps saved under file names that are hostile label values; the machine
    names the fleet gives them (escaped: a machine name never holds a control character)."""
    from nestprobe.model.safetext import escape

    names = [n for n in HOSTILE if n.strip() and "/" not in n and not n.startswith(".")]
    sources = sorted(corpus.glob("*"))
    for n, name in enumerate(names):
        (tmp / f"{name}.dump").write_bytes(sources[n % len(sources)].read_bytes())
    (tmp / "broken.dump").write_text("not a dump\n")
    return [escape(name) for name in names]


def test_fleet_metrics_one_series_per_machine(tmp_path: Path, dumps: Path) -> None:
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    names = _hostile_fleet(fleet, dumps)
    code, text = run(["fleet", str(fleet), "--format", "prometheus"])
    assert code == EXIT_OK
    samples = parse(text)
    per_machine: dict[str, int] = {}
    for labels, _ in samples["nestprobe_verdict"]:
        per_machine[labels["machine"]] = per_machine.get(labels["machine"], 0) + 1
    assert per_machine == dict.fromkeys(names, 5)
    assert sorted(lab["machine"] for lab, _ in samples["nestprobe_hwvirt_exposed"]) == \
        sorted(names)
    assert samples["nestprobe_input_unreadable"] == [
        ({"machine": "broken", "version": __version__}, 1.0)]


def test_node_exporter_serves_the_fleet_metrics(tmp_path: Path, dumps: Path) -> None:
    """node_exporter reads the file (its scrape-error gauge stays 0) and serves every series
    with the label values intact."""
    reason = services.node_exporter_missing()
    if reason is not None:
        pytest.skip(reason)
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    names = _hostile_fleet(fleet, dumps)
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    code, _ = run(["fleet", str(fleet), "--format", "prometheus",
                   "--output", str(textfiles / "nestprobe.prom")])
    assert code == EXIT_OK
    code, single = run(["report", "--from", str(sorted(dumps.glob("*"))[0]),
                        "--format", "prometheus"])
    (textfiles / "single.prom").write_text(single.replace("nestprobe_", "nestprobe_single_"))
    with services.node_exporter(textfiles, tmp_path / "node_exporter.log") as url:
        scraped = parse(services.scrape(url))
    assert scraped["node_textfile_scrape_error"] == [({}, 0.0)]
    mtimes = {labels["file"] for labels, _ in scraped["node_textfile_mtime_seconds"]}
    assert {Path(f).name for f in mtimes} == {"nestprobe.prom", "single.prom"}
    served = {labels["machine"] for labels, _ in scraped["nestprobe_verdict"]}
    assert served == set(names)
    assert len(scraped["nestprobe_verdict"]) == 5 * len(names)
    assert len(scraped["nestprobe_single_verdict"]) == 5
    assert scraped["nestprobe_input_unreadable"][0][0]["machine"] == "broken"
