/* The Windows facts nestprobe-dump.exe records: one `file` record each, under a pseudo-path.
 *
 * This list is the contract with the Python Windows-facts reader (same pseudo-paths, same
 * value text); it exists once, here. `nestprobe-dump --list-facts` prints it, and a test
 * parses the lines below (one NP_WINFACT row per line, the path a plain C string).
 *
 * Value text (docs/dump-format.md, "Windows facts"):
 *   registry value  REG_SZ / REG_EXPAND_SZ as the string (UTF-8, unexpanded), REG_MULTI_SZ
 *                   as its strings joined by "\n", REG_DWORD / REG_QWORD in decimal;
 *                   missing key or value: state absent; access denied: unreadable.
 *   registry key    state dir when the key exists, absent when not (no text).
 *   firmware:RSMB   lower-case hex of the raw GetSystemFirmwareTable('RSMB', 0) buffer
 *                   (the SMBIOS tables behind a RawSMBIOSData header); absent if it fails.
 *   winapi:...      IsProcessorFeaturePresent: "0"/"1"; the others in decimal.
 *   bcd:{default}:hypervisorlaunchtype  from the BCD hive HKLM\BCD00000000 without bcdedit:
 *                   the boot manager's default entry (element 23000003), then that entry's
 *                   element 250000F0 (8-byte little-endian) in decimal, 0 Off, 1 Auto;
 *                   absent when the entry has no such element, unreadable when not elevated
 *                   (admin-only hive) or when there is no BCD store (wine): unknown.
 *   winapi:wine_get_version  ntdll's export, only under wine: its version text.
 * Meanings: docs/windows.md and the Win32 documentation of each API.
 */
#ifndef NESTPROBE_NP_WINFACTS_H
#define NESTPROBE_NP_WINFACTS_H

typedef enum {
    NP_WF_REG_VALUE,         /* registry:HKLM\KEY\VALUE: the value's data */
    NP_WF_REG_KEY,           /* registry:HKLM\KEY: whether the key exists */
    NP_WF_FIRMWARE_RSMB,     /* GetSystemFirmwareTable('RSMB', 0) */
    NP_WF_PROCESSOR_FEATURE, /* IsProcessorFeaturePresent(N), N after the last ':' */
    NP_WF_TOTAL_PHYS,        /* GlobalMemoryStatusEx: ullTotalPhys (bytes) */
    NP_WF_ACTIVE_CPUS,       /* GetActiveProcessorCount(ALL_PROCESSOR_GROUPS) */
    NP_WF_NATIVE_ARCH,       /* GetNativeSystemInfo: wProcessorArchitecture */
    NP_WF_BCD_LAUNCH,        /* the default boot entry's hypervisorlaunchtype (BCD hive) */
    NP_WF_WINE_VERSION       /* ntdll!wine_get_version: absent on Windows, wine's version under it */
} np_winfact_kind;

#define NP_WF_CV "registry:HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\"
#define NP_WF_BIOS "registry:HKLM\\HARDWARE\\DESCRIPTION\\System\\BIOS\\"
#define NP_WF_GUEST "registry:HKLM\\SOFTWARE\\Microsoft\\Virtual Machine\\Guest\\Parameters\\"
#define NP_WF_SERVICES "registry:HKLM\\SYSTEM\\CurrentControlSet\\Services\\"
#define NP_WF_DG "registry:HKLM\\SYSTEM\\CurrentControlSet\\Control\\DeviceGuard\\"

/* X(kind, pseudo-path): every fact, in the order the dumper writes them. */
#define NP_WINFACT_LIST(X)                                                                  \
    X(NP_WF_REG_VALUE, NP_WF_CV "CurrentBuild")                                             \
    X(NP_WF_REG_VALUE, NP_WF_CV "UBR")                                                      \
    X(NP_WF_REG_VALUE, NP_WF_CV "EditionID")                                                \
    X(NP_WF_REG_VALUE, NP_WF_CV "InstallationType")                                         \
    X(NP_WF_REG_VALUE, NP_WF_CV "ProductName")                                              \
    X(NP_WF_REG_VALUE, NP_WF_CV "DisplayVersion")                                           \
    X(NP_WF_REG_VALUE, NP_WF_BIOS "SystemManufacturer")                                     \
    X(NP_WF_REG_VALUE, NP_WF_BIOS "SystemProductName")                                      \
    X(NP_WF_REG_VALUE, NP_WF_BIOS "SystemVersion")                                          \
    X(NP_WF_REG_VALUE, NP_WF_BIOS "BIOSVendor")                                             \
    X(NP_WF_REG_VALUE, NP_WF_BIOS "BIOSVersion")                                            \
    X(NP_WF_REG_VALUE, NP_WF_BIOS "BaseBoardManufacturer")                                  \
    X(NP_WF_REG_VALUE, NP_WF_GUEST "HostName")                                              \
    X(NP_WF_REG_VALUE, NP_WF_GUEST "VirtualMachineName")                                    \
    X(NP_WF_REG_VALUE, NP_WF_GUEST "PhysicalHostNameFullyQualified")                        \
    X(NP_WF_REG_KEY, NP_WF_SERVICES "vmms")                                                 \
    X(NP_WF_REG_KEY, NP_WF_SERVICES "hvservice")                                            \
    X(NP_WF_REG_KEY, NP_WF_SERVICES "HvHost")                                               \
    X(NP_WF_REG_KEY, NP_WF_SERVICES "vmcompute")                                            \
    X(NP_WF_REG_KEY, NP_WF_SERVICES "LxssManager")                                          \
    X(NP_WF_REG_KEY, NP_WF_SERVICES "WslService")                                           \
    X(NP_WF_REG_KEY, NP_WF_SERVICES "vmbus")                                                \
    X(NP_WF_REG_VALUE, NP_WF_DG "EnableVirtualizationBasedSecurity")                        \
    X(NP_WF_REG_VALUE, NP_WF_DG "Scenarios\\HypervisorEnforcedCodeIntegrity\\Enabled")      \
    X(NP_WF_FIRMWARE_RSMB, "firmware:RSMB")                                                 \
    X(NP_WF_PROCESSOR_FEATURE, "winapi:IsProcessorFeaturePresent:20")                       \
    X(NP_WF_PROCESSOR_FEATURE, "winapi:IsProcessorFeaturePresent:21")                       \
    X(NP_WF_TOTAL_PHYS, "winapi:GlobalMemoryStatusEx:ullTotalPhys")                         \
    X(NP_WF_ACTIVE_CPUS, "winapi:GetActiveProcessorCount")                                  \
    X(NP_WF_NATIVE_ARCH, "winapi:GetNativeSystemInfo:wProcessorArchitecture")              \
    X(NP_WF_BCD_LAUNCH, "bcd:{default}:hypervisorlaunchtype")                               \
    X(NP_WF_REG_KEY, "registry:HKLM\\SOFTWARE\\Wine")                                        \
    X(NP_WF_WINE_VERSION, "winapi:wine_get_version")

typedef struct {
    np_winfact_kind kind;
    const char *path;
} np_winfact;

#define NP_WINFACT_ROW(kind, path) {kind, path},
static const np_winfact np_winfacts[] = {NP_WINFACT_LIST(NP_WINFACT_ROW)};
#undef NP_WINFACT_ROW
#define NP_WINFACT_COUNT (sizeof np_winfacts / sizeof np_winfacts[0])

#endif
