"""What the fleet adds up to: verdict counts, fixes grouped by layer and where, the
inputs that could not be read, and the machines that fall short of each requirement.

Built one result at a time, so machines stream past without being kept (beyond the names
an output shows: :class:`Names`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nestprobe.fleet.record import Fix, Machine, Result, Unreadable
from nestprobe.fleet.require import Requirement
from nestprobe.model.verdicts import LAYERS, SCENARIOS, STATUSES


@dataclass(slots=True)
class Names:
    """Machines counted, and named up to ``keep`` (None: every one): an output that shows
    twenty names needs no list of 100,000."""

    keep: int | None = None
    count: int = 0
    names: list[str] = field(default_factory=list)

    def add(self, name: str) -> None:
        self.count += 1
        if self.keep is None or len(self.names) < self.keep:
            self.names.append(name)


@dataclass(slots=True)
class FixGroup:
    """One change at one place, with the machines that need it and what it unblocks."""

    fix: Fix
    machines: Names
    scenarios: set[str] = field(default_factory=set)
    last: str | None = None  # the machine counted last (one fix may serve several verdicts)


@dataclass(slots=True)
class Summary:
    requirements: tuple[Requirement, ...] = ()
    keep: int | None = None  # machines named per fix and per requirement (None: all)
    machines: int = 0
    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: {s: dict.fromkeys(STATUSES, 0) for s in SCENARIOS}
    )
    groups: dict[Fix, FixGroup] = field(default_factory=dict)
    unreadable: list[Unreadable] = field(default_factory=list)
    short: dict[Requirement, Names] = field(default_factory=dict)

    def add(self, result: Result) -> None:
        for req in self.requirements:
            if not req.met_by(result):
                short = self.short.get(req)
                if short is None:
                    short = self.short[req] = Names(self.keep)
                short.add(result.machine)
        if isinstance(result, Unreadable):
            self.unreadable.append(result)
            return
        self.machines += 1
        for scenario, status in result.metrics.verdicts:
            self.counts[scenario][status] += 1
        self._add_fixes(result)

    def _add_fixes(self, machine: Machine) -> None:
        for scenario, fix in machine.fixes:
            group = self.groups.get(fix)
            if group is None:
                group = self.groups[fix] = FixGroup(fix, Names(self.keep))
            group.scenarios.add(scenario)
            if group.last != machine.machine:
                group.last = machine.machine
                group.machines.add(machine.machine)

    def ordered_groups(self) -> list[FixGroup]:
        """By layer (outer hypervisor first), then the most machines, then where."""
        return sorted(self.groups.values(), key=lambda g: (
            LAYERS.index(g.fix.layer) if g.fix.layer in LAYERS else len(LAYERS),
            -g.machines.count, g.fix.where, g.fix.steps))

    @property
    def failed(self) -> bool:
        """Some machine falls short of some requirement."""
        return any(names.count for names in self.short.values())
