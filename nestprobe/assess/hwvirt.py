"""Hardware virtualization: do VT-x/AMD-V (+SLAT) reach this OS, and can it host VMs?

Keyed on the feature bits, never the vendor string (the corpus has VMX on an AMD
vendor, and 0x8000000A populated with SVM clear). A Hyper-V root partition hides
VMX/SVM yet hosts VMs; a kvm_pvm-backed /dev/kvm hosts PVM guests without them.
Source keys: L-CPUFEAT, L-FEATCTL, L-AMD, L-PROC, L-VMXFEAT, L-NESTDOC, L-KVMH, PVM, TLFS-FD.
"""

from __future__ import annotations

from nestprobe.decode import cpu, cpuinfo, svm, winreport
from nestprobe.decode.bits import Decoded, decode_leaf
from nestprobe.model.assessment import HypervisorFacts, Virtualization
from nestprobe.model.evidence import Evidence, cpuid_source
from nestprobe.model.record import Record
from nestprobe.model.snapshot import KVM_API_VERSION, Snapshot

CPUINFO = cpuinfo.PATH
#: Backends in the order /dev/kvm prefers them when several are loaded.
BACKENDS = ("kvm_intel", "kvm_amd", "kvm_pvm")
HV_SLAT_BIT = 3  # 0x40000006 EAX[3] SecondLevelAddressTranslationInUse (TLFS-FD)


class _Bits(Record):
    vmx: bool | None
    svm: bool | None
    evidence: tuple[Evidence, ...]
    #: VT-x or AMD-V, from a Windows tool that did not say which vendor's (no CPUID)
    either: bool | None = None


def _cpuid_bits(snapshot: Snapshot) -> _Bits:
    table = snapshot.cpuid
    ev: list[Evidence] = []
    vmx = svm_bit = None
    leaf1 = table.get(1)
    if leaf1 is not None:
        vmx = cpu.vmx(leaf1)
        ev.append(Evidence("VT-x (VMX) exposed" if vmx else "VT-x (VMX) not exposed",
                           cpuid_source(1, "ecx", cpu.VMX_BIT), int(vmx)))
    ext = table.get(cpu.EXT_FEATURES_LEAF)
    if ext is not None:
        svm_bit = cpu.svm(ext)
        ev.append(Evidence("AMD-V (SVM) exposed" if svm_bit else "AMD-V (SVM) not exposed",
                           cpuid_source(cpu.EXT_FEATURES_LEAF, "ecx", cpu.SVM_BIT), int(svm_bit)))
    elif (top := table.range_max(cpu.EXT_FEATURES_LEAF)) is not None and top < 0x80000001:
        # The extended range exists but stops before 0x80000001: SVM cannot be advertised.
        svm_bit = False
        ev.append(Evidence("AMD-V (SVM) not exposed (no leaf 0x80000001)",
                           cpuid_source(0x80000000, "eax"), f"{top:#x}"))
    either = None
    if leaf1 is None:
        vmx, svm_bit, either = _reported_bits(snapshot, ev)
        if vmx is None and svm_bit is None and either is None and snapshot.cpuid_status != "ok":
            ev.append(Evidence("CPUID unavailable: VMX/SVM cannot be told", "cpuid-status",
                               snapshot.cpuid_detail or snapshot.cpuid_status))
    return _Bits(vmx, svm_bit, tuple(ev), either)


def _reported_bits(
    snapshot: Snapshot, ev: list[Evidence],
) -> tuple[bool | None, bool | None, bool | None]:
    """(VMX, SVM, either) as a pasted Windows tool printed them: Coreinfo's VMX/SVM lines are
    the CPUID bits; "VM Monitor Mode Extensions" is VT-x or AMD-V by the CPU vendor the paste
    names, and only "either" when it names none."""
    readiness = winreport.read_readiness(snapshot.os)
    vmx = svm_bit = either = None
    for name, reported in (("VT-x (VMX)", readiness.vmx), ("AMD-V (SVM)", readiness.svm)):
        if reported is not None and reported.value is not None:
            ev.append(Evidence(f"{name} {'exposed' if reported.value else 'not exposed'} "
                               "(as Coreinfo printed it)", reported.source, reported.shown))
    if readiness.vmx is not None:
        vmx = readiness.vmx.value
    if readiness.svm is not None:
        svm_bit = readiness.svm.value
    monitor = readiness.vm_monitor
    if vmx is None and svm_bit is None and monitor is not None and monitor.value is not None:
        reported_cpu = winreport.reported_cpu(snapshot.os)
        vendor = reported_cpu.vendor if reported_cpu is not None else None
        amd = vendor in ("AuthenticAMD", "HygonGenuine")
        name = "AMD-V" if amd else "VT-x" if vendor == "GenuineIntel" else "VT-x/AMD-V"
        ev.append(Evidence(f"the CPU {'has' if monitor.value else 'lacks'} {name} (VM Monitor "
                           "Mode Extensions)", monitor.source, monitor.shown))
        if amd:
            svm_bit = monitor.value
        elif vendor == "GenuineIntel":
            vmx = monitor.value
        else:
            either = monitor.value
    return vmx, svm_bit, either


def _windows_firmware(snapshot: Snapshot, has_vt: bool) -> tuple[bool | None, list[Evidence]]:
    """Windows' own word on the firmware switch (PF_VIRT_FIRMWARE_ENABLED, or a tool's
    "Virtualization Enabled In Firmware"), where the CPU shows VT-x/AMD-V at all."""
    reported = winreport.read_readiness(snapshot.os).firmware
    if not has_vt or reported is None or reported.value is None:
        return None, []
    if reported.value:
        return False, [Evidence("Windows reports virtualization enabled in firmware",
                                reported.source, reported.shown)]
    return True, [Evidence("the CPU has VT-x/AMD-V but Windows reports it disabled in firmware",
                           reported.source, reported.shown)]


def _backend(snapshot: Snapshot, exposed: bool | None) -> tuple[str | None, list[Evidence]]:
    """The loaded KVM backend module, from /sys/module (or /proc/modules)."""
    loaded: list[str] = []
    ev: list[Evidence] = []
    for name in BACKENDS:
        path = f"/sys/module/{name}"
        state = snapshot.os.state(path)
        if state == "dir":
            loaded.append(name)
            ev.append(Evidence(f"module {name} loaded", path, "dir"))
    if not loaded and (mods := snapshot.os.text("/proc/modules")) is not None:
        names = {line.split()[0] for line in mods.splitlines() if line.split()}
        for name in BACKENDS:
            if name in names:
                loaded.append(name)
                ev.append(Evidence(f"module {name} loaded", "/proc/modules", name))
    if not loaded:
        return None, ev
    if "kvm_pvm" in loaded and not exposed:
        return "kvm_pvm", ev
    hw = [n for n in loaded if n != "kvm_pvm"]
    return (hw[0] if hw else loaded[0]), ev


def _slat(
    snapshot: Snapshot, hypervisor: HypervisorFacts, *, vmx: bool | None, svm_bit: bool | None,
    vmx_flags: frozenset[str] | None, flags: frozenset[str] | None, decoded: dict[str, Decoded],
    either: bool | None = None,
) -> tuple[bool | None, list[Evidence]]:
    ev: list[Evidence] = []
    if vmx:
        if vmx_flags is not None:
            has = cpuinfo.VMX_SLAT in vmx_flags
            ev.append(Evidence("EPT (SLAT) available" if has else "EPT not in vmx flags",
                               f"{CPUINFO}:vmx flags", has))
            return has, ev
        if flags is not None and cpuinfo.VMX_SLAT in flags:
            ev.append(Evidence("EPT (SLAT) available", f"{CPUINFO}:flags", "ept"))
            return True, ev
    if svm_bit and "svm" in decoded:
        regs = snapshot.cpuid.get(svm.SVM_LEAF)
        if regs is not None:
            has = svm.npt(regs)
            ev.append(Evidence("NPT (SLAT) available" if has else "NPT not advertised",
                               cpuid_source(svm.SVM_LEAF, "edx", 0), int(has)))
            return has, ev
    reported = winreport.read_readiness(snapshot.os).slat
    if (vmx or svm_bit or either) and reported is not None and reported.value is not None:
        # Windows' own SLAT check (EPT/NPT), from IsProcessorFeaturePresent or a tool's line.
        ev.append(Evidence("SLAT (EPT/NPT) available" if reported.value else "no SLAT (EPT/NPT)",
                           reported.source, reported.shown))
        return reported.value, ev
    if hypervisor.partition == "root":
        for iface in hypervisor.interfaces:
            hw = iface.decoded.get("hyperv.hardware_features")
            if hw is None:
                continue
            in_use = "SecondLevelAddressTranslationInUse" in _names(hw.get("eax_flags"))
            ev.append(Evidence("the Microsoft hypervisor uses SLAT" if in_use
                               else "the Microsoft hypervisor reports no SLAT in use",
                               cpuid_source(iface.base + 6, "eax", HV_SLAT_BIT), int(in_use)))
            return (True if in_use else None), ev
    return None, ev


def _names(value: object) -> list[str]:
    """A decoded ``*_flags`` entry as a list of names (empty when missing)."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, tuple) else []


def _evmcs(hypervisor: HypervisorFacts) -> list[Evidence]:
    """Under Hyper-V: eVMCS recommended (0x40000004 EAX[14]) with a 0x4000000A version."""
    for iface in hypervisor.interfaces:
        rec = iface.decoded.get("hyperv.recommendations")
        nested = iface.decoded.get("hyperv.nested_features")
        if rec is None:
            continue
        recommended = "HV_X64_ENLIGHTENED_VMCS_RECOMMENDED" in _names(rec.get("eax_flags"))
        out = [Evidence("enlightened VMCS recommended for a nested hypervisor" if recommended
                        else "enlightened VMCS not recommended",
                        cpuid_source(iface.base + 4, "eax", 14), int(recommended))]
        if nested is not None:
            low, high = nested.get("evmcs_version_low"), nested.get("evmcs_version_high")
            out.append(Evidence("enlightened VMCS version (high.low)",
                                cpuid_source(iface.base + 0x0A, "eax", 0, 15), f"{high}.{low}"))
        return out
    return []


def assess_virtualization(snapshot: Snapshot, hypervisor: HypervisorFacts) -> Virtualization:
    """VT-x/AMD-V exposure, SLAT, firmware lock, /dev/kvm and what can host VMs here."""
    b = _cpuid_bits(snapshot)
    ev: list[Evidence] = list(b.evidence)
    decoded: dict[str, Decoded] = {}
    vmx, svm_bit = b.vmx, b.svm

    regs = snapshot.cpuid.get(svm.SVM_LEAF)
    if regs is not None:
        decoded["svm"] = decode_leaf(svm.SVM_FEATURES, regs)
        if not svm_bit and svm.npt(regs):
            ev.append(Evidence("0x8000000A populated but SVM clear: ignored",
                               cpuid_source(svm.SVM_LEAF, "edx", 0), 1))

    text = cpuinfo.x86_text(snapshot.os)
    flags = cpuinfo.flags(text) if text is not None else None
    vflags = cpuinfo.vmx_flags(text) if text is not None else None
    if vflags is not None:
        decoded["vmx_flags"] = {"flags": tuple(sorted(vflags))}

    exposed: bool | None
    if vmx or svm_bit:
        exposed = True
    elif vmx is False and svm_bit is False:
        exposed = False
    elif b.either is not None:
        exposed = b.either
    elif snapshot.cpuid.get(1) is None and False in (vmx, svm_bit):
        exposed = False  # a paste with one line only (Coreinfo -v prints its vendor's) saying no
    elif flags is not None:
        exposed = "vmx" in flags or "svm" in flags
        ev.append(Evidence("kernel flags show VMX/SVM" if exposed else "no vmx/svm in kernel flags",
                           f"{CPUINFO}:flags", exposed))
    else:
        exposed = None

    firmware_disabled: bool | None = None
    if flags is not None and (vmx or svm_bit):
        lost = [n for n, on in (("vmx", vmx), ("svm", svm_bit)) if on and n not in flags]
        firmware_disabled = bool(lost)
        if lost:
            ev.append(Evidence(f"CPUID has {lost[0]} but the kernel dropped it "
                               "(disabled by firmware/BIOS lock)", f"{CPUINFO}:flags", lost[0]))
    elif flags is None:
        firmware_disabled, fw_ev = _windows_firmware(snapshot, bool(vmx or svm_bit or b.either))
        ev.extend(fw_ev)

    slat, slat_ev = _slat(
        snapshot, hypervisor, vmx=vmx, svm_bit=svm_bit, vmx_flags=vflags, flags=flags,
        decoded=decoded, either=b.either,
    )
    ev.extend(slat_ev)
    if vmx:
        ev.extend(_evmcs(hypervisor))

    kvm = snapshot.os.kvm
    kvm_state = kvm.state if kvm is not None else None
    if kvm is not None:
        ev.append(Evidence(f"/dev/kvm {kvm.state}", "ioctl(/dev/kvm, KVM_GET_API_VERSION)",
                           kvm.api_version if kvm.state == "usable" else kvm.error or kvm.state))
    usable = (
        kvm is not None and kvm.state == "usable"
        and kvm.api_version == KVM_API_VERSION and kvm.create_vm is not False
    )
    backend, mod_ev = _backend(snapshot, exposed)
    ev.extend(mod_ev)
    nested_param = None
    if backend in ("kvm_intel", "kvm_amd"):
        path = f"/sys/module/{backend}/parameters/nested"
        if (value := snapshot.os.text(path)) is not None:
            nested_param = value.strip()
            ev.append(Evidence("this kernel's KVM would expose VMX/SVM to its guests"
                               if nested_param in ("Y", "1") else
                               "this kernel's KVM does not expose VMX/SVM to its guests",
                               path, nested_param))
    software_only = backend == "kvm_pvm" and not exposed and kvm_state in ("usable", "no-access")

    # Without CPUID leaves, a Windows tool's line is where VT-x/AMD-V was read.
    pasted = b.evidence[0].source if snapshot.cpuid.get(1) is None and b.evidence else ""
    can_host: bool | None = None
    if hypervisor.partition == "root-or-guest":
        ev.append(Evidence("can host VMs if this is the root partition of a running Windows "
                           "hypervisor, cannot if it is a guest without VT-x/AMD-V: unknown",
                           hypervisor.evidence[-1].source if hypervisor.evidence else "-",
                           None))
    elif hypervisor.partition == "root":
        can_host = True
        ev.append(Evidence("Hyper-V root partition: hosts VMs through the Microsoft hypervisor "
                           "although VMX/SVM are hidden", "CPUID.0x40000003:EBX[0]", 1))
    elif exposed and firmware_disabled is not True:
        can_host = True
        ev.append(Evidence("hardware virtualization reaches this OS",
                           pasted or (cpuid_source(1, "ecx", 5) if vmx else
                                      cpuid_source(cpu.EXT_FEATURES_LEAF, "ecx", 2)), 1))
    if usable and kvm is not None:
        can_host = True
        ev.append(Evidence("/dev/kvm usable: KVM_CREATE_VM succeeded" if kvm.create_vm
                           else "/dev/kvm usable (API 12; KVM_CREATE_VM not tried)",
                           "ioctl(/dev/kvm, KVM_CREATE_VM)", kvm.create_vm))
    if software_only:
        can_host = True
        ev.append(Evidence("software nesting only: PVM guests (kvm_pvm, no VMX/SVM)",
                           "/sys/module/kvm_pvm", kvm_state))
    if can_host is None and hypervisor.partition != "root-or-guest" and (
            exposed is False or firmware_disabled):
        can_host = False
        ev.append(Evidence("cannot host hardware-assisted VMs: no VMX/SVM, not a root partition"
                           + (", no usable /dev/kvm" if kvm_state is not None else ""),
                           pasted or (cpuid_source(1, "ecx", 5) if vmx is not None
                                      else f"{CPUINFO}:flags"), 0))

    return Virtualization(
        vmx=vmx,
        svm=svm_bit,
        exposed=exposed,
        slat=slat,
        can_host_vms=can_host,
        firmware_disabled=firmware_disabled,
        kvm_device=kvm_state,
        kvm_backend=backend,
        kvm_nested_param=nested_param,
        software_nesting_only=software_only,
        decoded=decoded,
        evidence=tuple(ev),
    )
