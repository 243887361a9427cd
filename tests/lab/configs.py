"""The lab's CPU configurations and what nestprobe must conclude in each, as data.

Every flat guest runs under TCG (`-accel tcg`), so it is one virtual machine deep.
The L1 runs under TCG with SVM exposed, loads kvm_amd nested=1 and boots each L2 with
KVM: the L2s are a VM inside a VM, although nothing in their CPUID can show the second
level (L1's KVM presents the same interface L0 would, and TCG below it is invisible).

``true_level`` is the lab's fact; ``provable`` is the most any evidence in the dump can
establish. A report may under-claim (level None) but never over-claim: ``at_least`` must
not exceed ``provable`` and a fixed ``level`` must be the true one *and* provable.
"""

from __future__ import annotations

from dataclasses import dataclass

from .initramfs import NestedGuest

TCG_BASE = 0x40000000
KVM_NEXT_BASE = 0x40000100  # KVM_CPUID_SIGNATURE_NEXT: KVM moves here under hv-* leaves

#: QEMU 7.2 properties (target/i386/cpu.c): `hypervisor` is CPUID.1:ECX[31],
#: `tcg-cpuid` gates the "TCGTCGTCGTCG" leaf 0x40000000 (default on).
HIDE_BIT = "-hypervisor"
HIDE_TCG = "tcg-cpuid=off"
#: Hyper-V enlightenments: "Microsoft Hv" at 0x40000000, KVM moves to 0x40000100.
HV_ENLIGHTENMENTS = "hv-relaxed,hv-vapic,hv-time,hv-vpindex,hv-synic"


@dataclass(frozen=True, slots=True)
class Expect:
    """What the report must say; each tuple lists the only acceptable values."""

    cpu_vendor: str  # leaf 0 vendor string of the emulated model
    bit: bool  # CPUID.1:ECX[31] as the configuration sets it
    interfaces: tuple[tuple[int, str], ...]  # (base, vendor id) of every signature
    detected: bool
    vendor: str
    emulated: bool
    vmx: bool
    svm: bool
    exposed: bool
    slat: bool | None  # None: not asserted (no SVM, so NPT has nothing to qualify)
    at_least: tuple[int, ...]
    true_level: int
    provable: int
    partition: str | None = None
    kvm_backend: str | None = None
    kvm_nested_param: str | None = None


@dataclass(frozen=True, slots=True)
class Config:
    name: str  # marker tag and test id
    cpu: str  # -cpu argument
    expect: Expect
    why: str


_TCG = ((TCG_BASE, "qemu"),)


def _flat(*, bit: bool = True, interfaces: tuple[tuple[int, str], ...] = _TCG,
          emulated: bool = True, svm: bool = True, vmx: bool = False,
          at_least: tuple[int, ...] = (1,), cpu_vendor: str = "AuthenticAMD",
          npt: bool = True) -> Expect:
    return Expect(
        cpu_vendor=cpu_vendor, bit=bit, interfaces=interfaces, detected=True, vendor="qemu",
        emulated=emulated,
        vmx=vmx, svm=svm, exposed=svm or vmx, slat=npt if svm else None,
        at_least=at_least, true_level=1, provable=1,
    )


FLAT: tuple[Config, ...] = (
    Config("amd-svm", "EPYC,+svm", _flat(),
           "TCG emulates SVM with NPT; the TCG signature names QEMU and an emulator"),
    Config("amd-svm-nonpt", "EPYC,+svm,-npt", _flat(npt=False),
           "SVM without nested paging (8000000Ah:EDX[0] clear): AMD-V reaches the guest, "
           "SLAT does not"),
    Config("amd-nosvm", "EPYC,-svm", _flat(svm=False),
           "SVM masked: nothing can host VMs, identity unchanged"),
    Config("intel-novmx", "Skylake-Client,-vmx", _flat(svm=False, cpu_vendor="GenuineIntel"),
           "Intel model without VMX (TCG cannot emulate VMX anyway)"),
    Config("hvbit-hidden", f"EPYC,+svm,{HIDE_BIT}", _flat(bit=False, at_least=(0, 1)),
           "bit clear but the TCG leaf stays (QEMU fills 0x40000000 regardless); "
           "a TCG signature alone may be user-mode emulation (no VM), DMI 'QEMU' shows a "
           "machine, so 0 is a cautious under-claim and 1 provable"),
    Config("tcg-hidden", f"EPYC,+svm,{HIDE_TCG}", _flat(interfaces=(), emulated=False),
           "no signature: the bit shows a hypervisor, SMBIOS sys_vendor 'QEMU' names it; "
           "nothing shows TCG (KVM with kvm=off looks the same), so not 'emulated'"),
    Config("all-hidden", f"EPYC,+svm,{HIDE_BIT},{HIDE_TCG}",
           _flat(bit=False, interfaces=(), emulated=False),
           "CPUID shows nothing; DMI 'QEMU' is the only witness and must not be read as "
           "bare metal"),
    Config("max", "max", _flat(),
           "every feature TCG can emulate: SVM yes, VMX no (TCG has no VMX); TCG's max "
           "model reports AuthenticAMD"),
)

#: The L1: TCG with SVM, kvm_amd nested=1 loaded before its dump.
L1 = Config(
    "l1", "EPYC,+svm",
    Expect(
        cpu_vendor="AuthenticAMD", bit=True, interfaces=_TCG, detected=True, vendor="qemu",
        emulated=True,
        vmx=False, svm=True, exposed=True, slat=True, at_least=(1,), true_level=1,
        provable=1, kvm_backend="kvm_amd", kvm_nested_param="1",
    ),
    "as amd-svm, with kvm_amd loaded (nested=1): this L1 then really hosts the L2s",
)


def _l2(svm: bool, interfaces: tuple[tuple[int, str], ...],
        partition: str | None = None) -> Expect:
    # -cpu host: the L1's (emulated EPYC) vendor passes through.
    return Expect(
        cpu_vendor="AuthenticAMD", bit=True, interfaces=interfaces, detected=True, vendor="kvm",
        emulated=False,
        vmx=False, svm=svm, exposed=svm, slat=True if svm else None, at_least=(1,),
        true_level=2, provable=1, partition=partition,
    )


_KVM = ((TCG_BASE, "kvm"),)
#: Booted by the L1, one after another, each with this -cpu model under KVM.
NESTED: tuple[Config, ...] = (
    Config("l2-host", "host", _l2(True, _KVM),
           "L1 KVM passes SVM+NPT through (nested=1); CPUID shows one KVM, not two VMs"),
    Config("l2-nosvm", "host,-svm", _l2(False, _KVM),
           "as l2-host with SVM masked by the L1's QEMU"),
    Config("l2-hyperv", f"host,{HV_ENLIGHTENMENTS}",
           _l2(True, ((TCG_BASE, "microsoft"), (KVM_NEXT_BASE, "kvm")), partition="guest"),
           "Microsoft Hv at 0x40000000 + KVM at 0x40000100 = KVM with enlightenments; "
           "0x40000003.EBX CreatePartitions clear (guest) and 0x40000004.EAX[12] "
           "(HV_X64_HYPERV_NESTED) clear, so still only one level provable"),
)

#: Per L2 timeout inside the L1 (a nested boot took 8-27 s here).
L2_TIMEOUT_S = 120


def nested_guests() -> tuple[NestedGuest, ...]:
    return tuple(NestedGuest(c.name, c.cpu, L2_TIMEOUT_S) for c in NESTED)
