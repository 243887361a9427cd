"""The JSON report's text (output/jsonreport.py ``render_json``, written by jsontext.py, not
by json) is exactly json.dumps's text of the plain dict ``report_to_dict`` gives, for every
input: the report digest covers that dict, this test the text users get from ``--json``."""

from __future__ import annotations

import json

import pytest
from report_digest import inputs

from nestprobe.output.jsonreport import render_json, report_to_dict
from nestprobe.output.jsontext import dumps

INPUTS = dict(inputs())


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_the_text_is_json_dumps_of_the_plain_report(name: str) -> None:
    report = INPUTS[name]()
    expected = json.dumps(report_to_dict(report), indent=2, ensure_ascii=True, allow_nan=False)
    assert render_json(report) == expected


def test_other_types_are_refused_as_json_refuses_them() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        json.dumps({1}, indent=2)
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps({1})
