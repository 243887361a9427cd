"""The pipeline: one Snapshot in, one Report out (assessment + verdicts).

Live probes and replayed dumps take exactly this path, which is why a dump replayed
offline gives the same report as the live probe of the machine it came from.
"""

from __future__ import annotations

from dataclasses import dataclass

from nestprobe.assess.environment import assess_environment
from nestprobe.assess.hwvirt import assess_virtualization
from nestprobe.assess.identity import assess_cpu, assess_hypervisor
from nestprobe.assess.model import Assessment
from nestprobe.assess.nesting import assess_nesting
from nestprobe.snapshot import Snapshot
from nestprobe.verdicts.evaluate import evaluate
from nestprobe.verdicts.model import Verdicts


@dataclass(frozen=True, slots=True)
class Report:
    """What nestprobe concluded about one machine, and the snapshot it concluded it from."""

    snapshot: Snapshot
    assessment: Assessment
    verdicts: Verdicts

    def to_dict(self) -> dict[str, object]:
        """The JSON report, schema_version 1 (see nestprobe/output/report.schema.json)."""
        from nestprobe.output.jsonreport import report_to_dict

        return report_to_dict(self)


def assess(snapshot: Snapshot) -> Assessment:
    """Turn a snapshot into facts, each with its evidence."""
    hypervisor = assess_hypervisor(snapshot)
    return Assessment(
        cpu=assess_cpu(snapshot),
        hypervisor=hypervisor,
        virtualization=assess_virtualization(snapshot, hypervisor),
        environment=assess_environment(snapshot),
        nesting=assess_nesting(snapshot, hypervisor),
    )


def build_report(snapshot: Snapshot) -> Report:
    assessment = assess(snapshot)
    return Report(snapshot=snapshot, assessment=assessment, verdicts=evaluate(assessment))
