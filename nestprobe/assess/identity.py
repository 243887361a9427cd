"""Identity: who the CPU is (assess/cpu.py) and which hypervisor answers (assess/hypervisor.py).

The two assessments live in their own modules; this one keeps the names callers import.
"""

from __future__ import annotations

from nestprobe.assess.cpu import BRAND, CPUINFO, MASK_READ, assess_cpu
from nestprobe.assess.hypervisor import HIDDEN_WITNESS_SOURCES, assess_hypervisor

__all__ = ["BRAND", "CPUINFO", "HIDDEN_WITNESS_SOURCES", "MASK_READ", "assess_cpu",
           "assess_hypervisor"]
