"""Can this machine's /dev/kvm run a standard guest with hardware virtualization?

Not when it is backed by kvm_pvm (software nesting: it runs PVM-enabled guest kernels
only, which a Debian kernel is not) or when no VMX/SVM backend is loaded.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from nestprobe.model.snapshot import KVM_API_VERSION
from nestprobe.sources.kvmdev import KVM_CREATE_VM, KVM_GET_API_VERSION

KVM = Path("/dev/kvm")
BACKENDS = ("kvm_intel", "kvm_amd")
MODULES = Path("/sys/module")


def blocker() -> str | None:  # noqa: PLR0911 (a case table, read top to bottom)
    """Why a standard KVM guest cannot boot here, or None when one can."""
    if (MODULES / "kvm_pvm").is_dir():
        return ("/dev/kvm is backed by kvm_pvm (software nesting that runs only "
                "PVM-enabled guest kernels), not by VMX/SVM")
    if not KVM.exists():
        return "no /dev/kvm"
    if not any((MODULES / name).is_dir() for name in BACKENDS):
        return "neither kvm_intel nor kvm_amd is loaded"
    try:
        fd = os.open(KVM, os.O_RDWR | os.O_CLOEXEC)
    except OSError as error:
        return f"cannot open /dev/kvm: {error.strerror}"
    try:
        if fcntl.ioctl(fd, KVM_GET_API_VERSION) != KVM_API_VERSION:
            return "unexpected KVM API version"
        os.close(fcntl.ioctl(fd, KVM_CREATE_VM, 0))
    except OSError as error:
        return f"KVM_CREATE_VM failed: {error.strerror}"
    finally:
        os.close(fd)
    return None


def nested_exposed() -> bool:
    """The loaded backend passes VMX/SVM to its guests (``nested`` is 1 or Y)."""
    for name in BACKENDS:
        param = MODULES / name / "parameters" / "nested"
        if param.is_file():
            return param.read_text().strip() in {"1", "Y"}
    return False
