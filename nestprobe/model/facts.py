"""Facts: every fact of one assessment that a verdict or the headline decides on.

Each field is a :class:`~nestprobe.model.fact.Fact`: the value ``assess/`` decided and the
evidence that decided it (assess/facts.py chooses it, by what each observation is, so the
stages above never look at a ``source``). The Windows values are plain words the rules
match on: ``n/a`` when this OS is not Windows, ``unknown`` when the fact was not recorded.
"""

from __future__ import annotations

from nestprobe.model.fact import Fact
from nestprobe.model.proof import ProofAssessment
from nestprobe.model.record import Record, field
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


def _none() -> Fact[Any]:
    return Fact(None)


class Facts(Record):
    """The decided facts (value + evidence); a field never decided is ``Fact(None)``."""

    # Who answers below this OS.
    present: Fact[bool] = field(default_factory=lambda: Fact(False))  # a hypervisor shows
    hypervisor: Fact[str | None] = field(default_factory=_none)  # its vendor id
    #: No hypervisor runs below this OS, as CPUID's bit or a pasted tool shows it.
    hypervisor_absent: Fact[bool] = field(default_factory=lambda: Fact(False))
    partition: Fact[Partition | None] = field(default_factory=_none)  # Hyper-V's privileges
    host_build: Fact[int | None] = field(default_factory=_none)  # the Hyper-V host's build
    hyperv_version: Fact[str | None] = field(default_factory=_none)  # 0x40000002 as text
    #: The vendor whose default identity 0x40000002 matches (an emulation of Hyper-V's).
    hyperv_emulator: Fact[str | None] = field(default_factory=_none)
    signed: Fact[bool] = field(default_factory=lambda: Fact(False))  # a signature was read
    emulated: Fact[bool] = field(default_factory=lambda: Fact(False))  # a CPU emulator
    hidden: Fact[bool] = field(default_factory=lambda: Fact(False))  # one hides (witnesses)
    cloud: Fact[str | None] = field(default_factory=_none)
    instance_type: Fact[str | None] = field(default_factory=_none)  # as DMI's product names it
    product_name: Fact[str | None] = field(default_factory=_none)  # DMI product_name, any source
    confidential: Fact[str | None] = field(default_factory=_none)
    level: Fact[int | None] = field(default_factory=_none)  # nesting level
    at_least: Fact[int] = field(default_factory=lambda: Fact(0))  # the level proven at least
    #: The product's name ("KVM with Hyper-V enlightenments", "Xen, running on KVM").
    product: Fact[str | None] = field(default_factory=_none)
    #: The name a person reads for the hypervisor's vendor id ("oracle" -> "Oracle
    #: VirtualBox"): output words sentences from it, never from the id.
    hypervisor_name: Fact[str | None] = field(default_factory=_none)
    #: Who else may be answering, most likely first (vendor ids), and how sure the vendor
    #: is the product rather than an emulation of its interface.
    alternatives: Fact[tuple[str, ...]] = field(default_factory=lambda: Fact(()))
    identified: Fact[str] = field(default_factory=lambda: Fact("high"))
    # This CPU and what reaches this OS.
    cpu_vendor: Fact[str | None] = field(default_factory=_none)
    cpuid_ok: Fact[bool] = field(default_factory=lambda: Fact(False))  # CPUID could be read
    raw_cpuid: Fact[bool] = field(default_factory=lambda: Fact(False))  # leaf 1 was read
    exposed: Fact[bool | None] = field(default_factory=_none)
    #: What this CPU's extension is called: "VT-x", "AMD-V", or "VT-x/AMD-V" (unknown).
    extension: Fact[str] = field(default_factory=lambda: Fact("VT-x/AMD-V"))
    #: What shows a hypervisor that hides itself (model.verdicts.HiddenBy's words).
    hidden_by: Fact[str] = field(default_factory=lambda: Fact("timing"))
    slat: Fact[bool | None] = field(default_factory=_none)
    #: The same value with every observation about EPT/NPT (the SLAT condition cites them).
    ept_npt: Fact[bool | None] = field(default_factory=_none)
    #: The co-masked features (decode/masks.py): "masked", "native", "mixed" or None.
    feature_mask: Fact[str | None] = field(default_factory=_none)
    firmware_disabled: Fact[bool | None] = field(default_factory=_none)
    kvm: Fact[str | None] = field(default_factory=_none)  # KvmDevice state
    software_nesting: Fact[bool] = field(default_factory=lambda: Fact(False))  # PVM /dev/kvm
    #: A VM created here (``--prove``): what its run means, with the observations of kind
    #: ``vm`` (and the round trip's ``timing``) behind it; None without a proof. Proof
    #: beats inference: the headline and the third-party verdict read it first.
    proof: Fact[ProofAssessment | None] = field(default_factory=_none)
    # This OS.
    os: Fact[str] = field(default_factory=lambda: Fact("unknown"))
    os_confidence: Fact[str] = field(default_factory=lambda: Fact("none"))  # as Confidence
    wsl: Fact[bool | None] = field(default_factory=_none)
    #: The same value with what the kernel release said about WSL (the WSL conditions).
    wsl_kernel: Fact[bool | None] = field(default_factory=_none)
    container: Fact[str | None] = field(default_factory=_none)
    xen_domain: Fact[str | None] = field(default_factory=_none)  # dom0, domU
    xen_mode: Fact[str | None] = field(default_factory=_none)  # pv, pvh, hvm
    memory: Fact[int | None] = field(default_factory=_none)  # bytes this OS manages
    vcpus: Fact[int | None] = field(default_factory=_none)
    # This Windows.
    win_edition: Fact[WinEdition] = field(default_factory=lambda: Fact("n/a"))
    win_build: Fact[WinWsl2Build] = field(default_factory=lambda: Fact("n/a"))
    hyperv_role: Fact[WinComponent] = field(default_factory=lambda: Fact("n/a"))
    wsl_installed: Fact[WinComponent] = field(default_factory=lambda: Fact("n/a"))
    win_launch: Fact[WinLaunch] = field(default_factory=lambda: Fact("n/a"))
    win_firmware: Fact[WinFirmware] = field(default_factory=lambda: Fact("n/a"))
    win_vbs: Fact[WinVbs] = field(default_factory=lambda: Fact("n/a"))
    #: What the Windows facts rest on: the live facts, or the pasted tool(s) (None: not
    #: Windows, or no tool output); the Hyper-V VM's name and host from the host's data
    #: exchange ("" when not given).
    win_paste: Fact[str | None] = field(default_factory=_none)
    #: This Windows' name as recorded (release, else product name) and its build number.
    win_name: Fact[str | None] = field(default_factory=_none)
    win_release: Fact[str | None] = field(default_factory=_none)  # "Windows Server 2019"
    win_server: Fact[bool | None] = field(default_factory=_none)  # a Windows Server
    win_build_number: Fact[int | None] = field(default_factory=_none)
    vm_name: Fact[str] = field(default_factory=lambda: Fact(""))
    host_name: Fact[str] = field(default_factory=lambda: Fact(""))
    #: GetNativeSystemInfo's architecture ("AMD64", "x86", "ARM64"), None when not recorded.
    win_arch: Fact[str | None] = field(default_factory=_none)
    #: A Linux Hyper-V guest: True when hv_balloon is bound to the VMBus Dynamic Memory
    #: device, False when it is not, None when not recorded (or not Linux).
    dynamic_memory: Fact[bool | None] = field(default_factory=_none)
    #: wine's version when this "Windows" is wine (its stubs are then unknown), else None.
    win_wine: Fact[str | None] = field(default_factory=_none)

    @property
    def has_windows(self) -> bool:
        """This OS has a Windows part (assess/windows.py found Windows facts): the ``win_*``
        words are ``n/a`` exactly when it has none (an edition is never ``n/a``), and the
        verdicts' Windows modules are then left unimported."""
        return self.win_edition.value != "n/a"
