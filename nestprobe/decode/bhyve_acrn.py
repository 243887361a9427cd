"""bhyve and ACRN feature leaves (base+1) and ACRN's TSC leaf (base+0x10).

Source keys: L-BHYVE (arch/x86/kernel/cpu/bhyve.c), L-ACRN (arch/x86/include/asm/acrn.h,
Documentation/virt/acrn/cpuid.rst).
"""

from __future__ import annotations

from nestprobe.decode.bits import Field, LeafSpec, flag_table

BHYVE_FEATURES = LeafSpec(0x01, "bhyve.features", "L-BHYVE",
    flags=flag_table("eax", "L-BHYVE", {0: "CPUID_BHYVE_FEAT_EXT_DEST_ID"}))

ACRN_FEATURES = LeafSpec(0x01, "acrn.features", "L-ACRN",
    flags=flag_table("eax", "L-ACRN", {0: "ACRN_FEATURE_PRIVILEGED_VM"}))

ACRN_TIMING = LeafSpec(0x10, "acrn.timing", "L-ACRN",
    fields=(Field("eax", 0, 31, "tsc_khz", "L-ACRN"),))

BHYVE_LEAVES: tuple[LeafSpec, ...] = (BHYVE_FEATURES,)
ACRN_LEAVES: tuple[LeafSpec, ...] = (ACRN_FEATURES, ACRN_TIMING)
