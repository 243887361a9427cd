/* cdef-clean declarations of np_bench.h for cffi. Constants are `...`: their one
 * definition is np_bench.h, and cffi takes each value from the compiled module. */

#define NPB_OK ...
#define NPB_ENOTSUP ...
#define NPB_ENOTSC ...
#define NPB_EINVAL ...
#define NPB_ENOMEM ...

typedef struct npb_chase npb_chase;

typedef struct {
    uint64_t bytes;
    uint64_t nodes;
    uint32_t page_bytes;
    int32_t advice;
    int64_t huge_kib;
} npb_chase_facts;

int npb_status(void);
uint32_t npb_page_bytes(void);
int npb_floor(uint32_t samples, uint64_t *out);
int npb_register_loop(uint32_t iterations, uint32_t warmup, uint32_t samples, uint64_t *out);
int npb_getppid(uint32_t calls, uint32_t warmup, uint32_t samples, uint64_t *out);
int npb_first_touch(uint32_t pages, uint64_t *out);
int npb_chase_open(uint64_t bytes, uint64_t pages, int huge, uint64_t seed, npb_chase **out);
int npb_chase_facts_of(npb_chase *chase, npb_chase_facts *facts);
int npb_chase_sample(npb_chase *chase, uint32_t steps, uint32_t warmup_laps, uint32_t samples,
                     uint64_t *out);
void npb_chase_close(npb_chase *chase);
