"""Remediation as data: one entry per (layer, vendor) fix, with the exact steps and source.

Rules name entries by id. The pseudo-id :data:`OUTER` means "the fix for whatever runs
this VM": :func:`resolve` picks the cloud's entry when the cloud is known (its users do
not own the hypervisor), otherwise the outer hypervisor's, by CPU vendor where the
steps differ (kvm_intel vs kvm_amd; Hyper-V's AMD host requirement), then the fix of each
hypervisor that may really be answering behind the interface, in order of likelihood.
:data:`RESOURCES` means "give this machine more memory/processors": the cloud's resize,
or the outer hypervisor's VM settings (nothing on bare metal).

Options (:data:`OPTION_GOALS`) reuse entries for another goal than the verdict's own:
they come with the goal they serve and are never shown as what to fix.
"""

from __future__ import annotations

from nestprobe.model.record import replace
from nestprobe.model.typeshim import Literal, Mapping
from nestprobe.model.verdicts import Remediation
from nestprobe.verdicts import sources
from nestprobe.verdicts.situation import Situation

#: Rules write this id to mean "the detected outer hypervisor's or cloud's fix".
OUTER = "@outer"
#: Conditions write this id to mean "more memory/processors for this machine".
RESOURCES = "@resources"

_HYPERV_WHERE = "on the Hyper-V host, elevated PowerShell, with this VM turned off"


def _kvm(module: str, flag: str) -> Remediation:
    return Remediation(
        layer="outer-hypervisor",
        where="on the KVM host (L0) as root (sh), and in this VM's definition, with this VM "
        "shut down",
        steps=(
            f"cat /sys/module/{module}/parameters/nested   # Y or 1: nesting is on in L0",
            f"echo 'options {module.replace('_', '-')} nested=1' "
            f"> /etc/modprobe.d/{module}-nested.conf",
            "# with every VM on the host stopped:",
            f"modprobe -r {module} && modprobe {module}",
            f"# QEMU: -cpu host (or a named CPU model with {flag}=on)",
            "# libvirt: virsh edit <VM>, then <cpu mode='host-passthrough'/>",
            "qm set <vmid> --cpu host   # Proxmox VE",
            "# VirtualBox's KVM paravirtualization and older Parallels show this",
            "# signature too; there: VBoxManage modifyvm <VM> --nested-hw-virt on",
            "# or: prlctl set <VM> --nested-virt on",
        ),
        source=f"{sources.KVM_NESTED}; {sources.PROXMOX_NESTED}",
    )


def _host_upgrade(
    cpu: str, target: str, build: int, version: str, elsewhere: str = "a host that meets this",
) -> Remediation:
    return Remediation(
        layer="outer-hypervisor",
        where="on the Hyper-V host, in PowerShell as Administrator (its Windows version "
        "decides; nothing in this VM can)",
        steps=(
            "# Upgrade the host to",
            f"# {target} or later:",
            f"# {cpu} nesting needs host build {build} or later (winver shows it)",
            f"# Then, with this VM off: configuration version {version} or later.",
            "# Irreversible: the VM then runs only on hosts of that version or later.",
            "Update-VMVersion -Name <VM>",
            "Set-VMProcessor -VMName <VM> -ExposeVirtualizationExtensions $true",
            "# Or move this VM to",
            f"# {elsewhere},",
            "# or to a different L0 hypervisor",
        ),
        source=f"{sources.MS_ENABLE}; {sources.MS_VM_VERSIONS}",
    )


REMEDIATIONS: Mapping[str, Remediation] = {
    "hyperv-host-upgrade-intel": _host_upgrade(
        "Intel", "Windows Server 2016 / Windows 10 version 1607", 14393, "8.0"),
    "hyperv-host-upgrade-amd": _host_upgrade(
        "AMD", "Windows Server 2022 / Windows 11", 20348, "9.3",
        "an Intel host (Windows Server 2016 / Windows 10 or later)"),
    "vm-resources": Remediation(
        layer="outer-hypervisor",
        where="in the hypervisor that runs this VM, with this VM off: give it at least 2 "
        "virtual processors and 4 GB of memory",
        steps=(
            "Hyper-V (PowerShell): Set-VMProcessor -VMName <VM> -Count 2",
            "Hyper-V (PowerShell): Set-VMMemory -VMName <VM> -StartupBytes 4GB",
            "KVM/libvirt: virsh setvcpus <VM> 2 --config",
            "KVM/libvirt: virsh setmaxmem <VM> 4G --config; virsh setmem <VM> 4G --config",
            "VirtualBox: VBoxManage modifyvm <VM> --cpus 2 --memory 4096",
            "VMware: the VM's processor and memory settings",
        ),
        source=sources.MS_CONTAINERS,
    ),
    "cloud-resize": Remediation(
        layer="cloud",
        where="with this cloud provider, for this instance (stopped to resize)",
        steps=("Resize to an instance type with at least 2 vCPUs and 4 GiB of memory",),
        source=sources.MS_CONTAINERS,
    ),
    "vcpus-225": Remediation(
        layer="outer-hypervisor",
        where="on the Hyper-V host, in PowerShell as Administrator, with this VM off",
        steps=(
            "# A Windows Server 2019 (or earlier) first-level VM: at most 225 vCPUs",
            "Set-VMProcessor -VMName <VM> -Count 225",
            "# or run Windows Server 2022 or later in this VM",
        ),
        source=sources.MS_ENABLE,
    ),
    "xen-pv-to-hvm": Remediation(
        layer="outer-hypervisor",
        where="in dom0, in this domain's xl.cfg (a PV domain cannot use VT-x/AMD-V at all)",
        steps=(
            "type = \"hvm\"   # PV domains get no VMX/SVM; only HVM domains can nest",
            "nestedhvm = 1",
            "hap = 1",
            "xl shutdown <domain> && xl create /etc/xen/<domain>.cfg",
            "# Nested HVM is 'Experimental' in Xen's SUPPORT.md",
        ),
        source=sources.XEN_NESTED,
    ),
    "hyperv-expose-intel": Remediation(
        layer="outer-hypervisor",
        where=_HYPERV_WHERE,
        steps=(
            "# Host (Intel VT-x + EPT): Windows Server 2016 / Windows 10 or later",
            "Get-VM -Name <VM> | Select-Object Name, Version, State",
            "# Only if Version < 8.0 (no saved state). Irreversible: the VM then runs",
            "# only on hosts of that version or later.",
            "Update-VMVersion -Name <VM>",
            "Set-VMProcessor -VMName <VM> -ExposeVirtualizationExtensions $true",
            "Start-VM -Name <VM>",
        ),
        source=f"{sources.MS_ENABLE}; {sources.MS_VM_VERSIONS}",
    ),
    "hyperv-expose-amd": Remediation(
        layer="outer-hypervisor",
        where=_HYPERV_WHERE,
        steps=(
            "# Host (AMD EPYC/Ryzen): Windows Server 2022 / Windows 11 or later; on a",
            "# Windows 10 / Server 2019 host AMD nesting is unavailable: upgrade it",
            "Get-VM -Name <VM> | Select-Object Name, Version, State",
            "# Only if Version < 9.3. Irreversible: the VM then runs only on hosts",
            "# of that version or later.",
            "Update-VMVersion -Name <VM>",
            "Set-VMProcessor -VMName <VM> -ExposeVirtualizationExtensions $true",
            "Start-VM -Name <VM>",
        ),
        source=f"{sources.MS_ENABLE}; {sources.MS_VM_VERSIONS}",
    ),
    "vmware-expose": Remediation(
        layer="outer-hypervisor",
        where="in the VMware product that runs this VM (vSphere/ESXi, Workstation or Fusion), "
        "with this VM powered off",
        steps=(
            "vSphere/ESXi (virtual hardware version 9 or later): Edit Settings > CPU >",
            "  'Expose hardware assisted virtualization to the guest OS'",
            "Workstation: VM Settings > Processors >",
            "  'Virtualize Intel VT-x/EPT or AMD-V/RVI'",
            "Fusion (Intel Mac): Processors & Memory > Advanced >",
            "  'Enable hypervisor applications in this virtual machine'",
            "or in the .vmx file: vhv.enable = \"TRUE\"",
            "Workstation on a Windows host that runs Hyper-V/VBS/WSL2 cannot nest:",
            "  turn those off on that host first",
        ),
        source=f"{sources.VMWARE_KB}; {sources.VMWARE_DESKTOP}",
    ),
    "virtualbox-nested": Remediation(
        layer="outer-hypervisor",
        where="on the VirtualBox host, as the user who owns the VM, with this VM powered off",
        steps=(
            "VBoxManage modifyvm \"<VM>\" --nested-hw-virt on",
            "GUI: Settings > System > Processor > 'Enable Nested VT-x/AMD-V' (needs",
            "  nested paging)",
            "Not available while VirtualBox runs on Hyper-V (a Windows host with",
            "  Hyper-V, VBS or WSL2): turn the Windows hypervisor off on that host",
        ),
        source=sources.VIRTUALBOX_NESTED,
    ),
    "kvm-nested-intel": _kvm("kvm_intel", "vmx"),
    "kvm-nested-amd": _kvm("kvm_amd", "svm"),
    "xen-nestedhvm": Remediation(
        layer="outer-hypervisor",
        where="in dom0, in this domain's xl.cfg, then destroy and re-create the domain",
        steps=(
            "nestedhvm=1",
            "hap=1",
            "xl shutdown <domain> && xl create /etc/xen/<domain>.cfg",
            "# Nested HVM is 'Experimental' in Xen's SUPPORT.md",
            "# On an AWS EC2 Xen instance (older families) Xen is not yours to",
            "# configure: use a .metal type, or C8i/M8i/R8i with nesting enabled",
        ),
        source=sources.XEN_NESTED,
    ),
    "parallels-nested": Remediation(
        layer="outer-hypervisor",
        where="on the Mac running Parallels Desktop, with this VM shut down",
        steps=(
            "prlctl set \"<VM>\" --nested-virt on",
            "GUI: Configure > Hardware > CPU & Memory > Advanced > 'Enable nested",
            "  virtualization'",
        ),
        source=sources.PARALLELS_NESTED,
    ),
    "unknown-outer": Remediation(
        layer="outer-hypervisor",
        where="in the hypervisor that runs this VM (not identified from here: ask its "
        "administrator), with this VM off",
        steps=(
            "Enable the VM's CPU setting that exposes hardware virtualization to the",
            "  guest (nested virtualization, expose VT-x/AMD-V, nested-hw-virt, vhv)",
        ),
        source=sources.MS_NESTED,
    ),
    "hidden-hypervisor": Remediation(
        layer="outer-hypervisor",
        where="if this OS is in fact a VM whose hypervisor hides itself (hypervisor bit "
        "clear), in that hypervisor, with this VM off",
        steps=(
            "VirtualBox: VBoxManage modifyvm \"<VM>\" --nested-hw-virt on",
            "VMware: vhv.enable = \"TRUE\" (and remove hypervisor.cpuid.v0 = \"FALSE\")",
        ),
        source=f"{sources.VIRTUALBOX_NESTED}; {sources.VMWARE_DESKTOP}",
    ),
    "azure-trusted-launch": Remediation(
        layer="cloud",
        where="Azure CLI (Cloud Shell, sh), for this VM: verify before re-creating it "
        "(the security type cannot be changed in place)",
        steps=(
            "# Verify: Microsoft's pages now disagree on nesting under Trusted Launch",
            "az vm show -g <RG> -n <VM> --query securityProfile.securityType",
            "# Standard needs the subscription feature UseStandardSecurityType:",
            "az feature register --namespace Microsoft.Compute \\",
            "  --name UseStandardSecurityType",
            "az provider register --namespace Microsoft.Compute",
            "# Only if TrustedLaunch and VT-x stays hidden: re-create the VM with",
            "# az vm create ... --security-type Standard",
        ),
        source=f"{sources.MS_ENABLE}; {sources.WSL_TROUBLESHOOTING}; "
        f"{sources.AZURE_TRUSTED_LAUNCH}; {sources.AZURE_TRUSTED_LAUNCH_FAQ}; "
        f"{sources.AZURE_CLI_VM_PARAMS}",
    ),
    "azure-resize": Remediation(
        layer="cloud",
        where="Azure CLI (Cloud Shell, sh), for this VM (it is stopped during the resize)",
        steps=(
            "# A size whose page says 'Nested Virtualization: Supported' (Dv5, Dsv6,",
            "# Dasv5/Dasv6, Ev5; not A, B, Dv2, AMD v4, Arm, HPC or confidential)",
            "az vm deallocate -g <RG> -n <VM>",
            "az vm resize -g <RG> -n <VM> --size Standard_D4s_v5",
            "az vm start -g <RG> -n <VM>",
        ),
        source=f"{sources.AZURE_SIZES}; {sources.AZURE_ACU}",
    ),
    "azure-nonconfidential": Remediation(
        layer="cloud",
        where="Azure portal / CLI: a new VM (confidential and standard sizes do not convert)",
        steps=(
            "Re-create the VM on a non-confidential size with nested support (e.g.",
            "  Dsv5/Dsv6, Dasv5) and Security type Standard",
        ),
        source=sources.AZURE_SIZES,
    ),
    "non-confidential": Remediation(
        layer="outer-hypervisor",
        where="whoever provisions this VM (cloud console or hypervisor administrator)",
        steps=(
            "Use a VM that is not confidential (no SEV-SNP/TDX isolation), with",
            "  nested virtualization enabled",
        ),
        source=sources.AZURE_SIZES,
    ),
    "cloud-other": Remediation(
        layer="cloud",
        where="with this cloud provider (its users do not control the hypervisor)",
        steps=(
            "Choose an instance type or option the provider documents for nested",
            "  virtualization, or a bare-metal instance",
        ),
        source=sources.MS_NESTED,
    ),
    "aws-enable": Remediation(
        layer="cloud",
        where="AWS CLI (sh), with this instance stopped",
        steps=(
            "aws ec2 stop-instances --instance-ids <id>",
            "aws ec2 modify-instance-cpu-options --instance-id <id> \\",
            "  --core-count <n> --threads-per-core <n> \\",
            "  --nested-virtualization enabled",
            "aws ec2 start-instances --instance-ids <id>",
            "# New instances: aws ec2 run-instances ... with",
            "#   --cpu-options NestedVirtualization=enabled",
        ),
        source=sources.AWS_NESTED,
    ),
    "aws-move": Remediation(
        layer="cloud",
        where="AWS CLI (sh): change the instance type (stopped) or launch a new instance",
        steps=(
            "# Virtual instances nest only on C8i, M8i, R8i (and flex/d variants);",
            "# Graviton and AMD virtual types do not",
            "aws ec2 modify-instance-attribute --instance-id <id> \\",
            "  --instance-type Value=m8i.xlarge",
            "aws ec2 modify-instance-cpu-options --instance-id <id> \\",
            "  --core-count <n> --threads-per-core <n> \\",
            "  --nested-virtualization enabled",
            "# or a bare-metal type (*.metal): no hypervisor below the OS",
        ),
        source=sources.AWS_NESTED,
    ),
    "gcp-enable": Remediation(
        layer="cloud",
        where="gcloud (sh), as a user who may create instances in this project",
        steps=(
            "gcloud compute instances create <NAME> --enable-nested-virtualization \\",
            "  --min-cpu-platform=\"Intel Haswell\" --machine-type=n2-standard-4",
            "# An existing VM (stopped): export it, set",
            "# advancedMachineFeatures.enableNestedVirtualization: true, update it",
            "gcloud compute instances export <NAME> --destination=vm.yaml",
            "gcloud compute instances update-from-file <NAME> --source=vm.yaml \\",
            "  --most-disruptive-allowed-action=RESTART",
            "# The org policy constraints/compute.disableNestedVirtualization must",
            "# not be enforced",
        ),
        source=f"{sources.GCP_NESTED}; {sources.GCP_ENABLE}",
    ),
    "gcp-intel": Remediation(
        layer="cloud",
        where="gcloud / Cloud console: a new VM on an Intel machine series",
        steps=(
            "AMD (N2D, C2D, ...) and Arm VMs cannot nest on Compute Engine:",
            "  use an Intel series (N1, N2, C2, C3) with --enable-nested-virtualization",
        ),
        source=sources.GCP_NESTED,
    ),
    "firmware-enable": Remediation(
        layer="firmware",
        where="in this machine's UEFI/BIOS setup at power-on",
        steps=(
            "Enable 'Intel Virtualization Technology' (VT-x) or 'SVM Mode' (AMD-V)",
            "Save, then power off completely (a cold boot applies the setting)",
            "Windows afterwards, in a Command Prompt as Administrator:",
            "  bcdedit /set hypervisorlaunchtype auto",
        ),
        source=sources.WSL_TROUBLESHOOTING,
    ),
    "windows-hypervisor-off": Remediation(
        layer="this-os",
        where="on this Windows host, in a Command Prompt as Administrator, then restart",
        steps=(
            "bcdedit /set hypervisorlaunchtype off",
            "REM Off: Hyper-V, WSL2, Windows Sandbox, Credential Guard and Memory",
            "REM integrity (HVCI) stop working; on a managed PC Intune or",
            "REM Group Policy turns VBS back on.",
            "REM Undo: bcdedit /set hypervisorlaunchtype auto",
            "REM Memory integrity: Windows Security > Device security > Core isolation",
        ),
        source=f"{sources.WSL_TROUBLESHOOTING}; {sources.CREDENTIAL_GUARD}",
    ),
    # --- in this Windows, at the layer it owns (verdicts/windows.py attaches most) -------
    "windows-upgrade-edition": Remediation(
        layer="this-os",
        where="in this Windows (Settings), then restart",
        steps=(
            "Settings > System > Activation > Upgrade your edition of Windows",
            "  (Windows 10: Settings > Update & Security > Activation): to Pro,",
            "  Enterprise or Education",
            "then, in PowerShell as Administrator:",
            "  Enable-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V -All",
            "WSL2 needs no upgrade: wsl --install works on Home",
        ),
        source=f"{sources.MS_INSTALL_HYPERV}; {sources.MS_HYPERV_REQ}",
    ),
    "windows-enable-hyperv": Remediation(
        layer="this-os",
        where="in this Windows, in PowerShell as Administrator, then restart",
        steps=(
            "Enable-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V -All",
            "# or: DISM /Online /Enable-Feature /All /FeatureName:Microsoft-Hyper-V",
            "Restart-Computer",
        ),
        source=sources.MS_INSTALL_HYPERV,
    ),
    "windows-install-hyperv-server": Remediation(
        layer="this-os",
        where="on this Windows Server, in PowerShell as Administrator (it restarts)",
        steps=("Install-WindowsFeature -Name Hyper-V -IncludeManagementTools -Restart",),
        source=sources.MS_INSTALL_HYPERV,
    ),
    "windows-hypervisor-launch": Remediation(
        layer="this-os",
        where="in this Windows, in a Command Prompt as Administrator, then restart "
        "(if the feature is installed but the Windows hypervisor did not launch)",
        steps=(
            "REM Off means it never starts:",
            "bcdedit /enum {current} | findstr -i hypervisorlaunchtype",
            "bcdedit /set hypervisorlaunchtype auto",
            "REM On: VMware and VirtualBox then run on it, without nested VT-x",
            "shutdown /r /t 0",
            "REM Still not running after the restart: Event Viewer > Applications and",
            "REM Services Logs > Microsoft > Windows > Hyper-V-Hypervisor says why",
        ),
        source=sources.WSL_TROUBLESHOOTING,
    ),
    "windows-wsl-install": Remediation(
        layer="this-os",
        where="in this Windows, in a Command Prompt as Administrator, then restart",
        steps=(
            "wsl --install",
            "REM after the restart, this says Default Version: 2",
            "wsl --status",
        ),
        source=f"{sources.WSL_INSTALL}; {sources.WSL_SERVER}",
    ),
    "windows-wsl-manual": Remediation(
        layer="this-os",
        where="in this Windows, in PowerShell as Administrator (this build predates "
        "wsl --install), then restart",
        steps=(
            "dism.exe /online /enable-feature /all /norestart `",
            "  /featurename:Microsoft-Windows-Subsystem-Linux",
            "dism.exe /online /enable-feature /all /norestart `",
            "  /featurename:VirtualMachinePlatform",
            "# restart, install the WSL 2 Linux kernel update package, then:",
            "wsl --set-default-version 2",
        ),
        source=sources.WSL_INSTALL_MANUAL,
    ),
    "windows-vm-platform": Remediation(
        layer="this-os",
        where="in this Windows, in PowerShell as Administrator, then restart (if WSL is "
        "installed but WSL2 fails with 0x80370102)",
        steps=(
            "Enable-WindowsOptionalFeature -Online -All `",
            "  -FeatureName VirtualMachinePlatform",
            "# VMware and VirtualBox then run on the Windows hypervisor, without",
            "# nested VT-x for their guests",
            "bcdedit /set hypervisorlaunchtype auto",
            "Restart-Computer",
        ),
        source=sources.WSL_TROUBLESHOOTING,
    ),
    "windows-hypervisor-platform": Remediation(
        layer="this-os",
        where="in this Windows, in PowerShell as Administrator, then restart (if a VM "
        "created here found no Windows Hypervisor Platform: nestprobe --prove)",
        steps=(
            "Enable-WindowsOptionalFeature -Online -FeatureName HypervisorPlatform",
            "Restart-Computer",
        ),
        source=sources.WHP_API,
    ),
    "windows-enable-containers": Remediation(
        layer="this-os",
        where="in this Windows, in PowerShell as Administrator, then restart (skip what "
        "Get-WindowsOptionalFeature already shows Enabled)",
        steps=(
            "Enable-WindowsOptionalFeature -Online -FeatureName Containers -All",
            "Restart-Computer",
        ),
        source=f"{sources.MS_CONTAINERS_SETUP}; {sources.MS_CONTAINERS}",
    ),
    "windows-install-containers-server": Remediation(
        layer="this-os",
        where="on this Windows Server, in PowerShell as Administrator (it restarts)",
        steps=("Install-WindowsFeature -Name Containers -Restart",),
        source=sources.MS_CONTAINERS_SETUP,
    ),
    # --- moving this Windows to a newer release: a path that exists for its product ------
    "windows-feature-update": Remediation(
        layer="this-os",
        where="in this Windows 10/11: Settings > Windows Update (Windows 10: Settings > "
        "Update & Security > Windows Update), then restart",
        steps=(
            "Install the latest feature update; winver shows the version and OS build",
            "WSL 2 needs Windows 10 version 1903 build 18362.1049 or later (x64),",
            "  version 2004 build 19041 (ARM64), or Windows 11",
        ),
        source=sources.WSL_INSTALL_MANUAL,
    ),
    "windows-client-reinstall": Remediation(
        layer="this-os",
        where="this Windows release has no feature update to Windows 10/11 through "
        "Windows Update: a new installation (back up first)",
        steps=(
            "Check the hardware against Windows 11's (or Windows 10's) requirements",
            "Install Windows 10/11 (a licence for it is needed) from Microsoft's",
            "  installation media: microsoft.com/software-download",
            "Hyper-V then needs Pro, Enterprise or Education, 64-bit",
        ),
        source=f"{sources.WIN11_REQUIREMENTS}; {sources.MS_INSTALL_HYPERV}",
    ),
    "windows-server-upgrade": Remediation(
        layer="this-os",
        where="on this Windows Server: an in-place upgrade from Windows Server media, or a "
        "new installation (Windows Update does not change the Server release)",
        steps=(
            "Run setup.exe from the newer Windows Server media, 'Keep files,",
            "  settings, and apps' (the supported in-place upgrade paths are listed",
            "  in Microsoft's upgrade overview), or rebuild on the newer release",
            "WSL 2 needs Windows Server 2022 (build 20348) or later: Windows Server",
            "  2019 is build 17763, below WSL 2's build 18362.1049",
        ),
        source=f"{sources.WS_UPGRADE}; {sources.WSL_INSTALL_MANUAL}",
    ),
    "kvm-access": Remediation(
        layer="this-os",
        where="on this machine, as root (sh)",
        steps=(
            "sudo usermod -aG kvm \"$USER\"   # then log in again",
            "# or a udev rule for everyone:",
            "echo 'KERNEL==\"kvm\", GROUP=\"kvm\", MODE=\"0666\", "
            "OPTIONS+=\"static_node=kvm\"' \\",
            "  | sudo tee /etc/udev/rules.d/99-kvm4all.rules",
            "sudo udevadm control --reload-rules",
            "sudo udevadm trigger --name-match=kvm",
        ),
        source=sources.KVM_ACCESS,
    ),
    "kvm-module": Remediation(
        layer="this-os",
        where="on this machine, as root (sh)",
        steps=(
            "sudo modprobe kvm_intel   # Intel; kvm_amd on AMD",
            "dmesg | grep -i kvm   # why it refused, if it did",
        ),
        source=sources.KVM_NESTED,
    ),
    "container-device": Remediation(
        layer="host-os",
        where="on the container host (sh), when starting this container",
        steps=(
            "docker run --device /dev/kvm ...   # podman run --device /dev/kvm ...",
        ),
        source=sources.DOCKER_DEVICE,
    ),
    "pvm-explain": Remediation(
        layer="this-os",
        where="on this machine (no change makes PVM run unmodified guests)",
        steps=(
            "/dev/kvm here is served by kvm_pvm (software nesting, no VT-x/AMD-V):",
            "  only guests whose kernel is built for PVM run",
            "Windows, stock Linux kernels, Android emulator images, VirtualBox and",
            "  VMware need hardware VT-x/AMD-V, which the outer hypervisor must expose",
        ),
        source=sources.PVM,
    ),
    "wsl-nested": Remediation(
        layer="host-os",
        where="on the Windows host, in %UserProfile%\\.wslconfig (Windows 11 only), then "
        "wsl --shutdown and start the distribution again",
        steps=(
            "[wsl2]",
            "nestedVirtualization=true",
            "; an Intune policy 'Allow nested virtualization' can forbid it",
        ),
        source=sources.WSL_CONFIG,
    ),
    "qemu-accel": Remediation(
        layer="outer-hypervisor",
        where="where this QEMU is started (it emulates the CPU: nothing inside can enable "
        "VT-x)",
        steps=(
            "Linux host: -accel kvm -cpu host; Windows host: -accel whpx;",
            "  Intel Mac: -accel hvf",
        ),
        source=sources.QEMU_ACCEL,
    ),
    "x86-emulator": Remediation(
        layer="host-os",
        where="on the machine running the x86 emulation (e.g. Windows on Arm)",
        steps=(
            "An instruction emulator exposes no VT-x/AMD-V: run this workload on an",
            "  x86-64 machine, or use the host's own hypervisor with a native guest",
        ),
        source=sources.WOA_EMULATION,
    ),
    "xen-dom0": Remediation(
        layer="this-os",
        where="in this dom0's Xen toolstack",
        steps=(
            "Xen owns VT-x/AMD-V on this machine: create HVM/PVH guests with",
            "  xl create instead of KVM or VirtualBox",
        ),
        source=sources.XEN_DOM0,
    ),
}
# Each entry carries its key: scripts match steps by id (verdicts/readiness.py, --json).
# Written into the entries just made above, which nothing else holds yet (a copy of each,
# by replace() or the constructor, was a third of this module's import).
for _rid, _entry in REMEDIATIONS.items():
    object.__setattr__(_entry, "id", _rid)
del _rid, _entry

Shell = Literal["cmd", "powershell", "sh"]
#: The shell each entry's steps are written for, which its ``where`` names: every step is
#: a line of that shell, its notes the shell's own comments (``REM`` in cmd.exe, where
#: ``#`` is an argument; ``#`` in PowerShell and sh). Entries not listed are prose
#: (settings, GUI paths, a config file's lines). tests/test_commands.py runs the cmd
#: lines through wine's cmd.exe and parses the others.
SHELLS: Mapping[str, Shell] = {
    "windows-hypervisor-off": "cmd",
    "windows-hypervisor-launch": "cmd",
    "windows-wsl-install": "cmd",
    "hyperv-host-upgrade-intel": "powershell",
    "hyperv-host-upgrade-amd": "powershell",
    "vcpus-225": "powershell",
    "hyperv-expose-intel": "powershell",
    "hyperv-expose-amd": "powershell",
    "windows-enable-hyperv": "powershell",
    "windows-install-hyperv-server": "powershell",
    "windows-wsl-manual": "powershell",
    "windows-vm-platform": "powershell",
    "windows-hypervisor-platform": "powershell",
    "windows-enable-containers": "powershell",
    "windows-install-containers-server": "powershell",
    "kvm-nested-intel": "sh",
    "kvm-nested-amd": "sh",
    "azure-trusted-launch": "sh",
    "azure-resize": "sh",
    "aws-enable": "sh",
    "aws-move": "sh",
    "gcp-enable": "sh",
    "kvm-access": "sh",
    "kvm-module": "sh",
    "container-device": "sh",
}

#: Option id -> the goal it serves (the entry is the same REMEDIATIONS one).
OPTION_GOALS: Mapping[str, str] = {
    "windows-hypervisor-off": "only if you want VMware Workstation or VirtualBox guests to get "
    "nested VT-x/AMD-V: Hyper-V, WSL2, Windows Sandbox, Credential Guard and Memory integrity "
    "(HVCI) stop working while it is off, and on a managed PC Intune or Group Policy turns "
    "VBS back on",
    "qemu-accel": "to run guests at hardware speed instead of under full CPU emulation",
}

#: Outer hypervisor (and CPU where it matters) -> its fix; cloud -> its fix.
_OUTER_FIX: Mapping[tuple[str, str], str] = {
    ("hyperv", "amd"): "hyperv-expose-amd",
    ("hyperv", ""): "hyperv-expose-intel",
    ("kvm", "amd"): "kvm-nested-amd",
    ("kvm", ""): "kvm-nested-intel",
    ("vmware", ""): "vmware-expose",
    ("virtualbox", ""): "virtualbox-nested",
    ("xen", ""): "xen-nestedhvm",
    ("parallels", ""): "parallels-nested",
    ("hidden", ""): "hidden-hypervisor",
}
_CLOUD_FIX: Mapping[str, tuple[str, ...]] = {
    "azure": ("azure-trusted-launch", "azure-resize"),
    "aws": ("aws-move",),
    "gcp": ("gcp-enable",),
}


def _hypervisor_fix(outer: str, cpu: str) -> str | None:
    return _OUTER_FIX.get((outer, cpu)) or _OUTER_FIX.get((outer, ""))


def outer_fix(situation: Situation) -> tuple[str, ...]:
    """The remediation ids for whoever runs this VM, most likely first."""
    if situation.cloud in _CLOUD_FIX:
        return _CLOUD_FIX[situation.cloud]
    if situation.cloud == "other":
        return ("cloud-other",)
    keys = [key for outer in (situation.outer, *situation.alternatives)
            if (key := _hypervisor_fix(outer, situation.cpu)) is not None]
    return tuple(dict.fromkeys(keys)) or ("unknown-outer",)


def _expand(rid: str, situation: Situation) -> tuple[str, ...]:
    if rid == OUTER:
        return outer_fix(situation)
    if rid == RESOURCES:
        if situation.cloud != "none":
            return ("cloud-resize",)
        return ("vm-resources",) if situation.place in ("vm", "hyperv-l1vh") else ()
    return (rid,)


def resolve(ids: tuple[str, ...], situation: Situation) -> tuple[Remediation, ...]:
    """Look the ids up, expanding :data:`OUTER` and :data:`RESOURCES`; unknown ids are a
    programming error."""
    out: list[Remediation] = []
    for rid in ids:
        for key in _expand(rid, situation):
            entry = _named(REMEDIATIONS[key], situation)
            if entry not in out:
                out.append(entry)
    return tuple(out)


def _named(entry: Remediation, situation: Situation) -> Remediation:
    """A Hyper-V host's steps with this VM's name and host filled in, when the Windows guest
    parameters (the host's data exchange) told them."""
    if situation.outer != "hyperv" or entry.layer != "outer-hypervisor":
        return entry
    if situation.vm_name:
        quoted = "'" + situation.vm_name.replace("'", "''") + "'"  # a PowerShell literal
        entry = replace(entry, steps=tuple(s.replace("<VM>", quoted) for s in entry.steps))
    if situation.host_name:
        entry = replace(entry, where=entry.where.replace(
            "on the Hyper-V host", f"on the Hyper-V host {situation.host_name}", 1))
    return entry


def resolve_options(ids: tuple[str, ...]) -> tuple[Remediation, ...]:
    """Options: the entries with the goal they serve."""
    return tuple(replace(REMEDIATIONS[rid], goal=OPTION_GOALS[rid]) for rid in ids)
