/* nestprobe-dump on Windows: the facts of np_winfacts.h as `file` records.
 *
 * Everything here works without admin rights, WMI or child processes: registry reads
 * (HKLM, 64-bit view), GetSystemFirmwareTable, IsProcessorFeaturePresent,
 * GlobalMemoryStatusEx, GetActiveProcessorCount, GetNativeSystemInfo.
 */
#if defined(_WIN32)

#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0601 /* Windows 7: GetActiveProcessorCount */
#endif
#define WIN32_LEAN_AND_MEAN 1

#include "np_dump.h"
#include "np_winfacts.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <windows.h>

#define RSMB_SIGNATURE 0x52534D42u /* 'RSMB' (GetSystemFirmwareTable's raw SMBIOS provider) */
#define ALL_GROUPS 0xFFFFu         /* ALL_PROCESSOR_GROUPS */
#define REG_VALUE_LIMIT (1u << 16) /* bytes: the values read here are short strings and DWORDs */
#define HKLM_PREFIX "registry:HKLM\\"

static void put_state(FILE *f, const char *path, const char *state)
{
    np_put_file_record(f, path, state, NULL, 0);
}

static void put_text(FILE *f, const char *path, const char *text)
{
    np_put_file_record(f, path, "ok", (const unsigned char *)text, strlen(text));
}

static void put_u64(FILE *f, const char *path, uint64_t value)
{
    char text[24];
    char *p = text + sizeof text;
    *--p = '\0';
    do {
        *--p = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    put_text(f, path, p);
}

/* Registry error -> record state: a missing key or value is absent; denied is unreadable. */
static const char *registry_state(LONG error)
{
    if (error == ERROR_FILE_NOT_FOUND || error == ERROR_PATH_NOT_FOUND)
        return "absent";
    return "unreadable";
}

/* ASCII (the pseudo-paths are ASCII) to a UTF-16 copy; NULL when out of memory. */
static wchar_t *widen(const char *s, size_t n)
{
    wchar_t *w = malloc((n + 1) * sizeof *w);
    if (w == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        w[i] = (wchar_t)(unsigned char)s[i];
    w[n] = 0;
    return w;
}

/* UTF-16 string data (n code units, trailing NULs dropped, inner NULs as '\n') as UTF-8. */
static void put_registry_string(FILE *f, const char *path, wchar_t *data, size_t n)
{
    while (n > 0 && data[n - 1] == 0)
        n--;
    for (size_t i = 0; i < n; i++)
        if (data[i] == 0)
            data[i] = L'\n'; /* REG_MULTI_SZ: one string per line */
    if (n == 0) {
        put_text(f, path, "");
        return;
    }
    int size = WideCharToMultiByte(CP_UTF8, 0, data, (int)n, NULL, 0, NULL, NULL);
    char *utf8 = size > 0 ? malloc((size_t)size) : NULL;
    if (utf8 == NULL || WideCharToMultiByte(CP_UTF8, 0, data, (int)n, utf8, size, NULL, NULL) != size)
        put_state(f, path, "unreadable");
    else
        np_put_file_record(f, path, "ok", (const unsigned char *)utf8, (size_t)size);
    free(utf8);
}

static void put_registry_data(FILE *f, const char *path, DWORD type, BYTE *data, DWORD size)
{
    switch (type) {
    case REG_SZ:
    case REG_EXPAND_SZ:
    case REG_MULTI_SZ:
        put_registry_string(f, path, (wchar_t *)data, size / sizeof(wchar_t));
        return;
    case REG_DWORD:
        if (size == 4) {
            put_u64(f, path, (uint64_t)data[0] | (uint64_t)data[1] << 8 | (uint64_t)data[2] << 16 |
                                 (uint64_t)data[3] << 24);
            return;
        }
        break;
    case REG_QWORD:
        if (size == 8) {
            uint64_t v = 0;
            for (int i = 7; i >= 0; i--)
                v = v << 8 | data[i];
            put_u64(f, path, v);
            return;
        }
        break;
    default:
        break;
    }
    put_state(f, path, "unreadable"); /* a type the contract does not cover */
}

/* registry:HKLM\KEY\VALUE: the value's data, or why not. */
static void put_registry_value(FILE *f, const char *path)
{
    const char *key = path + strlen(HKLM_PREFIX);
    const char *last = strrchr(key, '\\');
    wchar_t *wkey = widen(key, (size_t)(last - key));
    wchar_t *wname = widen(last + 1, strlen(last + 1));
    BYTE *data = malloc(REG_VALUE_LIMIT + sizeof(wchar_t));
    HKEY h = NULL;
    LONG e = wkey && wname && data ? ERROR_SUCCESS : ERROR_OUTOFMEMORY;
    if (e == ERROR_SUCCESS)
        e = RegOpenKeyExW(HKEY_LOCAL_MACHINE, wkey, 0, KEY_QUERY_VALUE | KEY_WOW64_64KEY, &h);
    DWORD type = REG_NONE, size = REG_VALUE_LIMIT;
    if (e == ERROR_SUCCESS)
        e = RegQueryValueExW(h, wname, NULL, &type, data, &size);
    if (e == ERROR_SUCCESS)
        put_registry_data(f, path, type, data, size);
    else
        put_state(f, path, registry_state(e));
    if (h != NULL)
        RegCloseKey(h);
    free(data);
    free(wname);
    free(wkey);
}

/* registry:HKLM\KEY: dir when the key exists. */
static void put_registry_key(FILE *f, const char *path)
{
    const char *key = path + strlen(HKLM_PREFIX);
    wchar_t *wkey = widen(key, strlen(key));
    HKEY h = NULL;
    LONG e = wkey != NULL ? RegOpenKeyExW(HKEY_LOCAL_MACHINE, wkey, 0,
                                          KEY_QUERY_VALUE | KEY_WOW64_64KEY, &h)
                          : ERROR_OUTOFMEMORY;
    put_state(f, path, e == ERROR_SUCCESS ? "dir" : registry_state(e));
    if (h != NULL)
        RegCloseKey(h);
    free(wkey);
}

static void put_rsmb(FILE *f, const char *path)
{
    UINT size = GetSystemFirmwareTable(RSMB_SIGNATURE, 0, NULL, 0);
    BYTE *raw = size > 0 ? malloc(size) : NULL;
    char *hex = raw != NULL ? malloc(2 * (size_t)size + 1) : NULL;
    if (hex == NULL || GetSystemFirmwareTable(RSMB_SIGNATURE, 0, raw, size) != size) {
        put_state(f, path, "absent");
    } else {
        static const char digits[] = "0123456789abcdef";
        for (UINT i = 0; i < size; i++) {
            hex[2 * i] = digits[raw[i] >> 4];
            hex[2 * i + 1] = digits[raw[i] & 15];
        }
        hex[2 * (size_t)size] = '\0';
        put_text(f, path, hex);
    }
    free(hex);
    free(raw);
}

/* One BCD element's "Element" value (the hive keeps every element as a key with that value). */
static LONG bcd_element(const wchar_t *object, const wchar_t *element, DWORD *type, BYTE *data,
                        DWORD *size)
{
    wchar_t key[160];
    HKEY h = NULL;
    if (swprintf(key, sizeof key / sizeof key[0], L"BCD00000000\\Objects\\%ls\\Elements\\%ls",
                 object, element) < 0)
        return ERROR_INVALID_PARAMETER;
    LONG e = RegOpenKeyExW(HKEY_LOCAL_MACHINE, key, 0, KEY_QUERY_VALUE, &h);
    if (e == ERROR_SUCCESS)
        e = RegQueryValueExW(h, L"Element", NULL, type, data, size);
    if (h != NULL)
        RegCloseKey(h);
    return e;
}

/* bcd:{default}:hypervisorlaunchtype, as nestprobe/sources/winlive.py reads it: the boot
 * manager {9dea862c-5cdd-4e70-acc1-f32b344d4795}'s BcdBootMgrObject_DefaultObject (23000003,
 * the default entry's GUID), then that entry's BcdOSLoaderInteger_HypervisorLaunchType
 * (250000F0, 8 bytes little-endian). The hive is administrators-only: denied is unreadable. */
static void put_bcd_launch(FILE *f, const char *path)
{
    wchar_t guid[64];
    BYTE value[8];
    DWORD type = REG_NONE, size = sizeof guid - sizeof guid[0];
    LONG e = bcd_element(L"{9dea862c-5cdd-4e70-acc1-f32b344d4795}", L"23000003", &type,
                         (BYTE *)guid, &size);
    if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND) {
        put_state(f, path, "unreadable"); /* no BCD store: unknown, never "not set" */
        return;
    }
    if (e == ERROR_SUCCESS && type != REG_SZ)
        e = ERROR_INVALID_DATA;
    if (e == ERROR_SUCCESS) {
        guid[size / sizeof guid[0]] = L'\0';
        size = sizeof value;
        e = bcd_element(guid, L"250000F0", &type, value, &size);
        if (e == ERROR_SUCCESS && (type != REG_BINARY || size == 0))
            e = ERROR_INVALID_DATA;
    }
    if (e != ERROR_SUCCESS) {
        put_state(f, path, registry_state(e));
        return;
    }
    uint64_t launch = 0;
    for (DWORD i = size; i > 0; i--)
        launch = (launch << 8) | value[i - 1];
    put_u64(f, path, launch);
}

static void put_fact(FILE *f, const np_winfact *fact)
{
    const char *path = fact->path;
    switch (fact->kind) {
    case NP_WF_REG_VALUE:
        put_registry_value(f, path);
        break;
    case NP_WF_REG_KEY:
        put_registry_key(f, path);
        break;
    case NP_WF_FIRMWARE_RSMB:
        put_rsmb(f, path);
        break;
    case NP_WF_PROCESSOR_FEATURE: {
        DWORD feature = (DWORD)strtoul(strrchr(path, ':') + 1, NULL, 10);
        put_text(f, path, IsProcessorFeaturePresent(feature) ? "1" : "0");
        break;
    }
    case NP_WF_TOTAL_PHYS: {
        MEMORYSTATUSEX m;
        m.dwLength = sizeof m;
        if (GlobalMemoryStatusEx(&m))
            put_u64(f, path, m.ullTotalPhys);
        else
            put_state(f, path, "unreadable");
        break;
    }
    case NP_WF_ACTIVE_CPUS: {
        DWORD n = GetActiveProcessorCount(ALL_GROUPS);
        if (n != 0)
            put_u64(f, path, n);
        else
            put_state(f, path, "unreadable");
        break;
    }
    case NP_WF_NATIVE_ARCH: {
        SYSTEM_INFO si;
        GetNativeSystemInfo(&si);
        put_u64(f, path, si.wProcessorArchitecture);
        break;
    }
    case NP_WF_BCD_LAUNCH:
        put_bcd_launch(f, path);
        break;
    case NP_WF_WINE_VERSION: {
        /* wine's ntdll exports it; Windows' does not (the documented way to tell wine). */
        typedef const char *(*wine_version_fn)(void);
        HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
        FARPROC proc = ntdll != NULL ? GetProcAddress(ntdll, "wine_get_version") : NULL;
        const char *version = NULL;
        if (proc != NULL)
            version = ((wine_version_fn)(void (*)(void))proc)();
        if (proc == NULL)
            put_state(f, path, "absent");
        else if (version == NULL)
            put_state(f, path, "unreadable");
        else
            put_text(f, path, version);
        break;
    }
    }
}

void np_put_windows_facts(FILE *f)
{
    for (size_t i = 0; i < NP_WINFACT_COUNT; i++)
        put_fact(f, &np_winfacts[i]);
}

#else
typedef int np_winfacts_is_windows_only; /* an empty unit is not ISO C */
#endif
