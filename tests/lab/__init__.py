"""The QEMU lab: real guests under TCG (and a nested KVM guest inside one) for nestprobe.

Modules: ``host`` finds the tools, ``kernel`` the distro kernel and its modules,
``cpio``/``initramfs`` pack guests, ``boot`` runs QEMU with a timeout, ``console``
cuts dumps out of serial logs, ``configs`` is the table of CPU configurations with
what each must give, ``kvmhost`` says whether this machine's /dev/kvm can run a guest.
"""
