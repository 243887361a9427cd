"""Conditions and caveats as data: what must hold for a verdict, what the docs warn.

Rules attach notes by id; a note's own ``when`` narrows it further (the AMD host
requirement only on AMD, the Trusted Launch condition only on Azure).
"""

from __future__ import annotations

from collections.abc import Mapping

from nestprobe.model.verdicts import SCENARIOS, WINDOWS_SCENARIOS
from nestprobe.verdicts import sources
from nestprobe.verdicts.rules import Note, when

_NOTES: tuple[Note, ...] = (
    # --- conditions -------------------------------------------------------------------
    Note("windows-in-place-of-this-os", "condition", WINDOWS_SCENARIOS,
         "This OS is not Windows: the verdict describes what this environment permits for a "
         "Windows OS installed here in its place", sources.MS_NESTED,
         when(os=("linux", "other"), wsl=False)),
    Note("hyperv-host-intel", "condition", WINDOWS_SCENARIOS,
         "The outer Hyper-V host runs Windows Server 2016+ or Windows 10+ and this VM's "
         "configuration version is 8.0 or higher (Intel VT-x with EPT)", sources.MS_ENABLE,
         when(outer="hyperv", cpu=("intel", "other"))),
    Note("hyperv-host-amd", "condition", WINDOWS_SCENARIOS,
         "The outer Hyper-V host runs Windows Server 2022+ or Windows 11+ and this VM's "
         "configuration version is 9.3 or higher (AMD)", sources.MS_ENABLE,
         when(outer="hyperv", cpu="amd")),
    Note("azure-standard", "condition", SCENARIOS,
         "The Azure VM's Security type is Standard (not Trusted Launch) and its size page says "
         "'Nested Virtualization: Supported'", sources.MS_ENABLE, when(cloud="azure")),
    Note("hyperv-role", "condition", ("hyperv", "hyperv-containers", "azure-local"),
         "The Hyper-V role is installed in this OS and the Windows hypervisor launches "
         "(bcdedit hypervisorlaunchtype Auto)", sources.WSL_TROUBLESHOOTING),
    Note("vm-platform", "condition", ("wsl2",),
         "The Virtual Machine Platform optional component is enabled and the Windows "
         "hypervisor launches (bcdedit hypervisorlaunchtype Auto)", sources.WSL_TROUBLESHOOTING),
    Note("container-host-size", "condition", ("hyperv-containers",),
         "The container host has at least 4 GB of RAM and 2 virtual processors",
         sources.MS_CONTAINERS),
    Note("validated-hardware", "condition", ("azure-local",),
         "Production Azure Local runs on validated physical hardware (the Azure Local catalog)",
         sources.MS_NESTED),
    Note("hypervisor-unseen", "condition", SCENARIOS,
         "No hypervisor is visible from here; if one hides itself below this OS, its vendor's "
         "support statement applies instead", sources.NESTPROBE, when(place="unseen")),
    Note("kvm-device-usable", "condition", ("third-party",),
         "/dev/kvm (or the hypervisor's own driver) is present and this user can open it "
         "read-write: not checked in this snapshot", sources.KVM_ACCESS,
         when(kvm=(None, "error", "not-linux"))),
    Note("wsl-windows-11", "condition", ("third-party",),
         "The Windows host runs Windows 11 and .wslconfig keeps nestedVirtualization=true "
         "(the default)", sources.WSL_CONFIG),
    Note("aws-nested-enabled", "condition", SCENARIOS,
         "The instance is C8i/M8i/R8i (or a flex/d variant) running with "
         "CpuOptions.NestedVirtualization=enabled", sources.AWS_NESTED),
    Note("gcp-nested-enabled", "condition", SCENARIOS,
         "The VM was created with --enable-nested-virtualization on an Intel machine series "
         "and the org policy constraints/compute.disableNestedVirtualization is not enforced",
         sources.GCP_NESTED),
    Note("root-or-guest-tell", "condition", SCENARIOS,
         "To tell which: on a physical PC whose Windows hypervisor runs (Hyper-V, WSL2, "
         "Windows Sandbox, Memory integrity) this Windows is the root partition; in a VM, "
         "systeminfo's System Manufacturer and System Model name the hypervisor (Microsoft "
         "Corporation / Virtual Machine, VMware, QEMU, innotek / VirtualBox); nestprobe run on "
         "that machine reads it from CPUID", sources.MS_HYPERV_REQ),
    Note("windows-azure-local-os", "condition", ("azure-local",),
         "Azure Local is its own operating system: this verdict is about this machine with "
         "Azure Local installed in place of this Windows", sources.MS_NESTED,
         when(os="windows", win_edition=("home", "pro", "education", "enterprise", "server",
                                         "other", "unknown"))),
    Note("windows-firmware-unknown", "condition", SCENARIOS,
         "Whether the firmware has VT-x/AMD-V switched on is not in this evidence (Coreinfo "
         "shows the CPU's capability; systeminfo's 'Virtualization Enabled In Firmware' shows "
         "the switch)", sources.MS_HYPERV_REQ,
         when(os="windows", place=("bare-metal", "unseen"), exposed=True, win_firmware="unknown",
              firmware_disabled=False)),
    # --- caveats ----------------------------------------------------------------------
    Note("amd-host-no-nested-guests", "caveat", SCENARIOS,
         "This is an AMD host whose hypervisor predates Windows Server 2022 / Windows 11 (its "
         "build is in CPUID 0x40000002): its own VMs cannot be given nested virtualization "
         "(\"this platform does not support nested virtualization\")", sources.MS_ENABLE,
         when(place="hyperv-root", amd_host="too-old")),
    Note("windows-third-party-hypervisor", "caveat", ("third-party",),
         "On Windows, VirtualBox and VMware use VT-x/AMD-V directly only while the Windows "
         "hypervisor is off: Hyper-V, the Virtual Machine Platform (WSL2), Windows Sandbox and "
         "Memory integrity (VBS) each start it, and those products then run on the Windows "
         "Hypervisor Platform, without nested VT-x for their guests", sources.MS_INSTALL_HYPERV,
         when(os="windows", place=("bare-metal", "unseen"))),
    Note("windows-containers-server-vm", "caveat", ("hyperv-containers",),
         "For a container host in a Hyper-V VM, Microsoft's requirements name Windows Server "
         "(Desktop Experience or Server Core) as the VM's operating system",
         sources.MS_CONTAINERS,
         when(os="windows", place="vm", win_edition=("pro", "education", "enterprise"))),
    Note("memory-fixed", "caveat", WINDOWS_SCENARIOS,
         "While Hyper-V runs inside this VM its memory cannot change: dynamic memory does not "
         "fluctuate and runtime resize fails; turn the VM off to change it", sources.MS_NESTED),
    Note("not-for-clusters", "caveat", ("hyperv", "hyperv-containers", "azure-local"),
         "Nested virtualization isn't suitable for Windows Server Failover Clustering or "
         "performance-sensitive applications", sources.MS_NESTED),
    Note("nested-networking", "caveat", ("hyperv", "azure-local"),
         "Nested VMs need MAC address spoofing on this VM's adapter (on the host: "
         "Get-VMNetworkAdapter -VMName <VM> | Set-VMNetworkAdapter -MacAddressSpoofing On) or "
         "NAT inside this VM (where spoofing is impossible, as in public clouds)",
         sources.MS_ENABLE),
    Note("containers-one-level", "caveat", ("hyperv-containers",),
         "One level of nested virtualization is supported in production for Hyper-V isolated "
         "containers, with at least 4 GB of RAM and 2 vCPUs in the container host",
         sources.MS_NESTED),
    Note("azure-local-evaluation", "caveat", ("azure-local",),
         "Azure Local nested in a VM is for evaluation only; production needs validated "
         "physical hardware", sources.MS_NESTED),
    Note("hyperv-on-non-microsoft", "caveat", WINDOWS_SCENARIOS,
         "Microsoft does not support Hyper-V virtualization on non-Microsoft hypervisors (it "
         "may work; the outer hypervisor's vendor must support it)", sources.MS_NESTED),
    Note("non-microsoft-on-hyperv", "caveat", ("third-party",),
         "Microsoft: virtualization apps other than Hyper-V aren't supported in Hyper-V VMs "
         "and are likely to fail (KVM in a Linux VM on Hyper-V commonly works)",
         sources.MS_NESTED),
    Note("vmware-kb", "caveat", SCENARIOS,
         "VMware: running hypervisors such as Hyper-V inside a vSphere VM is not a supported "
         "scenario, though technically possible", sources.VMWARE_KB),
    Note("kvm-amd-migration", "caveat", ("third-party",),
         "AMD: do not live-migrate or save this VM while it runs nested guests (undefined "
         "behaviour in KVM)", sources.KVM_NESTED, when(cpu="amd")),
    Note("xen-experimental", "caveat", SCENARIOS,
         "Xen lists Nested HVM as Experimental (no security support)", sources.XEN_NESTED),
    Note("gcp-kvm-only", "caveat", ("third-party",),
         "Compute Engine supports only Linux KVM in an L1 VM; expect 10% or more performance "
         "loss", sources.GCP_NESTED),
    Note("aws-windows-limits", "caveat", WINDOWS_SCENARIOS,
         "AWS: Virtual Secure Mode (Credential Guard) is disabled when nesting is on, and "
         "Windows instances with more than 192 vCPUs are excluded", sources.AWS_NESTED),
    Note("whp-guests-no-nesting", "caveat", ("third-party",),
         "VirtualBox and VMware Workstation run on Windows Hypervisor Platform here; their "
         "guests get no nested VT-x/AMD-V", sources.WSL_TROUBLESHOOTING),
)

NOTES: Mapping[str, Note] = {note.id: note for note in _NOTES}
#: Added to every verdict when its ``when`` holds, whatever the rule.
GLOBAL_NOTES: tuple[str, ...] = (
    "windows-in-place-of-this-os", "hypervisor-unseen", "windows-azure-local-os",
    "windows-firmware-unknown", "windows-third-party-hypervisor", "windows-containers-server-vm",
    "amd-host-no-nested-guests",
)
