"""The register-dump importers on the repository's own pastes (tests/fixtures/pastes/cpuid/):
one file per tool layout, written for these tests with register values taken from a corpus
dump (each file names it and its public source), so a clone without ../shared reads every
format. Each paste must give the registers of its source and the same verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DUMPS, OWN_PASTES, dump_path

import nestprobe
from nestprobe.model.errors import CpuNotInDumpError, DumpFormatError
from nestprobe.sources.importers.common import DumpText
from nestprobe.sources.importers.fragments import load_fragment, parse_fragment
from nestprobe.sources.load import IMPORTERS, load_snapshot

FOLDER = OWN_PASTES / "cpuid"

#: paste -> (format, the corpus dump its registers come from, logical CPUs in the paste)
PASTES: dict[str, tuple[str, str, int]] = {
    "cpuid-r-two-cpus.txt": ("cpuid-r", "rjcp-kvm-qnx-guest-nested-vmx-i7-6700T.xml.txt", 2),
    "cpuid-r-converted.txt": ("cpuid-r", "firecracker-t2.txt", 1),
    "aida64-two-cpus.txt": (
        "aida64", "instlatx64-hvroot-GenuineIntel00A0654_CometLake_CPUID.txt", 2),
    "rjcp-two-cpus.xml.txt": ("rjcp-xml", "rjcp-vmware-workstation-i7-6600U.xml.txt", 2),
    "icbook-report.txt": ("icbook", "manusov-vbox-HOST-asus-n750jk-baremetal.txt", 1),
    "hwloc-pu0.txt": ("hwloc", "hwloc-qemu-kvm-qemu64-pu0.txt", 1),
    "libcpuid-raw.txt": ("libcpuid", "libcpuid-qemu-cpu64-rhel6.txt", 1),
    "fragments-three-blocks.txt": (
        "fragments:A", "fragments-wsl2-qemuuser-hyperv-from-issues.txt", 1),
}


def paste(name: str) -> Path:
    return FOLDER / name


def test_the_table_covers_every_register_paste() -> None:
    assert {p.name for p in FOLDER.iterdir()} == {
        *PASTES, "cpuinfo-first-processor.txt", "cpuinfo-sections.txt"}


@pytest.mark.parametrize("name", sorted(PASTES))
def test_a_paste_gives_its_sources_registers_and_verdicts(name: str) -> None:
    fmt, source, _ = PASTES[name]
    got = load_snapshot(paste(name))
    assert got.origin.format == fmt
    want = load_snapshot(dump_path(source))  # the corpus file, or our snapshot of it
    assert got.cpuid
    recorded = dict(want.cpuid.items())  # as recorded, past the maximum leaf too
    for key, regs in got.cpuid.items():
        assert recorded.get(key) == regs, (name, key)
    mine, theirs = nestprobe.load(paste(name)), nestprobe.load(dump_path(source))
    assert [(v.scenario, v.status) for v in mine.verdicts] == [
        (v.scenario, v.status) for v in theirs.verdicts]
    assert mine.assessment.hypervisor.vendor == theirs.assessment.hypervisor.vendor


@pytest.mark.parametrize("name", sorted(PASTES))
def test_the_sniffers_pick_the_pastes_tool(name: str) -> None:
    """Each paste is taken by its own importer and by no earlier one in the dispatch order."""
    dump = DumpText.from_text(paste(name).read_text(encoding="utf-8"), name)
    first = next(i for i in IMPORTERS if i.sniff(dump))
    assert first.name == PASTES[name][0].split(":")[0]


@pytest.mark.parametrize("name", sorted(n for n, (_, _, cpus) in PASTES.items() if cpus > 1))
def test_each_logical_cpu_is_its_own(name: str) -> None:
    _, source, cpus = PASTES[name]
    zero, one = load_snapshot(paste(name), cpu=0), load_snapshot(paste(name), cpu=1)
    apic = [s.cpuid.get(1) for s in (zero, one)]
    assert apic[0] is not None
    assert apic[1] is not None
    assert apic[0][1] >> 24 != apic[1][1] >> 24  # CPUID.1:EBX[31:24], the initial APIC id
    with pytest.raises(CpuNotInDumpError):
        load_snapshot(paste(name), cpu=cpus)
    if (DUMPS / source).is_file():  # CPU 1 against the corpus itself
        corpus = dict(load_snapshot(DUMPS / source, cpu=1).cpuid.items())
        assert all(corpus.get(key) == regs for key, regs in one.cpuid.items())


@pytest.mark.parametrize("name", sorted(n for n, (_, _, cpus) in PASTES.items() if cpus == 1))
def test_a_one_cpu_paste_has_no_cpu_1(name: str) -> None:
    with pytest.raises(DumpFormatError):
        load_snapshot(paste(name), cpu=1)


def test_fragments_blocks_stay_apart() -> None:
    dump = DumpText.from_text(paste("fragments-three-blocks.txt").read_text(), "f.txt")
    flags = parse_fragment(dump, "B")
    assert flags.origin.format == "fragments:B"
    assert not flags.cpuid
    assert "hypervisor" in (flags.os.files["/proc/cpuinfo"].text or "")
    with pytest.raises(DumpFormatError, match="Hypervisor detected"):
        parse_fragment(dump, "C")
    with pytest.raises(DumpFormatError):
        parse_fragment(dump, "D")
    by_path = load_fragment(str(paste("fragments-three-blocks.txt")), "A")
    first = load_snapshot(paste("fragments-three-blocks.txt"))  # cpu 0: the first with registers
    assert by_path.cpuid == first.cpuid


def test_a_bare_cpuinfo_keeps_the_first_processor() -> None:
    snap = load_snapshot(paste("cpuinfo-first-processor.txt"))
    assert (snap.origin.format, snap.cpuid_status, snap.os.system) == (
        "cpuinfo", "absent", "Linux")
    text = snap.os.files["/proc/cpuinfo"].text or ""
    assert "i5-3317U" in text
    assert "processor\t: 1" not in text
    report = nestprobe.load(paste("cpuinfo-first-processor.txt"))
    assert report.assessment.hypervisor.hidden


def test_a_sectioned_cpuinfo_reads_only_its_cpuinfo_section() -> None:
    snap = load_snapshot(paste("cpuinfo-sections.txt"))
    assert (snap.origin.format, snap.cpuid_status) == ("cpuinfo", "absent")
    text = snap.os.files["/proc/cpuinfo"].text or ""
    assert "AMD EPYC 7R32" in text
    assert "not read by nestprobe" not in text  # the pci section is skipped
    hv = nestprobe.load(paste("cpuinfo-sections.txt")).assessment
    assert hv.hypervisor.detected
    assert hv.virtualization.exposed is False
