/* cdef-clean mirror of timing.h for cffi: declarations and plain-int #defines only. */

#define NPT_OK 0
#define NPT_ENOTSUP -1
#define NPT_EFAULTING -2
#define NPT_EINVAL -3
#define NPT_ENOTSC -4
#define NPT_ECLOCK -5

#define NPT_TSC_LEAVES 8

int npt_status(void);
int npt_has_rdtscp(void);
int npt_sample(const uint32_t *leaves, size_t nleaves, uint32_t warmup, uint32_t rounds,
               uint64_t *out);
int npt_tsc_granularity(uint32_t n, uint64_t *gcd, uint64_t *min_step);
int npt_clock_pair(uint32_t tries, uint64_t *tsc, uint64_t *ns, uint64_t *span);
int npt_tsc_leaves(uint32_t out[8]);
