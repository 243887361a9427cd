/* CPUID enumeration: which leaves and sub-leaves exist, read once each, bounded.
 *
 * The walk is written once over a cpuid function pointer so tests can run the
 * exact same code against a table (np_cpuid_snapshot_from_table). Ranges follow
 * CpuidTable.range_max in nestprobe/snapshot.py; sub-leaf rules follow the Intel
 * SDM vol. 2A (CPUID) and AMD APM vol. 3 (appendix E); Linux reads 0xB, 0x1F and
 * 0x80000026 the same way (arch/x86/kernel/cpu/topology_ext.c: level type ECX[15:8])
 * and 0x23 by the sub0 EAX bitmap (arch/x86/events/intel/core.c update_pmu_cap).
 */
#define _GNU_SOURCE 1 /* syscall() under -std=c11 */

#include "np_arch.h"
#include "np_cpuid.h"

#include <string.h>

#if NP_X86_MSVC
#include <intrin.h> /* __cpuidex */
#elif NP_X86_GNU
#include <cpuid.h> /* the compiler's __cpuid_count (GCC, Clang, mingw-w64) */
#endif

#if NP_X86 && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define NP_ARCH_GET_CPUID 0x1011 /* asm/prctl.h; not in every libc's headers */

/* ---- the enumeration, over an abstract cpuid ---------------------------------- */

typedef void (*np_cpuid_fn)(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t r[4]);

typedef struct {
    np_cpuid_fn fn;
    void *ctx;
    np_leaf *out;
    size_t capacity;
    size_t count;
    int full; /* a record did not fit: stop asking the CPU anything */
} np_walk;

/* Store one answer. Returns 0 (and marks the walk full) when it does not fit. */
static int record(np_walk *w, uint32_t leaf, uint32_t subleaf, const uint32_t r[4])
{
    if (w->count >= w->capacity) {
        w->full = 1;
        return 0;
    }
    np_leaf *e = &w->out[w->count++];
    e->leaf = leaf;
    e->subleaf = subleaf;
    e->eax = r[0];
    e->ebx = r[1];
    e->ecx = r[2];
    e->edx = r[3];
    return 1;
}

/* Ask one question and record it. Returns 0 once the buffer is full. */
static int ask(np_walk *w, uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
    if (w->full || w->count >= w->capacity) {
        w->full = 1;
        return 0;
    }
    w->fn(w->ctx, leaf, subleaf, r);
    return record(w, leaf, subleaf, r);
}

/* Sub-leaves 1..n (sub-leaf 0 already asked), n capped. */
static void walk_count(np_walk *w, uint32_t leaf, uint32_t n)
{
    uint32_t r[4];
    for (uint32_t s = 1; s <= n && s < NP_SUBLEAF_CAP; s++)
        if (!ask(w, leaf, s, r))
            return;
}

/* Sub-leaf i for each set bit i >= 1 of mask (bit 0 is sub-leaf 0 itself). */
static void walk_bits(np_walk *w, uint32_t leaf, uint32_t mask)
{
    uint32_t r[4];
    for (uint32_t s = 1; s < 32; s++)
        if ((mask >> s) & 1u)
            if (!ask(w, leaf, s, r))
                return;
}

/* Sub-leaves from `from` up to and including the one end() marks as the last
 * (the terminator is kept: it shows where the list ended). */
typedef int (*np_end_fn)(const uint32_t r[4]);
static int cache_end(const uint32_t r[4]) { return (r[0] & 0x1Fu) == 0; }       /* EAX[4:0] null */
static int topo_end(const uint32_t r[4]) { return ((r[2] >> 8) & 0xFFu) == 0; } /* ECX[15:8] 0 */
static int sgx_end(const uint32_t r[4]) { return (r[0] & 0xFu) == 0; }          /* EAX[3:0] 0 */

static void walk_until(np_walk *w, uint32_t leaf, uint32_t from, np_end_fn end)
{
    uint32_t r[4];
    for (uint32_t s = from; s < NP_SUBLEAF_CAP; s++)
        if (!ask(w, leaf, s, r) || end(r))
            return;
}

/* The sub-leaves of `leaf` after sub-leaf 0 (answer r0), by that leaf's own rule. */
static void walk_subleaves(np_walk *w, uint32_t leaf, const uint32_t r0[4])
{
    uint32_t r1[4];
    switch (leaf) {
    case 0x4:        /* deterministic cache parameters (Intel) */
    case 0x8000001D: /* cache topology (AMD) */
        if (!cache_end(r0))
            walk_until(w, leaf, 1, cache_end);
        break;
    case 0x7:  /* structured extended features: EAX = max sub-leaf */
    case 0x14: /* Intel PT */
    case 0x17: /* SoC vendor attributes */
    case 0x18: /* deterministic address translation */
    case 0x1D: /* AMX tile palettes */
    case 0x20: /* HRESET */
    case 0x24: /* AVX10 */
        walk_count(w, leaf, r0[0]);
        break;
    case 0xB:        /* extended topology */
    case 0x1F:       /* V2 extended topology */
    case 0x80000026: /* AMD extended CPU topology */
        if (!topo_end(r0))
            walk_until(w, leaf, 1, topo_end);
        break;
    case 0xD: { /* XSAVE: 0, 1, then one per component in XCR0|XSS masks */
        if (!ask(w, leaf, 1, r1))
            return;
        uint64_t mask = ((uint64_t)r0[3] << 32 | r0[0]) | ((uint64_t)r1[3] << 32 | r1[2]);
        for (uint32_t s = 2; s < 64; s++)
            if ((mask >> s) & 1u)
                if (!ask(w, leaf, s, r1))
                    return;
        break;
    }
    case 0xF: /* RDT monitoring: sub0 EDX = resource bitmap */
        walk_bits(w, leaf, r0[3]);
        break;
    case 0x10: /* RDT allocation: sub0 EBX = resource bitmap */
        walk_bits(w, leaf, r0[1]);
        break;
    case 0x12: /* SGX: 0, 1, then EPC sections until type 0 */
        if (!ask(w, leaf, 1, r1))
            return;
        walk_until(w, leaf, 2, sgx_end);
        break;
    case 0x23: /* architectural perfmon extended: sub0 EAX = valid sub-leaves */
        walk_bits(w, leaf, r0[0]);
        break;
    case 0x80000020: /* AMD platform QoS: sub0 EBX = resource bitmap */
        walk_bits(w, leaf, r0[1]);
        break;
    default:
        break;
    }
}

/* One in-range leaf: sub-leaf 0, then its sub-leaves. */
static void walk_leaf(np_walk *w, uint32_t leaf)
{
    uint32_t r0[4];
    if (ask(w, leaf, 0, r0))
        walk_subleaves(w, leaf, r0);
}

/* Leaves base+1..max; max already validated to lie within base..base+0xFF. */
static void walk_range(np_walk *w, uint32_t base, uint32_t max)
{
    for (uint32_t leaf = base + 1; leaf <= max && !w->full; leaf++)
        walk_leaf(w, leaf);
}

/* A 64K range other than basic: header valid when base <= EAX < base + 0x100. */
static void walk_plain_range(np_walk *w, uint32_t base)
{
    uint32_t r[4];
    if (w->full)
        return;
    w->fn(w->ctx, base, 0, r); /* the header is read even when invalid: that is how we know */
    if (r[0] < base || r[0] - base >= NP_RANGE_SPAN)
        return;
    if (record(w, base, 0, r))
        walk_range(w, base, r[0]);
}

/* KVMKVMKVM\0\0\0 in EBX, ECX, EDX (Documentation/virt/kvm/x86/cpuid.rst). */
static int is_kvm_signature(const uint32_t r[4])
{
    return r[1] == 0x4B4D564Bu && r[2] == 0x564B4D56u && r[3] == 0x0000004Du;
}

static void walk_hypervisors(np_walk *w)
{
    /* Linux for_each_possible_hypervisor_cpuid_base: 0x40000000..0x4000FF00 step 0x100. */
    for (uint32_t base = 0x40000000u; base <= 0x4000FF00u && !w->full; base += 0x100u) {
        uint32_t r[4];
        w->fn(w->ctx, base, 0, r);
        uint32_t max;
        if (r[0] >= base && r[0] - base < NP_RANGE_SPAN)
            max = r[0];
        else if (r[0] == 0 && is_kvm_signature(r))
            max = base + 1; /* old KVM hosts: EAX 0 means 0x40000001 */
        else
            continue;
        if (record(w, base, 0, r))
            walk_range(w, base, max);
    }
}

static int enumerate(np_cpuid_fn fn, void *ctx, np_leaf *out, size_t capacity, size_t *count)
{
    np_walk w = {fn, ctx, out, capacity, 0, 0};
    uint32_t r[4];
    if (ask(&w, 0, 0, r)) /* leaf 0 is always valid; its EAX is the basic maximum */
        walk_range(&w, 0, r[0] < NP_RANGE_SPAN ? r[0] : NP_RANGE_SPAN - 1);
    walk_plain_range(&w, 0x20000000u); /* Xeon Phi */
    walk_hypervisors(&w);
    walk_plain_range(&w, 0x80000000u); /* extended */
    walk_plain_range(&w, 0x80860000u); /* Transmeta */
    walk_plain_range(&w, 0xC0000000u); /* Centaur / Zhaoxin */
    *count = w.count;
    return w.full ? NP_TRUNCATED : NP_OK;
}

/* ---- the real CPU ----------------------------------------------------------- */

int np_cpuid_status(void)
{
#if !NP_X86
    return NP_ENOTSUP;
#else
#if NP_X86_GNU && defined(__i386__)
    if (__get_cpuid_max(0, NULL) == 0) /* EFLAGS.ID cannot toggle: no CPUID (486 and older) */
        return NP_ENOTSUP;
#endif
#if defined(__linux__) && defined(SYS_arch_prctl)
    /* 0 = CPUID faults for this thread (rr, ARCH_SET_CPUID 0); 1 = it runs;
     * -1 (ENOSYS, EINVAL on old kernels) = no faulting support, so it runs. */
    if (syscall(SYS_arch_prctl, NP_ARCH_GET_CPUID, 0L) == 0)
        return NP_EFAULTING;
#endif
    return NP_OK;
#endif
}

#if NP_X86
static void hw_cpuid(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
    (void)ctx;
#if NP_X86_MSVC
    int regs[4];
    __cpuidex(regs, (int)leaf, (int)subleaf);
    for (int i = 0; i < 4; i++)
        r[i] = (uint32_t)regs[i];
#else
    unsigned int a, b, c, d;
    __cpuid_count(leaf, subleaf, a, b, c, d);
    r[0] = a;
    r[1] = b;
    r[2] = c;
    r[3] = d;
#endif
}
#endif

int np_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    if (out == NULL)
        return NP_EINVAL;
    int status = np_cpuid_status();
    if (status != NP_OK)
        return status;
#if NP_X86
    hw_cpuid(NULL, leaf, subleaf, out);
#else
    (void)leaf;
    (void)subleaf;
#endif
    return NP_OK;
}

int np_cpuid_snapshot(np_leaf *out, size_t capacity, size_t *count)
{
    if (count == NULL || (out == NULL && capacity > 0))
        return NP_EINVAL;
    *count = 0;
    int status = np_cpuid_status();
    if (status != NP_OK)
        return status;
#if NP_X86
    return enumerate(hw_cpuid, NULL, out, capacity, count);
#else
    return NP_ENOTSUP;
#endif
}

/* ---- a table standing in for the CPU (tests) ---------------------------------- */

typedef struct {
    const np_leaf *table;
    size_t n;
    int mode;
    np_leaf *queries;
    size_t query_capacity;
    size_t query_count;
} np_table_cpu;

static const np_leaf *table_find(const np_table_cpu *t, uint32_t leaf, uint32_t subleaf)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->table[i].leaf == leaf && t->table[i].subleaf == subleaf)
            return &t->table[i];
    return NULL;
}

/* Intel SDM: a leaf above the basic and extended maxima returns the highest basic
 * leaf's data. Leaves missing inside a range answer zeros (invalid sub-leaves). */
static const np_leaf *intel_fallback(const np_table_cpu *t, uint32_t leaf, uint32_t subleaf)
{
    const np_leaf *basic = table_find(t, 0, 0);
    if (basic == NULL)
        return NULL;
    uint32_t max_basic = basic->eax;
    const np_leaf *ext = table_find(t, 0x80000000u, 0);
    uint32_t max_ext = ext != NULL ? ext->eax : 0;
    int in_basic = leaf <= max_basic;
    int in_ext = leaf >= 0x80000000u && ext != NULL && max_ext >= 0x80000000u && leaf <= max_ext;
    if (in_basic || in_ext)
        return NULL;
    const np_leaf *top = table_find(t, max_basic, subleaf);
    return top != NULL ? top : table_find(t, max_basic, 0);
}

static void table_cpuid(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
    np_table_cpu *t = ctx;
    if (t->queries != NULL && t->query_count < t->query_capacity) {
        np_leaf q = {leaf, subleaf, 0, 0, 0, 0};
        t->queries[t->query_count] = q;
    }
    t->query_count++;
    const np_leaf *e = table_find(t, leaf, subleaf);
    if (e == NULL && t->mode == NP_TABLE_INTEL)
        e = intel_fallback(t, leaf, subleaf);
    if (e == NULL) {
        memset(r, 0, 4 * sizeof r[0]);
        return;
    }
    r[0] = e->eax;
    r[1] = e->ebx;
    r[2] = e->ecx;
    r[3] = e->edx;
}

int np_cpuid_trace_from_table(const np_leaf *table, size_t n, int out_of_range_mode,
                              np_leaf *out, size_t capacity, size_t *count,
                              np_leaf *queries, size_t query_capacity, size_t *query_count)
{
    if (count == NULL || (table == NULL && n > 0) || (out == NULL && capacity > 0) ||
        (queries == NULL && query_capacity > 0))
        return NP_EINVAL;
    *count = 0;
    np_table_cpu t = {table, n, out_of_range_mode, queries, query_capacity, 0};
    int rc = enumerate(table_cpuid, &t, out, capacity, count);
    if (query_count != NULL)
        *query_count = t.query_count;
    return rc;
}

int np_cpuid_snapshot_from_table(const np_leaf *table, size_t n, int out_of_range_mode,
                                 np_leaf *out, size_t capacity, size_t *count)
{
    return np_cpuid_trace_from_table(table, n, out_of_range_mode, out, capacity, count,
                                     NULL, 0, NULL);
}
