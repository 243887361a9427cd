"""The Windows pseudo-paths the decoders and assessments read.

The vocabulary lives in the model (:mod:`nestprobe.model.oskeys`, with the list a Windows
probe records and the Linux files); this module names the read-back keys for the decoders,
as decode/dmi.py spells the Linux DMI files. Paste importers record their own prefixes
(``systeminfo:``, ``coreinfo:``, ``get-computerinfo:``, ``msinfo32:``; decode/winreport.py).
"""

from __future__ import annotations

from nestprobe.model.oskeys import (
    ACTIVE_PROCESSORS,
    BCD_LAUNCH,
    BIOS_KEY,
    BIOS_VALUES,
    CURRENT_BUILD,
    CURRENT_VERSION,
    DEVICE_GUARD,
    DISPLAY_VERSION,
    EDITION_ID,
    GUEST_HOST_NAME,
    GUEST_KEY,
    GUEST_PHYSICAL_HOST,
    GUEST_VM_NAME,
    HVCI,
    INSTALLATION_TYPE,
    NATIVE_ARCH,
    PF_FIRMWARE,
    PF_SLAT,
    PRODUCT_NAME,
    READ_PATHS,
    RSMB,
    SERVICE_COMPONENTS,
    SERVICES,
    TOTAL_PHYS,
    UBR,
    VBS,
    WINE_KEY,
    WINE_VERSION,
    bios_value,
    service,
)
from nestprobe.model.snapshot import OsFacts

__all__ = [
    "ACTIVE_PROCESSORS", "BCD_LAUNCH", "BIOS_KEY", "BIOS_VALUES", "CURRENT_BUILD",
    "CURRENT_VERSION", "DEVICE_GUARD", "DISPLAY_VERSION", "EDITION_ID", "GUEST_HOST_NAME",
    "GUEST_KEY", "GUEST_PHYSICAL_HOST", "GUEST_VM_NAME", "HVCI", "INSTALLATION_TYPE",
    "NATIVE_ARCH", "PF_FIRMWARE", "PF_SLAT", "PRODUCT_NAME", "READ_PATHS", "RSMB",
    "SERVICES", "SERVICE_COMPONENTS", "TOTAL_PHYS", "UBR", "VBS", "WINE_KEY", "WINE_VERSION",
    "bios_value", "service", "under_wine",
]


def under_wine(facts: OsFacts) -> bool:
    """Whether recorded Windows facts come from wine (its key or its ntdll export)."""
    return facts.state(WINE_KEY) == "dir" or facts.state(WINE_VERSION) == "ok"
