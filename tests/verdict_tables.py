"""docs/verdicts.md's tables, rendered from the code (the docs test compares them).

After changing a rule, a condition, a remediation or an evidence table, run
``python tests/verdict_tables.py --write`` to rewrite the doc's generated section (without
``--write`` it prints the section).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from nestprobe.decode import cpumodels, hyperv, kvm, masks
from nestprobe.model.verdicts import SCENARIOS
from nestprobe.verdicts.conditions import CONDITIONS, GLOBAL_CONDITIONS
from nestprobe.verdicts.matrix import RULES
from nestprobe.verdicts.notes import GLOBAL_NOTES, NOTES
from nestprobe.verdicts.remediation import OPTION_GOALS, REMEDIATIONS

DOC = Path(__file__).resolve().parent.parent / "docs" / "verdicts.md"
START = "<!-- generated: tests/verdict_tables.py -->"
END = "<!-- end generated -->"
SHORT = {"hyperv": "HV", "wsl2": "WSL2", "hyperv-containers": "HVC", "azure-local": "AzL",
         "third-party": "3P"}


def _scenarios(names: Iterable[str]) -> str:
    names = tuple(names)
    return "all" if set(names) == set(SCENARIOS) else ", ".join(SHORT[n] for n in names)


def _when(when: Mapping[str, frozenset[object]]) -> str:
    if not when:
        return "-"
    return ", ".join(
        f"{name}={'|'.join(sorted(str(v) for v in values))}" for name, values in when.items())


def _ids(ids: Iterable[str]) -> str:
    ids = tuple(ids)
    return ", ".join(f"`{i}`" for i in ids) if ids else "-"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    out = [START, "", "### Rules, in evaluation order", "",
           "| # | rule | scenarios | status | when | remediation | options | source |",
           "|---|---|---|---|---|---|---|---|"]
    for n, rule in enumerate(RULES, 1):
        out.append(f"| {n} | `{rule.id}` | {_scenarios(rule.scenarios)} | {rule.status} | "
                   f"{_when(rule.when)} | {_ids(rule.remediation)} | {_ids(rule.options)} | "
                   f"{_cell(rule.source)} |")
    out += ["", "### Conditions (checks)", "",
            "Global (checked on every verdict they fit): " + _ids(GLOBAL_CONDITIONS) + ".", "",
            "| condition | scenarios | when | check | if unmet | fix | text | confirm | source |",
            "|---|---|---|---|---|---|---|---|---|"]
    for row in CONDITIONS.values():
        check = f"`{row.check}`" + (f" ({row.threshold})" if row.threshold else "")
        unmet = row.unmet_status or "-"
        if row.supersedes:
            unmet += " (its fix replaces the rule's)"
        out.append(f"| `{row.id}` | {_scenarios(row.scenarios)} | {_when(row.when)} | {check} "
                   f"| {unmet} | {_ids(row.unmet_fix)} | {_cell(row.text)} | "
                   f"{_cell(row.confirm)} | {_cell(row.source)} |")
    out += ["", "### Remediation", "", "| remediation | layer | where | source |",
            "|---|---|---|---|"]
    for rid, entry in REMEDIATIONS.items():
        out.append(f"| `{rid}` | {entry.layer} | {_cell(entry.where)} | {_cell(entry.source)} |")
    out += ["", "### Options for other goals", "", "| option | goal |", "|---|---|"]
    for rid, goal in OPTION_GOALS.items():
        out.append(f"| `{rid}` | {_cell(goal)} |")
    out += ["", "### Caveats", "",
            "Global: " + _ids(GLOBAL_NOTES) + ".", "",
            "| note | scenarios | when | text | source |", "|---|---|---|---|---|"]
    for note in NOTES.values():
        out.append(f"| `{note.id}` | {_scenarios(note.scenarios)} | {_when(note.when)} | "
                   f"{_cell(note.text)} | {_cell(note.source)} |")
    out += ["", "### Evidence tables", "",
            f"Features hypervisors hide with VT-x/AMD-V ({_cell(masks.MASK_SOURCE)}):", "",
            "| vendor | leaf | register | bit | name | cpuinfo flag |", "|---|---|---|---|---|---|"]
    for vendor, rows in (("Intel", masks.INTEL_MASK), ("AMD", masks.AMD_MASK)):
        for bit in rows:
            out.append(f"| {vendor} | {bit.leaf:#x} | {bit.register.upper()} | {bit.bit} | "
                       f"{bit.name} | `{bit.flag}` |")
    out += ["", f"Masked when at least {masks.INTEL_DECIDES} of Intel's nine (both of AMD's) are "
            "missing; native when as many are present.", "",
            "CPU series with VT-x/AMD-V on every SKU:", "", "| series | extension | source |",
            "|---|---|---|"]
    for series in cpumodels.SERIES:
        out.append(f"| {series.name} | {series.extension} | {_cell(series.source)} |")
    out += ["", "CPU generations (family/model) that shipped VT-x/AMD-V:", "",
            "| vendor | family | models | generation | SKUs | source |",
            "|---|---|---|---|---|---|"]
    for gen in cpumodels.GENERATIONS:
        models = "any" if gen.models is None else " ".join(f"{m:#x}" for m in sorted(gen.models))
        out.append(f"| {gen.vendor} | {gen.family:#x} | {models} | {gen.name} | {gen.coverage} "
                   f"| {_cell(gen.source)} |")
    out += ["", "CPU names only virtual CPUs carry:", "", "| pattern | product | source |",
            "|---|---|---|"]
    for model in cpumodels.VIRTUAL_MODELS:
        out.append(f"| `{_cell(model.pattern.pattern)}` | {model.product} | "
                   f"{_cell(model.source)} |")
    out += ["", "Who answers behind `Microsoft Hv` (0x40000002 defaults, service pack and "
            "number zero):", "", "| build | version | answers | source |", "|---|---|---|---|"]
    for emu in hyperv.EMULATORS:
        out.append(f"| {emu.build} | {emu.major}.{emu.minor} | {emu.product} | "
                   f"{_cell(emu.source)} |")
    features = ", ".join(f"{f:#010x}" for f in sorted(kvm.VIRTUALBOX_FEATURES))
    out += ["", f"VirtualBox's KVM provider: `KVMKVMKVM` with base+1 EAX in {{{features}}} "
            f"({_cell(kvm.VIRTUALBOX_SOURCE)}).", "", END]
    return "\n".join(out) + "\n"


def write(path: Path = DOC) -> None:
    text = path.read_text()
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1].removeprefix("\n")
    path.write_text(head + render() + tail)


if __name__ == "__main__":
    if "--write" in sys.argv:
        write()
    else:
        print(render(), end="")
