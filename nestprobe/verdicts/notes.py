"""Caveats as data: what the docs warn about a verdict that holds.

Rules attach notes by id; a note's own ``when`` narrows it further. Prerequisites are
checks, not notes: :mod:`nestprobe.verdicts.conditions`.
"""

from __future__ import annotations

from nestprobe.model.typeshim import Mapping
from nestprobe.model.verdicts import SCENARIOS, WINDOWS_SCENARIOS
from nestprobe.verdicts import sources
from nestprobe.verdicts.rules import Note, when

_NOTES: tuple[Note, ...] = (
    Note("windows-in-place-of-this-os", "caveat", WINDOWS_SCENARIOS,
         "This OS is not Windows: the Windows verdicts describe what this environment permits "
         "for Windows installed here in its place", sources.MS_NESTED,
         when(os=("linux", "other"), wsl=(False, None))),
    # --- caveats ----------------------------------------------------------------------
    Note("windows-azure-local-os", "caveat", ("azure-local",),
         "Azure Local is its own operating system: this verdict is about this machine with "
         "Azure Local installed in place of this Windows", sources.MS_NESTED,
         when(os="windows", win_edition=("home", "pro", "education", "enterprise", "server",
                                         "other", "unknown"))),
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
    "windows-in-place-of-this-os", "windows-azure-local-os", "windows-third-party-hypervisor",
    "windows-containers-server-vm",
)
