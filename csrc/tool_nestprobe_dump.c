/* nestprobe-dump: the CPUID part of a nestprobe dump (format v1, docs/architecture.md),
 * without Python. Same enumeration code as the extension (np_cpuid.c is linked in).
 *
 *   nestprobe-dump [--file PATH]...
 *
 * Exit 0; 3 when CPUID is unavailable (the header still says why); 2 on bad usage.
 */
#define _GNU_SOURCE 1

#include "cpuid.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define DUMP_CAPACITY 4096
#define FILE_LIMIT (1u << 20) /* read at most 1 MiB of any file: the probe's files are tiny */
#define EXIT_USAGE 2
#define EXIT_NO_CPUID 3

/* JSON string body: \" \\ \n \t \r escaped; every other byte < 0x20 or >= 0x80 as
 * \u00XX of the byte value (the dump reader maps those back to bytes). */
static void put_json(FILE *f, const unsigned char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\t': fputs("\\t", f); break;
        case '\r': fputs("\\r", f); break;
        default:
            if (c < 0x20 || c >= 0x80)
                fprintf(f, "\\u%04x", c);
            else
                fputc(c, f);
        }
    }
    fputc('"', f);
}

static void put_json_str(FILE *f, const char *s)
{
    put_json(f, (const unsigned char *)s, strlen(s));
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

static void put_file(FILE *f, const char *path)
{
    struct stat st;
    fprintf(f, "file %s ", path);
    if (stat(path, &st) != 0) {
        fputs(errno == ENOENT || errno == ENOTDIR ? "absent\n" : "unreadable\n", f);
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        fputs("dir\n", f);
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
    if (ok) {
        fputs("ok ", f);
        put_json(f, buf, trim(path, buf, n));
        fputc('\n', f);
    } else {
        fputs("unreadable\n", f);
    }
    free(buf);
}

/* Paths go on a space-separated line unquoted: refuse what would break it. */
static int printable_path(const char *p)
{
    if (p[0] != '/')
        return 0;
    for (; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f)
            return 0;
    return 1;
}

static const char *status_name(int code)
{
    switch (code) {
    case NP_OK: return "ok";
    case NP_ENOTSUP: return "not-x86";
    case NP_EFAULTING: return "faulting";
    default: return "no-extension";
    }
}

static const char *status_detail(int code, const char *machine)
{
    static char text[160];
    switch (code) {
    case NP_OK: return NULL;
    case NP_ENOTSUP:
        snprintf(text, sizeof text, "CPUID is an x86 instruction; this machine is %s", machine);
        return text;
    case NP_EFAULTING: /* same words as nestprobe/native.py FAULTING_DETAIL */
        return "CPUID faults in this process (arch_prctl(ARCH_GET_CPUID) returned 0, "
               "as under rr or after ARCH_SET_CPUID 0)";
    default: return "the CPUID enumeration failed";
    }
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--file") == 0 && i + 1 < argc && printable_path(argv[i + 1])) {
            i++;
            continue;
        }
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            puts("usage: nestprobe-dump [--file /ABSOLUTE/PATH]...");
            return 0;
        }
        fprintf(stderr, "nestprobe-dump: bad argument '%s' (usage: nestprobe-dump "
                        "[--file /ABSOLUTE/PATH]...; paths without spaces)\n", argv[i]);
        return EXIT_USAGE;
    }

    static np_leaf leaves[DUMP_CAPACITY];
    size_t count = 0;
    int rc = np_cpuid_snapshot(leaves, DUMP_CAPACITY, &count);

    struct utsname u;
    const char *machine = "unknown", *system = "unknown";
    if (uname(&u) == 0) {
        machine = machine_name(u.machine);
        system = u.sysname;
    }
    /* writer: tells the reader that file texts are byte-escaped (nestprobe/sources/dumpfile.py) */
    printf("nestprobe-dump 1\nwriter nestprobe-dump-c\nmachine %s\nsystem %s\n", machine, system);
    int status = rc == NP_TRUNCATED ? NP_OK : rc;
    printf("cpuid-status %s\n", status_name(status));
    const char *detail = status_detail(status, machine);
    if (detail != NULL) {
        fputs("cpuid-detail ", stdout);
        put_json_str(stdout, detail);
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
    puts("end");
    if (fflush(stdout) != 0)
        return 1;
    return rc < 0 ? EXIT_NO_CPUID : 0;
}
