"""The live Windows reader: winreg and ctypes against kernel32, nothing else.

No WMI (``platform.uname()`` goes through it and aborts under wine), no child process
(no bcdedit, no PowerShell), nothing that needs administrator rights except the BCD
hive, which is read only when its ACL lets this user in. Every call returns a
:class:`~nestprobe.model.snapshot.FileFact`; errors are states. Registry keys are opened in
the 64-bit view (KEY_WOW64_64KEY) so a 32-bit Python reads what 64-bit Windows has.

Only importable on Windows; everywhere else the facts come from a recording.
"""

from __future__ import annotations

import sys

from nestprobe.model.snapshot import FileFact
from nestprobe.sources.windows_facts import (
    ALL_PROCESSOR_GROUPS,
    PROCESSOR_ARCHITECTURES,
    RSMB,
    collect_windows_facts,
    error_state,
    registry_text,
)

#: A raw SMBIOS table is a few KB; anything beyond this is not one.
FIRMWARE_TABLE_CAP = 1 << 20
#: BcdBootMgrObject_DefaultObject (0x23000003) of the boot manager object
#: {9dea862c-5cdd-4e70-acc1-f32b344d4795}: the GUID of the default OS loader entry.
BOOTMGR = r"BCD00000000\Objects\{9dea862c-5cdd-4e70-acc1-f32b344d4795}"
DEFAULT_OBJECT = "23000003"
#: BcdOSLoaderInteger_HypervisorLaunchType: an 8-byte little-endian integer element.
HYPERVISOR_LAUNCH_TYPE = "250000F0"

if sys.platform == "win32":
    import ctypes
    import winreg
    from ctypes import wintypes

    _kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)

    class _MemoryStatusEx(ctypes.Structure):
        _fields_ = (
            ("dwLength", wintypes.DWORD),
            ("dwMemoryLoad", wintypes.DWORD),
            ("ullTotalPhys", ctypes.c_ulonglong),
            ("ullAvailPhys", ctypes.c_ulonglong),
            ("ullTotalPageFile", ctypes.c_ulonglong),
            ("ullAvailPageFile", ctypes.c_ulonglong),
            ("ullTotalVirtual", ctypes.c_ulonglong),
            ("ullAvailVirtual", ctypes.c_ulonglong),
            ("ullAvailExtendedVirtual", ctypes.c_ulonglong),
        )

    class _SystemInfo(ctypes.Structure):
        _fields_ = (
            ("wProcessorArchitecture", wintypes.WORD),
            ("wReserved", wintypes.WORD),
            ("dwPageSize", wintypes.DWORD),
            ("lpMinimumApplicationAddress", wintypes.LPVOID),
            ("lpMaximumApplicationAddress", wintypes.LPVOID),
            ("dwActiveProcessorMask", ctypes.c_size_t),
            ("dwNumberOfProcessors", wintypes.DWORD),
            ("dwProcessorType", wintypes.DWORD),
            ("dwAllocationGranularity", wintypes.DWORD),
            ("wProcessorLevel", wintypes.WORD),
            ("wProcessorRevision", wintypes.WORD),
        )

    _kernel32.GetSystemFirmwareTable.argtypes = (
        wintypes.DWORD, wintypes.DWORD, wintypes.LPVOID, wintypes.DWORD)
    _kernel32.GetSystemFirmwareTable.restype = wintypes.UINT
    _kernel32.IsProcessorFeaturePresent.argtypes = (wintypes.DWORD,)
    _kernel32.IsProcessorFeaturePresent.restype = wintypes.BOOL
    _kernel32.GlobalMemoryStatusEx.argtypes = (ctypes.POINTER(_MemoryStatusEx),)
    _kernel32.GlobalMemoryStatusEx.restype = wintypes.BOOL
    _kernel32.GetActiveProcessorCount.argtypes = (wintypes.WORD,)
    _kernel32.GetActiveProcessorCount.restype = wintypes.DWORD
    _kernel32.GetNativeSystemInfo.argtypes = (ctypes.POINTER(_SystemInfo),)
    _kernel32.GetNativeSystemInfo.restype = None

    _ACCESS = winreg.KEY_READ | winreg.KEY_WOW64_64KEY

    def _query(key: str, name: str) -> tuple[object, int]:
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key, 0, _ACCESS) as handle:
            data, value_type = winreg.QueryValueEx(handle, name)
        return data, value_type

    def _wine_version() -> FileFact:
        """ntdll!wine_get_version: wine's version; absent on Windows, which has no such
        export."""
        getter = getattr(ctypes.WinDLL("ntdll"), "wine_get_version", None)
        if getter is None:
            return FileFact("absent")
        getter.argtypes = ()
        getter.restype = ctypes.c_char_p
        raw = getter()
        return FileFact("ok", raw.decode("ascii", "replace")) if raw else FileFact("unreadable")

    def _native_architecture() -> int:
        info = _SystemInfo()
        _kernel32.GetNativeSystemInfo(ctypes.byref(info))
        return int(info.wProcessorArchitecture)

    class LiveReader:
        """Answers :class:`~nestprobe.sources.windows_facts.WindowsReader` from this Windows."""

        def value(self, key: str, name: str) -> FileFact:
            try:
                data, value_type = _query(key, name)
            except OSError as exc:
                return error_state(exc)
            text = registry_text(data, value_type)
            return FileFact("ok", text) if text is not None else FileFact("unreadable")

        def key(self, key: str) -> FileFact:
            try:
                with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key, 0, _ACCESS):
                    return FileFact("dir")
            except OSError as exc:
                return error_state(exc)

        def firmware_table(self, provider: str) -> FileFact:
            if provider != "RSMB":
                return FileFact("absent")
            size = int(_kernel32.GetSystemFirmwareTable(RSMB, 0, None, 0))
            if size == 0:
                return FileFact("absent")
            if size > FIRMWARE_TABLE_CAP:
                return FileFact("unreadable")
            buffer = ctypes.create_string_buffer(size)
            got = int(_kernel32.GetSystemFirmwareTable(RSMB, 0, buffer, size))
            if got == 0 or got > size:  # the table changed size between the calls
                return FileFact("absent")
            return FileFact("ok", buffer.raw[:got].hex())

        def winapi(self, function: str, argument: str) -> FileFact:  # noqa: PLR0911 (one case per function)
            if function == "IsProcessorFeaturePresent":
                present = bool(_kernel32.IsProcessorFeaturePresent(int(argument)))
                return FileFact("ok", "1" if present else "0")
            if function == "GlobalMemoryStatusEx":
                status = _MemoryStatusEx()
                status.dwLength = ctypes.sizeof(_MemoryStatusEx)
                if not _kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
                    return FileFact("unreadable")
                return FileFact("ok", str(int(status.ullTotalPhys)))
            if function == "GetActiveProcessorCount":
                count = int(_kernel32.GetActiveProcessorCount(ALL_PROCESSOR_GROUPS))
                return FileFact("ok", str(count)) if count else FileFact("unreadable")
            if function == "GetNativeSystemInfo":
                return FileFact("ok", str(_native_architecture()))
            if function == "wine_get_version":
                return _wine_version()
            return FileFact("absent")

        def bcd_launch_type(self) -> FileFact:
            try:
                default, value_type = _query(f"{BOOTMGR}\\Elements\\{DEFAULT_OBJECT}", "Element")
            except FileNotFoundError:  # no BCD store (or no default entry): unknown, not "not set"
                return FileFact("unreadable")
            except OSError as exc:
                return error_state(exc)
            try:
                if value_type != winreg.REG_SZ or not isinstance(default, str):
                    return FileFact("unreadable")
                element = f"BCD00000000\\Objects\\{default}\\Elements\\{HYPERVISOR_LAUNCH_TYPE}"
                data, value_type = _query(element, "Element")
            except OSError as exc:
                return error_state(exc)
            if value_type != winreg.REG_BINARY or not isinstance(data, bytes):
                return FileFact("unreadable")
            return FileFact("ok", str(int.from_bytes(data, "little")))

    def live_windows_facts() -> dict[str, FileFact]:
        """This Windows' facts, every pseudo-path of WINDOWS_FACTS."""
        return collect_windows_facts(LiveReader())

    def live_machine() -> str:
        """The native processor architecture as Windows names it (AMD64, x86, ARM64 ...)."""
        try:
            return PROCESSOR_ARCHITECTURES.get(_native_architecture(), "unknown")
        except OSError:
            return "unknown"
