"""AMD SVM: CPUID 0x8000000A (revision, ASIDs, EDX features by AMD's names).

Names: AMD APM Vol.3 App. E names as carried by VirtualBox ``X86_CPUID_SVM_FEATURE_EDX_*``
(VB-X86 [S]); bit numbers for the ones Linux defines checked against L-CPUFEAT word 15.
EAX/EBX layout: AMD-APM (not read, [U]); Linux reads EBX as the ASID count (L-SVM).
"""

from __future__ import annotations

from nestprobe.decode.bits import Field, LeafSpec, bit, flag_table
from nestprobe.decode.cpu import SVM_LEAF
from nestprobe.model.snapshot import Registers

EDX_SRC = "L-CPUFEAT word 15; VB-X86 [S]"

SVM_FEATURES = LeafSpec(
    SVM_LEAF, "svm", "AMD-APM Vol.3 App.E [U]; L-CPUFEAT",
    flags=flag_table("edx", EDX_SRC, {
        0: "NP", 1: "LbrVirt", 2: "SVML", 3: "NRIPS", 4: "TscRateMsr", 5: "VmcbClean",
        6: "FlushByAsid", 7: "DecodeAssists", 10: "PauseFilter", 12: "PauseFilterThreshold",
        13: "AVIC", 15: "VMSAVEvirt", 16: "VGIF", 17: "GMET", 18: "x2AVIC", 19: "SSSCheck",
        20: "SpecCtrl", 21: "ROGPT", 23: "HOST_MCE_OVERRIDE", 24: "TlbiCtl", 25: "VNMI",
        26: "IbsVirt", 27: "ExtLvtAvicAccessChg", 28: "NestedVirtVmcbAddrChk",
        29: "BusLockThreshold", 30: "IdleHltIntercept",
    }),
    fields=(
        Field("eax", 0, 7, "svm_revision", "AMD-APM [U]"),
        Field("ebx", 0, 31, "nasid", "AMD-APM [U]; L-SVM nasids"),
    ),
)


def npt(regs: Registers) -> bool:
    """Nested paging (AMD's SLAT): 0x8000000A EDX[0]."""
    return bit(regs.edx, 0)
