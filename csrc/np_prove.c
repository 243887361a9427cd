/* The proof run: one VM, one vCPU, 24 KiB, a guest of a few instructions (np_prove.h).
 *
 * Linux follows what the kernel's tools/testing/selftests/kvm (lib/x86/processor.c) and
 * kvmtool do to enter 64-bit mode directly: page tables in guest memory, CR0.PE|NE|PG,
 * CR4.PAE, EFER.LME|LMA, a 64-bit code segment and a busy 64-bit TSS through
 * KVM_SET_SREGS, the supported CPUID through KVM_SET_CPUID2 (KVM refuses EFER.LME for a
 * guest whose CPUID has no long mode). The watchdog is a POSIX timer aimed at this thread
 * whose handler sets kvm_run->immediate_exit: a KVM_RUN in progress returns EINTR, one
 * about to start returns at once (Documentation/virt/kvm/api.rst, "immediate_exit").
 *
 * Windows uses the Windows Hypervisor Platform (learn.microsoft.com/virtualization/api/
 * hypervisor-platform): WinHvPlatform.dll is loaded from system32 at run time, so the
 * extension loads on every Windows; its absence is an outcome. The watchdog is a thread
 * that calls WHvCancelRunVirtualProcessor.
 */
#define _GNU_SOURCE 1 /* syscall, SIGEV_THREAD_ID, clock_gettime under -std=c11 */

#include "np_arch.h"
#include "np_prove.h"

/* Which path this build has: KVM (Linux x86-64, GNU asm), WHP (Windows x64), or none. */
#if defined(__linux__) && NP_X86_GNU && defined(__x86_64__)
#define NPP_KVM 1
#define NPP_WHP 0
#elif defined(_WIN32) && NP_X86 && (defined(_M_X64) || defined(__x86_64__))
#define NPP_KVM 0
#define NPP_WHP 1
#else
#define NPP_KVM 0
#define NPP_WHP 0
#endif

#include <string.h>

#if NP_X86_MSVC
#include <intrin.h>
#endif

/* ---- the guest (np_prove_guest.S, assembled; a test checks the bytes) ------------------ */

#define NPP_GUEST_GPA 0x4000u
#define NPP_GDT_GPA 0x4800u
#define NPP_TSS_GPA 0x4900u
#define NPP_DATA_GPA 0x5000u
#define NPP_NEVER_OFFSET 0x97u
#define NPP_PORT_VALUE 0x4E0u
#define NPP_PORT_CPUID 0x4E1u
#define NPP_PORT_LOOP_START 0x4E2u
#define NPP_PORT_LOOP_END 0x4E3u
#define NPP_PORT_IO 0x4E4u
#define NPP_PORT_BATCH 0x4E5u

static const uint8_t NPP_GUEST[] = {
    0x44, 0x89, 0x04, 0x25, 0x00, 0x60, 0x00, 0x00, 0x8b, 0x04, 0x25, 0x00,
    0x50, 0x00, 0x00, 0x66, 0xba, 0xe0, 0x04, 0xef, 0x31, 0xc0, 0x31, 0xc9,
    0x0f, 0xa2, 0x89, 0xd8, 0x66, 0xba, 0xe1, 0x04, 0xef, 0x4d, 0x85, 0xd2,
    0x74, 0x3d, 0x66, 0xba, 0xe2, 0x04, 0xee, 0x4c, 0x89, 0xc9, 0x0f, 0xae,
    0xe8, 0x0f, 0x31, 0x48, 0xc1, 0xe2, 0x20, 0x48, 0x09, 0xd0, 0x48, 0x89,
    0xc6, 0x48, 0xff, 0xc9, 0x75, 0xfb, 0x0f, 0xae, 0xe8, 0x0f, 0x31, 0x48,
    0xc1, 0xe2, 0x20, 0x48, 0x09, 0xd0, 0x48, 0x29, 0xf0, 0x48, 0x89, 0x04,
    0x25, 0x08, 0x50, 0x00, 0x00, 0x66, 0xba, 0xe3, 0x04, 0xef, 0x49, 0xff,
    0xca, 0xeb, 0xbe, 0x66, 0xba, 0xe4, 0x04, 0x4d, 0x85, 0xdb, 0x74, 0x06,
    0xee, 0x49, 0xff, 0xcb, 0x75, 0xfa, 0x4d, 0x85, 0xe4, 0x74, 0x1d, 0x4d,
    0x89, 0xee, 0x4d, 0x85, 0xf6, 0x74, 0x0b, 0x31, 0xc0, 0x31, 0xc9, 0x0f,
    0xa2, 0x49, 0xff, 0xce, 0x75, 0xf5, 0x66, 0xba, 0xe5, 0x04, 0xee, 0x49,
    0xff, 0xcc, 0x75, 0xe3, 0xf4, 0xeb, 0xfd, 0xeb, 0xfe,
};

static const char *const NPP_OUTCOME_NAMES[] = {
    "ran", "unavailable", "refused", "fail-entry", "internal-error", "shutdown", "timeout",
    "unexpected-exit", "wrong-value", "no-hypervisor",
};

static const char *const NPP_STEP_NAMES[] = {
    "none", "open", "api-version", "create-vm", "guest-memory", "set-memory", "create-vcpu",
    "vcpu-mmap-size", "map-run", "supported-cpuid", "set-cpuid", "get-sregs", "set-sregs",
    "set-regs", "watchdog", "run", "done", "", "", "", "load-library", "get-proc",
    "get-capability", "create-partition", "set-property", "setup-partition", "map-gpa",
    "create-vp", "set-registers",
};

const char *npp_outcome_name(int32_t outcome)
{
    size_t n = sizeof NPP_OUTCOME_NAMES / sizeof NPP_OUTCOME_NAMES[0];
    return outcome >= 0 && (size_t)outcome < n ? NPP_OUTCOME_NAMES[outcome] : "";
}

const char *npp_step_name(int32_t step)
{
    size_t n = sizeof NPP_STEP_NAMES / sizeof NPP_STEP_NAMES[0];
    return step >= 0 && (size_t)step < n ? NPP_STEP_NAMES[step] : "";
}

uint32_t npp_guest_entry(uint32_t guest)
{
    return guest == NPP_GUEST_NEVER_EXITS ? NPP_NEVER_OFFSET : 0u;
}

uint32_t npp_guest_code(uint8_t *buf, uint32_t cap)
{
    uint32_t size = (uint32_t)sizeof NPP_GUEST;
    if (buf != NULL)
        memcpy(buf, NPP_GUEST, cap < size ? cap : size);
    return size;
}

/* Page tables, GDT and code into `mem` (NPP_MEMORY_BYTES, zeroed by the caller). */
static void npp_build_memory(uint8_t *mem)
{
    uint64_t *pml4 = (uint64_t *)(void *)(mem + 0x0000);
    uint64_t *pdpt = (uint64_t *)(void *)(mem + 0x1000);
    uint64_t *pd = (uint64_t *)(void *)(mem + 0x2000);
    uint64_t *pt = (uint64_t *)(void *)(mem + 0x3000);
    uint64_t *gdt = (uint64_t *)(void *)(mem + NPP_GDT_GPA);
    const uint64_t present_rw = 0x3;
    pml4[0] = 0x1000 | present_rw;
    pdpt[0] = 0x2000 | present_rw;
    pd[0] = 0x3000 | present_rw;
    for (uint64_t page = 0; page < 6; page++)
        pt[page] = (page << 12) | present_rw; /* identity: 0x0000..0x5fff */
    pt[6] = NPP_DATA_GPA | present_rw;          /* virtual 0x6000 -> the data page */
    gdt[0] = 0;
    gdt[1] = 0x00AF9B000000FFFFull; /* 0x08: 64-bit code, DPL 0, accessed */
    gdt[2] = 0x00CF93000000FFFFull; /* 0x10: data, read/write, accessed */
    /* 0x18: busy 64-bit TSS (type 0xB) at NPP_TSS_GPA, limit 0x67, 16 bytes */
    gdt[3] = 0x0000000000000067ull | ((uint64_t)NPP_TSS_GPA << 16) | (0x8Bull << 40);
    gdt[4] = 0;
    memcpy(mem + NPP_GUEST_GPA, NPP_GUEST, sizeof NPP_GUEST);
}

static int npp_params_ok(const npp_params *p)
{
    return p->limit_ms >= 1 && p->limit_ms <= NPP_MAX_LIMIT_MS && p->loop_iterations >= 1 &&
           p->loop_rounds >= 1 && p->loop_rounds <= NPP_MAX_ROUNDS &&
           p->io_exits <= NPP_MAX_SAMPLES && p->cpuid_batches <= NPP_MAX_SAMPLES &&
           (p->guest == NPP_GUEST_PROOF || p->guest == NPP_GUEST_NEVER_EXITS);
}

static void npp_reset(npp_result *out)
{
    memset(out, 0, sizeof *out);
    out->api_version = -1;
    out->memory_bytes = NPP_MEMORY_BYTES;
}

/* ---- clocks and the native loop ------------------------------------------------------- */

#if (NPP_KVM || NPP_WHP) && NP_X86_GNU
static inline uint64_t npp_ticks(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return ((uint64_t)hi << 32) | lo;
}

/* The guest's loop, instruction for instruction: `1: dec rcx; jnz 1b`. */
static inline void npp_spin(uint64_t iterations)
{
    __asm__ volatile("1:\n\tdec %0\n\tjnz 1b" : "+c"(iterations)::"cc");
}
#define NPP_HAVE_NATIVE_LOOP 1
#elif (NPP_KVM || NPP_WHP) && NP_X86_MSVC
static __forceinline uint64_t npp_ticks(void)
{
    _ReadWriteBarrier();
    _mm_lfence();
    uint64_t t = __rdtsc();
    _ReadWriteBarrier();
    return t;
}
/* MSVC has no x64 inline assembly, and a C loop is not the guest's instructions: the
 * native loop is not measured in MSVC builds (the wheels are built with mingw-w64). */
#define NPP_HAVE_NATIVE_LOOP 0
#endif

#if NPP_WHP
#define WIN32_LEAN_AND_MEAN 1
#include <windows.h>

static uint64_t npp_now_ns(void)
{
    LARGE_INTEGER count, freq;
    QueryPerformanceCounter(&count);
    QueryPerformanceFrequency(&freq);
    return (uint64_t)((double)count.QuadPart * 1e9 / (double)freq.QuadPart);
}
#elif NPP_KVM
#include <time.h>

static uint64_t npp_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
#endif

#if NPP_KVM || NPP_WHP
static void npp_native_loops(const npp_params *p, npp_result *out)
{
#if NPP_HAVE_NATIVE_LOOP
    for (uint32_t r = 0; r < p->loop_rounds; r++) {
        uint64_t ns0 = npp_now_ns();
        uint64_t t0 = npp_ticks();
        npp_spin(p->loop_iterations);
        uint64_t t1 = npp_ticks();
        uint64_t ns1 = npp_now_ns();
        out->native_loop_ticks[r] = t1 - t0;
        out->native_loop_ns[r] = ns1 - ns0;
    }
#else
    (void)p;
    (void)out;
#endif
}

/* What an I/O exit at `port` means in the expected sequence; 0: in order, else outcome. */
typedef struct {
    uint32_t expect_port; /* the next port the guest must use */
    uint32_t rounds_left, io_left, batches_left;
} npp_sequence;

static void npp_sequence_start(npp_sequence *s, const npp_params *p)
{
    s->expect_port = NPP_PORT_VALUE;
    s->rounds_left = p->loop_rounds;
    s->io_left = p->io_exits;
    s->batches_left = p->cpuid_batches;
}

static uint32_t npp_after_loops(const npp_sequence *s)
{
    if (s->io_left)
        return NPP_PORT_IO;
    if (s->batches_left)
        return NPP_PORT_BATCH;
    return 0; /* halt next */
}

/* Record one I/O exit (port, 32-bit value, host ticks/ns of the run that ended in it and
 * the loop's guest ticks); advance. Returns 1 when it was the one expected. */
static int npp_on_io(npp_sequence *s, npp_result *out, uint32_t port, uint32_t value,
                     uint64_t ticks, uint64_t ns, uint64_t guest_ticks)
{
    if (port != s->expect_port)
        return 0;
    switch (port) {
    case NPP_PORT_VALUE:
        out->value_seen = value;
        s->expect_port = NPP_PORT_CPUID;
        break;
    case NPP_PORT_CPUID:
        out->guest_cpuid_ebx = value;
        s->expect_port = NPP_PORT_LOOP_START;
        break;
    case NPP_PORT_LOOP_START:
        s->expect_port = NPP_PORT_LOOP_END;
        break;
    case NPP_PORT_LOOP_END:
        out->guest_loop_ticks[out->rounds_done] = guest_ticks;
        out->guest_loop_ns[out->rounds_done] = ns;
        out->rounds_done++;
        s->rounds_left--;
        s->expect_port = s->rounds_left ? NPP_PORT_LOOP_START : npp_after_loops(s);
        break;
    case NPP_PORT_IO:
        out->io_ticks[out->io_done++] = ticks;
        s->io_left--;
        s->expect_port = npp_after_loops(s);
        break;
    case NPP_PORT_BATCH:
        out->batch_ticks[out->batches_done++] = ticks;
        s->batches_left--;
        s->expect_port = s->batches_left ? NPP_PORT_BATCH : 0;
        break;
    default:
        return 0;
    }
    return 1;
}
#endif

/* ======================================================================================= */
#if NPP_KVM

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The watchdog's POSIX timer and signal mask through the kernel's own calls: glibc 2.34
 * moved timer_create & co. from librt into libc under a new symbol version (and 2.32
 * pthread_sigmask), so calling glibc's would make the extension need glibc >= 2.34 and
 * the Linux wheel manylinux_2_34. syscall() and sigprocmask() are GLIBC_2.2.5; on Linux
 * sigprocmask sets the calling thread's mask (rt_sigprocmask), as pthread_sigmask does.
 * The kernel's timer id is an int (__kernel_timer_t); struct sigevent and itimerspec are
 * the kernel's layouts on x86-64. */
static int npp_timer_create(struct sigevent *event, int *id)
{
    return (int)syscall(SYS_timer_create, CLOCK_MONOTONIC, event, id);
}

static int npp_timer_settime(int id, const struct itimerspec *when)
{
    return (int)syscall(SYS_timer_settime, id, 0, when, NULL);
}

static void npp_timer_delete(int id)
{
    (void)syscall(SYS_timer_delete, id);
}

#define NPP_CPUID_ENTRIES 256

static pthread_mutex_t npp_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kvm_run *volatile npp_watched;
static volatile sig_atomic_t npp_fired;

static void npp_on_timer(int sig)
{
    (void)sig;
    npp_fired = 1;
    struct kvm_run *run = npp_watched;
    if (run != NULL)
        run->immediate_exit = 1;
}

typedef struct {
    int kvm, vm, vcpu;
    uint8_t *mem;
    struct kvm_run *run;
    size_t run_size;
    struct kvm_cpuid2 *cpuid;
    int timer_made, handler_set, mask_set;
    int timer; /* the kernel's timer id */
    struct sigaction old_action;
    sigset_t old_mask;
} npp_kvm;

static int npp_fail(npp_result *out, int outcome, int step)
{
    out->outcome = outcome;
    out->step = step;
    out->error = errno;
    return -1;
}

static int npp_signal(void)
{
    return SIGRTMIN + 7; /* a real-time signal no runtime we know of uses */
}

static void npp_kvm_release(npp_kvm *k)
{
    int sig = npp_signal();
    if (k->timer_made)
        npp_timer_delete(k->timer);
    npp_watched = NULL;
    if (k->handler_set) {
        /* Consume a signal still queued for this thread before the old action returns. */
        sigset_t only;
        sigemptyset(&only);
        sigaddset(&only, sig);
        sigprocmask(SIG_BLOCK, &only, NULL);
        struct timespec zero = {0, 0};
        while (sigtimedwait(&only, NULL, &zero) == sig) {
        }
        sigaction(sig, &k->old_action, NULL);
    }
    if (k->mask_set)
        sigprocmask(SIG_SETMASK, &k->old_mask, NULL);
    if (k->run != NULL)
        munmap(k->run, k->run_size);
    if (k->vcpu >= 0)
        close(k->vcpu);
    if (k->mem != NULL)
        munmap(k->mem, NPP_MEMORY_BYTES);
    if (k->vm >= 0)
        close(k->vm);
    if (k->kvm >= 0)
        close(k->kvm);
    free(k->cpuid);
}

static void npp_segment(struct kvm_segment *s, uint16_t selector, uint8_t type, uint8_t code)
{
    memset(s, 0, sizeof *s);
    s->base = 0;
    s->limit = 0xFFFFFFFFu;
    s->selector = selector;
    s->type = type;
    s->present = 1;
    s->s = 1;
    s->g = 1;
    s->l = code;
    s->db = code ? 0 : 1;
}

static int npp_kvm_setup(npp_kvm *k, const npp_params *p, npp_result *out)
{
    out->step = NPP_STEP_OPEN;
    k->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (k->kvm < 0)
        return npp_fail(out, errno == ENOENT || errno == ENODEV || errno == ENXIO
                                 ? NPP_UNAVAILABLE : NPP_REFUSED, NPP_STEP_OPEN);
    out->step = NPP_STEP_API_VERSION;
    out->api_version = ioctl(k->kvm, KVM_GET_API_VERSION, 0);
    if (out->api_version != KVM_API_VERSION) {
        if (out->api_version >= 0)
            errno = 0;
        return npp_fail(out, NPP_REFUSED, NPP_STEP_API_VERSION);
    }
    out->step = NPP_STEP_CREATE_VM;
    k->vm = ioctl(k->kvm, KVM_CREATE_VM, 0);
    if (k->vm < 0)
        return npp_fail(out, NPP_REFUSED, NPP_STEP_CREATE_VM);

    out->step = NPP_STEP_GUEST_MEMORY;
    void *mem = mmap(NULL, NPP_MEMORY_BYTES, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED)
        return npp_fail(out, NPP_REFUSED, NPP_STEP_GUEST_MEMORY);
    k->mem = mem;
    npp_build_memory(k->mem);
    out->step = NPP_STEP_SET_MEMORY;
    struct kvm_userspace_memory_region region = {
        .slot = 0, .flags = 0, .guest_phys_addr = 0, .memory_size = NPP_MEMORY_BYTES,
        .userspace_addr = (uint64_t)(uintptr_t)k->mem,
    };
    if (ioctl(k->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return npp_fail(out, NPP_REFUSED, NPP_STEP_SET_MEMORY);

    out->step = NPP_STEP_CREATE_VCPU;
    k->vcpu = ioctl(k->vm, KVM_CREATE_VCPU, 0);
    if (k->vcpu < 0)
        return npp_fail(out, NPP_REFUSED, NPP_STEP_CREATE_VCPU);
    out->step = NPP_STEP_VCPU_MMAP_SIZE;
    int size = ioctl(k->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (size < (int)sizeof(struct kvm_run))
        return npp_fail(out, NPP_REFUSED, NPP_STEP_VCPU_MMAP_SIZE);
    out->step = NPP_STEP_MAP_RUN;
    void *run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, k->vcpu, 0);
    if (run == MAP_FAILED)
        return npp_fail(out, NPP_REFUSED, NPP_STEP_MAP_RUN);
    k->run = run;
    k->run_size = (size_t)size;

    out->step = NPP_STEP_SUPPORTED_CPUID;
    k->cpuid = calloc(1, sizeof *k->cpuid + NPP_CPUID_ENTRIES * sizeof(struct kvm_cpuid_entry2));
    if (k->cpuid == NULL)
        return npp_fail(out, NPP_REFUSED, NPP_STEP_SUPPORTED_CPUID);
    k->cpuid->nent = NPP_CPUID_ENTRIES;
    if (ioctl(k->kvm, KVM_GET_SUPPORTED_CPUID, k->cpuid) < 0)
        return npp_fail(out, NPP_REFUSED, NPP_STEP_SUPPORTED_CPUID);
    out->step = NPP_STEP_SET_CPUID;
    if (ioctl(k->vcpu, KVM_SET_CPUID2, k->cpuid) < 0)
        return npp_fail(out, NPP_REFUSED, NPP_STEP_SET_CPUID);

    out->step = NPP_STEP_GET_SREGS;
    struct kvm_sregs sregs;
    if (ioctl(k->vcpu, KVM_GET_SREGS, &sregs) < 0)
        return npp_fail(out, NPP_REFUSED, NPP_STEP_GET_SREGS);
    npp_segment(&sregs.cs, 0x08, 0xB, 1);
    npp_segment(&sregs.ds, 0x10, 0x3, 0);
    sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
    memset(&sregs.tr, 0, sizeof sregs.tr);
    sregs.tr.base = NPP_TSS_GPA;
    sregs.tr.limit = 0x67;
    sregs.tr.selector = 0x18;
    sregs.tr.type = 0xB;
    sregs.tr.present = 1;
    memset(&sregs.ldt, 0, sizeof sregs.ldt);
    sregs.ldt.unusable = 1;
    sregs.gdt.base = NPP_GDT_GPA;
    sregs.gdt.limit = 5 * 8 - 1;
    sregs.idt.base = 0;
    sregs.idt.limit = 0; /* no IDT: any exception is a triple fault (KVM_EXIT_SHUTDOWN) */
    sregs.cr0 = 0x80000031u; /* PG | NE | ET | PE */
    sregs.cr3 = 0x0000;      /* the PML4 */
    sregs.cr4 = 0x20;        /* PAE */
    sregs.efer = 0x500;      /* LMA | LME */
    out->step = NPP_STEP_SET_SREGS;
    if (ioctl(k->vcpu, KVM_SET_SREGS, &sregs) < 0)
        return npp_fail(out, NPP_REFUSED, NPP_STEP_SET_SREGS);

    struct kvm_regs regs;
    memset(&regs, 0, sizeof regs);
    regs.rip = NPP_GUEST_GPA + npp_guest_entry(p->guest);
    regs.rflags = 0x2;
    regs.rsp = NPP_DATA_GPA + 0x1000;
    regs.r8 = p->value;
    regs.r9 = p->loop_iterations;
    regs.r10 = p->loop_rounds;
    regs.r11 = p->io_exits;
    regs.r12 = p->cpuid_batches;
    regs.r13 = p->cpuid_per_batch;
    out->step = NPP_STEP_SET_REGS;
    if (ioctl(k->vcpu, KVM_SET_REGS, &regs) < 0)
        return npp_fail(out, NPP_REFUSED, NPP_STEP_SET_REGS);
    return 0;
}

static int npp_kvm_watchdog(npp_kvm *k, const npp_params *p, npp_result *out)
{
    int sig = npp_signal();
    out->step = NPP_STEP_WATCHDOG;
    npp_fired = 0;
    npp_watched = k->run;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = npp_on_timer;
    sigemptyset(&action.sa_mask);
    if (sigaction(sig, &action, &k->old_action) < 0)
        return npp_fail(out, NPP_REFUSED, NPP_STEP_WATCHDOG);
    k->handler_set = 1;
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, sig);
    if (sigprocmask(SIG_UNBLOCK, &only, &k->old_mask) != 0)
        return npp_fail(out, NPP_REFUSED, NPP_STEP_WATCHDOG);
    k->mask_set = 1;
    struct sigevent event;
    memset(&event, 0, sizeof event);
    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = sig;
#ifdef sigev_notify_thread_id
    event.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
#else
    event._sigev_un._tid = (pid_t)syscall(SYS_gettid);
#endif
    if (npp_timer_create(&event, &k->timer) < 0)
        return npp_fail(out, NPP_REFUSED, NPP_STEP_WATCHDOG);
    k->timer_made = 1;
    /* Periodic after the first expiry: a signal that lands between two KVM_RUNs has set
     * immediate_exit anyway, and the next one finds any run still going. */
    struct itimerspec when = {
        .it_value = {(time_t)(p->limit_ms / 1000), (long)(p->limit_ms % 1000) * 1000000L},
        .it_interval = {0, 10 * 1000000L},
    };
    if (npp_timer_settime(k->timer, &when) < 0)
        return npp_fail(out, NPP_REFUSED, NPP_STEP_WATCHDOG);
    return 0;
}

/* Run until halt or anything unexpected. */
static void npp_kvm_run(npp_kvm *k, const npp_params *p, npp_result *out)
{
    npp_sequence seq;
    npp_sequence_start(&seq, p);
    struct kvm_run *run = k->run;
    uint64_t ticks0 = npp_ticks(), ns0 = npp_now_ns();
    out->step = NPP_STEP_RUN;
    for (;;) {
        uint64_t t0 = npp_ticks(), n0 = npp_now_ns();
        int rc = ioctl(k->vcpu, KVM_RUN, 0);
        uint64_t t1 = npp_ticks(), n1 = npp_now_ns();
        if (npp_fired) {
            out->outcome = NPP_TIMEOUT;
            out->exit_reason = run->exit_reason;
            break;
        }
        if (rc < 0) {
            if (errno == EINTR)
                continue; /* another signal; the watchdog still bounds the run */
            npp_fail(out, NPP_REFUSED, NPP_STEP_RUN);
            break;
        }
        out->exits++;
        out->exit_reason = run->exit_reason;
        if (run->exit_reason == KVM_EXIT_IO) {
            const uint8_t *data = (const uint8_t *)run + run->io.data_offset;
            uint32_t value = 0;
            if (run->io.size == 1)
                value = data[0];
            else if (run->io.size == 4)
                memcpy(&value, data, 4);
            uint64_t guest_ticks;
            memcpy(&guest_ticks, k->mem + NPP_DATA_GPA + 8, sizeof guest_ticks);
            if (run->io.direction == KVM_EXIT_IO_OUT && run->io.count == 1 &&
                npp_on_io(&seq, out, run->io.port, value, t1 - t0, n1 - n0, guest_ticks)) {
                if (run->io.port == NPP_PORT_VALUE && value != p->value) {
                    out->outcome = NPP_WRONG_VALUE;
                    out->detail = run->io.port;
                    break;
                }
                continue;
            }
            out->outcome = NPP_UNEXPECTED_EXIT;
            out->detail = run->io.port;
            out->detail2 = ((uint64_t)run->io.direction << 8) | run->io.size;
            break;
        }
        if (run->exit_reason == KVM_EXIT_HLT && seq.expect_port == 0) {
            out->outcome = NPP_RAN;
            out->step = NPP_STEP_DONE;
            break;
        }
        switch (run->exit_reason) {
        case KVM_EXIT_FAIL_ENTRY:
            out->outcome = NPP_FAIL_ENTRY;
            out->detail = run->fail_entry.hardware_entry_failure_reason;
            out->detail2 = run->fail_entry.cpu;
            break;
        case KVM_EXIT_INTERNAL_ERROR:
            out->outcome = NPP_INTERNAL_ERROR;
            out->detail = run->internal.suberror;
            break;
        case KVM_EXIT_SHUTDOWN:
            out->outcome = NPP_SHUTDOWN;
            break;
        case KVM_EXIT_MMIO:
            out->outcome = NPP_UNEXPECTED_EXIT;
            out->detail = run->mmio.phys_addr;
            break;
        default:
            out->outcome = NPP_UNEXPECTED_EXIT;
            break;
        }
        break;
    }
    out->run_ticks = npp_ticks() - ticks0;
    out->run_ns = npp_now_ns() - ns0;
}

static int npp_prove_kvm(const npp_params *p, npp_result *out)
{
    npp_kvm k;
    memset(&k, 0, sizeof k);
    k.kvm = k.vm = k.vcpu = -1;
    out->platform = NPP_PLATFORM_KVM;
    int saved_errno = errno;
    pthread_mutex_lock(&npp_lock);
    if (npp_kvm_setup(&k, p, out) == 0 && npp_kvm_watchdog(&k, p, out) == 0)
        npp_kvm_run(&k, p, out);
    npp_kvm_release(&k);
    pthread_mutex_unlock(&npp_lock);
    errno = saved_errno;
    return NPP_OK;
}

/* ======================================================================================= */
#elif NPP_WHP

#include <winhvplatform.h>

/* Function types from the documented prototypes (WinHvPlatform.h; the mingw-w64 copy is
 * winhvplatform.h). tests/native/test_prove_whp.py compiles a check that each one matches. */
typedef HRESULT(WINAPI *npp_WHvGetCapability)(WHV_CAPABILITY_CODE, VOID *, UINT32, UINT32 *);
typedef HRESULT(WINAPI *npp_WHvCreatePartition)(WHV_PARTITION_HANDLE *);
typedef HRESULT(WINAPI *npp_WHvSetPartitionProperty)(WHV_PARTITION_HANDLE,
                                                     WHV_PARTITION_PROPERTY_CODE,
                                                     const VOID *, UINT32);
typedef HRESULT(WINAPI *npp_WHvSetupPartition)(WHV_PARTITION_HANDLE);
typedef HRESULT(WINAPI *npp_WHvDeletePartition)(WHV_PARTITION_HANDLE);
typedef HRESULT(WINAPI *npp_WHvMapGpaRange)(WHV_PARTITION_HANDLE, VOID *,
                                            WHV_GUEST_PHYSICAL_ADDRESS, UINT64,
                                            WHV_MAP_GPA_RANGE_FLAGS);
typedef HRESULT(WINAPI *npp_WHvUnmapGpaRange)(WHV_PARTITION_HANDLE, WHV_GUEST_PHYSICAL_ADDRESS,
                                              UINT64);
typedef HRESULT(WINAPI *npp_WHvCreateVirtualProcessor)(WHV_PARTITION_HANDLE, UINT32, UINT32);
typedef HRESULT(WINAPI *npp_WHvDeleteVirtualProcessor)(WHV_PARTITION_HANDLE, UINT32);
typedef HRESULT(WINAPI *npp_WHvSetVirtualProcessorRegisters)(WHV_PARTITION_HANDLE, UINT32,
                                                             const WHV_REGISTER_NAME *, UINT32,
                                                             const WHV_REGISTER_VALUE *);
typedef HRESULT(WINAPI *npp_WHvRunVirtualProcessor)(WHV_PARTITION_HANDLE, UINT32, VOID *,
                                                    UINT32);
typedef HRESULT(WINAPI *npp_WHvCancelRunVirtualProcessor)(WHV_PARTITION_HANDLE, UINT32, UINT32);

#ifdef NPP_CHECK_SIGNATURES
/* Compiled only by tests/native/test_prove_whp.py: every function type above must accept the
 * header's own declaration (an incompatible pointer is an error there). */
void npp_check_signatures(void);
void npp_check_signatures(void)
{
    npp_WHvGetCapability a = WHvGetCapability;
    npp_WHvCreatePartition b = WHvCreatePartition;
    npp_WHvSetPartitionProperty c = WHvSetPartitionProperty;
    npp_WHvSetupPartition d = WHvSetupPartition;
    npp_WHvDeletePartition e = WHvDeletePartition;
    npp_WHvMapGpaRange f = WHvMapGpaRange;
    npp_WHvUnmapGpaRange g = WHvUnmapGpaRange;
    npp_WHvCreateVirtualProcessor h = WHvCreateVirtualProcessor;
    npp_WHvDeleteVirtualProcessor i = WHvDeleteVirtualProcessor;
    npp_WHvSetVirtualProcessorRegisters j = WHvSetVirtualProcessorRegisters;
    npp_WHvRunVirtualProcessor k = WHvRunVirtualProcessor;
    npp_WHvCancelRunVirtualProcessor l = WHvCancelRunVirtualProcessor;
    (void)a, (void)b, (void)c, (void)d, (void)e, (void)f, (void)g, (void)h, (void)i, (void)j,
        (void)k, (void)l;
}
#endif

typedef struct {
    npp_WHvGetCapability GetCapability;
    npp_WHvCreatePartition CreatePartition;
    npp_WHvSetPartitionProperty SetPartitionProperty;
    npp_WHvSetupPartition SetupPartition;
    npp_WHvDeletePartition DeletePartition;
    npp_WHvMapGpaRange MapGpaRange;
    npp_WHvUnmapGpaRange UnmapGpaRange;
    npp_WHvCreateVirtualProcessor CreateVirtualProcessor;
    npp_WHvDeleteVirtualProcessor DeleteVirtualProcessor;
    npp_WHvSetVirtualProcessorRegisters SetVirtualProcessorRegisters;
    npp_WHvRunVirtualProcessor RunVirtualProcessor;
    npp_WHvCancelRunVirtualProcessor CancelRunVirtualProcessor;
} npp_whp_api;

typedef struct {
    HMODULE dll;
    npp_whp_api api;
    WHV_PARTITION_HANDLE partition;
    int vp_made, mapped;
    uint8_t *mem;
    HANDLE stop, thread;
    DWORD limit_ms;
    volatile LONG fired;
} npp_whp;

static SRWLOCK npp_lock = SRWLOCK_INIT;

static int npp_whp_fail(npp_result *out, int outcome, int step, int64_t error)
{
    out->outcome = outcome;
    out->step = step;
    out->error = error;
    return -1;
}

/* GetProcAddress returns FARPROC; the cast through void (*)(void) is the one GCC's
 * -Wcast-function-type accepts (and ISO C allows between function pointer types). */
#define NPP_LOAD(w, name)                                                                  \
    ((w)->api.name = (npp_WHv##name)(void (*)(void))GetProcAddress((w)->dll, "WHv" #name), \
     (w)->api.name != NULL)

static int npp_whp_load(npp_whp *w, npp_result *out)
{
    out->step = NPP_STEP_LOAD_LIBRARY;
    w->dll = LoadLibraryExW(L"WinHvPlatform.dll", NULL, LOAD_LIBRARY_SEARCH_SYSTEM32);
    if (w->dll == NULL)
        return npp_whp_fail(out, NPP_UNAVAILABLE, NPP_STEP_LOAD_LIBRARY, (int64_t)GetLastError());
    out->step = NPP_STEP_GET_PROC;
    if (!(NPP_LOAD(w, GetCapability) && NPP_LOAD(w, CreatePartition) &&
          NPP_LOAD(w, SetPartitionProperty) && NPP_LOAD(w, SetupPartition) &&
          NPP_LOAD(w, DeletePartition) && NPP_LOAD(w, MapGpaRange) &&
          NPP_LOAD(w, UnmapGpaRange) && NPP_LOAD(w, CreateVirtualProcessor) &&
          NPP_LOAD(w, DeleteVirtualProcessor) && NPP_LOAD(w, SetVirtualProcessorRegisters) &&
          NPP_LOAD(w, RunVirtualProcessor) && NPP_LOAD(w, CancelRunVirtualProcessor)))
        return npp_whp_fail(out, NPP_UNAVAILABLE, NPP_STEP_GET_PROC, (int64_t)GetLastError());
    return 0;
}

static WHV_X64_SEGMENT_REGISTER npp_whp_segment(UINT16 selector, UINT16 type, int code)
{
    WHV_X64_SEGMENT_REGISTER s;
    memset(&s, 0, sizeof s);
    s.Base = 0;
    s.Limit = 0xFFFFFFFFu;
    s.Selector = selector;
    s.SegmentType = type;
    s.NonSystemSegment = 1;
    s.Present = 1;
    s.Long = code ? 1 : 0;
    s.Default = code ? 0 : 1;
    s.Granularity = 1;
    return s;
}

#define NPP_WHP_REGS 21

static int npp_whp_setup(npp_whp *w, const npp_params *p, npp_result *out)
{
    WHV_CAPABILITY capability;
    UINT32 written = 0;
    HRESULT hr;
    memset(&capability, 0, sizeof capability);
    out->step = NPP_STEP_GET_CAPABILITY;
    hr = w->api.GetCapability(WHvCapabilityCodeHypervisorPresent, &capability,
                              sizeof capability, &written);
    if (FAILED(hr))
        return npp_whp_fail(out, NPP_REFUSED, NPP_STEP_GET_CAPABILITY, (int64_t)hr);
    if (!capability.HypervisorPresent)
        return npp_whp_fail(out, NPP_NO_HYPERVISOR, NPP_STEP_GET_CAPABILITY, 0);

    out->step = NPP_STEP_CREATE_PARTITION;
    hr = w->api.CreatePartition(&w->partition);
    if (FAILED(hr))
        return npp_whp_fail(out, NPP_REFUSED, NPP_STEP_CREATE_PARTITION, (int64_t)hr);
    out->step = NPP_STEP_SET_PROPERTY;
    UINT32 processors = 1;
    hr = w->api.SetPartitionProperty(w->partition, WHvPartitionPropertyCodeProcessorCount,
                                     &processors, sizeof processors);
    if (FAILED(hr))
        return npp_whp_fail(out, NPP_REFUSED, NPP_STEP_SET_PROPERTY, (int64_t)hr);
    out->step = NPP_STEP_SETUP_PARTITION;
    hr = w->api.SetupPartition(w->partition);
    if (FAILED(hr))
        return npp_whp_fail(out, NPP_REFUSED, NPP_STEP_SETUP_PARTITION, (int64_t)hr);

    out->step = NPP_STEP_GUEST_MEMORY;
    w->mem = (uint8_t *)VirtualAlloc(NULL, NPP_MEMORY_BYTES, MEM_RESERVE | MEM_COMMIT,
                                     PAGE_READWRITE);
    if (w->mem == NULL)
        return npp_whp_fail(out, NPP_REFUSED, NPP_STEP_GUEST_MEMORY, (int64_t)GetLastError());
    npp_build_memory(w->mem);
    out->step = NPP_STEP_MAP_GPA;
    hr = w->api.MapGpaRange(w->partition, w->mem, 0, NPP_MEMORY_BYTES,
                            (WHV_MAP_GPA_RANGE_FLAGS)(WHvMapGpaRangeFlagRead |
                                                      WHvMapGpaRangeFlagWrite |
                                                      WHvMapGpaRangeFlagExecute));
    if (FAILED(hr))
        return npp_whp_fail(out, NPP_REFUSED, NPP_STEP_MAP_GPA, (int64_t)hr);
    w->mapped = 1;
    out->step = NPP_STEP_CREATE_VP;
    hr = w->api.CreateVirtualProcessor(w->partition, 0, 0);
    if (FAILED(hr))
        return npp_whp_fail(out, NPP_REFUSED, NPP_STEP_CREATE_VP, (int64_t)hr);
    w->vp_made = 1;

    static const WHV_REGISTER_NAME names[NPP_WHP_REGS] = {
        WHvX64RegisterCr0, WHvX64RegisterCr3, WHvX64RegisterCr4, WHvX64RegisterEfer,
        WHvX64RegisterCs, WHvX64RegisterDs, WHvX64RegisterEs, WHvX64RegisterFs,
        WHvX64RegisterGs, WHvX64RegisterSs, WHvX64RegisterTr, WHvX64RegisterLdtr,
        WHvX64RegisterGdtr, WHvX64RegisterRip, WHvX64RegisterRflags, WHvX64RegisterR8,
        WHvX64RegisterR9, WHvX64RegisterR10, WHvX64RegisterR11, WHvX64RegisterR12,
        WHvX64RegisterR13,
    };
    WHV_REGISTER_VALUE values[NPP_WHP_REGS];
    memset(values, 0, sizeof values);
    values[0].Reg64 = 0x80000031u;
    values[1].Reg64 = 0;
    values[2].Reg64 = 0x20;
    values[3].Reg64 = 0x500;
    values[4].Segment = npp_whp_segment(0x08, 0xB, 1);
    for (int i = 5; i <= 9; i++)
        values[i].Segment = npp_whp_segment(0x10, 0x3, 0);
    values[10].Segment.Base = NPP_TSS_GPA;
    values[10].Segment.Limit = 0x67;
    values[10].Segment.Selector = 0x18;
    values[10].Segment.SegmentType = 0xB;
    values[10].Segment.Present = 1;
    values[11].Segment.SegmentType = 0x2; /* LDT, not present */
    values[12].Table.Base = NPP_GDT_GPA;
    values[12].Table.Limit = 5 * 8 - 1;
    values[13].Reg64 = NPP_GUEST_GPA + npp_guest_entry(p->guest);
    values[14].Reg64 = 0x2;
    values[15].Reg64 = p->value;
    values[16].Reg64 = p->loop_iterations;
    values[17].Reg64 = p->loop_rounds;
    values[18].Reg64 = p->io_exits;
    values[19].Reg64 = p->cpuid_batches;
    values[20].Reg64 = p->cpuid_per_batch;
    out->step = NPP_STEP_SET_REGISTERS;
    hr = w->api.SetVirtualProcessorRegisters(w->partition, 0, names, NPP_WHP_REGS, values);
    if (FAILED(hr))
        return npp_whp_fail(out, NPP_REFUSED, NPP_STEP_SET_REGISTERS, (int64_t)hr);
    return 0;
}

static DWORD WINAPI npp_whp_watchdog(LPVOID arg)
{
    npp_whp *w = (npp_whp *)arg;
    if (WaitForSingleObject(w->stop, w->limit_ms) == WAIT_OBJECT_0)
        return 0;
    InterlockedExchange(&w->fired, 1);
    do { /* until the runner stops: a cancel before the run starts is kept by WHP */
        w->api.CancelRunVirtualProcessor(w->partition, 0, 0);
    } while (WaitForSingleObject(w->stop, 10) != WAIT_OBJECT_0);
    return 0;
}

static void npp_whp_run(npp_whp *w, const npp_params *p, npp_result *out)
{
    npp_sequence seq;
    npp_sequence_start(&seq, p);
    WHV_RUN_VP_EXIT_CONTEXT exit;
    uint64_t ticks0 = npp_ticks(), ns0 = npp_now_ns();
    out->step = NPP_STEP_RUN;
    for (;;) {
        memset(&exit, 0, sizeof exit);
        uint64_t t0 = npp_ticks(), n0 = npp_now_ns();
        HRESULT hr = w->api.RunVirtualProcessor(w->partition, 0, &exit, sizeof exit);
        uint64_t t1 = npp_ticks(), n1 = npp_now_ns();
        if (FAILED(hr)) {
            npp_whp_fail(out, NPP_REFUSED, NPP_STEP_RUN, (int64_t)hr);
            break;
        }
        out->exits++;
        out->exit_reason = (uint32_t)exit.ExitReason;
        if (exit.ExitReason == WHvRunVpExitReasonCanceled || w->fired) {
            out->outcome = NPP_TIMEOUT;
            break;
        }
        if (exit.ExitReason == WHvRunVpExitReasonX64IoPortAccess) {
            WHV_X64_IO_PORT_ACCESS_CONTEXT *io = &exit.IoPortAccess;
            uint32_t value = (uint32_t)(io->AccessInfo.AccessSize == 1 ? (io->Rax & 0xFF)
                                                                        : io->Rax);
            uint64_t guest_ticks;
            memcpy(&guest_ticks, w->mem + NPP_DATA_GPA + 8, sizeof guest_ticks);
            if (io->AccessInfo.IsWrite && !io->AccessInfo.StringOp &&
                npp_on_io(&seq, out, io->PortNumber, value, t1 - t0, n1 - n0, guest_ticks)) {
                if (io->PortNumber == NPP_PORT_VALUE && value != p->value) {
                    out->outcome = NPP_WRONG_VALUE;
                    out->detail = io->PortNumber;
                    break;
                }
                /* WHP leaves the instruction to the caller: step over the `out`. */
                WHV_REGISTER_NAME rip_name = WHvX64RegisterRip;
                WHV_REGISTER_VALUE rip;
                memset(&rip, 0, sizeof rip);
                rip.Reg64 = exit.VpContext.Rip + exit.VpContext.InstructionLength;
                hr = w->api.SetVirtualProcessorRegisters(w->partition, 0, &rip_name, 1, &rip);
                if (FAILED(hr)) {
                    npp_whp_fail(out, NPP_REFUSED, NPP_STEP_SET_REGISTERS, (int64_t)hr);
                    break;
                }
                continue;
            }
            out->outcome = NPP_UNEXPECTED_EXIT;
            out->detail = io->PortNumber;
            break;
        }
        if (exit.ExitReason == WHvRunVpExitReasonX64Halt && seq.expect_port == 0) {
            out->outcome = NPP_RAN;
            out->step = NPP_STEP_DONE;
            break;
        }
        if (exit.ExitReason == WHvRunVpExitReasonInvalidVpRegisterValue)
            out->outcome = NPP_FAIL_ENTRY;
        else if (exit.ExitReason == WHvRunVpExitReasonUnrecoverableException)
            out->outcome = NPP_SHUTDOWN;
        else if (exit.ExitReason == WHvRunVpExitReasonMemoryAccess) {
            out->outcome = NPP_UNEXPECTED_EXIT;
            out->detail = exit.MemoryAccess.Gpa;
        } else
            out->outcome = NPP_UNEXPECTED_EXIT;
        break;
    }
    out->run_ticks = npp_ticks() - ticks0;
    out->run_ns = npp_now_ns() - ns0;
}

static void npp_whp_release(npp_whp *w)
{
    if (w->thread != NULL) {
        SetEvent(w->stop);
        WaitForSingleObject(w->thread, INFINITE);
        CloseHandle(w->thread);
    }
    if (w->stop != NULL)
        CloseHandle(w->stop);
    if (w->vp_made)
        w->api.DeleteVirtualProcessor(w->partition, 0);
    if (w->mapped)
        w->api.UnmapGpaRange(w->partition, 0, NPP_MEMORY_BYTES);
    if (w->partition != NULL)
        w->api.DeletePartition(w->partition);
    if (w->mem != NULL)
        VirtualFree(w->mem, 0, MEM_RELEASE);
    if (w->dll != NULL)
        FreeLibrary(w->dll);
}

static int npp_prove_whp(const npp_params *p, npp_result *out)
{
    npp_whp w;
    memset(&w, 0, sizeof w);
    w.limit_ms = p->limit_ms;
    out->platform = NPP_PLATFORM_WHP;
    AcquireSRWLockExclusive(&npp_lock);
    if (npp_whp_load(&w, out) == 0 && npp_whp_setup(&w, p, out) == 0) {
        out->step = NPP_STEP_WATCHDOG;
        w.stop = CreateEventW(NULL, TRUE, FALSE, NULL);
        if (w.stop != NULL)
            w.thread = CreateThread(NULL, 0, npp_whp_watchdog, &w, 0, NULL);
        if (w.thread == NULL)
            npp_whp_fail(out, NPP_REFUSED, NPP_STEP_WATCHDOG, (int64_t)GetLastError());
        else
            npp_whp_run(&w, p, out);
    }
    npp_whp_release(&w);
    ReleaseSRWLockExclusive(&npp_lock);
    return NPP_OK;
}

#endif /* platforms */

/* ======================================================================================= */

int npp_prove(const npp_params *params, npp_result *out)
{
    if (params == NULL || out == NULL || !npp_params_ok(params))
        return NPP_EINVAL;
#if NPP_KVM
    npp_reset(out);
    uint64_t start = npp_now_ns();
    if (params->guest == NPP_GUEST_PROOF)
        npp_native_loops(params, out);
    int rc = npp_prove_kvm(params, out);
    out->wall_ns = npp_now_ns() - start;
    return rc;
#elif NPP_WHP
    npp_reset(out);
    uint64_t start = npp_now_ns();
    if (params->guest == NPP_GUEST_PROOF)
        npp_native_loops(params, out);
    int rc = npp_prove_whp(params, out);
    out->wall_ns = npp_now_ns() - start;
    return rc;
#else
    npp_reset(out);
    (void)npp_build_memory;
    return NPP_ENOTSUP;
#endif
}
