"""A report imports the Windows modules and a vendor's CPUID decoders only when its input
needs them (issue 21, cold start).

Each case assesses one of the repository's own fixtures in a fresh interpreter, as a user
gets its report (``nestprobe.load`` and the text report), and lists the modules that run
imported. Every module asserted absent for one input is asserted present for another, so
the test fails both ways: a gate that never opens breaks the Windows and vendor cases, an
eager import the Linux ones. Which test decides the gate: OsFacts.holds_windows_facts
(model/snapshot.py) and the signatures or leaves in the CPUID table (tests/assess/
test_lazy_gates.py checks that they leave nothing out).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES

#: The modules only a snapshot with Windows facts reads.
WINDOWS_ONLY = frozenset({
    "nestprobe.decode.winpaths", "nestprobe.decode.winbuild", "nestprobe.decode.winreport",
    "nestprobe.assess.windows", "nestprobe.verdicts.windows", "nestprobe.verdicts.winsituation",
})
HYPERV = frozenset({"nestprobe.decode.hyperv", "nestprobe.assess.hyperv"})
#: Vendor and feature decoders, by what brings them in.
VMWARE = frozenset({"nestprobe.decode.vmware"})
KVM = frozenset({"nestprobe.decode.kvm"})
AMD = frozenset({"nestprobe.decode.svm", "nestprobe.decode.confidential"})
XEN = frozenset({"nestprobe.decode.xen"})

#: input -> (modules it must import, modules it must not).
CASES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # Linux on KVM (Intel): KVM's decoder only.
    "linux/aws-kvm-c5large-dmi.dump": (KVM, WINDOWS_ONLY | HYPERV | VMWARE | AMD | XEN),
    # CPUID alone (system unknown) with Microsoft's signature: Hyper-V's, nothing Windows'.
    "corpus/azure-hyperv-guest-nested-vmx.dump": (HYPERV, WINDOWS_ONLY | KVM | VMWARE | XEN),
    # A systeminfo paste: Windows' modules, no CPUID decoder.
    "pastes/windows/systeminfo-hvroot-en.txt": (WINDOWS_ONLY, HYPERV | KVM | VMWARE | AMD),
    # A dump holding the live Windows facts (registry, Win32) of a Hyper-V guest.
    "windows/win11-home-hyperv-vm-nested.dump": (WINDOWS_ONLY | HYPERV, KVM | VMWARE | AMD),
    # VMware's signature (with its Hv#1 enlightenments).
    "corpus/rjcp-vmware-workstation-i7-6700K.xml.dump": (VMWARE | HYPERV, WINDOWS_ONLY | KVM),
    # A KVM guest on AMD: the SVM and SEV leaves are in range.
    "corpus/firecracker-fingerprint-AMD_MILAN_6.1host.dump": (KVM | AMD, WINDOWS_ONLY | HYPERV),
    # Xen's signature.
    "corpus/aws-xen-c3large.dump": (XEN, WINDOWS_ONLY | KVM | HYPERV),
}

CHILD = """
import sys
import nestprobe
from nestprobe.output.text import render_text
render_text(nestprobe.load(sys.argv[1]), width=80, colour=False)
print(" ".join(sorted(m for m in sys.modules if m.startswith("nestprobe."))))
"""


def imported_by(path: Path) -> set[str]:
    """The nestprobe modules a fresh interpreter imports to report on ``path``."""
    done = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True,
                          text=True, check=True, timeout=120)
    return set(done.stdout.split())


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_report_imports_what_its_input_needs(name: str) -> None:
    path = FIXTURES / name
    if not path.is_file():
        pytest.skip(f"fixture {name} is not beside these tests")
    wanted, unwanted = CASES[name]
    imported = imported_by(path)
    assert wanted <= imported, f"not imported: {sorted(wanted - imported)}"
    assert not imported & unwanted, f"imported needlessly: {sorted(imported & unwanted)}"


def test_every_module_kept_out_is_brought_in_by_some_input() -> None:
    """The cases can fail both ways: nothing is only ever asserted absent."""
    absent = set().union(*(unwanted for _, unwanted in CASES.values()))
    present = set().union(*(wanted for wanted, _ in CASES.values()))
    assert absent <= present


WARMED_CHILD = """
import sys
import nestprobe
from nestprobe import pipeline
from nestprobe.output.jsonreport import report_to_dict
from nestprobe.output.text import render_text
pipeline.warm_up()
before = set(sys.modules)
for path in sys.argv[1:]:
    try:
        report = nestprobe.load(path)
    except nestprobe.NestprobeError:
        continue
    report_to_dict(report)
    render_text(report, width=80, colour=False)
print(" ".join(sorted(m for m in set(sys.modules) - before if m.startswith("nestprobe."))))
"""


def test_warm_up_leaves_no_input_anything_to_import() -> None:
    """fleet imports the report path once before forking (fleet/pool.py): no worker may
    import a lazily loaded reader itself, after gc.freeze and in its own memory."""
    inputs = sorted(str(p) for p in FIXTURES.rglob("*") if p.is_file() and
                    p.suffix in (".dump", ".txt", ".json", ".xml", ".log"))
    assert len(inputs) > 50, "the fixtures are beside these tests"
    done = subprocess.run([sys.executable, "-c", WARMED_CHILD, *inputs], capture_output=True,
                          text=True, check=True, timeout=600)
    assert done.stdout.split() == []
