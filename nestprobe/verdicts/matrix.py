"""The support matrix as data: rules evaluated in order, the first match per scenario wins.

Sources: Microsoft's nested-virtualization pages for the Windows scenarios, the cloud and
hypervisor vendors' pages for theirs (see :mod:`nestprobe.verdicts.sources`), summarised
in docs/verdicts.md. Order matters: what the machine *is* (emulator, WSL VM, Hyper-V
root, Xen dom0) comes first, then missing facts, then firmware, then the cloud (whose
users do not own the hypervisor), then the outer hypervisor, then bare metal.
"""

from __future__ import annotations

from nestprobe.model.verdicts import SCENARIOS, WINDOWS_SCENARIOS, Scenario
from nestprobe.verdicts import sources
from nestprobe.verdicts.remediation import OUTER
from nestprobe.verdicts.rules import Rule, when

ALL = SCENARIOS
WIN = WINDOWS_SCENARIOS
HOST_ROLES: tuple[Scenario, ...] = ("hyperv", "wsl2", "hyperv-containers")
AZL: tuple[Scenario, ...] = ("azure-local",)
THIRD: tuple[Scenario, ...] = ("third-party",)
HVC: tuple[Scenario, ...] = ("hyperv-containers",)

#: The Windows host roles' own prerequisites (conditions, checked where the facts allow).
_WINDOWS_HOST = (
    "hypervisor-launches", "hyperv-role", "vm-platform", "wsl-installed",
    "container-host-memory", "container-host-vcpus", "slat",
)
#: Conditions and caveats every supported Hyper-V-in-a-VM verdict carries.
_NESTED_HYPERV_NOTES = (
    "hyperv-host-intel", "hyperv-host-amd", "vm-version-intel", "vm-version-amd",
    "azure-standard", "azure-size", "ws2019-vcpus", *_WINDOWS_HOST,
    "not-for-clusters", "nested-networking", "containers-one-level", "hyperv-dynamic-memory",
)
_VM = when(place="vm")


def _vm(**more: object) -> dict[str, frozenset[object]]:
    return {**_VM, **when(**more)}


RULES: tuple[Rule, ...] = (
    # --- what this machine is ------------------------------------------------------------
    Rule("emulator-x86", ALL, "blocked", when(place="emulator", outer="none"),
         "This OS runs under an x86 instruction emulator, not a hypervisor: there is no "
         "VT-x/AMD-V to pass on", sources.WOA_EMULATION, ("x86-emulator",)),
    Rule("emulator-qemu-tcg-svm", ALL, "unsupported", when(place="emulator", exposed=True),
         "This OS runs on QEMU's emulated CPU (TCG), which emulates AMD-V too: KVM can run "
         "guests here (nestprobe's lab does), but every instruction is emulated, far slower "
         "than hardware virtualization, and no vendor supports it",
         sources.QEMU_TCG_SVM, (), (), ("qemu-accel",)),
    Rule("emulator-qemu-tcg", ALL, "blocked", when(place="emulator"),
         "This OS runs on QEMU's emulated CPU (TCG): it offers no usable VT-x/AMD-V and "
         "nothing inside can enable it; use hardware acceleration where QEMU starts",
         sources.QEMU_ACCEL, ("qemu-accel",)),
    Rule("wsl-utility-vm", WIN, "blocked", when(wsl=True),
         "This is the WSL2 utility VM: Windows cannot be installed in it; Hyper-V, WSL2 and "
         "Windows containers run on its Windows host", sources.WSL_FAQ),
    Rule("wsl-nested", THIRD, "supported", when(wsl=True, exposed=True, software_nesting=False),
         "VT-x/AMD-V reaches the WSL2 VM (nestedVirtualization on a Windows 11 host)",
         sources.WSL_CONFIG, (), ("wsl-windows-11", "kvm-device")),
    Rule("wsl-no-nested", THIRD, "blocked", when(wsl=True, exposed=False),
         "The WSL2 VM gets no VT-x/AMD-V: nestedVirtualization is off in .wslconfig or by "
         "policy, or the host runs Windows 10 ('Nested virtualization is not supported on "
         "this machine')", sources.WSL_CONFIG, ("wsl-nested",)),
    Rule("wsl-unknown", THIRD, "unknown", when(wsl=True),
         "This is the WSL2 VM, and whether a usable VT-x/AMD-V reaches it the evidence does "
         "not show", sources.WSL_CONFIG),
    # --- this Windows itself (its edition and build are conditions: verdicts/conditions.py) ---
    Rule("hyperv-root-windows", HOST_ROLES, "supported",
         when(place="hyperv-root", os="windows"),
         "This Windows is the root partition: the Windows hypervisor runs below it (started by "
         "Hyper-V, the Virtual Machine Platform for WSL2, Windows Sandbox or VBS), so it hosts "
         "VMs itself, and VT-x/AMD-V is hidden from it by design; 'A hypervisor has been "
         "detected' in systeminfo means exactly this", sources.MS_HYPERV_REQ, (),
         _WINDOWS_HOST),
    Rule("hyperv-root", HOST_ROLES, "supported", when(place="hyperv-root"),
         "This OS is the root partition of Microsoft's hypervisor (it may create partitions): "
         "it is the Hyper-V host, and VT-x/AMD-V is hidden from it by design",
         sources.MS_HYPERV_REQ, (), _WINDOWS_HOST),
    Rule("hyperv-root-azure-local", AZL, "supported", when(place="hyperv-root"),
         "This OS is the Hyper-V root partition on the physical machine: Azure Local is "
         "supported on validated hardware", sources.MS_NESTED, (),
         ("validated-hardware", "hypervisor-launches", "hyperv-role")),
    Rule("hyperv-root-third-party", THIRD, "unsupported", when(place="hyperv-root"),
         "With the Windows hypervisor running, other hypervisors run only on Windows "
         "Hypervisor Platform (VirtualBox 6+, VMware Workstation 15.5.5+)",
         sources.WSL_TROUBLESHOOTING, (), ("whp-guests-no-nesting",),
         ("windows-hypervisor-off",)),
    Rule("hyperv-l1vh", ALL, "unknown", when(place="hyperv-l1vh"),
         "This is an L1VH partition (a Hyper-V guest that may create partitions): Microsoft's "
         "nested-virtualization matrix does not cover it", sources.MS_NESTED),
    Rule("root-or-guest", ALL, "unknown", when(place="root-or-guest"),
         "A hypervisor is present and this evidence cannot tell whether this Windows is its "
         "root partition (the Windows hypervisor runs: this is the Hyper-V host) or a VM (then "
         "only a host that exposes VT-x/AMD-V lets Hyper-V, WSL2 or containers run)",
         sources.MS_HYPERV_REQ, (), ("root-partition-or-guest",)),
    Rule("xen-dom0", ALL, "blocked", when(xen_dom0=True),
         "This OS is Xen's dom0: Xen, not this kernel, owns VT-x/AMD-V, so a vmx/svm flag "
         "here is the CPU's and not usable by this OS; it runs VMs only through Xen's "
         "toolstack", sources.XEN_DOM0, ("xen-dom0",)),
    Rule("xen-pv", ALL, "blocked", when(xen_pv=True),
         "This OS is a Xen PV domain: Xen owns VT-x/AMD-V and gives PV domains none (KVM "
         "cannot load here), whatever user-space CPUID shows", sources.XEN_DOM0,
         ("xen-pv-to-hvm",)),
    # --- missing facts ---------------------------------------------------------------------
    Rule("exposure-unknown", ALL, "unknown", when(exposed=None),
         "Whether VT-x/AMD-V reaches this OS is unknown: neither CPUID leaves "
         "0x1/0x80000001 nor the OS's own view of them were available", sources.NESTPROBE),
    # --- firmware (only where it is the cause) --------------------------------------------
    Rule("firmware-disabled-vm", ALL, "blocked", _vm(firmware_disabled=True),
         "The virtual CPU advertises VT-x/AMD-V but it arrives locked off "
         "(IA32_FEATURE_CONTROL), which the outer hypervisor sets for its VMs",
         sources.KVM_NESTED, (OUTER,)),
    Rule("firmware-disabled", ALL, "blocked", when(firmware_disabled=True),
         "The CPU has VT-x/AMD-V but the firmware left it disabled (the kernel found it "
         "locked off, or Windows reports it disabled in firmware)", sources.WSL_TROUBLESHOOTING,
         ("firmware-enable",)),
    Rule("bare-metal-no-vt", ALL, "blocked", when(place="bare-metal", exposed=False),
         "No hypervisor shows itself and the CPU reports no VT-x/AMD-V: this CPU lacks it, or "
         "a hypervisor hides both itself and VT-x/AMD-V (turning VT-x off at power-on leaves "
         "the CPUID bit set, so that is not the cause)", sources.FEAT_CTL,
         ("hidden-hypervisor",)),
    Rule("unseen-no-vt-kernel", ALL, "blocked",
         when(place="unseen", exposed=False, raw_cpuid=False),
         "No hypervisor is visible and the kernel reports no VT-x/AMD-V: a hypervisor that "
         "hides itself did not pass it on, or, on a physical machine, the firmware has it off "
         "(the kernel drops its flag then) or the CPU lacks it", sources.FEAT_CTL,
         ("hidden-hypervisor", "firmware-enable")),
    Rule("unseen-no-vt", ALL, "blocked", when(place="unseen", exposed=False),
         "No hypervisor is visible and CPUID reports no VT-x/AMD-V: a hypervisor that hides "
         "itself did not pass it on, or the CPU lacks it (turning VT-x off at power-on leaves "
         "the CPUID bit set)",
         sources.FEAT_CTL, ("hidden-hypervisor",)),
    # --- things that block whatever the outer layer does -------------------------------------
    Rule("confidential-azure", ALL, "blocked", _vm(confidential=True, cloud="azure",
                                                     exposed=False),
         "This is an Azure confidential VM: confidential sizes (DCas/ECas, DCes/ECes) do not "
         "support nested virtualization", sources.AZURE_SIZES, ("azure-nonconfidential",)),
    Rule("confidential", ALL, "blocked", _vm(confidential=True, exposed=False),
         "This is a confidential VM (memory encrypted and isolated from its hypervisor): "
         "confidential VMs are not offered with nested virtualization", sources.AZURE_SIZES,
         ("non-confidential",)),
    Rule("container-no-kvm", THIRD, "blocked", when(container=True, exposed=True, kvm="absent"),
         "VT-x/AMD-V reaches this machine but /dev/kvm is not passed into this container",
         sources.DOCKER_DEVICE, ("container-device",)),
    Rule("pvm-software-nesting", THIRD, "unsupported",
         when(software_nesting=True, exposed=False),
         "/dev/kvm here is kvm_pvm (PVM, software nesting without VT-x/AMD-V): only "
         "PVM-enabled guest kernels run; Windows guests, VirtualBox, VMware, the Android "
         "emulator and stock KVM guests cannot", sources.PVM, ("pvm-explain", OUTER)),
    Rule("kvm-no-access", THIRD, "blocked", when(os="linux", exposed=True, kvm="no-access"),
         "VT-x/AMD-V reaches this OS and /dev/kvm exists, but this user cannot open it",
         sources.KVM_ACCESS, ("kvm-access",)),
    Rule("kvm-absent", THIRD, "blocked", when(os="linux", exposed=True, kvm="absent"),
         "VT-x/AMD-V reaches this OS but /dev/kvm does not exist: no KVM module is loaded",
         sources.KVM_NESTED, ("kvm-module",)),
    Rule("no-slat-bare-metal", WIN, "blocked",
         when(place=("bare-metal", "unseen"), exposed=True, slat=False),
         "The CPU has VT-x/AMD-V but no SLAT (EPT/RVI), which Hyper-V and WSL2 require; no "
         "setting adds it", sources.MS_HYPERV_REQ),
    Rule("no-slat-vm", WIN, "blocked", _vm(exposed=True, slat=False),
         "VT-x/AMD-V reaches this VM without SLAT (EPT/NPT), which Hyper-V requires: the outer "
         "hypervisor must pass the host CPU's SLAT too", sources.MS_HYPERV_REQ, (OUTER,)),
    # --- clouds ------------------------------------------------------------------------
    Rule("azure-size-not-capable", ALL, "blocked",
         _vm(cloud="azure", exposed=False, azure_size="not-capable"),
         "Azure size {instance} belongs to a family whose size page says Nested "
         "Virtualization: Not Supported", sources.AZURE_SIZES, ("azure-resize",)),
    Rule("aws-nested", HOST_ROLES, "supported", _vm(cloud="aws", exposed=True),
         "AWS supports Hyper-V as the L1 hypervisor on nested-enabled C8i/M8i/R8i instances",
         sources.AWS_NESTED, (),
         ("aws-nested-enabled", *_WINDOWS_HOST, "hyperv-on-non-microsoft",
          "aws-windows-limits", "containers-one-level")),
    Rule("aws-nested-azure-local", AZL, "evaluation-only", _vm(cloud="aws", exposed=True),
         "Azure Local nested in a VM is for evaluation only", sources.MS_NESTED, (),
         ("azure-local-evaluation", "hyperv-on-non-microsoft")),
    Rule("aws-nested-third-party", THIRD, "supported", _vm(cloud="aws", exposed=True),
         "AWS supports KVM as the L1 hypervisor on nested-enabled C8i/M8i/R8i instances",
         sources.AWS_NESTED, (), ("aws-nested-enabled", "kvm-device")),
    Rule("aws-nesting-off", ALL, "blocked",
         _vm(cloud="aws", exposed=False, aws_type="nested-capable"),
         "EC2 instance type {instance} can nest, but this instance runs without "
         "CpuOptions.NestedVirtualization=enabled", sources.AWS_NESTED, ("aws-enable",)),
    Rule("aws-virtual", ALL, "blocked", _vm(cloud="aws", exposed=False),
         "This EC2 instance is virtual and gets no VT-x/AMD-V: virtual types nest only as "
         "C8i/M8i/R8i with NestedVirtualization enabled; otherwise use *.metal",
         sources.AWS_NESTED, ("aws-move",)),
    Rule("gcp-nested-windows", WIN, "unsupported", _vm(cloud="gcp", exposed=True),
         "Compute Engine: 'The only hypervisor supported in an L1 VM is Linux KVM; Microsoft "
         "Hyper-V isn't supported'", sources.GCP_NESTED, (),
         (*_WINDOWS_HOST, "kvm-device")),
    Rule("gcp-nested-third-party", THIRD, "supported", _vm(cloud="gcp", exposed=True),
         "Compute Engine adds VT-x to this VM; Linux KVM is the supported L1 hypervisor",
         sources.GCP_NESTED, (), ("gcp-nested-enabled", "kvm-device", "gcp-kvm-only")),
    Rule("gcp-not-intel", ALL, "blocked", _vm(cloud="gcp", exposed=False, cpu=("amd", "other")),
         "Compute Engine: 'You can't use VMs powered by AMD and Arm processors' for nested "
         "virtualization", sources.GCP_NESTED, ("gcp-intel",)),
    Rule("gcp-nesting-off", ALL, "blocked", _vm(cloud="gcp", exposed=False),
         "This Compute Engine VM gets no VT-x: nested virtualization is not enabled on it (or "
         "an org policy forbids it)", sources.GCP_NESTED, ("gcp-enable",)),
    # --- outer hypervisor: Hyper-V (on premises and Azure) ---------------------------------
    Rule("hyperv-nested-deep-containers", HVC, "unsupported",
         _vm(outer="hyperv", exposed=True, depth="deeper"),
         "This VM is itself nested (level 2 or deeper): Microsoft supports one level of "
         "nesting for Hyper-V isolated containers", sources.MS_NESTED, (),
         ("containers-one-level",)),
    Rule("hyperv-nested", HOST_ROLES, "supported", _vm(outer="hyperv", exposed=True),
         "VT-x/AMD-V reaches this Hyper-V VM (ExposeVirtualizationExtensions is on): Hyper-V, "
         "WSL2 and Hyper-V isolated containers nested on Hyper-V are supported",
         sources.MS_NESTED, (), _NESTED_HYPERV_NOTES),
    Rule("hyperv-nested-azure-local", AZL, "evaluation-only", _vm(outer="hyperv", exposed=True),
         "Azure Local can run nested in a VM for evaluation; production nested isn't supported",
         sources.MS_NESTED, (),
         ("hyperv-host-intel", "hyperv-host-amd", "vm-version-intel", "vm-version-amd",
          "azure-standard", "azure-size", "hypervisor-launches", "hyperv-role",
          "azure-local-evaluation", "hyperv-dynamic-memory", "nested-networking")),
    Rule("hyperv-nested-third-party", THIRD, "unsupported", _vm(outer="hyperv", exposed=True),
         "VT-x/AMD-V reaches this Hyper-V VM, but Microsoft does not support non-Microsoft "
         "virtualization on Hyper-V", sources.MS_NESTED, (),
         ("hyperv-host-intel", "hyperv-host-amd", "vm-version-intel", "vm-version-amd",
          "azure-standard", "azure-size", "kvm-device", "non-microsoft-on-hyperv")),
    Rule("hyperv-not-exposed", ALL, "blocked", _vm(outer="hyperv", exposed=False),
         "This OS is a Hyper-V guest and VT-x/AMD-V is not exposed to it: "
         "ExposeVirtualizationExtensions is off for this VM (the default), which only the "
         "host (or the cloud) can change", sources.MS_ENABLE, (OUTER,),
         ("hyperv-host-intel", "hyperv-host-amd", "azure-standard", "azure-size")),
    # --- outer hypervisor: the others -------------------------------------------------
    Rule("kvm-nested-windows", WIN, "unsupported", _vm(outer="kvm", exposed=True),
         "VT-x/AMD-V reaches this {hypervisor} guest; Microsoft does not support Hyper-V "
         "virtualization on non-Microsoft hypervisors", sources.MS_NESTED, (),
         (*_WINDOWS_HOST, "kvm-device", "hyperv-on-non-microsoft")),
    Rule("kvm-nested-third-party", THIRD, "supported", _vm(outer="kvm", exposed=True),
         "VT-x/AMD-V reaches this {hypervisor} guest: nested KVM is upstream-supported (on "
         "by default "
         "since Linux 4.20)", sources.KVM_NESTED, (), ("kvm-device", "kvm-amd-migration")),
    Rule("vmware-nested", ALL, "unsupported", _vm(outer="vmware", exposed=True),
         "VT-x/AMD-V reaches this VMware VM (vhv.enable); neither Microsoft nor VMware "
         "supports hypervisors nested in it, though it commonly works", sources.VMWARE_KB, (),
         (*_WINDOWS_HOST, "kvm-device", "vmware-kb", "hyperv-on-non-microsoft")),
    Rule("virtualbox-nested", ALL, "unsupported", _vm(outer="virtualbox", exposed=True),
         "VT-x/AMD-V reaches this VirtualBox VM (--nested-hw-virt on); VirtualBox documents "
         "nested VirtualBox/KVM guests, Microsoft does not support Hyper-V on it",
         sources.VIRTUALBOX_NESTED, (),
         (*_WINDOWS_HOST, "kvm-device", "hyperv-on-non-microsoft")),
    Rule("xen-nested", ALL, "unsupported", _vm(outer="xen", exposed=True),
         "VT-x/AMD-V reaches this Xen HVM guest (nestedhvm=1); Xen rates Nested HVM "
         "Experimental", sources.XEN_NESTED, (),
         (*_WINDOWS_HOST, "kvm-device", "xen-experimental", "hyperv-on-non-microsoft")),
    Rule("parallels-nested", ALL, "unsupported", _vm(outer="parallels", exposed=True),
         "VT-x/AMD-V reaches this Parallels VM (--nested-virt on); Microsoft does not support "
         "Hyper-V on non-Microsoft hypervisors", sources.PARALLELS_NESTED, (),
         (*_WINDOWS_HOST, "kvm-device", "hyperv-on-non-microsoft")),
    Rule("other-nested-windows", WIN, "unsupported", _vm(outer="other", exposed=True),
         "VT-x/AMD-V reaches this VM ({hypervisor}); Microsoft does not support Hyper-V "
         "virtualization on non-Microsoft hypervisors", sources.MS_NESTED, (),
         (*_WINDOWS_HOST, "kvm-device", "hyperv-on-non-microsoft")),
    Rule("other-nested-third-party", THIRD, "unknown", _vm(outer="other", exposed=True),
         "VT-x/AMD-V reaches this VM; whether {hypervisor} supports hypervisors nested in it "
         "is its vendor's statement, which nestprobe does not have", sources.NESTPROBE),
    Rule("unidentified-nested", ALL, "unknown",
         _vm(outer=("unidentified", "hidden"), exposed=True),
         "VT-x/AMD-V reaches this VM but the outer hypervisor is unidentified, so whose "
         "support statement applies is unknown", sources.NESTPROBE),
    Rule("vm-not-exposed", ALL, "blocked", _vm(exposed=False),
         "This OS runs in a VM ({hypervisor}) and VT-x/AMD-V is not exposed to it: only the "
         "outer hypervisor can pass it on; nothing on this machine can",
         sources.MS_NESTED, (OUTER,)),
    # --- bare metal (or nothing visible) with VT-x/AMD-V ------------------------------------
    Rule("bare-metal", HOST_ROLES, "supported",
         when(place=("bare-metal", "unseen"), exposed=True),
         "VT-x/AMD-V reaches this OS and no hypervisor runs below it: Hyper-V, WSL2 and "
         "Hyper-V isolated containers run as on any physical host", sources.MS_HYPERV_REQ, (),
         _WINDOWS_HOST),
    Rule("bare-metal-azure-local", AZL, "supported",
         when(place=("bare-metal", "unseen"), exposed=True),
         "Azure Local is designed and tested for validated physical hardware",
         sources.MS_NESTED, (), ("validated-hardware", "hypervisor-launches", "hyperv-role",
                                 "slat")),
    Rule("bare-metal-third-party", THIRD, "supported",
         when(place=("bare-metal", "unseen"), exposed=True),
         "VT-x/AMD-V reaches this OS and no hypervisor runs below it", sources.KVM_NESTED, (),
         ("kvm-device",)),
)

#: When no rule covers a scenario: say so rather than guess.
FALLBACK = Rule("uncovered", ALL, "unknown", {},
                "No rule of the support matrix covers this combination of facts",
                sources.NESTPROBE)
