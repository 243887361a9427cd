/* nestprobe-dump: the CPUID part of a nestprobe dump (format v1, docs/dump-format.md),
 * without Python. Same enumeration code as the extension (np_cpuid.c is linked in).
 *
 *   nestprobe-dump [--file PATH]...     (Linux: /PATH; Windows: C:\PATH, C:/PATH, \\host\share)
 *   nestprobe-dump --list-facts         the Windows facts' pseudo-paths (np_winfacts.h)
 *   --prove                             also run a tiny VM (np_prove.c): a `proof` record
 *   nestprobe-dump /?                   help (also -?, /help on Windows; -h, --help everywhere)
 *
 * On Windows it also records the facts of np_winfacts.h (tool_winfacts.c) and
 * `kvm-device not-linux`. Records are written by np_dump.c, which tool_winfacts.c shares.
 * Exit 0; 3 when CPUID is unavailable (the header still says why); 2 on bad usage.
 */
#define _GNU_SOURCE 1

#include "np_cpuid.h"
#include "np_dump.h"
#include "np_prove.h"
#include "np_winfacts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#define WIN32_LEAN_AND_MEAN 1
#include <fcntl.h>
#include <io.h>
#include <windows.h>
#else
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#endif

#define FILE_LIMIT (1u << 20) /* read at most 1 MiB of any file: the probe's files are tiny */
#define EXIT_USAGE 2
#define EXIT_NO_CPUID 3

#if defined(_WIN32)
#define USAGE "usage: nestprobe-dump [--prove] [--file C:\\ABSOLUTE\\PATH]... | --list-facts | /?"
/* `/?` (and -?, -h, --help): help the way Windows tools give it, CRLF line ends. */
#define NL "\r\n"
#else
#define USAGE "usage: nestprobe-dump [--prove] [--file /ABSOLUTE/PATH]... | --list-facts"
#define NL "\n"
#endif
static const char HELP[] =
    "Writes this machine's CPUID leaves"
#if defined(_WIN32)
    " and Windows facts (build, edition, SMBIOS, virtualization" NL
    "services, VBS settings)"
#endif
    " as a nestprobe dump on standard output." NL
    "It changes nothing and needs no administrator." NL NL
#if defined(_WIN32)
    "nestprobe-dump [--file C:\\path]..." NL
    "nestprobe-dump --list-facts" NL NL
    "  --file path    also record this file (C:\\..., C:/..., \\\\host\\share\\...)" NL
    "  --list-facts   list the pseudo-paths of the Windows facts it records" NL
    "  /?             show this help" NL NL
    "Exit codes: 0 written; 3 CPUID unavailable (the dump says why); 2 bad usage;" NL
    "1 the output could not be written." NL NL
    "Example:" NL
    "  nestprobe-dump > %COMPUTERNAME%.dump" NL
    "  nestprobe report --from %COMPUTERNAME%.dump     (on any machine with nestprobe)" NL;
#else
    "nestprobe-dump [--file /path]..." NL
    "nestprobe-dump --list-facts" NL NL
    "  --file path    also record this file (an absolute path)" NL
    "  --list-facts   list the pseudo-paths of the Windows facts (Windows build)" NL
    "  -h, --help     show this help" NL NL
    "Exit codes: 0 written; 3 CPUID unavailable (the dump says why); 2 bad usage;" NL
    "1 the output could not be written." NL NL
    "Example: nestprobe-dump > $(hostname).dump; nestprobe report --from $(hostname).dump" NL;
#endif

static int is_help(const char *arg)
{
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
        return 1;
#if defined(_WIN32)
    /* Windows tools answer /? and -? (cmd passes /? through unchanged). */
    if (strcmp(arg, "/?") == 0 || strcmp(arg, "-?") == 0 || _stricmp(arg, "/help") == 0)
        return 1;
#endif
    return 0;
}

/* uname -m as nestprobe/sources/osfacts.py normalise_machine spells it: lower case,
 * with MACHINE_ALIASES applied. */
static const char *machine_name(char *m)
{
    static const char *const aliases[][2] = {
        {"amd64", "x86_64"}, {"x64", "x86_64"}, {"em64t", "x86_64"}, {"x86", "i686"},
        {"i386", "i686"},    {"i486", "i686"},  {"i586", "i686"},    {"i86pc", "i686"},
        {"arm64", "aarch64"},
    };
    for (char *c = m; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(m, aliases[i][0]) == 0)
            return aliases[i][1];
    return m;
}

/* /proc/cpuinfo repeats one block per CPU; keep the first, as the Python collector does. */
static size_t trim(const char *path, const unsigned char *s, size_t n)
{
    if (strcmp(path, "/proc/cpuinfo") != 0)
        return n;
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == '\n' && s[i + 1] == '\n')
            return i + 1;
    return n;
}

#if defined(_WIN32)
/* platform.system() and machine() as Python answers them on Windows: the OS's native
 * architecture (not a WOW64 view), named as PROCESSOR_ARCHITECTURE spells it. */
static void system_names(char *machine, size_t size, const char **system)
{
    SYSTEM_INFO si;
    GetNativeSystemInfo(&si);
    const char *name;
    switch (si.wProcessorArchitecture) {
    case PROCESSOR_ARCHITECTURE_AMD64: name = "AMD64"; break;
    case PROCESSOR_ARCHITECTURE_INTEL: name = "x86"; break;
    case 12: name = "ARM64"; break; /* PROCESSOR_ARCHITECTURE_ARM64: newer SDKs only */
    case PROCESSOR_ARCHITECTURE_ARM: name = "ARM"; break;
    case PROCESSOR_ARCHITECTURE_IA64: name = "IA64"; break;
    default: name = "unknown"; break;
    }
    snprintf(machine, size, "%s", name);
    *system = "Windows";
}

/* Drive-absolute (C:\x, C:/x) or UNC (\\host\share\x): a relative or drive-relative path
 * would depend on the current directory of each drive. */
static int absolute_path(const char *p)
{
    int drive = ((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')) && p[1] == ':' &&
                (p[2] == '\\' || p[2] == '/');
    int unc = p[0] == '\\' && p[1] == '\\' && p[2] != '\0';
    return drive || unc;
}

/* The states Python's reader gives (FileNotFoundError -> absent, a directory -> dir). */
static void put_file(FILE *f, const char *path)
{
    DWORD attributes = GetFileAttributesA(path);
    if (attributes == INVALID_FILE_ATTRIBUTES) {
        DWORD e = GetLastError();
        int gone = e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND ||
                   e == ERROR_BAD_NETPATH || e == ERROR_BAD_NET_NAME || e == ERROR_INVALID_NAME;
        np_put_file_record(f, path, gone ? "absent" : "unreadable", NULL, 0);
        return;
    }
    if (attributes & FILE_ATTRIBUTE_DIRECTORY) {
        np_put_file_record(f, path, "dir", NULL, 0);
        return;
    }
    HANDLE h = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                           NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    unsigned char *buf = malloc(FILE_LIMIT);
    size_t n = 0;
    int ok = h != INVALID_HANDLE_VALUE && buf != NULL;
    while (ok && n < FILE_LIMIT) {
        DWORD got = 0;
        if (!ReadFile(h, buf + n, (DWORD)(FILE_LIMIT - n), &got, NULL))
            ok = 0;
        if (!ok || got == 0)
            break;
        n += got;
    }
    if (h != INVALID_HANDLE_VALUE)
        CloseHandle(h);
    if (ok)
        np_put_file_record(f, path, "ok", buf, trim(path, buf, n));
    else
        np_put_file_record(f, path, "unreadable", NULL, 0);
    free(buf);
}
#else
static void system_names(char *machine, size_t size, const char **system)
{
    static struct utsname u;
    snprintf(machine, size, "unknown");
    *system = "unknown";
    if (uname(&u) == 0) {
        snprintf(machine, size, "%s", u.machine);
        *system = u.sysname;
    }
}

static int absolute_path(const char *p)
{
    return p[0] == '/';
}

static void put_file(FILE *f, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        np_put_file_record(f, path, errno == ENOENT || errno == ENOTDIR ? "absent" : "unreadable",
                           NULL, 0);
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        np_put_file_record(f, path, "dir", NULL, 0);
        return;
    }
    int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
    unsigned char *buf = malloc(FILE_LIMIT);
    size_t n = 0;
    int ok = fd >= 0 && buf != NULL;
    while (ok && n < FILE_LIMIT) { /* /proc sizes lie (0): read until EOF */
        ssize_t got = read(fd, buf + n, FILE_LIMIT - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            ok = 0;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    if (fd >= 0)
        close(fd);
    if (ok)
        np_put_file_record(f, path, "ok", buf, trim(path, buf, n));
    else
        np_put_file_record(f, path, "unreadable", NULL, 0);
    free(buf);
}
#endif

/* An absolute path of printable ASCII (a space is fine: such a path is written as JSON).
 * Other bytes are refused: the reader takes record paths as text, not as escaped bytes. */
static int acceptable_path(const char *p)
{
    if (!absolute_path(p))
        return 0;
    for (; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            return 0;
    return 1;
}

static const char *status_name(int code)
{
    if (code == NP_OK)
        return "ok";
    if (code == NP_ENOTSUP)
        return "not-x86";
    if (code == NP_EFAULTING)
        return "faulting";
    return "no-extension";
}

static const char *status_detail(int code, const char *machine)
{
    static char text[200]; /* the sentence plus a machine name of up to 127 bytes */
    if (code == NP_OK)
        return NULL;
    if (code == NP_ENOTSUP) {
        snprintf(text, sizeof text, "CPUID is an x86 instruction; this machine is %s", machine);
        return text;
    }
    if (code == NP_EFAULTING) /* same words as nestprobe/native/__init__.py FAULTING_DETAIL */
        return "CPUID faults in this process (arch_prctl(ARCH_GET_CPUID) returned 0, "
               "as under rr or after ARCH_SET_CPUID 0)";
    return "the CPUID enumeration failed";
}

/* The proof run's defaults: the same as nestprobe/native/proof.py ProofPlan (a test compares). */
static const npp_params PROOF_PLAN = {
    .limit_ms = 2000, .guest = NPP_GUEST_PROOF, .value = 0x6E70726Fu, .loop_iterations = 10000,
    .loop_rounds = 3, .io_exits = 200, .cpuid_batches = 20, .cpuid_per_batch = 50,
};

static void put_u64_list(FILE *f, const char *name, const uint64_t *values, uint32_t n)
{
    fprintf(f, ", \"%s\": [", name);
    for (uint32_t i = 0; i < n; i++)
        fprintf(f, "%s%llu", i ? ", " : "", (unsigned long long)values[i]);
    fputc(']', f);
}

/* `proof {JSON}`: ProofRecord.to_dict()'s keys and values (nestprobe/model/proof.py). */
static void put_proof(FILE *f)
{
    static npp_result r;
    const npp_params *p = &PROOF_PLAN;
    int rc = npp_prove(p, &r);
    const char *platform = r.platform == NPP_PLATFORM_KVM ? "kvm"
                         : r.platform == NPP_PLATFORM_WHP ? "whp" : "none";
    const char *outcome = rc == NPP_ENOTSUP ? "not-supported" : npp_outcome_name(r.outcome);
    int native = 0;
    for (uint32_t i = 0; i < p->loop_rounds; i++)
        native |= r.native_loop_ticks[i] != 0;
    fprintf(f, "proof {\"platform\": \"%s\", \"outcome\": \"%s\", \"step\": \"%s\", "
            "\"error\": %lld, ", rc == NPP_ENOTSUP ? "none" : platform,
            *outcome ? outcome : "refused", *npp_step_name(r.step) ? npp_step_name(r.step) : "none",
            (long long)r.error);
    if (r.api_version >= 0)
        fprintf(f, "\"api_version\": %d, ", (int)r.api_version);
    else
        fputs("\"api_version\": null, ", f);
    fprintf(f, "\"exit_reason\": %u, \"exits\": %u, \"detail\": %llu, \"detail2\": %llu, "
            "\"value_sent\": %u, \"value_seen\": %u, \"guest_cpuid_ebx\": %u, "
            "\"loop_iterations\": %u",
            (unsigned)r.exit_reason, (unsigned)r.exits, (unsigned long long)r.detail,
            (unsigned long long)r.detail2, (unsigned)p->value, (unsigned)r.value_seen,
            (unsigned)r.guest_cpuid_ebx, (unsigned)p->loop_iterations);
    put_u64_list(f, "guest_loop_ticks", r.guest_loop_ticks, r.rounds_done);
    put_u64_list(f, "guest_loop_ns", r.guest_loop_ns, r.rounds_done);
    put_u64_list(f, "native_loop_ticks", r.native_loop_ticks, native ? p->loop_rounds : 0);
    put_u64_list(f, "native_loop_ns", r.native_loop_ns, native ? p->loop_rounds : 0);
    put_u64_list(f, "io_ticks", r.io_ticks, r.io_done);
    fprintf(f, ", \"cpuid_per_batch\": %u", (unsigned)p->cpuid_per_batch);
    put_u64_list(f, "batch_ticks", r.batch_ticks, r.batches_done);
    fprintf(f, ", \"run_ticks\": %llu, \"run_ns\": %llu, \"wall_ns\": %llu, "
            "\"limit_ms\": %u, \"memory_bytes\": %u}\n",
            (unsigned long long)r.run_ticks, (unsigned long long)r.run_ns,
            (unsigned long long)r.wall_ns, (unsigned)p->limit_ms, (unsigned)r.memory_bytes);
}

int main(int argc, char **argv)
{
    int prove = 0;
#if defined(_WIN32)
    _setmode(_fileno(stdout), _O_BINARY); /* LF line ends, the same bytes as on Linux */
#endif
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--file") == 0 && i + 1 < argc && acceptable_path(argv[i + 1])) {
            i++;
            continue;
        }
        if (strcmp(argv[i], "--prove") == 0) {
            prove = 1;
            continue;
        }
        if (is_help(argv[i])) {
            fputs(HELP, stdout);
            return fflush(stdout) != 0;
        }
        if (strcmp(argv[i], "--list-facts") == 0 && argc == 2) {
            for (size_t k = 0; k < NP_WINFACT_COUNT; k++)
                puts(np_winfacts[k].path);
            return fflush(stdout) != 0;
        }
        fprintf(stderr, "nestprobe-dump: bad argument '%s' (%s; paths of printable ASCII)\n",
                argv[i], USAGE);
        return EXIT_USAGE;
    }

    static np_leaf leaves[NP_SNAPSHOT_CAPACITY];
    size_t count = 0;
    int rc = np_cpuid_snapshot(leaves, NP_SNAPSHOT_CAPACITY, &count);

    char machine_raw[128]; /* utsname.machine is 65 on Linux */
    const char *system;
    system_names(machine_raw, sizeof machine_raw, &system);
    const char *machine = machine_name(machine_raw);
    /* writer: tells the reader that file texts are byte-escaped (nestprobe/sources/dumpfile.py) */
    printf("nestprobe-dump 1\nwriter nestprobe-dump-c\nmachine %s\nsystem %s\n", machine, system);
    int status = rc == NP_TRUNCATED ? NP_OK : rc;
    printf("cpuid-status %s\n", status_name(status));
    const char *detail = status_detail(status, machine);
    if (detail != NULL) {
        fputs("cpuid-detail ", stdout);
        np_put_json(stdout, (const unsigned char *)detail, strlen(detail));
        fputc('\n', stdout);
    }
    if (rc == NP_TRUNCATED)
        puts("truncated 1");
    for (size_t i = 0; i < count; i++) {
        const np_leaf *e = &leaves[i];
        printf("cpuid 0x%08x 0x%08x eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x\n",
               (unsigned)e->leaf, (unsigned)e->subleaf, (unsigned)e->eax, (unsigned)e->ebx,
               (unsigned)e->ecx, (unsigned)e->edx);
    }
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--file") == 0)
            put_file(stdout, argv[++i]);
#if defined(_WIN32)
    np_put_windows_facts(stdout);
    /* What the Python probe records on every OS but Linux, so a replay of this dump gives
     * the live Windows run's report (on Linux /dev/kvm stays unprobed: no record). */
    puts("kvm-device not-linux");
#endif
    if (prove)
        put_proof(stdout);
    puts("end");
    if (fflush(stdout) != 0)
        return 1;
    return rc < 0 ? EXIT_NO_CPUID : 0;
}
