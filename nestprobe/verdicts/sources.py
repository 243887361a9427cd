"""Where every rule, condition and remediation comes from (checked against the primary text).

Repo paths name the file in its GitHub repository; URLs name the published page.
"""

from __future__ import annotations

#: "What is Nested Virtualization for Hyper-V?" (ms.date 06/10/2025): supported scenarios,
#: Azure Local evaluation-only, non-Microsoft virtualization either way unsupported.
MS_NESTED = (
    "MicrosoftDocs/windowsserverdocs WindowsServerDocs/virtualization/hyper-v/"
    "nested-virtualization.md"
)
#: "Run Hyper-V in a Virtual Machine with Nested Virtualization" (ms.date 06/10/2025):
#: Intel WS2016+/Win10+ and config 8.0; AMD WS2022+/Win11+ and 9.3; Azure "Standard".
MS_ENABLE = (
    "MicrosoftDocs/windowsserverdocs WindowsServerDocs/virtualization/hyper-v/"
    "enable-nested-virtualization.md"
)
#: Container hosts running Hyper-V isolation: >= 4 GB RAM, >= 2 virtual processors.
MS_CONTAINERS = (
    "MicrosoftDocs/Virtualization-Documentation virtualization/windowscontainers/"
    "deploy-containers/system-requirements.md"
)
#: Supported VM configuration versions per host: 8.0 from Windows Server 2016 / Windows 10
#: 1607, 9.3 from Windows Server 2022 / Windows 11; "Nested Virtualization: 8.0".
MS_VM_VERSIONS = (
    "MicrosoftDocs/windowsserverdocs WindowsServerDocs/virtualization/hyper-v/deploy/"
    "Upgrade-virtual-machine-version-in-Hyper-V-on-Windows-or-Windows-Server.md"
)
#: Linux: a Hyper-V partition only under the "Microsoft Hv" signature.
LINUX_MSHYPERV = "torvalds/linux arch/x86/kernel/cpu/mshyperv.c ms_hyperv_platform"
#: Hyper-V needs SLAT; "A hypervisor has been detected" in a root partition is not a failure.
MS_HYPERV_REQ = (
    "MicrosoftDocs/Virtualization-Documentation virtualization/hyper-v-on-windows/"
    "reference/hyper-v-requirements.md"
)
#: WSL 0x80370102: nested in a VM, Trusted Launch on Azure, firmware on physical machines.
WSL_TROUBLESHOOTING = "MicrosoftDocs/WSL WSL/troubleshooting.md"
WSL_FAQ = "MicrosoftDocs/WSL WSL/faq.yml"
#: .wslconfig [wsl2] nestedVirtualization: "Only available on Windows 11".
WSL_CONFIG = "MicrosoftDocs/WSL WSL/wsl-config.md"
#: Azure size pages: "Feature support - Nested Virtualization: Supported / Not Supported".
AZURE_SIZES = "https://learn.microsoft.com/azure/virtual-machines/sizes/overview"
#: ACU page: families marked *** are "capable of running nested virtualization".
AZURE_ACU = "MicrosoftDocs/azure-compute-docs articles/virtual-machines/acu.md"
AZURE_TRUSTED_LAUNCH_FAQ = (
    "MicrosoftDocs/azure-compute-docs articles/virtual-machines/trusted-launch-faq.md"
)
#: "Supported instance types: C8i, M8i, R8i"; KVM and Hyper-V as L1; modify-instance-cpu-options.
AWS_NESTED = (
    "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/amazon-ec2-nested-virtualization.html"
)
#: "The only hypervisor supported in an L1 VM is Linux KVM; Microsoft Hyper-V isn't
#: supported"; "You can't use VMs powered by AMD and Arm processors".
GCP_NESTED = "https://cloud.google.com/compute/docs/instances/nested-virtualization/overview"
GCP_ENABLE = (
    "https://cloud.google.com/compute/docs/instances/"
    "enable-nested-virtualization-vm-instances"
)
#: "From Linux kernel v4.20 onwards, the nested KVM parameter is enabled by default".
KVM_NESTED = "torvalds/linux Documentation/virt/kvm/x86/running-nested-guests.rst"
PROXMOX_NESTED = "https://pve.proxmox.com/wiki/Nested_Virtualization"
#: "Expose hardware assisted virtualization to the guest OS"; nesting other hypervisors in a
#: vSphere VM "is not a supported scenario".
VMWARE_KB = "VMware KB 2009916 (Support for running ESXi/ESX as a nested virtualization solution)"
#: Workstation "Virtualize Intel VT-x/EPT or AMD-V/RVI", Fusion "Enable hypervisor applications".
VMWARE_DESKTOP = "https://github.com/docker/for-win/issues/4470"
VIRTUALBOX_NESTED = (
    "https://docs.oracle.com/en/virtualization/virtualbox/7.0/user/AdvancedTopics.html"
    "#nested-virt"
)
#: xl.cfg nestedhvm: "disabled by default"; SUPPORT.md: Nested HVM is "Experimental".
XEN_NESTED = "xen-project/xen docs/man/xl.cfg.5.pod.in (nestedhvm); SUPPORT.md (Nested HVM)"
#: Xen owns VT-x/AMD-V; dom0 is a PV guest of it.
XEN_DOM0 = "xen-project/xen docs/man/xl.cfg.5.pod.in (type=hvm/pvh/pv)"
PARALLELS_NESTED = "Parallels Desktop Command-Line Reference: prlctl set --nested-virt"
#: Pagetable-based Virtual Machine: a KVM backend that runs PVM-enabled guest kernels
#: without VMX/SVM.
PVM = "virt-pvm/linux arch/x86/kvm/pvm/pvm.c"
#: TCG emulates SVM (VMRUN, nested paging), so KVM runs inside a TCG guest; the lab does so.
QEMU_TCG_SVM = "qemu/qemu target/i386/tcg/sysemu/svm_helper.c"
QEMU_ACCEL = "https://www.qemu.org/docs/master/system/introduction.html#virtualisation-accelerators"
WOA_EMULATION = "https://learn.microsoft.com/windows/arm/apps-on-arm-x86-emulation"
#: /dev/kvm root:kvm 0660 and the user not in the group: udev rule or usermod.
KVM_ACCESS = "https://github.com/actions/runner-images/issues/7670"
#: The Windows Hypervisor Platform API (WinHvPlatform.dll, the --prove path on Windows);
#: the optional feature that provides it is named HypervisorPlatform (as in
#: MicrosoftDocs/Virtualization-Documentation issue #889 and utshina/WHP-simple).
WHP_API = "https://learn.microsoft.com/virtualization/api/hypervisor-platform/hypervisor-platform"
DOCKER_DEVICE = "https://docs.docker.com/reference/cli/docker/container/run/#device"
#: systemd-detect-virt ids (the hypervisor.vendor vocabulary).
SYSTEMD_VIRT = "https://www.freedesktop.org/software/systemd/man/latest/systemd-detect-virt.html"
#: Firmware disables VT-x in IA32_FEATURE_CONTROL and leaves CPUID.1:ECX[5] set; Linux then
#: clears only its own vmx flag ("VMX (outside TXT) disabled by BIOS").
FEAT_CTL = "torvalds/linux arch/x86/kernel/cpu/feat_ctl.c"
#: Nothing in the matrix: said so instead of guessed.
NESTPROBE = "nestprobe docs/verdicts.md"
#: "Install Hyper-V" (ms.date 01/15/2025): Install-WindowsFeature -Name Hyper-V
#: -IncludeManagementTools -Restart on Windows Server; Enable-WindowsOptionalFeature -Online
#: -FeatureName Microsoft-Hyper-V -All on Windows; "The Hyper-V role can't be installed on
#: Windows 10 Home or Windows 11 Home."
MS_INSTALL_HYPERV = (
    "MicrosoftDocs/windowsserverdocs WindowsServerDocs/virtualization/hyper-v/get-started/"
    "Install-Hyper-V.md"
)
#: wsl --install: "Windows 10 version 2004 and higher (Build 19041 and higher) or Windows 11".
WSL_INSTALL = "MicrosoftDocs/WSL WSL/install.md"
#: WSL 2: x64 "Version 1903 or later, with Build 18362.1049 or later"; ARM64 2004 / 19041;
#: the manual steps (Microsoft-Windows-Subsystem-Linux, VirtualMachinePlatform).
WSL_INSTALL_MANUAL = "MicrosoftDocs/WSL WSL/install-manual.md"
#: Windows Server 2022 and 2025 take wsl --install; Server 2019 the manual steps.
WSL_SERVER = "MicrosoftDocs/WSL WSL/install-on-server.md"
#: Enable-WindowsOptionalFeature -Online -FeatureName containers -All (Windows 10/11, with
#: Microsoft-Hyper-V for Hyper-V isolation); Install-WindowsFeature -Name Containers (Server).
MS_CONTAINERS_SETUP = (
    "MicrosoftDocs/Virtualization-Documentation virtualization/windowscontainers/quick-start/"
    "set-up-environment.md"
)
#: Trusted Launch (ms.date 04/21/2025): nested virtualization no longer listed among the
#: unsupported features, while MS_ENABLE and WSL_TROUBLESHOOTING still say "Standard".
AZURE_TRUSTED_LAUNCH = (
    "MicrosoftDocs/azure-compute-docs articles/virtual-machines/trusted-launch.md"
)
#: az vm create --security-type: "The value Standard can be used if subscription has feature
#: flag UseStandardSecurityType registered under Microsoft.Compute namespace."
AZURE_CLI_VM_PARAMS = "Azure/azure-cli src/azure-cli/azure/cli/command_modules/vm/_params.py"
#: "If you disable Virtualization-based Security (VBS), you'll automatically disable
#: Credential Guard and other features that rely on VBS"; VBS and Credential Guard are set
#: by Intune/MDM and Group Policy (which re-apply them).
CREDENTIAL_GUARD = (
    "MicrosoftDocs/windows-itpro-docs windows/security/identity-protection/credential-guard/"
    "configure.md"
)
#: Windows 11's requirements, including the Windows 10 release a device upgrades from.
WIN11_REQUIREMENTS = "MicrosoftDocs/windows-itpro-docs windows/whats-new/windows-11-requirements.md"
#: Windows Server in-place upgrade from installation media (setup.exe, keep files and apps).
WS_UPGRADE = (
    "MicrosoftDocs/windowsserverdocs WindowsServerDocs/get-started/perform-in-place-upgrade.md"
)
#: The 2016 nesting page (Virtualization-Documentation @26a8adb4): host and guest Windows
#: Server 2016 / Windows 10 Anniversary Update (14393) or later; "dynamic memory must be
#: disabled" with Set-VMMemory -DynamicMemoryEnabled $false.
MS_NESTING_2016 = (
    "MicrosoftDocs/Virtualization-Documentation virtualization/hyperv_on_windows/user_guide/"
    "nesting.md@26a8adb4"
)
#: Azure Local (Azure Stack HCI 23H2) system requirements: "A minimum of 32 GB RAM per node",
#: a 64-bit CPU with SLAT, Intel VT / AMD-V on, TPM 2.0, Secure Boot, validated hardware.
AZURE_LOCAL_REQ = (
    "MicrosoftDocs/azure-stack-docs azure-stack/hci/concepts/system-requirements-23h2.md"
)
#: Linux's Hyper-V Dynamic Memory driver (hv_balloon) binds the VMBus device of class
#: HV_DM_GUID {525074dc-8985-46e2-8057-a307dc18a502} (include/linux/hyperv.h).
LINUX_HV_BALLOON = "torvalds/linux drivers/hv/hv_balloon.c; include/linux/hyperv.h HV_DM_GUID"
