"""/dev/kvm: probed, not read. Can this user open it, and does it create a VM?

KVM_GET_API_VERSION = _IO(KVMIO=0xAE, 0x00) must return KVM_API_VERSION = 12, and
KVM_CREATE_VM = _IO(0xAE, 0x01) with machine type 0 returns a VM fd
(Linux include/uapi/linux/kvm.h). The VM fd is closed at once: nothing is configured,
no memory is mapped, no module is loaded (opening an existing node loads nothing).
"""

from __future__ import annotations

import errno
import os
import sys

if sys.platform != "win32":  # POSIX only; imported here so a later privilege drop cannot fail it
    import fcntl

from nestprobe.model.snapshot import KVM_API_VERSION, KvmDevice

KVM_PATH = "/dev/kvm"
#: include/uapi/linux/kvm.h: #define KVMIO 0xAE; KVM_GET_API_VERSION _IO(KVMIO, 0x00).
KVM_GET_API_VERSION = 0xAE00
#: KVM_CREATE_VM _IO(KVMIO, 0x01); the argument is the machine type (0 = default).
KVM_CREATE_VM = 0xAE01


def errno_name(code: int | None) -> str:
    """``EACCES`` for 13; the number as text when the platform has no name for it."""
    if code is None:
        return "EUNKNOWN"
    return errno.errorcode.get(code, str(code))


def probe_kvm_device(path: str = KVM_PATH) -> KvmDevice:  # noqa: PLR0911 (a case table, read top to bottom)
    """Open ``path`` read-write and ask KVM for its API version and a VM; never raises."""
    if sys.platform == "win32":
        return KvmDevice(state="not-linux")

    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return KvmDevice(state="absent", error=errno_name(exc.errno))
        if exc.errno in (errno.EACCES, errno.EPERM):
            return KvmDevice(state="no-access", error=errno_name(exc.errno))
        return KvmDevice(state="error", error=errno_name(exc.errno))

    try:
        try:
            version = fcntl.ioctl(fd, KVM_GET_API_VERSION, 0)
        except OSError as exc:  # ENOTTY: a node that is not KVM
            return KvmDevice(state="error", error=errno_name(exc.errno))
        if version != KVM_API_VERSION:
            return KvmDevice(state="error", api_version=version)
        try:
            vm_fd = fcntl.ioctl(fd, KVM_CREATE_VM, 0)
        except OSError as exc:  # e.g. EINVAL/ENOMEM/EBUSY: the device is there, VMs are not
            return KvmDevice(
                state="usable", api_version=version, create_vm=False, error=errno_name(exc.errno)
            )
        os.close(vm_fd)
        return KvmDevice(state="usable", api_version=version, create_vm=True)
    finally:
        os.close(fd)
