"""Hardware virtualization: do VT-x/AMD-V (+SLAT) reach this OS, and can it host VMs?

Keyed on the feature bits, never the vendor string (the corpus has VMX on an AMD
vendor, and 0x8000000A populated with SVM clear). A Hyper-V root partition hides
VMX/SVM yet hosts VMs; a kvm_pvm-backed /dev/kvm hosts PVM guests without them.
Source keys: L-CPUFEAT, L-FEATCTL, L-AMD, L-PROC, L-VMXFEAT, L-NESTDOC, L-KVMH, PVM, TLFS-FD.

Order of :func:`assess_virtualization` (each step adds its evidence):

1. ``_cpuid_bits``   VMX (1:ECX[5]) and SVM (80000001h:ECX[2]) as CPUID shows them; with
                     no CPUID leaves, as a pasted Windows tool printed them.
2. ``_exposure``     CPUID (or the paste) decides; without it, the kernel's flags. In a
                     Xen dom0 or PV domain the OS facts decide whatever raw CPUID shows:
                     user-space CPUID there reads the CPU below Xen, and Xen owns
                     VT-x/AMD-V.
3. ``_firmware``     positive evidence only (:data:`FIRMWARE_WITNESSES`). Firmware turns
                     VT-x off in IA32_FEATURE_CONTROL (AMD: VM_CR.SVMDIS) and leaves the
                     CPUID bit set; Linux then clears only its own flag (L-FEATCTL "VMX
                     (outside TXT) disabled by BIOS"; L-AMD "SVM disabled (by BIOS) in
                     MSR_VM_CR"), and Windows reports PF_VIRT_FIRMWARE_ENABLED clear. A
                     clear CPUID bit is a hypervisor's mask or a CPU without the
                     extension, never the firmware.
4. ``_slat``, ``_evmcs``  EPT/NPT, and what a nested hypervisor under Hyper-V may use.
5. ``_kvm``          /dev/kvm, the loaded backend and its ``nested`` parameter.
6. ``_can_host``     root partition, exposure, a usable /dev/kvm, PVM, a Xen dom0.
"""

from __future__ import annotations

from nestprobe.assess import winreported
from nestprobe.assess.environment import assess_environment
from nestprobe.decode import cpu, cpuinfo
from nestprobe.decode.bits import Decoded, decode_leaf
from nestprobe.model.assessment import CpuIdentity, Environment, HypervisorFacts, Virtualization
from nestprobe.model.evidence import Evidence, cpuid_source
from nestprobe.model.record import Record
from nestprobe.model.snapshot import KVM_API_VERSION, Snapshot
from nestprobe.model.typeshim import Callable

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
    readiness = winreported.readiness(snapshot.os)
    if readiness is None:
        return None, None, None
    vmx = svm_bit = either = None
    for name, reported in (("VT-x (VMX)", readiness.vmx), ("AMD-V (SVM)", readiness.svm)):
        if reported is not None and reported.value is not None:
            ev.append(Evidence(f"{name} {'exposed' if reported.value else 'not exposed'} "
                               "(as Coreinfo printed it)", reported.source, reported.shown,
                               about="vt"))
    if readiness.vmx is not None:
        vmx = readiness.vmx.value
    if readiness.svm is not None:
        svm_bit = readiness.svm.value
    monitor = readiness.vm_monitor
    if vmx is None and svm_bit is None and monitor is not None and monitor.value is not None:
        reported_cpu = winreported.reported_cpu(snapshot.os)
        vendor = reported_cpu.vendor if reported_cpu is not None else None
        amd = vendor in ("AuthenticAMD", "HygonGenuine")
        name = "AMD-V" if amd else "VT-x" if vendor == "GenuineIntel" else "VT-x/AMD-V"
        ev.append(Evidence(f"the CPU {'has' if monitor.value else 'lacks'} {name} (VM Monitor "
                           "Mode Extensions)", monitor.source, monitor.shown, about="vt"))
        if amd:
            svm_bit = monitor.value
        elif vendor == "GenuineIntel":
            vmx = monitor.value
        else:
            either = monitor.value
    return vmx, svm_bit, either


def _windows_firmware(snapshot: Snapshot, bits: _Bits) -> tuple[bool | None, Evidence | None]:
    """Windows' own word on the firmware switch (PF_VIRT_FIRMWARE_ENABLED, or a tool's
    "Virtualization Enabled In Firmware"), where the CPU shows VT-x/AMD-V at all:
    (disabled, its evidence), or (None, None) when Windows said nothing that counts."""
    readiness = winreported.readiness(snapshot.os)
    reported = readiness.firmware if readiness is not None else None
    if not (bits.vmx or bits.svm or bits.either) or reported is None or reported.value is None:
        return None, None
    if reported.value:
        return False, Evidence("Windows reports virtualization enabled in firmware",
                               reported.source, reported.shown, about="firmware")
    return True, Evidence("the CPU has VT-x/AMD-V but Windows reports it disabled in firmware",
                          reported.source, reported.shown, about="firmware")


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
                               f"{CPUINFO}:vmx flags", has, about="slat"))
            return has, ev
        if flags is not None and cpuinfo.VMX_SLAT in flags:
            ev.append(Evidence("EPT (SLAT) available", f"{CPUINFO}:flags", "ept", about="slat"))
            return True, ev
    if svm_bit and "svm" in decoded:
        from nestprobe.decode import svm  # imported by assess_virtualization, which decoded it

        regs = snapshot.cpuid.get(cpu.SVM_LEAF)
        if regs is not None:
            has = svm.npt(regs)
            ev.append(Evidence("NPT (SLAT) available" if has else "NPT not advertised",
                               cpuid_source(cpu.SVM_LEAF, "edx", 0), int(has), about="slat"))
            return has, ev
    readiness = winreported.readiness(snapshot.os)
    reported = readiness.slat if readiness is not None else None
    if (vmx or svm_bit or either) and reported is not None and reported.value is not None:
        # Windows' own SLAT check (EPT/NPT), from IsProcessorFeaturePresent or a tool's line.
        ev.append(Evidence("SLAT (EPT/NPT) available" if reported.value else "no SLAT (EPT/NPT)",
                           reported.source, reported.shown, about="slat"))
        return reported.value, ev
    if hypervisor.partition == "root":
        for iface in hypervisor.interfaces:
            hw = iface.decoded.get("hyperv.hardware_features")
            if hw is None:
                continue
            in_use = "SecondLevelAddressTranslationInUse" in _names(hw.get("eax_flags"))
            ev.append(Evidence("the Microsoft hypervisor uses SLAT" if in_use
                               else "the Microsoft hypervisor reports no SLAT in use",
                               cpuid_source(iface.base + 6, "eax", HV_SLAT_BIT), int(in_use),
                               about="slat"))
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


class _Context(Record):
    """What the steps below share: the snapshot's views and the facts assessed before."""

    snapshot: Snapshot
    hypervisor: HypervisorFacts
    cpu: CpuIdentity | None
    environment: Environment
    bits: _Bits
    flags: frozenset[str] | None
    vmx_flags: frozenset[str] | None


def _xen_owned(ctx: _Context) -> Evidence | None:
    """A Xen dom0 (PV or PVH) or PV domain: Xen owns VT-x/AMD-V (xl.cfg type=, SUPPORT.md)."""
    env = ctx.environment
    if env.xen_domain == "dom0":
        return Evidence("Xen dom0: Xen owns VT-x/AMD-V; this kernel cannot use them (KVM "
                        "cannot load) and runs VMs only through Xen's toolstack",
                        "/proc/xen/capabilities", "control_d")
    if env.xen_mode == "pv":
        return Evidence("Xen PV domain: user-space CPUID shows the CPU below Xen; Xen owns "
                        "VT-x/AMD-V and gives a PV domain no VMX/SVM (cpufeatureset.h: "
                        "VMX/SVM are HVM-only)", "/sys/hypervisor/guest_type", "PV")
    return None


def _exposure(ctx: _Context, ev: list[Evidence]) -> bool | None:  # noqa: PLR0911 (a case table, read top to bottom)
    vmx, svm_bit = ctx.bits.vmx, ctx.bits.svm
    if (owned := _xen_owned(ctx)) is not None:
        ev.append(owned)
        return False
    if vmx or svm_bit:
        return True
    if vmx is False and svm_bit is False:
        return False
    if ctx.bits.either is not None:
        return ctx.bits.either
    if ctx.snapshot.cpuid.get(1) is None and False in (vmx, svm_bit):
        return False  # a paste with one line only (Coreinfo -v prints its vendor's) saying no
    if ctx.flags is not None:
        exposed = "vmx" in ctx.flags or "svm" in ctx.flags
        ev.append(Evidence("kernel flags show VMX/SVM" if exposed else "no vmx/svm in kernel flags",
                           f"{CPUINFO}:flags", exposed))
        return exposed
    return None


def _kernel_dropped_it(ctx: _Context) -> Evidence | None:
    """CPUID has VMX/SVM and the kernel's flags do not: the firmware locked it off."""
    flags, bits = ctx.flags, ctx.bits
    if flags is None or not (bits.vmx or bits.svm):
        return None
    lost = [n for n, on in (("vmx", bits.vmx), ("svm", bits.svm)) if on and n not in flags]
    if not lost:
        return None
    return Evidence(f"CPUID has {lost[0]} but the kernel dropped it (firmware left it disabled: "
                    "L-FEATCTL / L-AMD)", f"{CPUINFO}:flags", lost[0])


def _windows_says_off(ctx: _Context) -> Evidence | None:
    """The CPU shows VT-x/AMD-V (CPUID, or a Windows tool's line) and Windows reports it
    disabled in firmware (PF_VIRT_FIRMWARE_ENABLED clear, or the tool's firmware line)."""
    if ctx.flags is not None:
        return None  # the kernel's flags speak on Linux (_kernel_dropped_it)
    disabled, found = _windows_firmware(ctx.snapshot, ctx.bits)
    return found if disabled else None


def _kernel_view_of_a_capable_cpu(ctx: _Context) -> Evidence | None:
    """No raw CPUID: the kernel lacks vmx/svm on a CPU series that has it on every SKU, and
    the features hypervisors hide are all there (so no hypervisor masked it)."""
    cpu_id, flags = ctx.cpu, ctx.flags
    if (ctx.bits.vmx is not None or ctx.bits.svm is not None or flags is None or cpu_id is None
            or ctx.hypervisor.detected or ctx.hypervisor.hidden):
        return None
    if "vmx" in flags or "svm" in flags:
        return None
    if cpu_id.extension_expected != "all" or cpu_id.feature_mask != "native":
        return None
    return Evidence("the kernel lacks vmx/svm on a CPU whose every SKU has it, with no "
                    "hypervisor mask: the firmware left it disabled", f"{CPUINFO}:flags",
                    "no vmx/svm")


#: Positive evidence that firmware turned VT-x/AMD-V off, one function per witness.
FIRMWARE_WITNESSES: tuple[Callable[[_Context], Evidence | None], ...] = (
    _kernel_dropped_it,
    _kernel_view_of_a_capable_cpu,
    _windows_says_off,
)


def _firmware(ctx: _Context, ev: list[Evidence]) -> bool | None:
    if _xen_owned(ctx) is not None:
        return None  # Xen, not the firmware, keeps VT-x from this kernel
    for witness in FIRMWARE_WITNESSES:
        if (found := witness(ctx)) is not None:
            ev.append(found)
            return True
    if ctx.flags is not None and (ctx.bits.vmx or ctx.bits.svm):
        return False  # CPUID has it and the kernel kept it
    if ctx.flags is None:
        disabled, found = _windows_firmware(ctx.snapshot, ctx.bits)
        if disabled is False and found is not None:
            ev.append(found)  # Windows says the firmware has it on
            return False
    return None


def _kvm(
    snapshot: Snapshot, exposed: bool | None, ev: list[Evidence],
) -> tuple[str | None, str | None, bool, str | None]:
    """/dev/kvm state, backend, whether it is usable, and the backend's nested parameter."""
    kvm = snapshot.os.kvm
    kvm_state = kvm.state if kvm is not None else None
    if kvm is not None:
        ev.append(Evidence(f"/dev/kvm {kvm.state}", "ioctl(/dev/kvm, KVM_GET_API_VERSION)",
                           kvm.api_version if kvm.state == "usable" else kvm.error or kvm.state))
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
    usable = (
        kvm is not None and kvm.state == "usable"
        and kvm.api_version == KVM_API_VERSION and kvm.create_vm is not False
    )
    return kvm_state, backend, usable, nested_param



def _can_host(
    ctx: _Context, *, exposed: bool | None, firmware_disabled: bool | None, usable: bool,
    software_only: bool, kvm_state: str | None, ev: list[Evidence],
) -> bool | None:
    hypervisor, vmx, bits = ctx.hypervisor, ctx.bits.vmx, ctx.bits
    # Without CPUID leaves, a Windows tool's line is where VT-x/AMD-V was read.
    pasted = bits.evidence[0].source if ctx.snapshot.cpuid.get(1) is None and bits.evidence else ""
    can_host: bool | None = None
    if hypervisor.partition == "root-or-guest":
        ev.append(Evidence("can host VMs if this is the root partition of a running Windows "
                           "hypervisor, cannot if it is a guest without VT-x/AMD-V: unknown",
                           hypervisor.evidence[-1].source if hypervisor.evidence else "-",
                           None))
    elif hypervisor.partition == "root":
        can_host = True
        source = ("CPUID.0x40000003:EBX[0]" if hypervisor.interfaces or not hypervisor.evidence
                  else hypervisor.evidence[-1].source)  # a paste: where the root was read
        ev.append(Evidence("Hyper-V root partition: hosts VMs through the Microsoft hypervisor "
                           "although VMX/SVM are hidden", source, 1))
    elif ctx.environment.xen_domain == "dom0":
        can_host = True
        ev.append(Evidence("Xen dom0: hosts VMs through Xen's toolstack (xl), not through KVM",
                           "/proc/xen/capabilities", "control_d"))
    elif exposed and firmware_disabled is not True:
        can_host = True
        ev.append(Evidence("hardware virtualization reaches this OS",
                           pasted or (cpuid_source(1, "ecx", 5) if vmx else
                                      cpuid_source(cpu.EXT_FEATURES_LEAF, "ecx", 2)), 1,
                           about="vt"))
    kvm = ctx.snapshot.os.kvm
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
        ev.append(Evidence("cannot host hardware-assisted VMs: VT-x/AMD-V does not reach this "
                           "OS, and it is not a root partition"
                           + (", no usable /dev/kvm" if kvm_state is not None else ""),
                           pasted or (cpuid_source(1, "ecx", 5) if vmx is not None
                                      else f"{CPUINFO}:flags"), 0))
    return can_host


def assess_virtualization(
    snapshot: Snapshot, hypervisor: HypervisorFacts, cpu_id: CpuIdentity | None = None,
    environment: Environment | None = None,
) -> Virtualization:
    """VT-x/AMD-V exposure, SLAT, firmware lock, /dev/kvm and what can host VMs here."""
    bits = _cpuid_bits(snapshot)
    ev: list[Evidence] = list(bits.evidence)
    decoded: dict[str, Decoded] = {}
    regs = snapshot.cpuid.get(cpu.SVM_LEAF)
    if regs is not None:  # AMD's SVM leaf (Intel's extended range stops below it)
        from nestprobe.decode import svm

        decoded["svm"] = decode_leaf(svm.SVM_FEATURES, regs)
        if not bits.svm and svm.npt(regs):
            ev.append(Evidence("0x8000000A populated but SVM clear: ignored",
                               cpuid_source(cpu.SVM_LEAF, "edx", 0), 1))
    text = cpuinfo.x86_text(snapshot.os)
    vflags = cpuinfo.vmx_flags(text) if text is not None else None
    if vflags is not None:
        decoded["vmx_flags"] = {"flags": tuple(sorted(vflags))}
    ctx = _Context(
        snapshot=snapshot, hypervisor=hypervisor, cpu=cpu_id,
        environment=environment or assess_environment(snapshot, hypervisor), bits=bits,
        flags=cpuinfo.flags(text) if text is not None else None, vmx_flags=vflags,
    )

    exposed = _exposure(ctx, ev)
    firmware_disabled = _firmware(ctx, ev)
    slat, slat_ev = _slat(
        snapshot, hypervisor, vmx=bits.vmx, svm_bit=bits.svm, vmx_flags=vflags,
        flags=ctx.flags, decoded=decoded, either=bits.either,
    )
    ev.extend(slat_ev)
    if bits.vmx and exposed:
        ev.extend(_evmcs(hypervisor))
    kvm_state, backend, usable, nested_param = _kvm(snapshot, exposed, ev)
    software_only = backend == "kvm_pvm" and not exposed and kvm_state in ("usable", "no-access")
    can_host = _can_host(ctx, exposed=exposed, firmware_disabled=firmware_disabled,
                         usable=usable, software_only=software_only, kvm_state=kvm_state, ev=ev)

    return Virtualization(
        vmx=bits.vmx,
        svm=bits.svm,
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
