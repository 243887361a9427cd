/* Micro-benchmarks a nesting level changes: address translation, first-touch faults, and
 * two controls it should not change (a system call, a register loop).
 *
 * Raw tick deltas only; statistics live in nestprobe/bench/. The TSC is read with
 * intrinsics (no inline assembly), so GCC, Clang, mingw-w64 and MSVC all build this file.
 * Bracket: lfence;rdtsc;lfence to open (the workloads here are not serialising, unlike
 * CPUID: Intel SDM vol. 2B RDTSC "LFENCE immediately after"), rdtscp;lfence to close
 * (lfence;rdtsc;lfence without RDTSCP). npb_floor measures this bracket around nothing.
 */
#define _GNU_SOURCE 1 /* madvise, MAP_ANONYMOUS, getppid under -std=c11 */

#include "np_bench.h"
#include "np_timing.h" /* npt_status, npt_has_rdtscp: the one TSC/CPUID availability check */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <intrin.h>
#define NPB_X86 1
#elif (defined(__GNUC__) || defined(__clang__)) && \
    (defined(__x86_64__) || (defined(__i386__) && defined(__SSE2__)))
#include <x86intrin.h>
#define NPB_X86 1
#else
#define NPB_X86 0
#endif

#if defined(_WIN32)
#include <windows.h>
#else
#include <sys/mman.h>
#include <unistd.h>
#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif
#endif

/* Compiler barrier: memory accesses stay on their side of a TSC read. */
#if defined(_MSC_VER)
#define NPB_BARRIER() _ReadWriteBarrier()
#else
#define NPB_BARRIER() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#endif

#define HUGE_BYTES (2u << 20) /* x86 transparent huge page (PMD) size */
#define LINE_BYTES 64u

/* Workload results land here so no compiler may drop the work. */
static volatile uint64_t npb_sink;
static volatile uint64_t npb_seed = 0x9E3779B97F4A7C15ull;

#if NPB_X86
static inline uint64_t open_read(void)
{
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    NPB_BARRIER();
    return t;
}

static inline uint64_t close_read(int rdtscp)
{
    uint64_t t;
    NPB_BARRIER();
    if (rdtscp) {
        unsigned int aux;
        t = __rdtscp(&aux);
    } else {
        _mm_lfence();
        t = __rdtsc();
    }
    _mm_lfence();
    return t;
}
#endif

int npb_status(void)
{
#if !NPB_X86
    return NPB_ENOTSUP;
#else
    int status = npt_status();
    if (status == NPT_OK)
        return NPB_OK;
    return status == NPT_ENOTSUP ? NPB_ENOTSUP : NPB_ENOTSC;
#endif
}

uint32_t npb_page_bytes(void)
{
#if defined(_WIN32)
    SYSTEM_INFO info;
    GetSystemInfo(&info);
    return (uint32_t)info.dwPageSize;
#else
    long size = sysconf(_SC_PAGESIZE);
    return size > 0 ? (uint32_t)size : 4096u;
#endif
}

/* ---- memory -------------------------------------------------------------------------- */

static void *map_bytes(size_t bytes)
{
#if defined(_WIN32)
    return VirtualAlloc(NULL, bytes, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
#else
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
#endif
}

static void unmap_bytes(void *p, size_t bytes)
{
#if defined(_WIN32)
    (void)bytes;
    VirtualFree(p, 0, MEM_RELEASE);
#else
    munmap(p, bytes);
#endif
}

/* 0 accepted, errno when refused, -1 where the advice does not exist (not Linux, no THP). */
static int32_t advise_huge(void *p, size_t bytes, int huge)
{
#if !defined(_WIN32) && defined(MADV_HUGEPAGE) && defined(MADV_NOHUGEPAGE)
    return madvise(p, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) == 0 ? 0 : (int32_t)errno;
#else
    (void)p;
    (void)bytes;
    (void)huge;
    return -1;
#endif
}

/* AnonHugePages (kB) summed over the /proc/self/smaps entries that overlap [lo, hi);
 * -1 when unknown (no smaps, no such field, no overlapping entry). */
static int64_t anon_huge_kib(uintptr_t lo, uintptr_t hi)
{
#if defined(__linux__)
    FILE *f = fopen("/proc/self/smaps", "r");
    if (f == NULL)
        return -1;
    char line[512];
    int inside = 0, found = 0, fresh = 1; /* fresh: this chunk starts a line */
    int64_t total = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        int starts = fresh;
        fresh = strchr(line, '\n') != NULL; /* long lines arrive in several chunks */
        if (!starts)
            continue;
        unsigned long long a, b;
        char perm;
        if (sscanf(line, "%llx-%llx %c", &a, &b, &perm) == 3) {
            inside = a < (unsigned long long)hi && b > (unsigned long long)lo;
        } else if (inside && strncmp(line, "AnonHugePages:", 14) == 0) {
            total += strtoll(line + 14, NULL, 10);
            found = 1;
        }
    }
    fclose(f);
    return found ? total : -1;
#else
    (void)lo;
    (void)hi;
    return -1;
#endif
}

/* ---- samplers ------------------------------------------------------------------------ */

int npb_floor(uint32_t samples, uint64_t *out)
{
    if (samples == 0 || out == NULL)
        return NPB_EINVAL;
    int status = npb_status();
    if (status != NPB_OK)
        return status;
#if NPB_X86
    int rdtscp = npt_has_rdtscp();
    for (uint32_t i = 0; i < samples; i++) {
        uint64_t t0 = open_read();
        uint64_t t1 = close_read(rdtscp);
        out[i] = t1 - t0;
    }
#endif
    return NPB_OK;
}

/* A 64-bit LCG step (Knuth's MMIX constants): one multiply and one add, each waiting
 * for the last, so the chain runs at the core's multiply latency. */
static uint64_t lcg_chain(uint64_t x, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        x = x * 6364136223846793005ull + 1442695040888963407ull;
    return x;
}

int npb_register_loop(uint32_t iterations, uint32_t warmup, uint32_t samples, uint64_t *out)
{
    if (iterations == 0 || samples == 0 || out == NULL)
        return NPB_EINVAL;
    int status = npb_status();
    if (status != NPB_OK)
        return status;
#if NPB_X86
    int rdtscp = npt_has_rdtscp();
    for (uint32_t w = 0; w < warmup; w++)
        npb_sink = lcg_chain(npb_seed, iterations);
    for (uint32_t i = 0; i < samples; i++) {
        uint64_t t0 = open_read();
        uint64_t x = npb_seed; /* volatile read after the open, volatile write before the
                                  close: the chain cannot move out of the bracket */
        npb_sink = lcg_chain(x, iterations);
        uint64_t t1 = close_read(rdtscp);
        out[i] = t1 - t0;
    }
#endif
    return NPB_OK;
}

int npb_getppid(uint32_t calls, uint32_t warmup, uint32_t samples, uint64_t *out)
{
    if (calls == 0 || samples == 0 || out == NULL)
        return NPB_EINVAL;
#if defined(_WIN32) || !NPB_X86
    (void)warmup;
    return NPB_ENOTSUP;
#else
    int status = npb_status();
    if (status != NPB_OK)
        return status;
    int rdtscp = npt_has_rdtscp();
    uint64_t sum = 0;
    for (uint32_t w = 0; w < warmup; w++)
        for (uint32_t c = 0; c < calls; c++)
            sum += (uint64_t)getppid();
    for (uint32_t i = 0; i < samples; i++) {
        uint64_t t0 = open_read();
        for (uint32_t c = 0; c < calls; c++)
            sum += (uint64_t)getppid();
        uint64_t t1 = close_read(rdtscp);
        out[i] = t1 - t0;
    }
    npb_sink = sum;
    return NPB_OK;
#endif
}

int npb_first_touch(uint32_t pages, uint64_t *out)
{
    if (pages == 0 || out == NULL)
        return NPB_EINVAL;
    int status = npb_status();
    if (status != NPB_OK)
        return status;
#if NPB_X86
    size_t page = npb_page_bytes();
    size_t bytes = (size_t)pages * page;
    char *base = map_bytes(bytes);
    if (base == NULL)
        return NPB_ENOMEM;
    (void)advise_huge(base, bytes, 0); /* one fault per base page, even under THP=always */
    int rdtscp = npt_has_rdtscp();
    for (uint32_t i = 0; i < pages; i++) {
        volatile char *p = base + (size_t)i * page;
        uint64_t t0 = open_read();
        *p = 1;
        uint64_t t1 = close_read(rdtscp);
        out[i] = t1 - t0;
    }
    unmap_bytes(base, bytes);
#endif
    return NPB_OK;
}

/* ---- pointer chase ------------------------------------------------------------------- */

struct npb_chase {
    void *map;        /* what was mapped (unmapped on close) */
    size_t map_bytes;
    char *base;       /* 2 MiB aligned start of the chain */
    uint64_t bytes;
    uint64_t nodes;
    uint64_t stride;  /* base pages from one node's page to the next node's */
    uint32_t page;
    int32_t advice;
    void **cursor;    /* where the next sample continues */
};

/* splitmix64: the seeded random source for the page order and the line offsets. */
static uint64_t mix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void **node_at(const npb_chase *c, uint64_t index, const uint16_t *line)
{
    return (void **)(c->base + index * c->stride * c->page + (uint64_t)line[index] * LINE_BYTES);
}

int npb_chase_open(uint64_t bytes, uint64_t pages, int huge, uint64_t seed, npb_chase **out)
{
    if (out == NULL || bytes == 0 || bytes > NPB_CHASE_MAX_BYTES)
        return NPB_EINVAL;
    *out = NULL;
    int status = npb_status();
    if (status != NPB_OK)
        return status;
    npb_chase *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NPB_ENOMEM;
    c->page = npb_page_bytes();
    c->bytes = (bytes + HUGE_BYTES - 1) / HUGE_BYTES * HUGE_BYTES;
    uint64_t all = c->bytes / c->page;
    c->nodes = pages == 0 || pages > all ? all : pages;
    c->stride = all / (c->nodes ? c->nodes : 1);
    c->map_bytes = (size_t)c->bytes + HUGE_BYTES; /* slack to align the chain to 2 MiB */
    c->map = map_bytes(c->map_bytes);
    uint32_t *next = malloc((size_t)c->nodes * sizeof *next);
    uint16_t *line = malloc((size_t)c->nodes * sizeof *line);
    if (c->map == NULL || next == NULL || line == NULL || c->nodes < 2) {
        int code = c->nodes < 2 ? NPB_EINVAL : NPB_ENOMEM;
        free(next);
        free(line);
        npb_chase_close(c);
        return code;
    }
    uintptr_t start = ((uintptr_t)c->map + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1);
    c->base = (char *)start;
    c->advice = advise_huge(c->base, (size_t)c->bytes, huge);
    /* Sattolo's shuffle: next[] is one cycle through every node, in random order. */
    uint64_t state = seed;
    uint32_t lines = c->page / LINE_BYTES;
    for (uint64_t i = 0; i < c->nodes; i++) {
        next[i] = (uint32_t)i;
        line[i] = (uint16_t)(mix64(&state) % lines); /* spreads the nodes over cache sets */
    }
    for (uint64_t i = c->nodes - 1; i > 0; i--) {
        uint64_t j = mix64(&state) % i;
        uint32_t t = next[i];
        next[i] = next[j];
        next[j] = t;
    }
    for (uint64_t i = 0; i < c->nodes; i++) /* first touch, in address order */
        *node_at(c, i, line) = node_at(c, next[i], line);
    c->cursor = node_at(c, 0, line);
    free(next);
    free(line);
    *out = c;
    return NPB_OK;
}

int npb_chase_facts_of(npb_chase *chase, npb_chase_facts *facts)
{
    if (chase == NULL || facts == NULL)
        return NPB_EINVAL;
    facts->bytes = chase->bytes;
    facts->nodes = chase->nodes;
    facts->page_bytes = chase->page;
    facts->advice = chase->advice;
    uintptr_t lo = (uintptr_t)chase->base;
    facts->huge_kib = anon_huge_kib(lo, lo + (uintptr_t)chase->bytes);
    return NPB_OK;
}

int npb_chase_sample(npb_chase *chase, uint32_t steps, uint32_t warmup_laps, uint32_t samples,
                     uint64_t *out)
{
    if (chase == NULL || steps == 0 || samples == 0 || out == NULL)
        return NPB_EINVAL;
    int status = npb_status();
    if (status != NPB_OK)
        return status;
#if NPB_X86
    int rdtscp = npt_has_rdtscp();
    void **p = chase->cursor;
    for (uint64_t w = 0; w < (uint64_t)warmup_laps * chase->nodes; w++)
        p = (void **)*p;
    for (uint32_t i = 0; i < samples; i++) {
        uint64_t t0 = open_read();
        for (uint32_t s = 0; s < steps; s++)
            p = (void **)*p; /* each load needs the last: latency, not bandwidth */
        uint64_t t1 = close_read(rdtscp);
        out[i] = t1 - t0;
    }
    chase->cursor = p;
#endif
    return NPB_OK;
}

void npb_chase_close(npb_chase *chase)
{
    if (chase == NULL)
        return;
    if (chase->map != NULL)
        unmap_bytes(chase->map, chase->map_bytes);
    free(chase);
}
