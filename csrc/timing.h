/* nestprobe exit-latency timing: raw TSC samples around CPUID, and TSC facts.
 *
 * The C layer fills caller buffers and decides nothing; statistics, bands and the
 * nesting level live in Python (nestprobe/sources/latency.py and nestprobe/assess/bands.py). timing_cdef.h mirrors the
 * declarations below for cffi and must stay in step.
 *
 * Bracket (Intel SDM vol. 3B 17.17; Paoloni 2010): lfence;rdtsc ... rdtscp;lfence.
 * CPUID is itself serialising, so it needs no fence of its own. Without RDTSCP
 * (CPUID.80000001h:EDX[27]) the closing read is lfence;rdtsc.
 */
#ifndef NESTPROBE_TIMING_H
#define NESTPROBE_TIMING_H

#include <stddef.h>
#include <stdint.h>

/* Return codes. Distinct prefix: cpuid.h owns NP_*. */
#define NPT_OK 0
#define NPT_ENOTSUP -1    /* not x86: no CPUID, no TSC */
#define NPT_EFAULTING -2  /* CPUID faults in this thread (arch_prctl ARCH_SET_CPUID 0) */
#define NPT_EINVAL -3     /* NULL buffer or zero count where one is needed */
#define NPT_ENOTSC -4     /* RDTSC faults in this process (prctl PR_SET_TSC PR_TSC_SIGSEGV) */
#define NPT_ECLOCK -5     /* clock_gettime(CLOCK_MONOTONIC_RAW) failed */

#define NPT_TSC_LEAVES 8  /* length of the npt_tsc_leaves() output */

/* NPT_OK when the TSC and CPUID can be used here; executes no CPUID. */
int npt_status(void);

/* 1 when the closing read is RDTSCP, 0 when it is lfence;rdtsc (after npt_status OK). */
int npt_has_rdtscp(void);

/* Interleaved sampling, the same bracket for every column. For each of `rounds` rounds,
 * out[r * (nleaves + 1) + 0] = ticks of the empty bracket (the non-exiting baseline),
 * out[r * (nleaves + 1) + 1 + j] = ticks of one CPUID(leaves[j], 0).
 * `warmup` untimed rounds (every leaf once) run first. */
int npt_sample(const uint32_t *leaves, size_t nleaves, uint32_t warmup, uint32_t rounds,
               uint64_t *out);

/* TSC granularity from `n` back-to-back bracket reads: *gcd = greatest common divisor of
 * the non-zero deltas (the quantum, 26 on some AMD guests), *min_step = smallest non-zero
 * delta (the resolution). Both 0 when every delta was 0. */
int npt_tsc_granularity(uint32_t n, uint64_t *gcd, uint64_t *min_step);

/* A TSC read and a CLOCK_MONOTONIC_RAW read taken as close together as `tries` attempts
 * allow (the pair with the shortest TSC span wins); Python does the calibration arithmetic
 * from two pairs. *span = TSC ticks the winning pair took. */
int npt_clock_pair(uint32_t tries, uint64_t *tsc, uint64_t *ns, uint64_t *span);

/* CPUID leaves that state the TSC frequency, guarded by their ranges (0 when absent):
 * out[0] = basic max leaf, out[1..3] = 0x15 EAX (denominator), EBX (numerator), ECX (crystal Hz),
 * out[4] = 0x16 EAX (base MHz), out[5] = CPUID.1:ECX[31], out[6] = 0x40000000 EAX (hypervisor max),
 * out[7] = 0x40000010 EAX (TSC kHz, the generic timing leaf). */
int npt_tsc_leaves(uint32_t out[NPT_TSC_LEAVES]);

#endif
