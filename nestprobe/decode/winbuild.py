
"""Windows build numbers, editions and installation types as data, each row cited.

Sources (checked for the values used):
  RI10  https://learn.microsoft.com/windows/release-health/release-information
        (Windows 10: version -> OS build)
  RI11  https://learn.microsoft.com/windows/release-health/windows11-release-information
  RIWS  https://learn.microsoft.com/windows/release-health/windows-server-release-info
  OSV   https://learn.microsoft.com/windows/win32/sysinfo/operating-system-version
        (6.1 = Windows 7 / Server 2008 R2, 6.2 = 8 / 2012, 6.3 = 8.1 / 2012 R2)
  HVREQ MicrosoftDocs/Virtualization-Documentation virtualization/hyper-v-on-windows/
        reference/hyper-v-requirements.md: "The Hyper-V role cannot be installed on
        Windows 10 Home"; Enterprise, Professional, Education can.
  WCREQ MicrosoftDocs/Virtualization-Documentation virtualization/windowscontainers/
        deploy-containers/system-requirements.md: the container feature is on Windows
        Server 2016+, "Windows 10 Professional and Enterprise Editions (version 1607 and
        later), and Windows 11 Pro and Enterprise"; "The Hyper-V role must be installed
        before running Hyper-V isolation."
  WSLM  MicrosoftDocs/WSL WSL/install-manual.md: WSL 2 needs Windows 10 "For x64 systems:
        Version 1903 or later, with Build 18362.1049 or later. For ARM64 systems: Version
        2004 or later, with Build 19041 or later", or Windows 11.
  WSLI  MicrosoftDocs/WSL WSL/install.md: ``wsl --install`` needs "Windows 10 version 2004
        and higher (Build 19041 and higher) or Windows 11"; install-on-server.md: Windows
        Server 2022 and later also take ``wsl --install``.
  REG   The ``CurrentVersion`` key: ProductName still says "Windows 10" on Windows 11
        (windows.md); the build decides.
"""

from __future__ import annotations

from nestprobe.model.record import Record
from nestprobe.model.typeshim import Literal

Edition = Literal["home", "pro", "education", "enterprise", "server", "azure-local", "other",
                  "unknown"]


class Release(Record):
    build: int
    client: str | None  # the client release with this build, None if there is none
    server: str | None  # the Windows Server release with this build
    source: str


#: Builds of general-availability releases, ascending.
RELEASES: tuple[Release, ...] = (
    Release(7601, "Windows 7 SP1", "Windows Server 2008 R2 SP1", "OSV"),
    Release(9200, "Windows 8", "Windows Server 2012", "OSV"),
    Release(9600, "Windows 8.1", "Windows Server 2012 R2", "OSV"),
    Release(10240, "Windows 10 version 1507", None, "RI10"),
    Release(10586, "Windows 10 version 1511", None, "RI10"),
    Release(14393, "Windows 10 version 1607", "Windows Server 2016", "RI10; RIWS"),
    Release(15063, "Windows 10 version 1703", None, "RI10"),
    Release(16299, "Windows 10 version 1709", "Windows Server version 1709", "RI10; RIWS"),
    Release(17134, "Windows 10 version 1803", "Windows Server version 1803", "RI10; RIWS"),
    Release(17763, "Windows 10 version 1809", "Windows Server 2019", "RI10; RIWS"),
    Release(18362, "Windows 10 version 1903", None, "RI10"),
    Release(18363, "Windows 10 version 1909", "Windows Server version 1909", "RI10; RIWS"),
    Release(19041, "Windows 10 version 2004", "Windows Server version 2004", "RI10; RIWS"),
    Release(19042, "Windows 10 version 20H2", "Windows Server version 20H2", "RI10; RIWS"),
    Release(19043, "Windows 10 version 21H1", None, "RI10"),
    Release(19044, "Windows 10 version 21H2", None, "RI10"),
    Release(19045, "Windows 10 version 22H2", None, "RI10"),
    Release(20348, None, "Windows Server 2022", "RIWS"),
    Release(22000, "Windows 11 version 21H2", None, "RI11"),
    Release(22621, "Windows 11 version 22H2", None, "RI11"),
    Release(22631, "Windows 11 version 23H2", None, "RI11"),
    Release(25398, None, "Windows Server version 23H2", "RIWS"),
    Release(26100, "Windows 11 version 24H2", "Windows Server 2025", "RI11; RIWS"),
    Release(26200, "Windows 11 version 25H2", None, "RI11"),
)
_BY_BUILD = {r.build: r for r in RELEASES}

#: Windows 11 starts at build 22000 (RI11); ProductName does not say so (REG).
WINDOWS_11_FIRST_BUILD = 22000
#: WSL 2 minimums (WSLM): x64 18362 with UBR 1049 (Windows 10 1903; 1909 = 18363 shares its
#: updates, so 18363.1049 likewise); ARM64 19041.
WSL2_X64 = (18362, 1049)
WSL2_ARM64 = (19041, 0)
#: ``wsl --install`` (WSLI): Windows 10 2004 and later, Windows 11, Windows Server 2022.
WSL_INSTALL_BUILD = 19041
#: The container feature on clients: Windows 10 1607 and later (WCREQ).
CONTAINERS_CLIENT_BUILD = 14393


def release_name(build: int | None, server: bool | None) -> str | None:
    """``Windows 11 version 23H2`` for 22631, ``Windows Server 2022`` for 20348 ...; a build
    between releases (Insider, a newer one) is named by its family with the build."""
    if build is None:
        return None
    row = _BY_BUILD.get(build)
    if row is not None:
        name = row.server if server and row.server else row.client or row.server
        if name is not None:
            return name
    if server:
        return f"Windows Server (build {build})"
    if build >= WINDOWS_11_FIRST_BUILD:
        return f"Windows 11 (build {build})"
    if build >= 10240:
        return f"Windows 10 (build {build})"
    return f"Windows (build {build})"


def edition_of_id(edition_id: str | None) -> Edition:  # noqa: PLR0911 (a case table, read top to bottom)
    """The edition family of a CurrentVersion ``EditionID`` value.

    Core* is Home (Core, CoreN, CoreSingleLanguage, CoreCountrySpecific; Windows 7's
    HomeBasic and HomePremium too); Professional*
    is Pro (ProfessionalEducation is Pro Education); Enterprise*, IoTEnterprise* are
    Enterprise (EnterpriseS is LTSC); Server* is Windows Server, except
    ServerAzureStackHCI*, the Azure Stack HCI / Azure Local OS.
    """
    if not edition_id:
        return "unknown"
    name = edition_id.strip()
    if name.startswith(("Core", "HomeBasic", "HomePremium")):  # Windows 7: HomeBasic/Premium
        return "home"
    if name == "ProfessionalEducation" or name.startswith("Education"):
        return "education"
    if name.startswith("Professional"):
        return "pro"
    if name.startswith(("Enterprise", "IoTEnterprise")):
        return "enterprise"
    if name.startswith("ServerAzureStackHCI"):
        return "azure-local"
    if name.startswith("Server"):
        return "server"
    return "other"


def edition_of_caption(caption: str | None) -> Edition:  # noqa: PLR0911 (a case table, read top to bottom)
    """The edition family of a product name as systeminfo/msinfo32 print it
    ("Microsoft Windows 10 Home", "Microsoft Windows Server 2022 Datacenter")."""
    if not caption:
        return "unknown"
    words = caption.replace("®", " ").split()
    text = " ".join(words)
    if "Azure Stack HCI" in text or "Azure Local" in text:
        return "azure-local"
    if "Server" in words:
        return "server"
    # Localized names as cited outputs print them: fr "Professionnel" (SI-FR), "Famille"
    # (Microsoft's fr-fr Hyper-V pages, SI-FR), ru "Домашняя" (SI-RU), zh-CN "家庭中文版" (SI-ZHCN).
    if "Home" in words or "Famille" in words or "Домашняя" in words or "家庭" in text:
        return "home"
    if "Education" in words:
        return "education"
    if "Enterprise" in words:
        return "enterprise"
    # zh-TW "專業版" (SI-ZHTW), zh-CN "专业版" (SI-ZHCN2).
    if ("Pro" in words or "Professional" in words or "Professionnel" in words
            or "專業版" in text or "专业版" in text):
        return "pro"
    return "other"


#: Editions with the client Hyper-V role (HVREQ) or the Windows Server role.
HYPERV_EDITIONS: frozenset[Edition] = frozenset({"pro", "education", "enterprise", "server",
                                                  "azure-local"})


def wsl2_build_ok(build: int | None, ubr: int | None, *, arm64: bool) -> bool | None:
    """Whether this build can run WSL 2 (WSLM); None when the build is unknown."""
    if build is None:
        return None
    need_build, need_ubr = WSL2_ARM64 if arm64 else WSL2_X64
    if not arm64 and build == need_build + 1:
        need_build = build  # 1909 (18363) shares 1903's servicing: 18363.1049 likewise
    if build != need_build:
        return build > need_build
    if ubr is None:
        return None  # 18362 itself: the UBR decides and was not recorded
    return ubr >= need_ubr


def is_server(installation_type: str | None, edition: Edition) -> bool | None:
    """Server by the InstallationType value (Client, Server, Server Core), else by edition."""
    if installation_type:
        return installation_type.strip().startswith("Server")
    if edition in ("server", "azure-local"):
        return True
    if edition in ("home", "pro", "education", "enterprise"):
        return False
    return None
