"""Readiness: may an installer go ahead now, after steps in this OS, or only once someone
else confirms? Read from a finished :class:`Verdict` (its status, conditions and
remediation records), never from evidence.

``supported`` today also covers "if confirmed" and "once this Windows is set up". For a
supported verdict, every condition that is not met is settled by one of:

- a step in this OS: a remediation of the verdict at layer ``this-os`` (enable the
  feature, launch the hypervisor), or, for a condition this OS fixes but the verdict
  brings no remediation for, its own confirm command with the fix that settles it;
- another layer or a person: the outer hypervisor, the cloud, the firmware, the OS that
  hosts this one, or someone who knows the machine (which OS a dump came from, the
  hardware catalog, a hypervisor hidden below).

``ready``: nothing is left. ``after-steps``: only steps in this OS are. ``needs-confirmation``:
something only another layer or a person can confirm. ``not-supported``: the status is
not ``supported`` (the status and its exit code say what it is).
"""

from __future__ import annotations

from nestprobe.model.record import Record
from nestprobe.model.typeshim import Literal, get_args
from nestprobe.model.verdicts import Condition, ConditionState, JsonDict, Layer, Verdict
from nestprobe.verdicts.remediation import REMEDIATIONS

ReadinessState = Literal["ready", "after-steps", "needs-confirmation", "not-supported"]
READINESS_STATES: tuple[ReadinessState, ...] = get_args(ReadinessState)
#: Who must act on a pending condition: a layer, or a person who knows the machine.
Confirmer = Layer | Literal["person"]


class Settle(Record):
    """How one condition (by id, verdicts/conditions.py) is settled when it is not met.

    ``layer`` is where a change would have to happen if the condition turns out unmet;
    ``this-os`` with a ``fix`` means steps in this OS settle it (``settled_by``: the
    remediation ids that do, when the verdict carries one). ``elevated`` is whether the
    confirm command needs an administrator (bcdedit, Get-WindowsOptionalFeature).
    ``advisory``: the condition does not gate the scenario itself.
    """

    layer: Confirmer
    fix: str | None = None
    settled_by: tuple[str, ...] = ()
    elevated: bool = False
    advisory: bool = False


_HV_LAUNCH = ("windows-hypervisor-launch", "windows-vm-platform")
#: Every condition id of verdicts/conditions.py (tests/verdicts/test_readiness.py keeps them equal).
#: An id missing here counts as "a person must confirm": never "ready" by omission.
SETTLE: dict[str, Settle] = {
    "hyperv-host-intel": Settle("outer-hypervisor"),
    "hyperv-host-amd": Settle("outer-hypervisor"),
    # "Hyper-V itself runs here either way": it concerns this host's own VMs' nesting.
    "hyperv-host-amd-own-vms": Settle("this-os", advisory=True),
    "vm-version-intel": Settle("outer-hypervisor"),
    "vm-version-amd": Settle("outer-hypervisor"),
    "outer-is-hyperv": Settle("outer-hypervisor"),
    "azure-standard": Settle("cloud"),
    "azure-size": Settle("cloud"),
    "aws-nested-enabled": Settle("cloud"),
    "gcp-nested-enabled": Settle("cloud"),
    "ws2019-vcpus": Settle("outer-hypervisor"),
    # The memory and processors assigned: the host's setting in a VM, the hardware outside one.
    "container-host-memory": Settle("person"),
    "container-host-vcpus": Settle("person"),
    "hypervisor-launches": Settle("this-os", fix="windows-hypervisor-launch",
                                  settled_by=_HV_LAUNCH, elevated=True),
    # Readable in this OS (winver), but Home or a pre-WSL2 build is not fixed by a script.
    "windows-edition": Settle("this-os"),
    "windows-wsl2-build": Settle("this-os"),
    # A release (and 64-bit Windows) no script in this OS changes: upgrade or reinstall.
    "windows-hyperv-build": Settle("this-os"),
    "windows-containers-build": Settle("this-os"),
    "nested-guest-build": Settle("this-os"),
    # The machine's memory: Azure Local needs 32 GB per node (hardware, not a script).
    "azure-local-memory": Settle("person"),
    # The host's Dynamic Memory setting for this VM (Set-VMMemory there).
    "hyperv-dynamic-memory": Settle("outer-hypervisor", advisory=True),
    "wsl-installed": Settle("this-os", fix="windows-wsl-install",
                            settled_by=("windows-wsl-install", "windows-wsl-manual")),
    "firmware-enabled": Settle("firmware"),
    "root-partition-or-guest": Settle("person"),
    "hyperv-role": Settle("this-os", fix="windows-enable-hyperv", elevated=True,
                          settled_by=("windows-enable-hyperv", "windows-install-hyperv-server",
                                      "windows-upgrade-edition")),
    # wsl --install and the manual steps enable the Virtual Machine Platform too.
    "vm-platform": Settle("this-os", fix="windows-vm-platform", elevated=True,
                          settled_by=("windows-vm-platform", "windows-wsl-install",
                                      "windows-wsl-manual")),
    "slat": Settle("person"),
    "validated-hardware": Settle("person"),
    "no-hidden-hypervisor": Settle("person"),
    "kvm-device": Settle("this-os", fix="kvm-access", settled_by=("kvm-access", "kvm-module")),
    "wsl-windows-11": Settle("host-os"),
    "windows-here": Settle("person"),
    "not-wsl-utility-vm": Settle("person"),
}
_UNLISTED = Settle("person")


class Needs(Record):
    elevated: bool
    restart: bool  # a restart (or, for kvm-access, a new login) before it takes effect


#: Every this-os remediation id of verdicts/remediation.py that is an action: whether it
#: runs elevated and needs a restart (each entry's ``where`` says so in words).
STEP_NEEDS: dict[str, Needs] = {
    "windows-upgrade-edition": Needs(elevated=True, restart=True),
    "windows-enable-hyperv": Needs(elevated=True, restart=True),
    "windows-install-hyperv-server": Needs(elevated=True, restart=True),
    "windows-hypervisor-launch": Needs(elevated=True, restart=True),
    "windows-wsl-install": Needs(elevated=True, restart=True),
    "windows-wsl-manual": Needs(elevated=True, restart=True),
    "windows-vm-platform": Needs(elevated=True, restart=True),
    "windows-hypervisor-platform": Needs(elevated=True, restart=True),
    "windows-enable-containers": Needs(elevated=True, restart=True),
    "windows-install-containers-server": Needs(elevated=True, restart=True),
    "windows-feature-update": Needs(elevated=True, restart=True),
    "windows-client-reinstall": Needs(elevated=True, restart=True),
    "windows-server-upgrade": Needs(elevated=True, restart=True),
    "kvm-access": Needs(elevated=True, restart=True),
    "kvm-module": Needs(elevated=True, restart=False),
}
#: this-os entries that explain rather than change anything: never a step.
EXPLANATIONS = frozenset({"pvm-explain", "xen-dom0"})
_UNKNOWN_STEP = Needs(elevated=True, restart=True)  # assume the most an unlisted step may need


class Step(Record):
    """One thing to do in this OS. ``kind`` ``do``: a remediation of the verdict (``id`` is
    its remediation id); ``settle``: a condition (``id``) that no remediation covers —
    run its confirm command, and ``fix`` (a remediation id) if it is not met."""

    kind: Literal["do", "settle"]  # settle: confirm (when unknown), then ``fix``'s steps
    id: str
    conditions: tuple[str, ...]  # the conditions it settles (none: a step no check covers)
    where: str
    commands: tuple[str, ...]
    elevated: bool
    restart: bool
    fix: str | None = None

    def to_dict(self) -> JsonDict:
        return {"kind": self.kind, "id": self.id, "conditions": list(self.conditions),
                "where": self.where, "commands": list(self.commands),
                "elevated": self.elevated, "restart": self.restart, "fix": self.fix}


class Pending(Record):
    """What only another layer or a person can confirm or change: a condition (``id`` its
    condition id), or a remediation of the verdict at another layer (its remediation id)."""

    kind: Literal["condition", "remediation"]
    id: str
    state: ConditionState
    layer: Confirmer
    confirm: str | None  # where to look (a remediation: who runs it, where)

    def to_dict(self) -> JsonDict:
        return {"kind": self.kind, "id": self.id, "state": self.state, "layer": self.layer,
                "confirm": self.confirm}


class Readiness(Record):
    state: ReadinessState
    steps: tuple[Step, ...] = ()
    pending: tuple[Pending, ...] = ()

    @property
    def elevated(self) -> bool:
        return any(s.elevated for s in self.steps)

    @property
    def restart(self) -> bool:
        return any(s.restart for s in self.steps)

    def to_dict(self) -> JsonDict:
        return {"state": self.state, "elevated": self.elevated, "restart": self.restart,
                "steps": [s.to_dict() for s in self.steps],
                "pending": [p.to_dict() for p in self.pending]}


def _pending(condition: Condition, layer: Confirmer) -> Pending:
    return Pending(kind="condition", id=condition.id, state=condition.state, layer=layer,
                   confirm=condition.confirm)


def readiness(verdict: Verdict) -> Readiness:
    """How far from "go ahead" ``verdict`` is, from its records alone."""
    if verdict.status != "supported":
        return Readiness("not-supported")
    actions = [r for r in verdict.remediation
               if r.layer == "this-os" and r.id not in EXPLANATIONS]
    covered: dict[str, list[str]] = {r.id: [] for r in actions}
    settle_steps: list[Step] = []
    pending: list[Pending] = []
    for condition in verdict.conditions:
        if condition.state == "met":
            continue
        rule = SETTLE.get(condition.id, _UNLISTED)
        if rule.advisory:
            continue
        if rule.layer != "this-os" or rule.fix is None:
            pending.append(_pending(condition, rule.layer))
            continue
        by = next((rid for rid in rule.settled_by if rid in covered), None)
        if by is not None:
            covered[by].append(condition.id)
            continue
        # No remediation of the verdict covers it: confirm it (when unknown), then the fix.
        needs = STEP_NEEDS.get(rule.fix, _UNKNOWN_STEP)
        fix = REMEDIATIONS[rule.fix]
        check = (condition.confirm,) if condition.state == "unknown" and condition.confirm else ()
        settle_steps.append(Step(
            kind="settle", id=condition.id, conditions=(condition.id,), where=fix.where,
            commands=(*check, *fix.steps), elevated=rule.elevated or needs.elevated,
            restart=needs.restart, fix=rule.fix))
    # Another layer's remediation on a supported verdict is something only it can do.
    pending += [Pending(kind="remediation", id=r.id, state="unknown", layer=r.layer,
                       confirm=r.where)
                for r in verdict.remediation if r.layer != "this-os"]
    steps = [Step(kind="do", id=r.id, conditions=tuple(covered[r.id]), where=r.where,
                  commands=r.steps, elevated=STEP_NEEDS.get(r.id, _UNKNOWN_STEP).elevated,
                  restart=STEP_NEEDS.get(r.id, _UNKNOWN_STEP).restart) for r in actions]
    steps += settle_steps
    if pending:
        return Readiness("needs-confirmation", tuple(steps), tuple(pending))
    return Readiness("after-steps" if steps else "ready", tuple(steps))
