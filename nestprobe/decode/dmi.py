"""DMI (/sys/class/dmi/id) as data: hypervisor vendors and clouds, one cited row each.

Source keys: SD (systemd src/basic/virt.c ``detect_vm_dmi_vendor``: prefix match over
product_name, sys_vendor, board_vendor, bios_vendor, product_version in that order),
VW (virt-what.in), CI (cloud-init ``ds-identify`` DMI checks) [S] where marked.
"""

from __future__ import annotations

from nestprobe.model.record import Record
from nestprobe.model.snapshot import OsFacts
from nestprobe.model.typeshim import Mapping

DMI_DIR = "/sys/class/dmi/id/"
#: The order systemd reads them in (SD).
VENDOR_KEYS = ("product_name", "sys_vendor", "board_vendor", "bios_vendor", "product_version")
ALL_KEYS = (*VENDOR_KEYS, "bios_version", "chassis_asset_tag", "chassis_vendor", "board_name")


#: What Windows tools print for the same fields, by pseudo-path (decode/winreport.py records).
PASTE_KEYS: dict[str, tuple[str, ...]] = {
    "sys_vendor": ("systeminfo:System Manufacturer", "msinfo32:System Manufacturer",
                   "get-computerinfo:CsManufacturer"),
    "product_name": ("systeminfo:System Model", "msinfo32:System Model",
                     "get-computerinfo:CsModel"),
    "bios_vendor": ("get-computerinfo:BiosManufacturer",),
    "bios_version": ("systeminfo:BIOS Version", "msinfo32:BIOS Version/Date"),
    "board_vendor": ("msinfo32:BaseBoard Manufacturer",),
    "board_name": ("msinfo32:BaseBoard Product",),
}


def read_dmi(facts: OsFacts) -> dict[str, str]:
    """The DMI identity fields the source read, stripped (a blank field stays, as "")."""
    return {key: value for key, (value, _source) in read_dmi_sourced(facts).items()}


#: Each key with its sysfs path.
_SYSFS = tuple((key, DMI_DIR + key) for key in ALL_KEYS)
#: The facts read last and what they gave: an assessment reads them twice (the
#: hypervisor's DMI witnesses, the environment's identity), from one immutable OsFacts.
_LAST: list[tuple[OsFacts | None, dict[str, tuple[str, str]]]] = [(None, {})]


def read_dmi_sourced(facts: OsFacts) -> dict[str, tuple[str, str]]:
    """DMI key -> (value, where it was read), from the first source that has the key:
    /sys/class/dmi/id (Linux), the raw SMBIOS table (Windows ``firmware:RSMB``, sources
    named ``DMI.<type>:<field>``), the registry's copy under HARDWARE\\DESCRIPTION\\System\\BIOS,
    then what a pasted Windows tool printed."""
    read, found = _LAST[0]
    if read is not facts:
        found = _read_dmi(facts)
        _LAST[0] = (facts, found)
    return dict(found)  # the caller's own: the one kept is never handed out


def _read_dmi(facts: OsFacts) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for key, path in _SYSFS:
        text = facts.text(path)
        if text is not None:
            out[key] = (text.strip(), path)
    if facts.holds_windows_facts():
        _read_windows(facts, out)
    return {key: out[key] for key in ALL_KEYS if key in out}


def _read_windows(facts: OsFacts, out: dict[str, tuple[str, str]]) -> None:
    """The Windows sources of :func:`read_dmi_sourced`, after sysfs: only a snapshot holding
    Windows facts imports their decoders."""
    from nestprobe.decode import winpaths

    # Under wine the SMBIOS table and the BIOS key are wine's answers, not this machine's
    # firmware: unknown (a paste is a real Windows's output, so it still counts).
    wine = winpaths.under_wine(facts)
    raw = None if wine else facts.text(winpaths.RSMB)
    if raw is not None:  # the raw table: recorded by the live Windows probe only
        from nestprobe.decode import smbios

        for key, value in smbios.identity(smbios.decode_hex(raw)).items():
            field = smbios.FIELD_BY_KEY[key]
            out.setdefault(key, (value, f"DMI.{field.type}:{field.name}"))
    for key, name in winpaths.BIOS_VALUES.items():
        path = winpaths.bios_value(name)
        if not wine and (text := facts.text(path)) is not None:
            out.setdefault(key, (text.strip(), path))
    for key, paths in PASTE_KEYS.items():
        for path in paths:
            if (text := facts.text(path)) is not None:
                out.setdefault(key, (text.strip(), path))
                break


class DmiVendor(Record):
    prefix: str
    vendor_id: str
    source: str


#: systemd's table (SD dmi_vendor_table), ids as systemd-detect-virt prints them.
DMI_VENDORS: tuple[DmiVendor, ...] = (
    DmiVendor("KVM", "kvm", "SD"),
    DmiVendor("OpenStack", "kvm", "SD"),
    DmiVendor("KubeVirt", "kvm", "SD"),
    DmiVendor("Amazon EC2", "amazon", "SD"),
    DmiVendor("QEMU", "qemu", "SD"),
    DmiVendor("VMware", "vmware", "SD"),
    DmiVendor("VMW", "vmware", "SD"),
    DmiVendor("innotek GmbH", "oracle", "SD"),
    DmiVendor("VirtualBox", "oracle", "SD"),
    DmiVendor("Oracle Corporation", "oracle", "SD"),
    DmiVendor("Xen", "xen", "SD"),
    DmiVendor("Bochs", "bochs", "SD"),
    DmiVendor("Parallels", "parallels", "SD"),
    DmiVendor("BHYVE", "bhyve", "SD"),
    DmiVendor("Hyper-V", "microsoft", "SD"),
    DmiVendor("Apple Virtualization", "apple", "SD"),
    DmiVendor("Google Compute Engine", "google", "SD"),
)

#: Vendors systemd trusts over CPUID "even if they use KVM" (SD detect_vm step 1).
DMI_DECIDES = frozenset({"oracle", "xen", "amazon", "parallels", "google"})


class CloudRule(Record):
    key: str  # DMI file name
    match: str
    how: str  # "exact", "prefix" or "contains"
    cloud: str
    source: str


CLOUDS: tuple[CloudRule, ...] = (
    CloudRule("chassis_asset_tag", "7783-7084-3265-9085-8269-3286-77", "exact", "azure",
              "CI ds-identify dscheck_Azure; SD-MAN --cvm [S]"),
    CloudRule("sys_vendor", "Amazon EC2", "prefix", "aws", "SD; VW"),
    CloudRule("bios_vendor", "Amazon EC2", "prefix", "aws", "VW"),
    CloudRule("bios_version", "amazon", "contains", "aws", "VW ('Version: N.N.amazon')"),
    CloudRule("product_name", "Google Compute Engine", "exact", "gcp", "SD; VW"),
    CloudRule("sys_vendor", "Google", "exact", "gcp", "VW google-cloud fixture"),
    CloudRule("sys_vendor", "Alibaba Cloud", "prefix", "alibaba", "VW"),
    CloudRule("chassis_asset_tag", "OracleCloud.com", "exact", "oci", "CI ds-identify [S]"),
    CloudRule("sys_vendor", "DigitalOcean", "exact", "digitalocean", "CI ds-identify [S]"),
    CloudRule("sys_vendor", "Hetzner", "exact", "hetzner", "CI ds-identify [S]"),
    CloudRule("sys_vendor", "UpCloud", "exact", "upcloud", "VW"),
    CloudRule("sys_vendor", "Nutanix", "exact", "nutanix", "VW"),
    CloudRule("product_name", "OpenStack", "prefix", "openstack", "SD; CI ds-identify"),
)


def matches(value: str, rule: CloudRule) -> bool:
    if rule.how == "exact":
        return value == rule.match
    if rule.how == "prefix":
        return value.startswith(rule.match)
    return rule.match in value


#: Hyper-V names itself only by the pair (VW: "Manufacturer: Microsoft Corporation" and
#: "Product Name: Virtual Machine" in dmidecode -> hyperv); Microsoft's own hardware
#: (Surface) shares the manufacturer, so neither string alone decides.
HYPERV_PAIR = DmiVendor("Microsoft Corporation/Virtual Machine", "microsoft", "VW")


#: Product names only virtual machines carry, read after systemd's table (which names them by
#: vendor): QEMU's machine types, whatever the vendor string says, and Xen's HVM product.
VIRTUAL_PRODUCTS: tuple[DmiVendor, ...] = (
    DmiVendor("Standard PC (", "qemu", "QEMU-PC; CORPUS systeminfo-qemu-kvm-guest-win11-header-1"),
    DmiVendor("HVM domU", "xen", "VW ('HVM domU' in dmidecode -> xen-hvm)"),
)

#: What white-box boards and firmware defaults print instead of a name (CORPUS: "To be filled
#: by O.E.M."; the others are AMI/Insyde template defaults seen as often [S]): no vendor at all.
PLACEHOLDERS = frozenset({
    "to be filled by o.e.m.", "to be filled by oem", "system manufacturer", "system product name",
    "default string", "o.e.m.", "oem", "not applicable", "not specified", "none", "unknown",
    "invalid", "type1productconfigid", "type2 - board vendor name1", "",
})


def named(value: str | None) -> bool:
    """``value`` names something (not empty, not a firmware placeholder)."""
    return value is not None and value.strip().lower() not in PLACEHOLDERS


def physical(dmi: Mapping[str, str]) -> tuple[str, str] | None:
    """(key, value) of a system vendor or model that names hardware no table knows as virtual
    (systemd's, virt-what's Hyper-V pair, VIRTUAL_PRODUCTS), else None. DMI strings are set
    by the firmware and can be changed (a VM can be configured to show a physical name):
    this is what the machine says about itself, not proof. A cloud's names (CLOUDS: "Alibaba
    Cloud ECS", SI-ZHCN3) are its instances', virtual or bare metal: never hardware here."""
    if dmi_vendor(dmi) is not None or cloud(dmi) is not None:
        return None
    for key in ("sys_vendor", "product_name"):
        if named(dmi.get(key)):
            return key, dmi[key]
    return None


def dmi_vendor(dmi: Mapping[str, str]) -> tuple[str, str, DmiVendor] | None:
    """systemd's DMI vendor: (key, value, row) of the first prefix match, then virt-what's
    Hyper-V pair, then VIRTUAL_PRODUCTS; else None."""
    for key in VENDOR_KEYS:
        value = dmi.get(key)
        if not value:
            continue
        for row in DMI_VENDORS:
            if value.startswith(row.prefix):
                return key, value, row
    if (dmi.get("sys_vendor"), dmi.get("product_name")) == ("Microsoft Corporation",
                                                             "Virtual Machine"):
        return "product_name", "Virtual Machine", HYPERV_PAIR
    product = dmi.get("product_name") or ""
    for row in VIRTUAL_PRODUCTS:
        if product.startswith(row.prefix):
            return "product_name", product, row
    return None


def cloud(dmi: Mapping[str, str]) -> tuple[CloudRule, str] | None:
    for rule in CLOUDS:
        value = dmi.get(rule.key)
        if value and matches(value, rule):
            return rule, value
    return None


def ec2_instance_type(dmi: Mapping[str, str]) -> str | None:
    """EC2 names the instance type in product_name ("c5.large", "m5.metal")."""
    name = dmi.get("product_name", "")
    if "." in name and " " not in name and len(name) <= 32:
        return name
    return None
