/*
 * test_no_alloc.c - forward and backward allocate nothing after the first call on a thread.
 *
 * This program defines malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign and
 * valloc, so every allocation in the process (the library's, the Swift runtime's, libstdc++'s)
 * comes through here; they count while armed and forward to glibc's __libc_* allocator. After
 * warm-up calls of each kind, with 1 and with 2 threads, a loop of forward / backward calls
 * (float and double, several batch sizes up to the warm-up's, with and without ACCUMULATE and
 * optional outputs), training calls with dropout, random-feature calls and the standalone FWHT
 * (float and double) must allocate nothing; also with an executor installed
 * (fastfood_set_executor). Two layers: 300 -> 700 with bias (two blocks), and a normalised
 * one-block 300 -> 300 with bias (FASTFOOD_LAYER_NORMALIZED's constants come from the same
 * per-thread scratch). And a thread's work buffer is freed when the thread exits (the header's
 * MEMORY section): threads that each make one call on a big layer and exit leave no more memory
 * in use than there was before them.
 *
 * Prints "N passed, M failed"; exit status 1 on failure.
 */
#define _GNU_SOURCE
#include <fastfood.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_int armed;
static atomic_long allocations;

/* Counts allocations once armed; refuses none. */
static int malloc_hook(void) {
    if (atomic_load(&armed)) atomic_fetch_add(&allocations, 1);
    return 1;
}
#define MALLOC_HOOKS_LIVE_BYTES
#include "malloc_hooks.h"

#include "check.h"

enum { IN = 300, OUT = 700, BATCH = 40 };

static atomic_int executor_calls;

/* Every task on the calling thread, last first. */
static int serial_executor(void *context, void *job, fastfood_task_function run, size_t tasks, size_t workers) {
    (void)context;
    atomic_fetch_add(&executor_calls, 1);
    for (size_t t = tasks; t-- > 0;) run(job, t, t % workers);
    return 1;
}

static float phi32[BATCH * 2 * OUT];
static double phi64[BATCH * 2 * OUT];
/* Input gradients have their own buffers: outputs never overlap inputs (the calls' contract). */
static float dx32[BATCH * IN];
static double dx64[BATCH * IN];

static void calls(const fastfood_layer *layer, const float *p32, float *d32, const double *p64,
                  double *d64, const float *x32, float *y32, const double *x64, double *y64,
                  size_t batch) {
    int ok = 1;
    ok &= fastfood_forward_train_f32(layer, p32, batch, x32, IN, y32, OUT, 0.1, 0.2, 0.3, 1, batch) == FASTFOOD_OK;
    ok &= fastfood_backward_train_f32(layer, p32, batch, x32, IN, y32, OUT, dx32, IN, d32, 0, 0.1, 0.2, 0.3, 1,
                                      batch) == FASTFOOD_OK;
    ok &= fastfood_backward_train_f64(layer, p64, batch, x64, IN, y64, OUT, dx64, IN, NULL, 0, 0, 0.5, 0, 1,
                                      batch) == FASTFOOD_OK;
    ok &= fastfood_forward_train_f64(layer, p64, batch, x64, IN, y64, OUT, 0.3, 0, 0.1, 2, batch) == FASTFOOD_OK;
    ok &= fastfood_features_forward_f32(layer, p32, batch, x32, IN, phi32, 2 * OUT) == FASTFOOD_OK;
    ok &= fastfood_features_backward_f32(layer, p32, batch, x32, IN, phi32, 2 * OUT, dx32, IN, d32, 0) == FASTFOOD_OK;
    ok &= fastfood_features_backward_from_phi_f32(layer, p32, batch, x32, IN, phi32, 2 * OUT, phi32, 2 * OUT,
                                                  NULL, 0, d32, 0) == FASTFOOD_OK;
    ok &= fastfood_features_forward_f64(layer, p64, batch, x64, IN, phi64, 2 * OUT) == FASTFOOD_OK;
    ok &= fastfood_features_backward_f64(layer, p64, batch, x64, IN, phi64, 2 * OUT, NULL, 0, d64, 0) == FASTFOOD_OK;
    ok &= fastfood_features_backward_from_phi_f64(layer, p64, batch, NULL, 0, phi64, 2 * OUT, phi64, 2 * OUT,
                                                  dx64, IN, NULL, 0) == FASTFOOD_OK;
    ok &= fastfood_forward_f32(layer, p32, batch, x32, IN, y32, OUT) == FASTFOOD_OK;
    ok &= fastfood_backward_f32(layer, p32, batch, x32, IN, y32, OUT, dx32, IN, d32, 0) == FASTFOOD_OK;
    ok &= fastfood_backward_f32(layer, p32, batch, x32, IN, y32, OUT, dx32, IN, d32,
                                FASTFOOD_ACCUMULATE) == FASTFOOD_OK;
    ok &= fastfood_backward_f32(layer, p32, batch, NULL, 0, y32, OUT, dx32, IN, NULL, 0) == FASTFOOD_OK;
    ok &= fastfood_forward_f64(layer, p64, batch, x64, IN, y64, OUT) == FASTFOOD_OK;
    ok &= fastfood_backward_f64(layer, p64, batch, x64, IN, y64, OUT, dx64, IN, d64, 0) == FASTFOOD_OK;
    ok &= fastfood_backward_f64(layer, p64, batch, x64, IN, y64, OUT, NULL, 0, d64,
                                FASTFOOD_ACCUMULATE) == FASTFOOD_OK;
    /* The standalone FWHT on the input gradients just written (rows of IN >= 256). */
    ok &= fastfood_fwht_f32(dx32, 256, batch, IN) == FASTFOOD_OK;
    ok &= fastfood_fwht_f64(dx64, 256, batch, IN) == FASTFOOD_OK;
    CHECK(ok);
}

static void *volatile probe;

/* The checks below for one layer. */
static void check_layer(size_t in, size_t out, uint32_t flags);

/* One forward of the big layer on a thread of its own; records the memory in use that the call
 * added (the thread's work buffer: no other thread allocates meanwhile). */
typedef struct {
    const fastfood_layer *layer;
    const float *params, *x;
    float *y;
    long added;
    int ok;
} big_call;

enum { BIG = 4096, BIG_BATCH = 64 };

static void *run_big_call(void *context) {
    big_call *c = context;
    long before = atomic_load(&live_bytes);
    c->ok = fastfood_forward_f32(c->layer, c->params, BIG_BATCH, c->x, BIG, c->y, BIG) == FASTFOOD_OK;
    c->added = atomic_load(&live_bytes) - before;
    return NULL;
}

/* Threads that each make a call and exit: after them, no more memory is in use than before
 * (a buffer not freed at thread exit would leave one behind per thread). One thread (no pool
 * thread, whose buffer stays: it does not exit). */
static void check_thread_exit(void) {
    fastfood_layer *layer = NULL;
    CHECK(fastfood_layer_create(BIG, BIG, 5, 0, &layer) == FASTFOOD_OK);
    if (!layer) return;
    size_t n = fastfood_layer_param_count(layer);
    float *params = calloc(n, sizeof *params), *x = calloc(BIG_BATCH * BIG, sizeof *x);
    float *y = calloc(BIG_BATCH * BIG, sizeof *y);
    if (!params || !x || !y) exit(2);
    CHECK(fastfood_set_num_threads(1) == FASTFOOD_OK);
    big_call call = {layer, params, x, y, 0, 0};
    enum { THREADS = 8 };
    long in_use_before = 0, largest = 0;
    for (int t = -1; t < THREADS; t++) { /* t = -1: a warm-up thread (one-time state) */
        if (t == 0) in_use_before = atomic_load(&live_bytes);
        pthread_t thread;
        CHECK(pthread_create(&thread, NULL, run_big_call, &call) == 0);
        CHECK(pthread_join(thread, NULL) == 0);
        CHECK(call.ok);
        if (call.added > largest) largest = call.added;
    }
    long left = atomic_load(&live_bytes) - in_use_before;
    printf("  %d threads, each a call that added %ld bytes: %ld bytes still in use after them\n", THREADS,
           largest, left);
    CHECK(largest >= 1L << 19); /* the work buffer: 16-row tiles of 4096 values and more */
    CHECK(left < largest / 2);
    fastfood_layer_destroy(layer);
    free(params); free(x); free(y);
}

int main(void) {
    check_layer(IN, OUT, FASTFOOD_LAYER_BIAS);
    check_layer(IN, IN, FASTFOOD_LAYER_BIAS | FASTFOOD_LAYER_NORMALIZED);
    check_thread_exit();

    /* The interposer itself works: an armed malloc is counted. */
    atomic_store(&allocations, 0);
    atomic_store(&armed, 1);
    probe = malloc(16); /* volatile: the compiler may not drop the malloc / free pair */
    atomic_store(&armed, 0);
    CHECK(atomic_load(&allocations) == 1);
    free(probe);
    return report();
}

/* Calls of every kind on a layer of in <= IN inputs and out <= OUT outputs (the buffers' strides
 * stay IN and OUT). */
static void check_layer(size_t in, size_t out, uint32_t flags) {
    fastfood_layer *layer = NULL;
    CHECK(fastfood_layer_create(in, out, 5, flags, &layer) == FASTFOOD_OK);
    if (!layer) return;
    size_t n = fastfood_layer_param_count(layer);
    float *p32 = malloc(n * sizeof *p32), *d32 = malloc(n * sizeof *d32);
    double *p64 = malloc(n * sizeof *p64), *d64 = malloc(n * sizeof *d64);
    float *x32 = calloc(BATCH * IN, sizeof *x32), *y32 = calloc(BATCH * OUT, sizeof *y32);
    double *x64 = calloc(BATCH * IN, sizeof *x64), *y64 = calloc(BATCH * OUT, sizeof *y64);
    if (!p32 || !d32 || !p64 || !d64 || !x32 || !y32 || !x64 || !y64) exit(2);
    CHECK(fastfood_init_params_f32(layer, 1, 1.0, p32) == FASTFOOD_OK);
    CHECK(fastfood_init_params_f64(layer, 1, 1.0, p64) == FASTFOOD_OK);
    for (size_t i = 0; i < BATCH * IN; i++) x64[i] = x32[i] = (float)(i % 13) * 0.1f - 0.6f;

    for (size_t threads = 1; threads <= 2; threads++) {
        CHECK(fastfood_set_num_threads(threads) == FASTFOOD_OK);
        calls(layer, p32, d32, p64, d64, x32, y32, x64, y64, BATCH); /* warm-up: scratch, pool */
        atomic_store(&allocations, 0);
        atomic_store(&armed, 1);
        for (int rep = 0; rep < 20; rep++) {
            static const size_t batches[] = {BATCH, 1, 17, 3, BATCH};
            for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++)
                calls(layer, p32, d32, p64, d64, x32, y32, x64, y64, batches[b]);
        }
        atomic_store(&armed, 0);
        long seen = atomic_load(&allocations);
        if (seen != 0) printf("  %ld allocations with %zu thread(s)\n", seen, threads);
        CHECK(seen == 0);
    }
    /* On an executor (fastfood_set_executor) that runs the tasks on the calling thread: the
     * library's side of the hand-over allocates nothing either. */
    CHECK(fastfood_set_executor(serial_executor, NULL) == FASTFOOD_OK);
    calls(layer, p32, d32, p64, d64, x32, y32, x64, y64, BATCH); /* warm-up: the task flags */
    atomic_store(&executor_calls, 0);
    atomic_store(&allocations, 0);
    atomic_store(&armed, 1);
    for (int rep = 0; rep < 20; rep++) calls(layer, p32, d32, p64, d64, x32, y32, x64, y64, BATCH);
    atomic_store(&armed, 0);
    CHECK(atomic_load(&allocations) == 0);
    CHECK(atomic_load(&executor_calls) > 0);
    CHECK(fastfood_set_executor(NULL, NULL) == FASTFOOD_OK);

    fastfood_layer_destroy(layer);
    free(p32); free(d32); free(p64); free(d64); free(x32); free(y32); free(x64); free(y64);
}
