/* nestprobe micro-benchmarks: what a nesting level costs beyond one CPUID exit.
 *
 * Each sampler fills a caller buffer with raw TSC tick deltas, one per sample, taken with
 * the same bracket as the CPUID sampler (timing.h: lfence;rdtsc ... rdtscp;lfence, or
 * lfence;rdtsc to close without RDTSCP). Every statistic lives in Python
 * (nestprobe/bench/). bench_cdef.h mirrors the declarations below for cffi.
 *
 * Portable C11: the TSC is read through compiler intrinsics (<x86intrin.h> on GCC/Clang,
 * <intrin.h> on MSVC), not inline assembly. What a platform lacks (getppid and THP off
 * POSIX/Linux) answers NPB_ENOTSUP and touches nothing.
 */
#ifndef NESTPROBE_BENCH_H
#define NESTPROBE_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* Return codes. Distinct prefix: cpuid.h owns NP_*, timing.h NPT_*. */
#define NPB_OK 0
#define NPB_ENOTSUP -1  /* this platform or compiler has no such operation */
#define NPB_ENOTSC -2   /* the TSC or CPUID cannot be used here (npt_status() is not NPT_OK) */
#define NPB_EINVAL -3   /* NULL buffer, zero count or a size out of range */
#define NPB_ENOMEM -4   /* the mapping or a helper allocation failed */

/* Largest pointer-chase buffer accepted (bounds a bad argument, not a real run). */
#define NPB_CHASE_MAX_BYTES (4ull << 30)

/* An open pointer-chase buffer: a mapping whose pages form one random cycle. */
typedef struct npb_chase npb_chase;

typedef struct {
    uint64_t bytes;      /* mapped for the chain (a multiple of 2 MiB) */
    uint64_t nodes;      /* nodes in the cycle, one per visited base page */
    uint32_t page_bytes; /* the base page size */
    int32_t advice;      /* 0 madvise accepted; > 0 its errno; -1 no such advice on this platform */
    int64_t huge_kib;    /* AnonHugePages over the buffer (/proc/self/smaps); -1 unknown */
} npb_chase_facts;

/* NPB_OK when the TSC can be read here, else NPB_ENOTSC or NPB_ENOTSUP. */
int npb_status(void);

/* The base page size (4096 on x86 Linux and Windows). */
uint32_t npb_page_bytes(void);

/* `samples` empty brackets: the noise floor of every sampler below. */
int npb_floor(uint32_t samples, uint64_t *out);

/* A dependent multiply-add chain kept in registers, `iterations` per sample: no memory
 * traffic, no exit. It moves only with the core's clock against the TSC. */
int npb_register_loop(uint32_t iterations, uint32_t warmup, uint32_t samples, uint64_t *out);

/* `calls` getppid() system calls per sample (POSIX only). */
int npb_getppid(uint32_t calls, uint32_t warmup, uint32_t samples, uint64_t *out);

/* Map `pages` fresh base pages (huge pages refused where the OS allows), time the first
 * write to each one (out[i] = page i) and unmap them again. */
int npb_first_touch(uint32_t pages, uint64_t *out);

/* Map `bytes` (rounded up to 2 MiB), ask for transparent huge pages when `huge` is
 * non-zero and forbid them otherwise, then link `pages` nodes (0: every base page) into
 * one cycle in random order (seeded). Nodes sit on evenly spaced base pages, each at a
 * random cache line of its page: many pages for the TLB, few lines for the caches, so a
 * warm walk misses the TLB and little else. Only the nodes' pages are touched. */
int npb_chase_open(uint64_t bytes, uint64_t pages, int huge, uint64_t seed, npb_chase **out);

/* What the mapping got: sizes, whether the advice was accepted, huge pages granted. */
int npb_chase_facts_of(npb_chase *chase, npb_chase_facts *facts);

/* `warmup_laps` untimed laps of the whole cycle (warm caches, cold TLB), then `steps`
 * dependent loads per sample, continuing where the last sample stopped. */
int npb_chase_sample(npb_chase *chase, uint32_t steps, uint32_t warmup_laps, uint32_t samples,
                     uint64_t *out);

/* Unmap and free; NULL is ignored. */
void npb_chase_close(npb_chase *chase);

#endif
