"""Facts: every fact of one assessment that a verdict or the headline decides on.

Each field is a :class:`~nestprobe.model.fact.Fact`: the value ``assess/`` decided and the
evidence that decided it (assess/facts.py chooses it, by what each observation is, so the
stages above never look at a ``source``). The Windows values are plain words the rules
match on: ``n/a`` when this OS is not Windows, ``unknown`` when the fact was not recorded.
"""

from __future__ import annotations

from nestprobe.model.fact import Fact
from nestprobe.model.proof import ProofAssessment
from nestprobe.model.record import Record
from nestprobe.model.typeshim import Any, Literal

#: "root-or-guest": a hypervisor is present but only a Windows tool's report says so (no
#: CPUID leaves): this OS is its root partition or a guest, and the evidence cannot tell.
Partition = Literal["root", "l1vh", "guest", "root-or-guest"]
WinEdition = Literal["home", "pro", "education", "enterprise", "server", "azure-local", "other",
                     "unknown", "n/a"]
#: "install": ``wsl --install`` works (19041+); "manual": WSL 2 with the manual steps
#: (18362.1049-19040); "too-old": no WSL 2 on this build.
WinWsl2Build = Literal["install", "manual", "too-old", "unknown", "n/a"]
WinComponent = Literal["installed", "absent", "unknown", "n/a"]
WinLaunch = Literal["auto", "off", "not-set", "unknown", "n/a"]
WinFirmware = Literal["enabled", "disabled", "unknown", "n/a"]
WinVbs = Literal["configured", "off", "unknown", "n/a"]


# Each default once: a Fact is immutable, so every Facts may share it (a factory per field
# built ~60 Facts for each assessment).
_NONE: Fact[Any] = Fact(None)
_FALSE: Fact[Any] = Fact(False)
_NA: Fact[Any] = Fact("n/a")


class Facts(Record):
    """The decided facts (value + evidence); a field never decided is ``Fact(None)``."""

    # Who answers below this OS.
    present: Fact[bool] = _FALSE  # a hypervisor shows
    hypervisor: Fact[str | None] = _NONE  # its vendor id
    #: No hypervisor runs below this OS, as CPUID's bit or a pasted tool shows it.
    hypervisor_absent: Fact[bool] = _FALSE
    partition: Fact[Partition | None] = _NONE  # Hyper-V's privileges
    host_build: Fact[int | None] = _NONE  # the Hyper-V host's build
    hyperv_version: Fact[str | None] = _NONE  # 0x40000002 as text
    #: The vendor whose default identity 0x40000002 matches (an emulation of Hyper-V's).
    hyperv_emulator: Fact[str | None] = _NONE
    signed: Fact[bool] = _FALSE  # a signature was read
    emulated: Fact[bool] = _FALSE  # a CPU emulator
    hidden: Fact[bool] = _FALSE  # one hides (witnesses)
    cloud: Fact[str | None] = _NONE
    instance_type: Fact[str | None] = _NONE  # as DMI's product names it
    product_name: Fact[str | None] = _NONE  # DMI product_name, any source
    confidential: Fact[str | None] = _NONE
    level: Fact[int | None] = _NONE  # nesting level
    at_least: Fact[int] = Fact(0)  # the level proven at least
    #: The product's name ("KVM with Hyper-V enlightenments", "Xen, running on KVM").
    product: Fact[str | None] = _NONE
    #: The name a person reads for the hypervisor's vendor id ("oracle" -> "Oracle
    #: VirtualBox"): output words sentences from it, never from the id.
    hypervisor_name: Fact[str | None] = _NONE
    #: Who else may be answering, most likely first (vendor ids), and how sure the vendor
    #: is the product rather than an emulation of its interface.
    alternatives: Fact[tuple[str, ...]] = Fact(())
    identified: Fact[str] = Fact("high")
    # This CPU and what reaches this OS.
    cpu_vendor: Fact[str | None] = _NONE
    cpuid_ok: Fact[bool] = _FALSE  # CPUID could be read
    raw_cpuid: Fact[bool] = _FALSE  # leaf 1 was read
    exposed: Fact[bool | None] = _NONE
    #: What this CPU's extension is called: "VT-x", "AMD-V", or "VT-x/AMD-V" (unknown).
    extension: Fact[str] = Fact("VT-x/AMD-V")
    #: What shows a hypervisor that hides itself (model.verdicts.HiddenBy's words).
    hidden_by: Fact[str] = Fact("timing")
    slat: Fact[bool | None] = _NONE
    #: The same value with every observation about EPT/NPT (the SLAT condition cites them).
    ept_npt: Fact[bool | None] = _NONE
    #: The co-masked features (decode/masks.py): "masked", "native", "mixed" or None.
    feature_mask: Fact[str | None] = _NONE
    firmware_disabled: Fact[bool | None] = _NONE
    kvm: Fact[str | None] = _NONE  # KvmDevice state
    software_nesting: Fact[bool] = _FALSE  # PVM /dev/kvm
    #: A VM created here (``--prove``): what its run means, with the observations of kind
    #: ``vm`` (and the round trip's ``timing``) behind it; None without a proof. Proof
    #: beats inference: the headline and the third-party verdict read it first.
    proof: Fact[ProofAssessment | None] = _NONE
    # This OS.
    os: Fact[str] = Fact("unknown")
    os_confidence: Fact[str] = Fact("none")  # as Confidence
    wsl: Fact[bool | None] = _NONE
    #: The same value with what the kernel release said about WSL (the WSL conditions).
    wsl_kernel: Fact[bool | None] = _NONE
    container: Fact[str | None] = _NONE
    xen_domain: Fact[str | None] = _NONE  # dom0, domU
    xen_mode: Fact[str | None] = _NONE  # pv, pvh, hvm
    memory: Fact[int | None] = _NONE  # bytes this OS manages
    vcpus: Fact[int | None] = _NONE
    # This Windows.
    win_edition: Fact[WinEdition] = _NA
    win_build: Fact[WinWsl2Build] = _NA
    hyperv_role: Fact[WinComponent] = _NA
    wsl_installed: Fact[WinComponent] = _NA
    win_launch: Fact[WinLaunch] = _NA
    win_firmware: Fact[WinFirmware] = _NA
    win_vbs: Fact[WinVbs] = _NA
    #: What the Windows facts rest on: the live facts, or the pasted tool(s) (None: not
    #: Windows, or no tool output); the Hyper-V VM's name and host from the host's data
    #: exchange ("" when not given).
    win_paste: Fact[str | None] = _NONE
    #: This Windows' name as recorded (release, else product name) and its build number.
    win_name: Fact[str | None] = _NONE
    win_release: Fact[str | None] = _NONE  # "Windows Server 2019"
    win_server: Fact[bool | None] = _NONE  # a Windows Server
    win_build_number: Fact[int | None] = _NONE
    vm_name: Fact[str] = Fact("")
    host_name: Fact[str] = Fact("")
    #: GetNativeSystemInfo's architecture ("AMD64", "x86", "ARM64"), None when not recorded.
    win_arch: Fact[str | None] = _NONE
    #: A Linux Hyper-V guest: True when hv_balloon is bound to the VMBus Dynamic Memory
    #: device, False when it is not, None when not recorded (or not Linux).
    dynamic_memory: Fact[bool | None] = _NONE
    #: wine's version when this "Windows" is wine (its stubs are then unknown), else None.
    win_wine: Fact[str | None] = _NONE

    @property
    def has_windows(self) -> bool:
        """This OS has a Windows part (assess/windows.py found Windows facts): the ``win_*``
        words are ``n/a`` exactly when it has none (an edition is never ``n/a``), and the
        verdicts' Windows modules are then left unimported."""
        return self.win_edition.value != "n/a"
