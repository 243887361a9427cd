"""CPUID dumps as other projects publish them (issue 18 item 11): the same leaves written as
Todd Allen's ``cpuid -r``, tycho's ``cpuid --dump`` and a Firecracker fingerprint, bare and
wrapped the way threads and mails carry them, read to the same table and the same answer.

The leaves are a KVM guest's, written here (KVM's signature ``KVMKVMKVM``, L-KVMPARA); the
layouts are the tools' own (tycho/cpuid ``cpuid.c`` ``cpuid_dump_normal``; Firecracker
``src/cpu-template-helper/src/fingerprint/mod.rs`` and its ``tests/data`` fingerprints).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nestprobe.model.errors import DumpFormatError
from nestprobe.model.snapshot import Registers
from nestprobe.pipeline import build_report
from nestprobe.sources.load import parse_snapshot

LEAVES: dict[tuple[int, int], Registers] = {
    (0x0, 0): Registers(0x0000000D, 0x756E6547, 0x6C65746E, 0x49656E69),
    (0x1, 0): Registers(0x000806EC, 0x00010800, 0xFEDA3203, 0x178BFBFF),
    (0x7, 0): Registers(0x00000000, 0x009C27AB, 0x00000000, 0x00000000),
    (0x40000000, 0): Registers(0x40000001, 0x4B4D564B, 0x564B4D56, 0x0000004D),
    (0x40000001, 0): Registers(0x01007AFB, 0x00000000, 0x00000000, 0x00000000),
    (0x80000000, 0): Registers(0x80000008, 0, 0, 0),
    (0x80000001, 0): Registers(0, 0, 0x00000121, 0x2C100800),
}


def cpuid_r() -> str:
    return "CPU 0:\n" + "".join(
        f"   0x{leaf:08x} 0x{sub:02x}: eax=0x{r.eax:08x} ebx=0x{r.ebx:08x} "
        f"ecx=0x{r.ecx:08x} edx=0x{r.edx:08x}\n" for (leaf, sub), r in LEAVES.items())


def _ascii(regs: Registers) -> str:
    raw = b"".join(v.to_bytes(4, "little") for v in regs)
    return "".join(chr(b) if 31 < b < 127 else "." for b in raw)


def tycho() -> str:
    return "CPU 0:\n" + "".join(
        f"CPUID {leaf:08x}:{sub:02x} = {r.eax:08x} {r.ebx:08x} {r.ecx:08x} {r.edx:08x} | "
        f"{_ascii(r)}\n" for (leaf, sub), r in LEAVES.items())


def firecracker(partial: bool = False) -> str:
    modifiers = []
    for (leaf, sub), regs in LEAVES.items():
        bitmaps = [f"0b{value:032b}" for value in regs]
        if partial:
            bitmaps = ["0b" + "x" * 31 + "0" for _ in regs]
        modifiers.append({"leaf": hex(leaf), "subleaf": hex(sub), "flags": 0, "modifiers": [
            {"register": name, "bitmap": bitmap}
            for name, bitmap in zip(("eax", "ebx", "ecx", "edx"), bitmaps, strict=True)]})
    return json.dumps({"firecracker_version": "1.7.0", "kernel_version": "6.1.0",
                       "microcode_version": "0x1", "bios_version": "1.0", "bios_revision": "1.0",
                       "guest_cpu_config": {"kvm_capabilities": [],
                                            "cpuid_modifiers": modifiers,
                                            "msr_modifiers": []}}, indent=2) + "\n"


FORMATS = {"cpuid-r": cpuid_r, "tycho-cpuid": tycho, "firecracker": firecracker}


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_reads_the_same_leaves(fmt: str) -> None:
    snapshot = parse_snapshot(FORMATS[fmt]())
    assert snapshot.origin.format == fmt
    assert dict(snapshot.cpuid.leaves) == LEAVES
    assert build_report(snapshot).assessment.hypervisor.vendor == "kvm"


_WRAP = st.sampled_from([
    ("", ""),
    ("$ cpuid -r -1\n", "$ \n"),
    ("=== BEGIN cpuid dump ===\n", "=== END cpuid dump ===\ntest passed\n"),
    ("Here is the guest's CPUID:\n\n```\n", "```\n\nThanks.\n"),
])


_PREFIX = st.sampled_from(["", "[   12.345678] ", "stdout: ", "2024-05-01T10:00:00Z host: "])


@settings(max_examples=40, deadline=None)
@given(fmt=st.sampled_from(sorted(FORMATS)), wrap=_WRAP, quote=st.integers(0, 2),
       crlf=st.booleans(), prefix=_PREFIX)
def test_wrappers_and_mail_quoting_change_nothing(
        fmt: str, wrap: tuple[str, str], quote: int, crlf: bool, prefix: str) -> None:
    body = FORMATS[fmt]()
    if fmt != "firecracker":  # a log's prefix before every line of a line format
        body = "".join(prefix + line for line in body.splitlines(keepends=True))
    text = wrap[0] + body + wrap[1]
    for _ in range(quote):
        text = "".join("> " + line for line in text.splitlines(keepends=True))
    if quote:
        text = ("On Mon, someone wrote:\n" + text + "\nThanks, this is what I see on my host "
                "too.\nIt fails the same way with every kernel I tried.\n-- \nA. Person\n"
                "Some Company\nhttps://example.org/\n" * 3)
    if crlf:
        text = text.replace("\n", "\r\n")
    assert dict(parse_snapshot(text).cpuid.leaves) == LEAVES


@pytest.mark.parametrize("fmt", FORMATS)
def test_two_records_of_one_leaf_that_disagree_name_both_lines(fmt: str) -> None:
    text = FORMATS[fmt]()
    if fmt == "firecracker":
        doc = json.loads(text)
        mods = doc["guest_cpu_config"]["cpuid_modifiers"]
        twin = json.loads(json.dumps(mods[1]))
        twin["modifiers"][0]["bitmap"] = "0b" + "1" * 32
        mods.append(twin)
        text = json.dumps(doc, indent=2)
    else:
        lines = text.splitlines()
        changed = lines[2].replace("000806ec", "000806ed")
        text = "\n".join([*lines, changed]) + "\n"
    with pytest.raises(DumpFormatError) as info:
        parse_snapshot(text, "d")
    message = str(info.value)
    assert "the earlier CPUID 0x1/0x0 on line" in message, message
    assert info.value.line is not None


def test_a_template_that_only_masks_bits_is_not_read_as_a_dump() -> None:
    with pytest.raises(DumpFormatError, match="only masks bits"):
        parse_snapshot(firecracker(partial=True), "t.json")


def test_a_cut_cpuid_r_record_is_refused_not_dropped() -> None:
    text = cpuid_r() + "   0x80000002 0x00: eax=0x6c6\n=== END ===\n"
    with pytest.raises(DumpFormatError) as info:
        parse_snapshot(text, "d")
    assert info.value.line == len(LEAVES) + 2


def test_an_aarch64_firecracker_fingerprint_is_named() -> None:
    text = json.dumps({"guest_cpu_config": {"kvm_capabilities": [], "reg_modifiers": [
        {"addr": "0x603000000013c020", "bitmap": "0b" + "0" * 64}], "vcpu_features": []}})
    with pytest.raises(DumpFormatError, match="aarch64 host"):
        parse_snapshot(text, "arm.json")
