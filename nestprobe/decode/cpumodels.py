"""Which CPUs have VT-x/AMD-V, and which CPU names only virtual CPUs carry: cited tables.

Used as positive evidence only: a CPU of a series that has the extension, showing it
missing *together with* the features hypervisors hide (:mod:`nestprobe.decode.masks`),
is a guest whose hypervisor hides itself; a CPU name that no real part carries is a
virtual CPU. Neither table ever implies the firmware.

Source keys: INTEL-ARK, AMD-SPECS, L-INTELFAM, AMD-APM2, Q-CPU, FC-BRAND.

* Series (brand string): Intel ARK lists "Intel Virtualization Technology (VT-x): Yes" on
  every Core i3/i5/i7/i9 (Nehalem, 2008, onwards), Core Ultra and Core 3/5/7, and every
  family-6 Xeon; AMD's product pages list AMD-V ("AMD Virtualization") on every Ryzen,
  Ryzen Threadripper, EPYC, FX and Phenom. Pentium, Celeron, Atom and Core 2 vary by
  SKU and are not listed: their absence decides nothing.
* Generations (family/model): model numbers from Linux
  ``arch/x86/include/asm/intel-family.h``; every generation listed shipped VT-x
  (``most``: some SKUs lack it). AMD: AMD-V since family 0Fh revision F (AMD64 APM
  vol. 2, "Secure Virtual Machine"); every family from 10h on has it.
* Virtual-only names: QEMU ``target/i386/cpu.c`` ``builtin_x86_defs[].model_id``
  ("QEMU Virtual CPU version", "Common KVM processor", "Intel Xeon Processor
  (Cascadelake)", "AMD EPYC-Rome Processor" ...) and Firecracker's normalized brand
  ("Intel(R) Xeon(R) Processor @ 2.50GHz", "AMD EPYC"): real parts carry a model number
  ("Intel(R) Xeon(R) Gold 6248 CPU", "AMD EPYC 7763 64-Core Processor").
"""

from __future__ import annotations

from nestprobe.model.lazyre import LazyPattern, any_of, lazy_compile
from nestprobe.model.record import Record
from nestprobe.model.typeshim import Literal

Extension = Literal["vmx", "svm"]
Coverage = Literal["all", "most"]

#: Citations (keys defined in docs/sources.md).
ARK = "INTEL-ARK 'Intel Virtualization Technology (VT-x)' per SKU [U]"
AMD_PAGES = "AMD-SPECS 'AMD Virtualization' (AMD-V) per SKU [U]"
INTEL_FAMILY = "L-INTELFAM"
AMD_APM = "AMD-APM2 Secure Virtual Machine"
QEMU_MODELS = "Q-CPU builtin_x86_defs model_id"
FIRECRACKER = "FC-BRAND DEFAULT_BRAND_STRING"


#: Digits spelled out, for the literal forms of ``\d`` (model/lazyre.py: same_as).
DIGITS = "0123456789"


class Series(Record):
    """A brand-string series whose every SKU has the extension."""

    pattern: LazyPattern
    name: str
    extension: Extension
    source: str


SERIES: tuple[Series, ...] = (
    Series(lazy_compile(r"Core\(TM\) i[3579]-|Core\(TM\) i[3579] CPU", same_as=any_of(
        *(f"Core(TM) i{n}{tail}" for n in "3579" for tail in ("-", " CPU")))),
           "Intel Core i3/i5/i7/i9",
           "vmx", ARK),
    Series(lazy_compile(r"Core\(TM\) Ultra|Intel\(R\) Core\(TM\) [357] \d", same_as=any_of(
        "Core(TM) Ultra", *(f"Intel(R) Core(TM) {n} {d}" for n in "357" for d in DIGITS))),
           "Intel Core Ultra / Core 3/5/7", "vmx", ARK),
    Series(lazy_compile(r"Intel\(R\) Xeon\(R\)"), "Intel Xeon (family 6)", "vmx", ARK),
    Series(lazy_compile(r"AMD Ryzen"), "AMD Ryzen / Ryzen Threadripper", "svm", AMD_PAGES),
    Series(lazy_compile(r"AMD EPYC \d", same_as=any_of(*(f"AMD EPYC {d}" for d in DIGITS))),
           "AMD EPYC", "svm", AMD_PAGES),
    Series(lazy_compile(r"AMD FX\(tm\)|AMD FX-"), "AMD FX", "svm", AMD_PAGES),
    Series(lazy_compile(r"AMD Phenom"), "AMD Phenom", "svm", AMD_PAGES),
)


class Generation(Record):
    """CPU generations (vendor, family, models) that shipped the extension."""

    vendor: str  # CPUID leaf 0 vendor string
    family: int
    models: frozenset[int] | None  # None: every model of the family
    name: str
    extension: Extension
    coverage: Coverage
    source: str


def _intel(name: str, *models: int, coverage: Coverage = "all") -> Generation:
    return Generation("GenuineIntel", 6, frozenset(models), name, "vmx", coverage,
                      f"{INTEL_FAMILY}; {ARK}")


GENERATIONS: tuple[Generation, ...] = (
    _intel("Core 2 (Merom/Penryn)", 0x0F, 0x16, 0x17, 0x1D, coverage="most"),
    _intel("Nehalem", 0x1A, 0x1E, 0x1F, 0x2E),
    _intel("Westmere", 0x25, 0x2C, 0x2F),
    _intel("Sandy Bridge", 0x2A, 0x2D),
    _intel("Ivy Bridge", 0x3A, 0x3E),
    _intel("Haswell", 0x3C, 0x3F, 0x45, 0x46),
    _intel("Broadwell", 0x3D, 0x47, 0x4F, 0x56),
    _intel("Skylake", 0x4E, 0x5E, 0x55),
    _intel("Kaby/Coffee/Whiskey/Comet Lake", 0x8E, 0x9E, 0xA5, 0xA6),
    _intel("Cannon/Ice Lake", 0x66, 0x6A, 0x6C, 0x7D, 0x7E, 0x9D),
    _intel("Tiger/Rocket Lake", 0x8C, 0x8D, 0xA7),
    _intel("Alder/Raptor Lake", 0x97, 0x9A, 0xB7, 0xBA, 0xBF),
    _intel("Meteor/Arrow/Lunar Lake", 0xAA, 0xAC, 0xB5, 0xBD, 0xC5, 0xC6),
    _intel("Sapphire/Emerald/Granite Rapids", 0x8F, 0xCF, 0xAD, 0xAE),
    _intel("Atom Silvermont and later", 0x37, 0x4A, 0x4C, 0x4D, 0x5A, 0x5D, 0x5C, 0x5F,
           0x7A, 0x86, 0x96, 0x9C, 0xBE, 0xAF, 0xB6, coverage="most"),
    _intel("Xeon Phi (Knights Landing/Mill)", 0x57, 0x85),
    *(Generation("AuthenticAMD", fam, None, name, "svm", "all", AMD_APM) for fam, name in (
        (0x10, "K10"), (0x11, "Turion X2 Ultra"), (0x12, "Llano"), (0x14, "Bobcat"),
        (0x15, "Bulldozer family"), (0x16, "Jaguar/Puma"), (0x17, "Zen/Zen 2"),
        (0x19, "Zen 3/Zen 4"), (0x1A, "Zen 5"),
    )),
    Generation("HygonGenuine", 0x18, None, "Hygon Dhyana (Zen)", "svm", "all", AMD_APM),
)


class VirtualModel(Record):
    """A CPU name only a virtual CPU carries."""

    pattern: LazyPattern
    product: str
    source: str


VIRTUAL_MODELS: tuple[VirtualModel, ...] = (
    VirtualModel(lazy_compile(r"^QEMU Virtual CPU"), "QEMU (qemu64/qemu32 model)", QEMU_MODELS),
    VirtualModel(lazy_compile(r"^QEMU TCG CPU"), "QEMU (max model under TCG)", QEMU_MODELS),
    VirtualModel(lazy_compile(r"^Common (32-bit )?KVM processor", same_as=any_of(
        "Common KVM processor", "Common 32-bit KVM processor", start=True)),
                 "QEMU (kvm64/kvm32 model)", QEMU_MODELS),
    VirtualModel(lazy_compile(r"^Intel (Xeon|Core|Atom) Processor \(", same_as=any_of(
        *(f"Intel {name} Processor (" for name in ("Xeon", "Core", "Atom")), start=True)),
                 "QEMU (named Intel model)", QEMU_MODELS),
    VirtualModel(lazy_compile(r"^Intel Core i7 9xx \(Nehalem Class|^Westmere E56xx/L56xx/X56xx|"
                            r"^Intel Xeon E312xx \(Sandy Bridge|"
                            r"^Intel Xeon E3-12xx v2 \(Ivy Bridge|"
                            r"^Intel Core 2 Duo P9xxx \(Penryn|^Intel Celeron_4x0 \("),
                 "QEMU (named Intel model)", QEMU_MODELS),
    VirtualModel(lazy_compile(r"^AMD EPYC(-[A-Za-z]+)? Processor",
                              needles=("AMD EPYC-", "AMD EPYC Processor")),
                 "QEMU (named AMD EPYC model)", QEMU_MODELS),
    VirtualModel(lazy_compile(r"^AMD Opteron (240|22xx|23xx) \(Gen \d Class Opteron\)|"
                            r"^AMD Opteron 6[23]xx class CPU", needles=("AMD Opteron ",)),
                 "QEMU (named AMD Opteron model)", QEMU_MODELS),
    VirtualModel(lazy_compile(r"^Hygon Dhyana Processor"), "QEMU (named Hygon model)", QEMU_MODELS),
    VirtualModel(lazy_compile(r"^Intel\(R\) Xeon\(R\) Processor( @ [0-9.]+[MGT]Hz)?$",
                              needles=("Intel(R) Xeon(R) Processor",)),
                 "Firecracker (normalized brand)", FIRECRACKER),
    VirtualModel(lazy_compile(r"^AMD EPYC$"), "Firecracker (normalized brand)", FIRECRACKER),
)


def series_of(brand: str | None) -> Series | None:
    if not brand:
        return None
    return next((s for s in SERIES if s.pattern.found_in(brand)), None)


def generation_of(vendor: str | None, family: int | None, model: int | None) -> Generation | None:
    if vendor is None or family is None:
        return None
    for row in GENERATIONS:
        if row.vendor != vendor or row.family != family:
            continue
        if row.models is None or (model is not None and model in row.models):
            return row
    return None


def virtual_model(brand: str | None) -> VirtualModel | None:
    if not brand:
        return None
    return next((v for v in VIRTUAL_MODELS if v.pattern.found_in(brand)), None)
