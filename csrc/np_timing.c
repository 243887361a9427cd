/* Exit-latency sampling: CPUID and an empty bracket timed with the TSC.
 *
 * Fills caller buffers with raw tick deltas; every statistic is computed in Python
 * (nestprobe/sources/latency.py). Method per Intel's Paoloni white paper (2010) and
 * Intel SDM vol. 3B 17.17: lfence;rdtsc to open, rdtscp;lfence to close, warm-up first.
 * x86 only (GNU inline asm, or MSVC intrinsics); elsewhere every call answers
 * NPT_ENOTSUP and touches nothing. Windows adds the QueryPerformanceCounter clock pair
 * and thread pinning (SetThreadAffinityMask).
 */
#define _GNU_SOURCE 1 /* clock_gettime, prctl under -std=c11 */

#include "np_arch.h"
#include "np_cpuid.h" /* np_cpuid_status(): the one CPUID-faulting check */
#include "np_timing.h"

#if defined(_WIN32)
#define WIN32_LEAN_AND_MEAN 1
#include <windows.h>
#endif

#define NPT_X86 NP_X86

#if NP_X86_MSVC
#include <intrin.h>
#endif

#if NPT_X86
#include <time.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#if NP_X86_MSVC
/* The same bracket from documented intrinsics. _ReadWriteBarrier keeps the compiler from
 * moving memory accesses across a read; the CPU's ordering comes from lfence/rdtscp. */
static __forceinline void raw_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
    int regs[4];
    __cpuidex(regs, (int)leaf, (int)subleaf);
    r[0] = (uint32_t)regs[0];
    r[1] = (uint32_t)regs[1];
    r[2] = (uint32_t)regs[2];
    r[3] = (uint32_t)regs[3];
}

static __forceinline uint64_t open_read(void)
{
    _ReadWriteBarrier();
    _mm_lfence();
    uint64_t t = __rdtsc();
    _ReadWriteBarrier();
    return t;
}

static __forceinline uint64_t close_rdtscp(void)
{
    unsigned int aux;
    _ReadWriteBarrier();
    uint64_t t = __rdtscp(&aux);
    _mm_lfence();
    _ReadWriteBarrier();
    return t;
}

static __forceinline uint64_t close_lfence(void)
{
    return open_read();
}
#else
static inline void raw_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "0"(leaf), "2"(subleaf));
}

static inline uint64_t open_read(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t close_rdtscp(void)
{
    uint32_t lo, hi, aux;
    __asm__ volatile("rdtscp\n\tlfence" : "=a"(lo), "=d"(hi), "=c"(aux)::"memory");
    return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t close_lfence(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return ((uint64_t)hi << 32) | lo;
}
#endif /* NP_X86_MSVC */

/* -1 unknown, else 0/1; idempotent, so a racing first call only repeats the work. */
static volatile int rdtscp_state = -1;

static int detect_rdtscp(void)
{
    uint32_t r[4];
    raw_cpuid(0x80000000u, 0, r);
    if (r[0] < 0x80000001u || r[0] > 0x800000FFu)
        return 0;
    raw_cpuid(0x80000001u, 0, r);
    return (int)((r[3] >> 27) & 1u);
}

/* One loop body per closing read, so no branch sits inside the bracket. */
#define NPT_SAMPLE_LOOP(CLOSE)                                                   \
    do {                                                                         \
        uint32_t r[4];                                                           \
        for (uint32_t w = 0; w < warmup; w++) {                                  \
            uint64_t t0 = open_read();                                           \
            uint64_t t1 = CLOSE();                                               \
            (void)t0;                                                            \
            (void)t1;                                                            \
            for (size_t j = 0; j < nleaves; j++)                                 \
                raw_cpuid(leaves[j], 0, r);                                      \
        }                                                                        \
        for (uint32_t k = 0; k < rounds; k++) {                                  \
            uint64_t *row = out + (size_t)k * (nleaves + 1);                     \
            uint64_t t0 = open_read();                                           \
            uint64_t t1 = CLOSE();                                               \
            row[0] = t1 - t0;                                                    \
            for (size_t j = 0; j < nleaves; j++) {                               \
                t0 = open_read();                                                \
                raw_cpuid(leaves[j], 0, r);                                      \
                t1 = CLOSE();                                                    \
                row[1 + j] = t1 - t0;                                            \
            }                                                                    \
        }                                                                        \
    } while (0)

static uint64_t gcd64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}
#endif /* NPT_X86 */

int npt_status(void)
{
#if !NPT_X86
    return NPT_ENOTSUP;
#else
    int cpuid = np_cpuid_status();
    if (cpuid == NP_ENOTSUP)
        return NPT_ENOTSUP;
    if (cpuid != NP_OK)
        return NPT_EFAULTING;
#if defined(__linux__) && defined(PR_GET_TSC)
    int tsc = 0;
    if (prctl(PR_GET_TSC, &tsc, 0, 0, 0) == 0 && tsc == PR_TSC_SIGSEGV)
        return NPT_ENOTSC;
#endif
    return NPT_OK;
#endif
}

int npt_has_rdtscp(void)
{
#if !NPT_X86
    return 0;
#else
    if (npt_status() != NPT_OK)
        return 0;
    if (rdtscp_state < 0)
        rdtscp_state = detect_rdtscp();
    return rdtscp_state;
#endif
}

int npt_sample(const uint32_t *leaves, size_t nleaves, uint32_t warmup, uint32_t rounds,
               uint64_t *out)
{
#if !NPT_X86
    (void)leaves;
    (void)nleaves;
    (void)warmup;
    (void)rounds;
    (void)out;
    return NPT_ENOTSUP;
#else
    if ((nleaves > 0 && leaves == NULL) || (rounds > 0 && out == NULL))
        return NPT_EINVAL;
    int status = npt_status();
    if (status != NPT_OK)
        return status;
    if (npt_has_rdtscp())
        NPT_SAMPLE_LOOP(close_rdtscp);
    else
        NPT_SAMPLE_LOOP(close_lfence);
    return NPT_OK;
#endif
}

int npt_tsc_granularity(uint32_t n, uint64_t *gcd, uint64_t *min_step)
{
#if !NPT_X86
    (void)n;
    (void)gcd;
    (void)min_step;
    return NPT_ENOTSUP;
#else
    if (gcd == NULL || min_step == NULL || n == 0)
        return NPT_EINVAL;
    int status = npt_status();
    if (status != NPT_OK)
        return status;
    uint64_t g = 0, lo = 0, prev = open_read();
    for (uint32_t i = 0; i < n; i++) {
        uint64_t now = open_read();
        uint64_t d = now - prev;
        prev = now;
        if (d == 0)
            continue;
        g = gcd64(g, d);
        if (lo == 0 || d < lo)
            lo = d;
    }
    *gcd = g;
    *min_step = lo;
    return NPT_OK;
#endif
}

/* The reference clock in nanoseconds; 0 on success. */
#if NPT_X86 && defined(_WIN32)
#define NPT_CLOCK_NAME "QueryPerformanceCounter"
static int reference_ns(uint64_t *ns)
{
    LARGE_INTEGER count, freq;
    if (!QueryPerformanceCounter(&count) || !QueryPerformanceFrequency(&freq) ||
        freq.QuadPart <= 0 || count.QuadPart < 0)
        return -1;
    uint64_t c = (uint64_t)count.QuadPart, f = (uint64_t)freq.QuadPart;
    /* split so that count * 1e9 cannot overflow: whole seconds, then the remainder */
    *ns = c / f * 1000000000u + c % f * 1000000000u / f;
    return 0;
}
#elif NPT_X86 && defined(CLOCK_MONOTONIC_RAW)
#define NPT_CLOCK_NAME "CLOCK_MONOTONIC_RAW"
static int reference_ns(uint64_t *ns)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC_RAW, &ts) != 0)
        return -1;
    *ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    return 0;
}
#else
#define NPT_CLOCK_NAME ""
#endif

const char *npt_clock_name(void)
{
    return NPT_CLOCK_NAME;
}

int npt_clock_pair(uint32_t tries, uint64_t *tsc, uint64_t *ns, uint64_t *span)
{
#if !NPT_X86 || !(defined(_WIN32) || defined(CLOCK_MONOTONIC_RAW))
    (void)tries;
    (void)tsc;
    (void)ns;
    (void)span;
    return NPT_ENOTSUP;
#else
    if (tsc == NULL || ns == NULL || span == NULL || tries == 0)
        return NPT_EINVAL;
    int status = npt_status();
    if (status != NPT_OK)
        return status;
    uint64_t best = UINT64_MAX;
    for (uint32_t i = 0; i < tries; i++) {
        uint64_t t0 = open_read();
        uint64_t now;
        if (reference_ns(&now) != 0)
            return NPT_ECLOCK;
        uint64_t t1 = open_read();
        if (t1 - t0 < best) {
            best = t1 - t0;
            /* the clock read sits between t0 and t1: credit it to their midpoint */
            *tsc = t0 + (t1 - t0) / 2;
            *ns = now;
            *span = best;
        }
    }
    return NPT_OK;
#endif
}

/* ---- thread affinity (Windows) ------------------------------------------------- */

int npt_allowed_cpus(uint64_t *mask)
{
    if (mask == NULL)
        return NPT_EINVAL;
#if defined(_WIN32)
    DWORD_PTR process, system;
    if (!GetProcessAffinityMask(GetCurrentProcess(), &process, &system))
        return NPT_EAFFINITY;
    *mask = (uint64_t)process;
    return NPT_OK;
#else
    return NPT_ENOTSUP;
#endif
}

int npt_pin_thread(uint32_t cpu, uint64_t *previous)
{
    if (previous == NULL)
        return NPT_EINVAL;
#if defined(_WIN32)
    if (cpu >= 8 * sizeof(DWORD_PTR))
        return NPT_EINVAL;
    DWORD_PTR old = SetThreadAffinityMask(GetCurrentThread(), (DWORD_PTR)1 << cpu);
    if (old == 0) /* the thread keeps its mask: nothing to restore */
        return NPT_EAFFINITY;
    *previous = (uint64_t)old;
    return NPT_OK;
#else
    (void)cpu;
    return NPT_ENOTSUP;
#endif
}

int npt_restore_thread(uint64_t previous)
{
#if defined(_WIN32)
    if (previous == 0 || (uint64_t)(DWORD_PTR)previous != previous) /* 32-bit: 32 CPUs */
        return NPT_EINVAL;
    return SetThreadAffinityMask(GetCurrentThread(), (DWORD_PTR)previous) != 0 ? NPT_OK
                                                                                : NPT_EAFFINITY;
#else
    (void)previous;
    return NPT_ENOTSUP;
#endif
}

int npt_tsc_leaves(uint32_t out[NPT_TSC_LEAVES])
{
#if !NPT_X86
    (void)out;
    return NPT_ENOTSUP;
#else
    if (out == NULL)
        return NPT_EINVAL;
    int status = npt_status();
    if (status != NPT_OK)
        return status;
    uint32_t r[4];
    for (int i = 0; i < NPT_TSC_LEAVES; i++)
        out[i] = 0;
    raw_cpuid(0, 0, r);
    out[0] = r[0];
    if (r[0] >= 0x15 && r[0] < 0x100) {
        raw_cpuid(0x15, 0, r);
        out[1] = r[0];
        out[2] = r[1];
        out[3] = r[2];
    }
    if (out[0] >= 0x16 && out[0] < 0x100) {
        raw_cpuid(0x16, 0, r);
        out[4] = r[0] & 0xFFFFu; /* EAX[15:0]: base frequency in MHz */
    }
    raw_cpuid(1, 0, r);
    out[5] = (r[2] >> 31) & 1u;
    if (out[5]) {
        raw_cpuid(0x40000000u, 0, r);
        /* only a sane range header counts (CpuidTable._hypervisor_max) */
        out[6] = (r[0] >= 0x40000000u && r[0] <= 0x400000FFu) ? r[0] : 0;
        if (out[6] >= 0x40000010u) {
            raw_cpuid(0x40000010u, 0, r);
            out[7] = r[0];
        }
    }
    return NPT_OK;
#endif
}
