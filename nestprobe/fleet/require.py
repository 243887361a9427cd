"""``--require SCENARIO=STATUS[,STATUS]``: what every machine must reach, for pipelines."""

from __future__ import annotations

from dataclasses import dataclass

from nestprobe.fleet.record import Machine, Result
from nestprobe.model.verdicts import SCENARIOS, STATUSES


@dataclass(frozen=True, slots=True)
class Requirement:
    scenario: str
    allowed: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.scenario}={','.join(self.allowed)}"

    def met_by(self, result: Result) -> bool:
        """An input that could not be read proves nothing, so it does not meet it."""
        return isinstance(result, Machine) and result.status(self.scenario) in self.allowed


def parse_requirement(text: str) -> Requirement:
    """``wsl2=supported`` or ``hyperv=supported,evaluation-only``; ValueError says why not."""
    scenario, sep, statuses = text.partition("=")
    if not sep or scenario not in SCENARIOS:
        raise ValueError(f"expected SCENARIO=STATUS with SCENARIO one of {', '.join(SCENARIOS)}")
    allowed = tuple(s.strip() for s in statuses.split(","))
    bad = [s for s in allowed if s not in STATUSES]
    if bad or not allowed:
        raise ValueError(f"unknown status {', '.join(bad) or '(none)'}; "
                         f"statuses: {', '.join(STATUSES)}")
    return Requirement(scenario, allowed)
