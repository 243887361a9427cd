"""Every report validates against the shipped schema; the schema's shape is pinned to its
schema_version, so changing the report's shape without a version bump fails here."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from conftest import DUMPS

from nestprobe.report import build_report
from nestprobe.sources.live import live_snapshot
from nestprobe.sources.load import load_snapshot

SCHEMA_TEXT = resources.files("nestprobe.output").joinpath("report.schema.json").read_text()
SCHEMA = json.loads(SCHEMA_TEXT)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

#: sha256 of the canonical schema per schema_version. Editing the schema means the report
#: changed shape. A change no v1 reader can trip over (a new optional key, a new enum value)
#: keeps the version and replaces its digest here, naming the addition below; anything else
#: bumps schema_version (in the schema's const and in jsonreport.py) with a new line.
#: v1 additions: environment.windows (optional, null off Windows); hypervisor.partition
#: "root-or-guest" (a Windows paste shows a hypervisor but not which side of it we are).
SCHEMA_DIGESTS = {
    1: "0d43d3c3f6bb3aeb92ff77068c3167cea8660ecde65344265b0b025d3c495dde",
}


def canonical_digest(schema: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).hexdigest()


def test_schema_is_pinned_to_its_version() -> None:
    from nestprobe.output.jsonreport import SCHEMA_VERSION

    version = SCHEMA["properties"]["schema_version"]["const"]
    assert version == SCHEMA_VERSION
    assert canonical_digest(SCHEMA) == SCHEMA_DIGESTS[version]


def test_live_report_validates() -> None:
    VALIDATOR.validate(build_report(live_snapshot(timing=True)).to_dict())


@pytest.mark.parametrize("dump", sorted(p.name for p in DUMPS.iterdir()) if DUMPS.is_dir() else [])
def test_corpus_reports_validate(dump: str) -> None:
    snap = load_snapshot(str(DUMPS / dump))
    report = build_report(snap).to_dict()
    VALIDATOR.validate(report)
    json.dumps(report, ensure_ascii=True)


def test_hostile_signature_is_safe_in_json_and_text(tmp_path: Path) -> None:
    """Control characters and invalid UTF-8 in a signature stay escaped in both renderings."""
    from nestprobe.output.jsonreport import render_json
    from nestprobe.output.text import render_text
    from nestprobe.snapshot import CpuidTable, OsFacts, Registers, Snapshot

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
