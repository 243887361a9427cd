/* nestprobe-bench: the bench suite without Python, for installer images and lab guests.
 *
 *   nestprobe-bench [--plan default|thorough|lab] [--print-plan]
 *
 * Prints the raw samples as one JSON document (format "nestprobe-bench-raw", version 1,
 * docs/bench-format.md); `nestprobe bench import RAW --dump DUMP` turns it into a bench
 * result, with the assessment taken from a nestprobe dump of the same machine. The plans
 * and the batch loop mirror nestprobe/bench/plan.py and collect.py (a test compares them).
 *
 * --print-plan prints only {"plan": {...}}, measuring nothing.
 * Exit 0; 3 when the TSC or CPUID cannot be used here (nothing measured); 2 on bad usage.
 */
#define _GNU_SOURCE 1 /* sched_setaffinity, nanosleep, clock_gettime */

#include "np_bench.h"
#include "np_prove.h"
#include "np_timing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__linux__)
#include <sched.h>
#endif

#define EXIT_USAGE 2
#define EXIT_UNAVAILABLE 3
#define NLEAVES 3

typedef struct {
    const char *name;
    uint32_t batches, gap_us, cpuid_rounds, cpuid_warmup, floor_samples;
    uint32_t register_iterations, register_samples, getppid_calls, getppid_samples, warmup;
    uint32_t touch_pages;
    uint64_t chase_bytes, chase_pages;
    uint32_t chase_steps, chase_samples, chase_warmup_laps;
    uint64_t seed;
    uint32_t guest_exits, guest_cpuids; /* one proof run per batch (np_prove.c) */
} plan_t;

/* Keep in step with nestprobe/bench/plan.py PLANS (tests/test_bench_tool.py checks). */
static const plan_t PLANS[] = {
    {"default", 5, 2000, 400, 32, 400, 1000, 200, 16, 200, 8, 512, 64ull << 20, 8192, 256, 100,
     1, 1, 40, 20},
    {"thorough", 15, 10000, 1000, 64, 1000, 1000, 400, 16, 400, 8, 1024, 256ull << 20, 8192,
     256, 200, 2, 1, 100, 20},
    {"lab", 3, 1000, 60, 8, 60, 1000, 20, 16, 20, 2, 64, 16ull << 20, 4096, 64, 20, 1, 1, 20,
     10},
};

/* CPUID leaf classes: basic, hypervisor, extended (nestprobe/bench/plan.py CPUID_LEAVES). */
static const uint32_t LEAVES[NLEAVES] = {0x0u, 0x40000000u, 0x80000000u};
static const char *const LEAF_METRICS[NLEAVES] = {"cpuid.basic", "cpuid.hypervisor",
                                                  "cpuid.extended"};

enum { M_FLOOR_CPUID, M_FLOOR_BENCH, M_CPUID0, M_CPUID1, M_CPUID2, M_REGISTER, M_GETPPID,
       M_TOUCH, M_TLB4K, M_TLBHUGE, M_GUEST_IO, M_GUEST_CPUID, M_COUNT };
/* A proof run that did not run: its own status, outside np_bench.h's codes. */
#define GUEST_UNSUPPORTED 100
#define GUEST_FAILED 101

typedef struct {
    const char *name;
    uint32_t ops;        /* operations per sample */
    uint32_t per_batch;  /* samples per batch */
    int status;          /* NPB_* of the first failing call, NPB_OK otherwise */
    uint64_t *samples;   /* [batch][per_batch] */
} metric_t;

static void sleep_us(uint32_t us)
{
    struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
    nanosleep(&ts, NULL);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The highest allowed CPU, as nestprobe/sources/latency.py pick_cpu; -1 when unpinned. */
static int pin_last_cpu(void)
{
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return -1;
    for (int cpu = CPU_SETSIZE - 1; cpu >= 0; cpu--) {
        if (!CPU_ISSET(cpu, &set))
            continue;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        return sched_setaffinity(0, sizeof one, &one) == 0 ? cpu : -1;
    }
#endif
    return -1;
}

/* Why the guest metrics did not run: "no VM ran here: OUTCOME at STEP" (collect.py's words). */
static char guest_detail[96];

/* One proof run: its I/O exits and CPUID batches become this batch's guest samples. */
static void guest_batch(const plan_t *p, uint32_t b, metric_t *io, metric_t *cpuid)
{
    static npp_result r;
    if (io->status != NPB_OK || cpuid->status != NPB_OK)
        return;
    npp_params params = {2000, NPP_GUEST_PROOF, 0x6E70726Fu, 1, 1, p->guest_exits,
                         p->guest_exits, p->guest_cpuids};
    int rc = npp_prove(&params, &r);
    if (rc != NPP_OK || r.outcome != NPP_RAN) {
        const char *outcome = rc == NPP_ENOTSUP ? "not-supported" : npp_outcome_name(r.outcome);
        int unsupported = rc == NPP_ENOTSUP || r.outcome == NPP_UNAVAILABLE ||
                          r.outcome == NPP_NO_HYPERVISOR;
        snprintf(guest_detail, sizeof guest_detail, "no VM ran here: %s at %s", outcome,
                 rc == NPP_ENOTSUP ? "none" : npp_step_name(r.step));
        io->status = cpuid->status = unsupported ? GUEST_UNSUPPORTED : GUEST_FAILED;
        return;
    }
    memcpy(io->samples + (size_t)b * io->per_batch, r.io_ticks,
           p->guest_exits * sizeof(uint64_t));
    memcpy(cpuid->samples + (size_t)b * cpuid->per_batch, r.batch_ticks,
           p->guest_exits * sizeof(uint64_t));
}

static const char *status_name(int code)
{
    switch (code) {
    case NPB_OK: return "ok";
    case NPB_ENOTSUP: return "unsupported";
    case GUEST_UNSUPPORTED: return "unsupported";
    default: return "failed";
    }
}

static const char *status_detail(int code)
{
    switch (code) {
    case NPB_OK: return NULL;
    case NPB_ENOTSUP: return "not available on this platform";
    case NPB_ENOTSC: return "the TSC or CPUID cannot be used here";
    case NPB_EINVAL: return "invalid argument";
    case NPB_ENOMEM: return "the mapping or an allocation failed";
    case GUEST_UNSUPPORTED: case GUEST_FAILED: return guest_detail;
    default: return "unknown error";
    }
}

static void put_u64_list(const uint64_t *v, uint32_t n)
{
    putchar('[');
    for (uint32_t i = 0; i < n; i++)
        printf(i ? ",%llu" : "%llu", (unsigned long long)v[i]);
    putchar(']');
}

static void put_plan(const plan_t *p)
{
    printf("\"plan\":{\"name\":\"%s\",\"batches\":%u,\"gap_us\":%u,\"cpuid_rounds\":%u,"
           "\"cpuid_warmup\":%u,\"floor_samples\":%u,\"register_iterations\":%u,"
           "\"register_samples\":%u,\"getppid_calls\":%u,\"getppid_samples\":%u,"
           "\"warmup\":%u,\"touch_pages\":%u,\"chase_bytes\":%llu,\"chase_pages\":%llu,"
           "\"chase_steps\":%u,\"chase_samples\":%u,\"chase_warmup_laps\":%u,\"seed\":%llu,"
           "\"guest_exits\":%u,\"guest_cpuids\":%u}",
           p->name, p->batches, p->gap_us, p->cpuid_rounds, p->cpuid_warmup, p->floor_samples,
           p->register_iterations, p->register_samples, p->getppid_calls, p->getppid_samples,
           p->warmup, p->touch_pages, (unsigned long long)p->chase_bytes,
           (unsigned long long)p->chase_pages, p->chase_steps, p->chase_samples,
           p->chase_warmup_laps, (unsigned long long)p->seed, p->guest_exits, p->guest_cpuids);
}

static void put_clock(const char *key, int ok, uint64_t tsc, uint64_t ns)
{
    if (ok)
        printf("\"%s\":[%llu,%llu],", key, (unsigned long long)tsc, (unsigned long long)ns);
    else
        printf("\"%s\":null,", key);
}

static void put_facts(npb_chase *chase)
{
    npb_chase_facts f;
    if (chase == NULL || npb_chase_facts_of(chase, &f) != NPB_OK) {
        fputs("{}", stdout);
        return;
    }
    printf("{\"bytes\":%llu,\"nodes\":%llu,\"page_bytes\":%u,\"advice\":%d,\"huge_kib\":%lld}",
           (unsigned long long)f.bytes, (unsigned long long)f.nodes, f.page_bytes, f.advice,
           (long long)f.huge_kib);
}

/* One batch of a sampler into its slot; the first failure sticks to the metric. */
#define RUN(M, CALL)                                                              \
    do {                                                                          \
        metric_t *m_ = &m[M];                                                     \
        uint64_t *out = m_->samples + (size_t)b * m_->per_batch;                  \
        if (m_->status == NPB_OK) {                                               \
            int rc_ = (CALL);                                                     \
            if (rc_ != NPB_OK)                                                    \
                m_->status = rc_;                                                 \
        }                                                                         \
    } while (0)

int main(int argc, char **argv)
{
    const plan_t *plan = &PLANS[0];
    int plan_only = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--print-plan") == 0) {
            plan_only = 1;
            continue;
        }
        if (strcmp(argv[i], "--plan") == 0 && i + 1 < argc) {
            const char *want = argv[++i];
            plan = NULL;
            for (size_t k = 0; k < sizeof PLANS / sizeof PLANS[0]; k++)
                if (strcmp(want, PLANS[k].name) == 0)
                    plan = &PLANS[k];
            if (plan != NULL)
                continue;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            puts("usage: nestprobe-bench [--plan default|thorough|lab] [--print-plan]");
            return 0;
        }
        fprintf(stderr, "nestprobe-bench: bad argument '%s' (usage: nestprobe-bench "
                        "[--plan default|thorough|lab] [--print-plan])\n", argv[i]);
        return EXIT_USAGE;
    }
    if (plan_only) {
        putchar('{');
        put_plan(plan);
        puts("}");
        return 0;
    }
    int status = npb_status();
    if (status != NPB_OK) {
        fprintf(stderr, "nestprobe-bench: nothing measured: %s\n", status_detail(status));
        return EXIT_UNAVAILABLE;
    }

    const plan_t *p = plan;
    metric_t m[M_COUNT] = {
        {"floor.cpuid", 1, p->cpuid_rounds, NPB_OK, NULL},
        {"floor.bench", 1, p->floor_samples, NPB_OK, NULL},
        {LEAF_METRICS[0], 1, p->cpuid_rounds, NPB_OK, NULL},
        {LEAF_METRICS[1], 1, p->cpuid_rounds, NPB_OK, NULL},
        {LEAF_METRICS[2], 1, p->cpuid_rounds, NPB_OK, NULL},
        {"control.register", p->register_iterations, p->register_samples, NPB_OK, NULL},
        {"control.getppid", p->getppid_calls, p->getppid_samples, NPB_OK, NULL},
        {"fault.first_touch", 1, p->touch_pages, NPB_OK, NULL},
        {"tlb.4k", p->chase_steps, p->chase_samples, NPB_OK, NULL},
        {"tlb.huge", p->chase_steps, p->chase_samples, NPB_OK, NULL},
        {"guest.io_exit", 1, p->guest_exits, NPB_OK, NULL},
        {"guest.cpuid_exit", p->guest_cpuids, p->guest_exits, NPB_OK, NULL},
    };
    for (int k = 0; k < M_COUNT; k++) {
        m[k].samples = calloc((size_t)p->batches * m[k].per_batch, sizeof(uint64_t));
        if (m[k].samples == NULL) {
            fputs("nestprobe-bench: out of memory\n", stderr);
            return 1;
        }
    }
    size_t width = NLEAVES + 1;
    uint64_t *rows = calloc((size_t)p->cpuid_rounds * width, sizeof(uint64_t));
    if (rows == NULL) {
        fputs("nestprobe-bench: out of memory\n", stderr);
        return 1;
    }

    uint64_t started = now_ns();
    int cpu = pin_last_cpu();
    uint64_t tsc0 = 0, ns0 = 0, tsc1 = 0, ns1 = 0, span = 0, quantum = 0, min_step = 0;
    int first_ok = npt_clock_pair(5, &tsc0, &ns0, &span) == NPT_OK;
    if (npt_tsc_granularity(256, &quantum, &min_step) != NPT_OK)
        quantum = min_step = 0;
    npb_chase *chase[2] = {NULL, NULL};
    int chase_rc[2];
    for (int h = 0; h < 2; h++) {
        chase_rc[h] = npb_chase_open(p->chase_bytes, p->chase_pages, h, p->seed, &chase[h]);
        if (chase_rc[h] != NPB_OK)
            m[M_TLB4K + h].status = chase_rc[h];
    }

    for (uint32_t b = 0; b < p->batches; b++) {
        if (b)
            sleep_us(p->gap_us);
        RUN(M_FLOOR_BENCH, npb_floor(p->floor_samples, out));
        int rc = npt_sample(LEAVES, NLEAVES, p->cpuid_warmup, p->cpuid_rounds, rows);
        for (size_t j = 0; j < width; j++) {
            metric_t *mj = &m[j == 0 ? M_FLOOR_CPUID : M_CPUID0 + (int)j - 1];
            if (rc != NPT_OK) {
                mj->status = NPB_ENOTSC;
                continue;
            }
            for (uint32_t r = 0; r < p->cpuid_rounds; r++)
                mj->samples[(size_t)b * mj->per_batch + r] = rows[(size_t)r * width + j];
        }
        RUN(M_REGISTER, npb_register_loop(p->register_iterations, p->warmup,
                                          p->register_samples, out));
        RUN(M_GETPPID, npb_getppid(p->getppid_calls, p->warmup, p->getppid_samples, out));
        RUN(M_TOUCH, npb_first_touch(p->touch_pages, out));
        for (int h = 0; h < 2; h++)
            RUN(M_TLB4K + h, npb_chase_sample(chase[h], p->chase_steps, p->chase_warmup_laps,
                                              p->chase_samples, out));
        guest_batch(p, b, &m[M_GUEST_IO], &m[M_GUEST_CPUID]);
    }
    int last_ok = npt_clock_pair(5, &tsc1, &ns1, &span) == NPT_OK;
    uint32_t leaves[NPT_TSC_LEAVES] = {0};
    int leaves_ok = npt_tsc_leaves(leaves) == NPT_OK;
    uint64_t wall = now_ns() - started;

    printf("{\"format\":\"nestprobe-bench-raw\",\"version\":1,\"writer\":\"nestprobe-bench-c\",");
    put_plan(p);
    putchar(',');
    if (cpu >= 0)
        printf("\"pinned_cpu\":%d,", cpu);
    else
        fputs("\"pinned_cpu\":null,", stdout);
    printf("\"rdtscp\":%s,", npt_has_rdtscp() ? "true" : "false");
    if (quantum)
        printf("\"tsc_quantum_ticks\":%llu,\"tsc_min_step_ticks\":%llu,",
               (unsigned long long)quantum, (unsigned long long)min_step);
    else
        fputs("\"tsc_quantum_ticks\":null,\"tsc_min_step_ticks\":null,", stdout);
    fputs("\"tsc_leaves\":[", stdout);
    for (int i = 0; i < NPT_TSC_LEAVES; i++)
        printf(i ? ",%u" : "%u", leaves_ok ? leaves[i] : 0u);
    fputs("],", stdout);
    put_clock("clock_start", first_ok, tsc0, ns0);
    put_clock("clock_end", last_ok, tsc1, ns1);
    printf("\"wall_ns\":%llu,\"metrics\":{", (unsigned long long)wall);
    for (int k = 0; k < M_COUNT; k++) {
        const char *detail = status_detail(m[k].status);
        printf("%s\"%s\":{\"ops\":%u,\"status\":\"%s\",", k ? "," : "", m[k].name, m[k].ops,
               status_name(m[k].status));
        if (detail != NULL)
            printf("\"detail\":\"%s\",", detail);
        else
            fputs("\"detail\":null,", stdout);
        fputs("\"facts\":", stdout);
        if (k == M_TLB4K || k == M_TLBHUGE)
            put_facts(chase[k - M_TLB4K]);
        else
            fputs("{}", stdout);
        fputs(",\"batches\":[", stdout);
        for (uint32_t b = 0; m[k].status == NPB_OK && b < p->batches; b++) {
            if (b)
                putchar(',');
            put_u64_list(m[k].samples + (size_t)b * m[k].per_batch, m[k].per_batch);
        }
        fputs("]}", stdout);
    }
    puts("}}");
    for (int h = 0; h < 2; h++)
        npb_chase_close(chase[h]);
    for (int k = 0; k < M_COUNT; k++)
        free(m[k].samples);
    free(rows);
    return fflush(stdout) == 0 ? 0 : 1;
}
