/* nestprobe proof run: create a tiny VM here and run a guest of a few instructions.
 *
 * Linux: /dev/kvm (KVM_CREATE_VM, KVM_SET_USER_MEMORY_REGION, KVM_CREATE_VCPU, the kvm_run
 * mapping, KVM_SET_CPUID2/SREGS/REGS, KVM_RUN). Windows: the Windows Hypervisor Platform,
 * WinHvPlatform.dll loaded at run time (never linked). One VM, one vCPU, 24 KiB of guest
 * memory, a 64-bit long-mode guest with its own 4-level page tables (np_prove_guest.S).
 * Bounded by a watchdog; every fd, mapping and partition is released on every path;
 * nothing is written anywhere and no module is loaded.
 *
 * The C layer fills an npp_result and decides nothing: what the outcome means, the guest's
 * speed and the exit round trips are Python's (nestprobe/assess/proof.py).
 */
#ifndef NESTPROBE_NP_PROVE_H
#define NESTPROBE_NP_PROVE_H

#include <stdint.h>

/* Return codes of npp_prove (distinct prefix: NP_ and NPT_ belong to other units). */
#define NPP_OK 0        /* the result is filled, whatever the outcome */
#define NPP_ENOTSUP -1  /* no proof path here: not Linux or Windows on x86-64 */
#define NPP_EINVAL -2   /* NULL pointer or a parameter out of bounds */

/* Outcomes (npp_result.outcome). */
#define NPP_RAN 0              /* value, loop end, every exit, then halt: as expected */
#define NPP_UNAVAILABLE 1      /* /dev/kvm or WinHvPlatform.dll (or an export) missing */
#define NPP_REFUSED 2          /* a call failed: step + error (errno or HRESULT) */
#define NPP_FAIL_ENTRY 3       /* KVM_EXIT_FAIL_ENTRY: detail = hardware_entry_failure_reason,
                                * detail2 = cpu; WHP: InvalidVpRegisterValue */
#define NPP_INTERNAL_ERROR 4   /* KVM_EXIT_INTERNAL_ERROR: detail = suberror */
#define NPP_SHUTDOWN 5         /* KVM_EXIT_SHUTDOWN (triple fault); WHP: UnrecoverableException */
#define NPP_TIMEOUT 6          /* the watchdog ended the run */
#define NPP_UNEXPECTED_EXIT 7  /* exit_reason = the raw reason; detail = port (I/O exits) */
#define NPP_WRONG_VALUE 8      /* the first I/O exit did not carry the value written */
#define NPP_NO_HYPERVISOR 9    /* WHvGetCapability(HypervisorPresent) answered FALSE */

/* Steps (npp_result.step): the last one reached; on failure the one that failed. */
#define NPP_STEP_NONE 0
#define NPP_STEP_OPEN 1             /* open("/dev/kvm", O_RDWR) */
#define NPP_STEP_API_VERSION 2      /* KVM_GET_API_VERSION (must be 12) */
#define NPP_STEP_CREATE_VM 3        /* KVM_CREATE_VM */
#define NPP_STEP_GUEST_MEMORY 4     /* mmap / VirtualAlloc of the guest memory */
#define NPP_STEP_SET_MEMORY 5       /* KVM_SET_USER_MEMORY_REGION */
#define NPP_STEP_CREATE_VCPU 6      /* KVM_CREATE_VCPU */
#define NPP_STEP_VCPU_MMAP_SIZE 7   /* KVM_GET_VCPU_MMAP_SIZE */
#define NPP_STEP_MAP_RUN 8          /* mmap of kvm_run */
#define NPP_STEP_SUPPORTED_CPUID 9  /* KVM_GET_SUPPORTED_CPUID */
#define NPP_STEP_SET_CPUID 10       /* KVM_SET_CPUID2 */
#define NPP_STEP_GET_SREGS 11       /* KVM_GET_SREGS */
#define NPP_STEP_SET_SREGS 12       /* KVM_SET_SREGS */
#define NPP_STEP_SET_REGS 13        /* KVM_SET_REGS */
#define NPP_STEP_WATCHDOG 14        /* timer_create/sigaction; WHP: CreateThread */
#define NPP_STEP_RUN 15             /* KVM_RUN / WHvRunVirtualProcessor */
#define NPP_STEP_DONE 16            /* the guest halted where expected */
#define NPP_STEP_LOAD_LIBRARY 20    /* LoadLibraryEx("WinHvPlatform.dll", system32 only) */
#define NPP_STEP_GET_PROC 21        /* GetProcAddress of a WHv* export */
#define NPP_STEP_GET_CAPABILITY 22  /* WHvGetCapability(WHvCapabilityCodeHypervisorPresent) */
#define NPP_STEP_CREATE_PARTITION 23  /* WHvCreatePartition */
#define NPP_STEP_SET_PROPERTY 24    /* WHvSetPartitionProperty(ProcessorCount = 1) */
#define NPP_STEP_SETUP_PARTITION 25 /* WHvSetupPartition */
#define NPP_STEP_MAP_GPA 26         /* WHvMapGpaRange */
#define NPP_STEP_CREATE_VP 27       /* WHvCreateVirtualProcessor */
#define NPP_STEP_SET_REGISTERS 28   /* WHvSetVirtualProcessorRegisters */

/* Platforms (npp_result.platform). */
#define NPP_PLATFORM_KVM 1
#define NPP_PLATFORM_WHP 2

/* Guests (npp_params.guest). */
#define NPP_GUEST_PROOF 0
#define NPP_GUEST_NEVER_EXITS 1  /* a guest that spins forever: only the watchdog ends it */

#define NPP_MAX_ROUNDS 16
#define NPP_MAX_SAMPLES 4096
#define NPP_MEMORY_BYTES 0x6000  /* guest memory: 4 page-table pages, code, data */
#define NPP_MAX_LIMIT_MS 60000

typedef struct {
    uint32_t limit_ms;         /* watchdog: the whole run, 1..NPP_MAX_LIMIT_MS */
    uint32_t guest;            /* NPP_GUEST_* */
    uint32_t value;            /* written through the guest's page tables, then sent by I/O */
    uint32_t loop_iterations;  /* `dec rcx; jnz` iterations per round (>= 1) */
    uint32_t loop_rounds;      /* 1..NPP_MAX_ROUNDS */
    uint32_t io_exits;         /* 0..NPP_MAX_SAMPLES single `out` exits, each timed */
    uint32_t cpuid_batches;    /* 0..NPP_MAX_SAMPLES batches, each timed */
    uint32_t cpuid_per_batch;  /* CPUIDs in each batch (the batch ends with one `out`) */
} npp_params;

typedef struct {
    int32_t platform;          /* NPP_PLATFORM_* (0 when no path was tried) */
    int32_t outcome;           /* NPP_* outcome */
    int32_t step;              /* NPP_STEP_* */
    int32_t api_version;       /* KVM_GET_API_VERSION's answer (-1: not asked) */
    int64_t error;             /* errno (Linux) or HRESULT/GetLastError (Windows), 0: none */
    uint32_t exit_reason;      /* raw exit reason of the exit that ended the run */
    uint32_t exits;            /* exits to this process, in order */
    uint64_t detail;           /* see the outcomes */
    uint64_t detail2;
    uint32_t value_seen;       /* what the first I/O exit carried */
    uint32_t guest_cpuid_ebx;  /* the guest's CPUID(0).EBX, as its second exit sent it */
    uint32_t rounds_done;
    uint32_t io_done;
    uint32_t batches_done;
    uint32_t memory_bytes;
    uint64_t guest_loop_ticks[NPP_MAX_ROUNDS];   /* the guest's own rdtsc around its loop */
    uint64_t guest_loop_ns[NPP_MAX_ROUNDS];      /* host clock around the run holding the loop */
    uint64_t native_loop_ticks[NPP_MAX_ROUNDS];  /* the same loop in this process */
    uint64_t native_loop_ns[NPP_MAX_ROUNDS];
    uint64_t io_ticks[NPP_MAX_SAMPLES];          /* host TSC ticks of each single-exit run */
    uint64_t batch_ticks[NPP_MAX_SAMPLES];       /* host TSC ticks of each CPUID-batch run */
    uint64_t run_ticks;        /* host TSC ticks and clock ns over the whole run phase: */
    uint64_t run_ns;           /* their ratio is the TSC frequency */
    uint64_t wall_ns;          /* the whole call, setup and teardown included */
} npp_result;

/* Run the proof. NPP_OK whenever *out is filled (every outcome); never blocks longer than
 * params->limit_ms plus setup. Serialised: one proof at a time per process. */
int npp_prove(const npp_params *params, npp_result *out);

/* Stable names of an outcome and a step ("ran", "create-vm", ...): the words a record, a
 * dump and the JSON report use; "" for a code that has none. Static strings. */
const char *npp_outcome_name(int32_t outcome);
const char *npp_step_name(int32_t step);

/* Offset of the never-exiting guest's entry in the guest code (for tests). */
uint32_t npp_guest_entry(uint32_t guest);

/* The guest code, for tests: copies min(cap, size) bytes, returns the size. */
uint32_t npp_guest_code(uint8_t *buf, uint32_t cap);

#endif
