"""The JSON rendering of a Report (schema_version 3, nestprobe/output/report.schema.json)."""

from __future__ import annotations

from nestprobe.model.contract import VERSION
from nestprobe.model.evidence import Evidence
from nestprobe.model.record import Record, iter_items
from nestprobe.model.typeshim import TYPE_CHECKING, Any, Mapping
from nestprobe.output.answer import answer
from nestprobe.output.jsontext import dumps

if TYPE_CHECKING:
    from nestprobe.model.report import Report
    from nestprobe.model.snapshot import Snapshot

SCHEMA_VERSION = 3


#: Leaves taken as they are, by exact type, before any isinstance walk: ~1,300 of a report's
#: ~1,800 values, and ``isinstance(x, Mapping)`` is an ABC check.
_LEAVES = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:  # noqa: PLR0911 (a case table, read top to bottom)
    """Records, mappings and tuples to plain JSON types; strings stay as they are.
    Evidence renders as schema 2's ``{claim, source, value}`` (its ``kind`` is not in it)."""
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind is tuple:
        return [jsonable(v) for v in value]
    if isinstance(value, Evidence):
        return value.to_dict()
    if isinstance(value, Record):
        return {name: jsonable(field) for name, field in iter_items(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def snapshot_to_dict(snap: Snapshot) -> dict[str, Any]:
    """What the report was computed from (``Report.from_dict`` rebuilds it)."""
    kvm = snap.os.kvm
    return {
        "cpuid": [[leaf, sub, *regs] for (leaf, sub), regs in snap.cpuid.items()],
        "os": {
            "system": snap.os.system,
            "machine": snap.os.machine,
            "files": {path: {"state": f.state, "text": f.text}
                      for path, f in snap.os.files.items()},
            "kvm": jsonable(kvm) if kvm is not None else None,
        },
    }


def report_to_dict(report: Report) -> dict[str, Any]:
    snap = report.snapshot
    a = report.assessment
    origin = snap.origin
    return {
        "schema_version": SCHEMA_VERSION,
        "nestprobe_version": VERSION,
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
        "proof": _proof(report),
        "verdicts": _verdicts(report),
        "headline": jsonable(report.verdicts.headline),
        "facts": jsonable(a.facts),
        "snapshot": snapshot_to_dict(snap),
    }


def _proof(report: Report) -> dict[str, Any] | None:
    """The proof run (``--prove``): its raw record and what it means; None without one."""
    record = report.snapshot.proof
    if record is None or report.assessment.proof is None:
        return None
    return {"record": record.to_dict(), **jsonable(report.assessment.proof)}


def _verdicts(report: Report) -> dict[str, Any]:
    """Each verdict's record, with its readiness (verdicts/readiness.py: derived from the
    verdict's own records, so it is computed here, where the JSON is made)."""
    from nestprobe.verdicts.readiness import readiness

    return {v.scenario: {**v.to_dict(), "readiness": readiness(v).to_dict()}
            for v in report.verdicts}


def render_json(report: Report) -> str:
    """Stable, ASCII-only, standard JSON: hostile bytes in signatures or files cannot break
    a terminal, and no NaN or Infinity can appear (a non-finite number raises here
    rather than reach a strict parser; the model refuses them on the way in)."""
    return dumps(report_to_dict(report))  # json.dumps(indent=2, ASCII, no NaN); see jsontext
