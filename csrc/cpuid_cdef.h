/* cdef-clean mirror of cpuid.h for cffi: declarations and plain-int #defines only.
 * cffi checks every value below against the real header when it compiles. */

#define NP_OK 0
#define NP_TRUNCATED 1
#define NP_ENOTSUP -1
#define NP_EFAULTING -2
#define NP_EINVAL -3

#define NP_RANGE_SPAN 256
#define NP_SUBLEAF_CAP 64
#define NP_TABLE_ZEROS 0
#define NP_TABLE_INTEL 1

typedef struct { uint32_t leaf, subleaf, eax, ebx, ecx, edx; } np_leaf;

int np_cpuid_status(void);
int np_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
int np_cpuid_snapshot(np_leaf *out, size_t capacity, size_t *count);
int np_cpuid_snapshot_from_table(const np_leaf *table, size_t n, int out_of_range_mode,
                                 np_leaf *out, size_t capacity, size_t *count);
int np_cpuid_trace_from_table(const np_leaf *table, size_t n, int out_of_range_mode,
                              np_leaf *out, size_t capacity, size_t *count,
                              np_leaf *queries, size_t query_capacity, size_t *query_count);
