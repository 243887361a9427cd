"""The JSON rendering of a Report (schema_version 1, nestprobe/output/report.schema.json)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nestprobe import __version__
from nestprobe.output.answer import answer

if TYPE_CHECKING:
    from nestprobe.report import Report

SCHEMA_VERSION = 1


def jsonable(value: Any) -> Any:
    """Dataclasses, mappings and tuples to plain JSON types; strings stay as they are."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def report_to_dict(report: Report) -> dict[str, Any]:
    snap = report.snapshot
    a = report.assessment
    origin = snap.origin
    return {
        "schema_version": SCHEMA_VERSION,
        "nestprobe_version": __version__,
        "source": {
            "kind": origin.kind,
            "path": origin.path,
            "format": origin.format,
            "cpu": origin.cpu,
        },
        "answer": answer(report),
        "cpuid": {
            "status": snap.cpuid_status,
            "detail": snap.cpuid_detail,
            "leaves": len(snap.cpuid),
            "truncated": snap.truncated,
        },
        "cpu": jsonable(a.cpu),
        "hypervisor": jsonable(a.hypervisor),
        "virtualization": jsonable(a.virtualization),
        "environment": jsonable(a.environment),
        "nesting": jsonable(a.nesting),
        "timing": snap.latency.to_dict() if snap.latency is not None else None,
        "verdicts": report.verdicts.to_dict(),
    }


def render_json(report: Report) -> str:
    """Stable, ASCII-only JSON: hostile bytes in signatures or files cannot break a terminal."""
    return json.dumps(report_to_dict(report), indent=2, sort_keys=False, ensure_ascii=True)
