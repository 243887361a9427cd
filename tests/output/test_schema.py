"""Every report validates against the shipped schema; the schema's shape is pinned to its
schema_version, so changing the report's shape without a version bump fails here."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from conftest import cases, dumps_folder, every_dump

from nestprobe.output.jsonreport import report_to_dict
from nestprobe.pipeline import build_report
from nestprobe.sources.live import live_snapshot
from nestprobe.sources.load import load_snapshot

SCHEMA_TEXT = resources.files("nestprobe.output").joinpath("report.schema.json").read_text()
SCHEMA = json.loads(SCHEMA_TEXT)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

#: sha256 of the canonical schema per schema_version. Editing the schema means the report
#: changed shape: bump schema_version (in the schema's const and in jsonreport.py) and add
#: a new line here; never edit an existing one.
#: v2: verdict conditions became objects with a state; then (still unreleased) checked
#: conditions (id, source), options for other goals, who-answers and OS-sureness fields,
#: environment.windows (always present, null off Windows) and hypervisor.partition
#: "root-or-guest" (a Windows paste shows a hypervisor but not which side of it we are).
#: v3 (unreleased; several branches bumped it at once, reconciled in one version): every
#: verdict's readiness (state, steps with elevation and restart, pending confirmations;
#: verdicts/readiness.py), every remediation's id, ``proof`` (null without --prove: the
#: proof run's record and what it means); ``snapshot`` (every CPUID answer and the OS
#: facts), ``facts`` (each decided fact with its evidence) and ``headline`` (the answer's
#: case), so ``Report.from_dict`` rebuilds the same Report; timing figures and source.cpu
#: bounded below (issue 17.6, 22.4); source.cpu may be null (a live probe whose thread could
#: not be pinned: no single CPU ran its CPUIDs); environment.windows.wine (issue 18.10: wine's
#: version when "Windows" is wine).
SCHEMA_DIGESTS = {
    1: "e9ac9597c53ff2e9caecff53d31dacebd5366bb5bd5eda916a55371d7af60f38",
    2: "eef242cc07329e03aac5bee99df4ea6a9db105d8afef27717753bc11508c0692",
    3: "3872808df5bce61d3e362765de579332b6d23bbe5b52f0dce3364b944b0eb912",
}


def canonical_digest(schema: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).hexdigest()


def test_schema_is_pinned_to_its_version() -> None:
    from nestprobe.output.jsonreport import SCHEMA_VERSION

    version = SCHEMA["properties"]["schema_version"]["const"]
    assert version == SCHEMA_VERSION
    assert canonical_digest(SCHEMA) == SCHEMA_DIGESTS[version]


def test_live_report_validates() -> None:
    VALIDATOR.validate(report_to_dict(build_report(live_snapshot(timing=True))))


@pytest.mark.parametrize("dump", cases([p.name for p in every_dump()],
                                        "no dumps: neither the corpus nor own"))
def test_corpus_reports_validate(dump: str) -> None:
    snap = load_snapshot(str(dumps_folder() / dump))
    report = report_to_dict(build_report(snap))
    VALIDATOR.validate(report)
    json.dumps(report, ensure_ascii=True)


def test_hostile_signature_is_safe_in_json_and_text(tmp_path: Path) -> None:
    """Control characters and invalid UTF-8 in a signature stay escaped in both renderings."""
    from nestprobe.model.snapshot import CpuidTable, OsFacts, Registers, Snapshot
    from nestprobe.output.jsonreport import render_json
    from nestprobe.output.text import render_text

    hostile = Registers(0x40000001, 0x1B5B3248, 0x0A0DFF00, 0x07E2809C)  # ESC [2H, CR LF, 0xFF, BEL
    table = CpuidTable(
        {
            (0, 0): Registers(1, 0x756E6547, 0x6C65746E, 0x49656E69),
            (1, 0): Registers(0, 0, 1 << 31, 0),
            (0x40000000, 0): hostile,
            (0x40000001, 0): Registers(0, 0, 0, 0),
        }
    )
    report = build_report(Snapshot("ok", table, OsFacts(system="Linux", machine="x86_64")))
    text = render_text(report)
    for control in ("\x1b", "\x07", "\r"):
        assert control not in text
    data = render_json(report)
    assert data.isascii()
    VALIDATOR.validate(json.loads(data))


def test_the_schema_names_every_decided_fact() -> None:
    """Every field of model.Facts is a key of the schema's ``facts`` (a new fact without its
    schema key makes every JSON report unreadable by Report.from_dict)."""
    from nestprobe.model.facts import Facts
    from nestprobe.model.record import fields

    facts = json.loads(SCHEMA_TEXT)["properties"]["facts"]
    names = {spec.name for spec in fields(Facts)}
    assert set(facts["properties"]) == names
    assert set(facts["required"]) == names
