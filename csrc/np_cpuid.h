/* nestprobe native CPUID core: raw CPUID and a bounded, complete enumeration.
 *
 * The C layer fills buffers and decides nothing; decoding lives in Python.
 * np_cpuid_cdef.h repeats the prototypes for cffi; every constant is defined here only
 * (the cdef says `#define NAME ...`, so Python reads the value as lib.NAME from the
 * compiled module). Every csrc/ header is np_-prefixed: none can shadow a system header.
 */
#ifndef NESTPROBE_NP_CPUID_H
#define NESTPROBE_NP_CPUID_H

#include <stddef.h>
#include <stdint.h>

/* Return codes: negative = nothing enumerated, positive = partial result. */
#define NP_OK 0
#define NP_TRUNCATED 1   /* the output buffer filled up; *count entries are valid */
#define NP_ENOTSUP -1    /* not an x86 CPU (or no CPUID instruction) */
#define NP_EFAULTING -2  /* CPUID faults in this process (arch_prctl ARCH_SET_CPUID 0, rr) */
#define NP_EINVAL -3     /* a required pointer was NULL */

#define NP_RANGE_SPAN 256  /* a range never holds more leaves; larger maxima are junk */
#define NP_SUBLEAF_CAP 64  /* bound on every sub-leaf walk */
#define NP_TABLE_ZEROS 0   /* table mode: missing leaves answer zeros */
#define NP_TABLE_INTEL 1   /* table mode: past basic/extended max repeat the highest basic leaf */
#define NP_SNAPSHOT_CAPACITY 4096 /* entries a caller preallocates for one snapshot; real CPUs
                                   * need a few hundred, and the walk reports truncation
                                   * rather than overrun (also the dump format's bound) */

typedef struct { uint32_t leaf, subleaf, eax, ebx, ecx, edx; } np_leaf;

/* NP_OK, NP_ENOTSUP or NP_EFAULTING; executes no CPUID. */
int np_cpuid_status(void);

/* One CPUID instruction (EAX=leaf, ECX=subleaf) into out[0..3] = EAX, EBX, ECX, EDX.
 * No range check: out-of-range leaves return whatever the CPU answers. */
int np_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/* Every valid CPUID range and sub-leaf in one call (see np_cpuid.c for the rules). */
int np_cpuid_snapshot(np_leaf *out, size_t capacity, size_t *count);

/* The same enumeration against a caller-supplied table instead of the CPU. */
int np_cpuid_snapshot_from_table(const np_leaf *table, size_t n, int out_of_range_mode,
                                 np_leaf *out, size_t capacity, size_t *count);

/* As above, also recording every (leaf, subleaf) the enumeration asked for, in order
 * (registers zero). *query_count counts all questions, even past query_capacity. */
int np_cpuid_trace_from_table(const np_leaf *table, size_t n, int out_of_range_mode,
                              np_leaf *out, size_t capacity, size_t *count,
                              np_leaf *queries, size_t query_capacity, size_t *query_count);

#endif
