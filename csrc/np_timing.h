/* nestprobe exit-latency timing: raw TSC samples around CPUID, and TSC facts.
 *
 * The C layer fills caller buffers and decides nothing; statistics, bands and the
 * nesting level live in Python (nestprobe/sources/latency.py, nestprobe/assess/bands.py). np_timing_cdef.h repeats the
 * prototypes for cffi; the constants are defined here only (cffi reads them back).
 *
 * Bracket (Intel SDM vol. 3B 17.17; Paoloni 2010): lfence;rdtsc ... rdtscp;lfence.
 * CPUID is itself serialising, so it needs no fence of its own. Without RDTSCP
 * (CPUID.80000001h:EDX[27]) the closing read is lfence;rdtsc.
 */
#ifndef NESTPROBE_NP_TIMING_H
#define NESTPROBE_NP_TIMING_H

#include <stddef.h>
#include <stdint.h>

/* Return codes. Distinct prefix: np_cpuid.h owns NP_*. */
#define NPT_OK 0
#define NPT_ENOTSUP -1    /* not x86: no CPUID, no TSC (or, for affinity: not Windows) */
#define NPT_EFAULTING -2  /* CPUID faults in this thread (arch_prctl ARCH_SET_CPUID 0) */
#define NPT_EINVAL -3     /* NULL buffer or zero count where one is needed */
#define NPT_ENOTSC -4     /* RDTSC faults in this process (prctl PR_SET_TSC PR_TSC_SIGSEGV) */
#define NPT_ECLOCK -5     /* the reference clock read failed */
#define NPT_EAFFINITY -6  /* the OS refused the affinity change (CPU not allowed, offline) */

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

/* A TSC read and a reference clock read taken as close together as `tries` attempts
 * allow (the pair with the shortest TSC span wins); Python does the calibration arithmetic
 * from two pairs. *span = TSC ticks the winning pair took. The reference clock is
 * CLOCK_MONOTONIC_RAW where it exists (Linux), QueryPerformanceCounter on Windows. */
int npt_clock_pair(uint32_t tries, uint64_t *tsc, uint64_t *ns, uint64_t *span);

/* The reference clock's name ("CLOCK_MONOTONIC_RAW", "QueryPerformanceCounter"), or ""
 * where npt_clock_pair answers NPT_ENOTSUP. A static string: never freed. */
const char *npt_clock_name(void);

/* Thread affinity on Windows (Linux pins from Python with sched_setaffinity; elsewhere
 * these answer NPT_ENOTSUP). CPU numbers count within the calling thread's processor
 * group (at most 64), as SetThreadAffinityMask does.
 * npt_allowed_cpus: *mask = the process affinity mask (GetProcessAffinityMask).
 * npt_pin_thread: the calling thread runs on `cpu` only; *previous = the mask it had.
 * npt_restore_thread: put `previous` back; callers always do, whatever happened between. */
int npt_allowed_cpus(uint64_t *mask);
int npt_pin_thread(uint32_t cpu, uint64_t *previous);
int npt_restore_thread(uint64_t previous);

/* CPUID leaves that state the TSC frequency, guarded by their ranges (0 when absent):
 * out[0] = basic max leaf, out[1..3] = 0x15 EAX (denominator), EBX (numerator), ECX (crystal Hz),
 * out[4] = 0x16 EAX (base MHz), out[5] = CPUID.1:ECX[31], out[6] = 0x40000000 EAX (hypervisor max),
 * out[7] = 0x40000010 EAX (TSC kHz, the generic timing leaf). */
int npt_tsc_leaves(uint32_t out[NPT_TSC_LEAVES]);

#endif
