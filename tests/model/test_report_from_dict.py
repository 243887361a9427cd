"""``Report.from_dict``: a JSON report read back is the same frozen Report (issue 17.6), and a
JSON report input is checked as strictly as a dump (issue 22.4).

The round trip runs over every input the refactor guard knows (tests/report_digest.py: own
fixtures, and the corpus dumps, Windows pastes and virt-what roots where ``../shared`` is
present) plus a live report; the strictness cases each change one thing of a valid report.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

import jsonschema
import pytest
from report_digest import inputs

import nestprobe
from nestprobe.model.report import Report, ReportFormatError
from nestprobe.model.schema import Validator, check_schema
from nestprobe.model.strictjson import StrictJsonError, loads
from nestprobe.output.jsonreport import render_json, report_to_dict

SCHEMA = json.loads(resources.files("nestprobe.output").joinpath("report.schema.json").read_text())
INPUTS = dict(inputs())


def _round_trip(report: Report) -> None:
    data = loads(render_json(report))
    again = Report.from_dict(data)
    assert again == report
    assert hash(again) == hash(report)
    assert report_to_dict(again) == data
    # Key order is free, as JSON defines it: `jq -S` sorts every object's keys.
    assert Report.from_dict(loads(json.dumps(data, sort_keys=True))) == report


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_every_input_round_trips(name: str) -> None:
    _round_trip(INPUTS[name]())


def test_live_report_round_trips() -> None:
    _round_trip(nestprobe.probe(timing=True))


def test_own_validator_supports_every_keyword_the_schema_uses() -> None:
    check_schema(SCHEMA)
    with pytest.raises(ValueError, match="not supported"):
        Validator({"type": "string", "pattern": "^a"})


def _base() -> dict[str, Any]:
    report = nestprobe.probe(timing=True)
    assert report.snapshot.latency is not None, "a live probe measures the exit latency"
    return loads(render_json(report))


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = data
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        key: Any = int(last) if isinstance(target, list) else last
        if value is KeyError:
            del target[key]
        else:
            target[key] = value
    return change


#: One change each; every one must be refused by both validators, and by from_dict.
BAD: dict[str, Callable[[dict[str, Any]], None]] = {
    "negative tsc_hz": _set("timing.tsc_hz", -2.5e9),
    "zero tsc_hz": _set("timing.tsc_hz", 0),
    "negative ticks": _set("timing.cpuid_ticks", -1.0),
    "ticks as text": _set("timing.cpuid_ticks", "100"),
    "unknown key": _set("cpu.colour", "blue"),
    "missing key": _set("nesting.likely", KeyError),
    "status not a status": _set("verdicts.wsl2.status", "maybe"),
    "bool for int": _set("nesting.at_least", True),
    "int for bool": _set("virtualization.exposed", 1),
    "negative cpu": _set("source.cpu", -1),
    "register too wide": _set("snapshot.cpuid.0.2", 2**32),
    "register row too short": _set("snapshot.cpuid.0", [0, 0, 0]),
    "file state unknown": lambda d: d["snapshot"]["os"]["files"].update(
        {"/x": {"state": "maybe", "text": None}}),
    "evidence value object": _set("nesting.evidence", [{"claim": "c", "source": "s",
                                                        "value": {"a": 1}}]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_hostile_reports_are_refused(case: str) -> None:
    data = _base()
    BAD[case](data)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(data)
    with pytest.raises(ReportFormatError):
        Report.from_dict(data)


def test_refusals_beyond_the_schema() -> None:
    """What the schema cannot say: leaf counts that disagree, duplicate leaves, a nested
    value where the model declares a scalar, another schema_version."""
    data = _base()
    for change in (_set("cpuid.leaves", data["cpuid"]["leaves"] + 1),
                   lambda d: d["snapshot"]["cpuid"].append(list(d["snapshot"]["cpuid"][0])),
                   _set("schema_version", 2), _set("schema_version", 3.0)):
        bad = copy.deepcopy(data)
        change(bad)
        with pytest.raises(ReportFormatError):
            Report.from_dict(bad)
    with pytest.raises(ReportFormatError):
        Report.from_dict([data])


@pytest.mark.parametrize("text", ['{"a": 1e999}', '{"a": NaN}', '{"a": -Infinity}',
                                  '{"a": ' + "9" * 400 + "}", '{"a": 18446744073709551616}',
                                  '{"a": 1, "a": 2}', "[" * 100_000 + "]" * 100_000])
def test_strict_reader_refuses_hostile_numbers_and_shapes(text: str) -> None:
    with pytest.raises(StrictJsonError):
        loads(text)
