"""The Prometheus rules and the Grafana dashboard (contrib/prometheus, contrib/grafana),
against Debian's real Prometheus: ``promtool check rules``, ``promtool test rules`` (the
unit tests beside the rules), the dashboard's queries parsed by promtool, and live: a
Prometheus on loopback scraping a real node_exporter on loopback whose textfile directory
holds real ``nestprobe report --format prometheus`` output. A machine whose wsl2 verdict
was supported and turns blocked fires NestprobeWsl2TurnedBlocked; fixed, the alert clears.
Scrape and evaluation every second, so the live test takes seconds.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import services

from nestprobe.cli import main

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "contrib" / "prometheus" / "nestprobe-rules.yml"
RULES_TEST = REPO / "contrib" / "prometheus" / "nestprobe-rules.test.yml"
DASHBOARD = REPO / "contrib" / "grafana" / "nestprobe-dashboard.json"
FIXTURES = REPO / "tests" / "fixtures" / "windows"
#: Real reports: a Hyper-V VM with nesting exposed (wsl2 supported), and one without
#: (wsl2 blocked), as a VM moved to a host that does not expose VT-x would read.
SUPPORTED = FIXTURES / "win11-home-hyperv-vm-nested.dump"
BLOCKED = FIXTURES / "ws2022-hyperv-role-vm-no-nesting.dump"
SCENARIOS = ("hyperv", "wsl2", "hyperv-containers", "azure-local", "third-party")
WAIT_S = 60.0

missing = ("promtool, Prometheus and node_exporter are Linux programs here (the Windows "
           "stage runs Windows CPython)" if sys.platform == "win32"
           else services.prometheus_missing())
pytestmark = pytest.mark.skipif(missing is not None, reason=missing or "")


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([services.PROMTOOL, *map(str, args)], capture_output=True, text=True,
                          timeout=120, check=False)


def test_rules_are_valid() -> None:
    done = promtool("check", "rules", RULES)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_rule_unit_tests_pass() -> None:
    done = promtool("test", "rules", RULES_TEST)
    assert done.returncode == 0, done.stdout + done.stderr


def test_rule_unit_tests_can_fail(tmp_path: Path) -> None:
    """The unit tests see the rules: with the alert's expression negated they fail."""
    rules = tmp_path / "nestprobe-rules.yml"
    rules.write_text(RULES.read_text().replace('status="blocked"} == 1\n          and on (job,',
                                               'status="blocked"} == 1\n          unless on (job,'))
    assert rules.read_text() != RULES.read_text()
    (tmp_path / "t.yml").write_text(RULES_TEST.read_text())
    assert promtool("test", "rules", tmp_path / "t.yml").returncode != 0


def dashboard_queries() -> list[str]:
    """Every panel query, with ``$scenario`` replaced by each scenario in turn."""
    board = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    out: list[str] = []
    for expr in exprs:
        out += [expr.replace("$scenario", s) for s in SCENARIOS] if "$scenario" in expr else [expr]
    return list(dict.fromkeys(out))


def test_dashboard_is_grafana_json_with_queries() -> None:
    board = json.loads(DASHBOARD.read_text())
    assert board["uid"]
    assert board["panels"]
    names = {v["name"] for v in board["templating"]["list"]}
    assert {"datasource", "scenario"} <= names
    for panel in board["panels"]:
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"


def test_dashboard_queries_parse(tmp_path: Path) -> None:
    """promtool parses each query (as a recording rule's expression)."""
    rules = tmp_path / "dashboard-queries.yml"
    body = ["groups:", "  - name: dashboard", "    rules:"]
    for n, expr in enumerate(dashboard_queries()):
        body += [f"      - record: dashboard:query{n}", f"        expr: {json.dumps(expr)}"]
    rules.write_text("\n".join(body) + "\n")
    done = promtool("check", "rules", rules)
    assert done.returncode == 0, done.stdout + done.stderr


def textfile(dump: Path) -> str:
    out = io.StringIO()
    assert main(["report", "--format", "prometheus", "--from", str(dump)], out=out) == 0
    return out.getvalue()


def write_atomically(directory: Path, text: str) -> None:
    tmp = directory / "nestprobe.prom.tmp"
    tmp.write_text(text)
    os.replace(tmp, directory / "nestprobe.prom")


def api(url: str, path: str, **query: str) -> Any:
    full = f"{url}/api/v1/{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    body = json.loads(services.scrape(full))
    assert body["status"] == "success", body
    return body["data"]


def wait_until(what: str, predicate: Any) -> Any:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(0.25)
    raise AssertionError(f"not within {WAIT_S:.0f} s: {what}")


def firing(url: str, name: str) -> list[dict[str, Any]]:
    return [a for a in api(url, "alerts")["alerts"]
            if a["labels"]["alertname"] == name and a["state"] == "firing"]


def wsl2_status(url: str) -> set[str]:
    result = api(url, "query", query='nestprobe_verdict{scenario="wsl2"} == 1')["result"]
    return {r["metric"]["status"] for r in result}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """node_exporter (textfile collector) and a Prometheus scraping it, both on loopback."""
    reason = services.node_exporter_missing()
    if reason:
        pytest.skip(reason)
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    write_atomically(textfiles, textfile(SUPPORTED))
    with services.node_exporter(textfiles, tmp_path / "node_exporter.log") as metrics:
        target = urllib.parse.urlsplit(metrics).netloc
        with services.prometheus(tmp_path / "prometheus", [target], [RULES]) as url:
            yield url, textfiles


def test_alert_fires_when_wsl2_turns_blocked_and_clears_when_fixed(
        stack: tuple[str, Path]) -> None:
    url, textfiles = stack
    wait_until("the supported report is scraped", lambda: wsl2_status(url) == {"supported"})
    assert not firing(url, "NestprobeWsl2TurnedBlocked")

    write_atomically(textfiles, textfile(BLOCKED))  # the VM moved to a host without nesting
    alerts = wait_until("NestprobeWsl2TurnedBlocked fires",
                        lambda: firing(url, "NestprobeWsl2TurnedBlocked"))
    assert len(alerts) == 1
    labels = alerts[0]["labels"]
    assert (labels["scenario"], labels["status"], labels["severity"]) == (
        "wsl2", "blocked", "warning")
    assert labels["instance"] in alerts[0]["annotations"]["summary"]
    wait_until("the recording rule counts it", lambda: api(
        url, "query", query='nestprobe:verdict:count{scenario="wsl2",status="blocked"} == 1'
    )["result"])

    write_atomically(textfiles, textfile(SUPPORTED))  # fixed
    wait_until("the alert clears", lambda: not firing(url, "NestprobeWsl2TurnedBlocked"))
    assert wsl2_status(url) == {"supported"}


def test_dashboard_queries_run_on_the_server(stack: tuple[str, Path]) -> None:
    url, _ = stack
    wait_until("the recording rules have a value",
               lambda: api(url, "query", query="nestprobe:machines:count")["result"])
    empty = []
    for expr in dashboard_queries():
        result = api(url, "query", query=expr)["result"]  # a bad query is an HTTP 400
        if not result:
            empty.append(expr)
    # With one supported machine: no blocked machine, no firing alert; the rest has data.
    assert all("blocked" in e or "ALERTS" in e or "fix_needed" in e for e in empty), empty
    assert api(url, "query", query="nestprobe:fix_needed_machines:count")["result"]
