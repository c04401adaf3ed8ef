/*
 * test_scratch_bounds.c - no call writes past the memory the library allocated, with the pool
 * threads at work.
 *
 * Every block the library gets from posix_memalign (its per-thread scratch, the layers'
 * permutations) lies here between two 64 KiB guards of a known pattern, checked when the block
 * is freed and after every call. Each call runs on a fresh thread, whose scratch is then sized
 * exactly for that call (a thread's scratch only grows), while pool threads started by a bigger
 * call are still there. So a call that lets more threads work for it than it sized its scratch
 * for, or a kernel that writes outside its share, damages a guard: a throwaway build whose pool let
 * every started thread join a job (workerLimit = started + 1) fails here and passes every other
 * test, results included (the extra workers compute the same values in memory nobody owns).
 * AddressSanitizer (the library is not instrumented) and valgrind (it runs one thread at a
 * time, so the caller does every task) do not see such writes; this test is not run under them
 * because it replaces posix_memalign and free.
 *
 * Calls: forward, backward (full, dx only, accumulating), training forward and backward with
 * dropout, random-feature forward and both feature backwards, float and double, batches of 2
 * and 3 tiles, at 2, 3 and 5 threads; every output must equal the 1-thread output bit for bit.
 *
 * Prints "N passed, M failed"; exit status 1 on failure.
 */
#define _GNU_SOURCE
#include <fastfood.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_RNG_SEED 0x2545f4914f6cdd1dULL
#include "check.h"

/* ---- guarded posix_memalign ---- */

extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

enum { GUARD = 64 * 1024, MAX_BLOCKS = 4096 };
static const unsigned char pattern_byte = 0xa5;
static unsigned char pattern[GUARD];
static struct { unsigned char *start; size_t bytes; } blocks[MAX_BLOCKS];
static size_t untracked; /* blocks allocated while the table was full: must stay 0 */
static size_t damaged;   /* guards found overwritten, at free or by guards_intact */
static pthread_mutex_t blocks_lock = PTHREAD_MUTEX_INITIALIZER;

/* Each block: GUARD bytes, the block (start), GUARD bytes; GUARD is a multiple of any alignment
 * the library asks for (64). */
static int guard_ok(size_t i) {
    return memcmp(blocks[i].start - GUARD, pattern, GUARD) == 0 &&
           memcmp(blocks[i].start + blocks[i].bytes, pattern, GUARD) == 0;
}

int posix_memalign(void **out, size_t alignment, size_t bytes) {
    if (bytes > SIZE_MAX - 2 * GUARD || alignment > GUARD) return ENOMEM;
    unsigned char *p = __libc_memalign(alignment, bytes + 2 * GUARD);
    if (!p) return ENOMEM;
    memset(p, pattern_byte, GUARD);
    memset(p + GUARD + bytes, pattern_byte, GUARD);
    pthread_mutex_lock(&blocks_lock);
    size_t i = 0;
    while (i < MAX_BLOCKS && blocks[i].start) i++;
    if (i < MAX_BLOCKS) {
        blocks[i].start = p + GUARD;
        blocks[i].bytes = bytes;
        *out = p + GUARD;
    } else {
        untracked++; /* unguarded, and the test fails */
        *out = p;
    }
    pthread_mutex_unlock(&blocks_lock);
    return 0;
}

void free(void *p) {
    if (!p) return;
    unsigned char *allocation = p;
    pthread_mutex_lock(&blocks_lock);
    for (size_t i = 0; i < MAX_BLOCKS; i++) {
        if (blocks[i].start == p) {
            if (!guard_ok(i)) damaged++;
            blocks[i].start = NULL;
            allocation -= GUARD;
            break;
        }
    }
    pthread_mutex_unlock(&blocks_lock);
    __libc_free(allocation);
}

/* 1 if no guard of a live or freed block has been overwritten so far. */
static int guards_intact(void) {
    pthread_mutex_lock(&blocks_lock);
    for (size_t i = 0; i < MAX_BLOCKS; i++)
        if (blocks[i].start && !guard_ok(i)) damaged++;
    int ok = damaged == 0 && untracked == 0;
    pthread_mutex_unlock(&blocks_lock);
    return ok;
}

/* ---- the calls ---- */

enum { IN = 2048, OUT = 4096, RATE_SEED = 11 };
enum kind { FORWARD, BACKWARD, BACKWARD_DX, BACKWARD_ACC, TRAIN_FORWARD, TRAIN_BACKWARD, FEATURES,
            FEATURES_BACKWARD, FROM_PHI, KINDS };
static const char *const kind_names[KINDS] = {
    "forward", "backward", "backward dx only", "backward accumulating", "training forward",
    "training backward", "features forward", "features backward", "features backward from phi"};

typedef struct {
    const fastfood_layer *layer;
    int f64;
    enum kind kind;
    size_t batch;
    const void *params, *x, *dy, *phi; /* dy: batch x 2 OUT (the features' dphi) */
    void *out, *dx, *dparams;         /* out: batch x 2 OUT */
    fastfood_status status;
} call;

#define CALLS(T, S)                                                                                  \
    static fastfood_status run_##S(call *c) {                                                        \
        const T *p = c->params, *x = c->x, *dy = c->dy, *phi = c->phi;                               \
        T *out = c->out, *dx = c->dx, *dp = c->dparams;                                              \
        size_t b = c->batch;                                                                         \
        switch (c->kind) {                                                                           \
        case FORWARD: return fastfood_forward_##S(c->layer, p, b, x, IN, out, OUT);                   \
        case BACKWARD: return fastfood_backward_##S(c->layer, p, b, x, IN, dy, OUT, dx, IN, dp, 0);   \
        case BACKWARD_DX: return fastfood_backward_##S(c->layer, p, b, x, IN, dy, OUT, dx, IN, NULL, 0); \
        case BACKWARD_ACC:                                                                           \
            return fastfood_backward_##S(c->layer, p, b, x, IN, dy, OUT, dx, IN, dp, FASTFOOD_ACCUMULATE); \
        case TRAIN_FORWARD:                                                                          \
            return fastfood_forward_train_##S(c->layer, p, b, x, IN, out, OUT, 0.1, 0.1, 0.2, RATE_SEED, 3); \
        case TRAIN_BACKWARD:                                                                         \
            return fastfood_backward_train_##S(c->layer, p, b, x, IN, dy, OUT, dx, IN, dp, 0, 0.1, 0.1, \
                                               0.2, RATE_SEED, 3);                                   \
        case FEATURES: return fastfood_features_forward_##S(c->layer, p, b, x, IN, out, 2 * OUT);    \
        case FEATURES_BACKWARD:                                                                      \
            return fastfood_features_backward_##S(c->layer, p, b, x, IN, dy, 2 * OUT, dx, IN, dp, 0); \
        case FROM_PHI:                                                                               \
            return fastfood_features_backward_from_phi_##S(c->layer, p, b, x, IN, phi, 2 * OUT, dy,  \
                                                           2 * OUT, dx, IN, dp, 0);                  \
        default: return FASTFOOD_ERROR_INVALID_ARGUMENT;                                              \
        }                                                                                            \
    }
CALLS(float, f32)
CALLS(double, f64)

static void *run_call(void *raw) {
    call *c = raw;
    c->status = c->f64 ? run_f64(c) : run_f32(c);
    return NULL;
}

/* The call on a new thread (its first: scratch sized for this call alone); 0 if no thread. */
static int on_fresh_thread(call *c) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, run_call, c) != 0) return 0;
    return pthread_join(thread, NULL) == 0;
}

typedef struct { void *out, *dx, *dparams; } outputs;

static outputs new_outputs(size_t batch, size_t params, size_t element) {
    outputs o = {xmalloc(batch * 2 * OUT * element), xmalloc(batch * IN * element), xmalloc(params * element)};
    return o;
}

/* Starting values, so that the accumulating backward and unwritten outputs compare too. */
static void reset(outputs *o, size_t batch, size_t params, size_t element) {
    memset(o->out, 0x3c, batch * 2 * OUT * element);
    memset(o->dx, 0x3c, batch * IN * element);
    memset(o->dparams, 0x3c, params * element);
}

static int same(const outputs *a, const outputs *b, size_t batch, size_t params, size_t element) {
    return memcmp(a->out, b->out, batch * 2 * OUT * element) == 0 &&
           memcmp(a->dx, b->dx, batch * IN * element) == 0 &&
           memcmp(a->dparams, b->dparams, params * element) == 0;
}

static void release(outputs *o) { free(o->out); free(o->dx); free(o->dparams); }

int main(void) {
    memset(pattern, pattern_byte, sizeof pattern);
    size_t initial = fastfood_get_num_threads();
    fastfood_layer *layer = NULL;
    CHECK(fastfood_layer_create(IN, OUT, 5, FASTFOOD_LAYER_BIAS, &layer) == FASTFOOD_OK);
    if (!layer) return report();
    size_t n = fastfood_layer_param_count(layer);
    /* Data for the largest batch (the warm-up's: 16 float tiles, 32 double ones). */
    enum { WARM = 256 };
    float *p32 = xmalloc(n * sizeof *p32), *x32 = xmalloc(WARM * IN * sizeof *x32);
    float *dy32 = xmalloc(WARM * 2 * OUT * sizeof *dy32), *phi32 = xmalloc(WARM * 2 * OUT * sizeof *phi32);
    double *p64 = xmalloc(n * sizeof *p64), *x64 = xmalloc(WARM * IN * sizeof *x64);
    double *dy64 = xmalloc(WARM * 2 * OUT * sizeof *dy64), *phi64 = xmalloc(WARM * 2 * OUT * sizeof *phi64);
    CHECK(fastfood_init_params_f64(layer, 9, 1.0, p64) == FASTFOOD_OK);
    for (size_t i = 0; i < n; i++) p32[i] = (float)p64[i];
    for (size_t i = 0; i < (size_t)WARM * IN; i++) x32[i] = (float)(x64[i] = uniform());
    for (size_t i = 0; i < (size_t)WARM * 2 * OUT; i++) dy32[i] = (float)(dy64[i] = uniform());
    CHECK(fastfood_features_forward_f32(layer, p32, WARM, x32, IN, phi32, 2 * OUT) == FASTFOOD_OK);
    CHECK(fastfood_features_forward_f64(layer, p64, WARM, x64, IN, phi64, 2 * OUT) == FASTFOOD_OK);
    void *warm_y = xmalloc(WARM * 2 * OUT * sizeof(double));

    /* Batches of 2 and 3 tiles (float tiles are 16 rows, double ones 8). */
    static const size_t tiles[] = {2, 3};
    static const size_t thread_counts[] = {2, 3, 5};
    enum { REPEATS = 6 };
    int all_same = 1, all_ran = 1;
    for (int f64 = 0; f64 <= 1; f64++) {
        size_t element = f64 ? sizeof(double) : sizeof(float), rows = f64 ? 8 : 16;
        for (size_t t = 0; t < sizeof tiles / sizeof tiles[0]; t++) {
            size_t batch = tiles[t] * rows;
            for (int k = 0; k < KINDS; k++) {
                call c = {layer, f64, (enum kind)k, batch, f64 ? (void *)p64 : (void *)p32,
                          f64 ? (void *)x64 : (void *)x32, f64 ? (void *)dy64 : (void *)dy32,
                          f64 ? (void *)phi64 : (void *)phi32, NULL, NULL, NULL, FASTFOOD_OK};
                CHECK(fastfood_set_num_threads(1) == FASTFOOD_OK);
                outputs expected = new_outputs(batch, n, element), got = new_outputs(batch, n, element);
                reset(&expected, batch, n, element);
                c.out = expected.out, c.dx = expected.dx, c.dparams = expected.dparams;
                all_ran &= on_fresh_thread(&c) && c.status == FASTFOOD_OK;
                for (size_t i = 0; i < sizeof thread_counts / sizeof thread_counts[0]; i++) {
                    CHECK(fastfood_set_num_threads(thread_counts[i]) == FASTFOOD_OK);
                    /* Every pool thread started: a 16-task forward on this thread. */
                    CHECK(fastfood_forward_f32(layer, p32, WARM, x32, IN, warm_y, OUT) == FASTFOOD_OK);
                    for (int r = 0; r < REPEATS; r++) {
                        reset(&got, batch, n, element);
                        c.out = got.out, c.dx = got.dx, c.dparams = got.dparams;
                        all_ran &= on_fresh_thread(&c) && c.status == FASTFOOD_OK;
                        int ok = same(&expected, &got, batch, n, element) && guards_intact();
                        if (!ok && all_same)
                            printf("  %s, %s, batch %zu, %zu threads: %s\n", kind_names[k], f64 ? "f64" : "f32",
                                   batch, thread_counts[i], guards_intact() ? "outputs differ" : "a guard is damaged");
                        all_same &= ok;
                    }
                }
                release(&expected);
                release(&got);
            }
        }
    }
    CHECK(all_ran);
    CHECK(all_same);
    CHECK(guards_intact());
    /* The guards are checked at all: the library allocated through posix_memalign here. */
    pthread_mutex_lock(&blocks_lock);
    size_t live = 0;
    for (size_t i = 0; i < MAX_BLOCKS; i++) live += blocks[i].start != NULL;
    pthread_mutex_unlock(&blocks_lock);
    CHECK(live > 0); /* the layer's permutations and the main thread's scratch at least */

    CHECK(fastfood_set_num_threads(initial) == FASTFOOD_OK);
    fastfood_layer_destroy(layer);
    free(p32); free(x32); free(dy32); free(phi32); free(p64); free(x64); free(dy64); free(phi64); free(warm_y);
    return report();
}
