"""A JSON report read back into a Report's parts, strictly (``Report.from_dict``).

Loaded on the first report read, never by a probe: a ``check`` builds its Report from the
machine and has no use for the schema, the fused and exact readings, or the record builders
they import (model/fromjson.py, model/fusedjson.py, model/schema.py).
"""

from __future__ import annotations

from nestprobe.model.assessment import (
    Assessment,
    CpuIdentity,
    Environment,
    HypervisorFacts,
    Nesting,
    Virtualization,
)
from nestprobe.model.errors import ReportFormatError
from nestprobe.model.facts import Facts
from nestprobe.model.fromjson import ShapeError, build, convert, forget
from nestprobe.model.fusedjson import Build, Fuser, UnsureError, closed, field_hints
from nestprobe.model.latency import LatencyRecord
from nestprobe.model.proof import ProofAssessment, ProofRecord
from nestprobe.model.schema import SchemaError, Validator
from nestprobe.model.snapshot import (
    CpuidTable,
    FileFact,
    KvmDevice,
    Origin,
    OsFacts,
    Registers,
    Snapshot,
)
from nestprobe.model.typeshim import TYPE_CHECKING, Any, Mapping
from nestprobe.model.verdicts import SCENARIOS, Headline, Verdict, Verdicts

if TYPE_CHECKING:
    from typing import TypeAlias

    #: What a report is made of: ``Report(*parts)``.
    Parts: TypeAlias = tuple[Snapshot, Assessment, Verdicts]


#: The one Validator, made on first use.
_VALIDATOR: list[Validator] = []


def report_validator() -> Validator:
    """The shipped schema (output/report.schema.json), read as data: the runtime needs no
    ``jsonschema`` and the model imports nothing above it. Imported here, not at module
    level: importlib.resources pulls in zipfile and lzma, for the first report read only."""
    if _VALIDATOR:
        return _VALIDATOR[0]
    import json
    from importlib import resources

    text = resources.files("nestprobe").joinpath("output", "report.schema.json").read_text(
        encoding="utf-8")
    _VALIDATOR.append(Validator(json.loads(text)))
    return _VALIDATOR[0]


def _snapshot(data: Mapping[str, Any],
              leaves: dict[tuple[int, int], Registers] | None = None) -> Snapshot:
    """The snapshot of a checked report; ``leaves``: its CPUID rows, when read already."""
    raw = data["snapshot"]
    if leaves is None:
        leaves = {}
        for leaf, sub, eax, ebx, ecx, edx in raw["cpuid"]:
            if (leaf, sub) in leaves:
                raise ReportFormatError(f"snapshot.cpuid: leaf {leaf:#x}.{sub} given twice")
            leaves[(leaf, sub)] = Registers(eax, ebx, ecx, edx)
    if len(leaves) != data["cpuid"]["leaves"]:
        raise ReportFormatError(f"cpuid.leaves: says {data['cpuid']['leaves']}, "
                                f"snapshot.cpuid holds {len(leaves)}")
    os_data = raw["os"]
    kvm = build(KvmDevice, os_data["kvm"], "snapshot.os.kvm") if os_data["kvm"] else None
    files = {path: FileFact(f["state"], f["text"]) for path, f in os_data["files"].items()}
    source = data["source"]
    return Snapshot(
        cpuid_status=data["cpuid"]["status"],
        cpuid=CpuidTable(leaves),
        os=OsFacts(os_data["system"], os_data["machine"], files, kvm),
        latency=LatencyRecord.from_dict(data["timing"]) if data["timing"] is not None else None,
        proof=ProofRecord.from_dict(data["proof"]["record"]) if data["proof"] else None,
        cpuid_detail=data["cpuid"]["detail"],
        truncated=data["cpuid"]["truncated"],
        origin=Origin(source["kind"], source["path"], source["format"], source["cpu"]),
    )


def _proof_assessment(data: Mapping[str, Any] | None) -> ProofAssessment | None:
    """The report's ``proof`` is the run's record (the snapshot's) and what it means."""
    if data is None:
        return None
    return build(ProofAssessment, {k: v for k, v in data.items() if k != "record"}, "proof")


#: Keys of a verdict's JSON that are derived from its record when the JSON is made
#: (output/jsonreport.py), not part of the record: checked by the schema, not read back.
DERIVED_VERDICT_KEYS = ("readiness",)


def _verdict_record(data: Mapping[str, Any], scenario: str) -> dict[str, Any]:
    record = {k: v for k, v in data.items() if k not in DERIVED_VERDICT_KEYS}
    return record | {"scenario": scenario}


def read_exactly(data: Mapping[str, Any], validator: Validator) -> Parts:
    """A report's parts in two walks: the whole schema check, then the typed build. Its
    refusals are the reader's words (the fused reading, when unsure, comes here)."""
    try:
        validator.validate(data)
        assessment = Assessment(
            cpu=build(CpuIdentity, data["cpu"], "cpu"),
            hypervisor=build(HypervisorFacts, data["hypervisor"], "hypervisor"),
            virtualization=build(Virtualization, data["virtualization"], "virtualization"),
            environment=build(Environment, data["environment"], "environment"),
            nesting=build(Nesting, data["nesting"], "nesting"),
            facts=build(Facts, data["facts"], "facts"),
            proof=_proof_assessment(data["proof"]),
        )
        verdicts = Verdicts(tuple(
            build(Verdict, _verdict_record(data["verdicts"][s], s), f"verdicts.{s}")
            for s in SCENARIOS), build(Headline, data["headline"], "headline"))
        return _snapshot(data), assessment, verdicts
    except (SchemaError, ShapeError) as exc:
        raise ReportFormatError(str(exc)) from None
    except (TypeError, ValueError) as exc:  # a model type's own check (LatencyRecord ...)
        raise ReportFormatError(str(exc)) from None
    finally:
        forget()


#: ``snapshot.cpuid`` as the schema gives it: the fused reading checks this node itself, row
#: by row as it builds them (and leaves it to the exact reading when the schema says else).
_CPUID_ROWS = {"type": "array", "items": {"type": "array", "minItems": 6, "maxItems": 6,
                                          "items": {"type": "integer", "minimum": 0,
                                                    "maximum": 4294967295}}}
_U32 = 4294967295


def _leaves(rows: object) -> dict[tuple[int, int], Registers]:
    """The CPUID rows checked as :data:`_CPUID_ROWS` says and built at once; a row it does
    not take, or a leaf given twice, is for the exact reading to word."""
    if type(rows) is not list:
        raise UnsureError
    leaves: dict[tuple[int, int], Registers] = {}
    for row in rows:
        if type(row) is not list or len(row) != 6:
            raise UnsureError
        leaf, sub, eax, ebx, ecx, edx = row
        if not (type(leaf) is type(sub) is type(eax) is type(ebx) is type(ecx) is type(edx)
                is int and min(row) >= 0 and max(row) <= _U32) or (leaf, sub) in leaves:
            raise UnsureError
        leaves[(leaf, sub)] = Registers(eax, ebx, ecx, edx)
    return leaves


class _Fused:
    """``Report.from_dict`` in one walk (model/fusedjson.py) for the report schema's shape:
    a closed root whose record parts are fused, and the rest checked exactly."""

    #: The root's keys read into the assessment by one fused build each.
    BUILT = (("cpu", CpuIdentity), ("hypervisor", HypervisorFacts),
             ("virtualization", Virtualization), ("environment", Environment),
             ("nesting", Nesting), ("facts", Facts), ("headline", Headline))

    def __init__(self, validator: Validator) -> None:
        root, fuser = validator.root, Fuser(validator)
        properties = root["properties"]
        verdicts = fuser.resolve(properties["verdicts"])
        keys, scenarios = closed(root), frozenset(SCENARIOS)
        one = [fuser.resolve(sub) for sub in verdicts.get("properties", {}).values()]
        if keys is None or closed(verdicts) != (scenarios, scenarios) or any(
                node is not one[0] for node in one) or set(keys[0]) != set(properties) \
                or closed(one[0]) is None:
            raise UnsureError  # another shape of schema: read the exact way only
        self.keys = keys
        self.built: dict[str, Build] = {key: fuser.fuse(properties[key], kind)
                                        for key, kind in self.BUILT}
        snapshot = fuser.resolve(properties["snapshot"])
        rows = closed(snapshot) == (frozenset({"cpuid", "os"}),) * 2 and \
            snapshot["properties"]["cpuid"] == _CPUID_ROWS
        # The snapshot's OS facts checked exactly, its rows here; or all of it exactly.
        self.os_check = validator.check(snapshot["properties"]["os"]) if rows else None
        skip = {"verdicts", "snapshot"} if rows else {"verdicts"}
        self.checked = {key: validator.check(properties[key])
                        for key in properties if key not in self.built and key not in skip}
        hint = field_hints(Verdict)[1]["scenario"]
        if any(convert(hint, scenario, "") is not scenario for scenario in SCENARIOS):
            raise UnsureError  # each scenario is given to its verdict as it is
        self.verdict = fuser.record(one[0], Verdict, frozenset(DERIVED_VERDICT_KEYS))

    def read(self, data: object) -> Parts:
        """The report's parts, or an exception: then the exact reading decides and words it."""
        if type(data) is not dict:
            raise UnsureError
        required, allowed = self.keys
        if not (required <= data.keys() and allowed >= data.keys()):
            raise UnsureError
        for key, check in self.checked.items():
            check(data[key], key)
        made = {key: build(data[key]) for key, build in self.built.items()}
        verdicts = data["verdicts"]
        if type(verdicts) is not dict or verdicts.keys() != set(SCENARIOS):
            raise UnsureError
        assessment = Assessment(
            cpu=made["cpu"], hypervisor=made["hypervisor"], virtualization=made["virtualization"],
            environment=made["environment"], nesting=made["nesting"], facts=made["facts"],
            proof=_proof_assessment(data["proof"]))
        verdict = self.verdict
        return _snapshot(data, self.leaves(data["snapshot"])), assessment, Verdicts(
            tuple(verdict(verdicts[s], scenario=s) for s in SCENARIOS), made["headline"])

    def leaves(self, snapshot: object) -> dict[tuple[int, int], Registers] | None:
        """The snapshot's rows, checked and built (None: checked exactly, built later)."""
        if self.os_check is None:
            return None
        if type(snapshot) is not dict or snapshot.keys() != {"cpuid", "os"}:
            raise UnsureError
        self.os_check(snapshot["os"], "snapshot.os")
        return _leaves(snapshot["cpuid"])


#: The fused reading, made on first use; None when the schema's shape has none.
_FUSED: list[_Fused | None] = []


def _fused(validator: Validator) -> _Fused | None:
    """The fused reading of the report schema (tests compare it with :func:`read_exactly`)."""
    if not _FUSED:
        try:
            _FUSED.append(_Fused(validator))
        except (UnsureError, LookupError, TypeError, ValueError, AttributeError):
            _FUSED.append(None)  # a schema of another shape: read the exact way only
    return _FUSED[0]


def read_report(data: object) -> Parts:
    """The parts of the Report a JSON report describes (``Report.from_dict`` says how
    strictly); :class:`ReportFormatError` naming the key otherwise."""
    validator = report_validator()
    version = validator.root["properties"]["schema_version"]["const"]
    if not isinstance(data, Mapping):
        raise ReportFormatError("expected a JSON object")
    if data.get("schema_version") != version or type(data.get("schema_version")) is not int:
        raise ReportFormatError(f"schema_version: expected {version}, found "
                                f"{data.get('schema_version', 'none')!r}")
    fused = _fused(validator)
    if fused is not None:
        try:
            return fused.read(data)
        except Exception:  # whatever it was, the exact reading words it
            pass
        finally:
            forget()
    return read_exactly(data, validator)
