"""Verdict types: what each scenario's answer looks like, and its JSON shape.

One :class:`Verdict` per scenario; :class:`Verdicts` keeps them in the fixed
:data:`SCENARIOS` order so the report and the JSON list them the same way every time.
"""

from __future__ import annotations

from nestprobe.model.evidence import Evidence, EvidenceValue
from nestprobe.model.record import Record, settle
from nestprobe.model.typeshim import Iterator, Literal, get_args

Scenario = Literal["hyperv", "wsl2", "hyperv-containers", "azure-local", "third-party"]
#: Fixed report order: Microsoft's own scenarios first, then everything else.
SCENARIOS: tuple[Scenario, ...] = get_args(Scenario)
#: The Windows-only scenarios (Hyper-V role, WSL2, Hyper-V isolation, Azure Local).
WINDOWS_SCENARIOS: tuple[Scenario, ...] = ("hyperv", "wsl2", "hyperv-containers", "azure-local")

#: supported; evaluation-only; unsupported = may work, but nobody supports it;
#: blocked = cannot work as configured; unknown = the evidence does not decide.
Status = Literal["supported", "evaluation-only", "unsupported", "blocked", "unknown"]
STATUSES: tuple[Status, ...] = get_args(Status)

#: Where the change has to happen: the hypervisor this OS runs in, the cloud's
#: instance settings, this machine's firmware, this OS, or the OS that hosts this one
#: (WSL's Windows host, a container's host).
Layer = Literal["outer-hypervisor", "cloud", "firmware", "this-os", "host-os"]
LAYERS: tuple[Layer, ...] = get_args(Layer)

JsonDict = dict[str, object]


class Remediation(Record):
    """One change at one layer: who runs it and where, the exact steps, and the doc.

    ``goal`` is set on an *option*: a change for another goal than this verdict's (on a
    Hyper-V host, turning the hypervisor off so VirtualBox guests get nested VT-x),
    which a report must not present as something to fix.
    """

    layer: Layer
    where: str
    steps: tuple[str, ...]
    source: str
    goal: str | None = None
    id: str = ""  # the remediation table's key (verdicts/remediation.py); scripts match on it

    def to_dict(self) -> JsonDict:
        return {
            "id": self.id,
            "layer": self.layer,
            "where": self.where,
            "steps": list(self.steps),
            "source": self.source,
            "goal": self.goal,
        }


#: met: the evidence shows it holds; unmet: the evidence shows it does not (the verdict
#: then says so and brings the fix); unknown: to confirm, with where to look.
ConditionState = Literal["met", "unmet", "unknown"]
CONDITION_STATES: tuple[ConditionState, ...] = get_args(ConditionState)


class Condition(Record):
    """One documented prerequisite of a verdict, checked against the evidence where it can be.

    ``id`` names the row of the condition table (verdicts/conditions.py, docs/verdicts.md)
    that produced it; ``source`` is the document that states the prerequisite.
    """

    id: str
    text: str
    state: ConditionState = "unknown"
    evidence: tuple[Evidence, ...] = ()
    confirm: str | None = None  # where to look when the state is unknown
    source: str = ""

    def to_dict(self) -> JsonDict:
        evidence: list[dict[str, EvidenceValue]] = [e.to_dict() for e in self.evidence]
        return {"id": self.id, "text": self.text, "state": self.state, "evidence": evidence,
                "confirm": self.confirm, "source": self.source}


class Verdict(Record):
    """The answer for one scenario, with the evidence and the rule that produced it."""

    scenario: Scenario
    status: Status
    reasons: tuple[Evidence, ...]
    conditions: tuple[Condition, ...]
    caveats: tuple[str, ...]
    remediation: tuple[Remediation, ...]
    rule: str
    source: str
    options: tuple[Remediation, ...] = ()  # changes for other goals (each has a goal)

    def __init__(  # noqa: PLR0917 (the fields, in their order, as a record takes them)
        self, scenario: Scenario, status: Status, reasons: tuple[Evidence, ...],
        conditions: tuple[Condition, ...], caveats: tuple[str, ...],
        remediation: tuple[Remediation, ...], rule: str, source: str,
        options: tuple[Remediation, ...] = (),
    ) -> None:
        # Five a report, each ~5x as dear through the generic Record.__init__ (its keyword
        # walk and already-initialised test): a direct one, as Evidence's, storing what the
        # generic one would (a list given for a tuple frozen).
        setter = object.__setattr__
        setter(self, "scenario", scenario)
        setter(self, "status", status)
        setter(self, "reasons", reasons if type(reasons) is tuple else settle(reasons))
        setter(self, "conditions",
               conditions if type(conditions) is tuple else settle(conditions))
        setter(self, "caveats", caveats if type(caveats) is tuple else settle(caveats))
        setter(self, "remediation",
               remediation if type(remediation) is tuple else settle(remediation))
        setter(self, "rule", rule)
        setter(self, "source", source)
        setter(self, "options", options if type(options) is tuple else settle(options))

    @property
    def to_confirm(self) -> tuple[Condition, ...]:
        """The conditions the evidence could not decide: a status holds only if they do."""
        return tuple(c for c in self.conditions if c.state == "unknown")

    def to_dict(self) -> JsonDict:
        reasons: list[dict[str, EvidenceValue]] = [r.to_dict() for r in self.reasons]
        return {
            "status": self.status,
            "reasons": reasons,
            "conditions": [c.to_dict() for c in self.conditions],
            "caveats": list(self.caveats),
            "remediation": [r.to_dict() for r in self.remediation],
            "options": [r.to_dict() for r in self.options],
            "rule": self.rule,
            "source": self.source,
        }


#: Which case this machine is, decided once (verdicts/headline.py, as a function of the
#: matrix's Situation, in the matrix's order) and only rendered by output/answer.py: a CPU
#: emulator (an x86 emulator without a hypervisor, QEMU TCG with or without a software
#: VT-x), the WSL2 VM (VT-x reaches it, it does not, unknown), a Hyper-V root partition, an
#: L1VH partition, a root partition or a guest a paste cannot tell apart, Xen's dom0 (not
#: shown nested, or on another hypervisor), a Xen PV domU, exposure unknown (CPUID
#: unreadable, or no leaf 1 and no kernel flags), VT-x locked off by the outer hypervisor,
#: off in firmware, a CPU without it (per CPUID or the kernel), a hypervisor that hides
#: itself and does not pass VT-x, a guest whose hypervisor does not pass it, a guest or a
#: host VT-x reaches. A VM created here (``--prove``) decides first, whatever those say
#: (proof beats inference): it ran at CPU speed (``proven``; ``proven-software`` when this
#: CPU is itself emulated), it ran emulated (``proof-emulated``: never "can run VMs"), or it
#: failed where CPUID shows VT-x/AMD-V exposed (``proof-failed``).
HeadlineCase = Literal[
    "proven", "proven-software", "proof-emulated", "proof-failed",
    "x86-emulator", "emulated-software", "emulated", "wsl-nested", "wsl-no-nested", "wsl",
    "root-partition", "l1vh", "root-or-guest", "dom0", "dom0-nested", "xen-pv", "no-cpuid",
    "exposure-unknown", "locked-off", "firmware-off", "no-extension", "no-extension-kernel",
    "hidden", "not-passed", "guest", "host", "unknown",
]
HEADLINE_CASES: tuple[HeadlineCase, ...] = get_args(HeadlineCase)
#: The answer's first word: it can nest, it cannot, only in software, or cannot tell.
Answer = Literal["yes", "no", "software", "cannot-tell"]
#: What a root partition's host OS is, as sure as the facts are.
RootOs = Literal["windows", "windows-likely", "linux", "unknown"]
#: What shows a hypervisor that hides itself: the co-masked features on a CPU that has
#: VT-x/AMD-V, a CPU name only virtual CPUs carry, or VM-like CPUID exit latency.
HiddenBy = Literal["mask", "cpu-name", "timing"]


class Headline(Record):
    """The one-line answer as a typed value: its case, the layer where a change would have
    to happen (None when nothing needs to), the evidence that decided it, and the details
    the sentence words (decided with the case, so output/answer.py decides nothing)."""

    case: HeadlineCase
    answer: Answer
    layer: Layer | None = None
    evidence: tuple[Evidence, ...] = ()
    extension: str = "VT-x/AMD-V"  # "VT-x", "AMD-V": what this CPU's extension is called
    slat: bool = False  # SLAT reaches this OS with the extension
    nested: bool = False  # a root partition that itself runs inside a VM
    level_fixed: bool = False  # a host: the evidence fixes level 0 (else none is visible)
    confidential: str | None = None  # a guest not passed VT-x is a confidential VM
    pvm: bool = False  # /dev/kvm here is PVM software nesting
    home: bool = False  # Windows Home: no Hyper-V role, WSL2 runs
    root_os: RootOs = "unknown"
    hidden_by: HiddenBy = "timing"
    #: With a proof's case: the case CPUID and the OS facts alone give (what they claimed).
    claimed: HeadlineCase | None = None
    proof_ratio: float | None = None  # the created guest's loop time over this OS's
    #: A failed proof: the call that failed, with its error ("KVM_RUN", "KVM_CREATE_VM:
    #: EPERM"), and what the failure means (the entry failure reason, the suberror ...).
    proof_call: str | None = None
    proof_meaning: str | None = None
    #: The created guest's exits put a hypervisor below this OS that shows itself nowhere.
    hides_below: bool = False


class Verdicts(Record):
    """All scenarios' verdicts, in :data:`SCENARIOS` order, and the headline over them."""

    items: tuple[Verdict, ...]
    headline: Headline = Headline("unknown", "cannot-tell")

    def __post_init__(self) -> None:
        if tuple(v.scenario for v in self.items) != SCENARIOS:
            raise ValueError(f"verdicts must cover {SCENARIOS} in order")

    def __getitem__(self, scenario: Scenario) -> Verdict:
        for verdict in self.items:
            if verdict.scenario == scenario:
                return verdict
        raise KeyError(scenario)

    def __iter__(self) -> Iterator[Verdict]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def to_dict(self) -> dict[str, JsonDict]:
        return {v.scenario: v.to_dict() for v in self.items}
