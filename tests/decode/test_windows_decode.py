"""Windows decoders: the raw SMBIOS table, build and edition tables, the Windows-tool readiness
lines. Pure functions, so checked on constructed input and on arbitrary bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from smbios_build import Identity, identity_table, raw_smbios, structure

from nestprobe.decode import dmi, smbios, winbuild, winreport
from nestprobe.model.snapshot import FileFact, OsFacts

HYPERV = Identity("Microsoft Corporation", "Hyper-V UEFI Release v4.1", "Microsoft Corporation",
                  "Virtual Machine", "Hyper-V UEFI Release v4.1", "Microsoft Corporation",
                  "Microsoft Corporation", "7783-7084-3265-9085-8269-3286-77")


def windows(**files: str) -> OsFacts:
    return OsFacts(system="Windows", machine="x86_64",
                   files={path: FileFact("ok", text) for path, text in files.items()})


# --- SMBIOS ------------------------------------------------------------------------------------

def test_identity_fields_come_back_by_their_linux_names() -> None:
    raw = smbios.parse_raw(identity_table(HYPERV))
    assert raw.version == "3.4"
    assert [s.type for s in raw.structures] == [0, 1, 2, 3, 127]
    assert smbios.identity(raw) == {
        "bios_vendor": "Microsoft Corporation", "bios_version": "Hyper-V UEFI Release v4.1",
        "sys_vendor": "Microsoft Corporation", "product_name": "Virtual Machine",
        "product_version": "Hyper-V UEFI Release v4.1", "board_vendor": "Microsoft Corporation",
        "chassis_vendor": "Microsoft Corporation",
        "chassis_asset_tag": "7783-7084-3265-9085-8269-3286-77",
    }


def test_first_structure_of_a_type_decides_and_index_zero_is_empty() -> None:
    first = structure(1, 1, bytes([1, 0, 0, 0]), ["First Vendor"])
    second = structure(1, 2, bytes([1, 1, 1, 0]), ["Second Vendor"])
    got = smbios.identity(smbios.parse_raw(raw_smbios([first, second])))
    assert got == {"sys_vendor": "First Vendor", "product_name": "", "product_version": ""}


def test_a_string_index_past_the_set_and_a_short_structure_give_nothing() -> None:
    bad_index = structure(0, 0, bytes([5, 1]), ["only one"])  # vendor -> string 5 of 1
    short = structure(3, 3, bytes([1]), ["Chassis Co"])  # ends before the asset tag
    got = smbios.identity(smbios.parse_raw(raw_smbios([bad_index, short])))
    assert got == {"bios_version": "only one", "chassis_vendor": "Chassis Co"}


def test_a_truncated_table_keeps_what_came_before_the_cut() -> None:
    data = identity_table(HYPERV)
    cut = data[: data.index(b"Virtual Machine")]  # inside the type 1 strings
    raw = smbios.parse_raw(cut)
    assert [s.type for s in raw.structures] == [0]
    assert smbios.identity(raw) == {"bios_vendor": "Microsoft Corporation",
                                    "bios_version": "Hyper-V UEFI Release v4.1"}


def test_hex_that_is_not_hex_decodes_to_nothing() -> None:
    assert smbios.decode_hex("zz").structures == ()
    assert smbios.decode_hex("").version is None


@given(st.binary(max_size=600))
def test_decoding_is_total_on_arbitrary_bytes(data: bytes) -> None:
    raw = smbios.parse_raw(data)
    assert set(smbios.identity(raw)) <= set(smbios.FIELD_BY_KEY)


def test_dmi_prefers_the_raw_table_and_names_it_as_the_source() -> None:
    facts = windows(**{
        "firmware:RSMB": identity_table(HYPERV).hex(),
        "registry:HKLM\\HARDWARE\\DESCRIPTION\\System\\BIOS\\SystemManufacturer": "Other Inc.",
    })
    read = dmi.read_dmi_sourced(facts)
    assert read["sys_vendor"] == ("Microsoft Corporation", "DMI.1:Manufacturer")
    assert read["chassis_asset_tag"][1] == "DMI.3:Asset Tag Number"
    assert dmi.cloud(dmi.read_dmi(facts)) is not None  # Azure's asset tag, as on Linux


def test_the_registry_copy_stands_in_without_the_table() -> None:
    key = "registry:HKLM\\HARDWARE\\DESCRIPTION\\System\\BIOS\\"
    facts = windows(**{key + "SystemManufacturer": "VMware, Inc.",
                       key + "SystemProductName": "VMware7,1"})
    read = dmi.read_dmi_sourced(facts)
    assert read["sys_vendor"] == ("VMware, Inc.", key + "SystemManufacturer")
    hit = dmi.dmi_vendor(dmi.read_dmi(facts))
    assert hit is not None
    assert hit[2].vendor_id == "vmware"


@pytest.mark.parametrize(("vendor", "product", "hyperv"), [
    ("Microsoft Corporation", "Virtual Machine", True),
    ("Microsoft Corporation", "Surface 3", False),  # Microsoft's own hardware
    ("Contoso", "Virtual Machine", False),
])
def test_hyperv_is_named_only_by_the_pair(vendor: str, product: str, hyperv: bool) -> None:
    hit = dmi.dmi_vendor({"sys_vendor": vendor, "product_name": product})
    assert (hit is not None and hit[2].vendor_id == "microsoft") is hyperv


# --- builds and editions ---------------------------------------------------------------------

@pytest.mark.parametrize(("build", "server", "name"), [
    (22631, False, "Windows 11 version 23H2"),
    (26100, False, "Windows 11 version 24H2"),
    (26100, True, "Windows Server 2025"),
    (20348, True, "Windows Server 2022"),
    (20348, None, "Windows Server 2022"),  # no client release has that build
    (17763, True, "Windows Server 2019"),
    (17763, False, "Windows 10 version 1809"),
    (19045, False, "Windows 10 version 22H2"),
    (7601, False, "Windows 7 SP1"),  # wine's registry
    (22635, False, "Windows 11 (build 22635)"),  # an Insider build between releases
    (19999, False, "Windows 10 (build 19999)"),
    (None, False, None),
])
def test_release_names(build: int | None, server: bool | None, name: str | None) -> None:
    assert winbuild.release_name(build, server) == name


def test_release_table_is_ascending_and_unique() -> None:
    builds = [r.build for r in winbuild.RELEASES]
    assert builds == sorted(set(builds))
    assert all(r.source for r in winbuild.RELEASES)


@pytest.mark.parametrize(("edition_id", "edition"), [
    ("Core", "home"), ("CoreSingleLanguage", "home"), ("CoreN", "home"),
    ("Professional", "pro"), ("ProfessionalWorkstation", "pro"),
    ("ProfessionalEducation", "education"), ("Education", "education"),
    ("Enterprise", "enterprise"), ("EnterpriseS", "enterprise"),
    ("IoTEnterprise", "enterprise"), ("ServerDatacenter", "server"),
    ("ServerStandardEval", "server"), ("ServerAzureStackHCICor", "azure-local"),
    ("Cloud", "other"), (None, "unknown"), ("", "unknown"),
])
def test_edition_ids(edition_id: str | None, edition: str) -> None:
    assert winbuild.edition_of_id(edition_id) == edition


@pytest.mark.parametrize(("caption", "edition"), [
    ("Microsoft Windows 10 Home", "home"),
    ("Microsoft Windows 11 Pro", "pro"),
    ("Microsoft Windows 10 Enterprise LTSC", "enterprise"),
    ("Microsoft Windows 10 Pro Education", "education"),
    ("Microsoft Windows Server 2022 Datacenter", "server"),
    ("Microsoft® Windows Server® 2008 R2 Enterprise", "server"),
    ("Microsoft Windows 7", "other"),
])
def test_edition_captions(caption: str, edition: str) -> None:
    assert winbuild.edition_of_caption(caption) == edition


@pytest.mark.parametrize(("build", "ubr", "arm64", "ok"), [
    (18362, 1049, False, True), (18362, 1048, False, False), (18363, 1049, False, True),
    (18363, 1000, False, False), (18362, None, False, None), (17763, 5000, False, False),
    (19041, 0, False, True), (22000, None, False, True), (18363, 1049, True, False),
    (19041, 1, True, True), (None, None, False, None),
])
def test_wsl2_build_floor(build: int | None, ubr: int | None, arm64: bool, ok: bool | None) -> None:
    assert winbuild.wsl2_build_ok(build, ubr, arm64=arm64) is ok


# --- what the Windows tools printed -------------------------------------------------------------

def test_requirement_list_means_no_hypervisor_and_values_are_read_as_printed() -> None:
    got = winreport.read_readiness(windows(**{
        "systeminfo:Hyper-V Requirements/VM Monitor Mode Extensions": "Sim",
        "systeminfo:Hyper-V Requirements/Virtualization Enabled In Firmware": "Não",
    }))
    assert got.tools == ("systeminfo",)
    assert got.hypervisor is not None
    assert got.hypervisor.value is False
    assert got.vm_monitor is not None
    assert got.vm_monitor.value is True
    assert got.firmware is not None
    assert got.firmware.value is False
    assert got.firmware.shown == "Não"


@pytest.mark.parametrize("sentence", [
    "A hypervisor has been detected. Features required for Hyper-V will not be displayed.",
    "Hipervisor detectado. Recursos necessários para o Hyper-V não serão exibidos.",
    "偵測到 Hypervisor。將不會顯示 Hyper-V 所需的功能。",
])
def test_the_hypervisor_sentence_in_each_language(sentence: str) -> None:
    got = winreport.read_readiness(windows(**{"systeminfo:Hyper-V Requirements": sentence}))
    assert got.hypervisor is not None
    assert got.hypervisor.value is True
    assert got.hidden


def test_coreinfo_marks_and_markdown_bold_are_told_apart() -> None:
    got = winreport.read_readiness(windows(**{"coreinfo:VMX": "*", "coreinfo:HYPERVISOR": "-",
                                               "coreinfo:EPT": "*"}))
    assert got.vmx is not None
    assert got.vmx.value is True
    assert got.hypervisor is not None
    assert got.hypervisor.value is False
    assert got.slat is not None
    assert got.slat.value is True
    bold = winreport.read_readiness(windows(**{
        "systeminfo:Hyper-V Requirements/Virtualization Enabled In Firmware": "**No**"}))
    assert bold.firmware is not None
    assert bold.firmware.value is False


def test_an_empty_get_computerinfo_value_is_not_displayed_not_false() -> None:
    got = winreport.read_readiness(windows(**{
        "get-computerinfo:HyperVisorPresent": "True",
        "get-computerinfo:HyperVRequirementVirtualizationFirmwareEnabled": ""}))
    assert got.firmware is not None
    assert got.firmware.value is None
    assert got.hypervisor is not None
    assert got.hypervisor.value is True


@pytest.mark.parametrize(("text", "size"), [
    ("8,108 MB", 8108 << 20), ("8.108 MB", 8108 << 20), ("16,384 MB", 16384 << 20),
])
def test_systeminfo_memory_with_either_separator(text: str, size: int) -> None:
    assert winreport.reported_memory(windows(**{"systeminfo:Total Physical Memory": text})) == (
        size, "systeminfo:Total Physical Memory")


def test_msinfo32_memory_in_gb() -> None:
    got = winreport.reported_memory(windows(**{"msinfo32:Installed Physical Memory (RAM)":
                                               "4.00 GB"}))
    assert got == (4 << 30, "msinfo32:Installed Physical Memory (RAM)")


def test_processor_signature_from_systeminfo_and_coreinfo() -> None:
    si = winreport.reported_cpu(windows(**{"systeminfo:Processor(s)": (
        "1 Processor(s) Installed.\n[01]: Intel64 Family 6 Model 158 Stepping 12 GenuineIntel "
        "~3696 Mhz")}))
    assert si is not None
    assert (si.vendor, si.family, si.model, si.stepping) == (
        "GenuineIntel", 6, 158, 12)
    ci = winreport.reported_cpu(windows(**{
        "coreinfo:cpu": "AMD Ryzen 7 3800X 8-Core Processor",
        "coreinfo:signature": "AMD64 Family 23 Model 113 Stepping 0, AuthenticAMD"}))
    assert ci is not None
    assert (ci.vendor, ci.brand) == (
        "AuthenticAMD", "AMD Ryzen 7 3800X 8-Core Processor")
