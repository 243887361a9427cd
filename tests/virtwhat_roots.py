"""virt-what's captured fake roots as nestprobe Snapshots.

Each ``../shared/corpus/virt-what/<env>.txt`` holds one virt-what test root (files
separated by ``=== FILE path`` lines, the virt-what expectation in a ``# TRUTH`` line;
corpus README §2). :func:`materialise` writes the files as they were into a directory,
and :func:`fixture_snapshot` reads that directory with the real
:func:`~nestprobe.sources.osfacts.collect_os_facts`.

Two conversions, both from captured data:

* ``sbin/dmidecode`` is a stub printing the captured ``dmidecode`` output. The probe
  never runs dmidecode; it reads ``/sys/class/dmi/id/*``, which the kernel fills from
  the same SMBIOS strings, so those fields are written as sysfs files.
* ``sbin/virt-what-cpuid-helper`` is a stub echoing the 0x40000000 signature the real
  helper printed. There is no CPUID dump in these roots, so :func:`synthetic_cpuid`
  builds a minimal table. **This table is the only synthesised part**:

  - leaf 0: max basic leaf 1, vendor from /proc/cpuinfo ``vendor_id`` (when 12 chars);
  - leaf 1: EAX family/model/stepping from /proc/cpuinfo; ECX[31] from its
    ``hypervisor`` flag, ECX[5] from ``vmx``; when the root has no cpuinfo ``flags``
    line at all, ECX[31] is set iff the helper printed a signature;
  - leaf 0x80000000 (max 0x80000001) and 0x80000001 ECX[2] from ``svm``;
  - one hypervisor base per signature the helper printed (0x40000000, 0x40000100, ...),
    with that signature and max leaf = the base itself (nothing further is claimed).
    Output shorter than 4 characters ("", "@", "?") is junk the helper read from a
    non-hypervisor leaf, not a signature; no hypervisor leaf is recorded for it.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from nestprobe.model.snapshot import CpuidTable, Registers, Snapshot
from nestprobe.sources.osfacts import collect_os_facts

FILE_SEPARATOR = re.compile(r"={3,} FILE ([^\n]*)\n")
TRUTH_LINE = re.compile(r"^# TRUTH .*?: '(.*)'$", re.MULTILINE)
#: The corpus marks where it cut /proc/cpuinfo after processor 0; not part of the file.
OMITTED_MARKER = "[... further processors omitted ...]\n"

#: dmidecode (DMI type, field) -> the sysfs file the kernel exposes for it
#: (drivers/firmware/dmi-id.c: DMI_SYS_VENDOR, DMI_PRODUCT_NAME, ...).
DMIDECODE_TO_SYSFS: dict[tuple[int, str], str] = {
    (0, "Vendor"): "bios_vendor",
    (0, "Version"): "bios_version",
    (1, "Manufacturer"): "sys_vendor",
    (1, "Product Name"): "product_name",
    (1, "Version"): "product_version",
    (2, "Manufacturer"): "board_vendor",
    (3, "Manufacturer"): "chassis_vendor",
    (3, "Asset Tag"): "chassis_asset_tag",
}
HANDLE_LINE = re.compile(r"^Handle 0x[0-9A-Fa-f]+, DMI type (\d+),")
MIN_SIGNATURE = 4


@dataclass(frozen=True, slots=True)
class Fixture:
    name: str
    truth: str  # virt-what's expected output, comma-separated facts ("" = bare metal)
    files: dict[str, bytes]

    def text(self, path: str) -> str | None:
        data = self.files.get(path)
        return None if data is None else data.decode("utf-8", errors="surrogateescape")


def fixture_names(corpus: Path) -> list[str]:
    return sorted(path.stem for path in corpus.glob("*.txt"))


def parse_fixture(path: Path) -> Fixture:
    raw = path.read_bytes().decode("utf-8", errors="surrogateescape")
    truth = TRUTH_LINE.search(raw)
    if truth is None:
        raise ValueError(f"{path}: no '# TRUTH' line")
    parts = FILE_SEPARATOR.split(raw)
    files: dict[str, bytes] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        text = body.replace(OMITTED_MARKER, "") if name == "proc/cpuinfo" else body
        files[name] = text.encode("utf-8", errors="surrogateescape")
    return Fixture(name=path.stem, truth=truth.group(1), files=files)


def heredoc(script: str) -> str:
    """The body of the stub's ``cat <<'EOF' ... EOF``, or "" when it prints nothing.

    The corpus cut long dmidecode captures short, losing the closing ``EOF``; the body
    then runs to the end of the file (the fields we use come first).
    """
    match = re.search(r"<<'?EOF'?\n(.*?)(?:^EOF$|\Z)", script, re.MULTILINE | re.DOTALL)
    return match.group(1) if match else ""


def dmi_from_dmidecode(output: str) -> dict[str, str]:
    """Captured ``dmidecode`` text -> ``{sysfs name: value}`` (first structure of a type)."""
    fields: dict[str, str] = {}
    dmi_type: int | None = None
    for line in output.splitlines():
        handle = HANDLE_LINE.match(line)
        if handle:
            dmi_type = int(handle.group(1))
            continue
        if dmi_type is None or not line.startswith("\t") or ":" not in line:
            continue
        key, _, value = line.strip("\t").partition(":")
        name = DMIDECODE_TO_SYSFS.get((dmi_type, key))
        if name is not None and name not in fields:
            fields[name] = value.removeprefix(" ")
    return fields


def echoed_lines(script: str) -> list[str]:
    """What a stub's ``echo`` lines print, one string per echo."""
    out: list[str] = []
    for line in script.splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0] == "echo":
            out.append(" ".join(words[1:]))
    return out


def cpuinfo_field(cpuinfo: str | None, key: str) -> str | None:
    for line in (cpuinfo or "").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip() == key:
            return value.strip()
    return None


def regs_from_text(text: str) -> tuple[int, int, int]:
    """12 characters -> the three little-endian registers CPUID returns them in."""
    raw = text.encode("latin-1").ljust(12, b"\0")[:12]
    return tuple(int.from_bytes(raw[i : i + 4], "little") for i in (0, 4, 8))  # type: ignore[return-value]


def leaf1_eax(cpuinfo: str | None) -> int:
    """Family/model/stepping re-encoded the way CPUID.1:EAX carries them."""
    try:
        family = int(cpuinfo_field(cpuinfo, "cpu family") or "0")
        model = int(cpuinfo_field(cpuinfo, "model") or "0")
        stepping = int(cpuinfo_field(cpuinfo, "stepping") or "0")
    except ValueError:
        return 0
    base_family, ext_family = (family, 0) if family < 0xF else (0xF, family - 0xF)
    return ((ext_family & 0xFF) << 20 | (model >> 4 & 0xF) << 16 | (base_family & 0xF) << 8
            | (model & 0xF) << 4 | (stepping & 0xF))


def synthetic_cpuid(cpuinfo: str | None, signatures: list[str]) -> CpuidTable:
    """The minimal CPUID table these roots imply (see the module docstring)."""
    signatures = [s for s in signatures if len(s) >= MIN_SIGNATURE]
    flags_line = cpuinfo_field(cpuinfo, "flags")
    flags = set((flags_line or "").split())
    hypervisor = "hypervisor" in flags if flags_line is not None else bool(signatures)

    vendor = cpuinfo_field(cpuinfo, "vendor_id") or ""
    b, c, d = regs_from_text(vendor) if len(vendor) == 12 else (0, 0, 0)
    # Leaf 0 orders the vendor EBX, EDX, ECX: "Genu" "ineI" "ntel".
    leaves: dict[tuple[int, int], Registers] = {(0, 0): Registers(1, b, d, c)}
    ecx1 = (1 << 31 if hypervisor else 0) | (1 << 5 if "vmx" in flags else 0)
    leaves[(1, 0)] = Registers(leaf1_eax(cpuinfo), 0, ecx1, 0)
    leaves[(0x80000000, 0)] = Registers(0x80000001, 0, 0, 0)
    leaves[(0x80000001, 0)] = Registers(0, 0, 1 << 2 if "svm" in flags else 0, 0)
    for index, signature in enumerate(signatures):
        base = 0x40000000 + 0x100 * index
        leaves[(base, 0)] = Registers(base, *regs_from_text(signature))
    return CpuidTable(leaves)


def materialise(fixture: Fixture, root: Path) -> None:
    """Write the fixture's files as they were, plus its DMI as sysfs files."""
    for name, data in fixture.files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    dmi = dmi_from_dmidecode(heredoc(fixture.text("sbin/dmidecode") or ""))
    if dmi:
        sysfs = root / "sys/class/dmi/id"
        sysfs.mkdir(parents=True, exist_ok=True)
        for name, value in dmi.items():
            (sysfs / name).write_text(value + "\n")


def fixture_machine(fixture: Fixture) -> str:
    printed = echoed_lines(fixture.text("sbin/uname") or "")
    return printed[0] if printed else "unknown"


def fixture_snapshot(fixture: Fixture, root: Path) -> Snapshot:
    """Materialise ``fixture`` under ``root`` and read it back as the probe would."""
    materialise(fixture, root)
    facts = collect_os_facts(root, system="Linux", machine=fixture_machine(fixture), kvm=False)
    signatures = echoed_lines(fixture.text("sbin/virt-what-cpuid-helper") or "")
    return Snapshot(
        cpuid_status="ok",
        cpuid=synthetic_cpuid(fixture.text("proc/cpuinfo"), signatures),
        os=facts,
    )
